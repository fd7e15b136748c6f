"""xAPI 1.0.3 statements for the centre's learning events, kept in a durable outbox and sent to
the LRS in batches.

    learning_event ──on_learning_event──▶ statement_for(...) ──record──▶ lti_xapi_outbox
    flask (worker/cron) ──deliver_pending(now=…)──▶ POST {LRS_URL}/statements (one list a batch)

Vocabulary. Verbs are ADL's (http://adlnet.gov/expapi/verbs/…) where ADL has one; two are not:

- `earned` → http://specification.openbadges.org/xapi/verbs/earned.json, the verb of the Open
  Badges xAPI vocabulary ("the actor earned the object"), which pairs with the badge activity
  type http://activitystrea.ms/schema/1.0/badge of the same vocabulary.
- `signed_off` → https://w3id.org/xapi/adl/verbs/satisfied (ADL's cmi5 vocabulary): "the
  authority determined the actor has fulfilled the criteria of the object". The actor is the
  learner and a mentor's sign-off is exactly such a determination; ADL has no "approved" verb,
  and Activity Streams' "approve" would say the learner approved something.

The actor is an account `{homePage: the LTI platform's issuer the person came from, or the
centre's URL; name: the stable user id}`, so statements join to LTI launches. Activity ids
always lie under the centre's own URL: one quiz is one activity, whichever platform a learner
came from (an activity provider names activities in a domain it controls).

Like every service, these functions add and flush; the caller commits. Commit right after
`deliver_pending` — a rollback would send the delivered statements again.
"""
from __future__ import annotations

import logging
import uuid
from datetime import datetime, timedelta, timezone
from typing import Any

import requests
from flask import current_app
from sqlalchemy import select

from app.auth.models import User
from app.centre.events import KINDS, learning_event
from app.extensions import db
from app.lti.models import LtiIdentity, Platform, XapiOutbox

log = logging.getLogger(__name__)

XAPI_VERSION = "1.0.3"
DEFAULT_HOMEPAGE = "https://pinwheel.local"
TIMEOUT_SECONDS = 10
MAX_BACKOFF_MINUTES = 60
ERROR_CHARS = 1000

_ADL = "http://adlnet.gov/expapi/verbs/"
# kind → (verb IRI, en-US display, zh-CN display)
VERBS: dict[str, tuple[str, str, str]] = {
    "launched": (_ADL + "launched", "launched", "启动了"),
    "attempted": (_ADL + "attempted", "attempted", "尝试了"),
    "answered": (_ADL + "answered", "answered", "作答了"),
    "completed": (_ADL + "completed", "completed", "完成了"),
    "passed": (_ADL + "passed", "passed", "通过了"),
    "failed": (_ADL + "failed", "failed", "未通过"),
    "scored": (_ADL + "scored", "scored", "得分"),
    "earned": ("http://specification.openbadges.org/xapi/verbs/earned.json", "earned", "获得了"),
    "signed_off": ("https://w3id.org/xapi/adl/verbs/satisfied", "satisfied", "经签核达标"),
}
assert set(VERBS) == set(KINDS), "every learning-event kind needs a verb"

ACTIVITY_TYPES: dict[str, str] = {
    "quiz": "http://adlnet.gov/expapi/activities/assessment",
    "scenario": "http://adlnet.gov/expapi/activities/simulation",
    "lesson": "http://adlnet.gov/expapi/activities/lesson",
    "path": "http://adlnet.gov/expapi/activities/course",
    "badge": "http://activitystrea.ms/schema/1.0/badge",
    "question": "http://adlnet.gov/expapi/activities/cmi.interaction",
}


def centre_url() -> str:
    """The centre's own URL (config `CENTRE_URL`), without a trailing slash."""
    return (current_app.config.get("CENTRE_URL") or DEFAULT_HOMEPAGE).rstrip("/")


def _timestamp(at: datetime) -> str:
    if at.tzinfo is None:
        raise ValueError("naive datetime given where a timezone-aware one is needed")
    text = at.astimezone(timezone.utc).isoformat(timespec="milliseconds")
    return text.replace("+00:00", "Z")


def _number(value: float) -> int | float:
    return int(value) if float(value).is_integer() else float(value)


def _result(score: float | None, passed: bool | None, completed: bool | None) -> dict:
    result: dict[str, Any] = {}
    if score is not None:
        # xAPI wants min ≤ raw ≤ max and −1 ≤ scaled ≤ 1: a percent outside 0–100 is clamped
        percent = min(max(float(score), 0.0), 100.0)
        result["score"] = {"scaled": _number(round(percent / 100, 4)), "raw": _number(percent),
                           "min": 0, "max": 100}
    if passed is not None:
        result["success"] = bool(passed)
    if completed is not None:
        result["completion"] = bool(completed)
    return result


