"""The LTI 1.3 platform emulator itself: real RS256 signatures, real HTTP, spec behaviour."""
from __future__ import annotations

import html
import re
import secrets
import time
import uuid
from urllib.parse import urlencode

import jwt
import pytest
import requests
from flask import Flask, jsonify, redirect, request, session

from tests.lti.emulator import (
    CLIENT_ASSERTION_TYPE,
    DL,
    DL_SETTINGS_CLAIM,
    INSTRUCTOR,
    LEARNER,
    LINEITEM_TYPE,
    LTI,
    MENTOR,
    NRPS_CLAIM,
    SCOPE_LINEITEM,
    SCOPE_NRPS,
    SCOPE_SCORE,
    SCORE_TYPE,
    PlatformEmulator,
    generate_rsa_key,
)


@pytest.fixture()
def lms():
    with PlatformEmulator() as emulator:
        yield emulator


@pytest.fixture()
def tool_key(lms):
    """The tool's signing key; the emulator reads the tool's JWKS through `tool_jwks`."""
    key, jwk = generate_rsa_key("tool-1")
    lms.tool_jwks = lambda: {"keys": [jwk]}
    return key


def platform_key(lms) -> jwt.PyJWK:
    keys = requests.get(lms.registration()["key_set_url"], timeout=5).json()["keys"]
    assert [k["kid"] for k in keys] == [lms.kid]
    assert keys[0]["alg"] == "RS256" and keys[0]["use"] == "sig" and "d" not in keys[0]
    return jwt.PyJWK(keys[0])


def decode_launch(lms, token: str) -> dict:
    return jwt.decode(token, platform_key(lms).key, algorithms=["RS256"],
                      audience=lms.client_id, issuer=lms.issuer)


def assertion(lms, key, *, kid="tool-1", aud=None, exp_in=300, iss=None) -> str:
    now = int(time.time())
    claims = {"iss": iss or lms.client_id, "sub": iss or lms.client_id,
              "aud": aud or lms.registration()["auth_token_url"], "iat": now,
              "exp": now + exp_in, "jti": uuid.uuid4().hex}
    return jwt.encode(claims, key, algorithm="RS256", headers={"kid": kid})


def ask_token(lms, client_assertion: str, scopes=(SCOPE_LINEITEM, SCOPE_SCORE, SCOPE_NRPS)):
    return requests.post(lms.registration()["auth_token_url"], timeout=5, data={
        "grant_type": "client_credentials", "client_assertion_type": CLIENT_ASSERTION_TYPE,
        "client_assertion": client_assertion, "scope": " ".join(scopes)})


@pytest.fixture()
def bearer(lms, tool_key):
    response = ask_token(lms, assertion(lms, tool_key))
    assert response.status_code == 200, response.text
    return {"Authorization": f"Bearer {response.json()['access_token']}"}


def create_lineitem(lms, bearer, **fields):
    body = {"label": "Quiz", "scoreMaximum": 10, **fields}
    response = requests.post(f"{lms.base_url}/courses/course-1/lineitems", json=body,
                             headers={**bearer, "Content-Type": LINEITEM_TYPE}, timeout=5)
    assert response.status_code == 201, response.text
    return response.json()


def post_score(lms, bearer, lineitem, content_type=SCORE_TYPE, **fields):
    body = {"userId": "u-1", "scoreGiven": 8, "scoreMaximum": 10, "activityProgress": "Completed",
            "gradingProgress": "FullyGraded", "timestamp": "2026-03-15T10:30:00+08:00", **fields}
    body = {k: v for k, v in body.items() if v is not None}
    return requests.post(lineitem["id"] + "/scores", json=body, timeout=5,
                         headers={**bearer, "Content-Type": content_type})


