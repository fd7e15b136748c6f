"""The tool against the platform emulator: launches (roles, mentors, locale, the linked
item), the refusals, deep linking, scores to the gradebook with retry, the roster."""
from __future__ import annotations

from datetime import timedelta

import pytest
import requests
from sqlalchemy import select

from app.auth.models import Mentorship, User
from app.database import utcnow
from app.lti import services
from app.lti.models import GradeOutbox, LtiIdentity
from tests.lti.emulator import (
    ADMINISTRATOR,
    INSTRUCTOR,
    LEARNER,
    MENTOR,
    PlatformEmulator,
    generate_rsa_key,
)

LAUNCH = "http://localhost/lti/launch"


@pytest.fixture()
def lms(app, db, now):
    from app.incentives.services import install_defaults
    install_defaults(now=now)
    with PlatformEmulator() as platform:
        registration = platform.registration()
        services.save_platform(platform_id=None, name="Moodle", actor_id=None, now=now,
                               **registration)
        db.session.commit()
        jwks_client = app.test_client()
        platform.tool_jwks = lambda: jwks_client.get("/lti/jwks").get_json()
        platform.enforce_enrolment = False
        yield platform


def _identity(db, subject):
    return db.session.scalar(select(LtiIdentity).where(LtiIdentity.subject == subject))


def test_a_learner_lands_signed_in_on_the_linked_item_in_the_launch_locale(app, db, lms):
    client = app.test_client()
    response = lms.launch(client, target_link_uri=LAUNCH, sub="u-1", name="Lin Xia",
                          locale="en-US", custom={"pinwheel_item": "scenario:S05"})
    assert response.status_code == 302 and response.headers["Location"] == "/scenarios/S05"
    user = _identity(db, "u-1").user
    assert (user.name, user.locale, sorted(user.roles)) == ("Lin Xia", "en", ["agent"])
    home = client.get("/home", follow_redirects=True)
    assert home.status_code == 200 and "Lin Xia" in home.get_data(as_text=True)
    # a second launch updates and does not duplicate
    lms.launch(app.test_client(), target_link_uri=LAUNCH, sub="u-1", name="Lin Xia-Wang",
               locale="zh-CN")
    db.session.expire_all()
    assert db.session.scalar(select(User).where(User.id == user.id)).name == "Lin Xia-Wang"
    assert len(db.session.scalars(select(LtiIdentity)).all()) == 1


@pytest.mark.parametrize("roles, expected", [
    ((INSTRUCTOR,), {"trainer"}),
    (("http://purl.imsglobal.org/vocab/lis/v2/membership/Instructor#TeachingAssistant",),
     {"trainer"}),
    ((ADMINISTRATOR,), {"admin"}),
    ((LEARNER,), {"agent"}),
])
def test_roles_map(app, db, lms, roles, expected):
    lms.launch(app.test_client(), target_link_uri=LAUNCH, sub="u-r", roles=roles)
    assert set(_identity(db, "u-r").user.roles) == expected


def test_a_mentor_launch_makes_the_mentees_apprentices(app, db, lms):
    lms.launch(app.test_client(), target_link_uri=LAUNCH, sub="u-1", roles=(LEARNER,))
    lms.launch(app.test_client(), target_link_uri=LAUNCH, sub="u-9", roles=(MENTOR,),
               mentor_scope=["u-1"])
    mentor, apprentice = _identity(db, "u-9").user, _identity(db, "u-1").user
    assert "mentor" in mentor.roles
    mentorship = db.session.scalar(select(Mentorship).where(
        Mentorship.apprentice_id == apprentice.id, Mentorship.ended_on.is_(None)))
    assert mentorship is not None and mentorship.mentor_id == mentor.id


def _refused(response):
    return response.status_code == 400 and 'data-testid="refusal"' in response.get_data(
        as_text=True)


def test_launches_are_refused_when_anything_is_wrong(app, db, lms):
    other_key, _jwk = generate_rsa_key()
    cases = {
        "bad signature": {"sign_with": other_key},
        "unknown key": {"kid": "no-such-key"},
        "wrong audience": {"aud": "someone-else"},
        "expired": {"exp_in": -600, "iat_offset": -1200},
        "wrong deployment": {"deployment_id": "dep-x"},
    }
    for name, claims in cases.items():
        response = lms.launch(app.test_client(), target_link_uri=LAUNCH, sub=f"u-{name}",
                              **claims)
        assert _refused(response), name
    assert db.session.scalar(select(LtiIdentity)) is None


