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
from datetime import UTC, datetime, timedelta
from operator import itemgetter
from zoneinfo import ZoneInfo

from flask import current_app
from sqlalchemy import and_, bindparam, event, exists, func, select, update
from sqlalchemy.orm import Session, aliased, make_transient_to_detached
from sqlalchemy.orm.attributes import set_committed_value

from app.centre.periods import (
    centre_tz,
    local_time,
    month_first_day,
    month_last_day,
    period_of,
    previous_period,
)
from app.database import Converted, collector_paused, db, insert_columns, insert_values
from app.errors import DomainError
from app.extensions import cache
from app.i18n import N_
from app.incentives import rules, standings
from app.incentives.models import (
    ClosedPeriod,
    Level,
    PointBalance,
    PointEntry,
    PointMonthTotal,
    PointRollup,
    Rule,
)
from app.incentives.rules import EntryStatus, Event, RuleTerms
from app.notifications.services import notify, notify_many


class LedgerError(DomainError):
    """Points that cannot be written as asked."""


@dataclass(slots=True)   # not frozen: an importer makes thousands, and frozen ones cost 3×
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


# --- writing many rows fast ----------------------------------------------------------------
# The ledger's writes are INSERT … ON CONFLICT statements, on SQLite and PostgreSQL alike.
# SQLAlchemy neither caches its dialect-specific ON CONFLICT constructs (each call would build
# and compile them again) nor is cheap per row in a bulk INSERT … RETURNING: for the ledger
# that costs more than the database's own work. So these statements go to the driver as SQL,
# many rows per statement, after the columns' own type conversions (UTC times, JSON).

_ENTRY_ON_CONFLICT = "ON CONFLICT (idempotency_key) DO NOTHING"
_ROLLUP_ON_CONFLICT = """ON CONFLICT (user_id, period, blade) DO UPDATE SET
    points = point_rollups.points + excluded.points,
    positive = point_rollups.positive + excluded.positive,
    negative = point_rollups.negative + excluded.negative,
    entries = point_rollups.entries + excluded.entries,
    last_changed_at = CASE WHEN excluded.last_changed_at > point_rollups.last_changed_at
                           THEN excluded.last_changed_at ELSE point_rollups.last_changed_at END,
    team_id = excluded.team_id, ranked = excluded.ranked"""
_TOTAL_ON_CONFLICT = """ON CONFLICT (user_id, period) DO UPDATE SET
    points = point_month_totals.points + excluded.points,
    reached_at = CASE WHEN excluded.reached_at > point_month_totals.reached_at
                      THEN excluded.reached_at ELSE point_month_totals.reached_at END,
    team_id = excluded.team_id, ranked = excluded.ranked"""
# a deduction or reversal never takes the spendable balance below zero
_BALANCE_ON_CONFLICT = """ON CONFLICT (user_id) DO UPDATE SET
    earned = point_balances.earned + excluded.earned,
    balance = CASE WHEN point_balances.balance + excluded.earned < 0 THEN 0
                   ELSE point_balances.balance + excluded.earned END"""


def _insert_rows(table, rows: list[dict], *, on_conflict: str,
                 returning: str | None = None) -> list:
    """`insert_values` for rows given as dicts with the same keys."""
    if not rows:
        return []
    names = tuple(rows[0])
    return insert_values(table, names, [tuple(row[name] for name in names) for row in rows],
                          on_conflict=on_conflict, returning=returning)


_ROLLUP_COLUMNS = ("user_id", "period", "blade", "points", "positive", "negative", "entries",
                   "last_changed_at", "team_id", "ranked")
_TOTAL_COLUMNS = ("user_id", "period", "points", "reached_at", "team_id", "ranked")
_BALANCE_COLUMNS = ("user_id", "earned", "spent", "balance")


