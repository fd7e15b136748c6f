"""each team's month totals kept beside its people's (team_month_totals, per blade and for
all blades, with the team's days of agents in the month): the team board reads one row per
team

The totals of the months already stored are summed from the people's totals and rollups. The
per-team indexes of those become an index on the team alone: what a team's totals are summed
again from when its people change.

Revision ID: 0012
Revises: 0011
Create Date: 2026-12-03 13:00:00

"""
from alembic import op
import sqlalchemy as sa


revision = '0012'
down_revision = '0011'
branch_labels = None
depends_on = None


def _member_days() -> str:
    """The days of agents in each row's month of its team, in this dialect's SQL (as
    `app.incentives.standings` counts them)."""
    if op.get_bind().dialect.name == 'sqlite':
        first = "team_month_totals.period || '-01'"
        last = "date(team_month_totals.period || '-01', '+1 month', '-1 day')"
        days = (f"CAST(julianday(min({last}, coalesce(u.leave_date, {last})))"
                f" - julianday(max({first}, u.hire_date)) AS INTEGER) + 1")
    else:
        first = "to_date(team_month_totals.period || '-01', 'YYYY-MM-DD')"
        last = ("(date_trunc('month', to_date(team_month_totals.period || '-01', 'YYYY-MM-DD'))"
                " + interval '1 month' - interval '1 day')::date")
        days = (f"least({last}, coalesce(u.leave_date, {last}))"
                f" - greatest({first}, u.hire_date) + 1")
    return (f"(SELECT coalesce(sum({days}), 0) FROM users u WHERE u.is_agent"
            f" AND u.team_id = team_month_totals.team_id AND u.hire_date <= {last}"
            f" AND (u.leave_date IS NULL OR u.leave_date >= {first}))")


def upgrade():
    op.create_table(
        'team_month_totals',
        sa.Column('period', sa.String(length=7), nullable=False),
        sa.Column('blade', sa.String(length=20), nullable=False),
        sa.Column('team_id', sa.Integer(), nullable=False),
        sa.Column('points', sa.Integer(), nullable=False),
        sa.Column('reached_at', sa.DateTime(), nullable=False),
        sa.Column('member_days', sa.Integer(), nullable=True),
        sa.PrimaryKeyConstraint('period', 'blade', 'team_id', name=op.f('pk_team_month_totals')),
    )
    op.drop_index('ix_point_month_totals_teams', table_name='point_month_totals')
    op.drop_index('ix_point_rollups_teams', table_name='point_rollups')
    op.create_index('ix_point_month_totals_team', 'point_month_totals', ['team_id'],
                    unique=False)
    op.create_index('ix_point_rollups_team', 'point_rollups', ['team_id'], unique=False)

    op.execute("INSERT INTO team_month_totals (period, blade, team_id, points, reached_at)"
               " SELECT period, 'all', team_id, sum(points), max(reached_at)"
               " FROM point_month_totals WHERE ranked AND team_id IS NOT NULL"
               " GROUP BY period, team_id")
    op.execute("INSERT INTO team_month_totals (period, blade, team_id, points, reached_at)"
               " SELECT period, blade, team_id, sum(points), max(last_changed_at)"
               " FROM point_rollups WHERE ranked AND team_id IS NOT NULL"
               " GROUP BY period, blade, team_id")
    op.execute(f"UPDATE team_month_totals SET member_days = {_member_days()}")


def downgrade():
    op.drop_index('ix_point_rollups_team', table_name='point_rollups')
    op.drop_index('ix_point_month_totals_team', table_name='point_month_totals')
    op.create_index('ix_point_month_totals_teams', 'point_month_totals',
                    ['period', 'ranked', 'team_id', 'points', 'reached_at'], unique=False)
    op.create_index('ix_point_rollups_teams', 'point_rollups',
                    ['period', 'blade', 'ranked', 'team_id', 'points', 'last_changed_at'],
                    unique=False)
    op.drop_table('team_month_totals')
