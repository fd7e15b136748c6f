"""The demo centre's people: four teams, their leads and mentors, QA, a trainer, an admin,
hire dates spread over years with a fresh onboarding cohort, and a few leavers."""
from __future__ import annotations

import random
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta

from sqlalchemy import select

from app.auth.models import Team, User
from app.auth.roles import CareerLevel, Role
from app.auth.services import (
    assign_mentor,
    create_team,
    create_user,
    current_mentorship,
    deactivate_user,
)
from app.database import db

DEMO_PASSWORD = "pinwheel-demo"

SURNAMES = "王李张刘陈杨黄赵吴周徐孙马朱胡郭何高林罗郑梁谢宋唐许韩冯邓曹彭曾肖田董袁潘"
GIVEN = ["伟", "芳", "娜", "敏", "静", "丽", "强", "磊", "洋", "艳", "勇", "军", "杰", "娟",
         "涛", "明", "超", "秀英", "霞", "平", "刚", "桂英", "婷", "雪", "晨", "思远", "子涵",
         "雨萱", "浩然", "梓萱", "欣怡", "宇轩", "佳怡", "一诺", "嘉怡"]
ENGLISH = ["Emma Walker", "Liam Chen", "Olivia Zhang", "Noah Wong", "Ava Liu", "Lucas Lin",
           "Mia Huang", "Ethan Li", "Sophia Wu", "Jack Zhou", "Chloe Sun", "Leo Ma", "Grace Xu",
           "Ryan Guo", "Lily He", "Daniel Tang", "Zoe Luo", "Owen Song", "Ella Han", "Max Feng"]

TEAMS = [("A", "服务一班"), ("B", "服务二班"), ("C", "Service Team C"), ("D", "Night Shift")]
TEAM_SIZES = [14, 12, 11, 13]


@dataclass
class DemoPerson:
    employee_number: str
    name: str
    hire_date: date
    roles: list[str]
    level: str = CareerLevel.AGENT.value
    team: str | None = None
    email: str | None = None
    mentor: str | None = None
    leave_date: date | None = None
    extra: dict = field(default_factory=dict)


