"""The write side of people and structure.

Plain functions that take the acting user's id and `now` explicitly, flush but never
commit, and raise `PeopleError` when a rule says no. Every change to a person, a role,
a team or a mentorship is written to the audit trail.
"""
from __future__ import annotations

from collections.abc import Iterable
from datetime import date, datetime

from flask import current_app
from sqlalchemy import func, select
from werkzeug.security import check_password_hash, generate_password_hash

from app.audit.services import record_audit
from app.auth import rules
from app.auth.models import Mentorship, Team, User, UserRole
from app.auth.roles import CareerLevel, Role
from app.database import db
from app.errors import DomainError
from app.i18n import LANGUAGES, N_
from app.notifications.services import notify


class PeopleError(DomainError):
    """A change to people, teams or mentorships that the rules do not allow."""


# --- sign-in and passwords ---------------------------------------------------------------

def find_user_by_login(login: str) -> User | None:
    """The user whose employee number or e-mail is `login`."""
    login = (login or "").strip()
    if not login:
        return None
    if "@" in login:
        return db.session.scalar(select(User).where(User.email == rules.normalise_email(login)))
    return db.session.scalar(
        select(User).where(User.employee_number == rules.normalise_employee_number(login))
    )


def authenticate(login: str, password: str) -> User | None:
    """The active user with this login and password, or None (the same None whatever was wrong)."""
    user = find_user_by_login(login)
    if user is None or not user.is_active or not user.password_hash:
        return None
    if not check_password_hash(user.password_hash, password or ""):
        return None
    return user


def _hash(password: str) -> str:
    problem = rules.password_problem(password)
    if problem:
        raise PeopleError(problem)
    return generate_password_hash(password, method=current_app.config["PASSWORD_HASH_METHOD"])


def change_password(user_id: int, current_password: str, new_password: str, *,
                    now: datetime) -> None:
    """The user changes their own password; the current one must be given."""
    user = _get_user(user_id)
    if not user.password_hash or not check_password_hash(user.password_hash, current_password):
        raise PeopleError(N_("The current password is not correct."))
    user.password_hash = _hash(new_password)
    user.updated_at = now
    record_audit("user.password_change", actor_id=user_id, subject_id=user_id, now=now)
    db.session.flush()


def set_password(user_id: int, new_password: str, *, actor_id: int | None, now: datetime) -> None:
    """An admin sets a person's password (a new starter, a forgotten password)."""
    user = _get_user(user_id)
    user.password_hash = _hash(new_password)
    user.updated_at = now
    record_audit("user.password_set", actor_id=actor_id, subject_id=user_id, now=now)
    notify(user_id, N_("An administrator set a new password for your account."), now=now)
    db.session.flush()


def set_locale(user_id: int, locale: str | None, *, now: datetime) -> None:
    """Remember the user's interface language (None: follow the browser)."""
    if locale is not None and locale not in LANGUAGES:
        raise PeopleError(N_("Unknown language: %(locale)s."), locale=locale)
    user = _get_user(user_id)
    user.locale = locale
    user.updated_at = now
    db.session.flush()


# --- people ------------------------------------------------------------------------------

def _get_user(user_id: int) -> User:
    user = db.session.get(User, user_id)
    if user is None:
        raise PeopleError(N_("No such person."))
    return user


def _check_identity(employee_number: str, email: str | None, *, user_id: int | None) -> None:
    if not rules.is_valid_employee_number(employee_number):
        raise PeopleError(
            N_("Employee number %(number)s is not valid: use letters, digits, - and _."),
            number=employee_number,
        )
    clash = db.session.scalar(select(User.id).where(User.employee_number == employee_number))
    if clash is not None and clash != user_id:
        raise PeopleError(N_("Employee number %(number)s is already taken."),
                          number=employee_number)
    if email:
        clash = db.session.scalar(select(User.id).where(User.email == email))
        if clash is not None and clash != user_id:
            raise PeopleError(N_("The e-mail address %(email)s is already taken."), email=email)


