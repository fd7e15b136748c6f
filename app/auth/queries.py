"""The read side of people and structure: what pages show, and who may see whom."""
from __future__ import annotations

from collections import Counter
from datetime import date

from sqlalchemy import func, or_, select

from app.auth import rules
from app.auth.models import Mentorship, Team, User, UserRole
from app.auth.roles import Permission
from app.database import db


def people_query(*, search: str = "", team_id: int | None = None, role: str | None = None,
                 status: str = "active"):
    """A select of people for the directory, filtered, in employee-number order."""
    query = select(User).order_by(User.employee_number)
    if search:
        like = f"%{search.strip()}%"
        query = query.where(or_(User.name.ilike(like), User.employee_number.ilike(like),
                                User.email.ilike(like)))
    if team_id:
        query = query.where(User.team_id == team_id)
    if role:
        query = query.where(User.id.in_(select(UserRole.user_id).where(UserRole.role == role)))
    if status == "active":
        query = query.where(User.is_active.is_(True))
    elif status == "inactive":
        query = query.where(User.is_active.is_(False))
    return query


def led_team_ids(user_id: int) -> set[int]:
    return set(db.session.scalars(select(Team.id).where(Team.lead_id == user_id)))


def current_apprentice_ids(mentor_id: int) -> set[int]:
    return set(db.session.scalars(
        select(Mentorship.apprentice_id).where(
            Mentorship.mentor_id == mentor_id, Mentorship.ended_on.is_(None))
    ))


def can_view_person(viewer: User, person: User) -> bool:
    """Ownership rule for a person's page: oneself; one's apprentices; one's team; or a role
    that sees everybody."""
    if viewer.id == person.id or viewer.can(Permission.VIEW_PEOPLE):
        return True
    if viewer.can(Permission.VIEW_TEAM) and person.team_id in led_team_ids(viewer.id):
        return True
    if viewer.can(Permission.VIEW_APPRENTICES) and person.id in current_apprentice_ids(viewer.id):
        return True
    return False


def can_view_team(viewer: User, team: Team) -> bool:
    """Anyone sees the roster of their own team; leads theirs; people-viewers every team."""
    return (viewer.can(Permission.VIEW_PEOPLE) or viewer.team_id == team.id
            or team.lead_id == viewer.id)


def list_teams():
    """Teams in name order with their active headcount: [(team, count)]."""
    counts = dict(db.session.execute(
        select(User.team_id, func.count()).where(User.is_active.is_(True))
        .group_by(User.team_id)
    ).all())
    teams = db.session.scalars(select(Team).order_by(Team.name)).all()
    return [(team, counts.get(team.id, 0)) for team in teams]


def team_members(team_id: int, *, active_only: bool = True) -> list[User]:
    query = select(User).where(User.team_id == team_id).order_by(User.employee_number)
    if active_only:
        query = query.where(User.is_active.is_(True))
    return list(db.session.scalars(query))


def mentors_of(user_ids) -> dict[int, User]:
    """The current mentor of each of the given people (apprentice id → mentor)."""
    ids = list(user_ids)
    if not ids:
        return {}
    rows = db.session.execute(
        select(Mentorship.apprentice_id, User)
        .join(User, User.id == Mentorship.mentor_id)
        .where(Mentorship.apprentice_id.in_(ids), Mentorship.ended_on.is_(None))
    ).all()
    return {apprentice_id: mentor for apprentice_id, mentor in rows}


def apprentices_of(mentor_id: int) -> list[tuple[User, Mentorship]]:
    rows = db.session.execute(
        select(User, Mentorship)
        .join(Mentorship, Mentorship.apprentice_id == User.id)
        .where(Mentorship.mentor_id == mentor_id, Mentorship.ended_on.is_(None))
        .order_by(Mentorship.started_on.desc(), User.employee_number)
    ).all()
    return [(user, mentorship) for user, mentorship in rows]


def mentorship_history(apprentice_id: int) -> list[Mentorship]:
    return list(db.session.scalars(
        select(Mentorship).where(Mentorship.apprentice_id == apprentice_id)
        .order_by(Mentorship.started_on.desc(), Mentorship.id.desc())
    ))


def active_mentor_choices() -> list[User]:
    return list(db.session.scalars(
        select(User).join(UserRole).where(UserRole.role == "mentor", User.is_active.is_(True))
        .order_by(User.name)
    ))


def active_lead_choices() -> list[User]:
    return list(db.session.scalars(
        select(User).join(UserRole).where(UserRole.role == "team_lead", User.is_active.is_(True))
        .order_by(User.name)
    ))


def cohorts(*, agents_only: bool = True) -> list[tuple[str, int]]:
    """Onboarding cohorts (hire month) of active people, newest first, with their size."""
    query = select(User.hire_date).where(User.is_active.is_(True))
    if agents_only:
        query = query.where(User.id.in_(select(UserRole.user_id).where(UserRole.role == "agent")))
    counter = Counter(f"{d.year:04d}-{d.month:02d}" for d in db.session.scalars(query))
    return sorted(counter.items(), reverse=True)


def cohort_members(cohort: str) -> list[User]:
    year, month = (int(part) for part in cohort.split("-"))
    first = date(year, month, 1)
    last = date(year + (month == 12), month % 12 + 1, 1)
    return list(db.session.scalars(
        select(User).where(User.hire_date >= first, User.hire_date < last)
        .order_by(User.hire_date, User.employee_number)
    ))


def headcount_on(day: date) -> int:
    """People employed on that day (hired on or before it, not yet left)."""
    return db.session.scalar(
        select(func.count()).select_from(User).where(
            User.hire_date <= day, or_(User.leave_date.is_(None), User.leave_date >= day))
    ) or 0


def leavers_between(first: date, last: date) -> int:
    return db.session.scalar(
        select(func.count()).select_from(User).where(
            User.leave_date >= first, User.leave_date <= last)
    ) or 0


def attrition_for_month(first: date, last: date) -> tuple[int, float, float | None]:
    """(leavers, average headcount, monthly attrition) for the days `first` to `last`."""
    leavers = leavers_between(first, last)
    start = headcount_on(first)
    end = headcount_on(last)
    return leavers, (start + end) / 2, rules.monthly_attrition(leavers, start, end)
