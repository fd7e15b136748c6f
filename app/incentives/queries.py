"""What the windmill pages show: read from the rollups and balances, never summed from the
whole ledger; the entry list pages through one person's entries."""
from __future__ import annotations

from dataclasses import dataclass

from flask_babel import lazy_gettext as _l
from sqlalchemy import func, select

from app.auth.models import User
from app.centre.periods import previous_period
from app.database import db
from app.incentives import rules
from app.incentives.models import (
    BadgeAward,
    Level,
    PointBalance,
    PointEntry,
    PointRollup,
    Rule,
)
from app.incentives.rules import Blade

BLADE_LABELS = {
    Blade.HONOUR: _l("Honour"),
    Blade.MATERIAL: _l("Material"),
    Blade.GOAL: _l("Goal"),
    Blade.COMPETITION: _l("Competition"),
    Blade.GROWTH: _l("Growth"),
    Blade.CAREER: _l("Career"),
    Blade.RECOGNITION: _l("Recognition and care"),
    Blade.PARTICIPATION: _l("Participation"),
}

SOURCE_LABELS = {
    "quiz_attempt": _l("Quiz attempt"),
    "scenario_stage": _l("Scenario stage"),
    "sign_off": _l("Mentor sign-off"),
    "qa_evaluation": _l("QA evaluation"),
    "praise": _l("Customer praise"),
    "mystery_shopper": _l("Mystery shopper"),
    "service_star": _l("Service Star"),
    "service_model": _l("Service Model"),
    "kbi": _l("KBI checklist"),
    "suggestion": _l("Improvement suggestion"),
    "promotion": _l("Promotion"),
    "badge_award": _l("Badge"),
    "manual": _l("Given by hand"),
    "reversal": _l("Correction"),
    "violation": _l("Violation"),
}

STATUS_LABELS = {
    "pending": _l("Waiting for verification"),
    "confirmed": _l("Counted"),
    "reversed": _l("Reversed"),
}


def localized(obj, field: str, locale: str) -> str:
    """`obj.<field>_zh` for Chinese, `obj.<field>_en` otherwise."""
    return getattr(obj, f"{field}_zh" if locale.startswith("zh") else f"{field}_en")


@dataclass
class LevelStanding:
    current: Level | None
    following: Level | None
    missing: int | None          # points still needed for the next level
    progress: float              # 0..1 towards the next level


def list_levels() -> list[Level]:
    """The level ladder, lowest first."""
    return list(db.session.scalars(select(Level).order_by(Level.min_points)))


def level_standing(earned: int, levels: list[Level] | None = None) -> LevelStanding:
    """Where `earned` points stand on the ladder. Pass `levels` when asking for many people,
    so that the ladder is read once."""
    levels = list_levels() if levels is None else levels
    if not levels:
        return LevelStanding(None, None, None, 0.0)
    thresholds = [level.min_points for level in levels]
    index = rules.level_index(thresholds, earned)
    missing, progress = rules.progress_to_next(thresholds, earned)
    following = levels[index + 1] if index + 1 < len(levels) else None
    return LevelStanding(levels[index], following, missing, progress)


def blades_of(user_ids: list[int], period: str) -> dict[str, int]:
    """Points per blade in the month for these people, every blade present."""
    totals = {blade.value: 0 for blade in Blade}
    if user_ids:
        for blade, points in db.session.execute(
                select(PointRollup.blade, func.sum(PointRollup.points))
                .where(PointRollup.user_id.in_(user_ids), PointRollup.period == period)
                .group_by(PointRollup.blade)):
            totals[blade] = int(points)
    return totals


def trend_of(user_ids: list[int], period: str, months: int = 12) -> list[tuple[str, int]]:
    """Points per month over the last `months` months up to `period`, oldest first."""
    periods = [period]
    for _ in range(months - 1):
        periods.append(previous_period(periods[-1]))
    found = dict(db.session.execute(
        select(PointRollup.period, func.sum(PointRollup.points))
        .where(PointRollup.user_id.in_(user_ids), PointRollup.period.in_(periods))
        .group_by(PointRollup.period)).all()) if user_ids else {}
    return [(p, int(found.get(p, 0))) for p in reversed(periods)]


def windmill_of(user_id: int, period: str) -> dict:
    """Everything "My windmill" shows for one person and month."""
    balance = db.session.get(PointBalance, user_id)
    earned = balance.earned if balance else 0
    blades = blades_of([user_id], period)
    badges = list(db.session.scalars(
        select(BadgeAward).where(BadgeAward.user_id == user_id, BadgeAward.revoked_at.is_(None))
        .order_by(BadgeAward.awarded_at.desc()).limit(12)))
    return {
        "month_total": sum(blades.values()),
        "earned": earned,
        "balance": balance.balance if balance else 0,
        "spent": balance.spent if balance else 0,
        "blades": blades,
        "trend": trend_of([user_id], period),
        "level": level_standing(earned),
        "badges": badges,
    }


def entries_of(user_id: int, period: str | None = None):
    """A select of one person's entries, newest first (for pagination)."""
    query = (select(PointEntry).where(PointEntry.user_id == user_id)
             .order_by(PointEntry.occurred_at.desc(), PointEntry.id.desc()))
    if period:
        query = query.where(PointEntry.period == period)
    return query


def team_standings(members: list[User], period: str) -> list[dict]:
    """Each member's points this month and all time, best first."""
    ids = [m.id for m in members]
    month = dict(db.session.execute(
        select(PointRollup.user_id, func.sum(PointRollup.points))
        .where(PointRollup.user_id.in_(ids), PointRollup.period == period)
        .group_by(PointRollup.user_id)).all()) if ids else {}
    earned = dict(db.session.execute(
        select(PointBalance.user_id, PointBalance.earned)
        .where(PointBalance.user_id.in_(ids))).all()) if ids else {}
    rows = [{"user": m, "month": int(month.get(m.id, 0)), "earned": int(earned.get(m.id, 0))}
            for m in members]
    return sorted(rows, key=lambda r: (-r["month"], -r["earned"], r["user"].employee_number))


def list_rules() -> list[Rule]:
    return list(db.session.scalars(select(Rule).order_by(Rule.blade, Rule.event)))
