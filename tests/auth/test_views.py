"""Sign-in, passwords, people and teams through the Flask test client."""
from __future__ import annotations

from datetime import date

import pytest
from sqlalchemy import func, select

from app import create_app
from app.auth.models import Mentorship, User
from app.auth.roles import Role
from app.auth.services import assign_mentor, deactivate_user

PASSWORD = "correct-horse-1"


def sign_in(client, login, password=PASSWORD, **extra):
    return client.post("/login", data={"login": login, "password": password, **extra})


def test_sign_in_with_employee_number_or_email_and_sign_out(client, make_user):
    user = make_user(Role.AGENT, email="zhang@example.com")
    response = sign_in(client, user.employee_number.lower())
    assert response.status_code == 302 and response.headers["Location"] == "/home"
    assert client.get("/home/agent").status_code == 200
    assert client.post("/logout").status_code == 302
    assert client.get("/home/agent").status_code == 302
    assert sign_in(client, "ZHANG@example.com").status_code == 302


def test_a_wrong_password_is_refused_with_one_message(client, make_user):
    user = make_user(Role.AGENT)
    response = sign_in(client, user.employee_number, "wrong-password")
    assert response.status_code == 401
    assert "is not correct" in response.get_data(as_text=True)


def test_an_inactive_person_cannot_sign_in(client, make_user, now, db):
    admin = make_user(Role.ADMIN)
    user = make_user(Role.AGENT, hire_date=date(2025, 1, 1))
    deactivate_user(user.id, leave_date=date(2026, 3, 1), actor_id=admin.id, now=now)
    db.session.commit()
    assert sign_in(client, user.employee_number).status_code == 401


def test_failed_sign_ins_are_rate_limited_but_successes_are_not(client, make_user):
    user = make_user(Role.AGENT)
    for _ in range(3):
        assert sign_in(client, user.employee_number).status_code == 302
        client.post("/logout")
    for _ in range(5):
        assert sign_in(client, user.employee_number, "wrong-password").status_code == 401
    limited = sign_in(client, user.employee_number, "wrong-password")
    assert limited.status_code == 429
    assert "Too many attempts" in limited.get_data(as_text=True)
    # even the right password waits for the window to pass
    assert sign_in(client, user.employee_number).status_code == 429


def test_sign_in_never_redirects_off_site(client, make_user):
    user = make_user(Role.AGENT)
    for target in ("//evil.example/x", "https://evil.example/", "javascript:alert(1)"):
        response = sign_in(client, user.employee_number, next=target)
        assert response.headers["Location"] == "/home"
        client.post("/logout")
    response = sign_in(client, user.employee_number, next="/inbox/")
    assert response.headers["Location"] == "/inbox/"


def test_change_password(client, login_as):
    user = login_as(Role.AGENT)
    bad = client.post("/account/password", data={"current_password": "nope",
                                                  "new_password": "brand-new-pw",
                                                  "confirm": "brand-new-pw"})
    assert "not correct" in bad.get_data(as_text=True)
    mismatch = client.post("/account/password", data={"current_password": PASSWORD,
                                                       "new_password": "brand-new-pw",
                                                       "confirm": "other-pw-123"})
    assert "The passwords differ." in mismatch.get_data(as_text=True)
    ok = client.post("/account/password", data={"current_password": PASSWORD,
                                                 "new_password": "brand-new-pw",
                                                 "confirm": "brand-new-pw"})
    assert ok.status_code == 302
    client.post("/logout")
    assert sign_in(client, user.employee_number, "brand-new-pw").status_code == 302


def test_admin_creates_edits_and_deactivates_a_person(client, login_as, make_team, db):
    login_as(Role.ADMIN)
    team = make_team("服务二班")
    response = client.post("/people/new", data={
        "employee_number": "20488", "name": "李娜", "email": "lina@example.com",
        "hire_date": "2026-03-02", "career_level": "agent", "team_id": team.id,
        "roles": ["agent"], "password": "welcome-2026"})
    assert response.status_code == 302
    person = db.session.scalar(select(User).where(User.employee_number == "20488"))
    assert person.team_id == team.id and person.cohort == "2026-03"
    page = client.get(f"/people/{person.id}").get_data(as_text=True)
    assert "李娜" in page and "服务二班" in page

    duplicate = client.post("/people/new", data={
        "employee_number": "20488", "name": "Someone", "hire_date": "2026-03-02",
        "career_level": "agent", "team_id": 0, "roles": ["agent"]})
    assert duplicate.status_code == 200
    assert "already taken" in duplicate.get_data(as_text=True)
    assert db.session.scalar(select(func.count()).select_from(User)) == 2

    missing = client.post("/people/new", data={"employee_number": "", "name": "",
                                                "career_level": "agent", "team_id": 0})
    text = missing.get_data(as_text=True)
    assert missing.status_code == 200 and "This field is required." in text
    assert "Choose at least one role." in text

    client.post(f"/people/{person.id}/edit", data={
        "employee_number": "20488", "name": "李娜", "email": "lina@example.com",
        "hire_date": "2026-03-02", "career_level": "senior_agent", "team_id": team.id,
        "roles": ["agent", "mentor"]})
    db.session.expire_all()
    assert person.career_level == "senior_agent" and person.has_role("mentor")

    client.post(f"/people/{person.id}/deactivate", data={"leave_date": "2026-03-20"})
    db.session.expire_all()
    assert not person.is_active and person.leave_date == date(2026, 3, 20)
    listed = client.get("/people?status=inactive").get_data(as_text=True)
    assert "李娜" in listed
    assert "李娜" not in client.get("/people").get_data(as_text=True)
    client.post(f"/people/{person.id}/reactivate")
    db.session.expire_all()
    assert person.is_active


