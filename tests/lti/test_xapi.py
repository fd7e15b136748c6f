"""xAPI statements, the outbox and its delivery to a real Ralph LRS (tests/lti/conftest.py)."""
from __future__ import annotations

from datetime import datetime, timedelta, timezone
from decimal import Decimal
from typing import Optional

import pytest
import requests
from pydantic import Field, ValidationError
from sqlalchemy import func, select
from typing_extensions import Annotated

from app.centre.events import KINDS, learning_event
from app.lti import xapi
from app.lti.models import LtiIdentity, Platform, XapiOutbox

ralph_statements = pytest.importorskip("ralph.models.xapi.base.statements")
ralph_results = pytest.importorskip("ralph.models.xapi.base.results")


def _statement_model():
    """Ralph's base xAPI statement model. Ralph 5.0.1 (the newest that installs beside our
    click pin) types `score.scaled` as an int — an upstream bug fixed in 5.1.0, where it is a
    Decimal in −1…1 as xAPI says. On 5.0.1 the 5.1.0 field is put back; all else is Ralph's."""
    base = ralph_statements.BaseXapiStatement
    score_model = ralph_results.BaseXapiResultScore
    try:
        score_model.model_validate({"scaled": 0.5})
        return base                     # a fixed Ralph: its own models as they are
    except ValidationError:
        pass

    class Score(score_model):
        scaled: Optional[Annotated[Decimal, Field(ge=-1, le=1)]] = None

    class Result(ralph_results.BaseXapiResult):
        score: Optional[Score] = None

    class Statement(base):
        result: Optional[Result] = None

    return Statement


StatementModel = _statement_model()

OBJECT_TYPES = {"launched": "lesson", "attempted": "quiz", "answered": "quiz",
                "completed": "path", "passed": "quiz", "failed": "scenario", "scored": "quiz",
                "earned": "badge", "signed_off": "scenario"}


@pytest.fixture()
def learner(make_user):
    return make_user(name="李雷")


def _statement(kind="passed", user=None, at=None, **kwargs):
    defaults = dict(object_type="quiz", object_id="Q-SOP", object_name="退款流程测验", at=at)
    return xapi.statement_for(kind, user=user, **{**defaults, **kwargs})


def _lrs_config(app, monkeypatch, url, username="", password=""):
    monkeypatch.setitem(app.config, "LRS_URL", url)
    monkeypatch.setitem(app.config, "LRS_USERNAME", username)
    monkeypatch.setitem(app.config, "LRS_PASSWORD", password)


class CountingSession(requests.Session):
    def __init__(self):
        super().__init__()
        self.posts: list[list] = []

    def post(self, url, *args, **kwargs):
        self.posts.append(kwargs.get("json"))
        return super().post(url, *args, **kwargs)


# --- statements ---------------------------------------------------------------------------

@pytest.mark.parametrize("kind", KINDS)
def test_every_kind_builds_a_valid_statement(app, learner, now, kind):
    statement = _statement(kind, user=learner, at=now, object_type=OBJECT_TYPES[kind],
                           score=85, passed=kind != "failed", completed=True)
    StatementModel.model_validate(statement)
    verb_iri, en, zh = xapi.VERBS[kind]
    assert statement["verb"] == {"id": verb_iri, "display": {"en-US": en, "zh-CN": zh}}
    assert statement["object"]["definition"]["type"] == \
        xapi.ACTIVITY_TYPES[OBJECT_TYPES[kind]]


@pytest.mark.parametrize("kind", KINDS)
def test_every_kind_without_a_result_is_valid_too(app, learner, now, kind):
    statement = _statement(kind, user=learner, at=now, object_type=OBJECT_TYPES[kind])
    assert "result" not in statement
    StatementModel.model_validate(statement)


def test_statement_shape(app, monkeypatch, learner, now):
    monkeypatch.setitem(app.config, "CENTRE_URL", "https://centre.example.cn/")
    statement = _statement("passed", user=learner, at=now, score=85, passed=True,
                           completed=True)
    assert len(statement["id"]) == 36
    assert statement["actor"] == {
        "objectType": "Agent", "name": "李雷",
        "account": {"homePage": "https://centre.example.cn", "name": str(learner.id)},
    }
    assert statement["verb"]["id"] == "http://adlnet.gov/expapi/verbs/passed"
    assert statement["object"] == {
        "objectType": "Activity",
        "id": "https://centre.example.cn/activities/quiz/Q-SOP",
        "definition": {"name": {"zh-CN": "退款流程测验", "en-US": "退款流程测验"},
                       "type": "http://adlnet.gov/expapi/activities/assessment"},
    }
    assert statement["result"] == {
        "score": {"scaled": 0.85, "raw": 85, "min": 0, "max": 100},
        "success": True, "completion": True,
    }
    assert statement["timestamp"] == "2026-03-15T02:30:00.000Z"
    assert _statement(user=learner, at=now)["id"] != statement["id"]


