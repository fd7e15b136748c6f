"""What the boards need to know of a person, kept where the boards read it: whether they hold
the agent role (`users.is_agent`), and on each of their month totals and rollups their team
and whether they are on that month's boards (`team_id`, `ranked`: an agent employed in the
month). With these, a board is counted and read in its own index, without looking up each
person.

They are written with the points (the ledger reads `people` and applies `is_ranked`) and
written again whenever a person's roles, team or dates change (`_people_changed`, after every
flush), so that they say what the people say now; `verify` finds any that do not (a change
made behind the services' back, in plain SQL)."""
from __future__ import annotations

from datetime import date

from sqlalchemy import bindparam, event, inspect, select, text
from sqlalchemy.orm import Session
from sqlalchemy.orm.attributes import set_committed_value
from sqlalchemy.orm.util import identity_key

from app.auth.models import User, UserRole
from app.auth.roles import Role
from app.centre.periods import month_first_day, month_last_day

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


def _ranked_sql(dialect: str, table: str) -> str:
    """`is_ranked` of each row of `table` (its user and period), in the dialect's SQL."""
    if dialect == "sqlite":
        first = f"{table}.period || '-01'"
        last = f"date({table}.period || '-01', '+1 month', '-1 day')"
    else:
        first = f"to_date({table}.period || '-01', 'YYYY-MM-DD')"
        last = (f"(date_trunc('month', to_date({table}.period || '-01', 'YYYY-MM-DD'))"
                f" + interval '1 month' - interval '1 day')::date")
    return (f"(SELECT u.is_agent AND u.hire_date <= {last} AND (u.leave_date IS NULL"
            f" OR u.leave_date >= {first}) FROM users u WHERE u.id = {table}.user_id)")


def refresh(connection, user_ids) -> None:
    """Write the people's board columns again from their roles, team and dates."""
    ids = sorted(set(user_ids))
    if not ids:
        return
    dialect = connection.dialect.name
    statements = [text("UPDATE users SET is_agent = EXISTS (SELECT 1 FROM user_roles r"
                       " WHERE r.user_id = users.id AND r.role = :agent) WHERE id IN :ids")]
    statements += [text(
        f"UPDATE {table} SET team_id = (SELECT u.team_id FROM users u"
        f" WHERE u.id = {table}.user_id), ranked = {_ranked_sql(dialect, table)}"
        f" WHERE user_id IN :ids") for table in ("point_month_totals", "point_rollups")]
    for start in range(0, len(ids), 10_000):
        chunk = ids[start:start + 10_000]
        for statement in statements:
            connection.execute(statement.bindparams(bindparam("ids", expanding=True)),
                               {"ids": chunk, "agent": Role.AGENT.value})


@event.listens_for(Session, "after_flush")
def _people_changed(session, _flush_context) -> None:
    """After a flush that changed someone's roles, team or dates: their board columns again
    (the session's objects still show what the flush changed)."""
    changed: set[int] = set()
    for obj in (*session.new, *session.dirty, *session.deleted):
        if isinstance(obj, UserRole):
            if obj.user_id is not None:
                changed.add(obj.user_id)
        elif isinstance(obj, User) and obj.id is not None:
            state = inspect(obj)
            if obj in session.new or any(
                    state.attrs[name].history.has_changes() for name in _WATCHED):
                changed.add(obj.id)
    if not changed:
        return
    connection = session.connection()
    refresh(connection, changed)
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
    for table, blade in (("point_month_totals", "'all'"), ("point_rollups", "blade")):
        for user_id, period, of_blade, team_id, ranked in connection.execute(text(
                f"SELECT user_id, period, {blade}, team_id, ranked FROM {table}"
                f" ORDER BY user_id, period")):
            _id, team, _is_agent, hired, left = found[user_id]
            key = (user_id, period)
            if key not in ranked_cache:
                ranked_cache[key] = is_ranked(user_id in agents, hired, left, period)
            if team_id != team:
                differences.append({"user_id": user_id, "period": period,
                                    "blade": f"{of_blade} team_id", "ledger": team,
                                    "rollup": team_id})
            if bool(ranked) != ranked_cache[key]:
                differences.append({"user_id": user_id, "period": period,
                                    "blade": f"{of_blade} ranked",
                                    "ledger": ranked_cache[key], "rollup": bool(ranked)})
    return differences
