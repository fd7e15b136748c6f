"""Disputes: the agent objects within the window, QA or the team lead upholds or amends,
the ledger follows with a correction, both sides hear of it; the window's end confirms."""
from datetime import timedelta

import pytest
from sqlalchemy import func, select

from app.audit.models import AuditEvent
from app.auth.roles import Role
from app.incentives.models import PointEntry, Violation
from app.incentives.services import install_defaults
from app.notifications.models import Notification
from app.qa import services
from app.qa.models import Evaluation
from app.qa.services import QaError
from app.training.models import Assignment
from tests.support.qa import evaluate, phone_scorecard


@pytest.fixture()
def setup(db, now, make_user, make_team):
    install_defaults(now=now)
    team = make_team("Blue")
    lead = make_user(Role.TEAM_LEAD, team=team)
    team.lead_id = lead.id
    agent = make_user(Role.AGENT, team=team)
    other = make_user(Role.AGENT, team=make_team("Red"))
    analyst = make_user(Role.QA_ANALYST)
    version = phone_scorecard(now)
    db.session.commit()
    return {"lead": lead, "agent": agent, "other": other, "analyst": analyst,
            "version": version}


def _entries(evaluation_id):
    from app.database import db
    return list(db.session.scalars(select(PointEntry).where(
        PointEntry.source_type == "qa_evaluation",
        PointEntry.source_id == str(evaluation_id)).order_by(PointEntry.id)))


def _counted(user_id):
    from app.database import db
    from app.incentives.models import PointRollup
    return db.session.scalar(select(func.coalesce(func.sum(PointRollup.points), 0))
                             .where(PointRollup.user_id == user_id))


def test_points_are_pending_in_the_window_and_count_after_it(db, now, setup):
    evaluation_id = evaluate(setup["version"], setup["agent"].id, "E-1", now=now,
                             analyst_id=setup["analyst"].id, results={"greeting": "0"})
    db.session.commit()
    [entry] = _entries(evaluation_id)
    assert entry.status == "pending" and entry.points == 10   # 90 → band ≥ 90
    assert _counted(setup["agent"].id) == 0
    evaluation = db.session.get(Evaluation, evaluation_id)
    assert services.confirm_due(now=evaluation.window_ends_at - timedelta(seconds=1)) == 0
    assert services.confirm_due(now=evaluation.window_ends_at) == 1
    db.session.commit()
    assert evaluation.status == "confirmed"
    assert _entries(evaluation_id)[0].status == "confirmed"
    assert _counted(setup["agent"].id) == 10


def test_dispute_then_amend_corrects_the_ledger_and_tells_both_sides(db, now, setup):
    agent, analyst = setup["agent"], setup["analyst"]
    evaluation_id = evaluate(setup["version"], agent.id, "E-2", now=now,
                             analyst_id=analyst.id, results={"accurate_answer": "5"})   # 90 → 10
    dispute = services.raise_dispute(evaluation_id, reason="The answer was complete.",
                                     actor_id=agent.id, now=now)
    db.session.commit()
    evaluation = db.session.get(Evaluation, evaluation_id)
    assert evaluation.status == "disputed"
    # the window passes: a disputed evaluation is not confirmed behind the resolver's back
    assert services.confirm_due(now=now + timedelta(days=30)) == 0
    told = db.session.scalars(select(Notification.user_id).where(
        Notification.message.like("%disputes QA evaluation%"))).all()
    assert set(told) == {analyst.id, setup["lead"].id}

    services.resolve_dispute(dispute.id, decision="amend", score=96.0, note="Re-listened.",
                             actor_id=setup["lead"].id, now=now + timedelta(hours=1))
    db.session.commit()
    old, new = _entries(evaluation_id)
    assert (old.points, old.status) == (10, "reversed")        # rejected while pending
    assert (new.points, new.status) == (20, "confirmed")       # 96 → band ≥ 95, final
    assert evaluation.score == 96.0 and evaluation.status == "confirmed"
    assert evaluation.revision == 1
    assert dispute.status == "amended" and dispute.score_after == 96.0
    assert _counted(agent.id) == 20
    audit = db.session.scalars(select(AuditEvent.action).where(
        AuditEvent.target_type == "qa_evaluation", AuditEvent.target_id == evaluation_id)).all()
    assert "qa.evaluation_corrected" in audit and "qa.dispute_resolved" in audit
    assert db.session.scalar(select(func.count()).select_from(Notification).where(
        Notification.user_id == agent.id, Notification.message.like("%was accepted%"))) == 1
    assert db.session.scalar(select(func.count()).select_from(Notification).where(
        Notification.user_id == analyst.id, Notification.message.like("%was resolved by%"))) == 1


