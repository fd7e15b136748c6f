"""The points ledger: the one place where points are written.

Every point in the product goes through `award` (one event, as a web request does) or
`award_batch` (many, as an importer does). Entries are append-only; corrections are
reversal entries. Rollups (per user, month and blade) and balances are maintained in the
same transaction as the entries, with upserts, so that concurrent writers stay consistent.
Functions flush but never commit: the caller owns the unit of work.
"""
from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from zoneinfo import ZoneInfo

from flask import current_app
from sqlalchemy import and_, case, exists, func, select
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.orm import aliased

from app.centre.periods import centre_tz, local_time, period_of
from app.database import db
from app.errors import DomainError
from app.i18n import N_
from app.incentives import rules
from app.incentives.models import (
    ClosedPeriod,
    Level,
    PointBalance,
    PointEntry,
    PointRollup,
    Rule,
)
from app.incentives.rules import EntryStatus, Event, RuleTerms
from app.notifications.services import notify


class LedgerError(DomainError):
    """Points that cannot be written as asked."""


@dataclass(frozen=True)
class Award:
    """One event that may earn points. `idempotency_key` makes repeats harmless."""

    event: str
    user_id: int
    idempotency_key: str
    source_type: str
    source_id: str | None = None
    occurred_at: datetime | None = None      # default: now
    awarded_by_id: int | None = None
    attempt: int | None = None               # for diminishing points on later attempts
    score: float | None = None               # for score bands (QA, mystery shopper)
    points: int | None = None                # manual awards: the granter's value (bounded)
    comment: str | None = None
    details: dict = field(default_factory=dict)
    pending: bool = False                    # waits for verification before it counts


@dataclass
class AwardResult:
    entry: PointEntry | None
    created: bool
    # why nothing was written: "duplicate", "no_rule", "rule_off", "no_points",
    # "daily_cap", "monthly_cap", "negative_cap"
    skipped: str | None = None


@dataclass
class BatchResult:
    created: int = 0
    duplicates: int = 0
    skipped: dict = field(default_factory=lambda: defaultdict(int))


# --- helpers ------------------------------------------------------------------------------

def _insert(model):
    dialect = db.session.get_bind().dialect.name
    return (postgresql.insert if dialect == "postgresql" else sqlite.insert)(model)


def terms_of(rule: Rule) -> RuleTerms:
    return RuleTerms(points=rule.points, blade=rules.Blade(rule.blade), is_active=rule.is_active,
                     daily_cap=rule.daily_cap, monthly_cap=rule.monthly_cap,
                     params=dict(rule.params or {}))


def closed_periods() -> set[str]:
    return set(db.session.scalars(select(ClosedPeriod.period)))


def effective_period(occurred_at: datetime, now: datetime, tz: ZoneInfo,
                     closed: set[str]) -> str:
    """The month an entry counts for: that of the event, unless that month is closed — then
    the current month (corrections never land in a closed month)."""
    period = period_of(occurred_at, tz)
    return period_of(now, tz) if period in closed else period


def _rollup_upsert():
    stmt = _insert(PointRollup)
    excluded = stmt.excluded
    return stmt.on_conflict_do_update(
        index_elements=[PointRollup.user_id, PointRollup.period, PointRollup.blade],
        set_={
            "points": PointRollup.points + excluded.points,
            "positive": PointRollup.positive + excluded.positive,
            "negative": PointRollup.negative + excluded.negative,
            "entries": PointRollup.entries + excluded.entries,
            "last_changed_at": case(
                (excluded.last_changed_at > PointRollup.last_changed_at,
                 excluded.last_changed_at),
                else_=PointRollup.last_changed_at),
        },
    )


def _balance_upsert():
    stmt = _insert(PointBalance)
    excluded = stmt.excluded
    return stmt.on_conflict_do_update(
        index_elements=[PointBalance.user_id],
        set_={
            "earned": PointBalance.earned + excluded.earned,
            # a deduction or reversal never takes the spendable balance below zero
            "balance": case((PointBalance.balance + excluded.earned < 0, 0),
                            else_=PointBalance.balance + excluded.earned),
        },
    )


