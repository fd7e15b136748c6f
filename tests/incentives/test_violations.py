"""The violation ladder through its services: steps in the rolling window, deductions capped
by the month's positive points, coaching tasks for the team lead, who may record what."""
from __future__ import annotations

from datetime import date, timedelta

import pytest
from sqlalchemy import func, select

from app.audit.models import AuditEvent
from app.incentives.models import CoachingTask, PointEntry, Violation
from app.incentives.services import Award, award
from app.incentives.violations import (
    SOP_RULES,
    ViolationError,
    complete_coaching_task,
    record_violation,
    recordable_agents,
)
from app.notifications.models import Notification

DAY = date(2026, 3, 14)       # the day before the tests' `now` (15 March 2026, Shanghai)


@pytest.fixture()
def floor(make_user, make_team):
    """A team lead with one team of two agents, another team with its own lead, an admin."""
    lead = make_user("team_lead", name="Lead Li")
    other_lead = make_user("team_lead", name="Lead Wang")
    team = make_team("Team A", lead=lead)
    other_team = make_team("Team B", lead=other_lead)
    return {
        "lead": lead, "other_lead": other_lead, "admin": make_user("admin"),
        "agent": make_user("agent", team=team), "colleague": make_user("agent", team=team),
        "stranger": make_user("agent", team=other_team), "team": team,
    }


@pytest.fixture()
def record(db, floor, now):
    """Record a violation of the floor's agent (by their lead unless told otherwise)."""

    def make(on=DAY, *, user=None, actor=None, serious=False, rule="forbidden_phrase",
             evidence=None):
        violation = record_violation(
            (user or floor["agent"]).id, sop_rule=rule,
            evidence=evidence or f"Said 不可以 on the call of {on.isoformat()}",
            occurred_on=on, is_serious=serious, actor_id=(actor or floor["lead"]).id, now=now)
        db.session.commit()
        return violation

    return make


def _earn(db, user, now, key="promotion"):
    """300 positive points in the current month."""
    award(Award("career.promotion", user.id, f"{key}:{user.id}", "promotion"), now=now)
    db.session.commit()


def _task(db, violation) -> CoachingTask | None:
    return db.session.scalar(select(CoachingTask).where(CoachingTask.violation_id == violation.id))


def test_the_first_violation_is_a_verbal_warning_with_coaching_by_the_team_lead(
        db, defaults, floor, record):
    violation = record()
    assert violation.step == "verbal_warning" and violation.point_entry_id is None
    task = _task(db, violation)
    assert task.kind == "coaching" and task.assignee_id == floor["lead"].id
    assert task.user_id == floor["agent"].id and task.status == "open"
    assert task.due_on == date(2026, 3, 22)                 # seven days from today
    assert db.session.scalar(select(func.count()).select_from(PointEntry)) == 0


def test_the_second_in_the_window_is_a_written_warning_with_re_training(
        db, defaults, floor, record):
    record(DAY - timedelta(days=30))
    violation = record()
    assert violation.step == "written_warning"
    task = _task(db, violation)
    assert task.kind == "retraining" and task.assignee_id == floor["lead"].id
    assert task.due_on == date(2026, 3, 29)                 # fourteen days from today


def test_the_third_in_the_window_is_a_bonus_deduction(db, defaults, floor, record, now):
    _earn(db, floor["agent"], now)
    record(DAY - timedelta(days=60))
    record(DAY - timedelta(days=20))
    violation = record()
    assert violation.step == "bonus_deduction" and _task(db, violation) is None
    entry = db.session.get(PointEntry, violation.point_entry_id)
    assert entry.points == -50 and entry.event == "violation.deduction"
    assert entry.source_type == "violation" and entry.source_id == str(violation.id)
    assert entry.idempotency_key == f"violation:{violation.id}"
    assert entry.awarded_by_id == floor["lead"].id and entry.period == "2026-03"


