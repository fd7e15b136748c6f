"""An LTI 1.3 Advantage platform (the LMS side: Moodle, Canvas) for the test suite.

It signs real RS256 tokens with its own RSA key and serves, over real HTTP on 127.0.0.1, the
endpoints a tool calls: the platform key set, the OIDC authorisation endpoint, the OAuth2 token
endpoint (client-credentials grant with a JWT client assertion), Assignment and Grade Services
(line items, scores, results), Names and Role Provisioning Services (paged memberships) and the
deep-linking return URL.

    with PlatformEmulator() as lms:
        register(lms.registration())                    # the tool's admin adds the platform
        lms.tool_jwks = lambda: client.get("/lti/jwks").get_json()
        response = lms.launch(client, roles=(INSTRUCTOR,))
        ...
        assert lms.scores[0]["scoreGiven"] == 8

Behaviour worth knowing (each modelled on a real platform):
- Scores need `userId`, `activityProgress`, `gradingProgress` and `timestamp`; `scoreMaximum` is
  required when `scoreGiven` is present (Moodle). When `members` is not empty, a score for a user
  who is not an active Learner there is refused (Moodle refuses grades for non-students); set
  `enforce_enrolment = False` to switch this off.
- Service calls need a Bearer token from /token carrying the right scope (401 without a valid
  token, 403 when the scope is missing).
- `fail_next(n)`: the next n token/AGS/NRPS requests answer 503 with `Retry-After: 1`.
"""
from __future__ import annotations

import html
import itertools
import json
import secrets
import threading
import time
import uuid
from collections.abc import Callable, Iterable
from datetime import datetime
from typing import Any
from urllib.parse import parse_qsl, urlencode, urlsplit

import jwt
import requests
from cryptography.hazmat.primitives.asymmetric import rsa
from werkzeug.exceptions import HTTPException, NotFound
from werkzeug.routing import Map, Rule
from werkzeug.serving import WSGIRequestHandler, make_server
from werkzeug.wrappers import Request, Response

LTI = "https://purl.imsglobal.org/spec/lti/claim/"
AGS_CLAIM = "https://purl.imsglobal.org/spec/lti-ags/claim/endpoint"
NRPS_CLAIM = "https://purl.imsglobal.org/spec/lti-nrps/claim/namesroleservice"
DL_SETTINGS_CLAIM = "https://purl.imsglobal.org/spec/lti-dl/claim/deep_linking_settings"
DL = "https://purl.imsglobal.org/spec/lti-dl/claim/"

LEARNER = "http://purl.imsglobal.org/vocab/lis/v2/membership#Learner"
INSTRUCTOR = "http://purl.imsglobal.org/vocab/lis/v2/membership#Instructor"
MENTOR = "http://purl.imsglobal.org/vocab/lis/v2/membership#Mentor"
ADMINISTRATOR = "http://purl.imsglobal.org/vocab/lis/v2/institution/person#Administrator"

SCOPE_LINEITEM = "https://purl.imsglobal.org/spec/lti-ags/scope/lineitem"
SCOPE_LINEITEM_READONLY = "https://purl.imsglobal.org/spec/lti-ags/scope/lineitem.readonly"
SCOPE_RESULT_READONLY = "https://purl.imsglobal.org/spec/lti-ags/scope/result.readonly"
SCOPE_SCORE = "https://purl.imsglobal.org/spec/lti-ags/scope/score"
SCOPE_NRPS = "https://purl.imsglobal.org/spec/lti-nrps/scope/contextmembership.readonly"
SUPPORTED_SCOPES = (SCOPE_LINEITEM, SCOPE_LINEITEM_READONLY, SCOPE_RESULT_READONLY, SCOPE_SCORE,
                    SCOPE_NRPS)

CLIENT_ASSERTION_TYPE = "urn:ietf:params:oauth:client-assertion-type:jwt-bearer"
SCORE_TYPE = "application/vnd.ims.lis.v1.score+json"
LINEITEM_TYPE = "application/vnd.ims.lis.v2.lineitem+json"
LINEITEMS_TYPE = "application/vnd.ims.lis.v2.lineitemcontainer+json"
RESULTS_TYPE = "application/vnd.ims.lis.v2.resultcontainer+json"
MEMBERSHIPS_TYPE = "application/vnd.ims.lti-nrps.v2.membershipcontainer+json"


