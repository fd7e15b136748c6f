"""The boards, read from the monthly rollups (never the ledger), cached under the points
version so that a new award shows at once; closed months read their snapshot."""
from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime

from sqlalchemy import and_, extract, func, or_, select

from app.auth.models import Team, User, UserRole
from app.auth.roles import Role
from app.centre.periods import month_first_day, month_last_day
from app.database import db
from app.extensions import cache
from app.incentives.ledger import points_version
from app.incentives.models import (
    BadgeAward,
    ClosedPeriod,
    PointRollup,
    ServiceStarNomination,
)
from app.incentives.rules import Blade
from app.leaderboard import rules
from app.leaderboard.models import BoardSnapshot

BOARD_KINDS = ("individual", "cohort", "team")
CACHE_SECONDS = 300


@dataclass(frozen=True)
class BoardSpec:
    """Which board: its kind, scope ("centre", "team-<id>", "<cohort>") and blade ("all")."""

    kind: str
    scope: str = "centre"
    blade: str = "all"

    @property
    def key(self) -> str:
        return f"{self.kind}:{self.scope}:{self.blade}"

    @classmethod
    def parse(cls, key: str) -> BoardSpec:
        kind, scope, blade = key.split(":")
        return cls(kind, scope, blade)


def _employed_in(period: str):
    first, last = month_first_day(period), month_last_day(period)
    return (User.hire_date <= last) & or_(User.leave_date.is_(None), User.leave_date >= first)


def _is_agent():
    return User.id.in_(select(UserRole.user_id).where(UserRole.role == Role.AGENT.value))


def _in_scope(spec: BoardSpec) -> list:
    """The conditions on User of the board's scope, beyond "an agent employed that month"."""
    if spec.scope.startswith("team-"):
        return [User.team_id == int(spec.scope[5:])]
    if spec.kind == "cohort":
        return [User.hire_date >= month_first_day(spec.scope),
                User.hire_date <= month_last_day(spec.scope)]
    return []


def _with_points(period: str, blade: str, *columns):
    """The agents employed in the month with their points and when they reached them, in one
    query: the rollups are joined on their primary key (user, month[, blade]) and summed in
    the database. Agents without rollups have (0, None)."""
    on = [PointRollup.user_id == User.id, PointRollup.period == period]
    if blade != "all":
        on.append(PointRollup.blade == blade)
    return (select(User.id.label("key"), *columns,
                   func.coalesce(func.sum(PointRollup.points), 0).label("points"),
                   func.max(PointRollup.last_changed_at).label("reached"))
            .select_from(User).outerjoin(PointRollup, and_(*on))
            .where(_employed_in(period), _is_agent())
            .group_by(User.id, *columns))


def _aware(moment):
    if moment is None:
        return None
    if isinstance(moment, str):
        moment = datetime.fromisoformat(moment)
    return moment if moment.tzinfo else moment.replace(tzinfo=UTC)


def compute_board(period: str, spec: BoardSpec) -> list[rules.Ranked]:
    """A board as the rollups give it now."""
    if spec.kind == "team":
        return _team_board(period, spec)
    query = _with_points(period, spec.blade).where(*_in_scope(spec))
    return rules.rank([rules.Standing(user_id, int(points), _aware(at))
                       for user_id, points, at in db.session.execute(query)])


def _team_board(period: str, spec: BoardSpec) -> list[rules.Ranked]:
    first, last = month_first_day(period), month_last_day(period)
    members = db.session.execute(
        _with_points(period, spec.blade, User.team_id, User.hire_date, User.leave_date)
        .where(User.team_id.is_not(None)))
    teams: dict[int, dict] = {}
    for _user_id, team_id, hired, left, user_points, reached in members:
        team = teams.setdefault(team_id, {"points": 0, "shares": [], "reached": None})
        reached = _aware(reached)
        team["points"] += int(user_points)
        team["shares"].append(rules.share_of_month(first, last, hired, left))
        if reached and (team["reached"] is None or reached > team["reached"]):
            team["reached"] = reached
    all_teams = db.session.scalars(select(Team.id)).all()
    return rules.rank([
        rules.Standing(team_id, round(rules.per_member(t["points"], t["shares"]), 2),
                       t["reached"])
        for team_id in all_teams
        for t in [teams.get(team_id, {"points": 0, "shares": [], "reached": None})]])


def is_closed(period: str) -> bool:
    return db.session.get(ClosedPeriod, period) is not None


def _from_rows(rows: list) -> list[rules.Ranked]:
    return [rules.Ranked(position, rank, key, points, _aware(at), tied)
            for position, rank, key, points, at, tied in rows]


def to_rows(board: list[rules.Ranked]) -> list[list]:
    return [[r.position, r.rank, r.key, r.points,
             r.reached_at.isoformat() if r.reached_at else None, r.tied] for r in board]