# ---------------------------------------------------------------- id tokens and keys
def test_id_token_verifies_against_the_jwks_served_over_http(lms):
    claims = decode_launch(lms, lms.id_token(nonce="n-1", custom={"pathway": "p1"}))
    assert claims["nonce"] == "n-1" and claims["sub"] == "u-1"
    assert claims["azp"] == lms.client_id and claims["name"] == "学员 小林"
    assert claims[LTI + "version"] == "1.3.0"
    assert claims[LTI + "message_type"] == "LtiResourceLinkRequest"
    assert claims[LTI + "deployment_id"] == "dep-1"
    assert claims[LTI + "roles"] == [LEARNER]
    assert claims[LTI + "resource_link"]["id"] == "rl-1"
    assert claims[LTI + "context"]["id"] == "course-1"
    assert claims[LTI + "custom"] == {"pathway": "p1"}
    assert claims[LTI + "launch_presentation"] == {"locale": "zh-CN", "document_target": "iframe"}
    ags = claims["https://purl.imsglobal.org/spec/lti-ags/claim/endpoint"]
    assert ags["lineitems"] == f"{lms.base_url}/courses/course-1/lineitems"
    assert SCOPE_SCORE in ags["scope"]
    assert claims[NRPS_CLAIM] == {
        "context_memberships_url": f"{lms.base_url}/courses/course-1/memberships",
        "service_versions": ["2.0"]}
    assert LTI + "role_scope_mentor" not in claims and DL_SETTINGS_CLAIM not in claims


def test_mentor_deep_linking_and_extra_claims(lms):
    mentor = decode_launch(lms, lms.id_token(nonce="n", roles=[MENTOR],
                                             mentor_scope="u-9", extra={"email": None}))
    assert mentor[LTI + "role_scope_mentor"] == ["u-9"] and "email" not in mentor
    dl = decode_launch(lms, lms.id_token(nonce="n", message_type="LtiDeepLinkingRequest"))
    settings = dl[DL_SETTINGS_CLAIM]
    assert settings["deep_link_return_url"] == lms.base_url + "/deep-link-return"
    assert settings["accept_types"] == ["ltiResourceLink"]
    assert settings["accept_presentation_document_targets"] == ["iframe", "window"]
    assert settings["data"] == "dl-data"


def test_token_signed_with_another_key_or_unknown_kid_does_not_verify(lms):
    other, _ = generate_rsa_key()
    with pytest.raises(jwt.InvalidSignatureError):
        decode_launch(lms, lms.id_token(nonce="n", sign_with=other))
    token = lms.id_token(nonce="n", kid="unknown")
    assert jwt.get_unverified_header(token)["kid"] == "unknown"
    with pytest.raises(jwt.ExpiredSignatureError):
        decode_launch(lms, lms.id_token(nonce="n", exp_in=-30))
    with pytest.raises(jwt.InvalidAudienceError):
        decode_launch(lms, lms.id_token(nonce="n", aud="someone-else"))


# ---------------------------------------------------------------- token endpoint
def test_token_endpoint_accepts_a_good_client_assertion(lms, tool_key):
    response = ask_token(lms, assertion(lms, tool_key))
    assert response.status_code == 200, response.text
    body = response.json()
    assert body["token_type"] == "Bearer" and body["expires_in"] == 3600 and body["access_token"]
    assert set(body["scope"].split()) == {SCOPE_LINEITEM, SCOPE_SCORE, SCOPE_NRPS}


@pytest.mark.parametrize("problem", ["audience", "key", "kid", "expired", "issuer"])
def test_token_endpoint_refuses_a_bad_client_assertion(lms, tool_key, problem):
    other, _ = generate_rsa_key()
    token = {
        "audience": lambda: assertion(lms, tool_key, aud=lms.base_url + "/elsewhere"),
        "key": lambda: assertion(lms, other),
        "kid": lambda: assertion(lms, tool_key, kid="nope"),
        "expired": lambda: assertion(lms, tool_key, exp_in=-60),
        "issuer": lambda: assertion(lms, tool_key, iss="another-tool"),
    }[problem]()
    response = ask_token(lms, token)
    assert response.status_code == 400
    assert response.json()["error"] == "invalid_client"


