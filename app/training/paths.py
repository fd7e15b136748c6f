"""Learning paths: enrolling people (one by one or a whole cohort), where each stands (what
is done, next, overdue), completing a path (points, badge, certificate)."""
from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime, timedelta

from sqlalchemy import select

from app.audit.services import record_audit
from app.auth.models import User, UserRole
from app.centre.events import learning_event
from app.centre.periods import centre_tz
from app.database import db
from app.errors import DomainError
from app.i18n import N_
from app.incentives import services as incentives
from app.incentives.rules import Event
from app.notifications.services import notify
from app.training.models import Enrolment, LearningPath, LessonRead, PathItem, Quiz, QuizAttempt


class PathError(DomainError):
    pass


def get_path(code: str) -> LearningPath:
    path = db.session.scalar(select(LearningPath).where(LearningPath.code == code))
    if path is None or not path.is_active:
        raise PathError(N_("There is no learning path %(code)s."), code=code)
    return path


def enrol(path_code: str, user_ids: list[int], *, source: str, actor_id: int | None,
          now: datetime) -> int:
    """Enrol people in a path; those enrolled already are left as they are."""
    path = get_path(path_code)
    today = now.astimezone(centre_tz()).date()
    enrolled = set(db.session.scalars(select(Enrolment.user_id).where(
        Enrolment.path_id == path.id, Enrolment.user_id.in_(user_ids))))
    added = 0
    for user_id in user_ids:
        if user_id in enrolled:
            continue
        db.session.add(Enrolment(path_id=path.id, user_id=user_id, enrolled_on=today,
                                 enrolled_by_id=actor_id, source=source[:40]))
        notify(user_id, N_("You are enrolled in the learning path %(title)s."),
               params={"title": path.title_zh}, link=f"/training/paths/{path.code}", now=now)
        added += 1
    db.session.flush()
    if added:
        record_audit("training.enrolled", actor_id=actor_id, now=now, target_type="path",
                     target_id=path.id, details={"path": path.code, "count": added,
                                                 "source": source})
    return added


def enrol_cohort(path_code: str, cohort: str, *, actor_id: int | None, now: datetime) -> int:
    """Everyone active hired in the month `cohort` ("YYYY-MM") who is an agent."""
    year, month = (int(part) for part in cohort.split("-"))
    first = date(year, month, 1)
    after = date(year + month // 12, month % 12 + 1, 1)
    ids = list(db.session.scalars(select(User.id).where(
        User.is_active.is_(True), User.hire_date >= first, User.hire_date < after,
        User.id.in_(select(UserRole.user_id).where(UserRole.role == "agent")))))
    if not ids:
        raise PathError(N_("Nobody active was hired in %(cohort)s."), cohort=cohort)
    return enrol(path_code, ids, source=f"cohort:{cohort}", actor_id=actor_id, now=now)


@dataclass
class ItemState:
    item: PathItem
    done: bool
    available: bool          # every required item is done
    due_on: date
    overdue: bool


@dataclass
class PathState:
    enrolment: Enrolment
    items: list[ItemState]

    @property
    def done(self) -> int:
        return sum(1 for s in self.items if s.done)

    @property
    def complete(self) -> bool:
        return bool(self.items) and self.done == len(self.items)

    @property
    def next(self) -> ItemState | None:
        return next((s for s in self.items if not s.done and s.available), None)

    @property
    def overdue(self) -> list[ItemState]:
        return [s for s in self.items if s.overdue]

    @property
    def percent(self) -> int:
        return round(100 * self.done / len(self.items)) if self.items else 0


def _done_refs(user_id: int) -> dict[str, set[str]]:
    """What the learner has done, by kind: lessons read, quizzes passed, scenarios whose
    positive practice passed, scenarios signed off."""
    from app.scenarios.models import Scenario, ScenarioProgress
    lessons = set(db.session.scalars(select(LessonRead.lesson_code).where(
        LessonRead.user_id == user_id)))
    quizzes = set(db.session.scalars(select(Quiz.code).join(QuizAttempt).where(
        QuizAttempt.user_id == user_id, QuizAttempt.passed.is_(True))))
    runs = db.session.execute(select(Scenario.code, ScenarioProgress.status).join(
        Scenario, Scenario.id == ScenarioProgress.scenario_id).where(
        ScenarioProgress.user_id == user_id, ScenarioProgress.is_preview.is_(False))).all()
    practised = {code for code, status in runs if status in ("awaiting_sign_off", "completed")}
    signed = {code for code, status in runs if status == "completed"}
    return {"lesson": lessons, "quiz": quizzes, "scenario": practised, "sign_off": signed}


def state_of(enrolment: Enrolment, today: date, done: dict | None = None) -> PathState:
    user = enrolment.user
    done = done if done is not None else _done_refs(user.id)
    start = user.hire_date if enrolment.path.due_from == "hire" else enrolment.enrolled_on
    states: dict[str, ItemState] = {}
    for item in enrolment.path.items:
        finished = item.ref in done[item.kind]
        due_on = start + timedelta(days=item.due_days)
        states[item.code] = ItemState(
            item=item, done=finished,
            available=all(states[r].done for r in item.requires if r in states),
            due_on=due_on, overdue=not finished and due_on < today)
    return PathState(enrolment, list(states.values()))


def enrolments_of(user_id: int) -> list[Enrolment]:
    return list(db.session.scalars(select(Enrolment).where(Enrolment.user_id == user_id)
                                   .order_by(Enrolment.enrolled_on)))


def refresh_completion(user_id: int, *, now: datetime) -> list[Enrolment]:
    """Mark the paths the learner has now finished complete: points, the completion badge
    (the badges that follow the event) and a notice with the certificate."""
    finished = []
    today = now.astimezone(centre_tz()).date()
    done = _done_refs(user_id)
    for enrolment in enrolments_of(user_id):
        if enrolment.completed_at is not None:
            continue
        if not state_of(enrolment, today, done).complete:
            continue
        enrolment.completed_at = now
        incentives.award(incentives.Award(
            event=Event.PATH_COMPLETED, user_id=user_id,
            idempotency_key=f"path:{enrolment.path.code}:{user_id}:completed",
            source_type="learning_path", source_id=str(enrolment.id), occurred_at=now,
            details={"path": enrolment.path.code}), now=now)
        learning_event.send("training", kind="completed", user_id=user_id, object_type="path",
                            object_id=enrolment.path.code, object_name=enrolment.path.title_zh,
                            score=100.0, completed=True, at=now)
        notify(user_id, N_("You completed the learning path %(title)s. Your certificate is "
                           "ready."), params={"title": enrolment.path.title_zh},
               link=f"/training/paths/{enrolment.path.code}/certificate", now=now)
        finished.append(enrolment)
    return finished


def mark_lesson_read(code: str, user_id: int, *, now: datetime) -> LessonRead:
    read = db.session.scalar(select(LessonRead).where(LessonRead.user_id == user_id,
                                                      LessonRead.lesson_code == code))
    if read is None:
        read = LessonRead(user_id=user_id, lesson_code=code, read_at=now)
        db.session.add(read)
        db.session.flush()
        learning_event.send("training", kind="completed", user_id=user_id,
                            object_type="lesson", object_id=code, object_name=code,
                            completed=True, at=now)
        refresh_completion(user_id, now=now)
    return read
