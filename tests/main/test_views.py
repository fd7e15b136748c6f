"""Home pages per role, language, health, notifications and the audit trail."""
from __future__ import annotations

from datetime import date

import pytest
from sqlalchemy import func, select

from app import create_app
from app.audit.models import AuditEvent
from app.auth.models import User
from app.auth.roles import Role
from app.auth.services import assign_mentor, deactivate_user
from app.database import utcnow
from app.incentives.services import Award, award, install_defaults
from app.notifications.services import notify


@pytest.mark.parametrize("role", list(Role))
def test_each_role_lands_on_its_own_home_page(client, login_as, role):
    login_as(role)
    response = client.get("/home", follow_redirects=True)
    assert response.status_code == 200
    assert f'data-testid="home-{role.value}"' in response.get_data(as_text=True)


def test_navigation_shows_only_what_the_role_may_use(client, login_as):
    login_as(Role.AGENT)
    page = client.get("/home/agent").get_data(as_text=True)
    # agents see their own QA results under Quality
    assert 'href="/training/"' in page and 'href="/windmill/"' in page
    assert 'href="/qa/"' in page
    for hidden in ('href="/people"', 'href="/audit/"', 'href="/lti/"'):
        assert hidden not in page


def test_admin_navigation_has_everything(client, login_as):
    login_as(Role.ADMIN)
    page = client.get("/home/admin").get_data(as_text=True)
    for shown in ('href="/people"', 'href="/teams"', 'href="/audit/"', 'href="/lti/"'):
        assert shown in page


def test_a_person_with_several_roles_can_open_each_home(client, login_as):
    user = login_as(Role.MENTOR)
    assert client.get("/home").headers["Location"] == "/home/mentor"
    assert client.get("/home/admin").status_code == 403
    assert user.primary_role == Role.MENTOR


def test_the_mentor_home_lists_current_apprentices(client, make_user, login_as, now, db):
    mentor = make_user(Role.AGENT, Role.MENTOR)
    apprentice = make_user(Role.AGENT, name="徒弟小王", hire_date=date(2026, 3, 2))
    assign_mentor(apprentice.id, mentor.id, started_on=date(2026, 3, 2), actor_id=None, now=now)
    db.session.commit()
    login_as(mentor)
    page = client.get("/home/mentor").get_data(as_text=True)
    assert "徒弟小王" in page


def test_the_admin_home_shows_attrition(client, login_as, make_user, now, db):
    admin = login_as(Role.ADMIN)
    leaver = make_user(Role.AGENT, hire_date=date(2024, 1, 1))
    deactivate_user(leaver.id, leave_date=date.today().replace(day=1), actor_id=admin.id, now=now)
    db.session.commit()
    page = client.get("/home/admin").get_data(as_text=True)
    assert 'id="attrition-chart"' in page and "attrition-data" in page
    # the recent changes, told as sentences
    assert "left the centre" in page and leaver.display_name in page


class TestLanguage:
    def test_the_first_visit_follows_accept_language(self, client):
        page = client.get("/login", headers={"Accept-Language": "zh-CN,zh;q=0.9,en;q=0.5"})
        assert '<html lang="zh-Hans">' in page.get_data(as_text=True)
        page = client.get("/login", headers={"Accept-Language": "en-GB,en;q=0.9"})
        assert '<html lang="en">' in page.get_data(as_text=True)

    def test_an_anonymous_choice_sticks_for_the_browser_session(self, client):
        client.post("/language", data={"locale": "zh_Hans", "next": "/login"})
        page = client.get("/login", headers={"Accept-Language": "en"}).get_data(as_text=True)
        assert '<html lang="zh-Hans">' in page
        assert "登录" in page

    def test_a_signed_in_choice_is_stored_on_the_user(self, client, login_as, db, app):
        user = login_as(Role.AGENT)
        response = client.post("/language", data={"locale": "zh_Hans", "next": "/home/agent"})
        assert response.headers["Location"] == "/home/agent"
        db.session.expire_all()
        assert db.session.get(User, user.id).locale == "zh_Hans"
        other = app.test_client()   # another browser, English by default
        other.post("/login", data={"login": user.employee_number, "password": "correct-horse-1"},
                   headers={"Accept-Language": "en"})
        page = other.get("/home/agent", headers={"Accept-Language": "en"}).get_data(as_text=True)
        assert '<html lang="zh-Hans">' in page and "入职批次" in page

    def test_unknown_languages_and_offsite_targets_are_refused(self, client):
        assert client.post("/language", data={"locale": "fr"}).status_code == 400
        response = client.post("/language", data={"locale": "en", "next": "//evil.example"})
        assert response.headers["Location"] == "/"


