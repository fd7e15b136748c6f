"""the boards read their indexes alone: a person's agent role is kept on the person
(users.is_agent), and their team and whether they are on a month's boards on their month
totals and rollups (team_id, ranked), with indexes in the boards' order

The columns of the people, totals and rollups already stored are filled in.

Revision ID: 0011
Revises: 0010
Create Date: 2026-12-03 10:00:00

"""
from alembic import op
import sqlalchemy as sa


revision = '0011'
down_revision = '0010'
branch_labels = None
depends_on = None


def _ranked(table: str) -> str:
    """Whether the row's person is an agent employed in the row's month, in this dialect's
    SQL (as `app.incentives.standings` writes it)."""
    if op.get_bind().dialect.name == 'sqlite':
        first = f"{table}.period || '-01'"
        last = f"date({table}.period || '-01', '+1 month', '-1 day')"
    else:
        first = f"to_date({table}.period || '-01', 'YYYY-MM-DD')"
        last = (f"(date_trunc('month', to_date({table}.period || '-01', 'YYYY-MM-DD'))"
                f" + interval '1 month' - interval '1 day')::date")
    return (f"(SELECT u.is_agent AND u.hire_date <= {last} AND (u.leave_date IS NULL"
            f" OR u.leave_date >= {first}) FROM users u WHERE u.id = {table}.user_id)")


def upgrade():
    # plain ALTER TABLE, no table copies: SQLite adds a column with a default in place
    op.add_column('users', sa.Column('is_agent', sa.Boolean(), server_default=sa.false(),
                                     nullable=False))
    for table in ('point_month_totals', 'point_rollups'):
        op.add_column(table, sa.Column('team_id', sa.Integer(), nullable=True))
        op.add_column(table, sa.Column('ranked', sa.Boolean(), server_default=sa.false(),
                                       nullable=False))
    op.drop_index('ix_point_month_totals_board', table_name='point_month_totals')
    op.drop_index('ix_point_rollups_period_blade', table_name='point_rollups')

    op.execute("UPDATE users SET is_agent = EXISTS (SELECT 1 FROM user_roles r"
               " WHERE r.user_id = users.id AND r.role = 'agent')")
    for table in ('point_month_totals', 'point_rollups'):
        op.execute(f"UPDATE {table} SET team_id = (SELECT u.team_id FROM users u"
                   f" WHERE u.id = {table}.user_id), ranked = {_ranked(table)}")

    op.create_index('ix_users_agents', 'users',
                    ['is_agent', 'hire_date', 'leave_date', 'team_id'], unique=False)
    op.create_index('ix_users_agent_teams', 'users',
                    ['is_agent', 'team_id', 'hire_date', 'leave_date'], unique=False)
    op.create_index('ix_point_month_totals_board', 'point_month_totals',
                    ['period', 'ranked', sa.text('points DESC'), 'reached_at', 'user_id'],
                    unique=False)
    op.create_index('ix_point_month_totals_teams', 'point_month_totals',
                    ['period', 'ranked', 'team_id', 'points', 'reached_at'], unique=False)
    op.create_index('ix_point_rollups_board', 'point_rollups',
                    ['period', 'blade', 'ranked', sa.text('points DESC'), 'last_changed_at',
                     'user_id'], unique=False)
    op.create_index('ix_point_rollups_teams', 'point_rollups',
                    ['period', 'blade', 'ranked', 'team_id', 'points', 'last_changed_at'],
                    unique=False)


def downgrade():
    op.drop_index('ix_point_rollups_teams', table_name='point_rollups')
    op.drop_index('ix_point_rollups_board', table_name='point_rollups')
    op.drop_index('ix_point_month_totals_teams', table_name='point_month_totals')
    op.drop_index('ix_point_month_totals_board', table_name='point_month_totals')
    op.drop_index('ix_users_agent_teams', table_name='users')
    op.drop_index('ix_users_agents', table_name='users')
    for table in ('point_rollups', 'point_month_totals'):
        op.drop_column(table, 'ranked')
        op.drop_column(table, 'team_id')
    op.drop_column('users', 'is_agent')
    op.create_index('ix_point_rollups_period_blade', 'point_rollups', ['period', 'blade'],
                    unique=False)
    op.create_index('ix_point_month_totals_board', 'point_month_totals',
                    ['period', 'points', 'reached_at', 'user_id'], unique=False)