def _apply(changes: list[tuple[int, str, str, int, datetime]]) -> None:
    """Add confirmed points to the rollups and balances: (user, period, blade, points, at)."""
    if not changes:
        return
    rollups: dict[tuple, dict] = {}
    balances: dict[int, int] = defaultdict(int)
    for user_id, period, blade, points, at in changes:
        row = rollups.setdefault((user_id, period, blade), {
            "user_id": user_id, "period": period, "blade": blade, "points": 0,
            "positive": 0, "negative": 0, "entries": 0, "last_changed_at": at})
        row["points"] += points
        row["positive" if points > 0 else "negative"] += points
        row["entries"] += 1
        row["last_changed_at"] = max(row["last_changed_at"], at)
        balances[user_id] += points
    db.session.execute(_rollup_upsert(), list(rollups.values()))
    db.session.execute(_balance_upsert(), [
        {"user_id": user_id, "earned": delta, "spent": 0, "balance": max(delta, 0)}
        for user_id, delta in balances.items()])


def earned_total(user_id: int) -> int:
    return db.session.scalar(select(PointBalance.earned).where(PointBalance.user_id == user_id)) or 0


def _level_thresholds() -> list[tuple[int, Level]]:
    return [(level.min_points, level) for level in
            db.session.scalars(select(Level).order_by(Level.min_points))]


def _notify_level_ups(before: dict[int, int], now: datetime) -> None:
    levels = _level_thresholds()
    if not levels:
        return
    thresholds = [t for t, _level in levels]
    after = dict(db.session.execute(
        select(PointBalance.user_id, PointBalance.earned)
        .where(PointBalance.user_id.in_(list(before)))).all())
    for user_id, old in before.items():
        new = after.get(user_id, 0)
        if new <= old:
            continue
        old_i, new_i = rules.level_index(thresholds, old), rules.level_index(thresholds, new)
        if new_i > old_i and new >= thresholds[new_i]:
            level = levels[new_i][1]
            notify(user_id, N_("You reached the level %(level_en)s (%(level_zh)s)."),
                   params={"level_en": level.name_en, "level_zh": level.name_zh},
                   link="/windmill/", now=now)


def _earned_before(user_ids) -> dict[int, int]:
    ids = list(set(user_ids))
    found = dict(db.session.execute(
        select(PointBalance.user_id, PointBalance.earned).where(PointBalance.user_id.in_(ids))
    ).all()) if ids else {}
    return {user_id: found.get(user_id, 0) for user_id in ids}


def _counted(rule_id: int, user_id: int, *, period: str | None = None,
             since: datetime | None = None, until: datetime | None = None) -> int:
    """Entries of the rule for the user that count towards its caps (not reversed)."""
    query = select(func.count()).select_from(PointEntry).where(
        PointEntry.rule_id == rule_id, PointEntry.user_id == user_id,
        PointEntry.reverses_id.is_(None), PointEntry.status != EntryStatus.REVERSED.value)
    if period is not None:
        query = query.where(PointEntry.period == period)
    if since is not None:
        query = query.where(PointEntry.occurred_at >= since, PointEntry.occurred_at < until)
    return db.session.scalar(query) or 0


def _day_bounds(moment: datetime, tz: ZoneInfo) -> tuple[datetime, datetime]:
    local = local_time(moment, tz)
    start = local.replace(hour=0, minute=0, second=0, microsecond=0)
    return start, start + timedelta(days=1)


def month_totals(user_id: int, period: str) -> tuple[int, int]:
    """(positive, negative) confirmed points of the user in the month, all blades."""
    row = db.session.execute(
        select(func.coalesce(func.sum(PointRollup.positive), 0),
               func.coalesce(func.sum(PointRollup.negative), 0))
        .where(PointRollup.user_id == user_id, PointRollup.period == period)).one()
    return int(row[0]), int(-row[1])