def test_timestamps_are_utc_with_z(app, learner):
    shanghai = timezone(timedelta(hours=8))
    statement = _statement(user=learner, at=datetime(2026, 3, 15, 10, 30, 5, tzinfo=shanghai))
    assert statement["timestamp"] == "2026-03-15T02:30:05.000Z"
    with pytest.raises(ValueError):
        _statement(user=learner, at=datetime(2026, 3, 15, 10, 30))


def test_homepage_default_and_platform_issuer(app, monkeypatch, learner, now):
    monkeypatch.setitem(app.config, "CENTRE_URL", "")
    statement = _statement(user=learner, at=now)
    assert statement["actor"]["account"]["homePage"] == "https://pinwheel.local"
    assert statement["object"]["id"] == "https://pinwheel.local/activities/quiz/Q-SOP"
    statement = _statement(user=learner, at=now, homepage="https://moodle.example.org")
    assert statement["actor"]["account"] == {"homePage": "https://moodle.example.org",
                                             "name": str(learner.id)}
    # the activity is the centre's, whichever platform the learner came from
    assert statement["object"]["id"] == "https://pinwheel.local/activities/quiz/Q-SOP"
    StatementModel.model_validate(statement)


@pytest.mark.parametrize("score, scaled, raw", [
    (0, 0, 0), (100, 1, 100), (72.5, 0.725, 72.5), (-20, 0, 0), (135, 1, 100),
    (33.33333, 0.3333, 33.33333),
])
def test_scores_clamp_to_the_scaled_range(app, learner, now, score, scaled, raw):
    statement = _statement("scored", user=learner, at=now, score=score)
    assert statement["result"]["score"] == {"scaled": scaled, "raw": raw, "min": 0, "max": 100}
    assert "success" not in statement["result"]
    StatementModel.model_validate(statement)


def test_the_validator_is_strict(app, learner, now):
    """The model used above refuses what an LRS should refuse."""
    statement = _statement("scored", user=learner, at=now, score=50)
    statement["result"]["score"]["scaled"] = 1.5
    with pytest.raises(ValidationError):
        StatementModel.model_validate(statement)
    statement = _statement(user=learner, at=now)
    statement["verb"]["id"] = "not an IRI"
    with pytest.raises(ValidationError):
        StatementModel.model_validate(statement)


def test_unknown_kind_is_refused(app, learner, now):
    with pytest.raises(ValueError):
        _statement("liked", user=learner, at=now)


# --- the outbox -----------------------------------------------------------------------------

def test_record_adds_a_pending_row_due_now(app, db, learner, now):
    statement = _statement(user=learner, at=now)
    row = xapi.record(statement, now=now)
    assert row.id is not None
    assert (row.status, row.attempts, row.next_try_at, row.created_at) == \
        ("pending", 0, now, now)
    assert row.statement_id == statement["id"] and row.statement == statement
    assert xapi.record(statement, now=now).id == row.id    # the same statement: one row
    assert db.session.scalar(select(func.count(XapiOutbox.id))) == 1


def test_without_lrs_url_nothing_happens(app, db, monkeypatch, learner, now):
    _lrs_config(app, monkeypatch, "")
    xapi.record(_statement(user=learner, at=now), now=now)
    assert xapi.deliver_pending(now=now) == {"sent": 0, "failed": 0,
                                             "skipped_reason": "LRS_URL is not set"}
    assert db.session.scalar(select(XapiOutbox.status)) == "pending"


def test_backoff_grows_to_an_hour():
    assert [xapi.backoff(n) for n in (1, 2, 3, 5, 6, 7, 40)] == [
        timedelta(minutes=m) for m in (2, 4, 8, 32, 60, 60, 60)]


# --- delivery to a real LRS ----------------------------------------------------------------