def plan_people(today: date) -> tuple[list[DemoPerson], list[tuple[str, str]]]:
    """The demo people (deterministic for a given day) and the teams with their leads."""
    rng = random.Random(95598)
    used: set[str] = set()

    def chinese_name() -> str:
        while True:
            name = rng.choice(SURNAMES) + rng.choice(GIVEN)
            if name not in used:
                used.add(name)
                return name

    english = iter(ENGLISH)
    people: list[DemoPerson] = [
        DemoPerson("9001", "周海燕 (Admin)", today - timedelta(days=6 * 365), [Role.ADMIN],
                   CareerLevel.SUPERVISOR.value, email="admin@pinwheel.example"),
        DemoPerson("8001", "Helen Xu", today - timedelta(days=5 * 365), [Role.TRAINER],
                   CareerLevel.SUPERVISOR.value, email="trainer@pinwheel.example"),
        DemoPerson("7001", chinese_name(), today - timedelta(days=4 * 365), [Role.QA_ANALYST],
                   CareerLevel.SENIOR_AGENT.value, email="qa1@pinwheel.example"),
        DemoPerson("7002", "Kevin Ho", today - timedelta(days=3 * 365), [Role.QA_ANALYST],
                   CareerLevel.SENIOR_AGENT.value, email="qa2@pinwheel.example"),
    ]
    team_leads: list[tuple[str, str]] = []
    first_of_month = today.replace(day=1)
    for index, ((code, team_name), size) in enumerate(zip(TEAMS, TEAM_SIZES, strict=True), start=1):
        lead_number = f"{index}100"
        people.append(DemoPerson(
            lead_number, chinese_name() if index % 2 else next(english),
            today - timedelta(days=rng.randint(5 * 365, 9 * 365)), [Role.TEAM_LEAD, Role.AGENT],
            CareerLevel.TEAM_LEAD.value, team=team_name,
            email=f"lead{code.lower()}@pinwheel.example"))
        team_leads.append((team_name, lead_number))
        mentors: list[str] = []
        for seat in range(1, size + 1):
            number = f"{index}1{seat:02d}"
            name = next(english) if seat % 4 == 0 else chinese_name()
            if seat <= 3:      # senior agents who mentor
                hired = today - timedelta(days=rng.randint(3 * 365, 8 * 365))
                person = DemoPerson(number, name, hired, [Role.AGENT, Role.MENTOR],
                                    CareerLevel.SENIOR_AGENT.value, team=team_name)
                mentors.append(number)
            elif seat <= size - 4:   # established agents, hired over the last years
                hired = today - timedelta(days=rng.randint(120, 3 * 365))
                person = DemoPerson(number, name, hired, [Role.AGENT], team=team_name)
            elif seat <= size - 2:   # last month's cohort, with a mentor
                hired = (first_of_month - timedelta(days=1)).replace(day=rng.choice([3, 10, 17]))
                person = DemoPerson(number, name, hired, [Role.AGENT], team=team_name,
                                    mentor=mentors[seat % len(mentors)])
            else:                    # this month's new cohort; one still waits for a mentor
                hired = first_of_month if today.day < 8 else today.replace(day=rng.randint(1, 7))
                mentor = mentors[seat % len(mentors)] if seat == size - 1 else None
                person = DemoPerson(number, name, hired, [Role.AGENT], team=team_name,
                                    mentor=mentor)
            people.append(person)
        # two established agents per team left in earlier months (attrition history)
        for leaver in range(2):
            number = f"{index}19{leaver}"
            hired = today - timedelta(days=rng.randint(400, 900))
            left = (first_of_month - timedelta(days=rng.randint(5, 150)))
            people.append(DemoPerson(number, chinese_name(), hired, [Role.AGENT], team=team_name,
                                     leave_date=left))
    return people, team_leads


def load_people(today: date, now: datetime, progress) -> dict:
    """Create what is missing of the demo people; return counts of what was created."""
    people, team_leads = plan_people(today)
    existing = set(db.session.scalars(select(User.employee_number)))
    teams = {t.name: t for t in db.session.scalars(select(Team))}
    created = {"people": 0, "teams": 0, "mentorships": 0, "leavers": 0}
    admin = db.session.scalar(select(User).where(User.employee_number == "9001"))

    def actor_id():
        return admin.id if admin else None

    for team_name, _lead in team_leads:
        if team_name not in teams:
            teams[team_name] = create_team(team_name, lead_id=None, actor_id=actor_id(), now=now)
            created["teams"] += 1

    for person in people:
        progress(1)
        if person.employee_number in existing:
            continue
        user = create_user(
            employee_number=person.employee_number, name=person.name, hire_date=person.hire_date,
            email=person.email, password=DEMO_PASSWORD, career_level=person.level,
            team_id=teams[person.team].id if person.team else None,
            roles=[str(r) for r in person.roles], actor_id=actor_id(), now=now,
        )
        created["people"] += 1
        if person.employee_number == "9001":
            admin = user
    by_number = {u.employee_number: u for u in db.session.scalars(select(User))}

    for team_name, lead_number in team_leads:
        team = teams[team_name]
        if team.lead_id is None:
            team.lead_id = by_number[lead_number].id
    db.session.flush()

    for person in people:
        user = by_number[person.employee_number]
        if person.mentor and user.is_active and person.leave_date is None:
            if current_mentorship(user.id) is None:
                assign_mentor(user.id, by_number[person.mentor].id,
                              started_on=max(person.hire_date, today - timedelta(days=40)),
                              actor_id=actor_id(), now=now)
                created["mentorships"] += 1
        if person.leave_date and user.is_active:
            deactivate_user(user.id, leave_date=person.leave_date, actor_id=actor_id(), now=now)
            created["leavers"] += 1
    return created

