"""QA's write side: recording imported evaluations with their points, correcting a score,
confirming evaluations after their dispute window, disputes and their resolution, and the
remediation a critical fail assigns.

Points follow QA through the incentive rules (`Event.QA_EVALUATION`, score bands): an
evaluation's points are pending while it can be disputed and count once it is confirmed. The
points of an evaluation's current revision are the ledger entry with the key
`points_key(id, revision)`; a correction reverses that entry and awards the next revision."""
from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from operator import itemgetter

from flask import current_app
from sqlalchemy import select, update

from app.audit.services import record_audit
from app.auth.models import User
from app.auth.queries import led_team_ids
from app.auth.roles import Permission
from app.centre.periods import centre_tz
from app.database import Converted, db, insert_ids, insert_values
from app.errors import DomainError
from app.i18n import N_
from app.incentives import services as incentives
from app.incentives.models import PointEntry
from app.incentives.rules import EntryStatus, Event
from app.incentives.violations import record_violation, sop_rule_of
from app.notifications.services import notify
from app.qa import rules
from app.qa.models import Criterion, Dispute, Evaluation, EvaluationItem, RemediationRule
from app.training.services import assign_item

SOURCE_TYPE = "qa_evaluation"
MY_EVALUATIONS = "/qa/mine"
DISPUTES = "/qa/disputes"


class QaError(DomainError):
    """A QA action that cannot be done as asked."""


@dataclass(slots=True)
class ItemRow:
    criterion_id: int
    points: float | None          # None: N/A
    is_passed: bool | None
    comment: str = ""


@dataclass(slots=True)
class EvaluationRow:
    """One evaluation as an import hands it over: validated, scored, with plain values."""

    external_id: str
    user_id: int
    scorecard_version_id: int
    evaluated_at: datetime
    channel: str
    evaluator: str
    score: float
    is_critical_fail: bool
    comment: str
    fingerprint: str
    items: list[ItemRow] = field(default_factory=list)
    # the rules of the service standard of the failed critical criteria (for remediation)
    failed_categories: tuple[str, ...] = ()


# EvaluationRow's fields that are columns of the evaluation
_EVALUATION_COLUMNS = ("external_id", "user_id", "scorecard_version_id", "evaluated_at",
                       "channel", "evaluator", "score", "is_critical_fail", "comment",
                       "fingerprint")


@dataclass(slots=True)
class NewEvaluations(Sequence):
    """New evaluations as columns, as an import writes them: the fields of `EvaluationRow`,
    each a list in the evaluations' order, without an object per evaluation (a sequence of
    `EvaluationRow`s all the same). `stored_times`: `evaluated_at` as the database driver
    takes it, and `periods`: the month of each, when the import worked them out all at once
    (`database.driver_times`, `periods.periods_of`)."""

    external_id: list[str] = field(default_factory=list)
    user_id: list[int] = field(default_factory=list)
    scorecard_version_id: list[int] = field(default_factory=list)
    evaluated_at: list[datetime] = field(default_factory=list)
    channel: list[str] = field(default_factory=list)
    evaluator: list[str] = field(default_factory=list)
    score: list[float] = field(default_factory=list)
    is_critical_fail: list[bool] = field(default_factory=list)
    comment: list[str] = field(default_factory=list)
    fingerprint: list[str] = field(default_factory=list)
    items: list[list[ItemRow]] | None = None             # None: no items (the summary layout)
    failed_categories: list[tuple[str, ...]] | None = None
    stored_times: Converted | None = None
    periods: list[str] | None = None

    @classmethod
    def of(cls, rows: Sequence[EvaluationRow], stored_times: Converted | None = None,
           periods: list[str] | None = None) -> NewEvaluations:
        if isinstance(rows, NewEvaluations):
            return rows
        columns = zip(*[(r.external_id, r.user_id, r.scorecard_version_id, r.evaluated_at,
                         r.channel, r.evaluator, r.score, r.is_critical_fail, r.comment,
                         r.fingerprint) for r in rows], strict=True)
        return cls(*(list(column) for column in columns),
                   items=[r.items for r in rows],
                   failed_categories=[r.failed_categories for r in rows],
                   stored_times=stored_times, periods=periods) if rows else cls()

    def __len__(self) -> int:
        return len(self.external_id)

    def __getitem__(self, n):
        if isinstance(n, slice):
            return self.picked(range(len(self))[n])
        return EvaluationRow(*(getattr(self, name)[n] for name in _EVALUATION_COLUMNS),
                             items=self.items[n] if self.items is not None else [],
                             failed_categories=(self.failed_categories[n]
                                                if self.failed_categories is not None else ()))

    def __eq__(self, other) -> bool:
        return isinstance(other, Sequence) and list(self) == list(other)

    def picked(self, positions) -> NewEvaluations:
        """The evaluations at these positions, in their order."""
        positions = list(positions)
        if positions == list(range(len(self))):
            return self
        take = itemgetter(*positions) if len(positions) > 1 else lambda v: [
            v[n] for n in positions]

        def pick(values):
            if values is None:
                return None
            return Converted(take(values)) if isinstance(values, Converted) else list(
                take(values))

        return NewEvaluations(*(pick(getattr(self, name)) for name in _EVALUATION_COLUMNS),
                              items=pick(self.items),
                              failed_categories=pick(self.failed_categories),
                              stored_times=pick(self.stored_times), periods=pick(self.periods))