def _check_roles(roles: Iterable[str]) -> set[Role]:
    try:
        checked = {Role(r) for r in roles}
    except ValueError as exc:
        raise PeopleError(N_("Unknown role: %(role)s."), role=str(exc).split("'")[1]) from exc
    if not checked:
        raise PeopleError(N_("A person needs at least one role."))
    return checked


def _check_level(level: str) -> str:
    try:
        return CareerLevel(level).value
    except ValueError as exc:
        raise PeopleError(N_("Unknown career level: %(level)s."), level=level) from exc


def _check_team(team_id: int | None) -> None:
    if team_id is not None and db.session.get(Team, team_id) is None:
        raise PeopleError(N_("No such team."))


def create_user(*, employee_number: str, name: str, hire_date: date, actor_id: int | None,
                now: datetime, email: str | None = None, password: str | None = None,
                career_level: str = CareerLevel.AGENT.value, team_id: int | None = None,
                roles: Iterable[str] = (Role.AGENT,), locale: str | None = None) -> User:
    """Add a person to the centre."""
    employee_number = rules.normalise_employee_number(employee_number)
    email = rules.normalise_email(email)
    name = (name or "").strip()
    if not name:
        raise PeopleError(N_("A person needs a name."))
    _check_identity(employee_number, email, user_id=None)
    checked_roles = _check_roles(roles)
    _check_team(team_id)
    if locale is not None and locale not in LANGUAGES:
        raise PeopleError(N_("Unknown language: %(locale)s."), locale=locale)
    user = User(
        employee_number=employee_number,
        name=name,
        email=email,
        password_hash=_hash(password) if password else None,
        locale=locale,
        is_active=True,
        hire_date=hire_date,
        career_level=_check_level(career_level),
        team_id=team_id,
        created_at=now,
        updated_at=now,
    )
    user.role_links = [UserRole(role=r.value) for r in sorted(checked_roles)]
    db.session.add(user)
    db.session.flush()
    record_audit(
        "user.create", actor_id=actor_id, subject_id=user.id, now=now,
        details={"employee_number": employee_number, "team_id": team_id,
                 "roles": sorted(r.value for r in checked_roles)},
    )
    return user


def update_user(user_id: int, *, actor_id: int | None, now: datetime, **changes) -> dict:
    """Change a person's details. Returns what changed (field → [old, new]); audits it.

    Accepted fields: employee_number, name, email, hire_date, career_level, team_id, roles.
    Giving a field its current value changes nothing.
    """
    user = _get_user(user_id)
    changed: dict = {}
    if "employee_number" in changes:
        changes["employee_number"] = rules.normalise_employee_number(changes["employee_number"])
    if "email" in changes:
        changes["email"] = rules.normalise_email(changes["email"])
    if "employee_number" in changes or "email" in changes:
        _check_identity(changes.get("employee_number", user.employee_number),
                        changes.get("email", user.email), user_id=user.id)
    for field in ("employee_number", "name", "email", "hire_date", "career_level", "team_id"):
        if field not in changes:
            continue
        new = changes[field]
        if field == "name":
            new = (new or "").strip()
            if not new:
                raise PeopleError(N_("A person needs a name."))
        if field == "career_level":
            new = _check_level(new)
        if field == "team_id":
            _check_team(new)
        if field == "hire_date" and user.leave_date and new > user.leave_date:
            raise PeopleError(N_("The hire date cannot be after the leave date."))
        old = getattr(user, field)
        if old != new:
            setattr(user, field, new)
            changed[field] = [_plain(old), _plain(new)]
    if "roles" in changes:
        new_roles = _check_roles(changes["roles"])
        old_roles = set(user.roles)
        if new_roles != old_roles:
            if actor_id == user.id and Role.ADMIN in old_roles and Role.ADMIN not in new_roles:
                raise PeopleError(N_("You cannot take the admin role away from yourself."))
            _set_roles(user, new_roles)
            changed["roles"] = [sorted(r.value for r in old_roles),
                                sorted(r.value for r in new_roles)]
    if changed:
        user.updated_at = now
        if "roles" in changed:
            record_audit("user.roles_change", actor_id=actor_id, subject_id=user.id, now=now,
                         details={"roles": changed["roles"]})
        other = {k: v for k, v in changed.items() if k != "roles"}
        if other:
            record_audit("user.update", actor_id=actor_id, subject_id=user.id, now=now,
                         details=other)
    db.session.flush()
    return changed


