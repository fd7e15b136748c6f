"""Changing the rules: a new version each time, a preview of who gains or loses what in the
open months, and a replay (reversals plus new entries) that applies a change to them.
Closed months never change."""
from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import select

from app.audit.services import record_audit
from app.auth.models import User
from app.database import db
from app.errors import DomainError
from app.i18n import N_
from app.incentives import rules
from app.incentives.defaults import rule_terms_json
from app.incentives.ledger import (
    Award,
    award,
    closed_periods,
    not_a_reversal,
    reverse_entry,
    terms_of,
)
from app.incentives.models import PointEntry, Rule, RuleVersion
from app.incentives.rules import Blade, EntryStatus, RuleError, RuleTerms

# manual awards keep the value their granter chose: a rule change never replays them
MANUAL_SOURCE = "manual"


class RuleChangeError(DomainError):
    """A rule change that cannot be made."""


@dataclass(frozen=True)
class ReplayLine:
    """One entry of an open month as it is and as it would be under the new terms."""

    entry_id: int
    user_id: int
    period: str
    old_points: int
    new_points: int

    @property
    def delta(self) -> int:
        return self.new_points - self.old_points


def get_rule(rule_id: int) -> Rule:
    rule = db.session.get(Rule, rule_id)
    if rule is None:
        raise RuleChangeError(N_("No such rule."))
    return rule


def check_new_terms(rule: Rule, terms: RuleTerms) -> None:
    try:
        rules.check_terms(rule.event, terms)
    except RuleError as error:
        raise RuleChangeError(str(error)) from error


def _replayable(rule: Rule) -> list[PointEntry]:
    """The rule's entries in open months that still count and are not corrections."""
    closed = closed_periods()
    entries = db.session.scalars(
        select(PointEntry).where(
            PointEntry.rule_id == rule.id,
            PointEntry.status == EntryStatus.CONFIRMED.value,
            not_a_reversal(),
            PointEntry.source_type != MANUAL_SOURCE,
        ).order_by(PointEntry.id))
    return [entry for entry in entries if entry.period not in closed]


def preview_rule_change(rule_id: int, terms: RuleTerms) -> list[ReplayLine]:
    """Who would gain or lose what in the open months if the rule took these terms.

    Manual awards (the granter chose the value) are left as they are."""
    rule = get_rule(rule_id)
    check_new_terms(rule, terms)
    lines = []
    for entry in _replayable(rule):
        new = 0 if not terms.is_active else rules.points_for(
            terms, attempt=entry.details.get("attempt"), score=entry.details.get("score"))
        if entry.points < 0:   # deductions keep the value the ladder capped
            continue
        if new != entry.points or entry.blade != terms.blade.value:
            lines.append(ReplayLine(entry.id, entry.user_id, entry.period, entry.points, new))
    return lines


def preview_by_person(rule_id: int, terms: RuleTerms) -> dict:
    """The preview as the rules page shows it: how many entries change, each person's gain
    or loss (biggest loss first), and the total."""
    lines = preview_rule_change(rule_id, terms)
    per_user: dict[int, int] = {}
    for line in lines:
        per_user[line.user_id] = per_user.get(line.user_id, 0) + line.delta
    users = {u.id: u for u in db.session.scalars(select(User).where(User.id.in_(per_user)))}
    return {"lines": len(lines),
            "people": sorted(((users[uid], delta) for uid, delta in per_user.items()),
                             key=lambda item: item[1]),
            "total": sum(per_user.values())}


def change_rule(rule_id: int, *, terms: RuleTerms, name_en: str, name_zh: str,
                actor_id: int | None, now: datetime, comment: str = "",
                replay: bool = False) -> tuple[Rule, list[ReplayLine]]:
    """Save a new version of the rule. Entries already written keep their value unless
    `replay` is asked: then each entry of an open month whose value changes is reversed and
    written again under the new version. Returns the rule and the replayed lines."""
    rule = get_rule(rule_id)
    check_new_terms(rule, terms)
    lines = preview_rule_change(rule_id, terms) if replay else []
    old = rule_terms_json(rule)
    rule.points, rule.blade, rule.is_active = terms.points, terms.blade.value, terms.is_active
    rule.daily_cap, rule.monthly_cap, rule.params = terms.daily_cap, terms.monthly_cap, dict(
        terms.params)
    rule.name_en, rule.name_zh = name_en.strip() or rule.name_en, name_zh.strip() or rule.name_zh
    new = rule_terms_json(rule)
    if new == old:
        return rule, []
    rule.version += 1
    rule.updated_at, rule.updated_by_id = now, actor_id
    db.session.add(RuleVersion(rule_id=rule.id, version=rule.version, terms=new,
                               changed_by_id=actor_id, changed_at=now,
                               comment=(comment or "").strip() or None))
    db.session.flush()
    for line in lines:
        _replay(rule, line, actor_id=actor_id, now=now)
    record_audit("rule.change", actor_id=actor_id, now=now, target_type="rule",
                 target_id=rule.id,
                 details={"event": rule.event, "version": rule.version, "before": old,
                          "after": new, "replayed": len(lines)})
    db.session.flush()
    return rule, lines


def _replay(rule: Rule, line: ReplayLine, *, actor_id: int | None, now: datetime) -> None:
    """Reverse the entry and award the same event again under the rule's new version."""
    original = db.session.get(PointEntry, line.entry_id)
    reverse_entry(original.id, reason=f"rule {rule.event} v{rule.version}", actor_id=actor_id,
                  now=now, idempotency_key=f"replay:{original.id}:v{rule.version}:reversal")
    if line.new_points == 0:
        return
    award(Award(
        event=original.event, user_id=original.user_id,
        idempotency_key=f"replay:{original.id}:v{rule.version}",
        source_type=original.source_type, source_id=original.source_id,
        occurred_at=original.occurred_at, awarded_by_id=original.awarded_by_id,
        attempt=original.details.get("attempt"), score=original.details.get("score"),
        comment=original.comment, details={**original.details, "replaces": original.id},
    ), now=now)


def terms_from_form(*, points: int, blade: str, is_active: bool, daily_cap: int | None,
                    monthly_cap: int | None, params: dict) -> RuleTerms:
    try:
        return RuleTerms(points=points, blade=Blade(blade), is_active=is_active,
                         daily_cap=daily_cap or None, monthly_cap=monthly_cap or None,
                         params=params)
    except ValueError as error:
        raise RuleChangeError(N_("Unknown blade: %(blade)s."), blade=blade) from error


__all__ = ["ReplayLine", "RuleChangeError", "change_rule", "get_rule", "preview_rule_change",
           "terms_from_form", "terms_of"]
