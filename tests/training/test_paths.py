"""Learning paths: prerequisites, due dates relative to the hire date (or the enrolment),
enrolling a cohort, completion with points, badge and certificate."""
from __future__ import annotations

from datetime import date, timedelta

import pytest
from sqlalchemy import select

from app.incentives.models import BadgeAward, PointEntry
from app.training import importers, paths, quizzes
from app.training.paths import PathError
from tests.training.test_quizzes import _answer_all

PATH = {"code": "P1", "title": {"zh": "入职", "en": "Onboarding"}, "due_from": "hire",
        "items": [
            {"code": "A", "kind": "lesson", "ref": "L-B", "title": {"zh": "课", "en": "Lesson"},
             "due_days": 1},
            {"code": "B", "kind": "quiz", "ref": "QB", "title": {"zh": "测", "en": "Quiz"},
             "due_days": 3, "requires": ["A"]},
        ]}


@pytest.fixture()
def path(db, bank, now):
    assert importers.validate_path(PATH, "p") == []
    importers.save_path(PATH, now=now)
    db.session.commit()


def test_prerequisites_and_due_dates(db, path, make_user, now):
    agent = make_user(hire_date=date(2026, 3, 2))
    paths.enrol("P1", [agent.id], source="individual", actor_id=None, now=now)
    [enrolment] = paths.enrolments_of(agent.id)
    state = paths.state_of(enrolment, date(2026, 3, 4))
    first, second = state.items
    assert (first.due_on, second.due_on) == (date(2026, 3, 3), date(2026, 3, 5))
    assert first.available and not second.available       # B needs A
    assert first.overdue and not second.overdue            # A was due on the 3rd
    assert state.next.item.code == "A" and state.percent == 0
    paths.mark_lesson_read("L-B", agent.id, now=now)
    state = paths.state_of(enrolment, date(2026, 3, 4))
    assert state.items[0].done and state.items[1].available and state.next.item.code == "B"


def test_due_dates_from_the_enrolment(db, path, make_user, now):
    spec = {**PATH, "code": "P2", "due_from": "enrolment"}
    importers.save_path(spec, now=now)
    agent = make_user(hire_date=date(2020, 1, 1))
    paths.enrol("P2", [agent.id], source="individual", actor_id=None, now=now)
    enrolment = next(e for e in paths.enrolments_of(agent.id) if e.path.code == "P2")
    assert paths.state_of(enrolment, now.date()).items[0].due_on == \
        enrolment.enrolled_on + timedelta(days=1)


def test_a_cohort_is_enrolled_once(db, path, make_user, now):
    march = [make_user(hire_date=date(2026, 3, d)) for d in (2, 9)]
    make_user(hire_date=date(2026, 2, 23))
    assert paths.enrol_cohort("P1", "2026-03", actor_id=None, now=now) == 2
    assert paths.enrol_cohort("P1", "2026-03", actor_id=None, now=now) == 0
    assert {e.user_id for m in march for e in paths.enrolments_of(m.id)} == \
        {m.id for m in march}
    with pytest.raises(PathError):
        paths.enrol_cohort("P1", "1999-01", actor_id=None, now=now)


def test_completing_a_path_earns_points_the_badge_and_the_certificate(db, path, make_user,
                                                                       now):
    agent = make_user(hire_date=date(2026, 3, 2))
    paths.enrol("P1", [agent.id], source="individual", actor_id=None, now=now)
    paths.mark_lesson_read("L-B", agent.id, now=now)
    attempt = quizzes.start_attempt("QB", agent, now=now)
    _answer_all(attempt, agent, now)
    quizzes.submit_attempt(attempt.id, agent, now=now)
    [enrolment] = paths.enrolments_of(agent.id)
    assert enrolment.completed_at == now
    events = {e.event for e in db.session.scalars(select(PointEntry).where(
        PointEntry.user_id == agent.id))}
    assert "training.path_completed" in events
    badge = db.session.scalar(select(BadgeAward).where(BadgeAward.user_id == agent.id))
    assert badge is not None and badge.badge.code == "onboarding_graduate"


@pytest.mark.parametrize("mutate, message", [
    (lambda p: p["items"][1].update(requires=["Z"]), "is not an earlier item"),
    (lambda p: p["items"][1].update(kind="video"), "The kind is lesson"),
    (lambda p: p["items"][1].update(code="A"), "its own code"),
    (lambda p: p["items"][0].update(due_days=-1), "due_days"),
    (lambda p: p.update(due_from="later"), "due_from"),
    (lambda p: p["items"][0]["title"].pop("en"), "both languages"),
])
def test_a_broken_path_is_refused(mutate, message):
    import copy
    spec = copy.deepcopy(PATH)
    mutate(spec)
    errors = importers.validate_path(spec, "p")
    assert any(message in e.message % e.params for e in errors), errors
