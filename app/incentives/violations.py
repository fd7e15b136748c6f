"""The violation ladder: negative incentives, bounded (domain.md §4).

A violation record names the agent, the rule of the service standard (§6) that was broken,
the evidence, who recorded it and the day it happened. Within a rolling window (default 90
days) the first gives a verbal warning and a coaching task for the team lead, the second a
written warning and re-training, the third — or a serious one — a bonus deduction: negative
points through the ledger, which caps them so that positive incentives always outweigh
negative ones. Every violation is audited and the agent is told.

Functions take the acting user and `now` explicitly, flush but never commit.
"""
from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime, time, timedelta

from flask import current_app
from sqlalchemy import func, select, update

from app.audit.services import record_audit
from app.auth.models import User
from app.auth.queries import led_team_ids
from app.auth.roles import Permission
from app.centre.periods import centre_tz, local_time
from app.database import db
from app.errors import DomainError
from app.i18n import N_
from app.incentives import rules
from app.incentives.ledger import Award, award
from app.incentives.models import CoachingTask, PointEntry, Violation
from app.incentives.rules import Event, LadderStep
from app.notifications.services import notify

MY_RECORD_LINK = "/windmill/violations/mine"
COACHING_LINK = "/windmill/coaching"

# how long the team lead has for each kind of follow-up
COACHING_DAYS = 7
RETRAINING_DAYS = 14


@dataclass(frozen=True)
class SopRule:
    """A rule of the service standard that a violation can break, named in both languages."""

    code: str
    name_en: str
    name_zh: str


SOP_RULES: tuple[SopRule, ...] = (
    SopRule("not_answered_within_three_rings", "Not answered within three rings",
            "未在三声铃响内接听"),
    SopRule("greeting_without_employee_number",
            "Greeting without the company name and employee number", "问候时未报公司名称和工号"),
    SopRule("forbidden_phrase", "A forbidden phrase was used", "使用服务禁语"),
    SopRule("interrupting_customer", "Interrupting the customer", "打断客户讲话"),
    SopRule("shirking_responsibility", "Shirking or brushing the customer off", "推诿、敷衍客户"),
    SopRule("disclosure_without_verification",
            "Customer data disclosed to an unverified caller", "向未核实身份的来电者泄露客户信息"),
    SopRule("no_apology_after_long_wait", "No apology after a wait of more than three minutes",
            "客户等待超过三分钟未致歉"),
    SopRule("no_empathy_with_angry_customer", "No empathy with an angry customer",
            "未对情绪激动的客户表示理解和安抚"),
    SopRule("ticket_not_recorded", "The contact was not recorded in a ticket", "未按要求记录工单"),
    SopRule("improper_closing", "Improper closing of the contact", "结束服务不规范"),
    SopRule("other", "Another breach of the service standard", "其他违反服务规范的行为"),
)
SOP_RULES_BY_CODE = {rule.code: rule for rule in SOP_RULES}


def sop_rule_of(code: str) -> SopRule:
    """The rule with this code; a code no longer in the list still shows, as itself."""
    return SOP_RULES_BY_CODE.get(code) or SopRule(code, code, code)


class ViolationError(DomainError):
    """A violation or a coaching task that cannot be recorded as asked."""


def can_record_violation(actor: User, agent: User) -> bool:
    """Team leads record violations of the agents of the teams they lead, administrators of
    anyone; nobody of themselves."""
    if actor.id == agent.id or not agent.is_active:
        return False
    if actor.can(Permission.MANAGE_PEOPLE):
        return True
    return (actor.can(Permission.VIEW_TEAM) and agent.team_id is not None
            and agent.team_id in led_team_ids(actor.id))


def recordable_agents(actor: User) -> list[User]:
    """The people `actor` may record a violation against, in name order."""
    query = select(User).where(User.is_active.is_(True), User.id != actor.id)
    if not actor.can(Permission.MANAGE_PEOPLE):
        teams = led_team_ids(actor.id) if actor.can(Permission.VIEW_TEAM) else set()
        query = query.where(User.team_id.in_(teams))
    return list(db.session.scalars(query.order_by(User.name, User.employee_number)))


def _today(now: datetime) -> date:
    return local_time(now, centre_tz()).date()


def earlier_in_window(user_id: int, occurred_on: date, window_days: int) -> int:
    """Violations of the agent already on record in the rolling window that ends on
    `occurred_on`: the `window_days` days up to and including that day (one exactly
    `window_days` days earlier has dropped out)."""
    return db.session.scalar(
        select(func.count()).select_from(Violation).where(
            Violation.user_id == user_id,
            Violation.occurred_on > occurred_on - timedelta(days=window_days),
            Violation.occurred_on <= occurred_on)) or 0


