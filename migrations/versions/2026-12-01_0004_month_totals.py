"""per-user month totals (all blades) kept beside the rollups; places on closed months'
centre boards

Revision ID: 0004
Revises: 0003
Create Date: 2026-12-01

"""
import json

from alembic import op
import sqlalchemy as sa


# revision identifiers, used by Alembic.
revision = '0004'
down_revision = '0003'
branch_labels = None
depends_on = None


def upgrade():
    op.create_table('point_month_totals',
    sa.Column('user_id', sa.Integer(), nullable=False),
    sa.Column('period', sa.String(length=7), nullable=False),
    sa.Column('points', sa.Integer(), nullable=False),
    sa.Column('reached_at', sa.DateTime(), nullable=False),
    sa.ForeignKeyConstraint(['user_id'], ['users.id'], name=op.f('fk_point_month_totals_user_id_users')),
    sa.PrimaryKeyConstraint('user_id', 'period', name=op.f('pk_point_month_totals'))
    )
    with op.batch_alter_table('point_month_totals', schema=None) as batch_op:
        batch_op.create_index('ix_point_month_totals_board',
                              ['period', 'points', 'reached_at', 'user_id'], unique=False)

    op.create_table('board_places',
    sa.Column('user_id', sa.Integer(), nullable=False),
    sa.Column('period', sa.String(length=7), nullable=False),
    sa.Column('position', sa.Integer(), nullable=False),
    sa.ForeignKeyConstraint(['user_id'], ['users.id'], name=op.f('fk_board_places_user_id_users')),
    sa.PrimaryKeyConstraint('user_id', 'period', name=op.f('pk_board_places'))
    )

    # the totals of the months already in the ledger, from their rollups: a month's total
    # was reached when its latest rollup changed
    op.execute(
        "INSERT INTO point_month_totals (user_id, period, points, reached_at) "
        "SELECT user_id, period, SUM(points), MAX(last_changed_at) "
        "FROM point_rollups GROUP BY user_id, period")

    # the places on the centre board of the months already closed, from their snapshots
    # (rows: [position, rank, user id, points, reached, tied])
    connection = op.get_bind()
    snapshots = connection.execute(sa.text(
        "SELECT period, rows FROM board_snapshots WHERE board = 'individual:centre:all'"))
    places = sa.table('board_places', sa.column('user_id', sa.Integer),
                      sa.column('period', sa.String), sa.column('position', sa.Integer))
    for period, rows in snapshots.all():
        rows = json.loads(rows) if isinstance(rows, str) else rows
        if rows:
            connection.execute(places.insert(), [
                {'user_id': row[2], 'period': period, 'position': row[0]} for row in rows])


def downgrade():
    op.drop_table('board_places')
    with op.batch_alter_table('point_month_totals', schema=None) as batch_op:
        batch_op.drop_index('ix_point_month_totals_board')

    op.drop_table('point_month_totals')