def points_key(evaluation_id: int, revision: int) -> str:
    return f"qa:{evaluation_id}:{revision}"


def _award(evaluation_id: int, revision: int, row, *, pending: bool,
           actor_id: int | None) -> incentives.Award:
    return incentives.Award(
        event=Event.QA_EVALUATION.value, user_id=row.user_id,
        idempotency_key=points_key(evaluation_id, revision), source_type=SOURCE_TYPE,
        source_id=str(evaluation_id), occurred_at=row.evaluated_at, awarded_by_id=actor_id,
        score=row.score, pending=pending)


def dispute_window_end(now: datetime) -> datetime:
    return rules.window_end(now, current_app.config["QA_DISPUTE_WORKING_DAYS"], centre_tz())


# --- recording imported evaluations ---------------------------------------------------------

_ITEM_COLUMNS = ("evaluation_id", "criterion_id", "points", "is_passed", "comment")


def record_evaluations(rows: Sequence[EvaluationRow], *, source: str, import_id: int | None,
                       actor_id: int | None, now: datetime) -> list[int]:
    """Add new evaluations in bulk (rows, or `NewEvaluations`), with their items and pending
    points; a critical fail earns nothing and assigns remediation. Returns the new
    evaluations' ids, in row order."""
    if not rows:
        return []
    new = NewEvaluations.of(rows)
    columns = {name: getattr(new, name) for name in _EVALUATION_COLUMNS}
    # what every driver takes as it is: no conversion of each value
    columns["score"] = Converted(map(float, new.score))
    columns["is_critical_fail"] = Converted(map(bool, new.is_critical_fail))
    if new.stored_times is not None:
        columns["evaluated_at"] = new.stored_times
    ids = insert_ids(
        Evaluation.__table__, columns, key="external_id",
        constants={"source": source, "status": "pending",
                   "window_ends_at": dispute_window_end(now), "import_id": import_id,
                   "revision": 0, "created_at": now})
    if new.items:
        insert_values(EvaluationItem.__table__, _ITEM_COLUMNS, [
            (evaluation_id, item.criterion_id, item.points, item.is_passed, item.comment)
            for evaluation_id, items in zip(ids, new.items, strict=True) for item in items])
    # a critical fail earns nothing
    kept = [n for n, critical in enumerate(new.is_critical_fail) if not critical]
    scored, scored_ids = new.picked(kept), [ids[n] for n in kept]
    incentives.award_scores(
        Event.QA_EVALUATION.value, user_ids=scored.user_id,
        keys=[points_key(evaluation_id, 0) for evaluation_id in scored_ids],
        source_ids=list(map(str, scored_ids)), occurred_at=scored.evaluated_at,
        scores=scored.score, source_type=SOURCE_TYPE, awarded_by_id=actor_id, now=now,
        stored_times=scored.stored_times, periods=scored.periods)   # as `_award(…, pending=True)`
    if any(new.is_critical_fail):
        mapped = set(db.session.scalars(select(RemediationRule.category)))
        categories = new.failed_categories or [()] * len(new)
        for evaluation_id, user_id, critical, failed in zip(
                ids, new.user_id, new.is_critical_fail, categories, strict=True):
            if critical and mapped.intersection(failed or ("other",)):
                assign_remediation(evaluation_id, user_id, failed, actor_id=actor_id, now=now)
    return ids


