"""What the boards need to know of a person, kept where the boards read it: whether they hold
the agent role (`users.is_agent`), and on each of their month totals and rollups their team
and whether they are on that month's boards (`team_id`, `ranked`: an agent employed in the
month). With these, a board is counted and read in its own index, without looking up each
person.

They are written with the points (the ledger reads `people` and applies `is_ranked`) and
written again whenever a person's roles, team or dates change (`_people_changed`, after every
flush), so that they say what the people say now; `verify` finds any that do not (a change
made behind the services' back, in plain SQL).

Each team's month totals (`team_month_totals`, per blade and for all blades) are kept the same
way: the ledger adds the points of the people on the board to their team's rows
(`add_team_points`), and a change of someone's roles, team or dates sums their teams' rows
again from the people's totals (`refresh_teams`), with the teams' days of agents in each
month."""
from __future__ import annotations

from datetime import date

from sqlalchemy import bindparam, event, inspect, select, text
from sqlalchemy.orm import Session
from sqlalchemy.orm.attributes import set_committed_value
from sqlalchemy.orm.util import identity_key

from app.auth.models import User, UserRole
from app.auth.roles import Role
from app.centre.periods import days_in, month_first_day, month_last_day
from app.database import insert_values
from app.incentives.models import TeamMonthTotal

# what makes a person's board columns change
_WATCHED = ("team_id", "hire_date", "leave_date", "role_links")


def is_ranked(is_agent: bool, hired: date, left: date | None, period: str) -> bool:
    """On the month's boards: an agent employed at some time in the month."""
    return is_ranked_between(is_agent, hired, left, month_first_day(period),
                             month_last_day(period))


def is_ranked_between(is_agent: bool, hired: date, left: date | None, first: date,
                      last: date) -> bool:
    """`is_ranked` in the month from `first` to `last`."""
    return bool(is_agent) and hired <= last and (left is None or left >= first)


def people(connection, user_ids) -> dict[int, tuple]:
    """Each person's (team, is agent, hire date, leave date), for the ledger's writes."""
    ids = sorted(set(user_ids))
    found = {}
    for start in range(0, len(ids), 10_000):
        found.update((row[0], tuple(row[1:])) for row in connection.execute(
            select(User.id, User.team_id, User.is_agent, User.hire_date, User.leave_date)
            .where(User.id.in_(ids[start:start + 10_000]))))
    return found


def _month_sql(dialect: str, table: str) -> tuple[str, str]:
    """The first and last day of the month of each row of `table` (its `period`), in the
    dialect's SQL."""
    if dialect == "sqlite":
        return (f"{table}.period || '-01'",
                f"date({table}.period || '-01', '+1 month', '-1 day')")
    return (f"to_date({table}.period || '-01', 'YYYY-MM-DD')",
            f"(date_trunc('month', to_date({table}.period || '-01', 'YYYY-MM-DD'))"
            f" + interval '1 month' - interval '1 day')::date")


def _ranked_sql(dialect: str, table: str) -> str:
    """`is_ranked` of each row of `table` (its user and period), in the dialect's SQL."""
    first, last = _month_sql(dialect, table)
    return (f"(SELECT u.is_agent AND u.hire_date <= {last} AND (u.leave_date IS NULL"
            f" OR u.leave_date >= {first}) FROM users u WHERE u.id = {table}.user_id)")


def _member_days_sql(dialect: str) -> str:
    """The days of agents in the month of each row of `team_month_totals`: each agent of the
    team employed in the month, for the days they were there (as `days_in` counts them)."""
    first, last = _month_sql(dialect, "team_month_totals")
    if dialect == "sqlite":
        days = (f"CAST(julianday(min({last}, coalesce(u.leave_date, {last})))"
                f" - julianday(max({first}, u.hire_date)) AS INTEGER) + 1")
    else:
        days = (f"least({last}, coalesce(u.leave_date, {last}))"
                f" - greatest({first}, u.hire_date) + 1")
    return (f"(SELECT coalesce(sum({days}), 0) FROM users u WHERE u.is_agent = :yes"
            f" AND u.team_id = team_month_totals.team_id AND u.hire_date <= {last}"
            f" AND (u.leave_date IS NULL OR u.leave_date >= {first}))")


_TEAM_COLUMNS = ("period", "blade", "team_id", "points", "reached_at")
_TEAM_ON_CONFLICT = """ON CONFLICT (period, blade, team_id) DO UPDATE SET
    points = team_month_totals.points + excluded.points,
    reached_at = CASE WHEN excluded.reached_at > team_month_totals.reached_at
                      THEN excluded.reached_at ELSE team_month_totals.reached_at END"""


