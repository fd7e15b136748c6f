"""The lists of values of the tables written in bulk (the ledger, its rollups, QA
evaluations) are checked as `x = 'a' OR x = 'b' …` instead of `x IN ('a', 'b', …)`

SQLite builds a lookup table for an IN list in a CHECK for every row it writes: on the ledger
that cost more than writing the row. The two forms accept the same values.

SQLite has no ALTER for a CHECK constraint: there the constraint is rewritten in the table's
definition in place (see `_rewrite_sqlite`). PostgreSQL drops and adds the constraints.

Revision ID: 0009
Revises: 0008
Create Date: 2026-12-02 13:40:00

"""
from alembic import op
import sqlalchemy as sa


revision = '0009'
down_revision = '0008'
branch_labels = None
depends_on = None

BLADES = ('honour', 'material', 'goal', 'competition', 'growth', 'career', 'recognition',
          'participation')
# (table, constraint, column, values)
CHECKS = (
    ('point_entries', 'ck_point_entries_blade', 'blade', BLADES),
    ('point_entries', 'ck_point_entries_status', 'status', ('pending', 'confirmed', 'reversed')),
    ('point_rollups', 'ck_point_rollups_blade', 'blade', BLADES),
    ('qa_evaluations', 'ck_qa_evaluations_status', 'status', ('pending', 'disputed', 'confirmed')),
)


def _in_list(column, values):
    return f"{column} IN ({', '.join(repr(v) for v in values)})"


def _or_chain(column, values):
    return " OR ".join(f"{column} = '{v}'" for v in values)


def _rewrite_sqlite(table, replacements):
    """Change `table`'s CHECK constraints (old → new, each accepting the rows the other does)
    in its CREATE TABLE text, in place: the procedure SQLite's documentation gives for
    changing CHECK constraints ("Making Other Kinds Of Table Schema Changes"), which copies
    no rows — a rebuild would copy the whole ledger, and SQLite counts each row that points at
    a dropped table as a foreign-key violation until the transaction ends."""
    bind = op.get_bind()
    sql = bind.exec_driver_sql(
        "SELECT sql FROM sqlite_master WHERE type = 'table' AND name = ?", (table,)).scalar()
    for old, new in replacements:
        if sql.count(old) != 1:
            raise RuntimeError(f"{table}: the constraint {old!r} is not in {sql!r}")
        sql = sql.replace(old, new)
    version = bind.exec_driver_sql("PRAGMA schema_version").scalar()
    bind.exec_driver_sql("PRAGMA writable_schema = ON")
    try:
        bind.exec_driver_sql(
            "UPDATE sqlite_master SET sql = ? WHERE type = 'table' AND name = ?", (sql, table))
        # every connection reads the schema again
        bind.exec_driver_sql(f"PRAGMA schema_version = {int(version) + 1}")
    finally:
        bind.exec_driver_sql("PRAGMA writable_schema = OFF")
    problems = [row[0] for row in bind.exec_driver_sql(f"PRAGMA integrity_check({table})")]
    if problems != ["ok"]:
        raise RuntimeError(f"{table}: {problems[:5]}")


def _change(forward):
    by_table = {}
    for table, name, column, values in CHECKS:
        old, new = _in_list(column, values), _or_chain(column, values)
        if not forward:
            old, new = new, old
        by_table.setdefault(table, []).append((name, old, new))
    if op.get_bind().dialect.name == 'sqlite':
        for table, changes in by_table.items():
            _rewrite_sqlite(table, [(f"CONSTRAINT {name} CHECK ({old})",
                                     f"CONSTRAINT {name} CHECK ({new})")
                                    for name, old, new in changes])
        return
    for table, changes in by_table.items():
        for name, _old, new in changes:
            op.drop_constraint(op.f(name), table, type_='check')
            op.create_check_constraint(op.f(name), table, sa.text(new))


def upgrade():
    _change(forward=True)


def downgrade():
    _change(forward=False)