def test_violations_outside_the_window_do_not_count(db, defaults, floor, record):
    record(DAY - timedelta(days=200))
    record(DAY - timedelta(days=120))
    assert record().step == "verbal_warning"


def test_the_window_is_the_ninety_days_up_to_the_violation(db, defaults, floor, record):
    record(DAY - timedelta(days=90))                        # dropped out
    assert record(DAY, rule="interrupting_customer").step == "verbal_warning"
    record(DAY - timedelta(days=89), rule="ticket_not_recorded")
    assert record(DAY, rule="improper_closing").step == "bonus_deduction"


def test_the_window_length_comes_from_the_configuration(
        db, defaults, floor, record, app, monkeypatch):
    monkeypatch.setitem(app.config, "VIOLATION_WINDOW_DAYS", 30)
    record(DAY - timedelta(days=45))
    assert record().step == "verbal_warning"


def test_other_agents_violations_do_not_count(db, defaults, floor, record):
    record(user=floor["colleague"])
    record(user=floor["colleague"], rule="interrupting_customer")
    assert record().step == "verbal_warning"


def test_a_serious_violation_goes_straight_to_a_deduction(db, defaults, floor, record, now):
    _earn(db, floor["agent"], now)
    violation = record(serious=True, rule="disclosure_without_verification")
    assert violation.step == "bonus_deduction" and violation.is_serious
    assert db.session.get(PointEntry, violation.point_entry_id).points == -50


def test_deductions_are_capped_by_the_months_positive_points(db, defaults, floor, record, now):
    _earn(db, floor["agent"], now)                          # +300: at most 60 may be taken
    first = record(serious=True, evidence="first")
    second = record(serious=True, evidence="second")
    third = record(serious=True, evidence="third")
    assert db.session.get(PointEntry, first.point_entry_id).points == -50
    assert db.session.get(PointEntry, second.point_entry_id).points == -10
    assert third.step == "bonus_deduction" and third.point_entry_id is None
    told = db.session.scalars(select(Notification).where(
        Notification.user_id == floor["agent"].id).order_by(Notification.id.desc())).first()
    assert "no points were taken" in told.message and "outweigh" in told.message


def test_a_month_without_positive_points_deducts_nothing_and_says_so(
        db, defaults, floor, record):
    violation = record(serious=True)
    assert violation.step == "bonus_deduction" and violation.point_entry_id is None
    assert db.session.scalar(select(func.count()).select_from(PointEntry)) == 0
    audit = db.session.scalar(select(AuditEvent).where(AuditEvent.action == "violation.record"))
    assert audit.details["not_deducted"] == "negative_cap" and audit.details["points"] is None


def test_every_violation_is_audited_and_the_agent_told(db, defaults, floor, record):
    violation = record()
    audit = db.session.scalar(select(AuditEvent).where(AuditEvent.action == "violation.record"))
    assert audit.actor_id == floor["lead"].id and audit.subject_id == floor["agent"].id
    assert audit.target_id == violation.id and audit.details["step"] == "verbal_warning"
    told = db.session.scalar(select(Notification).where(
        Notification.user_id == floor["agent"].id))
    assert "verbal warning" in told.message and told.link == "/windmill/violations/mine"
    assert told.params == {"date": "2026-03-14"}


def test_the_team_lead_is_told_when_someone_else_records(db, defaults, floor, record):
    record(actor=floor["admin"])
    told = db.session.scalar(select(Notification).where(
        Notification.user_id == floor["lead"].id))
    assert told is not None and told.link == "/windmill/coaching"
    assert told.params["date"] == "2026-03-22"