def team_rows(rollups: list[tuple], totals: list[tuple]) -> list[tuple]:
    """What the ledger's rows of people add to their teams' month totals: of the rollups
    (user, period, blade, points, positive, negative, entries, at, team, ranked) and the
    month totals (user, period, points, at, team, ranked) of the people on the board, each
    team's points and latest time, as rows of `_TEAM_COLUMNS` in key order."""
    found: dict[tuple, list] = {}
    keyed = [((period, blade, team_id), points, at, ranked) for
             _u, period, blade, points, _p, _n, _e, at, team_id, ranked in rollups
             if team_id is not None]
    keyed += [((period, "all", team_id), points, at, ranked) for
              _u, period, points, at, team_id, ranked in totals if team_id is not None]
    for key, points, at, ranked in keyed:
        if not ranked:
            continue
        row = found.get(key)
        if row is None:
            found[key] = [points, at]
        else:
            row[0] += points
            if at > row[1]:
                row[1] = at
    return [(*key, *found[key]) for key in sorted(found)]


def add_team_points(connection, rows: list[tuple], *, converted: dict | None = None) -> None:
    """Add `team_rows` to the teams' month totals; the rows this made count their team's
    days of agents in the month."""
    if not rows:
        return
    insert_values(TeamMonthTotal.__table__, _TEAM_COLUMNS, rows,
                  on_conflict=_TEAM_ON_CONFLICT, converted=converted)
    connection.execute(text(
        f"UPDATE team_month_totals SET member_days = {_member_days_sql(connection.dialect.name)}"
        f" WHERE period IN :periods AND member_days IS NULL").bindparams(
            bindparam("periods", expanding=True)),
        {"periods": sorted({row[0] for row in rows}), "yes": True})


def refresh_teams(connection, team_ids) -> None:
    """Sum the teams' month totals again from their people's totals and rollups, and count
    their days of agents in each month again."""
    teams = sorted({team_id for team_id in team_ids if team_id is not None})
    if not teams:
        return
    dialect = connection.dialect.name
    statements = [
        "DELETE FROM team_month_totals WHERE team_id IN :teams",
        "INSERT INTO team_month_totals (period, blade, team_id, points, reached_at)"
        " SELECT period, 'all', team_id, sum(points), max(reached_at) FROM point_month_totals"
        " WHERE team_id IN :teams AND ranked = :yes GROUP BY period, team_id",
        "INSERT INTO team_month_totals (period, blade, team_id, points, reached_at)"
        " SELECT period, blade, team_id, sum(points), max(last_changed_at) FROM point_rollups"
        " WHERE team_id IN :teams AND ranked = :yes GROUP BY period, blade, team_id",
        f"UPDATE team_month_totals SET member_days = {_member_days_sql(dialect)}"
        f" WHERE team_id IN :teams"]
    for start in range(0, len(teams), 1_000):
        for statement in statements:
            connection.execute(text(statement).bindparams(bindparam("teams", expanding=True)),
                               {"teams": teams[start:start + 1_000], "yes": True})


def refresh(connection, user_ids, *, former_teams=()) -> None:
    """Write the people's board columns again from their roles, team and dates, and their
    teams' month totals: of the teams they are in and were in (those of their totals, and
    `former_teams`)."""
    ids = sorted(set(user_ids))
    if not ids:
        return
    dialect = connection.dialect.name
    teams = set(former_teams)
    statements = [text("UPDATE users SET is_agent = EXISTS (SELECT 1 FROM user_roles r"
                       " WHERE r.user_id = users.id AND r.role = :agent) WHERE id IN :ids")]
    statements += [text(
        f"UPDATE {table} SET team_id = (SELECT u.team_id FROM users u"
        f" WHERE u.id = {table}.user_id), ranked = {_ranked_sql(dialect, table)}"
        f" WHERE user_id IN :ids") for table in ("point_month_totals", "point_rollups")]
    teams_of = text("SELECT DISTINCT team_id FROM point_month_totals WHERE user_id IN :ids"
                    " UNION SELECT team_id FROM users WHERE id IN :ids").bindparams(
                        bindparam("ids", expanding=True))
    for start in range(0, len(ids), 10_000):
        chunk = ids[start:start + 10_000]
        teams.update(team_id for (team_id,) in connection.execute(teams_of, {"ids": chunk}))
        for statement in statements:
            connection.execute(statement.bindparams(bindparam("ids", expanding=True)),
                               {"ids": chunk, "agent": Role.AGENT.value})
    refresh_teams(connection, teams)