# --- remediation ----------------------------------------------------------------------------

def assign_remediation(evaluation_id: int, user_id: int, categories: tuple[str, ...], *,
                       actor_id: int | None, now: datetime) -> list:
    """After a critical fail: the scenario or micro-lesson the trainer mapped to each failed
    criterion's category (or to "other" when the file named none), through the one
    assignment service. Categories without a mapping assign nothing."""
    wanted = list(dict.fromkeys(categories or ("other",)))
    mapped = {r.category: r for r in db.session.scalars(
        select(RemediationRule).where(RemediationRule.category.in_(wanted)))}
    assigned = []
    for category in wanted:
        rule = mapped.get(category)
        if rule is None:
            continue
        sop = sop_rule_of(category)
        assigned.append(assign_item(
            user_id, item_kind=rule.item_kind, item_code=rule.item_code, title=rule.title,
            source_type=SOURCE_TYPE, source_id=str(evaluation_id),
            reason=f"{sop.name_zh} / {sop.name_en}",
            due_on=now.astimezone(centre_tz()).date() + timedelta(days=rule.due_days),
            link=f"/qa/evaluations/{evaluation_id}", actor_id=actor_id, now=now))
    return assigned


def save_remediation_rule(category: str, *, item_kind: str, item_code: str, title: str,
                          due_days: int, actor_id: int, now: datetime) -> RemediationRule:
    """Map a category (a rule of the service standard) to the item a critical fail of it
    assigns; an empty code removes the mapping."""
    from app.incentives.violations import SOP_RULES_BY_CODE

    if category not in SOP_RULES_BY_CODE:
        raise QaError(N_("Choose the rule of the service standard that was broken."))
    rule = db.session.scalar(select(RemediationRule).where(
        RemediationRule.category == category))
    item_code, title = (item_code or "").strip(), (title or "").strip()
    if not item_code:
        if rule is not None:
            db.session.delete(rule)
        record_audit("qa.remediation_saved", actor_id=actor_id, now=now,
                     details={"category": category, "removed": True})
        db.session.flush()
        return None
    if item_kind not in ("scenario", "lesson"):
        raise QaError(N_("Remediation is a scenario or a micro-lesson."))
    if not title:
        raise QaError(N_("Give the remediation a title the agent will see."))
    if not 1 <= int(due_days) <= 90:
        raise QaError(N_("The remediation is due within 1 to 90 days."))
    if rule is None:
        rule = RemediationRule(category=category)
        db.session.add(rule)
    rule.item_kind, rule.item_code, rule.title = item_kind, item_code, title
    rule.due_days, rule.updated_by_id, rule.updated_at = int(due_days), actor_id, now
    db.session.flush()
    record_audit("qa.remediation_saved", actor_id=actor_id, now=now,
                 details={"category": category, "item_kind": item_kind,
                          "item_code": item_code, "due_days": int(due_days)})
    return rule


# --- corrections ------------------------------------------------------------------------------

def _current_entry(evaluation: Evaluation) -> PointEntry | None:
    return db.session.scalar(select(PointEntry).where(
        PointEntry.idempotency_key == points_key(evaluation.id, evaluation.revision)))


def points_of(evaluation: Evaluation) -> PointEntry | None:
    """The ledger entry of the evaluation's current score (None when it earns nothing)."""
    return _current_entry(evaluation)