def _set_roles(user: User, roles: set[Role]) -> None:
    keep = [link for link in user.role_links if Role(link.role) in roles]
    held = {Role(link.role) for link in keep}
    user.role_links = keep + [UserRole(role=r.value) for r in sorted(roles - held)]


def _plain(value):
    return value.isoformat() if isinstance(value, date) else value


def deactivate_user(user_id: int, *, leave_date: date, actor_id: int | None,
                    now: datetime) -> None:
    """A person leaves: they stay in history (attrition is a KPI) but can no longer sign in.

    Their current mentorships, as mentor or apprentice, end on the leave date, and a
    team they lead loses its lead.
    """
    user = _get_user(user_id)
    if actor_id == user.id:
        raise PeopleError(N_("You cannot deactivate yourself."))
    if not user.is_active:
        raise PeopleError(N_("%(name)s is already inactive."), name=user.name)
    if leave_date < user.hire_date:
        raise PeopleError(N_("The leave date cannot be before the hire date."))
    user.is_active = False
    user.leave_date = leave_date
    user.updated_at = now
    for mentorship in db.session.scalars(
        select(Mentorship).where(
            Mentorship.ended_on.is_(None),
            (Mentorship.mentor_id == user.id) | (Mentorship.apprentice_id == user.id),
        )
    ):
        mentorship.ended_on = max(leave_date, mentorship.started_on)
    for team in db.session.scalars(select(Team).where(Team.lead_id == user.id)):
        team.lead_id = None
    record_audit("user.deactivate", actor_id=actor_id, subject_id=user.id, now=now,
                 details={"leave_date": leave_date.isoformat()})
    db.session.flush()


def reactivate_user(user_id: int, *, actor_id: int | None, now: datetime) -> None:
    """Undo a deactivation (a rehire or a mistake); the leave date is cleared."""
    user = _get_user(user_id)
    if user.is_active:
        raise PeopleError(N_("%(name)s is already active."), name=user.name)
    user.is_active = True
    old_leave = user.leave_date
    user.leave_date = None
    user.updated_at = now
    record_audit("user.reactivate", actor_id=actor_id, subject_id=user.id, now=now,
                 details={"previous_leave_date": _plain(old_leave)})
    db.session.flush()


# --- mentorships -------------------------------------------------------------------------

def current_mentorship(apprentice_id: int) -> Mentorship | None:
    return db.session.scalar(
        select(Mentorship).where(
            Mentorship.apprentice_id == apprentice_id, Mentorship.ended_on.is_(None)
        )
    )