def test_service_calls_need_a_token_with_the_scope(lms, tool_key):
    url = f"{lms.base_url}/courses/course-1/lineitems"
    assert requests.get(url, timeout=5).status_code == 401
    assert requests.get(url, headers={"Authorization": "Bearer forged"}, timeout=5).status_code \
        == 401
    nrps_only = ask_token(lms, assertion(lms, tool_key), scopes=[SCOPE_NRPS]).json()
    response = requests.get(url, timeout=5,
                            headers={"Authorization": f"Bearer {nrps_only['access_token']}"})
    assert response.status_code == 403


# ---------------------------------------------------------------- AGS
def test_lineitems_created_fetched_and_listed_with_filters(lms, bearer):
    quiz = create_lineitem(lms, bearer, resourceLinkId="rl-1", tag="quiz")
    exam = create_lineitem(lms, bearer, label="Exam", resourceId="exam-1", tag="exam")
    assert quiz["id"] == f"{lms.base_url}/courses/course-1/lineitems/1"
    assert set(lms.lineitems) == {quiz["id"], exam["id"]}
    fetched = requests.get(quiz["id"], headers=bearer, timeout=5)
    assert fetched.json() == quiz
    url = f"{lms.base_url}/courses/course-1/lineitems"

    def listed(**params):
        response = requests.get(url, params=params, headers=bearer, timeout=5)
        assert response.status_code == 200
        assert response.headers["Content-Type"].startswith(
            "application/vnd.ims.lis.v2.lineitemcontainer+json")
        return [item["label"] for item in response.json()]

    assert listed() == ["Quiz", "Exam"]
    assert listed(resource_link_id="rl-1") == ["Quiz"]
    assert listed(resource_id="exam-1") == ["Exam"]
    assert listed(tag="exam") == ["Exam"]
    other_course = requests.get(f"{lms.base_url}/courses/course-2/lineitems", headers=bearer,
                                timeout=5)
    assert other_course.json() == []


def test_score_with_the_right_content_type_is_recorded(lms, bearer):
    lineitem = create_lineitem(lms, bearer)
    response = post_score(lms, bearer, lineitem, comment="好")
    assert response.status_code == 200, response.text
    [score] = lms.scores
    assert score["lineitem"] == lineitem["id"] and score["user_id"] == "u-1"
    assert score["scoreGiven"] == 8 and score["scoreMaximum"] == 10 and score["comment"] == "好"
    assert score["content_type"].startswith(SCORE_TYPE)


@pytest.mark.parametrize("change, status", [
    ({"content_type": "application/json"}, 415),
    ({"timestamp": None}, 400),
    ({"scoreMaximum": None}, 400),
])
def test_score_refused_like_moodle(lms, bearer, change, status):
    lineitem = create_lineitem(lms, bearer)
    response = post_score(lms, bearer, lineitem, **change)
    assert response.status_code == status
    assert lms.scores == []


def test_score_for_a_user_not_enrolled_as_student_is_refused(lms, bearer):
    lms.members = [{"user_id": "u-1", "roles": [LEARNER], "status": "Active"},
                   {"user_id": "t-1", "roles": [INSTRUCTOR], "status": "Active"}]
    lineitem = create_lineitem(lms, bearer)
    assert post_score(lms, bearer, lineitem, userId="t-1").status_code == 400
    assert post_score(lms, bearer, lineitem).status_code == 200
    assert [s["user_id"] for s in lms.scores] == ["u-1"]


def test_fail_next_answers_503_then_recovers(lms, tool_key, bearer):
    url = f"{lms.base_url}/courses/course-1/lineitems"
    lms.fail_next(1)
    failed = requests.get(url, headers=bearer, timeout=5)
    assert failed.status_code == 503 and failed.headers["Retry-After"] == "1"
    assert requests.get(url, headers=bearer, timeout=5).status_code == 200
    lms.fail_next(1)
    assert ask_token(lms, assertion(lms, tool_key)).status_code == 503
    assert ask_token(lms, assertion(lms, tool_key)).status_code == 200