def correct_evaluation(evaluation: Evaluation, row: EvaluationRow, *, reason: str,
                       actor_id: int | None, now: datetime, import_id: int | None = None
                       ) -> None:
    """The evaluation's score changed (a re-import or an amended dispute): the points of its
    current revision are reversed (or, while pending, rejected) and the new score's points
    awarded — pending while the evaluation can still be disputed, counted once confirmed.
    Items are replaced by the new ones when the row carries any."""
    before = {"score": evaluation.score, "critical_fail": evaluation.is_critical_fail}
    entry = _current_entry(evaluation)
    if entry is not None and entry.status != EntryStatus.REVERSED.value:
        incentives.reverse_entry(entry.id, reason=reason, actor_id=actor_id, now=now)
    was_critical = evaluation.is_critical_fail
    evaluation.revision += 1
    evaluation.score = row.score
    evaluation.is_critical_fail = row.is_critical_fail
    evaluation.fingerprint = row.fingerprint
    if row.comment:
        evaluation.comment = row.comment
    if import_id is not None:
        evaluation.import_id = import_id
    if row.items:
        for item in list(evaluation.items):
            db.session.delete(item)
        db.session.flush()
        for item in row.items:
            db.session.add(EvaluationItem(evaluation_id=evaluation.id,
                                          criterion_id=item.criterion_id, points=item.points,
                                          is_passed=item.is_passed, comment=item.comment))
    db.session.flush()
    if not row.is_critical_fail:
        incentives.award(_award(evaluation.id, evaluation.revision, row,
                                pending=evaluation.status != "confirmed", actor_id=actor_id),
                         now=now)
    elif not was_critical:
        assign_remediation(evaluation.id, evaluation.user_id, row.failed_categories,
                           actor_id=actor_id, now=now)
    record_audit("qa.evaluation_corrected", actor_id=actor_id, subject_id=evaluation.user_id,
                 now=now, target_type="qa_evaluation", target_id=evaluation.id,
                 details={"before": before, "after": {"score": row.score,
                                                      "critical_fail": row.is_critical_fail},
                          "revision": evaluation.revision, "reason": reason})


def row_of(evaluation: Evaluation, *, score: float, is_critical_fail: bool) -> EvaluationRow:
    """The evaluation as a row with a new score (for an amended dispute)."""
    items = [(item.criterion.code, item.points) for item in evaluation.items]
    failed = tuple(item.criterion.category for item in evaluation.items
                   if item.criterion.is_critical and item.is_passed is False)
    return EvaluationRow(
        external_id=evaluation.external_id, user_id=evaluation.user_id,
        scorecard_version_id=evaluation.scorecard_version_id,
        evaluated_at=evaluation.evaluated_at, channel=evaluation.channel,
        evaluator=evaluation.evaluator, score=0.0 if is_critical_fail else score,
        is_critical_fail=is_critical_fail, comment="",
        fingerprint=rules.fingerprint(score, is_critical_fail, items + [("amended", score)]),
        failed_categories=failed)


# --- confirmation after the dispute window --------------------------------------------------

def _confirm(evaluation: Evaluation, *, now: datetime) -> None:
    """The evaluation is final: its pending points count, and a critical fail goes to the
    violation ladder in the name of the analyst who imported it."""
    entry = _current_entry(evaluation)
    if entry is not None and entry.status == EntryStatus.PENDING.value:
        incentives.confirm_entry(entry.id, now=now)
    evaluation.status = "confirmed"
    evaluation.confirmed_at = now
    if evaluation.is_critical_fail and evaluation.violation_id is None:
        actor_id = evaluation_importer(evaluation)
        if actor_id is not None and actor_id != evaluation.user_id:
            failed = [item.criterion for item in evaluation.items
                      if item.criterion.is_critical and item.is_passed is False]
            category = failed[0].category if failed else "other"
            names = ", ".join(f"{c.name_zh} / {c.name_en}" for c in failed)
            evidence = (f"QA {evaluation.source} #{evaluation.external_id}: "
                        + (names or "critical fail")).strip()
            violation = record_violation(
                evaluation.user_id, sop_rule=category, evidence=evidence[:2000],
                occurred_on=evaluation.evaluated_at.astimezone(centre_tz()).date(),
                is_serious=False, actor_id=actor_id, now=now, from_qa=True)
            evaluation.violation_id = violation.id
    db.session.flush()


