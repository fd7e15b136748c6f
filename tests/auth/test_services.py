"""People, teams and mentorships through the services, without HTTP."""
from __future__ import annotations

from datetime import date

import pytest
from sqlalchemy import func, select
from sqlalchemy.exc import IntegrityError

from app.audit.models import AuditEvent
from app.auth import services
from app.auth.models import Mentorship, User
from app.auth.roles import Role
from app.auth.services import PeopleError
from app.notifications.models import Notification


def _audit(action):
    return list(services.db.session.scalars(select(AuditEvent).where(AuditEvent.action == action)))


def test_create_user_normalises_identifiers_and_audits(db, now, make_user):
    admin = make_user(Role.ADMIN)
    user = services.create_user(employee_number=" a1024 ", name=" 王芳 ", email="Wang@Example.COM",
                                hire_date=date(2026, 3, 1), roles=["agent", "mentor"],
                                actor_id=admin.id, now=now)
    assert (user.employee_number, user.name, user.email) == ("A1024", "王芳", "wang@example.com")
    assert user.roles == {Role.AGENT, Role.MENTOR}
    assert user.cohort == "2026-03"
    [event] = _audit("user.create")[-1:]
    assert event.actor_id == admin.id and event.subject_id == user.id


@pytest.mark.parametrize("changes,message", [
    ({"employee_number": "E1"}, "already taken"),
    ({"email": "taken@example.com"}, "already taken"),
    ({"roles": []}, "at least one role"),
    ({"roles": ["wizard"]}, "Unknown role"),
    ({"career_level": "boss"}, "Unknown career level"),
    ({"employee_number": "has space"}, "not valid"),
    ({"name": "  "}, "needs a name"),
    ({"password": "short"}, "at least 8"),
])
def test_create_user_refuses_bad_values_with_a_reason(db, now, make_user, changes, message):
    make_user(employee_number="E1", email="taken@example.com")
    values = {"employee_number": "E2", "name": "New", "hire_date": date(2026, 1, 1),
              "actor_id": None, "now": now, **changes}
    before = db.session.scalar(select(func.count()).select_from(User))
    with pytest.raises(PeopleError, match=message):
        services.create_user(**values)
    db.session.rollback()
    assert db.session.scalar(select(func.count()).select_from(User)) == before


def test_update_user_reports_and_audits_only_what_changed(db, now, make_user, make_team):
    team = make_team("North")
    user = make_user(Role.AGENT, name="Old name")
    assert services.update_user(user.id, actor_id=None, now=now, name="Old name") == {}
    changed = services.update_user(user.id, actor_id=None, now=now, name="New name",
                                   team_id=team.id, roles=["agent", "mentor"])
    assert changed["name"] == ["Old name", "New name"]
    assert changed["team_id"] == [None, team.id]
    assert changed["roles"] == [["agent"], ["agent", "mentor"]]
    assert len(_audit("user.update")) == 1 and len(_audit("user.roles_change")) == 1


def test_an_admin_cannot_remove_their_own_admin_role(db, now, make_user):
    admin = make_user(Role.ADMIN)
    with pytest.raises(PeopleError, match="admin role"):
        services.update_user(admin.id, actor_id=admin.id, now=now, roles=["agent"])


def test_a_leaver_stays_in_history_and_loses_mentorships_and_lead(db, now, make_user, make_team):
    lead = make_user(Role.TEAM_LEAD, Role.MENTOR)
    team = make_team("East", lead=lead)
    apprentice = make_user(Role.AGENT, team=team, hire_date=date(2026, 1, 5))
    services.assign_mentor(apprentice.id, lead.id, started_on=date(2026, 1, 10), actor_id=None,
                           now=now)
    services.deactivate_user(lead.id, leave_date=date(2026, 3, 1), actor_id=None, now=now)
    db.session.commit()
    assert db.session.get(User, lead.id).is_active is False
    assert db.session.get(User, lead.id).leave_date == date(2026, 3, 1)
    assert team.lead_id is None
    assert services.current_mentorship(apprentice.id) is None
    [ended] = db.session.scalars(select(Mentorship)).all()
    assert ended.ended_on == date(2026, 3, 1)
    assert services.authenticate(lead.employee_number, "correct-horse-1") is None


def test_deactivation_rules(db, now, make_user):
    admin = make_user(Role.ADMIN)
    agent = make_user(Role.AGENT, hire_date=date(2026, 2, 1))
    with pytest.raises(PeopleError, match="yourself"):
        services.deactivate_user(admin.id, leave_date=date(2026, 3, 1), actor_id=admin.id, now=now)
    with pytest.raises(PeopleError, match="before the hire date"):
        services.deactivate_user(agent.id, leave_date=date(2026, 1, 1), actor_id=admin.id, now=now)
    services.deactivate_user(agent.id, leave_date=date(2026, 3, 1), actor_id=admin.id, now=now)
    with pytest.raises(PeopleError, match="already inactive"):
        services.deactivate_user(agent.id, leave_date=date(2026, 3, 2), actor_id=admin.id, now=now)
    services.reactivate_user(agent.id, actor_id=admin.id, now=now)
    assert agent.is_active and agent.leave_date is None


