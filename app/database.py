"""The declarative base every model uses, with a constraint naming convention, shared column
types, and the bulk INSERT the ledger and the imports write with."""
from __future__ import annotations

from datetime import UTC, datetime, timedelta, timezone
from itertools import chain

from flask_sqlalchemy import SQLAlchemy
from sqlalchemy import DateTime, MetaData
from sqlalchemy.orm import DeclarativeBase
from sqlalchemy.types import TypeDecorator

NAMING_CONVENTION = {
    "ix": "ix_%(column_0_label)s",
    "uq": "uq_%(table_name)s_%(column_0_name)s",
    "ck": "ck_%(table_name)s_%(constraint_name)s",
    "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
    "pk": "pk_%(table_name)s",
}


class Base(DeclarativeBase):
    metadata = MetaData(naming_convention=NAMING_CONVENTION)


db = SQLAlchemy(model_class=Base)


class UTCDateTime(TypeDecorator):
    """A timezone-aware UTC datetime on every database.

    SQLite keeps no zone, so values are stored as naive UTC and handed back aware.
    Naive values given to it are refused: a time without a zone is a bug.
    """

    impl = DateTime
    cache_ok = True

    def process_bind_param(self, value: datetime | None, dialect):
        if value is None:
            return None
        if value.tzinfo is None:
            raise ValueError("naive datetime given where a timezone-aware one is needed")
        return value.astimezone(timezone.utc).replace(tzinfo=None)

    def process_result_value(self, value: datetime | None, dialect):
        if value is None:
            return None
        return value.replace(tzinfo=timezone.utc)


def one_of(column: str, values) -> str:
    """A CHECK that the column holds one of the values, written as `column = 'a' OR column =
    'b' …`: SQLite checks an IN list by building a lookup table for every row it writes, which
    made the constraint cost more than the row on the ledger's and the QA imports' tables."""
    return " OR ".join(f"{column} = '{value}'" for value in values)


def utcnow() -> datetime:
    """The current moment, timezone-aware UTC. Views and commands pass it to services as `now`."""
    return datetime.now(timezone.utc)


# --- writing many rows fast ----------------------------------------------------------------
# The ledger's and the imports' bulk writes go to the driver as SQL, many rows per statement,
# after the columns' own type conversions (UTC times, JSON): SQLAlchemy neither caches the
# dialect-specific ON CONFLICT constructs nor is cheap per row in a bulk INSERT … RETURNING,
# which for these writes costs more than the database's own work.

_ROWS_PER_STATEMENT = 1000   # × 17 columns: within SQLite's and PostgreSQL's bound-parameter limits

_EAST_8 = timezone(timedelta(hours=8))


def _utc_text(value: datetime) -> str:
    """`UTCDateTime` on SQLite without SQLAlchemy's per-value formatting: naive UTC text,
    "YYYY-MM-DD HH:MM:SS.ffffff" (checked against the dialect's own conversion before use)."""
    if value.tzinfo is not UTC:
        if value.tzinfo is None:
            raise ValueError("naive datetime given where a timezone-aware one is needed")
        value = value.astimezone(UTC)
    return value.isoformat(" ", "microseconds")[:26]


def _converter(column_type, dialect):
    """What turns a column's Python value into the driver's, or None when nothing does."""
    convert = column_type.dialect_impl(dialect).bind_processor(dialect)
    if isinstance(column_type, UTCDateTime) and dialect.name == "sqlite" and convert:
        samples = (datetime(2026, 3, 31, 16, 0, tzinfo=UTC),
                   datetime(1999, 12, 31, 23, 59, 59, 123456, tzinfo=_EAST_8))
        if all(_utc_text(v) == convert(v) for v in samples):
            return _utc_text
    return convert