def _rollup_rows(changes, people: dict[int, tuple]) -> tuple[list[tuple], list[tuple],
                                                            dict[int, int]]:
    """The rollups (user, month, blade), the month totals (user, month) and the balances
    (user) that the changes add up to, as rows of `_ROLLUP_COLUMNS` and `_TOTAL_COLUMNS`;
    with each person's board columns (`standings`: `people` gives their team, role and
    dates)."""
    rollups: dict[tuple, list] = {}   # → [points, positive, negative, entries, at]
    totals: dict[tuple, list] = {}    # → [points, at]
    balances: dict[int, int] = defaultdict(int)
    for user_id, period, blade, points, at in changes:
        key = (user_id, period, blade)
        row = rollups.get(key)
        if row is None:
            row = rollups[key] = [0, 0, 0, 0, at]
        row[0] += points
        row[1 if points > 0 else 2] += points
        row[3] += 1
        if at > row[4]:
            row[4] = at
        total = totals.get(key[:2])
        if total is None:
            total = totals[key[:2]] = [0, at]
        total[0] += points
        if at > total[1]:
            total[1] = at
        balances[user_id] += points
    columns = {}   # (user, month) → (team, ranked)
    months = {period: (month_first_day(period), month_last_day(period))
              for period in {period for _user, period in totals}}
    for user_id, period in totals:
        team_id, is_agent, hired, left = people[user_id]
        first, last = months[period]
        columns[user_id, period] = (team_id, standings.is_ranked_between(
            is_agent, hired, left, first, last))
    # in key order: concurrent writers then lock the rows in the same order (no deadlock)
    return ([(*key, *rollups[key], *columns[key[:2]]) for key in sorted(rollups)],
            [(*key, *totals[key], *columns[key]) for key in sorted(totals)], balances)


def _apply(changes: list[tuple[int, str, str, int, datetime]],
           converted: dict | None = None) -> dict[int, tuple[int, int]]:
    """Add confirmed points to the rollups, the month totals (the teams' too) and the
    balances: (user, period, blade, points, at). Returns each user's earned total before and
    after. `converted`: as for `insert_values` (a batch's times are its entries' times)."""
    if not changes:
        return {}
    db.session.info[_POINTS_CHANGED] = True
    people = standings.people(db.session.connection(), {change[0] for change in changes})
    rollups, totals, balances = _rollup_rows(changes, people)
    converted = {} if converted is None else converted
    insert_values(PointRollup.__table__, _ROLLUP_COLUMNS, rollups,
                   on_conflict=_ROLLUP_ON_CONFLICT, converted=converted)
    insert_values(PointMonthTotal.__table__, _TOTAL_COLUMNS, totals,
                   on_conflict=_TOTAL_ON_CONFLICT, converted=converted)
    standings.add_team_points(db.session.connection(), standings.team_rows(rollups, totals),
                              converted=converted)
    after = insert_values(PointBalance.__table__, _BALANCE_COLUMNS, [
        (user_id, delta, 0, max(delta, 0)) for user_id, delta in sorted(balances.items())],
        on_conflict=_BALANCE_ON_CONFLICT, returning="user_id, earned")
    return {user_id: (earned - balances[user_id], earned) for user_id, earned in after}


# --- what boards cache: a version that moves when points change --------------------------

POINTS_VERSION_KEY = "points-version"
_POINTS_CHANGED = "points_changed"


def points_version() -> int:
    """Changes after every commit that changed points: boards put it in their cache keys."""
    return int(cache.get(POINTS_VERSION_KEY) or 0)


@event.listens_for(Session, "after_commit")
def _points_committed(session) -> None:
    """Move the version only once the points are committed, so that no reader can cache a
    board of uncommitted points under the new version."""
    if session.info.pop(_POINTS_CHANGED, False):
        cache.cache.inc(POINTS_VERSION_KEY)  # the backend: atomic in Redis


@event.listens_for(Session, "after_rollback")
def _points_rolled_back(session) -> None:
    session.info.pop(_POINTS_CHANGED, None)


def close_period(period: str, *, actor_id: int | None, now: datetime) -> ClosedPeriod:
    """Close a month: from now on no entry lands in it (corrections go to an open month)."""
    if db.session.get(ClosedPeriod, period) is not None:
        raise LedgerError(N_("The month %(period)s is already closed."), period=period)
    closed = ClosedPeriod(period=period, closed_at=now, closed_by_id=actor_id)
    db.session.add(closed)
    db.session.flush()
    return closed


def earned_total(user_id: int) -> int:
    return db.session.scalar(
        select(PointBalance.earned).where(PointBalance.user_id == user_id)) or 0


_LEVELS = select(Level.min_points, Level.name_en, Level.name_zh).order_by(Level.min_points)


def _notify_level_ups(totals: dict[int, tuple[int, int]], now: datetime) -> None:
    """Tell each user who reached a new level: `totals` holds their earned points before and
    after (user → (old, new))."""
    if not any(new > old for old, new in totals.values()):
        return
    levels = db.session.execute(_LEVELS).all()
    if not levels:
        return
    thresholds = [level.min_points for level in levels]
    reached: list[tuple[int, dict]] = []   # (user, the level's names), in the users' order
    for user_id, (old, new) in totals.items():
        if new <= old:
            continue
        old_i, new_i = rules.level_index(thresholds, old), rules.level_index(thresholds, new)
        if new_i > old_i and new >= thresholds[new_i]:
            level = levels[new_i]
            reached.append((user_id, {"level_en": level.name_en, "level_zh": level.name_zh}))
    if len(reached) == 1:
        notify(reached[0][0], _LEVEL_MESSAGE, params=reached[0][1], link="/windmill/", now=now)
    elif reached:   # a batch: one INSERT, not an ORM object each
        notify_many([user_id for user_id, _names in reached], _LEVEL_MESSAGE,
                    params=[names for _user_id, names in reached], link="/windmill/", now=now)


