"""Taking quizzes: drawing, saving as you go, the server's time limit, grading, attempts,
grading methods, essays by hand, points diminishing on later attempts."""
from __future__ import annotations

from datetime import timedelta

import pytest
from sqlalchemy import select

from app.auth.roles import Role
from app.incentives.models import PointEntry
from app.training import quizzes
from app.training.quizzes import QuizError
from tests.training.conftest import RIGHT


def _answer_all(attempt, user, now, wrong: int = 0):
    """Answer every question right, except the first `wrong` ones."""
    for i, entry in enumerate(attempt.questions):
        name = entry["body"]["name"]
        response = RIGHT[name]
        if entry["body"]["qtype"] == "single":   # shown order → the index shown
            response = entry["order"].index(response)
        if i < wrong:
            response = {"single": 1, "numerical": "9", "multiple": [2], "truefalse": False,
                        "matching": {}}[entry["body"]["qtype"]]
            if entry["body"]["qtype"] == "single":
                response = entry["order"].index(1)
        quizzes.save_answer(attempt.id, i, response, user, now=now)


def _points(db, user_id):
    return [(e.event, e.points) for e in db.session.scalars(
        select(PointEntry).where(PointEntry.user_id == user_id))]


def test_a_right_attempt_passes_and_earns_points_once(db, bank, make_user, now):
    agent = make_user()
    attempt = quizzes.start_attempt("QB", agent, now=now)
    assert len(attempt.questions) == 5 and attempt.lang == "zh"
    _answer_all(attempt, agent, now)
    done = quizzes.submit_attempt(attempt.id, agent, now=now)
    assert (done.status, done.percent, done.passed) == ("graded", 100.0, True)
    assert _points(db, agent.id) == [("quiz.passed", 20)]
    again = quizzes.start_attempt("QB", agent, now=now)
    _answer_all(again, agent, now)
    quizzes.submit_attempt(again.id, agent, now=now)
    assert _points(db, agent.id) == [("quiz.passed", 20)]   # one quiz, one award


def test_a_failed_attempt_then_a_pass_earns_diminished_points(db, bank, make_user, now):
    agent = make_user()
    first = quizzes.start_attempt("QB", agent, now=now)
    _answer_all(first, agent, now, wrong=2)
    failed = quizzes.submit_attempt(first.id, agent, now=now)
    assert failed.passed is False and failed.percent == 60.0
    assert _points(db, agent.id) == []
    second = quizzes.start_attempt("QB", agent, now=now)
    assert second.number == 2
    _answer_all(second, agent, now)
    assert quizzes.submit_attempt(second.id, agent, now=now).passed
    assert _points(db, agent.id) == [("quiz.passed", 10)]   # 50 % on the second attempt
    assert quizzes.quiz_grade(second.quiz, agent.id) == 100.0


def test_the_attempts_limit_holds(db, bank, make_user, now):
    agent = make_user()
    for _ in range(3):
        attempt = quizzes.start_attempt("QB", agent, now=now)
        quizzes.submit_attempt(attempt.id, agent, now=now)
    with pytest.raises(QuizError):
        quizzes.start_attempt("QB", agent, now=now)


def test_an_open_attempt_is_resumed_with_its_answers(db, bank, make_user, now):
    agent = make_user()
    attempt = quizzes.start_attempt("QB", agent, now=now)
    quizzes.save_answer(attempt.id, 1, "3", agent, now=now)
    resumed = quizzes.start_attempt("QB", agent, now=now + timedelta(minutes=3))
    assert resumed.id == attempt.id and resumed.responses == {"1": "3"}


def test_the_server_enforces_the_time_limit(db, bank, make_user, now):
    agent = make_user()
    attempt = quizzes.start_attempt("QT", agent, now=now)
    assert attempt.deadline_at == now + timedelta(minutes=5)
    quizzes.save_answer(attempt.id, 0, 0, agent, now=now + timedelta(minutes=4))
    with pytest.raises(QuizError):
        quizzes.save_answer(attempt.id, 1, "3", agent, now=now + timedelta(minutes=6))
    assert "1" not in attempt.responses
    # coming back after the limit submits what was saved
    quizzes.start_attempt("QT", agent, now=now + timedelta(minutes=7))
    assert attempt.status == "graded" and attempt.submitted_at == attempt.deadline_at


def test_nobody_answers_anothers_attempt(db, bank, make_user, now):
    agent, other = make_user(), make_user()
    attempt = quizzes.start_attempt("QB", agent, now=now)
    with pytest.raises(QuizError):
        quizzes.save_answer(attempt.id, 0, 0, other, now=now)
    with pytest.raises(QuizError):
        quizzes.submit_attempt(attempt.id, other, now=now)


def test_an_essay_waits_for_the_trainer(db, bank, make_user, now):
    agent, trainer = make_user(), make_user(Role.TRAINER)
    attempt = quizzes.start_attempt("QE", agent, now=now)
    quizzes.save_answer(attempt.id, 0, attempt.questions[0]["order"].index(0), agent, now=now)
    quizzes.save_answer(attempt.id, 1, "您好，非常理解您的心情……", agent, now=now)
    submitted = quizzes.submit_attempt(attempt.id, agent, now=now)
    assert submitted.status == "pending_review" and submitted.percent is None
    with pytest.raises(QuizError):
        quizzes.grade_by_hand(attempt.id, 1, 1.0, "", actor=agent, now=now)
    graded = quizzes.grade_by_hand(attempt.id, 1, 0.8, "开场不错，补充跟进。", actor=trainer,
                                   now=now)
    assert (graded.status, graded.percent, graded.passed) == ("graded", 90.0, True)
    assert graded.marks[1]["feedback"] == ["开场不错，补充跟进。"]
    assert _points(db, agent.id) == [("quiz.passed", 20)]


def test_shuffled_choices_are_graded_by_what_was_shown(db, bank, make_user, now):
    agent = make_user()
    attempt = quizzes.start_attempt("QT", agent, now=now)
    entry = next(e for e in attempt.questions if e["body"]["name"] == "B-1")
    index = attempt.questions.index(entry)
    wrong_shown = entry["order"].index(1)
    quizzes.save_answer(attempt.id, index, wrong_shown, agent, now=now)
    done = quizzes.submit_attempt(attempt.id, agent, now=now)
    assert done.marks[index]["fraction"] == 0


def test_review_follows_the_quiz_policy(db, bank, make_user, now):
    agent = make_user()
    attempt = quizzes.start_attempt("QB", agent, now=now)
    assert not quizzes.may_review(attempt)
    quizzes.submit_attempt(attempt.id, agent, now=now)
    assert quizzes.may_review(attempt)            # after_attempt
    attempt.quiz.review = "after_pass"
    assert not quizzes.may_review(attempt)        # failed, so not yet
    attempt.quiz.review = "never"
    assert not quizzes.may_review(attempt)


def test_an_english_speaker_gets_english_questions_when_there_are_some(db, bank, make_user,
                                                                         now):
    from app.training import importers
    plan = importers.plan_gift("$CATEGORY: t/basics\n::B-1:: Which hotline is 95598?"
                               "{=State Grid ~China Mobile}\n", "en.gift")
    importers.apply_gift(plan, filename="en.gift", actor_id=None, now=now)
    agent = make_user()
    agent.locale = "en"
    attempt = quizzes.start_attempt("QT", agent, now=now)
    names = {e["body"]["name"]: e["body"]["text"] for e in attempt.questions}
    assert attempt.lang == "en" and names == {"B-1": "Which hotline is 95598?"}
