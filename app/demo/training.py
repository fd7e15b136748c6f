"""The demo centre's training: the shipped bank, lessons, quizzes and paths installed; last
month's and this month's cohorts on the onboarding path (lessons read, quizzes passed, one
failed and retaken, an essay waiting for the trainer), team 1 on the refresher, a special
topic for two teams, mentors' observation notes — all through the training services."""
from __future__ import annotations

from datetime import date, datetime, timedelta

from sqlalchemy import func, select

from app.auth.models import Team, User
from app.auth.queries import mentors_of
from app.auth.roles import Role
from app.database import db
from app.training import importers, paths, quizzes
from app.training.models import Enrolment, ObservationNote, Question
from app.training.services import assign_item

WEEK1 = ["L-CULTURE", "L-BUSINESS", "L-PROCESS", "L-FAQ", "L-SOP", "L-FORBIDDEN", "L-SAFETY"]
NOTES = ["接听开场规范，报工号清晰；遇到催缴电费的询问时语速偏快，已现场提醒放慢。",
         "Handled an outage call well: checked the repair system before giving a time.",
         "对愤怒客户先共情再道歉，顺序正确；结束语遗漏“还有其他需要吗”，已辅导。"]


def _answer(attempt, user, now, *, wrong: int = 0) -> None:
    """Answer with the right response, except the first `wrong` graded questions."""
    for i, entry in enumerate(attempt.questions):
        body = entry["body"]
        qtype = body["qtype"]
        if qtype == "single":
            best = max(range(len(body["choices"])), key=lambda k: body["choices"][k]["fraction"])
            right = entry["order"].index(best)
            response = (right + 1) % len(body["choices"]) if i < wrong else right
        elif qtype == "multiple":
            shown = [entry["order"].index(k) for k, c in enumerate(body["choices"])
                     if c["fraction"] > 0]
            response = [] if i < wrong else shown
        elif qtype == "truefalse":
            response = (not body["truth"]) if i < wrong else body["truth"]
        elif qtype == "short":
            response = "?" if i < wrong else next(c["text"] for c in body["choices"]
                                                 if c["fraction"] >= 1)
        elif qtype == "numerical":
            response = "-1" if i < wrong else f"{body['numerics'][0]['value']:g}"
        elif qtype == "matching":
            response = {} if i < wrong else {p["prompt"]: p["answer"] for p in body["pairs"]
                                             if p["prompt"]}
        elif qtype == "essay":
            response = "您好，非常理解您的心情，给您添麻烦了，我马上为您登记并跟进处理结果。"
        else:
            continue
        quizzes.save_answer(attempt.id, i, response, user, now=now)


def _take(code: str, user: User, now: datetime, *, wrong: int = 0):
    attempt = quizzes.start_attempt(code, user, now=now)
    _answer(attempt, user, now + timedelta(minutes=4), wrong=wrong)
    return quizzes.submit_attempt(attempt.id, user, now=now + timedelta(minutes=6))


def load_training(today: date, now: datetime, progress) -> dict:
    created = {"questions": 0, "enrolments": 0, "quiz_attempts": 0}
    created["questions"] = importers.install_library(now=now)["questions"]
    progress(1)
    if db.session.scalar(select(func.count(Enrolment.id))):
        return created
    agents = list(db.session.scalars(
        select(User).where(User.is_active.is_(True), User.role_links.any(role=Role.AGENT.value))
        .order_by(User.employee_number)))
    first_of_month = today.replace(day=1)
    last_month = (first_of_month - timedelta(days=1)).replace(day=1)
    for cohort in (f"{last_month:%Y-%m}", f"{first_of_month:%Y-%m}"):
        try:
            created["enrolments"] += paths.enrol_cohort("ONBOARDING", cohort, actor_id=None,
                                                        now=now - timedelta(days=20))
        except paths.PathError:
            pass
    mentors = mentors_of(a.id for a in agents)
    newcomers = [a for a in agents if a.hire_date >= last_month and not a.has_role(Role.MENTOR)]
    for index, agent in enumerate(newcomers):
        start = datetime.combine(agent.hire_date, datetime.min.time(), tzinfo=now.tzinfo) \
            + timedelta(hours=2)
        start = min(start, now - timedelta(hours=12))
        # last month's cohort has done week 1; this month's is part way
        lessons = WEEK1 if agent.hire_date < first_of_month else WEEK1[: 2 + index % 4]
        for day, code in enumerate(lessons):
            at = min(start + timedelta(days=day // 2, hours=day), now - timedelta(hours=3))
            paths.mark_lesson_read(code, agent.id, now=at)
            quiz = "Q-" + code[2:]
            if index % 3 == 1 and code == "L-SOP":   # a failed attempt, then a retake
                _take(quiz, agent, at, wrong=2)
                created["quiz_attempts"] += 1
            _take(quiz, agent, at + timedelta(minutes=30))
            created["quiz_attempts"] += 1
        if agent.hire_date < first_of_month and index % 2 == 0:
            _take("Q-WEEK1", agent, min(start + timedelta(days=5), now - timedelta(hours=2)),
                  wrong=index % 4)
            created["quiz_attempts"] += 1
    progress(1)
    _essay(agents, now)
    _refresher_and_topic(agents, today, now)
    _notes(agents, mentors, today, now)
    progress(1)
    return created


def _essay(agents: list[User], now: datetime) -> None:
    """One agent answered the quiz of forbidden phrases with an essay: it waits for grading."""
    essays = [q.name for q in db.session.scalars(select(Question).where(
        Question.qtype == "essay", Question.lang == "zh"))]
    if not essays:
        return
    importers.save_quiz({"code": "Q-ESSAY", "title": {"zh": "情景问答：换一种说法",
                                                      "en": "Say it another way"},
                         "questions": essays, "shuffle": False, "pass_mark": 80}, now=now)
    _take("Q-ESSAY", agents[6], now - timedelta(days=1))


def _refresher_and_topic(agents: list[User], today: date, now: datetime) -> None:
    teams = list(db.session.scalars(select(Team).order_by(Team.name)))
    if not teams:
        return
    first = [a.id for a in agents if a.team_id == teams[0].id and a.hire_date <
             today - timedelta(days=120)]
    paths.enrol("REFRESHER", first, source=f"team:{teams[0].id}", actor_id=None,
                now=now - timedelta(days=20))
    due = today + timedelta(days=10)
    for person in [a for a in agents if a.team_id in (teams[0].id, teams[1].id)]:
        assign_item(person.id, item_kind="lesson", item_code="L-FORBIDDEN",
                    title="专题：服务禁语与替代说法 / Forbidden phrases",
                    source_type="special_topic",
                    source_id=f"L-FORBIDDEN:{due.isoformat()}",
                    reason="本月停电类投诉中“不归我们管”出现 6 次。", due_on=due,
                    link="/training/lessons/L-FORBIDDEN", actor_id=None, now=now)


def _notes(agents: list[User], mentors: dict[int, User], today: date, now: datetime) -> None:
    for index, agent in enumerate(a for a in agents if a.id in mentors):
        db.session.add(ObservationNote(
            mentor_id=mentors[agent.id].id, apprentice_id=agent.id,
            observed_on=today - timedelta(days=1 + index % 5), text=NOTES[index % len(NOTES)],
            created_at=now))
    db.session.flush()