# --- awarding -----------------------------------------------------------------------------

def _points(award: Award, rule: Rule, terms: RuleTerms) -> int:
    if award.points is not None:
        maximum = int(terms.params.get("max_points", terms.points))
        if not 1 <= award.points <= maximum:
            raise LedgerError(N_("The points must be between 1 and %(max)s."), max=maximum)
        return award.points
    return rules.points_for(terms, attempt=award.attempt, score=award.score)


def award(award: Award, *, now: datetime) -> AwardResult:
    """Record the points one event earns under the current version of its rule.

    Idempotent: the same `idempotency_key` twice yields one entry, also under concurrency
    (the database's unique key decides). Caps and the negative bound are applied here.
    """
    existing = db.session.scalar(
        select(PointEntry).where(PointEntry.idempotency_key == award.idempotency_key))
    if existing is not None:
        return AwardResult(existing, False, "duplicate")
    rule = db.session.scalar(select(Rule).where(Rule.event == award.event))
    if rule is None:
        return AwardResult(None, False, "no_rule")
    terms = terms_of(rule)
    if not terms.is_active:
        return AwardResult(None, False, "rule_off")
    points = _points(award, rule, terms)
    if points == 0:
        return AwardResult(None, False, "no_points")
    tz = centre_tz()
    occurred_at = award.occurred_at or now
    period = effective_period(occurred_at, now, tz, closed_periods())
    if terms.monthly_cap and not rules.within_cap(
            terms.monthly_cap, _counted(rule.id, award.user_id, period=period)):
        return AwardResult(None, False, "monthly_cap")
    if terms.daily_cap:
        start, end = _day_bounds(occurred_at, tz)
        if not rules.within_cap(terms.daily_cap, _counted(rule.id, award.user_id, since=start,
                                                          until=end)):
            return AwardResult(None, False, "daily_cap")
    if points < 0:
        positive, negative = month_totals(award.user_id, period)
        points = rules.cap_negative(points, positive, negative,
                                    current_app.config["NEGATIVE_SHARE_PERCENT"])
        if points == 0:
            return AwardResult(None, False, "negative_cap")
    status = EntryStatus.PENDING if award.pending else EntryStatus.CONFIRMED
    values = {
        "user_id": award.user_id, "points": points, "blade": terms.blade.value,
        "event": award.event, "rule_id": rule.id, "rule_version": rule.version,
        "source_type": award.source_type, "source_id": award.source_id,
        "idempotency_key": award.idempotency_key, "awarded_by_id": award.awarded_by_id,
        "occurred_at": occurred_at, "recorded_at": now, "period": period,
        "status": status.value, "comment": award.comment,
        "details": _details(award),
    }
    before = _earned_before([award.user_id])
    inserted = db.session.execute(
        _insert(PointEntry).values(**values)
        .on_conflict_do_nothing(index_elements=[PointEntry.idempotency_key])
        .returning(PointEntry.id)).scalar()
    if inserted is None:   # another transaction wrote the same key first
        entry = db.session.scalar(
            select(PointEntry).where(PointEntry.idempotency_key == award.idempotency_key))
        return AwardResult(entry, False, "duplicate")
    if status is EntryStatus.CONFIRMED:
        _apply([(award.user_id, period, terms.blade.value, points, occurred_at)])
        _notify_level_ups(before, now)
    db.session.flush()
    return AwardResult(db.session.get(PointEntry, inserted), True)


def _details(award: Award) -> dict:
    details = dict(award.details)
    if award.attempt is not None:
        details["attempt"] = award.attempt
    if award.score is not None:
        details["score"] = award.score
    return details