# ---------------------------------------------------------------- NRPS
def test_memberships_are_paged_with_link_next(lms, bearer):
    lms.members = [{"user_id": f"u-{i}", "roles": [LEARNER], "name": f"学员 {i}",
                    "email": f"u{i}@example.test", "status": "Active"} for i in (1, 2, 3)]
    url = f"{lms.base_url}/courses/course-1/memberships"
    first = requests.get(url, headers=bearer, timeout=5)
    assert first.status_code == 200
    assert first.headers["Content-Type"].startswith(
        "application/vnd.ims.lti-nrps.v2.membershipcontainer+json")
    assert [m["user_id"] for m in first.json()["members"]] == ["u-1", "u-2"]
    assert first.links["next"]["url"] == url + "?page=2"
    assert 'rel="next"' in first.headers["Link"]
    second = requests.get(first.links["next"]["url"], headers=bearer, timeout=5)
    assert [m["user_id"] for m in second.json()["members"]] == ["u-3"]
    assert "Link" not in second.headers


# ---------------------------------------------------------------- OIDC /auth (browser path)
def auth_params(lms, **changes):
    params = {"scope": "openid", "response_type": "id_token", "response_mode": "form_post",
              "prompt": "none", "client_id": lms.client_id,
              "redirect_uri": "https://tool.test/lti/launch", "login_hint": "u-1",
              "lti_message_hint": "hint", "state": "st-1", "nonce": "no-1", **changes}
    return {k: v for k, v in params.items() if v is not None}


def test_auth_page_auto_posts_state_and_an_id_token_with_the_nonce(lms):
    lms.next_claims = {"sub": "u-7", "roles": [INSTRUCTOR]}
    response = requests.get(lms.registration()["auth_login_url"], params=auth_params(lms),
                            timeout=5)
    assert response.status_code == 200
    page = response.text
    assert 'action="https://tool.test/lti/launch"' in page
    assert 'name="state" value="st-1"' in page
    assert "<script>" in page and 'type="submit"' in page
    token = html.unescape(re.search(r'name="id_token" value="([^"]+)"', page).group(1))
    claims = decode_launch(lms, token)
    assert claims["nonce"] == "no-1" and claims["sub"] == "u-7"
    assert claims[LTI + "roles"] == [INSTRUCTOR]
    assert lms.last_id_token == token and lms.last_state == "st-1"


@pytest.mark.parametrize("change", [{"client_id": "other"}, {"redirect_uri": None},
                                    {"response_type": "code"}, {"scope": "profile"}])
def test_malformed_auth_request_is_refused(lms, change):
    with pytest.raises(AssertionError, match="malformed OIDC auth request"):
        lms.auth_response(auth_params(lms, **change))
    response = requests.get(lms.base_url + "/auth", params=auth_params(lms, **change), timeout=5)
    assert response.status_code == 400


# ---------------------------------------------------------------- the whole launch
def fake_tool(lms) -> Flask:
    """A minimal tool: enough OIDC to prove `launch` drives the flow and the token verifies."""
    tool = Flask("fake_tool")
    tool.secret_key = "test"
    tool.config["KEY"], jwk = generate_rsa_key("tool-1")

    @tool.get("/lti/jwks")
    def jwks():
        return jsonify(keys=[jwk])

    @tool.route("/lti/login", methods=["GET", "POST"])
    def login():
        reg = lms.registration()
        assert request.values["iss"] == reg["issuer"]
        assert request.values["lti_deployment_id"] in reg["deployment_ids"]
        session["state"], session["nonce"] = secrets.token_hex(8), secrets.token_hex(8)
        return redirect(reg["auth_login_url"] + "?" + urlencode({
            "scope": "openid", "response_type": "id_token", "response_mode": "form_post",
            "prompt": "none", "client_id": reg["client_id"],
            "redirect_uri": request.values["target_link_uri"],
            "login_hint": request.values["login_hint"],
            "lti_message_hint": request.values["lti_message_hint"],
            "state": session["state"], "nonce": session["nonce"]}))

    @tool.post("/lti/launch")
    def launch():
        if request.form["state"] != session.get("state"):
            return "bad state", 400
        jwks = requests.get(lms.registration()["key_set_url"], timeout=5).json()
        kid = jwt.get_unverified_header(request.form["id_token"])["kid"]
        keys = [k for k in jwks["keys"] if k["kid"] == kid]
        if not keys:
            return "unknown kid", 400
        try:
            claims = jwt.decode(request.form["id_token"], jwt.PyJWK(keys[0]).key,
                                algorithms=["RS256"], audience=lms.client_id, issuer=lms.issuer)
        except jwt.PyJWTError as exc:
            return str(exc), 400
        if claims["nonce"] != session.pop("nonce", None):
            return "bad nonce", 400
        return jsonify(sub=claims["sub"], roles=claims[LTI + "roles"])

    return tool


