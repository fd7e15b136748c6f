"""a closed month's boards stored a row per place (board_snapshot_rows) instead of one JSON
list per board: a page reads the top of a board and the viewer's neighbourhood by place, not
the whole board

The rows of the snapshots already stored are moved over; a downgrade writes them back.

Revision ID: 0010
Revises: 0009
Create Date: 2026-12-02 19:00:00

"""
import json
from datetime import datetime, timezone

from alembic import op
import sqlalchemy as sa


revision = '0010'
down_revision = '0009'
branch_labels = None
depends_on = None

ROWS = sa.table('board_snapshot_rows', sa.column('snapshot_id', sa.Integer),
                sa.column('position', sa.Integer), sa.column('rank', sa.Integer),
                sa.column('key', sa.Integer), sa.column('points', sa.Float),
                sa.column('reached_at', sa.DateTime), sa.column('is_tied', sa.Boolean))


def _naive_utc(text):
    """A snapshot's ISO time as the database keeps UTC times: naive."""
    if text is None:
        return None
    value = datetime.fromisoformat(text)
    return value.astimezone(timezone.utc).replace(tzinfo=None) if value.tzinfo else value


def upgrade():
    op.create_table('board_snapshot_rows',
    sa.Column('snapshot_id', sa.Integer(), nullable=False),
    sa.Column('position', sa.Integer(), nullable=False),
    sa.Column('rank', sa.Integer(), nullable=False),
    sa.Column('key', sa.Integer(), nullable=False),
    sa.Column('points', sa.Float(), nullable=False),
    sa.Column('reached_at', sa.DateTime(), nullable=True),
    sa.Column('is_tied', sa.Boolean(), nullable=False),
    sa.ForeignKeyConstraint(['snapshot_id'], ['board_snapshots.id'],
                            name=op.f('fk_board_snapshot_rows_snapshot_id_board_snapshots')),
    sa.PrimaryKeyConstraint('snapshot_id', 'position', name=op.f('pk_board_snapshot_rows'))
    )
    with op.batch_alter_table('board_snapshot_rows', schema=None) as batch_op:
        batch_op.create_index('ix_board_snapshot_rows_key', ['snapshot_id', 'key', 'position'],
                              unique=False)

    # the snapshots already stored: [[position, rank, key, points, reached ISO or null,
    # tied], …] each
    connection = op.get_bind()
    snapshots = connection.execute(sa.text("SELECT id, rows FROM board_snapshots"))
    for snapshot_id, rows in snapshots.all():
        rows = json.loads(rows) if isinstance(rows, str) else rows
        if rows:
            connection.execute(ROWS.insert(), [
                {'snapshot_id': snapshot_id, 'position': position, 'rank': rank, 'key': key,
                 'points': points, 'reached_at': _naive_utc(reached), 'is_tied': bool(tied)}
                for position, rank, key, points, reached, tied in rows])
    # SQLite drops a column in place (3.35 and later): no copy of the table that the rows'
    # foreign key points to
    op.drop_column('board_snapshots', 'rows')


def downgrade():
    op.add_column('board_snapshots', sa.Column('rows', sa.JSON(), nullable=True))
    connection = op.get_bind()
    kinds = dict(connection.execute(sa.text("SELECT id, board FROM board_snapshots")).all())
    stored = {}
    for snapshot_id, position, rank, key, points, reached, tied in connection.execute(
            sa.select(ROWS).order_by(ROWS.c.snapshot_id, ROWS.c.position)):
        if not kinds[snapshot_id].startswith("team:"):
            points = int(points)
        if isinstance(reached, str):
            reached = datetime.fromisoformat(reached)
        stored.setdefault(snapshot_id, []).append(
            [position, rank, key, points,
             reached.replace(tzinfo=timezone.utc).isoformat() if reached else None,
             bool(tied)])
    snapshots = sa.table('board_snapshots', sa.column('id', sa.Integer),
                         sa.column('rows', sa.JSON))
    for snapshot_id in kinds:
        connection.execute(snapshots.update().where(snapshots.c.id == snapshot_id)
                           .values(rows=stored.get(snapshot_id, [])))
    with op.batch_alter_table('board_snapshot_rows', schema=None) as batch_op:
        batch_op.drop_index('ix_board_snapshot_rows_key')
    op.drop_table('board_snapshot_rows')
    with op.batch_alter_table('board_snapshots', schema=None) as batch_op:
        batch_op.alter_column('rows', existing_type=sa.JSON(), nullable=False)
