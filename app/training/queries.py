"""Training's read side: the bank by category, lessons and quizzes in the reader's language,
whose paths a mentor or lead follows, essays to grade, coverage and pass rates per team and
cohort."""
from __future__ import annotations

from collections import Counter, defaultdict
from dataclasses import dataclass, field
from datetime import date

from sqlalchemy import func, select

from app.auth.models import Team, User, UserRole
from app.database import db
from app.training.models import (
    Enrolment,
    LearningPath,
    Lesson,
    ObservationNote,
    Question,
    Quiz,
    QuizAttempt,
)
from app.training.paths import PathState, _done_refs, state_of


def lang_of(locale: str) -> str:
    return "en" if (locale or "") == "en" else "zh"


def title_of(obj, locale: str) -> str:
    return obj.title_en if lang_of(locale) == "en" else obj.title_zh


def categories() -> list[tuple[str, str, int]]:
    """(category, language, questions) of the active bank."""
    return list(db.session.execute(
        select(Question.category, Question.lang, func.count(Question.id))
        .where(Question.is_active.is_(True)).group_by(Question.category, Question.lang)
        .order_by(Question.category, Question.lang)).all())


def questions_in(category: str | None, lang: str | None):
    query = select(Question).where(Question.is_active.is_(True)).order_by(
        Question.category, Question.name, Question.id)
    if category:
        query = query.where(Question.category == category)
    if lang:
        query = query.where(Question.lang == lang)
    return query


def type_counts() -> Counter:
    return Counter(dict(db.session.execute(
        select(Question.qtype, func.count(Question.id)).where(Question.is_active.is_(True))
        .group_by(Question.qtype)).all()))


def lesson(code: str, locale: str) -> Lesson | None:
    """The lesson in the reader's language, else the other one."""
    found = {row.lang: row for row in db.session.scalars(select(Lesson).where(
        Lesson.code == code))}
    return found.get(lang_of(locale)) or next(iter(found.values()), None)


def lessons(locale: str) -> list[Lesson]:
    rows = db.session.scalars(select(Lesson).order_by(Lesson.code)).all()
    by_code: dict[str, Lesson] = {}
    for row in rows:
        if row.code not in by_code or row.lang == lang_of(locale):
            by_code[row.code] = row
    return list(by_code.values())


def quizzes() -> list[Quiz]:
    return list(db.session.scalars(select(Quiz).where(Quiz.is_active.is_(True))
                                   .order_by(Quiz.code)))


def paths() -> list[LearningPath]:
    return list(db.session.scalars(select(LearningPath).where(
        LearningPath.is_active.is_(True)).order_by(LearningPath.code)))


def states_of(user_ids, today: date) -> dict[int, list[PathState]]:
    """Each person's path states."""
    ids = list(user_ids)
    result: dict[int, list[PathState]] = defaultdict(list)
    if not ids:
        return result
    for enrolment in db.session.scalars(select(Enrolment).where(Enrolment.user_id.in_(ids))
                                        .order_by(Enrolment.user_id, Enrolment.enrolled_on)):
        result[enrolment.user_id].append(state_of(enrolment, today,
                                                  _done_refs(enrolment.user_id)))
    return result


def essays_to_grade() -> list[QuizAttempt]:
    return list(db.session.scalars(select(QuizAttempt).where(
        QuizAttempt.status == "pending_review").order_by(QuizAttempt.submitted_at)))


def notes_of(apprentice_id: int) -> list[ObservationNote]:
    return list(db.session.scalars(select(ObservationNote).where(
        ObservationNote.apprentice_id == apprentice_id)
        .order_by(ObservationNote.observed_on.desc(), ObservationNote.id.desc())))


@dataclass
class Coverage:
    """A team's or cohort's training: enrolled, completed, attempts and pass rate."""

    label: str
    agents: int = 0
    enrolled: int = 0
    completed: int = 0
    overdue: int = 0
    tested: set = field(default_factory=set)     # agents with a graded attempt
    passed: set = field(default_factory=set)     # agents with a passed attempt
    attempts: int = 0
    passed_attempts: int = 0

    @property
    def coverage(self) -> float:
        return round(100 * self.enrolled / self.agents, 1) if self.agents else 0.0

    @property
    def attempt_pass_rate(self) -> float | None:
        """Of the graded attempts, the share passed: how often a test is passed at once."""
        return round(100 * self.passed_attempts / self.attempts, 1) if self.attempts else None

    @property
    def pass_rate(self) -> float | None:
        """Of the agents tested, the share who passed (the 90 % target is on this)."""
        return round(100 * len(self.passed) / len(self.tested), 1) if self.tested else None


TARGET_PASS_RATE = 90.0


def coverage_report(*, by: str, today: date, quiz_code: str | None = None) -> list[Coverage]:
    agents = db.session.execute(
        select(User.id, User.team_id, User.hire_date).where(
            User.is_active.is_(True),
            User.id.in_(select(UserRole.user_id).where(UserRole.role == "agent")))).all()
    teams = dict(db.session.execute(select(Team.id, Team.name)).all())
    groups: dict[str, Coverage] = {}
    group_of: dict[int, Coverage] = {}
    for user_id, team_id, hired in agents:
        label = (f"{hired.year:04d}-{hired.month:02d}" if by == "cohort"
                 else teams.get(team_id, "—"))
        group = groups.setdefault(label, Coverage(label))
        group.agents += 1
        group_of[user_id] = group
    for user_id, states in states_of(group_of, today).items():
        group = group_of[user_id]
        group.enrolled += 1
        group.completed += int(all(s.complete for s in states))
        group.overdue += int(any(s.overdue for s in states))
    query = select(QuizAttempt.user_id, QuizAttempt.passed).where(
        QuizAttempt.status == "graded", QuizAttempt.user_id.in_(list(group_of)))
    if quiz_code:
        query = query.join(Quiz).where(Quiz.code == quiz_code)
    for user_id, passed in db.session.execute(query):
        group = group_of[user_id]
        group.attempts += 1
        group.tested.add(user_id)
        if passed:
            group.passed_attempts += 1
            group.passed.add(user_id)
    return sorted(groups.values(), key=lambda g: g.label, reverse=by == "cohort")