def test_an_apprentice_has_one_active_mentor_and_a_history(db, now, make_user):
    first = make_user(Role.AGENT, Role.MENTOR)
    second = make_user(Role.AGENT, Role.MENTOR)
    apprentice = make_user(Role.AGENT)
    services.assign_mentor(apprentice.id, first.id, started_on=date(2026, 1, 1), actor_id=None,
                           now=now)
    same = services.assign_mentor(apprentice.id, first.id, started_on=date(2026, 1, 20),
                                  actor_id=None, now=now)
    assert same.started_on == date(2026, 1, 1)
    services.assign_mentor(apprentice.id, second.id, started_on=date(2026, 2, 1), actor_id=None,
                           now=now)
    db.session.commit()
    history = db.session.scalars(select(Mentorship).order_by(Mentorship.id)).all()
    assert [(m.mentor_id, m.ended_on) for m in history] == [
        (first.id, date(2026, 2, 1)), (second.id, None)]
    assert services.current_mentorship(apprentice.id).mentor_id == second.id
    messages = db.session.scalars(select(Notification.message)
                                  .where(Notification.user_id == second.id)).all()
    assert messages == ["%(name)s is now your apprentice."]


def test_the_database_allows_only_one_active_mentorship(db, now, make_user):
    mentor = make_user(Role.MENTOR)
    apprentice = make_user(Role.AGENT)
    db.session.add_all([
        Mentorship(mentor_id=mentor.id, apprentice_id=apprentice.id, started_on=date(2026, 1, 1)),
        Mentorship(mentor_id=mentor.id, apprentice_id=apprentice.id, started_on=date(2026, 1, 2)),
    ])
    with pytest.raises(IntegrityError):  # the partial unique index
        db.session.flush()
    db.session.rollback()


@pytest.mark.parametrize("case", ["self", "not_mentor", "inactive"])
def test_mentor_assignment_refusals(db, now, make_user, case):
    mentor = make_user(Role.AGENT, Role.MENTOR)
    plain = make_user(Role.AGENT)
    apprentice = make_user(Role.AGENT)
    if case == "self":
        args, message = (mentor.id, mentor.id), "own mentor"
    elif case == "not_mentor":
        args, message = (apprentice.id, plain.id), "mentor role"
    else:
        services.deactivate_user(mentor.id, leave_date=date(2026, 3, 1), actor_id=None, now=now)
        args, message = (apprentice.id, mentor.id), "active"
    with pytest.raises(PeopleError, match=message):
        services.assign_mentor(*args, started_on=date(2026, 3, 1), actor_id=None, now=now)


def test_teams_have_unique_names_and_an_active_team_lead(db, now, make_user):
    lead = make_user(Role.TEAM_LEAD)
    agent = make_user(Role.AGENT)
    team = services.create_team("服务一班", lead_id=lead.id, actor_id=None, now=now)
    with pytest.raises(PeopleError, match="already a team"):
        services.create_team(" 服务一班 ", lead_id=None, actor_id=None, now=now)
    with pytest.raises(PeopleError, match="not an active team lead"):
        services.update_team(team.id, name="服务一班", lead_id=agent.id, actor_id=None, now=now)
    assert services.update_team(team.id, name="服务一班", lead_id=lead.id, actor_id=None,
                                now=now) == {}


def test_sign_in_by_employee_number_or_email(db, now, make_user):
    user = make_user(Role.AGENT, employee_number="A7", email="li@example.com")
    assert services.authenticate("a7", "correct-horse-1") == user
    assert services.authenticate("LI@example.com", "correct-horse-1") == user
    assert services.authenticate("A7", "wrong") is None
    assert services.authenticate("", "") is None
    no_password = make_user(Role.AGENT, password=None)
    assert services.authenticate(no_password.employee_number, "") is None


def test_password_change_needs_the_current_password(db, now, make_user):
    user = make_user(Role.AGENT)
    with pytest.raises(PeopleError, match="current password"):
        services.change_password(user.id, "nope", "new-password-1", now=now)
    services.change_password(user.id, "correct-horse-1", "new-password-1", now=now)
    assert services.authenticate(user.employee_number, "new-password-1") == user


def test_locale_choice_is_checked(db, now, make_user):
    user = make_user(Role.AGENT)
    services.set_locale(user.id, "zh_Hans", now=now)
    assert user.locale == "zh_Hans"
    with pytest.raises(PeopleError):
        services.set_locale(user.id, "fr", now=now)