def test_healthz_says_when_the_database_is_unreachable(tmp_path):
    app = create_app("testing", overrides={
        "SQLALCHEMY_DATABASE_URI": f"sqlite:///{tmp_path}/missing/dir/x.db"})
    response = app.test_client().get("/healthz")
    assert response.status_code == 503
    assert response.get_json()["database"] == "unreachable"


class TestNotifications:
    def test_unread_count_in_the_header_and_marking_read(self, client, login_as, now, db):
        user = login_as(Role.AGENT)
        first = notify(user.id, "%(name)s is now your mentor.", params={"name": "王芳"}, now=now)
        notify(user.id, "An administrator set a new password for your account.", now=now,
               link="/account/password")
        db.session.commit()
        page = client.get("/inbox/").get_data(as_text=True)
        assert 'class="badge"' in page and ">2<" in page
        assert "王芳 is now your mentor." in page
        client.post(f"/inbox/{first.id}/read")
        page = client.get("/inbox/").get_data(as_text=True)
        assert ">1<" in page
        client.post("/inbox/read-all")
        assert 'class="badge"' not in client.get("/inbox/").get_data(as_text=True)

    def test_notifications_are_shown_in_the_readers_language(self, client, login_as, now, db):
        user = login_as(Role.AGENT)
        notify(user.id, "%(name)s is now your mentor.", params={"name": "Emma"}, now=now)
        db.session.commit()
        client.post("/language", data={"locale": "zh_Hans"})
        page = client.get("/inbox/").get_data(as_text=True)
        assert "Emma" in page and "is now your mentor" not in page

    def test_a_notification_link_opens_after_marking_read(self, client, login_as, now, db):
        user = login_as(Role.AGENT)
        note = notify(user.id, "Hello", link="/account/password", now=now)
        db.session.commit()
        response = client.post(f"/inbox/{note.id}/read")
        assert response.headers["Location"] == "/account/password"


def test_the_audit_trail_lists_and_filters_changes(client, login_as, make_user, db):
    admin = login_as(Role.ADMIN)
    person = make_user(Role.AGENT, name="Audited Person")
    client.post(f"/people/{person.id}/password", data={"new_password": "a-new-pass-1"})
    page = client.get("/audit/").get_data(as_text=True)
    assert "Password set by an administrator" in page and "Audited Person" in page
    filtered = client.get("/audit/?action=team.").get_data(as_text=True)
    assert "Password set by an administrator" not in filtered.split("<tbody>")[1]
    home = client.get("/home/admin").get_data(as_text=True)
    assert f"set a new password for <a href=\"/people/{person.id}\">" in home
    only_person = client.get(f"/audit/?subject={person.id}").get_data(as_text=True)
    assert "Audited Person" in only_person
    assert db.session.scalar(select(func.count()).select_from(AuditEvent)
                             .where(AuditEvent.actor_id == admin.id)) == 1


def test_the_attrition_figures_are_cached_until_the_people_change(db, make_user, now):
    from app.extensions import cache
    from app.main.queries import attrition_trend, people_version

    today = date(2026, 3, 20)
    agent = make_user(Role.AGENT, hire_date=date(2025, 1, 1))
    first = attrition_trend(today)
    assert cache.get(f"attrition/{today.isoformat()}/6/{people_version()}") == first
    assert first[-1]["leavers"] == 0
    deactivate_user(agent.id, leave_date=date(2026, 3, 10), actor_id=None, now=now)
    db.session.commit()
    assert attrition_trend(today)[-1]["leavers"] == 1


def test_the_agent_home_shows_this_months_points_and_level(client, login_as, db):
    agent = login_as(Role.AGENT)
    install_defaults(now=utcnow())
    # at the real current time, so that it falls in the month the home page shows
    award(Award("career.promotion", agent.id, "p", "promotion"), now=utcnow())
    db.session.commit()
    page = client.get("/home/agent").get_data(as_text=True)
    assert "300 points this month" in page and "Rising Star" in page