def evaluation_importer(evaluation: Evaluation) -> int | None:
    from app.qa.models import QaImport

    if evaluation.import_id is None:
        return None
    return db.session.scalar(select(QaImport.imported_by_id).where(
        QaImport.id == evaluation.import_id))


def confirm_due(*, now: datetime, limit: int | None = None) -> int:
    """Confirm the evaluations whose dispute window has ended without a dispute: their
    points count (in bulk), and critical fails go to the violation ladder. Returns how many
    were confirmed. Run by `flask qa confirm-due` from cron, and before every import."""
    query = (select(Evaluation.id, Evaluation.revision, Evaluation.is_critical_fail)
             .where(Evaluation.status == "pending", Evaluation.window_ends_at <= now)
             .order_by(Evaluation.id))
    if limit:
        query = query.limit(limit)
    due = db.session.execute(query).all()
    done = 0
    for start in range(0, len(due), 5000):
        chunk = due[start:start + 5000]
        keys = [points_key(evaluation_id, revision) for evaluation_id, revision, _ in chunk]
        entry_ids = []
        for part in range(0, len(keys), 500):
            entry_ids += db.session.scalars(select(PointEntry.id).where(
                PointEntry.idempotency_key.in_(keys[part:part + 500]),
                PointEntry.status == EntryStatus.PENDING.value)).all()
        incentives.confirm_entries(entry_ids, now=now)
        ids = [evaluation_id for evaluation_id, _revision, _critical in chunk]
        for part in range(0, len(ids), 500):
            db.session.execute(
                update(Evaluation).where(Evaluation.id.in_(ids[part:part + 500]),
                                         Evaluation.status == "pending")
                .values(status="confirmed", confirmed_at=now)
                .execution_options(synchronize_session=False))
        done += len(ids)
        for evaluation_id, _revision, critical in chunk:
            if critical:
                _confirm(db.session.get(Evaluation, evaluation_id), now=now)
    db.session.expire_all()    # evaluations a caller holds show their new status
    return done


# --- disputes ---------------------------------------------------------------------------------

def can_dispute(evaluation: Evaluation, user: User, now: datetime) -> bool:
    return (evaluation.user_id == user.id and evaluation.status == "pending"
            and now < evaluation.window_ends_at)


def raise_dispute(evaluation_id: int, *, reason: str, actor_id: int,
                  now: datetime) -> Dispute:
    """The agent objects to their evaluation, within its window, with a reason. Its points
    stay pending until the dispute is resolved."""
    evaluation = db.session.get(Evaluation, evaluation_id)
    actor = db.session.get(User, actor_id)
    if evaluation is None or actor is None or evaluation.user_id != actor.id:
        raise QaError(N_("You can only dispute your own evaluations."))
    reason = (reason or "").strip()
    if len(reason) < 5:
        raise QaError(N_("Say why you dispute the evaluation."))
    if evaluation.status == "disputed":
        raise QaError(N_("This evaluation is already disputed."))
    if evaluation.status != "pending" or now >= evaluation.window_ends_at:
        raise QaError(N_("The dispute window of this evaluation has closed."))
    evaluation.status = "disputed"
    dispute = Dispute(evaluation_id=evaluation.id, raised_by_id=actor.id, reason=reason[:4000],
                      raised_at=now, status="open", score_before=evaluation.score)
    db.session.add(dispute)
    db.session.flush()
    record_audit("qa.dispute_raised", actor_id=actor.id, subject_id=actor.id, now=now,
                 target_type="qa_evaluation", target_id=evaluation.id,
                 details={"dispute_id": dispute.id})
    for user_id in _resolvers(evaluation):
        notify(user_id, N_("%(name)s disputes QA evaluation %(evaluation)s."),
               params={"name": actor.display_name, "evaluation": evaluation.external_id},
               link=f"/qa/evaluations/{evaluation.id}", now=now)
    notify(actor.id, N_("Your dispute of QA evaluation %(evaluation)s was received."),
           params={"evaluation": evaluation.external_id},
           link=f"/qa/evaluations/{evaluation.id}", now=now)
    return dispute