def insert_values(table, names: tuple[str, ...], rows: list[tuple], *, on_conflict: str = "",
                  returning: str | None = None, converted: dict | None = None,
                  constants: dict | None = None) -> list:
    """INSERT the rows (tuples of the columns `names`) with `on_conflict` (e.g. "ON CONFLICT
    (key) DO NOTHING", or none); the RETURNING rows. `constants` (column → value) are the
    columns every row has the same value in: on SQLite they are written into the SQL.
    `converted` (value id → what the driver takes) may be shared by several inserts of the
    same values, for as long as the caller keeps those values alive."""
    returned = []
    for result in _insert_statements(table, names, rows, on_conflict=on_conflict,
                                     returning=returning, converted=converted,
                                     constants=constants):
        if returning:   # plain tuples from the driver: no row objects for thousands of keys
            returned.extend(result.cursor.fetchall())
        result.close()
    return returned


def insert_counted(table, names: tuple[str, ...], rows: list[tuple], *, on_conflict: str,
                   converted: dict | None = None, constants: dict | None = None) -> int:
    """`insert_values` without RETURNING: how many rows were inserted (those that an ON
    CONFLICT … DO NOTHING skipped are not counted), which costs the driver nothing."""
    inserted = 0
    for result in _insert_statements(table, names, rows, on_conflict=on_conflict,
                                     returning=None, converted=converted, constants=constants):
        inserted += result.rowcount
        result.close()
    return inserted


def _insert_statements(table, names, rows, *, on_conflict, returning, converted, constants):
    """The INSERT statements' results, one per `_ROWS_PER_STATEMENT` rows."""
    if not rows:
        return
    connection = db.session.connection()
    dialect = connection.dialect
    constants = constants or {}
    fixed = tuple(_converted_value(table, name, value, dialect)
                  for name, value in constants.items())
    inline = dialect.name == "sqlite" and bool(constants)   # written into the SQL
    if constants and not inline:   # each row carries them
        given = tuple(constants.values())
        rows = [row + given for row in rows]
        names = (*names, *constants)
    converters = [(i, convert) for i, name in enumerate(names)
                  if (convert := _converter(table.c[name].type, dialect)) is not None]
    head = f"INSERT INTO {table.name} ({', '.join(names)}"
    head += (", " + ", ".join(constants) if inline else "") + ") VALUES "
    tail = (f" {on_conflict}" if on_conflict else "") + (
        f" RETURNING {returning}" if returning else "")
    mark = "?" if dialect.paramstyle == "qmark" else "%s"
    one_row = "(" + ", ".join([mark] * len(names)) + (
        ", " + ", ".join(_sqlite_literal(value) for value in fixed) if inline else "") + ")"
    # one conversion per value object (a batch shares its times and details); `rows` keeps
    # every value alive meanwhile, so that no id is reused
    if converted is None:
        converted = {}
    for start in range(0, len(rows), _ROWS_PER_STATEMENT):
        part = rows[start:start + _ROWS_PER_STATEMENT]
        if converters:   # column by column, then back to rows
            columns = list(zip(*part, strict=True))
            for i, convert in converters:
                values = []
                for value in columns[i]:
                    done = converted.get(id(value), _MISSING)
                    if done is _MISSING:
                        done = converted[id(value)] = convert(value)
                    values.append(done)
                columns[i] = values
            part_rows = zip(*columns, strict=True)
        else:
            part_rows = part
        yield connection.exec_driver_sql(head + ", ".join([one_row] * len(part)) + tail,
                                         tuple(chain.from_iterable(part_rows)))


def _sqlite_literal(value) -> str:
    """A constant (as the driver takes it) written into SQLite's SQL: binding a value costs
    more than parsing it, and numbered parameters (?1) cost more still."""
    if value is None:
        return "NULL"
    if isinstance(value, bool):
        return "1" if value else "0"
    if isinstance(value, int | float):
        return repr(value)
    if isinstance(value, str):
        return "'" + value.replace("'", "''") + "'"
    raise TypeError(f"no SQLite literal for {type(value).__name__}")


def _converted_value(table, name: str, value, dialect):
    convert = _converter(table.c[name].type, dialect)
    return value if convert is None or value is None else convert(value)


_MISSING = object()