@event.listens_for(Session, "after_flush")
def _people_changed(session, _flush_context) -> None:
    """After a flush that changed someone's roles, team or dates: their board columns again
    (the session's objects still show what the flush changed)."""
    changed: set[int] = set()
    former_teams: set[int] = set()
    for obj in (*session.new, *session.dirty, *session.deleted):
        if isinstance(obj, UserRole):
            if obj.user_id is not None:
                changed.add(obj.user_id)
        elif isinstance(obj, User) and obj.id is not None:
            state = inspect(obj)
            if obj in session.new or any(
                    state.attrs[name].history.has_changes() for name in _WATCHED):
                changed.add(obj.id)
                former_teams.update(state.attrs.team_id.history.deleted)
    if not changed:
        return
    connection = session.connection()
    refresh(connection, changed, former_teams=former_teams)
    # the objects in the session learn their new flag without a reload
    for user_id, is_agent in connection.execute(
            select(User.id, User.is_agent).where(User.id.in_(sorted(changed)))):
        user = session.identity_map.get(identity_key(User, user_id))
        if user is not None:
            set_committed_value(user, "is_agent", is_agent)


def verify(connection) -> list[dict]:
    """The board columns that differ from what the people say now, as `verify_rollups`
    reports a difference ("ledger": what it should be, "rollup": what is kept)."""
    agents = {user_id for (user_id,) in connection.execute(
        select(UserRole.user_id).where(UserRole.role == Role.AGENT.value))}
    found = {row[0]: row for row in connection.execute(
        select(User.id, User.team_id, User.is_agent, User.hire_date, User.leave_date))}
    differences = [{"user_id": user_id, "period": "all", "blade": "is_agent",
                    "ledger": user_id in agents, "rollup": bool(is_agent)}
                   for user_id, _team, is_agent, _h, _l in found.values()
                   if bool(is_agent) != (user_id in agents)]
    ranked_cache: dict[tuple[int, str], bool] = {}
    teams: dict[tuple, list] = {}   # (period, blade, team) → [points, latest time]
    for table, blade, at in (("point_month_totals", "'all'", "reached_at"),
                             ("point_rollups", "blade", "last_changed_at")):
        for user_id, period, of_blade, team_id, ranked, points, reached in connection.execute(
                text(f"SELECT user_id, period, {blade}, team_id, ranked, points, {at}"
                     f" FROM {table} ORDER BY user_id, period")):
            _id, team, _is_agent, hired, left = found[user_id]
            key = (user_id, period)
            if key not in ranked_cache:
                ranked_cache[key] = is_ranked(user_id in agents, hired, left, period)
            if ranked_cache[key] and team is not None:
                sums = teams.setdefault((period, of_blade, team), [0, reached])
                sums[0] += points
                sums[1] = max(sums[1], reached)
            if team_id != team:
                differences.append({"user_id": user_id, "period": period,
                                    "blade": f"{of_blade} team_id", "ledger": team,
                                    "rollup": team_id})
            if bool(ranked) != ranked_cache[key]:
                differences.append({"user_id": user_id, "period": period,
                                    "blade": f"{of_blade} ranked",
                                    "ledger": ranked_cache[key], "rollup": bool(ranked)})
    return differences + _verify_teams(connection, teams, agents, found)


def _verify_teams(connection, expected: dict[tuple, list], agents: set[int],
                  people: dict[int, tuple]) -> list[dict]:
    """The teams' month totals that differ from their people's: `expected` holds each
    team's points and latest time by (period, blade, team), summed from the people's totals;
    the days of agents are counted from the people. Reported as `verify` reports them, with
    the team in place of a person ("team 7")."""
    months = {period: (month_first_day(period), month_last_day(period))
              for period, _blade, _team in expected}
    days: dict[tuple[str, int], int] = {}
    for user_id, team, _is_agent, hired, left in people.values():
        if user_id not in agents or team is None:
            continue
        for period, (first, last) in months.items():
            if hired <= last and (left is None or left >= first):
                days[period, team] = days.get((period, team), 0) + days_in(
                    first, last, hired, left)
    kept = {(period, blade, team): (points, reached, member_days)
            for period, blade, team, points, reached, member_days in connection.execute(text(
                "SELECT period, blade, team_id, points, reached_at, member_days"
                " FROM team_month_totals"))}
    differences = []
    for key in sorted(set(expected) | set(kept)):
        period, blade, team = key
        should = (*expected[key], days.get((period, team), 0)) if key in expected else None
        if kept.get(key) != should:
            differences.append({"user_id": f"team {team}", "period": period,
                                "blade": f"{blade} team total", "ledger": should,
                                "rollup": kept.get(key)})
    return differences
