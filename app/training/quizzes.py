"""Taking quizzes, the write side: start (or resume) an attempt with its questions drawn,
save each answer as it is given (the server enforces the time limit), submit and grade at
once, grade essays by hand; points through the incentive rules, diminishing on later
attempts."""
from __future__ import annotations

import random
from datetime import datetime, timedelta

from sqlalchemy import func, select

from app.auth.models import User
from app.auth.roles import Permission
from app.centre.events import learning_event
from app.database import db
from app.errors import DomainError
from app.i18n import N_
from app.incentives import services as incentives
from app.incentives.rules import Event
from app.training import grading
from app.training.models import Question, Quiz, QuizAttempt
from app.training.questions import MATCHING, MULTIPLE, SINGLE
from app.training.questions import Question as QuestionData


class QuizError(DomainError):
    pass


def _lang_of(user: User) -> str:
    return "en" if (user.locale or "zh_Hans") == "en" else "zh"


def get_quiz(code: str) -> Quiz:
    quiz = db.session.scalar(select(Quiz).where(Quiz.code == code))
    if quiz is None or not quiz.is_active:
        raise QuizError(N_("There is no quiz %(code)s."), code=code)
    return quiz


def attempts_of(quiz_id: int, user_id: int) -> list[QuizAttempt]:
    return list(db.session.scalars(select(QuizAttempt).where(
        QuizAttempt.quiz_id == quiz_id, QuizAttempt.user_id == user_id)
        .order_by(QuizAttempt.number)))


def _draw(quiz: Quiz, lang: str, rng: random.Random) -> list[Question]:
    """The fixed questions (by title) and the random draws, no question twice. A language
    without the questions falls back to the other one."""
    chosen: list[Question] = []
    taken: set[int] = set()
    for name in quiz.fixed:
        question = db.session.scalar(select(Question).where(
            Question.name == name, Question.lang == lang, Question.is_active.is_(True)))
        if question is not None and question.id not in taken:
            chosen.append(question)
            taken.add(question.id)
    for draw in quiz.draws:
        pool = [q for q in db.session.scalars(select(Question).where(
            Question.lang == lang, Question.is_active.is_(True),
            (Question.category == draw["category"])
            | Question.category.startswith(draw["category"] + "/"))
            .order_by(Question.id)) if q.id not in taken and q.qtype != "description"]
        for question in rng.sample(pool, min(draw["count"], len(pool))):
            chosen.append(question)
            taken.add(question.id)
    return chosen


def start_attempt(code: str, user: User, *, now: datetime) -> QuizAttempt:
    """Resume the open attempt, or start a new one if the quiz's policy allows it."""
    quiz = get_quiz(code)
    attempts = attempts_of(quiz.id, user.id)
    open_attempt = next((a for a in attempts if a.status == "in_progress"), None)
    if open_attempt is not None:
        if _overtime(open_attempt, now):
            submit_attempt(open_attempt.id, user, now=now)
        else:
            return open_attempt
    if quiz.attempts_allowed and len(attempts) >= quiz.attempts_allowed:
        raise QuizError(N_("You have used all %(n)s attempts of this quiz."),
                        n=quiz.attempts_allowed)
    number = len(attempts) + 1
    lang = _lang_of(user)
    rng = random.Random(f"{quiz.id}:{user.id}:{number}")
    questions = _draw(quiz, lang, rng) or _draw(quiz, "zh" if lang == "en" else "en", rng)
    if not questions:
        raise QuizError(N_("This quiz has no questions yet."))
    if quiz.shuffle:
        rng.shuffle(questions)
    snapshot = []
    for question in questions:
        body = dict(question.body)
        size = len(body.get("choices") or []) if body["qtype"] in (SINGLE, MULTIPLE) else 0
        order = list(range(size))
        if quiz.shuffle:
            rng.shuffle(order)
        answers = sorted({p["answer"] for p in body.get("pairs") or []}) \
            if body["qtype"] == MATCHING else []
        if quiz.shuffle:
            rng.shuffle(answers)
        snapshot.append({"question_id": question.id, "body": body, "order": order,
                         "answers": answers})
    attempt = QuizAttempt(
        quiz_id=quiz.id, user_id=user.id, number=number, lang=lang, questions=snapshot,
        responses={}, status="in_progress", started_at=now,
        deadline_at=now + timedelta(minutes=quiz.time_limit_minutes)
        if quiz.time_limit_minutes else None)
    db.session.add(attempt)
    db.session.flush()
    learning_event.send("training", kind="attempted", user_id=user.id, object_type="quiz",
                        object_id=quiz.code, object_name=quiz.title_zh if lang == "zh"
                        else quiz.title_en, at=now)
    return attempt