def test_a_replayed_launch_and_a_missing_state_cookie_are_refused(app, db, lms):
    client = app.test_client()
    assert lms.launch(client, target_link_uri=LAUNCH, sub="u-1").status_code == 302
    replay = client.post("/lti/launch", data={"id_token": lms.last_id_token,
                                              "state": lms.last_state})
    assert _refused(replay)
    fresh = app.test_client()
    login = fresh.get("/lti/login", query_string={
        "iss": lms.issuer, "login_hint": "u-2", "target_link_uri": LAUNCH,
        "client_id": lms.client_id, "lti_deployment_id": lms.deployment_id})
    from urllib.parse import parse_qsl, urlsplit
    params = dict(parse_qsl(urlsplit(login.headers["Location"]).query))
    _uri, form = lms.auth_response(params, sub="u-2", target_link_uri=LAUNCH)
    stranger = app.test_client()   # no state cookie
    assert _refused(stranger.post("/lti/launch", data=form))


def test_deep_linking_returns_the_chosen_item_signed(app, db, lms, now):
    from app.training import importers
    importers.save_quiz({"code": "QDL", "title": {"zh": "测验", "en": "Quiz"},
                         "questions": ["X"]}, now=now)
    db.session.commit()
    client = app.test_client()
    response = lms.launch(client, target_link_uri=LAUNCH, sub="t-1", roles=(INSTRUCTOR,),
                          message_type="LtiDeepLinkingRequest")
    assert "/lti/deep-link/" in response.headers["Location"]
    picker = client.get(response.headers["Location"]).get_data(as_text=True)
    assert 'data-testid="pick-quiz:QDL"' in picker
    answer = client.post(response.headers["Location"], data={"item": "quiz:QDL"})
    html = answer.get_data(as_text=True)
    token = html.split('name="JWT" value="')[1].split('"')[0]
    posted = requests.post(lms.base_url + "/deep-link-return", data={"JWT": token}, timeout=5)
    assert posted.status_code == 200
    [item] = lms.deep_link_items
    assert item["custom"] == {"pinwheel_item": "quiz:QDL"} and item["type"] == "ltiResourceLink"


def test_a_passed_quiz_reaches_the_gradebook_and_a_failure_is_retried(app, db, lms, now):
    from app.training import importers, quizzes
    plan = importers.plan_gift("::G-1:: 95598 是哪家的热线？{=国家电网 ~中国移动}\n", "g.gift")
    importers.apply_gift(plan, filename="g.gift", actor_id=None, now=now)
    importers.save_quiz({"code": "QG", "title": {"zh": "测验", "en": "Quiz"},
                         "questions": ["G-1"], "shuffle": False}, now=now)
    db.session.commit()
    lms.launch(app.test_client(), target_link_uri=LAUNCH, sub="u-1",
               custom={"pinwheel_item": "quiz:QG"})
    user = _identity(db, "u-1").user
    attempt = quizzes.start_attempt("QG", user, now=now)
    quizzes.save_answer(attempt.id, 0, 0, user, now=now)
    quizzes.submit_attempt(attempt.id, user, now=now)
    db.session.commit()
    [queued] = db.session.scalars(select(GradeOutbox)).all()
    assert queued.payload["scoreGiven"] == 100.0
    assert queued.payload["gradingProgress"] == "FullyGraded"
    lms.fail_next(1)
    first = services.publish_pending(now=utcnow())
    assert first == {"sent": 0, "failed": 1} and queued.status == "failed"
    assert queued.attempts == 1 and queued.last_error
    assert services.publish_pending(now=utcnow()) == {"sent": 0, "failed": 0}   # not yet due
    later = services.publish_pending(now=utcnow() + timedelta(minutes=5))
    assert later == {"sent": 1, "failed": 0} and queued.status == "sent"
    [score] = lms.scores
    assert score["scoreGiven"] == 100.0 and score["userId"] == "u-1"
    assert score["content_type"].startswith("application/vnd.ims.lis.v1.score+json")
    assert len(lms.lineitems) == 1


def test_the_roster_is_pulled_page_by_page(app, db, lms, now):
    lms.members = [{"user_id": f"m-{n}", "name": f"Member {n}", "status": "Active",
                    "roles": [LEARNER]} for n in range(3)]
    platform = services.platform_of(lms.issuer, lms.client_id)
    counts = services.sync_roster(platform, lms.base_url + "/courses/course-1/memberships",
                                  "course-1", now=now)
    assert counts == {"members": 3, "created": 3}
    assert {i.subject for i in db.session.scalars(select(LtiIdentity))} == {"m-0", "m-1",
                                                                             "m-2"}