def generate_rsa_key(kid: str | None = None) -> tuple[rsa.RSAPrivateKey, dict]:
    """A fresh RSA 2048 private key and its public JWK (kid, alg RS256, use sig)."""
    key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    jwk = jwt.algorithms.RSAAlgorithm.to_jwk(key.public_key(), as_dict=True)
    jwk.update(kid=kid or f"k-{uuid.uuid4().hex[:12]}", alg="RS256", use="sig")
    return key, jwk


class _QuietHandler(WSGIRequestHandler):
    def log_request(self, *args, **kwargs) -> None:  # keep test output clean
        pass


class _Refused(Exception):
    def __init__(self, status: int, body: dict | str, headers: dict | None = None):
        super().__init__(body)
        self.status, self.body, self.headers = status, body, headers or {}


class PlatformEmulator:
    """Plays the LMS against the tool. See the module docstring."""

    page_size = 2              # NRPS members per page
    deep_link_data = "dl-data"  # the opaque `data` sent in deep_linking_settings
    enforce_enrolment = True
    token_leeway = 5           # seconds of clock leeway on the tool's client assertions

    def __init__(self, issuer: str = "https://lms.example.test", client_id: str = "pinwheel-tool",
                 deployment_id: str = "dep-1"):
        self.issuer, self.client_id, self.deployment_id = issuer, client_id, deployment_id
        self.private_key, self.public_jwk = generate_rsa_key(f"lms-{uuid.uuid4().hex[:12]}")
        self.kid: str = self.public_jwk["kid"]
        self.tool_jwks: Callable[[], dict] | dict | str | None = None
        self.next_claims: dict = {}     # claims for a browser launch through GET /auth
        self.redirect_uris: list[str] | None = None  # when set, /auth accepts only these
        self.scores: list[dict] = []
        self.lineitems: dict[str, dict] = {}
        self.members: list[dict] = []
        self.deep_link_items: list = []
        self.deep_link_responses: list[dict] = []   # the verified claims of each DL response
        self.auth_requests: list[dict] = []         # params of each OIDC auth request seen
        self.token_requests: list[dict] = []        # {"scope": …, "granted": bool, "error": …}
        self.requests: list[tuple[str, str]] = []   # (method, path) of every HTTP request
        self.errors: list[str] = []                 # why requests were refused
        self.last_id_token: str | None = None
        self.last_state: str | None = None
        self.tokens: dict[str, dict] = {}           # access token → {"scopes", "exp"}
        self._fail = 0
        self._lineitem_ids = itertools.count(1)
        self._lock = threading.RLock()
        self._server = None
        self._thread: threading.Thread | None = None
        self._base_url: str | None = None
        self._url_map = Map([
            Rule("/jwks", endpoint="jwks", methods=["GET"]),
            Rule("/auth", endpoint="auth", methods=["GET", "POST"]),
            Rule("/token", endpoint="token", methods=["POST"]),
            Rule("/courses/<ctx>/lineitems", endpoint="lineitems", methods=["GET", "POST"]),
            Rule("/courses/<ctx>/lineitems/<int:n>", endpoint="lineitem", methods=["GET"]),
            Rule("/courses/<ctx>/lineitems/<int:n>/scores", endpoint="scores", methods=["POST"]),
            Rule("/courses/<ctx>/lineitems/<int:n>/results", endpoint="results",
                 methods=["GET"]),
            Rule("/courses/<ctx>/memberships", endpoint="memberships", methods=["GET"]),
            Rule("/deep-link-return", endpoint="deep_link_return", methods=["POST"]),
        ])

    # ----------------------------------------------------------------- lifecycle
    def start(self) -> PlatformEmulator:
        if self._server is None:
            self._server = make_server("127.0.0.1", 0, self._wsgi, threaded=True,
                                       request_handler=_QuietHandler)
            self._base_url = f"http://127.0.0.1:{self._server.server_port}"
            self._thread = threading.Thread(target=self._server.serve_forever,
                                            kwargs={"poll_interval": 0.05},
                                            name="lti-platform-emulator", daemon=True)
            self._thread.start()
        return self

    def stop(self) -> None:
        if self._server is not None:
            self._server.shutdown()
            self._server.server_close()
            if self._thread is not None:
                self._thread.join(timeout=5)
            self._server = self._thread = None

    def __enter__(self) -> PlatformEmulator:
        return self.start()

    def __exit__(self, *exc) -> None:
        self.stop()

    @property
    def base_url(self) -> str:
        if self._base_url is None:
            raise RuntimeError("PlatformEmulator: call start() (or use `with`) before base_url")
        return self._base_url

    @property
    def token_url(self) -> str:
        return self.base_url + "/token"

    def jwks(self) -> dict:
        return {"keys": [dict(self.public_jwk)]}

    def registration(self) -> dict:
        return {
            "issuer": self.issuer,
            "client_id": self.client_id,
            "auth_login_url": self.base_url + "/auth",
            "auth_token_url": self.token_url,
            "key_set_url": self.base_url + "/jwks",
            "deployment_ids": [self.deployment_id],
        }

    def fail_next(self, n: int) -> None:
        with self._lock:
            self._fail = n

    # ----------------------------------------------------------------- id tokens
    def id_token(self, *, nonce: str, sub: str = "u-1", roles: Iterable[str] = (LEARNER,),
                 message_type: str = "LtiResourceLinkRequest",
                 target_link_uri: str = "https://tool.test/lti/launch",
                 name: str = "学员 小林", email: str = "lin@example.test", locale: str = "zh-CN",
                 context_id: str = "course-1", custom: dict | None = None,
                 mentor_scope: str | Iterable[str] | None = None,
                 deployment_id: str | None = None, aud: str | list[str] | None = None,
                 azp: str | None = None, exp_in: int = 600, iat_offset: int = 0,
                 sign_with: Any = None, kid: str | None = None, resource_link_id: str = "rl-1",
                 deep_link_return_url: str | None = None, extra: dict | None = None) -> str:
        """A signed LTI 1.3 id_token. `exp` is now + exp_in, `iat` now + iat_offset. `extra`
        claims are merged last; an `extra` value of None removes that claim."""
        now = int(time.time())
        parts = name.split()
        course = f"{self.base_url}/courses/{context_id}"
        claims: dict[str, Any] = {
            "iss": self.issuer,
            "aud": aud if aud is not None else self.client_id,
            "azp": azp or self.client_id,
            "sub": sub,
            "exp": now + exp_in,
            "iat": now + iat_offset,
            "nonce": nonce,
            "name": name,
            "given_name": parts[0] if parts else "",
            "family_name": " ".join(parts[1:]),
            "email": email,
            "locale": locale,
            LTI + "message_type": message_type,
            LTI + "version": "1.3.0",
            LTI + "deployment_id": deployment_id or self.deployment_id,
            LTI + "target_link_uri": target_link_uri,
            LTI + "roles": list(roles),
            LTI + "context": {
                "id": context_id, "label": context_id.upper(), "title": f"Course {context_id}",
                "type": ["http://purl.imsglobal.org/vocab/lis/v2/course#CourseOffering"],
            },
            LTI + "custom": dict(custom or {}),
            LTI + "launch_presentation": {"locale": locale, "document_target": "iframe"},
            LTI + "tool_platform": {"guid": self.issuer, "name": "LMS emulator",
                                    "product_family_code": "moodle", "version": "4.5"},
            AGS_CLAIM: {
                "scope": [SCOPE_LINEITEM, SCOPE_RESULT_READONLY, SCOPE_SCORE],
                "lineitems": course + "/lineitems",
            },
            NRPS_CLAIM: {
                "context_memberships_url": course + "/memberships",
                "service_versions": ["2.0"],
            },
        }
        if message_type == "LtiDeepLinkingRequest":
            claims[DL_SETTINGS_CLAIM] = {
                "deep_link_return_url": deep_link_return_url or self.base_url + "/deep-link-return",
                "accept_types": ["ltiResourceLink"],
                "accept_presentation_document_targets": ["iframe", "window"],
                "accept_multiple": True,
                "data": self.deep_link_data,
            }
        else:
            claims[LTI + "resource_link"] = {"id": resource_link_id,
                                             "title": f"Activity {resource_link_id}"}
        if mentor_scope:
            scope = [mentor_scope] if isinstance(mentor_scope, str) else list(mentor_scope)
            claims[LTI + "role_scope_mentor"] = scope
        for key, value in (extra or {}).items():
            if value is None:
                claims.pop(key, None)
            else:
                claims[key] = value
        return jwt.encode(claims, sign_with or self.private_key, algorithm="RS256",
                          headers={"kid": kid or self.kid, "typ": "JWT"})

    # ----------------------------------------------------------------- OIDC flow
    def auth_response(self, params: dict, **claims) -> tuple[str, dict]:
        """What /auth answers to an OIDC authentication request: (redirect_uri, form fields)."""
        params = {k: (v[0] if isinstance(v, list) else v) for k, v in params.items()}
        problems = []
        if params.get("client_id") != self.client_id:
            problems.append(f"client_id {params.get('client_id')!r} != {self.client_id!r}")
        if not params.get("redirect_uri"):
            problems.append("redirect_uri missing")
        elif self.redirect_uris is not None and params["redirect_uri"] not in self.redirect_uris:
            problems.append(f"redirect_uri {params['redirect_uri']!r} not in {self.redirect_uris}")
        if params.get("response_type") != "id_token":
            problems.append(f"response_type {params.get('response_type')!r} != 'id_token'")
        if "openid" not in (params.get("scope") or "").split():
            problems.append(f"scope {params.get('scope')!r} lacks 'openid'")
        if not params.get("nonce") and "nonce" not in claims:
            problems.append("nonce missing")
        if params.get("response_mode", "form_post") != "form_post":
            problems.append(f"response_mode {params.get('response_mode')!r} != 'form_post'")
        if problems:
            raise AssertionError("malformed OIDC auth request: " + "; ".join(problems)
                                 + f" (params: {params})")
        with self._lock:
            self.auth_requests.append(params)
        claims.setdefault("nonce", params.get("nonce"))
        token = self.id_token(**claims)
        form = {"id_token": token, "state": params.get("state", "")}
        self.last_id_token, self.last_state = token, form["state"]
        return params["redirect_uri"], form

    def launch(self, client, *, login_path: str = "/lti/login",
               target_link_uri: str = "https://tool.test/lti/launch",
               lti_message_hint: str = "hint", login_method: str = "GET", **claims):
        """Drive login → /auth → launch with a Flask test client; return the launch response."""
        login = {
            "iss": self.issuer,
            "login_hint": claims.get("sub", "u-1"),
            "target_link_uri": target_link_uri,
            "lti_message_hint": lti_message_hint,
            "client_id": self.client_id,
            "lti_deployment_id": claims.get("deployment_id") or self.deployment_id,
        }
        if login_method.upper() == "POST":
            response = client.post(login_path, data=login)
        else:
            response = client.get(login_path, query_string=login)
        assert response.status_code == 302, (
            f"login {login_path} answered {response.status_code}, expected 302 to the platform: "
            f"{response.get_data(as_text=True)[:500]}")
        location = response.headers["Location"]
        auth_url = self.base_url + "/auth"
        assert location.startswith(auth_url + "?"), (
            f"login redirected to {location!r}, expected {auth_url}?…")
        params = dict(parse_qsl(urlsplit(location).query, keep_blank_values=True))
        redirect_uri, form = self.auth_response(params, target_link_uri=target_link_uri,
                                                **claims)
        target = urlsplit(redirect_uri)
        path = target.path + (f"?{target.query}" if target.query else "")
        return client.post(path, data=form)

    # ----------------------------------------------------------------- HTTP
    def _wsgi(self, environ, start_response):
        request = Request(environ)
        with self._lock:
            self.requests.append((request.method, request.path))
        adapter = self._url_map.bind_to_environ(environ)
        try:
            endpoint, args = adapter.match()
            response = getattr(self, f"_http_{endpoint}")(request, **args)
        except _Refused as refused:
            with self._lock:
                self.errors.append(f"{request.method} {request.path}: {refused.body}")
            body = refused.body
            if isinstance(body, dict):
                response = Response(json.dumps(body), refused.status,
                                    mimetype="application/json", headers=refused.headers)
            else:
                response = Response(body, refused.status, mimetype="text/plain",
                                    headers=refused.headers)
        except HTTPException as exc:
            response = exc.get_response(environ)
        except Exception as exc:  # a bug here or in tool_jwks: report it, keep serving
            with self._lock:
                self.errors.append(f"{request.method} {request.path}: {exc!r}")
            response = Response(f"emulator error: {exc!r}", 500, mimetype="text/plain")
        return response(environ, start_response)

    def _json(self, data, status: int = 200, content_type: str = "application/json",
              headers: dict | None = None) -> Response:
        return Response(json.dumps(data, ensure_ascii=False), status,
                        content_type=content_type + "; charset=utf-8", headers=headers)

    def _maybe_fail(self) -> None:
        with self._lock:
            if self._fail > 0:
                self._fail -= 1
                raise _Refused(503, {"error": "temporarily_unavailable"}, {"Retry-After": "1"})

    def _bearer(self, request: Request, *accepted: str) -> None:
        header = request.headers.get("Authorization", "")
        scheme, _, token = header.partition(" ")
        grant = self.tokens.get(token.strip()) if scheme.lower() == "bearer" else None
        if grant is None or grant["exp"] < time.time():
            raise _Refused(401, {"error": "invalid_token"},
                           {"WWW-Authenticate": 'Bearer error="invalid_token"'})
        if not set(accepted) & grant["scopes"]:
            raise _Refused(403, {"error": "insufficient_scope", "needs": list(accepted)})

    def _fetch_tool_jwks(self) -> dict:
        source = self.tool_jwks
        if source is None:
            raise _Refused(400, {"error": "invalid_client",
                                 "error_description": "emulator.tool_jwks is not set"})
        if isinstance(source, dict):
            return source
        try:
            if isinstance(source, str):
                return requests.get(source, timeout=10).json()
            return source()
        except Exception as exc:
            raise _Refused(400, {"error": "invalid_client", "error_description":
                                 f"could not fetch the tool JWKS: {exc!r}"}) from None

    def _verify_tool_jwt(self, token: str, *, audience: str, error: str) -> dict:
        try:
            header = jwt.get_unverified_header(token)
        except jwt.PyJWTError as exc:
            raise _Refused(400, {"error": error,
                                 "error_description": f"not a JWT: {exc}"}) from None
        if header.get("alg") != "RS256":
            raise _Refused(400, {"error": error, "error_description": "alg must be RS256"})
        keys = self._fetch_tool_jwks().get("keys")
        if not isinstance(keys, list):
            raise _Refused(400, {"error": error,
                                 "error_description": "tool JWKS has no `keys` array"})
        matching = [k for k in keys if k.get("kid") == header.get("kid")]
        if not header.get("kid") or not matching:
            raise _Refused(400, {"error": error, "error_description":
                                 f"no tool key with kid {header.get('kid')!r}"})
        try:
            claims = jwt.decode(token, jwt.PyJWK(matching[0]).key, algorithms=["RS256"],
                                audience=audience, issuer=self.client_id,
                                leeway=self.token_leeway,
                                options={"require": ["exp", "iat", "iss", "aud"]})
        except jwt.PyJWTError as exc:
            raise _Refused(400, {"error": error,
                                 "error_description": f"{type(exc).__name__}: {exc}"}) from None
        return claims

    def _http_jwks(self, request: Request) -> Response:
        return self._json(self.jwks())

    def _http_auth(self, request: Request) -> Response:
        params = dict(request.values.items())
        try:
            redirect_uri, form = self.auth_response(params, **dict(self.next_claims))
        except AssertionError as exc:
            raise _Refused(400, str(exc)) from None
        fields = "".join(f'<input type="hidden" name="{html.escape(k)}" value="{html.escape(v)}">'
                         for k, v in form.items())
        page = (
            '<!doctype html><html><head><meta charset="utf-8"><title>LMS launch</title></head>'
            f'<body><form id="lti-launch" method="post" action="{html.escape(redirect_uri)}">'
            f'{fields}<button type="submit" id="lti-continue">Continue to the tool</button>'
            '</form><script>document.getElementById("lti-launch").submit();</script>'
            '</body></html>')
        return Response(page, mimetype="text/html")

    def _http_token(self, request: Request) -> Response:
        self._maybe_fail()
        form = request.form
        record = {"scope": form.get("scope", ""), "granted": False, "error": None}
        with self._lock:
            self.token_requests.append(record)
        if form.get("grant_type") != "client_credentials":
            record["error"] = "unsupported_grant_type"
            raise _Refused(400, {"error": "unsupported_grant_type"})
        if form.get("client_assertion_type") != CLIENT_ASSERTION_TYPE:
            record["error"] = "invalid_client"
            raise _Refused(400, {"error": "invalid_client",
                                 "error_description": "client_assertion_type must be jwt-bearer"})
        try:
            claims = self._verify_tool_jwt(form.get("client_assertion", ""),
                                           audience=self.token_url, error="invalid_client")
        except _Refused as refused:
            record["error"] = refused.body.get("error_description")
            raise
        if claims.get("sub") != self.client_id or not claims.get("jti"):
            record["error"] = "sub must equal client_id; jti required"
            raise _Refused(400, {"error": "invalid_client", "error_description": record["error"]})
        requested = form.get("scope", "").split()
        granted = [s for s in requested if s in SUPPORTED_SCOPES]
        if not granted:
            record["error"] = "invalid_scope"
            raise _Refused(400, {"error": "invalid_scope"})
        token = secrets.token_urlsafe(24)
        with self._lock:
            self.tokens[token] = {"scopes": set(granted), "exp": time.time() + 3600}
        record["granted"] = True
        return self._json({"access_token": token, "token_type": "Bearer", "expires_in": 3600,
                           "scope": " ".join(granted)})

    def _lineitem(self, ctx: str, n: int) -> tuple[str, dict]:
        url = f"{self.base_url}/courses/{ctx}/lineitems/{n}"
        item = self.lineitems.get(url)
        if item is None:
            raise NotFound()
        return url, item

    def _http_lineitems(self, request: Request, ctx: str) -> Response:
        self._maybe_fail()
        if request.method == "POST":
            self._bearer(request, SCOPE_LINEITEM)
            if request.mimetype != LINEITEM_TYPE:
                raise _Refused(415, {"error": f"Content-Type must be {LINEITEM_TYPE}"})
            body = request.get_json(force=True, silent=True)
            if not isinstance(body, dict):
                raise _Refused(400, {"error": "body must be a JSON object"})
            if not body.get("label") or not _positive(body.get("scoreMaximum")):
                raise _Refused(400, {"error": "label and scoreMaximum > 0 are required"})
            with self._lock:
                url = f"{self.base_url}/courses/{ctx}/lineitems/{next(self._lineitem_ids)}"
                item = {**body, "id": url}
                self.lineitems[url] = item
            return self._json(item, 201, LINEITEM_TYPE)
        self._bearer(request, SCOPE_LINEITEM, SCOPE_LINEITEM_READONLY)
        prefix = f"{self.base_url}/courses/{ctx}/lineitems/"
        items = [item for url, item in self.lineitems.items() if url.startswith(prefix)]
        for param, field in (("resource_id", "resourceId"),
                             ("resource_link_id", "resourceLinkId"), ("tag", "tag")):
            if param in request.args:
                items = [i for i in items if i.get(field) == request.args[param]]
        if "limit" in request.args:
            items = items[: int(request.args["limit"])]
        return self._json(items, 200, LINEITEMS_TYPE)

    def _http_lineitem(self, request: Request, ctx: str, n: int) -> Response:
        self._maybe_fail()
        self._bearer(request, SCOPE_LINEITEM, SCOPE_LINEITEM_READONLY)
        return self._json(self._lineitem(ctx, n)[1], 200, LINEITEM_TYPE)

    def _http_scores(self, request: Request, ctx: str, n: int) -> Response:
        self._maybe_fail()
        self._bearer(request, SCOPE_SCORE)
        url, item = self._lineitem(ctx, n)
        if request.mimetype != SCORE_TYPE:
            raise _Refused(415, {"error": f"Content-Type must be {SCORE_TYPE}, "
                                          f"not {request.content_type!r}"})
        body = request.get_json(force=True, silent=True)
        if not isinstance(body, dict):
            raise _Refused(400, {"error": "body must be a JSON object"})
        missing = [f for f in ("userId", "activityProgress", "gradingProgress", "timestamp")
                   if not body.get(f)]
        if "scoreGiven" in body and body["scoreGiven"] is not None:
            if not _positive(body.get("scoreMaximum")):
                missing.append("scoreMaximum")
            elif not isinstance(body["scoreGiven"], (int, float)) or body["scoreGiven"] < 0:
                raise _Refused(400, {"error": "scoreGiven must be a number >= 0"})
        if missing:
            raise _Refused(400, {"error": "missing " + ", ".join(missing)})
        try:
            datetime.fromisoformat(str(body["timestamp"]).replace("Z", "+00:00"))
        except ValueError:
            raise _Refused(400, {"error": f"timestamp {body['timestamp']!r} is not ISO 8601"}
                           ) from None
        if self.enforce_enrolment and self.members:
            learners = {m.get("user_id") for m in self.members
                        if LEARNER in m.get("roles", ()) and m.get("status", "Active") == "Active"}
            if body["userId"] not in learners:
                raise _Refused(400, {"error": f"user {body['userId']!r} is not enrolled as a "
                                              "student"})
        with self._lock:
            self.scores.append({"lineitem": url, "user_id": body["userId"], **body,
                                "content_type": request.content_type})
        return Response("", 200)

    def _http_results(self, request: Request, ctx: str, n: int) -> Response:
        self._maybe_fail()
        self._bearer(request, SCOPE_RESULT_READONLY)
        url, item = self._lineitem(ctx, n)
        latest: dict[str, dict] = {}
        for score in self.scores:
            if score["lineitem"] == url:
                latest[score["user_id"]] = score
        results = [{"id": f"{url}/results/{user}", "scoreOf": url, "userId": user,
                    "resultScore": s.get("scoreGiven"), "resultMaximum": s.get("scoreMaximum"),
                    "comment": s.get("comment")}
                   for user, s in latest.items()
                   if request.args.get("user_id") in (None, user)]
        return self._json(results, 200, RESULTS_TYPE)

    def _http_memberships(self, request: Request, ctx: str) -> Response:
        self._maybe_fail()
        self._bearer(request, SCOPE_NRPS)
        members = list(self.members)
        if "role" in request.args:
            members = [m for m in members if request.args["role"] in m.get("roles", ())]
        page = int(request.args.get("page", "1"))
        limit = int(request.args.get("limit", self.page_size))
        chunk = members[(page - 1) * limit: page * limit]
        url = f"{self.base_url}/courses/{ctx}/memberships"
        headers = {}
        if page * limit < len(members):
            query = {k: v for k, v in request.args.items() if k != "page"}
            query["page"] = str(page + 1)
            headers["Link"] = f'<{url}?{urlencode(query)}>; rel="next"'
        body = {"id": url,
                "context": {"id": ctx, "label": ctx.upper(), "title": f"Course {ctx}"},
                "members": chunk}
        return self._json(body, 200, MEMBERSHIPS_TYPE, headers)

    def _http_deep_link_return(self, request: Request) -> Response:
        token = request.form.get("JWT")
        if not token:
            raise _Refused(400, "no JWT field in the deep-linking response")
        claims = self._verify_tool_jwt(token, audience=self.issuer, error="invalid_request")
        problems = []
        if claims.get(LTI + "message_type") != "LtiDeepLinkingResponse":
            problems.append(f"message_type {claims.get(LTI + 'message_type')!r}")
        if claims.get(LTI + "version") != "1.3.0":
            problems.append(f"version {claims.get(LTI + 'version')!r}")
        if claims.get(LTI + "deployment_id") != self.deployment_id:
            problems.append(f"deployment_id {claims.get(LTI + 'deployment_id')!r}")
        if claims.get(DL + "data") != self.deep_link_data:
            problems.append(f"data {claims.get(DL + 'data')!r} != {self.deep_link_data!r}")
        items = claims.get(DL + "content_items", [])
        if not isinstance(items, list):
            problems.append("content_items is not a list")
        if problems:
            raise _Refused(400, {"error": "invalid_request", "error_description": problems})
        with self._lock:
            self.deep_link_responses.append(claims)
            self.deep_link_items.extend(items)
        return Response(f"<!doctype html><p>{len(items)} item(s) added to the course.</p>",
                        mimetype="text/html")


def _positive(value) -> bool:
    return isinstance(value, (int, float)) and not isinstance(value, bool) and value > 0