_LEVEL_MESSAGE = N_("You reached the level %(level_en)s (%(level_zh)s).")


def not_a_reversal():
    """`reverses_id IS NULL`, written so that SQLite does not answer it from the unique index
    on `reverses_id`: its planner takes `IS NULL` there for a one-row look-up and would scan
    every entry that is not a reversal — the whole ledger — instead of using the index on
    (rule, user, period)."""
    return func.coalesce(PointEntry.reverses_id, 0) == 0


def _counted(rule_id: int, user_id: int, *, period: str | None = None,
             since: datetime | None = None, until: datetime | None = None) -> int:
    """Entries of the rule for the user that count towards its caps (not reversed)."""
    query = select(func.count()).select_from(PointEntry).where(
        PointEntry.rule_id == rule_id, PointEntry.user_id == user_id,
        not_a_reversal(), PointEntry.status != EntryStatus.REVERSED.value)
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
    try:
        result = _award_new(award, now=now)
    except LedgerError:
        existing = _entry_with_key(award.idempotency_key)
        if existing is not None:
            return AwardResult(existing, False, "duplicate")
        raise
    if result.entry is None:
        # a repeat is a duplicate whatever the rule, the caps or the points say now
        existing = _entry_with_key(award.idempotency_key)
        if existing is not None:
            return AwardResult(existing, False, "duplicate")
    return result


def _entry_with_key(key: str) -> PointEntry | None:
    return db.session.scalar(select(PointEntry).where(PointEntry.idempotency_key == key))


# the rule's current terms, and whether the month of the event is closed
_RULE_OF_EVENT = (
    select(Rule.id, Rule.version, Rule.points, Rule.blade, Rule.is_active, Rule.daily_cap,
           Rule.monthly_cap, Rule.params,
           exists().where(ClosedPeriod.period == bindparam("period")).label("is_closed"))
    .where(Rule.event == bindparam("event")))


def _award_new(award: Award, *, now: datetime) -> AwardResult:
    """`award` for a key that is (most likely) new. No look-up of the key first: the INSERT …
    ON CONFLICT DO NOTHING decides, and `award` looks for an earlier entry only when nothing
    was written. Nothing is written before that INSERT."""
    tz = centre_tz()
    occurred_at = award.occurred_at or now
    own_period = period_of(occurred_at, tz)
    rule = db.session.execute(_RULE_OF_EVENT, {"event": award.event,
                                               "period": own_period}).first()
    if rule is None:
        return AwardResult(None, False, "no_rule")
    terms = terms_of(rule)
    if not terms.is_active:
        return AwardResult(None, False, "rule_off")
    points = _points(award, rule, terms)
    if points == 0:
        return AwardResult(None, False, "no_points")
    period = period_of(now, tz) if rule.is_closed else own_period
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
        "status": status.value, "reverses_id": None, "comment": award.comment,
        "details": _details(award),
    }
    inserted = _insert_rows(PointEntry.__table__, [values], on_conflict=_ENTRY_ON_CONFLICT,
                            returning="id")
    if not inserted:   # the key was there already, or another transaction wrote it first
        return AwardResult(_entry_with_key(award.idempotency_key), False, "duplicate")
    if status is EntryStatus.CONFIRMED:
        totals = _apply([(award.user_id, period, terms.blade.value, points, occurred_at)])
        _notify_level_ups(totals, now)
    return AwardResult(_as_loaded(PointEntry(id=inserted[0][0], **values)), True)


def _as_loaded(entry: PointEntry) -> PointEntry:
    """The entry just inserted, in the session as if loaded from the database, without a
    SELECT to read back what we wrote (times in UTC, as the database gives them)."""
    entry.occurred_at = entry.occurred_at.astimezone(UTC)
    entry.recorded_at = entry.recorded_at.astimezone(UTC)
    make_transient_to_detached(entry)
    db.session.add(entry)
    return entry


def _details(award: Award) -> dict:
    details = dict(award.details)
    if award.attempt is not None:
        details["attempt"] = award.attempt
    if award.score is not None:
        details["score"] = award.score
    return details