def record_violation(user_id: int, *, sop_rule: str, evidence: str, occurred_on: date,
                     is_serious: bool = False, actor_id: int, now: datetime,
                     from_qa: bool = False) -> Violation:
    """Record a violation and take the step of the ladder it reaches.

    A verbal warning creates a coaching task for the agent's team lead (due in 7 days); a
    written warning a re-training task for the team lead (due in 14 days); a bonus deduction
    asks the ledger for the deduction. The ledger caps it by the month's positive points and
    may write nothing at all — then the violation keeps no point entry and says so.

    `from_qa`: a QA critical fail, confirmed after its dispute window, recorded in the name of
    the QA analyst who imported it (who need not lead the agent's team).
    """
    actor = db.session.get(User, actor_id)
    agent = db.session.get(User, user_id)
    if actor is None or agent is None:
        raise ViolationError(N_("No such person."))
    if actor.id == agent.id:
        raise ViolationError(N_("You cannot record a violation against yourself."))
    if not from_qa and not can_record_violation(actor, agent):
        raise ViolationError(
            N_("You can only record violations of active agents of the teams you lead."))
    if sop_rule not in SOP_RULES_BY_CODE:
        raise ViolationError(N_("Choose the rule of the service standard that was broken."))
    evidence = (evidence or "").strip()
    if not evidence:
        raise ViolationError(N_("Describe the evidence of the violation."))
    if occurred_on is None or occurred_on > _today(now):
        raise ViolationError(N_("The date of a violation cannot lie in the future."))
    duplicate = db.session.scalar(select(Violation.id).where(
        Violation.user_id == agent.id, Violation.sop_rule == sop_rule,
        Violation.occurred_on == occurred_on, Violation.evidence == evidence))
    if duplicate is not None:
        raise ViolationError(N_("This violation is already on record."))

    window = current_app.config["VIOLATION_WINDOW_DAYS"]
    earlier = earlier_in_window(agent.id, occurred_on, window)
    step = rules.ladder_step(earlier, serious=bool(is_serious))
    violation = Violation(user_id=agent.id, sop_rule=sop_rule, evidence=evidence,
                          is_serious=bool(is_serious), occurred_on=occurred_on,
                          recorded_by_id=actor.id, recorded_at=now, step=step.value)
    db.session.add(violation)
    db.session.flush()

    lead_id = agent.team.lead_id if agent.team is not None else None
    if lead_id == agent.id:      # a team lead's own violation goes to nobody in their team
        lead_id = None
    task = None
    deducted = None
    skipped = None
    if step is LadderStep.VERBAL_WARNING:
        task = _follow_up(violation, "coaching", lead_id, COACHING_DAYS, now)
    elif step is LadderStep.WRITTEN_WARNING:
        task = _follow_up(violation, "retraining", lead_id, RETRAINING_DAYS, now)
    else:
        deducted, skipped = _deduct(violation, actor.id, now)

    record_audit("violation.record", actor_id=actor.id, subject_id=agent.id, now=now,
                 target_type="violation", target_id=violation.id,
                 details={"sop_rule": sop_rule, "occurred_on": occurred_on.isoformat(),
                          "is_serious": bool(is_serious), "earlier_in_window": earlier,
                          "window_days": window, "step": step.value,
                          "points": deducted.points if deducted else None,
                          "point_entry_id": deducted.id if deducted else None,
                          "not_deducted": skipped,
                          "coaching_task_id": task.id if task else None})
    _tell_the_agent(violation, deducted, skipped, now)
    if task is not None and task.assignee_id is not None and task.assignee_id != actor.id:
        _tell_the_lead(task, agent, now)
    return violation


def _follow_up(violation: Violation, kind: str, assignee_id: int | None, days: int,
               now: datetime) -> CoachingTask:
    """The team lead's follow-up. A re-training task is, for now, a task for the team lead
    to arrange; the training issue will turn it into a real course assignment made through
    the one assignment service."""
    task = CoachingTask(kind=kind, user_id=violation.user_id, assignee_id=assignee_id,
                        violation_id=violation.id, due_on=_today(now) + timedelta(days=days),
                        status="open", created_at=now)
    db.session.add(task)
    db.session.flush()
    return task


def _deduct(violation: Violation, actor_id: int, now: datetime):
    """Ask the ledger for the deduction; returns (entry or None, why nothing was written)."""
    tz = centre_tz()
    # the deduction counts for the month the violation happened in (if it is still open)
    occurred_at = min(datetime.combine(violation.occurred_on, time(0), tzinfo=tz), now)
    rule = sop_rule_of(violation.sop_rule)
    result = award(Award(
        event=Event.VIOLATION_DEDUCTION.value, user_id=violation.user_id,
        idempotency_key=f"violation:{violation.id}", source_type="violation",
        source_id=str(violation.id), occurred_at=occurred_at, awarded_by_id=actor_id,
        comment=f"{rule.name_zh} / {rule.name_en}"[:500],
        details={"violation_id": violation.id, "sop_rule": violation.sop_rule},
    ), now=now)
    if result.entry is None:
        return None, result.skipped
    violation.point_entry_id = result.entry.id
    db.session.flush()
    return result.entry, None