def award_batch(awards: list[Award], *, now: datetime, chunk: int = 5000) -> BatchResult:
    """Record many events at once (importers, replays, the benchmark).

    The same rules as `award`: rule versions, caps, idempotency, rollups and balances in the
    same transaction. Negative events go one by one through `award` (they are rare and each
    needs the month's totals).
    """
    result = BatchResult()
    if not awards:
        return result
    tz = centre_tz()
    closed = closed_periods()
    rule_by_event = {r.event: r for r in db.session.scalars(
        select(Rule).where(Rule.event.in_({a.event for a in awards})))}
    terms_by_event = {event: terms_of(rule) for event, rule in rule_by_event.items()}
    before = _earned_before(a.user_id for a in awards)
    monthly_used: dict[tuple, int] = {}
    daily_used: dict[tuple, int] = {}
    rows = []
    seen_keys: set[str] = set()
    for item in awards:
        if item.idempotency_key in seen_keys:
            result.duplicates += 1
            continue
        seen_keys.add(item.idempotency_key)
        rule = rule_by_event.get(item.event)
        if rule is None:
            result.skipped["no_rule"] += 1
            continue
        terms = terms_by_event[item.event]
        if not terms.is_active:
            result.skipped["rule_off"] += 1
            continue
        if item.event in rules.NEGATIVE_EVENTS:
            single = award(item, now=now)
            if single.created:
                result.created += 1
            elif single.skipped == "duplicate":
                result.duplicates += 1
            else:
                result.skipped[single.skipped] += 1
            continue
        points = _points(item, rule, terms)
        if points == 0:
            result.skipped["no_points"] += 1
            continue
        occurred_at = item.occurred_at or now
        period = effective_period(occurred_at, now, tz, closed)
        if terms.monthly_cap:
            key = (rule.id, item.user_id, period)
            if key not in monthly_used:
                monthly_used[key] = _counted(rule.id, item.user_id, period=period)
            if not rules.within_cap(terms.monthly_cap, monthly_used[key]):
                result.skipped["monthly_cap"] += 1
                continue
            monthly_used[key] += 1
        if terms.daily_cap:
            start, end = _day_bounds(occurred_at, tz)
            key = (rule.id, item.user_id, start)
            if key not in daily_used:
                daily_used[key] = _counted(rule.id, item.user_id, since=start, until=end)
            if not rules.within_cap(terms.daily_cap, daily_used[key]):
                result.skipped["daily_cap"] += 1
                continue
            daily_used[key] += 1
        rows.append({
            "user_id": item.user_id, "points": points, "blade": terms.blade.value,
            "event": item.event, "rule_id": rule.id, "rule_version": rule.version,
            "source_type": item.source_type, "source_id": item.source_id,
            "idempotency_key": item.idempotency_key, "awarded_by_id": item.awarded_by_id,
            "occurred_at": occurred_at, "recorded_at": now, "period": period,
            "status": (EntryStatus.PENDING if item.pending else EntryStatus.CONFIRMED).value,
            "comment": item.comment, "details": _details(item),
        })
    statement = (_insert(PointEntry)
                 .on_conflict_do_nothing(index_elements=[PointEntry.idempotency_key])
                 .returning(PointEntry.user_id, PointEntry.period, PointEntry.blade,
                            PointEntry.points, PointEntry.occurred_at, PointEntry.status))
    for start in range(0, len(rows), chunk):
        part = rows[start:start + chunk]
        written = db.session.execute(statement, part).all()
        result.created += len(written)
        result.duplicates += len(part) - len(written)
        _apply([(r.user_id, r.period, r.blade, r.points, r.occurred_at) for r in written
                if r.status == EntryStatus.CONFIRMED.value])
    _notify_level_ups(before, now)
    db.session.flush()
    return result


# --- confirming, rejecting and reversing -------------------------------------------------

def _entry(entry_id: int) -> PointEntry:
    entry = db.session.get(PointEntry, entry_id)
    if entry is None:
        raise LedgerError(N_("No such point entry."))
    return entry


def confirm_entry(entry_id: int, *, now: datetime) -> PointEntry:
    """A pending entry is verified (e.g. customer praise checked) and starts to count."""
    entry = _entry(entry_id)
    if entry.status != EntryStatus.PENDING.value:
        raise LedgerError(N_("Only a pending entry can be confirmed."))
    before = _earned_before([entry.user_id])
    entry.status = EntryStatus.CONFIRMED.value
    db.session.flush()
    _apply([(entry.user_id, entry.period, entry.blade, entry.points, now)])
    _notify_level_ups(before, now)
    db.session.flush()
    return entry


