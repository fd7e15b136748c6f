"""Recording imported evaluations in bulk and confirming them after the dispute window:
pending points that count once confirmed, nothing for a critical fail until the window
ends — then a violation on the ladder."""
from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest
from sqlalchemy import func, select

from app.incentives.models import PointEntry, PointRollup, Violation
from app.qa import rules, services
from app.qa.models import Evaluation, EvaluationItem
from tests.support.qa import evaluate, phone_scorecard, qa_import


def row(version, user_id: int, external_id: str, score: float, *, critical=False,
        items=(), evaluated_at=datetime(2026, 3, 2, 2, 0, tzinfo=UTC)):
    return services.EvaluationRow(
        external_id=external_id, user_id=user_id, scorecard_version_id=version.id,
        evaluated_at=evaluated_at, channel="phone", evaluator="Wang", score=score,
        is_critical_fail=critical, comment="", fingerprint=rules.fingerprint(score, critical, []),
        items=list(items))


def counted(db, user_id: int) -> int:
    return db.session.scalar(select(func.coalesce(func.sum(PointRollup.points), 0))
                             .where(PointRollup.user_id == user_id))


def entry_of(db, evaluation_id: int, revision: int = 0) -> PointEntry | None:
    return db.session.scalar(select(PointEntry).where(
        PointEntry.idempotency_key == services.points_key(evaluation_id, revision)))


def test_evaluations_are_recorded_in_bulk_with_items_and_pending_points(db, now, qa):
    version = phone_scorecard(now)
    greeting = next(c for c in version.criteria if c.code == "greeting")
    done = qa_import(qa.analyst.id, now)
    rows = [row(version, qa.agent.id, "E-1", 96.0,
                items=[services.ItemRow(greeting.id, 10.0, True, "fine")]),
            row(version, qa.other.id, "E-2", 91.0),
            row(version, qa.agent.id, "E-3", 0.0, critical=True),
            row(version, qa.other.id, "E-4", 70.0)]
    ids = services.record_evaluations(rows, source="tool", import_id=done.id,
                                      actor_id=qa.analyst.id, now=now)
    db.session.commit()
    assert [db.session.get(Evaluation, i).external_id for i in ids] == ["E-1", "E-2", "E-3",
                                                                        "E-4"]
    first = db.session.get(Evaluation, ids[0])
    assert (first.status, first.revision, first.import_id) == ("pending", 0, done.id)
    assert first.evaluated_at == datetime(2026, 3, 2, 2, 0, tzinfo=UTC)
    [item] = db.session.scalars(select(EvaluationItem)).all()
    assert (item.evaluation_id, item.points, item.comment) == (ids[0], 10.0, "fine")
    # the score bands: ≥ 95 → 20, ≥ 90 → 10, below 80 nothing; a critical fail earns nothing
    assert [(e.points, e.status) if e else None for e in (entry_of(db, i) for i in ids)] == [
        (20, "pending"), (10, "pending"), None, None]
    assert counted(db, qa.agent.id) == 0


def test_the_window_ends_after_three_working_days_in_the_centres_time(db, now, qa):
    # now is Sunday 15 March 2026, 10:30 in Shanghai: Monday, Tuesday, Wednesday
    assert services.dispute_window_end(now) == datetime(2026, 3, 18, 16, 0, tzinfo=UTC)
    friday = datetime(2026, 3, 13, 9, 0, tzinfo=UTC)
    assert services.dispute_window_end(friday) == datetime(2026, 3, 18, 16, 0, tzinfo=UTC)


def test_the_window_follows_the_configuration(db, now, qa, app, monkeypatch):
    monkeypatch.setitem(app.config, "QA_DISPUTE_WORKING_DAYS", 1)
    assert services.dispute_window_end(now) == datetime(2026, 3, 16, 16, 0, tzinfo=UTC)


def test_pending_points_are_confirmed_when_the_window_ends(db, now, qa):
    version = phone_scorecard(now)
    evaluation_id = evaluate(version, qa.agent.id, "E-1", now=now, analyst_id=qa.analyst.id)
    db.session.commit()
    evaluation = db.session.get(Evaluation, evaluation_id)
    assert evaluation.window_ends_at == datetime(2026, 3, 18, 16, 0, tzinfo=UTC)
    assert services.confirm_due(now=evaluation.window_ends_at - timedelta(seconds=1)) == 0
    assert entry_of(db, evaluation_id).status == "pending"

    later = evaluation.window_ends_at
    assert services.confirm_due(now=later) == 1
    db.session.commit()
    assert (evaluation.status, evaluation.confirmed_at) == ("confirmed", later)
    assert entry_of(db, evaluation_id).status == "confirmed"
    assert counted(db, qa.agent.id) == 20
    assert services.confirm_due(now=later + timedelta(days=1)) == 0     # once only


def test_a_confirmed_critical_fail_records_a_violation_in_the_analysts_name(db, now, qa):
    version = phone_scorecard(now)
    evaluation_id = evaluate(version, qa.agent.id, "E-1", now=now, analyst_id=qa.analyst.id,
                             results={"no_forbidden_phrases": "fail"})
    db.session.commit()
    evaluation = db.session.get(Evaluation, evaluation_id)
    assert (evaluation.score, evaluation.is_critical_fail) == (0.0, True)
    assert db.session.scalar(select(Violation)) is None      # not while it can be disputed
    assert services.confirm_due(now=evaluation.window_ends_at) == 1
    db.session.commit()
    violation = db.session.get(Violation, evaluation.violation_id)
    assert (violation.user_id, violation.recorded_by_id, violation.sop_rule) == (
        qa.agent.id, qa.analyst.id, "forbidden_phrase")
    assert "E-1" in violation.evidence
    assert violation.occurred_on.isoformat() == "2026-03-15"
    assert entry_of(db, evaluation_id) is None
    assert services.confirm_due(now=evaluation.window_ends_at + timedelta(days=1)) == 0
    assert db.session.scalar(select(func.count()).select_from(Violation)) == 1


@pytest.mark.parametrize("count", [0, 1])
def test_recording_nothing_or_one_row_works(db, now, qa, count):
    version = phone_scorecard(now)
    rows = [row(version, qa.agent.id, "E-1", 96.0)][:count]
    assert len(services.record_evaluations(rows, source="tool", import_id=None,
                                           actor_id=qa.analyst.id, now=now)) == count