def test_admin_assigns_and_ends_a_mentor(client, login_as, make_user, db):
    login_as(Role.ADMIN)
    mentor = make_user(Role.AGENT, Role.MENTOR, name="Senior Sun")
    apprentice = make_user(Role.AGENT, hire_date=date(2026, 3, 1))
    page = client.get(f"/people/{apprentice.id}").get_data(as_text=True)
    assert "Senior Sun" in page   # offered as a mentor
    client.post(f"/people/{apprentice.id}/mentor", data={"mentor_id": mentor.id,
                                                         "started_on": "2026-03-02"})
    db.session.expire_all()
    current = db.session.scalar(select(Mentorship).where(Mentorship.ended_on.is_(None)))
    assert current.mentor_id == mentor.id
    client.post(f"/people/{apprentice.id}/mentor/end", data={"ended_on": "2026-03-30"})
    db.session.expire_all()
    assert db.session.get(Mentorship, current.id).ended_on == date(2026, 3, 30)


def test_admin_sets_a_password_and_the_person_is_told(client, login_as, make_user, db):
    login_as(Role.ADMIN)
    person = make_user(Role.AGENT, password=None)
    client.post(f"/people/{person.id}/password", data={"new_password": "first-pass-1"})
    other = client.application.test_client()
    assert sign_in(other, person.employee_number, "first-pass-1").status_code == 302
    inbox = other.get("/inbox/").get_data(as_text=True)
    assert "An administrator set a new password for your account." in inbox


def test_admin_manages_teams(client, login_as, make_user, db):
    login_as(Role.ADMIN)
    lead = make_user(Role.TEAM_LEAD, name="Lead Lin")
    response = client.post("/teams/new", data={"name": "Night Shift", "lead_id": lead.id})
    assert response.status_code == 302
    listing = client.get("/teams").get_data(as_text=True)
    assert "Night Shift" in listing and "Lead Lin" in listing
    clash = client.post("/teams/new", data={"name": "night shift", "lead_id": 0})
    assert "already a team" in clash.get_data(as_text=True)


class TestOwnership:
    """An agent never sees another agent's page unless the role allows."""

    @pytest.fixture()
    def floor(self, make_user, make_team, now, db):
        lead = make_user(Role.TEAM_LEAD)
        team = make_team("Mine", lead=lead)
        other_team = make_team("Theirs")
        mentor = make_user(Role.AGENT, Role.MENTOR, team=team)
        apprentice = make_user(Role.AGENT, team=team)
        teammate = make_user(Role.AGENT, team=team)
        stranger = make_user(Role.AGENT, team=other_team)
        assign_mentor(apprentice.id, mentor.id, started_on=date(2026, 3, 1), actor_id=None,
                      now=now)
        db.session.commit()
        return locals()

    def _status(self, app, viewer, url):
        client = app.test_client()
        assert sign_in(client, viewer.employee_number).status_code == 302
        return client.get(url).status_code

    def test_agents_see_themselves_and_their_team_roster_only(self, app, floor):
        agent, team, other = floor["teammate"], floor["team"], floor["other_team"]
        assert self._status(app, agent, f"/people/{agent.id}") == 200
        assert self._status(app, agent, f"/people/{floor['apprentice'].id}") == 403
        assert self._status(app, agent, f"/teams/{team.id}") == 200
        assert self._status(app, agent, f"/teams/{other.id}") == 403

    def test_a_mentor_sees_their_apprentice_but_not_other_agents(self, app, floor):
        mentor = floor["mentor"]
        assert self._status(app, mentor, f"/people/{floor['apprentice'].id}") == 200
        assert self._status(app, mentor, f"/people/{floor['teammate'].id}") == 403

    def test_a_team_lead_sees_their_team_but_not_others(self, app, floor):
        lead = floor["lead"]
        assert self._status(app, lead, f"/people/{floor['teammate'].id}") == 200
        assert self._status(app, lead, f"/people/{floor['stranger'].id}") == 403
        assert self._status(app, lead, f"/teams/{floor['other_team'].id}") == 403

    def test_the_team_roster_shows_details_only_to_those_allowed(self, app, floor):
        client = app.test_client()
        sign_in(client, floor["teammate"].employee_number)
        page = client.get(f"/teams/{floor['team'].id}").get_data(as_text=True)
        assert floor["apprentice"].name in page
        assert f"/people/{floor['apprentice'].id}" not in page


def test_every_form_is_protected_against_csrf(make_user, db):
    app = create_app("testing", overrides={"WTF_CSRF_ENABLED": True})
    user = make_user(Role.AGENT)
    client = app.test_client()
    response = client.post("/login", data={"login": user.employee_number, "password": PASSWORD})
    assert response.status_code == 400
    assert "The form expired" in response.get_data(as_text=True)
    page = client.get("/login").get_data(as_text=True)
    assert 'name="csrf_token"' in page


def test_pages_carry_security_headers(client):
    response = client.get("/login")
    csp = response.headers["Content-Security-Policy"]
    assert "default-src 'self'" in csp and "script-src 'self'" in csp
    assert "cdn" not in response.get_data(as_text=True).lower()
    assert response.headers["X-Content-Type-Options"] == "nosniff"


def test_people_directory_filters_and_paginates(client, login_as, make_user, make_team, app):
    login_as(Role.ADMIN)
    team = make_team("Big")
    for i in range(30):
        make_user(Role.AGENT, team=team, name=f"Agent {i:02d}")
    first = client.get(f"/people?team={team.id}").get_data(as_text=True)
    assert "30 people" in first and "Page 1 of 2" in first
    second = client.get(f"/people?team={team.id}&page=2").get_data(as_text=True)
    assert "Agent 29" in second
    found = client.get("/people?q=Agent 07").get_data(as_text=True)
    assert "Agent 07" in found and "Agent 08" not in found