def test_statements_arrive_at_the_lrs_in_one_batch(app, db, monkeypatch, learner, now,
                                                    lrs, ralph_server):
    url, username, password = lrs
    _lrs_config(app, monkeypatch, url, username, password)
    statements = [_statement(kind, user=learner, at=now, object_type=OBJECT_TYPES[kind],
                             score=90, passed=True) for kind in KINDS]
    for statement in statements:
        xapi.record(statement, now=now)
    db.session.commit()

    session = CountingSession()
    assert xapi.deliver_pending(now=now, session=session) == {
        "sent": len(KINDS), "failed": 0, "skipped_reason": None}
    db.session.commit()
    assert len(session.posts) == 1 and len(session.posts[0]) == len(KINDS)

    stored = ralph_server.statements()
    assert sorted(s["id"] for s in stored) == sorted(s["id"] for s in statements)
    by_id = {s["id"]: s for s in stored}
    first = statements[0]
    assert by_id[first["id"]]["actor"]["account"] == first["actor"]["account"]
    assert by_id[first["id"]]["verb"]["id"] == first["verb"]["id"]
    rows = db.session.scalars(select(XapiOutbox)).all()
    assert {(r.status, r.sent_at, r.attempts) for r in rows} == {("sent", now, 0)}

    # nothing is sent twice
    later = now + timedelta(hours=1)
    assert xapi.deliver_pending(now=later, session=session) == {
        "sent": 0, "failed": 0, "skipped_reason": None}
    assert len(session.posts) == 1
    assert len(ralph_server.statements()) == len(KINDS)


def test_a_dead_lrs_keeps_statements_pending_until_it_answers(app, db, monkeypatch, learner,
                                                              now, ralph_server):
    url, username, password = ralph_server.credentials     # not started yet: a dead port
    _lrs_config(app, monkeypatch, url, username, password)
    statements = [_statement(user=learner, at=now, object_id=f"Q-{n}") for n in range(3)]
    for statement in statements:
        xapi.record(statement, now=now)
    db.session.commit()

    result = xapi.deliver_pending(now=now)
    db.session.commit()
    assert result == {"sent": 0, "failed": 3, "skipped_reason": None}
    rows = db.session.scalars(select(XapiOutbox).order_by(XapiOutbox.id)).all()
    for row in rows:
        assert (row.status, row.attempts, row.sent_at) == ("pending", 1, None)
        assert "ConnectionError" in row.last_error
        assert row.next_try_at == now + timedelta(minutes=2)

    # not due yet: not tried again
    assert xapi.deliver_pending(now=now + timedelta(minutes=1)) == {
        "sent": 0, "failed": 0, "skipped_reason": None}
    assert {r.attempts for r in rows} == {1}
    # due and still down: the backoff grows
    second = now + timedelta(minutes=2)
    assert xapi.deliver_pending(now=second)["failed"] == 3
    assert {(r.attempts, r.next_try_at) for r in rows} == {(2, second + timedelta(minutes=4))}
    db.session.commit()

    ralph_server.start_or_skip()
    session = CountingSession()
    third = second + timedelta(minutes=4)
    assert xapi.deliver_pending(now=third, session=session) == {
        "sent": 3, "failed": 0, "skipped_reason": None}
    db.session.commit()
    assert len(session.posts) == 1
    assert sorted(s["id"] for s in ralph_server.statements()) == \
        sorted(s["id"] for s in statements)
    assert {(r.status, r.sent_at, r.last_error) for r in rows} == {("sent", third, None)}
    assert xapi.deliver_pending(now=third + timedelta(days=1), session=session)["sent"] == 0
    assert len(session.posts) == 1


def test_a_refusing_lrs_keeps_statements_pending(app, db, monkeypatch, learner, now, lrs):
    url, username, _password = lrs
    _lrs_config(app, monkeypatch, url, username, "wrong-password")
    row = xapi.record(_statement(user=learner, at=now), now=now)
    assert xapi.deliver_pending(now=now) == {"sent": 0, "failed": 1, "skipped_reason": None}
    assert (row.status, row.attempts) == ("pending", 1)
    assert row.last_error.startswith("HTTP 401")
    assert row.next_try_at == now + timedelta(minutes=2)


