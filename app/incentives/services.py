"""The incentive windmill's write side, as other packages call it.

Every point in the product is awarded through `award` (or `award_batch`); nothing else
writes the ledger. After points count, the automatic badges whose criteria follow that
event are checked in the same transaction. See `ledger.py` for the ledger itself.
"""
from __future__ import annotations

from datetime import datetime

from sqlalchemy import select

from app.database import db
from app.incentives import ledger
from app.incentives.badges import check_automatic_badges, users_reaching
from app.incentives.defaults import install_defaults
from app.incentives.ledger import (
    Award,
    AwardResult,
    BatchResult,
    LedgerError,
    reverse_entry,
    verify_rollups,
)
from app.incentives.models import BadgeClass, PointEntry
from app.incentives.rules import Blade, EntryStatus, Event


def _badge_events() -> set[str]:
    """The events some active automatic badge counts."""
    return {badge.criteria.get("event") for badge in db.session.scalars(
        select(BadgeClass).where(BadgeClass.kind == "automatic",
                                 BadgeClass.is_active.is_(True)))}


def award(item: Award, *, now: datetime) -> AwardResult:
    """Record the points of one event, then check the automatic badges it may complete."""
    result = ledger.award(item, now=now)
    if result.created and result.entry.status == EntryStatus.CONFIRMED.value \
            and item.event in _badge_events():
        check_automatic_badges(item.user_id, item.event, now=now)
    return result


def award_batch(items: list[Award], *, now: datetime) -> BatchResult:
    """Record many events, then check the automatic badges once per person and event (for
    the events that count now; pending ones are checked when they are confirmed)."""
    result = ledger.award_batch(items, now=now)
    events = _badge_events()
    counting = [i for i in items if not i.pending]   # pending points earn no badge yet
    if result.created and events and counting:
        for event in sorted({i.event for i in counting} & events):
            candidates = {i.user_id for i in counting if i.event == event}
            for user_id in sorted(users_reaching(event, candidates, now=now)):
                check_automatic_badges(user_id, event, now=now)
    return result


def award_scores(event: str, **columns) -> BatchResult:
    """Pending points for many scored events of one rule, given as columns (an import of QA
    results; see `ledger.award_scores`). Pending points earn no badge until confirmed."""
    return ledger.award_scores(event, **columns)


def confirm_entry(entry_id: int, *, now: datetime) -> PointEntry:
    """A pending entry is verified and counts; its automatic badges are checked."""
    entry = ledger.confirm_entry(entry_id, now=now)
    if entry.event in _badge_events():
        check_automatic_badges(entry.user_id, entry.event, now=now)
    return entry


def confirm_entries(entry_ids: list[int], *, now: datetime) -> int:
    """Confirm many pending entries; automatic badges are checked once per person and event.
    Returns how many now count."""
    counted = ledger.confirm_entries(entry_ids, now=now)
    events = _badge_events()
    for event in sorted({e for _user, e in counted} & events):
        candidates = {user_id for user_id, e in counted if e == event}
        for user_id in sorted(users_reaching(event, candidates, now=now)):
            check_automatic_badges(user_id, event, now=now)
    return len(counted)


__all__ = ["Award", "AwardResult", "BatchResult", "Blade", "EntryStatus", "Event",
           "LedgerError", "award", "award_batch", "award_scores", "confirm_entries",
           "confirm_entry", "install_defaults", "reverse_entry", "verify_rollups"]


def points_bound(event: str) -> int | None:
    """The most points one award of `event` may carry when the caller names its own value
    (e.g. a scenario file's points): the rule's `max_points`, else its points."""
    from app.incentives.models import Rule
    rule = db.session.scalar(select(Rule).where(Rule.event == event))
    if rule is None:
        return None
    return int((rule.params or {}).get("max_points", rule.points))