def _resolvers(evaluation: Evaluation) -> list[int]:
    """Who hears of a dispute: the analyst who imported the evaluation and the agent's team
    lead."""
    people = [evaluation_importer(evaluation)]
    team = evaluation.user.team
    if team is not None:
        people.append(team.lead_id)
    return [p for p in dict.fromkeys(people) if p is not None and p != evaluation.user_id]


def can_resolve(evaluation: Evaluation, user: User) -> bool:
    """QA analysts (and trainers, administrators) resolve any dispute; a team lead those of
    the agents of the teams they lead; nobody their own."""
    if user.id == evaluation.user_id:
        return False
    if user.can(Permission.USE_QA):
        return True
    return (user.can(Permission.VIEW_TEAM) and evaluation.user.team_id is not None
            and evaluation.user.team_id in led_team_ids(user.id))


def resolve_dispute(dispute_id: int, *, decision: str, note: str, actor_id: int,
                    now: datetime, score: float | None = None,
                    is_critical_fail: bool = False) -> Dispute:
    """Uphold the evaluation as scored, or amend its score — the ledger follows with a
    correction. Either way the evaluation is final and its points count."""
    dispute = db.session.get(Dispute, dispute_id)
    actor = db.session.get(User, actor_id)
    if dispute is None or actor is None:
        raise QaError(N_("No such dispute."))
    evaluation = dispute.evaluation
    if not can_resolve(evaluation, actor):
        raise QaError(N_("You may not resolve this dispute."))
    if dispute.status != "open":
        raise QaError(N_("This dispute is already resolved."))
    note = (note or "").strip()
    if not note:
        raise QaError(N_("Explain the decision to the agent."))
    if decision == "amend":
        if score is None or not 0 <= score <= 100:
            raise QaError(N_("An amended score lies between 0 and 100."))
        if not is_critical_fail and score == evaluation.score \
                and not evaluation.is_critical_fail:
            raise QaError(N_("The amended score is the same as before: uphold it instead."))
        evaluation.status = "confirmed"    # the new points count at once
        correct_evaluation(evaluation, row_of(evaluation, score=score,
                                              is_critical_fail=is_critical_fail),
                           reason=f"Dispute {dispute.id}: {note}"[:500], actor_id=actor.id,
                           now=now)
        dispute.status, dispute.score_after = "amended", evaluation.score
    elif decision == "uphold":
        dispute.status, dispute.score_after = "upheld", evaluation.score
    else:
        raise QaError(N_("Uphold the evaluation or amend its score."))
    _confirm(evaluation, now=now)
    dispute.resolved_by_id, dispute.resolved_at, dispute.resolution = actor.id, now, note[:4000]
    db.session.flush()
    record_audit("qa.dispute_resolved", actor_id=actor.id, subject_id=evaluation.user_id,
                 now=now, target_type="qa_evaluation", target_id=evaluation.id,
                 details={"dispute_id": dispute.id, "decision": dispute.status,
                          "score_before": dispute.score_before,
                          "score_after": dispute.score_after})
    params = {"evaluation": evaluation.external_id, "score": f"{evaluation.score:g}"}
    if dispute.status == "amended":
        message = N_("Your dispute of QA evaluation %(evaluation)s was accepted: the score is "
                     "now %(score)s.")
    else:
        message = N_("Your dispute of QA evaluation %(evaluation)s was not accepted: the "
                     "score stays %(score)s.")
    notify(evaluation.user_id, message, params=params,
           link=f"/qa/evaluations/{evaluation.id}", now=now)
    for user_id in _resolvers(evaluation):
        if user_id != actor.id:
            notify(user_id, N_("The dispute of QA evaluation %(evaluation)s was resolved by "
                               "%(name)s."),
                   params={"evaluation": evaluation.external_id, "name": actor.display_name},
                   link=f"/qa/evaluations/{evaluation.id}", now=now)
    return dispute


__all__ = ["Criterion", "EvaluationRow", "ItemRow", "QaError", "confirm_due",
           "correct_evaluation", "raise_dispute", "record_evaluations", "resolve_dispute"]