def test_delivery_goes_in_batches(app, db, monkeypatch, learner, now):
    """Each batch is one POST of a list; a failed batch stops the run (no LRS needed)."""

    class Answer:
        def __init__(self, status_code):
            self.status_code, self.text = status_code, ""

    class Fake:
        def __init__(self, answers):
            self.answers, self.calls = list(answers), []

        def post(self, url, **kwargs):
            self.calls.append((url, kwargs))
            return Answer(self.answers.pop(0))

    _lrs_config(app, monkeypatch, "https://lrs.example.org/xapi/", "u", "p")
    for n in range(5):
        xapi.record(_statement(user=learner, at=now, object_id=f"Q-{n}"), now=now)
    fake = Fake([200, 503])
    assert xapi.deliver_pending(now=now, session=fake, batch=2) == {
        "sent": 2, "failed": 2, "skipped_reason": None}
    assert len(fake.calls) == 2
    url, kwargs = fake.calls[0]
    assert url == "https://lrs.example.org/xapi/statements"
    assert kwargs["headers"] == {"X-Experience-API-Version": "1.0.3"}
    assert kwargs["auth"] == ("u", "p") and kwargs["timeout"] == 10
    assert isinstance(kwargs["json"], list) and len(kwargs["json"]) == 2
    statuses = db.session.scalars(select(XapiOutbox.status).order_by(XapiOutbox.id)).all()
    assert statuses == ["sent", "sent", "pending", "pending", "pending"]
    errors = db.session.scalars(select(XapiOutbox.last_error).order_by(XapiOutbox.id)).all()
    assert errors[2:] == ["HTTP 503: ", "HTTP 503: ", None]


# --- the signal receiver -------------------------------------------------------------------

@pytest.fixture()
def connected():
    xapi.connect()
    xapi.connect()      # twice: still one receiver
    yield
    xapi.disconnect()


def _send(user, kind="passed", **kwargs):
    data = dict(user_id=user.id, object_type="quiz", object_id="Q-SOP",
                object_name="退款流程测验", score=80, passed=True, completed=True,
                pending=False, at=FIXED_AT)
    learning_event.send(kind, **{**data, **kwargs})


FIXED_AT = datetime(2026, 3, 15, 2, 31, tzinfo=timezone.utc)


def test_the_receiver_records_one_statement_per_event(app, db, learner, connected):
    _send(learner)
    _send(learner, "earned", object_type="badge", object_id="B-1", object_name="金牌",
          score=None, passed=None, completed=None)
    rows = db.session.scalars(select(XapiOutbox).order_by(XapiOutbox.id)).all()
    assert len(rows) == 2
    first, second = (row.statement for row in rows)
    assert first["verb"]["id"] == "http://adlnet.gov/expapi/verbs/passed"
    assert first["actor"]["account"]["name"] == str(learner.id)
    assert first["result"] == {"score": {"scaled": 0.8, "raw": 80, "min": 0, "max": 100},
                               "success": True, "completion": True}
    assert first["timestamp"] == "2026-03-15T02:31:00.000Z"
    assert rows[0].next_try_at == FIXED_AT
    assert second["object"]["definition"]["type"] == xapi.ACTIVITY_TYPES["badge"]
    assert "result" not in second
    for statement in (first, second):
        StatementModel.model_validate(statement)


def test_the_receiver_uses_the_platform_the_learner_came_from(app, db, learner, now,
                                                              connected):
    platform = Platform(name="Moodle", issuer="https://moodle.example.org", client_id="c1",
                        auth_login_url="https://moodle.example.org/auth",
                        auth_token_url="https://moodle.example.org/token",
                        key_set_url="https://moodle.example.org/jwks", deployment_ids=["1"],
                        created_at=now)
    db.session.add(platform)
    db.session.flush()
    db.session.add(LtiIdentity(platform_id=platform.id, subject="s-1", user_id=learner.id,
                               last_launch_at=now))
    db.session.flush()
    _send(learner, "answered", pending=True)
    statement = db.session.scalar(select(XapiOutbox.statement))
    assert statement["actor"]["account"] == {"homePage": "https://moodle.example.org",
                                             "name": str(learner.id)}
    assert "success" not in statement["result"]      # a person still has to grade it


def test_the_receiver_ignores_unknown_users(app, db, connected):
    learning_event.send("passed", user_id=987654, object_type="quiz", object_id="Q",
                        object_name="Q", at=FIXED_AT)
    assert db.session.scalar(select(func.count(XapiOutbox.id))) == 0


def test_disconnected_nothing_is_recorded(app, db, learner):
    _send(learner)
    assert db.session.scalar(select(func.count(XapiOutbox.id))) == 0