def _own(attempt_id: int, user: User) -> QuizAttempt:
    attempt = db.session.get(QuizAttempt, attempt_id)
    if attempt is None or attempt.user_id != user.id:
        raise QuizError(N_("This attempt is not yours."))
    return attempt


def _overtime(attempt: QuizAttempt, now: datetime) -> bool:
    return attempt.deadline_at is not None and grading.is_overtime(
        attempt.started_at, attempt.quiz.time_limit_minutes, now)


def save_answer(attempt_id: int, index: int, response, user: User, *,
                now: datetime) -> QuizAttempt:
    """Keep one answer as it is given. After the time limit nothing more is taken."""
    attempt = _own(attempt_id, user)
    if attempt.status != "in_progress":
        raise QuizError(N_("This attempt is already submitted."))
    if _overtime(attempt, now):
        raise QuizError(N_("The time is up: this answer came too late."))
    if not 0 <= index < len(attempt.questions):
        raise QuizError(N_("There is no question %(n)s in this attempt."), n=index + 1)
    attempt.responses = {**attempt.responses, str(index): _clean(response)}
    return attempt


def _clean(response):
    """Only the shapes an answer can have: a number, a list of numbers, text, a yes/no, or a
    mapping of texts."""
    if response is None or isinstance(response, (bool, int, float)):
        return response
    if isinstance(response, str):
        return response[:5000]
    if isinstance(response, list):
        return [int(x) for x in response if isinstance(x, (int, str)) and str(x).isdigit()][:50]
    if isinstance(response, dict):
        return {str(k)[:500]: str(v)[:500] for k, v in list(response.items())[:50]}
    raise QuizError(N_("This answer cannot be read."))


def _response_for(entry: dict, response):
    """The learner answered in the shown order; grading works on the question's order."""
    qtype = entry["body"]["qtype"]
    order = entry.get("order") or []
    if qtype == SINGLE and isinstance(response, int) and 0 <= response < len(order):
        return order[response]
    if qtype == MULTIPLE and isinstance(response, list):
        return [order[i] for i in response if 0 <= i < len(order)]
    return response


def _grade(attempt: QuizAttempt) -> None:
    marks = []
    for i, entry in enumerate(attempt.questions):
        question = QuestionData.from_dict(entry["body"])
        if not question.is_graded:
            marks.append(None)
            continue
        previous = (attempt.marks or [None] * len(attempt.questions))[i]
        if question.by_hand and previous and previous.get("fraction") is not None:
            marks.append(previous)   # graded by the trainer already
            continue
        mark = grading.grade(question, _response_for(entry, attempt.responses.get(str(i))))
        marks.append({"fraction": mark.fraction, "right": mark.right,
                      "feedback": list(mark.feedback)})
    attempt.marks = marks
    graded = [(1.0, grading.Mark(m["fraction"], m["right"], m["feedback"]))
              for m in marks if m is not None]
    percent, _points = grading.attempt_score(graded)
    attempt.percent = percent
    if percent is None:
        attempt.status, attempt.passed = "pending_review", None
    else:
        attempt.status = "graded"
        attempt.passed = bool(grading.passed(percent, attempt.quiz.pass_mark))


def submit_attempt(attempt_id: int, user: User, *, now: datetime) -> QuizAttempt:
    attempt = _own(attempt_id, user)
    if attempt.status != "in_progress":
        return attempt
    attempt.submitted_at = min(now, attempt.deadline_at) if attempt.deadline_at else now
    _grade(attempt)
    if attempt.status == "graded":
        attempt.graded_at = now
        _award(attempt, now)
    _tell(attempt, now)
    return attempt