def statement_for(kind: str, *, user, object_type: str, object_id, object_name: str,
                  score: float | None = None, passed: bool | None = None,
                  completed: bool | None = None, at: datetime,
                  homepage: str | None = None) -> dict:
    """An xAPI 1.0.3 statement: `user` did `kind` to the activity at `at`.

    `homepage` is the actor account's home page: the LTI platform's issuer the user came from,
    else the centre's URL. `score` is a percent (0–100)."""
    if kind not in VERBS:
        raise ValueError(f"unknown learning-event kind: {kind!r}")
    verb_iri, en, zh = VERBS[kind]
    name = object_name or f"{object_type} {object_id}"
    definition: dict[str, Any] = {"name": {"zh-CN": name, "en-US": name}}
    if object_type in ACTIVITY_TYPES:
        definition["type"] = ACTIVITY_TYPES[object_type]
    statement: dict[str, Any] = {
        "id": str(uuid.uuid4()),
        "actor": {
            "objectType": "Agent",
            "name": user.name,
            "account": {"homePage": (homepage or centre_url()).rstrip("/"),
                        "name": str(user.id)},
        },
        "verb": {"id": verb_iri, "display": {"en-US": en, "zh-CN": zh}},
        "object": {
            "objectType": "Activity",
            "id": f"{centre_url()}/activities/{object_type}/{object_id}",
            "definition": definition,
        },
        "timestamp": _timestamp(at),
    }
    result = _result(score, passed, completed)
    if result:
        statement["result"] = result
    return statement


def record(statement: dict, *, now: datetime) -> XapiOutbox:
    """Put a statement in the outbox, due now. Recording the same statement id twice keeps
    the first: a statement is sent once."""
    existing = db.session.scalar(
        select(XapiOutbox).where(XapiOutbox.statement_id == statement["id"]))
    if existing is not None:
        return existing
    row = XapiOutbox(statement_id=statement["id"], statement=statement, status="pending",
                     attempts=0, created_at=now, next_try_at=now)
    db.session.add(row)
    db.session.flush()
    return row


def backoff(attempts: int) -> timedelta:
    """How long to wait after the `attempts`-th failed delivery: 2, 4, 8 … minutes, at most 60."""
    return timedelta(minutes=min(2 ** min(attempts, 10), MAX_BACKOFF_MINUTES))


def _post(http, url: str, statements: list[dict], auth) -> str | None:
    """POST one batch; None when the LRS took it, else what went wrong."""
    try:
        response = http.post(url, json=statements, auth=auth, timeout=TIMEOUT_SECONDS,
                             headers={"X-Experience-API-Version": XAPI_VERSION})
    except requests.RequestException as exc:
        return f"{type(exc).__name__}: {exc}"[:ERROR_CHARS]
    if response.status_code in (200, 204):
        return None
    return f"HTTP {response.status_code}: {response.text}"[:ERROR_CHARS]


def deliver_pending(*, now: datetime, session=None, batch: int = 100) -> dict:
    """Send the due statements to the LRS, `batch` at a time, each batch as one POST of a JSON
    list. A batch the LRS refuses or cannot be reached for stays pending and is tried again
    after a backoff; the rest wait for the next run. Never raises for a delivery error.

    `session` is a `requests.Session` (or anything with its `post`); the module by default."""
    config = current_app.config
    if not config.get("LRS_URL"):
        return {"sent": 0, "failed": 0, "skipped_reason": "LRS_URL is not set"}
    url = config["LRS_URL"].rstrip("/") + "/statements"
    username = config.get("LRS_USERNAME") or ""
    auth = (username, config.get("LRS_PASSWORD") or "") if username else None
    http = session if session is not None else requests
    sent = failed = 0
    while True:
        rows = db.session.scalars(
            select(XapiOutbox)
            .where(XapiOutbox.status == "pending", XapiOutbox.next_try_at <= now)
            .order_by(XapiOutbox.next_try_at, XapiOutbox.id)
            .limit(batch)
        ).all()
        if not rows:
            break
        error = _post(http, url, [row.statement for row in rows], auth)
        if error is None:
            for row in rows:
                row.status = "sent"
                row.sent_at = now
                row.last_error = None
            sent += len(rows)
            db.session.flush()
            continue
        log.warning("xAPI delivery of %d statements failed: %s", len(rows), error)
        for row in rows:
            row.attempts += 1
            row.last_error = error
            row.next_try_at = now + backoff(row.attempts)
        failed += len(rows)
        db.session.flush()
        break   # the LRS is down or refusing: leave the rest for the next run
    return {"sent": sent, "failed": failed, "skipped_reason": None}


def homepage_for(user_id: int) -> str | None:
    """The issuer of the platform the user last launched from, if any."""
    return db.session.scalar(
        select(Platform.issuer)
        .join(LtiIdentity, LtiIdentity.platform_id == Platform.id)
        .where(LtiIdentity.user_id == user_id)
        .order_by(LtiIdentity.last_launch_at.desc(), LtiIdentity.id.desc())
        .limit(1)
    )


def on_learning_event(sender, **data) -> XapiOutbox | None:
    """The `learning_event` receiver: the event as a statement in the outbox.

    `sender` is the kind; `data` as documented in app.centre.events. An event still waiting
    for a person (`pending`: an essay, a sign-off) claims no success yet."""
    user = db.session.get(User, data["user_id"])
    if user is None:
        log.warning("xAPI: learning event %r for unknown user %r", sender, data["user_id"])
        return None
    at = data.get("at") or datetime.now(timezone.utc)
    statement = statement_for(
        sender, user=user, object_type=data["object_type"], object_id=data["object_id"],
        object_name=data.get("object_name") or "",
        score=data.get("score"), passed=None if data.get("pending") else data.get("passed"),
        completed=data.get("completed"), at=at, homepage=homepage_for(user.id),
    )
    return record(statement, now=at)


def connect() -> None:
    """Listen to learning events. Connecting again changes nothing (blinker keeps one entry
    per receiver)."""
    learning_event.connect(on_learning_event, weak=False)


def disconnect() -> None:
    learning_event.disconnect(on_learning_event)