def test_learning_events_become_statements_when_an_lrs_is_configured(app, db, lms, now,
                                                                      monkeypatch):
    from app.lti.models import XapiOutbox
    monkeypatch.setitem(app.config, "LRS_URL", "http://127.0.0.1:9/xAPI")
    client = app.test_client()
    lms.launch(client, target_link_uri=LAUNCH, sub="u-x", custom={"pinwheel_item":
                                                                   "scenario:S05"})
    [outbox] = db.session.scalars(select(XapiOutbox)).all()
    statement = outbox.statement
    assert statement["verb"]["id"] == "http://adlnet.gov/expapi/verbs/launched"
    assert statement["actor"]["account"]["homePage"] == lms.issuer
    assert statement["object"]["id"].endswith("/activities/scenario/S05")


def test_the_cli_registers_a_platform_and_rotates_the_key(app, db, runner):
    from app.lti.models import ToolKey
    result = runner.invoke(args=[
        "lti", "add-platform", "--name", "Canvas", "--issuer", "https://canvas.test",
        "--client-id", "c-1", "--auth-login-url", "https://canvas.test/auth",
        "--auth-token-url", "https://canvas.test/token", "--key-set-url",
        "https://canvas.test/jwks", "--deployment-id", "d-1"])
    assert result.exit_code == 0, result.output
    first = db.session.scalar(select(ToolKey))
    assert runner.invoke(args=["lti", "rotate-key"]).exit_code == 0
    kids = [k["kid"] for k in app.test_client().get("/lti/jwks").get_json()["keys"]]
    assert first.kid in kids and len(kids) == 2   # the old key is still published
    bad = runner.invoke(args=[
        "lti", "add-platform", "--name", "X", "--issuer", "not-a-url", "--client-id", "c",
        "--auth-login-url", "https://x/a", "--auth-token-url", "https://x/t",
        "--key-set-url", "https://x/k", "--deployment-id", "d"])
    assert bad.exit_code == 1 and "must be an http(s) URL" in bad.output


def test_registered_platforms_may_frame_pinwheel(app, db, lms):
    csp = app.test_client().get("/login").headers["Content-Security-Policy"]
    assert f"frame-ancestors 'self' {lms.base_url}" in csp


def test_the_admin_maps_a_course_to_a_team_and_pulls_its_roster(app, db, lms, make_user,
                                                                 make_team, now):
    from app.auth.roles import Role
    from tests.conftest import PASSWORD
    team = make_team("LMS course team")
    lms.launch(app.test_client(), target_link_uri=LAUNCH, sub="u-1", context_id="course-7")
    platform = services.platform_of(lms.issuer, lms.client_id)
    assert platform.contexts["course-7"]["memberships_url"].endswith("/memberships")
    admin = make_user(Role.ADMIN)
    client = app.test_client()
    client.post("/login", data={"login": admin.employee_number, "password": PASSWORD})
    page = client.get(f"/lti/platforms/{platform.id}").get_data(as_text=True)
    assert "course-7" in page
    client.post(f"/lti/platforms/{platform.id}/courses", data={"context": "course-7",
                                                               "team_id": str(team.id)})
    lms.members = [{"user_id": "u-5", "name": "New Member", "status": "Active",
                    "roles": ["http://purl.imsglobal.org/vocab/lis/v2/membership#Learner"]}]
    client.post(f"/lti/platforms/{platform.id}/courses", data={"context": "course-7",
                                                               "action": "sync"})
    db.session.expire_all()
    assert _identity(db, "u-5").user.team_id == team.id


def test_behind_a_proxy_an_lti_session_cookie_works_in_a_cross_site_frame(app, db, lms):
    from app import create_app
    proxied = create_app("testing", overrides={"PROXY_FIX_HOPS": 1,
                                               "SQLALCHEMY_DATABASE_URI":
                                               app.config["SQLALCHEMY_DATABASE_URI"]})
    assert proxied.wsgi_app.__class__.__name__ == "ProxyFix"
    with app.test_request_context("/", base_url="https://tool.test"):
        from flask import session

        from app.lti.frames import LtiSessionInterface
        session["lti"] = True
        interface = LtiSessionInterface()
        assert interface.get_cookie_samesite(app) == "None"
        assert interface.get_cookie_secure(app) is True
    with app.test_request_context("/", base_url="https://tool.test"):
        assert LtiSessionInterface().get_cookie_samesite(app) == "Lax"