def _tell(attempt: QuizAttempt, now: datetime) -> None:
    """The learning event of a submitted or graded attempt (for the LMS and the LRS)."""
    quiz = attempt.quiz
    common = {"user_id": attempt.user_id, "object_type": "quiz", "object_id": quiz.code,
              "object_name": quiz.title_zh if attempt.lang == "zh" else quiz.title_en,
              "at": now}
    for i, (entry, mark) in enumerate(zip(attempt.questions, attempt.marks or [],
                                          strict=False)):
        if mark is not None and mark.get("fraction") is not None:
            learning_event.send("training", kind="answered", user_id=attempt.user_id,
                                object_type="question", object_id=f"{quiz.code}-{i + 1}",
                                object_name=entry["body"].get("name") or entry["body"]["text"][:80],
                                score=100 * mark["fraction"], passed=bool(mark.get("right")),
                                at=now)
    if attempt.status == "pending_review":
        learning_event.send("training", kind="completed", pending=True, completed=True,
                            **common)
    else:
        learning_event.send("training", kind="passed" if attempt.passed else "failed",
                            score=attempt.percent, passed=bool(attempt.passed),
                            completed=True, **common)


def _award(attempt: QuizAttempt, now: datetime) -> None:
    """The first passing attempt of a quiz earns points, fewer on later attempts."""
    if not attempt.passed:
        return
    code = attempt.quiz.code
    incentives.award(incentives.Award(
        event=Event.QUIZ_PASSED, user_id=attempt.user_id,
        idempotency_key=f"quiz:{code}:{attempt.user_id}:passed", source_type="quiz_attempt",
        source_id=str(attempt.id), occurred_at=attempt.submitted_at or now,
        attempt=attempt.number, score=attempt.percent,
        details={"quiz": code, "attempt": attempt.number, "percent": attempt.percent}),
        now=now)
    from app.training import paths
    paths.refresh_completion(attempt.user_id, now=now)


def grade_by_hand(attempt_id: int, index: int, fraction: float, feedback: str, *,
                  actor: User, now: datetime) -> QuizAttempt:
    """A trainer grades an essay answer; once every essay is graded, the attempt is."""
    if not actor.can(Permission.MANAGE_TRAINING):
        raise QuizError(N_("Only a trainer grades essays."))
    attempt = db.session.get(QuizAttempt, attempt_id)
    if attempt is None or attempt.status != "pending_review":
        raise QuizError(N_("This attempt is not waiting for grading."))
    if not 0 <= index < len(attempt.questions) or \
            attempt.questions[index]["body"]["qtype"] != "essay":
        raise QuizError(N_("Only essay answers are graded by hand."))
    if not 0 <= fraction <= 1:
        raise QuizError(N_("The mark is between 0 and 100 per cent."))
    marks = list(attempt.marks)
    marks[index] = {"fraction": float(fraction), "right": fraction >= 1,
                    "feedback": [feedback.strip()[:2000]] if feedback.strip() else []}
    attempt.marks = marks
    _grade(attempt)
    if attempt.status == "graded":
        attempt.graded_at, attempt.graded_by_id = now, actor.id
        _award(attempt, now)
        _tell(attempt, now)
    return attempt


def quiz_grade(quiz: Quiz, user_id: int) -> float | None:
    """The quiz's grade for a learner, by the quiz's grading method over graded attempts."""
    scores = [a.percent for a in attempts_of(quiz.id, user_id)
              if a.status == "graded" and a.percent is not None]
    return grading.final_grade(scores, quiz.grading)


def has_passed(quiz_code: str, user_id: int) -> bool:
    return bool(db.session.scalar(
        select(func.count(QuizAttempt.id)).join(Quiz).where(
            Quiz.code == quiz_code, QuizAttempt.user_id == user_id,
            QuizAttempt.passed.is_(True))))


def may_review(attempt: QuizAttempt) -> bool:
    """Whether the learner sees the feedback and the right answers now."""
    review = attempt.quiz.review
    if attempt.status == "in_progress" or review == "never":
        return False
    return review == "after_attempt" or bool(attempt.passed)