def get_board(period: str, spec: BoardSpec) -> list[rules.Ranked]:
    """The board of a month: its snapshot once the month is closed, else the live board,
    cached until points change."""
    snapshot = db.session.scalar(select(BoardSnapshot.rows).where(
        BoardSnapshot.period == period, BoardSnapshot.board == spec.key))
    if snapshot is not None:
        return _from_rows(snapshot)
    key = f"board/{period}/{spec.key}/{points_version()}"
    rows = cache.get(key)
    if rows is not None:
        return _from_rows(rows)
    board = compute_board(period, spec)
    # the rows as tuples with their times as they are: cheaper to store and read back than
    # the snapshot's JSON rows (`_from_rows` reads both)
    cache.set(key, [(r.position, r.rank, r.key, r.points, r.reached_at, r.tied)
                    for r in board], timeout=CACHE_SECONDS)
    return board


def all_board_specs(period: str) -> list[BoardSpec]:
    """Every board of a month: the centre, each team, each cohort, the teams; each in all
    blades and in every single blade."""
    scopes = [("individual", "centre"), ("team", "centre")]
    scopes += [("individual", f"team-{team_id}") for team_id in
               db.session.scalars(select(Team.id).order_by(Team.id))]
    scopes += [("cohort", cohort) for cohort in cohorts_in(period)]
    blades = ["all"] + [b.value for b in Blade]
    return [BoardSpec(kind, scope, blade) for kind, scope in scopes for blade in blades]


def cohorts_in(period: str) -> list[str]:
    """The onboarding cohorts (hire months) of the agents employed in that month, newest
    first."""
    months = db.session.execute(select(
        extract("year", User.hire_date), extract("month", User.hire_date)).distinct().where(
        _employed_in(period), _is_agent()))
    return sorted({f"{int(year):04d}-{int(month):02d}" for year, month in months},
                  reverse=True)


def _live_position(period: str, user_id: int) -> int | None:
    """The person's position on the live centre board of the month, counted in the database
    (the agents ahead of them in the board's order) rather than by ranking every agent."""
    standings = _with_points(period, "all").cte("standings")
    them_table, me_table = standings.alias("them"), standings.alias("me")
    them, me = them_table.c, me_table.c
    ahead = or_(   # the board's order: points, then who reached them first, then the key
        them.points > me.points,
        and_(them.points == me.points, or_(
            and_(them.reached.is_not(None),
                 or_(me.reached.is_(None), them.reached < me.reached)),
            and_(or_(them.reached == me.reached,
                     and_(them.reached.is_(None), me.reached.is_(None))),
                 them.key < me.key))))
    row = db.session.execute(
        select(me.key, func.count(them.key))
        .select_from(me_table).outerjoin(them_table, ahead)
        .where(me.key == user_id).group_by(me.key)).first()
    return None if row is None else row[1] + 1


def rank_history(user_id: int, periods: list[str]) -> list[tuple[str, int | None]]:
    """The person's position on the centre board in each month (None when not ranked)."""
    spec = BoardSpec("individual")
    snapshots = dict(db.session.execute(select(BoardSnapshot.period, BoardSnapshot.rows).where(
        BoardSnapshot.period.in_(periods), BoardSnapshot.board == spec.key)).all())
    version = points_version()
    history = []
    for period in periods:
        if period in snapshots:
            position = next((row[0] for row in snapshots[period] if row[2] == user_id), None)
        else:
            rows = cache.get(f"board/{period}/{spec.key}/{version}")
            if rows is not None:
                position = next((row[0] for row in rows if row[2] == user_id), None)
            else:
                key = f"board-position/{period}/{user_id}/{version}"
                position = cache.get(key)
                if position is None:
                    position = _live_position(period, user_id) or 0   # 0: not ranked
                    cache.set(key, position, timeout=CACHE_SECONDS)
                position = position or None
        history.append((period, position))
    return history


def latest_honours(limit: int = 8) -> list[dict]:
    """The newest badges and confirmed Service Stars, for the wallboard."""
    badges = db.session.scalars(
        select(BadgeAward).where(BadgeAward.revoked_at.is_(None))
        .order_by(BadgeAward.awarded_at.desc()).limit(limit))
    stars = db.session.scalars(
        select(ServiceStarNomination).where(ServiceStarNomination.status == "confirmed")
        .order_by(ServiceStarNomination.decided_at.desc()).limit(limit))
    honours = [{"at": b.awarded_at, "user": b.user, "badge": b.badge, "star": None}
               for b in badges]
    honours += [{"at": s.decided_at, "user": s.user, "badge": None, "star": s} for s in stars]
    return sorted(honours, key=lambda h: h["at"], reverse=True)[:limit]