def reverse_entry(entry_id: int, *, reason: str, actor_id: int | None, now: datetime,
                  idempotency_key: str | None = None) -> PointEntry | None:
    """Cancel an entry. A confirmed one gets a reversal entry (minus its points) in its own
    month, or in the current month when its own is closed; a pending one is simply rejected
    (it never counted). Returns the reversal entry, if one was written."""
    entry = _entry(entry_id)
    if not (reason or "").strip():
        raise LedgerError(N_("Give a reason for the reversal."))
    if entry.reverses_id is not None:
        raise LedgerError(N_("A reversal cannot itself be reversed; award the points again."))
    if entry.status == EntryStatus.REVERSED.value:
        raise LedgerError(N_("This entry is already reversed."))
    if entry.status == EntryStatus.PENDING.value:
        entry.status = EntryStatus.REVERSED.value
        db.session.flush()
        return None
    tz = centre_tz()
    period = entry.period if entry.period not in closed_periods() else period_of(now, tz)
    reversal = PointEntry(
        user_id=entry.user_id, points=-entry.points, blade=entry.blade, event=entry.event,
        rule_id=entry.rule_id, rule_version=entry.rule_version, source_type="reversal",
        source_id=str(entry.id), idempotency_key=idempotency_key or f"reversal:{entry.id}",
        awarded_by_id=actor_id, occurred_at=now, recorded_at=now, period=period,
        status=EntryStatus.CONFIRMED.value, reverses_id=entry.id, comment=reason.strip(),
        details={"reverses": entry.id},
    )
    db.session.add(reversal)
    entry.status = EntryStatus.REVERSED.value
    db.session.flush()
    _apply([(entry.user_id, period, entry.blade, -entry.points, now)])
    db.session.flush()
    return reversal


# --- checking ----------------------------------------------------------------------------

def counted_entries():
    """The entries that count on the boards: confirmed ones, and reversed ones that were
    confirmed before (their reversal entry takes them back out)."""
    reversal = aliased(PointEntry)
    was_confirmed = exists().where(reversal.reverses_id == PointEntry.id)
    return (PointEntry.status == EntryStatus.CONFIRMED.value) | and_(
        PointEntry.status == EntryStatus.REVERSED.value, was_confirmed)


def verify_rollups() -> list[dict]:
    """Recompute every rollup and balance from the ledger; return the differences."""
    expected = {
        (r.user_id, r.period, r.blade): r.total
        for r in db.session.execute(
            select(PointEntry.user_id, PointEntry.period, PointEntry.blade,
                   func.sum(PointEntry.points).label("total"))
            .where(counted_entries())
            .group_by(PointEntry.user_id, PointEntry.period, PointEntry.blade))
    }
    actual = {(r.user_id, r.period, r.blade): r.points
              for r in db.session.scalars(select(PointRollup))}
    differences = [
        {"user_id": key[0], "period": key[1], "blade": key[2],
         "ledger": expected.get(key, 0), "rollup": actual.get(key, 0)}
        for key in sorted(set(expected) | set(actual))
        if expected.get(key, 0) != actual.get(key, 0)
    ]
    earned = defaultdict(int)
    for (user_id, _period, _blade), total in expected.items():
        earned[user_id] += total
    for balance in db.session.scalars(select(PointBalance)):
        if balance.earned != earned.get(balance.user_id, 0):
            differences.append({"user_id": balance.user_id, "period": "all", "blade": "all",
                                "ledger": earned.get(balance.user_id, 0),
                                "rollup": balance.earned})
    return differences


__all__ = ["Award", "AwardResult", "BatchResult", "Event", "LedgerError", "award",
           "award_batch", "confirm_entry", "reverse_entry", "verify_rollups"]