def test_amending_a_confirmed_evaluation_reverses_its_counted_points(db, now, setup):
    agent, analyst = setup["agent"], setup["analyst"]
    evaluation_id = evaluate(setup["version"], agent.id, "E-3", now=now, analyst_id=analyst.id)
    evaluation = db.session.get(Evaluation, evaluation_id)
    services.confirm_due(now=evaluation.window_ends_at)
    assert _counted(agent.id) == 20
    services.correct_evaluation(evaluation, services.row_of(evaluation, score=85.0,
                                                            is_critical_fail=False),
                                reason="re-import", actor_id=analyst.id,
                                now=evaluation.window_ends_at)
    db.session.commit()
    entries = _entries(evaluation_id)
    assert [(e.points, e.status) for e in entries] == [(20, "reversed"), (5, "confirmed")]
    reversal = db.session.scalar(select(PointEntry).where(
        PointEntry.reverses_id == entries[0].id))
    assert reversal.points == -20
    assert _counted(agent.id) == 5


def test_uphold_confirms_the_points(db, now, setup):
    agent = setup["agent"]
    evaluation_id = evaluate(setup["version"], agent.id, "E-4", now=now,
                             analyst_id=setup["analyst"].id)
    dispute = services.raise_dispute(evaluation_id, reason="I think it was fine.",
                                     actor_id=agent.id, now=now)
    services.resolve_dispute(dispute.id, decision="uphold", note="Scored as heard.",
                             actor_id=setup["analyst"].id, now=now)
    db.session.commit()
    assert dispute.status == "upheld"
    assert [e.status for e in _entries(evaluation_id)] == ["confirmed"]
    assert _counted(agent.id) == 20


def test_who_may_dispute_and_resolve(db, now, setup):
    agent, other, lead = setup["agent"], setup["other"], setup["lead"]
    evaluation_id = evaluate(setup["version"], agent.id, "E-5", now=now,
                             analyst_id=setup["analyst"].id)
    with pytest.raises(QaError):       # not one's own evaluation
        services.raise_dispute(evaluation_id, reason="Not mine at all.", actor_id=other.id,
                               now=now)
    with pytest.raises(QaError):       # no reason
        services.raise_dispute(evaluation_id, reason=" ", actor_id=agent.id, now=now)
    evaluation = db.session.get(Evaluation, evaluation_id)
    with pytest.raises(QaError):       # after the window
        services.raise_dispute(evaluation_id, reason="Too late now.", actor_id=agent.id,
                               now=evaluation.window_ends_at)
    dispute = services.raise_dispute(evaluation_id, reason="Wrongly scored.",
                                     actor_id=agent.id, now=now)
    with pytest.raises(QaError):       # twice
        services.raise_dispute(evaluation_id, reason="Wrongly scored.", actor_id=agent.id,
                               now=now)
    outsider_lead = other   # an agent of another team may not resolve
    with pytest.raises(QaError):
        services.resolve_dispute(dispute.id, decision="uphold", note="x",
                                 actor_id=outsider_lead.id, now=now)
    with pytest.raises(QaError):       # the agent resolving their own dispute
        services.resolve_dispute(dispute.id, decision="uphold", note="x", actor_id=agent.id,
                                 now=now)
    with pytest.raises(QaError):       # an amended score out of range
        services.resolve_dispute(dispute.id, decision="amend", score=120, note="x",
                                 actor_id=lead.id, now=now)
    assert dispute.status == "open"


def test_a_critical_fail_earns_nothing_assigns_remediation_and_goes_to_the_ladder(
        db, now, setup, make_user):
    agent, analyst = setup["agent"], setup["analyst"]
    trainer = make_user(Role.TRAINER)
    services.save_remediation_rule("disclosure_without_verification", item_kind="scenario",
                                   item_code="S07", title="Verify before you disclose",
                                   due_days=5, actor_id=trainer.id, now=now)
    evaluation_id = evaluate(setup["version"], agent.id, "E-6", now=now, analyst_id=analyst.id,
                             results={"verification": "fail"})
    db.session.commit()
    evaluation = db.session.get(Evaluation, evaluation_id)
    assert evaluation.score == 0 and evaluation.is_critical_fail
    assert _entries(evaluation_id) == []
    [assignment] = db.session.scalars(select(Assignment).where(
        Assignment.user_id == agent.id)).all()
    assert (assignment.item_kind, assignment.item_code) == ("scenario", "S07")
    assert assignment.source_id == str(evaluation_id)
    # no violation while it can still be disputed; confirmed → on the ladder
    assert db.session.scalar(select(func.count()).select_from(Violation)) == 0
    services.confirm_due(now=evaluation.window_ends_at)
    db.session.commit()
    violation = db.session.get(Violation, evaluation.violation_id)
    assert violation.user_id == agent.id
    assert violation.sop_rule == "disclosure_without_verification"
    assert violation.recorded_by_id == analyst.id