def _tell_the_agent(violation: Violation, deducted: PointEntry | None, skipped: str | None,
                    now: datetime) -> None:
    params = {"date": violation.occurred_on.isoformat()}
    if violation.step == LadderStep.VERBAL_WARNING.value:
        message = N_("A violation of the service standard on %(date)s was recorded: a verbal "
                     "warning. Your team lead will coach you on it.")
    elif violation.step == LadderStep.WRITTEN_WARNING.value:
        message = N_("A violation of the service standard on %(date)s was recorded: a written "
                     "warning, with targeted re-training.")
    elif deducted is not None:
        message = N_("A violation of the service standard on %(date)s was recorded: a bonus "
                     "deduction of %(points)s points.")
        params["points"] = -deducted.points
    elif skipped == "negative_cap":
        message = N_("A violation of the service standard on %(date)s was recorded: a bonus "
                     "deduction, but no points were taken, because a month's deductions may "
                     "not outweigh its positive points.")
    else:
        message = N_("A violation of the service standard on %(date)s was recorded: a bonus "
                     "deduction, but no points were taken, because deductions are switched "
                     "off.")
    notify(violation.user_id, message, params=params, link=MY_RECORD_LINK, now=now)


def _tell_the_lead(task: CoachingTask, agent: User, now: datetime) -> None:
    if task.kind == "coaching":
        message = N_("A violation by %(name)s was recorded: please coach them by %(date)s.")
    else:
        message = N_("A violation by %(name)s was recorded: please arrange targeted "
                     "re-training by %(date)s.")
    notify(task.assignee_id, message, params={"name": agent.display_name,
                                              "date": task.due_on.isoformat()},
           link=COACHING_LINK, now=now)


# --- coaching tasks -----------------------------------------------------------------------

def complete_coaching_task(task_id: int, *, note: str, actor_id: int,
                           now: datetime) -> CoachingTask:
    """The team lead it is assigned to says the coaching (or re-training) is done, with a
    note of how it went. An administrator may close any task (one whose team has no lead)."""
    task = db.session.get(CoachingTask, task_id)
    actor = db.session.get(User, actor_id)
    if task is None or actor is None:
        raise ViolationError(N_("No such coaching task."))
    if task.assignee_id != actor.id and not actor.can(Permission.MANAGE_PEOPLE):
        raise ViolationError(N_("Only the team lead this task is assigned to can complete it."))
    note = (note or "").strip()
    if not note:
        raise ViolationError(N_("Say briefly how the coaching went."))
    result = db.session.execute(
        update(CoachingTask)
        .where(CoachingTask.id == task.id, CoachingTask.status == "open")
        .values(status="done", done_at=now, note=note[:500])
        .execution_options(synchronize_session=False))
    db.session.expire(task)
    if result.rowcount != 1:
        raise ViolationError(N_("This task is already done."))
    record_audit("coaching_task.complete", actor_id=actor.id, subject_id=task.user_id,
                 now=now, target_type="coaching_task", target_id=task.id,
                 details={"kind": task.kind, "violation_id": task.violation_id,
                          "note": note[:500]})
    return task


# --- reading ------------------------------------------------------------------------------

def list_violations(*, user_id: int | None = None, team_ids=None):
    """A select of violations, newest first: one person's, those of the agents now in the
    given teams, or (neither given) everybody's (for pagination)."""
    query = select(Violation).order_by(Violation.occurred_on.desc(), Violation.id.desc())
    if user_id is not None:
        query = query.where(Violation.user_id == user_id)
    if team_ids is not None:
        query = query.where(Violation.user_id.in_(
            select(User.id).where(User.team_id.in_(list(team_ids)))))
    return query


def deducted_points(violations) -> dict[int, int]:
    """violation id → the points its deduction took (negative), for those that took any."""
    by_entry = {v.point_entry_id: v.id for v in violations if v.point_entry_id is not None}
    if not by_entry:
        return {}
    rows = db.session.execute(select(PointEntry.id, PointEntry.points)
                              .where(PointEntry.id.in_(list(by_entry))))
    return {by_entry[entry_id]: points for entry_id, points in rows}


def tasks_of_violations(violations) -> dict[int, CoachingTask]:
    """violation id → the follow-up task it created, if any."""
    ids = [v.id for v in violations]
    if not ids:
        return {}
    return {task.violation_id: task for task in db.session.scalars(
        select(CoachingTask).where(CoachingTask.violation_id.in_(ids)))}


def list_coaching_tasks(*, assignee_id: int | None = None, status: str | None = "open"):
    """A select of coaching tasks, the soonest due first: one team lead's, or (no assignee
    given) everybody's (for pagination)."""
    query = select(CoachingTask).order_by(CoachingTask.due_on, CoachingTask.id)
    if assignee_id is not None:
        query = query.where(CoachingTask.assignee_id == assignee_id)
    if status is not None:
        query = query.where(CoachingTask.status == status)
    return query