def test_launch_drives_login_auth_and_launch_with_the_same_client(lms):
    client = fake_tool(lms).test_client()
    response = lms.launch(client, sub="u-5", roles=[INSTRUCTOR])
    assert response.status_code == 200, response.get_data(as_text=True)
    assert response.get_json() == {"sub": "u-5", "roles": [INSTRUCTOR]}
    assert lms.auth_requests[-1]["login_hint"] == "u-5"
    replay = client.post("/lti/launch", data={"id_token": lms.last_id_token,
                                              "state": lms.last_state})
    assert replay.status_code == 400  # this fake tool consumes its nonce
    assert lms.launch(client, kid="unknown").status_code == 400
    other, _ = generate_rsa_key()
    assert lms.launch(client, sign_with=other).status_code == 400


# ---------------------------------------------------------------- deep linking return
def deep_link_response(lms, key, *, message_type="LtiDeepLinkingResponse", items=None) -> str:
    now = int(time.time())
    claims = {"iss": lms.client_id, "aud": lms.issuer, "iat": now, "exp": now + 300,
              "nonce": uuid.uuid4().hex, LTI + "message_type": message_type,
              LTI + "version": "1.3.0", LTI + "deployment_id": lms.deployment_id,
              DL + "data": "dl-data",
              DL + "content_items": items or [{"type": "ltiResourceLink", "title": "Pathway 1",
                                               "url": "https://tool.test/lti/launch",
                                               "custom": {"pathway": "p1"}}]}
    return jwt.encode(claims, key, algorithm="RS256", headers={"kid": "tool-1"})


def test_deep_link_return_records_items_of_a_verified_response(lms, tool_key):
    url = lms.base_url + "/deep-link-return"
    ok = requests.post(url, data={"JWT": deep_link_response(lms, tool_key)}, timeout=5)
    assert ok.status_code == 200, ok.text
    assert [i["title"] for i in lms.deep_link_items] == ["Pathway 1"]
    wrong_type = deep_link_response(lms, tool_key, message_type="LtiResourceLinkRequest")
    assert requests.post(url, data={"JWT": wrong_type}, timeout=5).status_code == 400
    other, _ = generate_rsa_key()
    forged = deep_link_response(lms, other)
    assert requests.post(url, data={"JWT": forged}, timeout=5).status_code == 400
    assert len(lms.deep_link_items) == 1


def test_tool_jwks_read_through_a_flask_test_client_from_the_server_thread(lms):
    tool = fake_tool(lms)
    client = tool.test_client()
    lms.tool_jwks = lambda: client.get("/lti/jwks").get_json()
    assert ask_token(lms, assertion(lms, tool.config["KEY"])).status_code == 200
    other, _ = generate_rsa_key()
    assert ask_token(lms, assertion(lms, other)).status_code == 400
    lms.tool_jwks = lambda: 1 / 0
    broken = ask_token(lms, assertion(lms, tool.config["KEY"]))
    assert broken.status_code == 400 and "ZeroDivisionError" in broken.json()["error_description"]