def assign_mentor(apprentice_id: int, mentor_id: int, *, started_on: date,
                  actor_id: int | None, now: datetime) -> Mentorship:
    """Give an apprentice a mentor. A current mentorship with someone else ends that day.

    Assigning the mentor they already have changes nothing.
    """
    apprentice = _get_user(apprentice_id)
    mentor = _get_user(mentor_id)
    if mentor.id == apprentice.id:
        raise PeopleError(N_("Nobody can be their own mentor."))
    if not mentor.is_active or not apprentice.is_active:
        raise PeopleError(N_("Only active people can take part in a mentorship."))
    if not mentor.has_role(Role.MENTOR):
        raise PeopleError(N_("%(name)s does not hold the mentor role."), name=mentor.name)
    current = current_mentorship(apprentice.id)
    if current is not None and current.mentor_id == mentor.id:
        return current
    if current is not None:
        if started_on < current.started_on:
            raise PeopleError(N_("The new mentorship cannot start before the current one."))
        current.ended_on = started_on
        db.session.flush()
    mentorship = Mentorship(mentor_id=mentor.id, apprentice_id=apprentice.id,
                            started_on=started_on)
    db.session.add(mentorship)
    db.session.flush()
    record_audit("mentorship.start", actor_id=actor_id, subject_id=apprentice.id, now=now,
                 target_type="mentorship", target_id=mentorship.id,
                 details={"mentor_id": mentor.id, "started_on": started_on.isoformat(),
                          "previous_mentor_id": current.mentor_id if current else None})
    notify(mentor.id, N_("%(name)s is now your apprentice."), params={"name": apprentice.name},
           link=f"/people/{apprentice.id}", now=now)
    notify(apprentice.id, N_("%(name)s is now your mentor."), params={"name": mentor.name},
           now=now)
    return mentorship


def end_mentorship(apprentice_id: int, *, ended_on: date, actor_id: int | None,
                   now: datetime) -> Mentorship:
    current = current_mentorship(apprentice_id)
    if current is None:
        raise PeopleError(N_("This person has no current mentor."))
    if ended_on < current.started_on:
        raise PeopleError(N_("A mentorship cannot end before it started."))
    current.ended_on = ended_on
    record_audit("mentorship.end", actor_id=actor_id, subject_id=apprentice_id, now=now,
                 target_type="mentorship", target_id=current.id,
                 details={"ended_on": ended_on.isoformat()})
    db.session.flush()
    return current


# --- teams -------------------------------------------------------------------------------

def _check_team_name(name: str, *, team_id: int | None) -> str:
    name = (name or "").strip()
    if not name:
        raise PeopleError(N_("A team needs a name."))
    clash = db.session.scalar(select(Team.id).where(func.lower(Team.name) == name.lower()))
    if clash is not None and clash != team_id:
        raise PeopleError(N_("There is already a team called %(name)s."), name=name)
    return name


def _check_lead(lead_id: int | None) -> None:
    if lead_id is None:
        return
    lead = _get_user(lead_id)
    if not lead.is_active or not lead.has_role(Role.TEAM_LEAD):
        raise PeopleError(N_("%(name)s is not an active team lead."), name=lead.name)


def create_team(name: str, *, lead_id: int | None, actor_id: int | None, now: datetime) -> Team:
    name = _check_team_name(name, team_id=None)
    _check_lead(lead_id)
    team = Team(name=name, lead_id=lead_id, created_at=now)
    db.session.add(team)
    db.session.flush()
    record_audit("team.create", actor_id=actor_id, target_type="team", target_id=team.id,
                 now=now, details={"name": name, "lead_id": lead_id})
    return team


def update_team(team_id: int, *, name: str, lead_id: int | None, actor_id: int | None,
                now: datetime) -> dict:
    team = db.session.get(Team, team_id)
    if team is None:
        raise PeopleError(N_("No such team."))
    name = _check_team_name(name, team_id=team.id)
    _check_lead(lead_id)
    changed = {}
    if team.name != name:
        changed["name"] = [team.name, name]
        team.name = name
    if team.lead_id != lead_id:
        changed["lead_id"] = [team.lead_id, lead_id]
        team.lead_id = lead_id
    if changed:
        record_audit("team.update", actor_id=actor_id, target_type="team", target_id=team.id,
                     now=now, details=changed)
        if "lead_id" in changed and lead_id is not None:
            notify(lead_id, N_("You now lead the team %(team)s."), params={"team": name},
                   link=f"/teams/{team.id}", now=now)
    db.session.flush()
    return changed
