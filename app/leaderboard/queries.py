"""The boards, read from the monthly rollups (never the ledger), cached under the points
version so that a new award shows at once; closed months read their snapshot."""
from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime

from sqlalchemy import func, or_, select

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


def _agents(period: str, spec: BoardSpec) -> list[tuple[int, int | None]]:
    """(user id, team id) of the agents the board ranks for that month."""
    query = select(User.id, User.team_id).where(
        _employed_in(period),
        User.id.in_(select(UserRole.user_id).where(UserRole.role == Role.AGENT.value)))
    if spec.scope.startswith("team-"):
        query = query.where(User.team_id == int(spec.scope[5:]))
    elif spec.kind == "cohort":
        first = month_first_day(spec.scope)
        query = query.where(User.hire_date >= first,
                            User.hire_date <= month_last_day(spec.scope))
    return list(db.session.execute(query).all())


def _points(period: str, blade: str, user_ids: list[int] | None = None) -> dict[int, tuple]:
    """user id → (points, reached at) from the rollups of the month."""
    query = (select(PointRollup.user_id, func.sum(PointRollup.points),
                    func.max(PointRollup.last_changed_at))
             .where(PointRollup.period == period).group_by(PointRollup.user_id))
    if blade != "all":
        query = query.where(PointRollup.blade == blade)
    rows = db.session.execute(query).all()
    wanted = set(user_ids) if user_ids is not None else None
    return {user_id: (int(points), _aware(at)) for user_id, points, at in rows
            if wanted is None or user_id in wanted}


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
    agents = _agents(period, spec)
    points = _points(period, spec.blade)
    return rules.rank([rules.Standing(user_id, *points.get(user_id, (0, None)))
                       for user_id, _team in agents])


def _team_board(period: str, spec: BoardSpec) -> list[rules.Ranked]:
    first, last = month_first_day(period), month_last_day(period)
    members = db.session.execute(
        select(User.id, User.team_id, User.hire_date, User.leave_date).where(
            _employed_in(period), User.team_id.is_not(None),
            User.id.in_(select(UserRole.user_id).where(UserRole.role == Role.AGENT.value)))
    ).all()
    points = _points(period, spec.blade)
    teams: dict[int, dict] = {}
    for user_id, team_id, hired, left in members:
        team = teams.setdefault(team_id, {"points": 0, "shares": [], "reached": None})
        user_points, reached = points.get(user_id, (0, None))
        team["points"] += user_points
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
    if rows is None:
        rows = to_rows(compute_board(period, spec))
        cache.set(key, rows, timeout=CACHE_SECONDS)
    return _from_rows(rows)


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
    dates = db.session.scalars(select(User.hire_date).where(
        _employed_in(period),
        User.id.in_(select(UserRole.user_id).where(UserRole.role == Role.AGENT.value))))
    return sorted({f"{d.year:04d}-{d.month:02d}" for d in dates}, reverse=True)


def rank_history(user_id: int, periods: list[str]) -> list[tuple[str, int | None]]:
    """The person's position on the centre board in each month (None when not ranked)."""
    history = []
    for period in periods:
        board = get_board(period, BoardSpec("individual"))
        row = next((r for r in board if r.key == user_id), None)
        history.append((period, row.position if row else None))
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