def test_a_team_lead_records_only_for_the_teams_they_lead(db, defaults, floor, record):
    with pytest.raises(ViolationError):
        record(user=floor["stranger"])
    with pytest.raises(ViolationError):
        record(user=floor["agent"], actor=floor["other_lead"])
    with pytest.raises(ViolationError):
        record(user=floor["agent"], actor=floor["colleague"])      # an agent records nothing
    db.session.rollback()
    assert db.session.scalar(select(func.count()).select_from(Violation)) == 0
    assert record(user=floor["stranger"], actor=floor["admin"]).step == "verbal_warning"


def test_nobody_records_a_violation_against_themselves(db, defaults, floor, record):
    for person in (floor["lead"], floor["admin"]):
        with pytest.raises(ViolationError) as refused:
            record(user=person, actor=person)
        assert "yourself" in refused.value.message


def test_what_a_violation_needs(db, defaults, floor, record, now):
    with pytest.raises(ViolationError):
        record(rule="no_such_rule")
    with pytest.raises(ViolationError):
        record(evidence="   ")
    with pytest.raises(ViolationError):
        record(on=date(2026, 3, 16))                          # tomorrow
    record(on=date(2026, 3, 15))                              # today is fine
    with pytest.raises(ViolationError) as twice:
        record(on=date(2026, 3, 15))                          # the same one again
    assert "already" in twice.value.message


def test_a_deduction_counts_for_the_month_the_violation_happened(
        db, defaults, floor, record, now):
    award(Award("career.promotion", floor["agent"].id, "feb", "promotion",
                occurred_at=now - timedelta(days=30)), now=now)      # February
    record(DAY - timedelta(days=40), rule="other")
    record(DAY - timedelta(days=35), rule="ticket_not_recorded")
    violation = record(date(2026, 2, 20), serious=True)
    assert db.session.get(PointEntry, violation.point_entry_id).period == "2026-02"


def test_the_recordable_agents(db, floor):
    assert {u.id for u in recordable_agents(floor["lead"])} == {
        floor["agent"].id, floor["colleague"].id}
    everybody = {u.id for u in recordable_agents(floor["admin"])}
    assert floor["stranger"].id in everybody and floor["admin"].id not in everybody
    assert recordable_agents(floor["agent"]) == []


def test_an_agent_without_a_team_lead_gets_an_unassigned_task(
        db, defaults, floor, make_user, record):
    loner = make_user("agent")
    violation = record(user=loner, actor=floor["admin"])
    assert _task(db, violation).assignee_id is None


def test_the_assigned_team_lead_completes_a_coaching_task(db, defaults, floor, record, now):
    task = _task(db, record())
    with pytest.raises(ViolationError):
        complete_coaching_task(task.id, note="Talked it through.",
                               actor_id=floor["other_lead"].id, now=now)
    with pytest.raises(ViolationError):
        complete_coaching_task(task.id, note=" ", actor_id=floor["lead"].id, now=now)
    complete_coaching_task(task.id, note="Talked it through; practised the greeting.",
                           actor_id=floor["lead"].id, now=now)
    db.session.commit()
    task = db.session.get(CoachingTask, task.id)
    assert task.status == "done" and task.done_at is not None
    assert task.note == "Talked it through; practised the greeting."
    with pytest.raises(ViolationError):
        complete_coaching_task(task.id, note="Again.", actor_id=floor["lead"].id, now=now)
    audit = db.session.scalar(select(AuditEvent).where(
        AuditEvent.action == "coaching_task.complete"))
    assert audit.subject_id == floor["agent"].id and audit.actor_id == floor["lead"].id


def test_an_administrator_may_close_any_coaching_task(db, defaults, floor, record, now):
    task = _task(db, record())
    complete_coaching_task(task.id, note="Closed for the lead on leave.",
                           actor_id=floor["admin"].id, now=now)
    assert task.status == "done"


def test_every_sop_rule_has_both_names_and_fits_the_column():
    codes = [rule.code for rule in SOP_RULES]
    assert len(codes) == len(set(codes)) and "other" in codes
    assert all(rule.name_en and rule.name_zh and len(rule.code) <= 40 for rule in SOP_RULES)