# a batch's entries, all recorded at the same time (`recorded_at`, given once as a constant)
_ENTRY_COLUMNS = ("user_id", "points", "blade", "event", "rule_id", "rule_version",
                  "source_type", "source_id", "idempotency_key", "awarded_by_id", "occurred_at",
                  "period", "status", "comment", "details")


@collector_paused()
def award_batch(awards: list[Award], *, now: datetime, chunk: int = 5000) -> BatchResult:
    """Record many events at once (importers, replays, the benchmark).

    The same rules as `award`: rule versions, caps, idempotency, rollups, month totals and
    balances in the same transaction. Negative events go one by one through `award` (they are
    rare and each needs the month's totals).
    """
    result = BatchResult()
    if not awards:
        return result
    tz = centre_tz()
    closed = closed_periods()
    current = period_of(now, tz)
    rule_by_event = {r.event: r for r in db.session.scalars(
        select(Rule).where(Rule.event.in_({a.event for a in awards})))}
    # per event: its rule's (id, version, blade) as plain values, and its terms
    rule_of = {event: ((rule.id, rule.version, rule.blade), terms_of(rule))
               for event, rule in rule_by_event.items()}
    deducted: dict[int, int] = defaultdict(int)   # confirmed negative points, per user
    details_of: dict[tuple, dict] = {}   # (attempt, score) → the details: shared when equal
    points_of: dict[tuple, int] = {}     # (event, points, attempt, score) → what it is worth
    # (award, rule, terms, points, occurred_at, period, day start) of the events that may earn
    candidates = []
    seen_keys: set[str] = set()
    local_at: dict[int, tuple] = {}   # quarter-hour since the epoch → its local month, day
    for item in awards:
        if item.idempotency_key in seen_keys:
            result.duplicates += 1
            continue
        seen_keys.add(item.idempotency_key)
        found = rule_of.get(item.event)
        if found is None:
            result.skipped["no_rule"] += 1
            continue
        rule, terms = found
        if not terms.is_active:
            result.skipped["rule_off"] += 1
            continue
        if item.event in rules.NEGATIVE_EVENTS:
            single = award(item, now=now)
            if single.created:
                result.created += 1
                if single.entry.status == EntryStatus.CONFIRMED.value:
                    deducted[item.user_id] += single.entry.points
            elif single.skipped == "duplicate":
                result.duplicates += 1
            else:
                result.skipped[single.skipped] += 1
            continue
        worth = (item.event, item.points, item.attempt, item.score)
        points = points_of.get(worth)
        if points is None:
            points = points_of[worth] = _points(item, rule_by_event[item.event], terms)
        if points == 0:
            result.skipped["no_points"] += 1
            continue
        occurred_at = item.occurred_at or now
        # days (and months) start at a local midnight, a whole quarter-hour in every UTC
        # offset, and clocks change on one: a quarter-hour's moments share their day
        quarter = int(occurred_at.timestamp() // 900)   # floor, before 1970 too
        local = local_at.get(quarter)
        if local is None:
            moment = local_time(occurred_at, tz)
            local = local_at[quarter] = (
                f"{moment.year:04d}-{moment.month:02d}",
                moment.replace(hour=0, minute=0, second=0, microsecond=0))
        period, day = local
        if not terms.daily_cap:
            day = None
        if period in closed:   # corrections never land in a closed month
            period = current
        candidates.append((item, rule, terms, points, occurred_at, period, day))
    # what the caps have used already, for every (rule, user, month) and (rule, user, day)
    # of the batch, in a few queries rather than one per key
    monthly_used = _counted_by_month({(rule[0], item.user_id, period)
                                      for item, rule, terms, _p, _at, period, _day in candidates
                                      if terms.monthly_cap})
    daily_used = _counted_by_day({(rule[0], item.user_id, day)
                                  for item, rule, terms, _p, _at, _period, day in candidates
                                  if terms.daily_cap}, tz)
    pending, confirmed = EntryStatus.PENDING.value, EntryStatus.CONFIRMED.value
    rows = []   # of _ENTRY_COLUMNS
    for item, (rule_id, version, blade), terms, points, occurred_at, period, day in candidates:
        if terms.monthly_cap:
            key = (rule_id, item.user_id, period)
            if not rules.within_cap(terms.monthly_cap, monthly_used[key]):
                result.skipped["monthly_cap"] += 1
                continue
            monthly_used[key] += 1
        if terms.daily_cap:
            key = (rule_id, item.user_id, day)
            if not rules.within_cap(terms.daily_cap, daily_used[key]):
                result.skipped["daily_cap"] += 1
                continue
            daily_used[key] += 1
        if item.details:
            details = _details(item)
        else:
            details = details_of.get((item.attempt, item.score))
            if details is None:
                details = details_of[item.attempt, item.score] = _details(item)
        rows.append((item.user_id, points, blade, item.event, rule_id, version,
                     item.source_type, item.source_id, item.idempotency_key, item.awarded_by_id,
                     occurred_at, period, pending if item.pending else confirmed,
                     item.comment, details))
    # by person and rule, each person's entries of a rule in the order they came: the ledger's
    # indexes on (person, month) and (rule, person, month) are then written in their order,
    # page after page, instead of all over a large ledger
    rows.sort(key=itemgetter(0, 4))
    converted: dict = {}   # shared by the inserts: `rows` keeps the values alive
    changes = []   # (user, period, blade, points, at) of the confirmed entries written
    for start in range(0, len(rows), chunk):
        part = rows[start:start + chunk]
        keys = _write_entries(dict(zip(_ENTRY_COLUMNS, zip(*part, strict=True), strict=True)),
                              {"recorded_at": now}, converted)
        result.created += len(part) if keys is None else len(keys)
        if keys is not None:   # some keys were there already
            result.duplicates += len(part) - len(keys)
            part = [row for row in part if row[8] in keys]
        changes += [(row[0], row[11], row[2], row[1], row[10]) for row in part
                    if row[12] == confirmed]
    # the rollups, month totals and balances once for the whole batch: a person's rollup of a
    # blade and month is then written once however many of the batch's entries it sums
    totals = _apply(changes, converted)
    # as the batch found them: before its deductions too
    _notify_level_ups({user_id: (old - deducted[user_id], new)
                       for user_id, (old, new) in totals.items()}, now)
    db.session.flush()
    return result


def _write_entries(columns: dict[str, list], constants: dict,
                   converted: dict) -> set[str] | None:
    """INSERT entries (the `columns`, name → values, and the `constants`) whose keys may be
    there already: None when every one was written, else the keys of those that were.

    On SQLite the transaction that writes is the only writer, so the entries it wrote are
    those with a higher id than the ledger's last before the INSERT, and only a short batch
    asks which: no RETURNING of every key. PostgreSQL's writers run side by side, so there
    the INSERT returns the keys it wrote."""
    count = len(columns["idempotency_key"])
    if db.session.connection().dialect.name != "sqlite":
        written = {key for (key,) in insert_columns(
            PointEntry.__table__, columns, on_conflict=_ENTRY_ON_CONFLICT,
            returning="idempotency_key", converted=converted, constants=constants)}
        return None if len(written) == count else written
    last = db.session.scalar(select(func.max(PointEntry.id))) or 0
    inserted = insert_columns(PointEntry.__table__, columns, on_conflict=_ENTRY_ON_CONFLICT,
                              converted=converted, constants=constants, counted=True)
    if inserted == count:
        return None
    return set(db.session.scalars(select(PointEntry.idempotency_key).where(
        PointEntry.id > last)))


def award_scores(event: str, *, user_ids: list[int], keys: list[str],
                 source_ids: list[str], occurred_at: list[datetime], scores: list[float],
                 source_type: str, awarded_by_id: int | None, now: datetime,
                 chunk: int = 5000, stored_times: Converted | None = None,
                 periods: list[str] | None = None) -> BatchResult:
    """Pending points for many scored events of one rule (an import of QA results), given
    as columns: the same entries as `award_batch` of pending `Award`s with these scores, at a
    fraction of the cost per event — no object per event, and what all the entries share is
    written once per statement. A rule with caps, a negative event or a key given twice goes
    through `award_batch` itself. Pending points change no rollup (they count once confirmed).
    `stored_times`: `occurred_at` as the driver takes them, and `periods`: the month of each
    (`period_of`), when the caller has them (see `database.driver_times`,
    `periods.periods_of`)."""
    def as_awards() -> list[Award]:
        return [Award(event=event, user_id=user_id, idempotency_key=key,
                      source_type=source_type, source_id=source_id, occurred_at=at,
                      awarded_by_id=awarded_by_id, score=score, pending=True)
                for user_id, key, source_id, at, score
                in zip(user_ids, keys, source_ids, occurred_at, scores, strict=True)]

    rule = db.session.scalar(select(Rule).where(Rule.event == event))
    terms = terms_of(rule) if rule is not None else None
    if (terms is None or not terms.is_active or terms.daily_cap or terms.monthly_cap
            or event in rules.NEGATIVE_EVENTS or len(set(keys)) != len(keys)):
        return award_batch(as_awards(), now=now, chunk=chunk)
    result = BatchResult()
    tz, closed = centre_tz(), closed_periods()
    current = period_of(now, tz)
    worth = {score: rules.points_for(terms, score=score) for score in set(scores)}
    details = {score: {"score": score} for score in worth}   # as `_details` writes them
    if periods is None:
        period_at: dict[int, str] = {}   # quarter-hour since the epoch → its month (as above)
        periods = []
        for at in occurred_at:
            quarter = int(at.timestamp() // 900)
            period = period_at.get(quarter)
            if period is None:
                period = period_at[quarter] = period_of(at, tz)
            periods.append(period)
    if closed.intersection(periods):   # corrections never land in a closed month
        periods = [current if period in closed else period for period in periods]
    points = [worth[score] for score in scores]
    result.skipped["no_points"] += points.count(0)
    # by person, in the order they came (see `award_batch`), without those worth nothing
    order = sorted((n for n, worth_it in enumerate(points) if worth_it),
                   key=user_ids.__getitem__)
    take = itemgetter(*order) if len(order) > 1 else lambda values: [values[n] for n in order]
    columns = {name: Converted(take(values)) if isinstance(values, Converted) else list(
        take(values)) for name, values in {
            "user_id": user_ids, "points": points, "source_id": source_ids,
            "idempotency_key": keys,
            "occurred_at": occurred_at if stored_times is None else stored_times,
            "period": periods, "details": [details[score] for score in scores]}.items()}
    constants = {"blade": rule.blade, "event": event, "rule_id": rule.id,
                 "rule_version": rule.version, "source_type": source_type,
                 "awarded_by_id": awarded_by_id, "status": EntryStatus.PENDING.value,
                 "comment": None, "recorded_at": now}
    converted: dict = {}   # the details are shared: one JSON text per score
    for start in range(0, len(order), chunk):
        written = _write_entries({name: _sliced(values, start, start + chunk)
                                  for name, values in columns.items()}, constants, converted)
        count = min(chunk, len(order) - start)
        result.created += count if written is None else len(written)
        if written is not None:
            result.duplicates += count - len(written)
    db.session.flush()
    return result


def _sliced(values: list, start: int, end: int) -> list:
    """values[start:end], as the kind of list they came in (`Converted` stays)."""
    part = values[start:end]
    return Converted(part) if isinstance(values, Converted) else part


_USERS_PER_QUERY = 500   # keeps IN lists well within SQLite's limit on bound parameters


def _still_counting():
    """Entries that count towards a rule's caps (as in `_counted`)."""
    return (not_a_reversal(),
            PointEntry.status != EntryStatus.REVERSED.value)


def _counted_by_month(keys: set[tuple[int, int, str]]) -> dict[tuple[int, int, str], int]:
    """`_counted(rule, user, period=…)` for many (rule, user, period) at once."""
    counts = dict.fromkeys(keys, 0)
    if not keys:
        return counts
    rule_ids = {rule_id for rule_id, _user, _period in keys}
    periods = {period for _rule, _user, period in keys}
    users = sorted({user_id for _rule, user_id, _period in keys})
    for start in range(0, len(users), _USERS_PER_QUERY):
        found = db.session.execute(
            select(PointEntry.rule_id, PointEntry.user_id, PointEntry.period, func.count())
            .where(PointEntry.rule_id.in_(rule_ids),
                   PointEntry.user_id.in_(users[start:start + _USERS_PER_QUERY]),
                   PointEntry.period.in_(periods), *_still_counting())
            .group_by(PointEntry.rule_id, PointEntry.user_id, PointEntry.period))
        for rule_id, user_id, period, count in found:
            if (rule_id, user_id, period) in counts:
                counts[rule_id, user_id, period] = count
    return counts


def _counted_by_day(keys: set[tuple[int, int, datetime]],
                    tz: ZoneInfo) -> dict[tuple[int, int, datetime], int]:
    """`_counted(rule, user, since=day, until=next day)` for many (rule, user, local
    midnight) at once."""
    counts = dict.fromkeys(keys, 0)
    if not keys:
        return counts
    rule_ids = {rule_id for rule_id, _user, _day in keys}
    since = min(day for _rule, _user, day in keys)
    until = max(_day_bounds(day, tz)[1] for _rule, _user, day in keys)
    users = sorted({user_id for _rule, user_id, _day in keys})
    # an entry's month is never before the month of its moment (a correction for a closed
    # month lands in a later one), so the index on (rule, person, month) reads only the
    # months from then on — not the whole history of each person (one month more for a
    # change of the centre's zone)
    first_month = previous_period(period_of(since, tz))
    for start in range(0, len(users), _USERS_PER_QUERY):
        found = db.session.execute(
            select(PointEntry.rule_id, PointEntry.user_id, PointEntry.occurred_at)
            .where(PointEntry.rule_id.in_(rule_ids),
                   PointEntry.user_id.in_(users[start:start + _USERS_PER_QUERY]),
                   PointEntry.period >= first_month,
                   PointEntry.occurred_at >= since, PointEntry.occurred_at < until,
                   *_still_counting()))
        for rule_id, user_id, occurred_at in found:
            key = (rule_id, user_id, _day_bounds(occurred_at, tz)[0])
            if key in counts:
                counts[key] += 1
    return counts


# --- confirming, rejecting and reversing -------------------------------------------------

def _entry(entry_id: int) -> PointEntry:
    entry = db.session.get(PointEntry, entry_id)
    if entry is None:
        raise LedgerError(N_("No such point entry."))
    return entry


def _moved(entry: PointEntry, expected: str, new: str) -> bool:
    """Move the entry's status from `expected` to `new` with one guarded UPDATE, so that of
    two requests racing to confirm, reject or reverse the same entry only one moves it (the
    database decides: a row lock on PostgreSQL, the single writer on SQLite). When the entry
    was no longer `expected`, reload it and say so."""
    moved = db.session.execute(
        update(PointEntry).where(PointEntry.id == entry.id, PointEntry.status == expected)
        .values(status=new).execution_options(synchronize_session=False)).rowcount
    if moved != 1:
        db.session.refresh(entry)
        return False
    set_committed_value(entry, "status", new)
    return True


def confirm_entry(entry_id: int, *, now: datetime) -> PointEntry:
    """A pending entry is verified (e.g. customer praise checked) and starts to count.

    When its month has been closed meanwhile, the month stays as it was: the pending entry
    is set aside and the points count in the current month, in a new entry that names it.
    Returns the entry that counts."""
    entry = _entry(entry_id)
    pending = EntryStatus.PENDING.value
    late = entry.period in closed_periods()
    target = EntryStatus.REVERSED.value if late else EntryStatus.CONFIRMED.value
    if entry.status != pending or not _moved(entry, pending, target):
        raise LedgerError(N_("Only a pending entry can be confirmed."))
    counted = entry
    if late:
        counted = PointEntry(
            user_id=entry.user_id, points=entry.points, blade=entry.blade, event=entry.event,
            rule_id=entry.rule_id, rule_version=entry.rule_version,
            source_type=entry.source_type, source_id=entry.source_id,
            idempotency_key=f"confirmed:{entry.id}", awarded_by_id=entry.awarded_by_id,
            occurred_at=entry.occurred_at, recorded_at=now, period=period_of(now, centre_tz()),
            status=EntryStatus.CONFIRMED.value, comment=entry.comment,
            details={**entry.details, "confirms": entry.id})
        db.session.add(counted)
        db.session.flush()
    totals = _apply([(counted.user_id, counted.period, counted.blade, counted.points, now)])
    _notify_level_ups(totals, now)
    db.session.flush()
    return counted


def confirm_entries(entry_ids: list[int], *, now: datetime) -> list[tuple[int, str]]:
    """Confirm many pending entries at once (e.g. the QA evaluations whose dispute window
    ended): one guarded UPDATE per chunk moves those still pending, and their points go to
    the rollups together. Entries whose month was closed meanwhile take `confirm_entry`'s
    way, one by one. Entries no longer pending are left alone. Returns (user, event) of
    every entry that now counts."""
    pending, confirmed = EntryStatus.PENDING.value, EntryStatus.CONFIRMED.value
    closed = closed_periods()
    counted: list[tuple[int, str]] = []
    changes = []
    late = []
    for start in range(0, len(entry_ids), 500):
        chunk = entry_ids[start:start + 500]
        rows = db.session.execute(
            select(PointEntry.id, PointEntry.period).where(PointEntry.id.in_(chunk),
                                                           PointEntry.status == pending)).all()
        late += [entry_id for entry_id, period in rows if period in closed]
        ready = [entry_id for entry_id, period in rows if period not in closed]
        if not ready:
            continue
        moved = db.session.execute(
            update(PointEntry).where(PointEntry.id.in_(ready), PointEntry.status == pending)
            .values(status=confirmed).returning(PointEntry.user_id, PointEntry.period,
                                                PointEntry.blade, PointEntry.points,
                                                PointEntry.event)
            .execution_options(synchronize_session=False)).all()
        for user_id, period, blade, points, event_name in moved:
            changes.append((user_id, period, blade, points, now))
            counted.append((user_id, event_name))
    moved_ids = set(entry_ids)     # entries a caller holds show their new status when read
    for held in list(db.session.identity_map.values()):
        if isinstance(held, PointEntry) and held.id in moved_ids:
            db.session.expire(held, ["status"])
    totals = _apply(changes)
    _notify_level_ups(totals, now)
    for entry_id in late:
        entry = confirm_entry(entry_id, now=now)
        counted.append((entry.user_id, entry.event))
    db.session.flush()
    return counted


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
    pending, confirmed = EntryStatus.PENDING.value, EntryStatus.CONFIRMED.value
    if entry.status == pending and _moved(entry, pending, EntryStatus.REVERSED.value):
        return None
    # confirmed, also by a request that confirmed it while this one wanted to reject it
    if entry.status != confirmed or not _moved(entry, confirmed, EntryStatus.REVERSED.value):
        raise LedgerError(N_("This entry is already reversed."))
    tz = centre_tz()
    period = entry.period if entry.period not in closed_periods() else period_of(now, tz)
    reversal = PointEntry(
        user_id=entry.user_id, points=-entry.points, blade=entry.blade, event=entry.event,
        rule_id=entry.rule_id, rule_version=entry.rule_version, source_type="reversal",
        source_id=str(entry.id), idempotency_key=idempotency_key or f"reversal:{entry.id}",
        awarded_by_id=actor_id, occurred_at=now, recorded_at=now, period=period,
        status=confirmed, reverses_id=entry.id, comment=reason.strip(),
        details={"reverses": entry.id},
    )
    db.session.add(reversal)
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
    """Recompute every rollup, month total and balance from the ledger; return the
    differences (a month total's time must be the latest of its rollups'), and those of the
    board columns kept beside them (`standings.verify`)."""
    expected = {
        (r.user_id, r.period, r.blade): r.total
        for r in db.session.execute(
            select(PointEntry.user_id, PointEntry.period, PointEntry.blade,
                   func.sum(PointEntry.points).label("total"))
            .where(counted_entries())
            .group_by(PointEntry.user_id, PointEntry.period, PointEntry.blade))
    }
    actual, reached = {}, {}
    for r in db.session.execute(select(PointRollup.user_id, PointRollup.period,
                                       PointRollup.blade, PointRollup.points,
                                       PointRollup.last_changed_at)):
        actual[r.user_id, r.period, r.blade] = r.points
        month = (r.user_id, r.period)
        reached[month] = max(reached.get(month, r.last_changed_at), r.last_changed_at)
    differences = [
        {"user_id": key[0], "period": key[1], "blade": key[2],
         "ledger": expected.get(key, 0), "rollup": actual.get(key, 0)}
        for key in sorted(set(expected) | set(actual))
        if expected.get(key, 0) != actual.get(key, 0)
    ]
    expected_totals: dict[tuple[int, str], int] = defaultdict(int)
    earned = defaultdict(int)
    for (user_id, period, _blade), total in expected.items():
        expected_totals[user_id, period] += total
        earned[user_id] += total
    totals = {(r.user_id, r.period): r for r in db.session.execute(
        select(PointMonthTotal.user_id, PointMonthTotal.period, PointMonthTotal.points,
               PointMonthTotal.reached_at))}
    for key in sorted(set(expected_totals) | set(totals)):
        row = totals.get(key)
        points = row.points if row is not None else 0
        if points != expected_totals.get(key, 0):
            differences.append({"user_id": key[0], "period": key[1], "blade": "all",
                                "ledger": expected_totals.get(key, 0), "rollup": points})
        elif row is not None and row.reached_at != reached.get(key):
            differences.append({"user_id": key[0], "period": key[1], "blade": "all",
                                "ledger": reached.get(key), "rollup": row.reached_at})
    for balance in db.session.scalars(select(PointBalance)):
        if balance.earned != earned.get(balance.user_id, 0):
            differences.append({"user_id": balance.user_id, "period": "all", "blade": "all",
                                "ledger": earned.get(balance.user_id, 0),
                                "rollup": balance.earned})
    # and what the boards keep of the people beside the points
    return differences + standings.verify(db.session.connection())


__all__ = ["Award", "AwardResult", "BatchResult", "Event", "LedgerError", "award",
           "award_batch", "confirm_entry", "reverse_entry", "verify_rollups"]
