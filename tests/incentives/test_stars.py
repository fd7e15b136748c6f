"""The monthly Service Star and the annual Service Model: the composite, idempotent proposals,
a trainer's confirmation (points once) or refusal, and the trainer's page."""
from __future__ import annotations

from datetime import datetime, timezone

import pytest
from sqlalchemy import func, select

from app.audit.models import AuditEvent
from app.auth.models import UserRole
from app.centre.periods import centre_tz, period_of, previous_period
from app.database import utcnow
from app.incentives import stars
from app.incentives.ledger import Award, award, earned_total, reverse_entry
from app.incentives.models import PointEntry, ServiceStarNomination
from app.incentives.stars import (
    Raw,
    StarError,
    confirm_nomination,
    decline_nomination,
    propose_service_models,
    propose_service_stars,
    rank,
)
from app.notifications.models import Notification

FEBRUARY = datetime(2026, 2, 12, 3, 0, tzinfo=timezone.utc)
LAST_YEAR = datetime(2025, 7, 1, 3, 0, tzinfo=timezone.utc)
WEIGHTS = stars.DEFAULT_WEIGHTS


# --- the composite, without a database ---------------------------------------------------

def test_each_component_is_brought_to_0_to_100():
    scores = stars.component_scores(Raw(qa=92.5, praise=2, mystery_shopper=88,
                                        lead_rating=4), most_praise=4)
    assert scores == {"qa": 92.5, "praise": 50.0, "mystery_shopper": 88.0, "lead_rating": 75.0}
    assert stars.component_scores(Raw(), most_praise=0) == {
        "qa": 0.0, "praise": 0.0, "mystery_shopper": 0.0, "lead_rating": 0.0}


def test_the_composite_ranks_agents_best_first():
    standings = rank({
        1: Raw(qa=90, praise=1),
        2: Raw(qa=96, praise=3, mystery_shopper=90, lead_rating=5),
        3: Raw(qa=99),
        4: Raw(),                                 # nothing at all: not ranked
    }, WEIGHTS)
    assert [s.user_id for s in standings] == [2, 1, 3]
    best = standings[0]
    assert best.composite == round(0.4 * 96 + 0.25 * 100 + 0.2 * 90 + 0.15 * 100, 2)


def test_ties_go_to_the_better_qa_then_more_praise():
    standings = rank({7: Raw(qa=80, praise=1), 5: Raw(qa=80, praise=1),
                      6: Raw(qa=100, praise=0, mystery_shopper=0)},
                     {"qa": 1, "praise": 0, "mystery_shopper": 0, "lead_rating": 0})
    assert [s.user_id for s in standings] == [6, 5, 7]


def test_weights_must_make_sense():
    with pytest.raises(StarError):
        stars.checked_weights({"qa": -1, "praise": 1})
    with pytest.raises(StarError):
        stars.checked_weights({"qa": 0})
    assert stars.checked_weights({"qa": 2}) == {"qa": 2.0, "praise": 0.0,
                                                "mystery_shopper": 0.0, "lead_rating": 0.0}


# --- proposals from the ledger -----------------------------------------------------------

def _results(agent, *, qa=(), praise=0, mystery=(), rating=None, at=FEBRUARY, now):
    tag = f"{agent.id}:{at.isoformat()}"
    for i, score in enumerate(qa):
        award(Award("qa.evaluation", agent.id, f"qa:{tag}:{i}", "qa_evaluation",
                    score=score, occurred_at=at), now=now)
    for i in range(praise):
        award(Award("customer_praise.verified", agent.id, f"praise:{tag}:{i}", "praise",
                    occurred_at=at), now=now)
    for i, score in enumerate(mystery):
        award(Award("mystery_shopper.scored", agent.id, f"ms:{tag}:{i}", "mystery_shopper",
                    score=score, occurred_at=at), now=now)
    if rating is not None:
        award(Award("manual.recognition", agent.id, f"rating:{tag}", "manual", points=10,
                    details={"rating": rating}, occurred_at=at), now=now)


@pytest.fixture()
def agents(make_user):
    return [make_user("agent", name=f"Agent {n}") for n in range(4)]


def test_the_top_three_of_a_past_month_are_proposed(db, defaults, agents, make_user, now):
    a, b, c, d = agents
    _results(a, qa=[96, 98], praise=3, mystery=[92], rating=5, now=now)
    _results(b, qa=[90], praise=1, now=now)
    _results(c, qa=[99, 99], praise=2, mystery=[95], rating=4, now=now)
    _results(d, qa=[85], now=now)
    _results(make_user("trainer", "team_lead"), qa=[100], praise=9, now=now)  # not an agent
    _results(d, qa=[100] * 3, praise=9, at=datetime(2026, 3, 2, tzinfo=timezone.utc), now=now)
    nominations = propose_service_stars("2026-02", now=now)
    db.session.commit()
    assert [(n.user_id, n.rank, n.status) for n in nominations] == [
        (a.id, 1, "proposed"), (c.id, 2, "proposed"), (b.id, 3, "proposed")]
    first = nominations[0]
    assert first.kind == "service_star" and first.period == "2026-02"
    assert first.components["raw"] == {"qa": 97.0, "praise": 3, "mystery_shopper": 92.0,
                                       "lead_rating": 5.0}
    assert first.components["praise"] == 100.0 and first.components["weights"] == WEIGHTS
    assert db.session.scalar(select(AuditEvent.action).where(
        AuditEvent.action == "service_star.propose"))


def test_proposing_a_month_again_changes_nothing(db, defaults, agents, now):
    _results(agents[0], qa=[96], now=now)
    first = propose_service_stars("2026-02", now=now)
    _results(agents[1], qa=[100], praise=5, now=now)
    again = propose_service_stars("2026-02", now=now)
    assert [n.id for n in again] == [n.id for n in first]
    assert db.session.scalar(select(func.count()).select_from(ServiceStarNomination)) == 1


def test_weights_come_from_the_configuration(app, db, defaults, agents, now, monkeypatch):
    _results(agents[0], qa=[99], now=now)
    _results(agents[1], qa=[81], praise=4, now=now)
    monkeypatch.setitem(app.config, "SERVICE_STAR_WEIGHTS", {"qa": 0, "praise": 1})
    # with QA weighing nothing, the agent without praise has a composite of 0: not proposed
    [best] = propose_service_stars("2026-02", now=now, count=2)
    assert (best.user_id, best.composite) == (agents[1].id, 100.0)
    assert best.components["weights"]["praise"] == 1.0


def test_only_a_month_that_is_over_can_be_proposed(db, defaults, now):
    for period in ("2026-03", "2026-04"):
        with pytest.raises(StarError, match="once the month is over"):
            propose_service_stars(period, now=now)
    with pytest.raises(StarError, match="YYYY-MM"):
        propose_service_stars("2026-2", now=now)
    with pytest.raises(StarError, match="once the year is over"):
        propose_service_models("2026", now=now)


def test_reversed_results_do_not_count(db, defaults, agents, now):
    _results(agents[0], qa=[99], now=now)
    entry = db.session.scalar(select(PointEntry).where(PointEntry.user_id == agents[0].id))
    reverse_entry(entry.id, reason="Wrong agent", actor_id=None, now=now)
    assert propose_service_stars("2026-02", now=now) == []


def test_the_service_model_is_proposed_over_the_years_months(db, defaults, agents, now):
    _results(agents[0], qa=[90], praise=1, at=LAST_YEAR, now=now)
    _results(agents[0], qa=[100], praise=1, at=datetime(2025, 11, 3, tzinfo=timezone.utc),
             now=now)
    _results(agents[1], qa=[99], at=LAST_YEAR, now=now)
    _results(agents[1], qa=[50], praise=9, at=FEBRUARY, now=now)     # another year
    nominations = propose_service_models("2025", now=now)
    assert [(n.user_id, n.kind, n.period) for n in nominations] == [
        (agents[0].id, "service_model", "2025"), (agents[1].id, "service_model", "2025")]
    assert nominations[0].components["raw"]["qa"] == 95.0
    assert nominations[0].components["raw"]["praise"] == 2


# --- deciding ----------------------------------------------------------------------------

@pytest.fixture()
def proposed(db, defaults, agents, now):
    _results(agents[0], qa=[99], praise=2, now=now)
    _results(agents[1], qa=[95], now=now)
    nominations = propose_service_stars("2026-02", now=now)
    db.session.commit()
    return nominations


def test_confirming_awards_the_honour_and_its_points_once(db, proposed, make_user, now):
    trainer = make_user("trainer")
    winner = proposed[0]
    before = earned_total(winner.user_id)
    nomination, entry = confirm_nomination(winner.id, trainer.id, now)
    db.session.commit()
    assert nomination.status == "confirmed" and nomination.decided_by_id == trainer.id
    assert (entry.event, entry.points, entry.blade) == ("service_star.won", 200, "honour")
    assert entry.idempotency_key == f"service_star:2026-02:{winner.user_id}"
    assert earned_total(winner.user_id) == before + 200
    with pytest.raises(StarError, match="already decided"):
        confirm_nomination(winner.id, trainer.id, now)
    assert db.session.scalar(select(func.count()).select_from(PointEntry).where(
        PointEntry.event == "service_star.won")) == 1
    note = db.session.scalar(select(Notification).where(
        Notification.user_id == winner.user_id).order_by(Notification.id.desc()))
    assert note.message.startswith("You are the Service Star of") and note.params == {
        "period": "2026-02"}
    assert db.session.scalar(select(AuditEvent).where(
        AuditEvent.action == "service_star.confirm")).subject_id == winner.user_id


def test_declining_awards_nothing(db, proposed, make_user, now):
    trainer = make_user("trainer")
    nomination = decline_nomination(proposed[1].id, trainer.id, now)
    assert nomination.status == "declined"
    assert db.session.scalar(select(func.count()).select_from(PointEntry).where(
        PointEntry.event == "service_star.won")) == 0
    with pytest.raises(StarError, match="already decided"):
        confirm_nomination(proposed[1].id, trainer.id, now)


def test_only_a_trainer_decides_and_never_on_their_own_nomination(db, proposed, make_user,
                                                                   now):
    with pytest.raises(StarError, match="Only a trainer"):
        confirm_nomination(proposed[0].id, make_user("team_lead").id, now)
    db.session.add(UserRole(user_id=proposed[0].user_id, role="trainer"))
    db.session.flush()
    with pytest.raises(StarError, match="your own"):
        confirm_nomination(proposed[0].id, proposed[0].user_id, now)


def test_a_confirmed_service_model_awards_its_points(db, defaults, agents, make_user, now):
    _results(agents[0], qa=[97], at=LAST_YEAR, now=now)
    [model] = propose_service_models("2025", now=now)
    _nomination, entry = confirm_nomination(model.id, make_user("trainer").id, now)
    assert (entry.event, entry.points) == ("service_model.won", 1000)
    assert entry.idempotency_key == f"service_model:2025:{agents[0].id}"


# --- the trainer's page ------------------------------------------------------------------

def _signed_in(app, user):
    client = app.test_client()
    assert client.post("/login", data={"login": user.employee_number,
                                       "password": "correct-horse-1"}).status_code == 302
    return client


def test_a_trainer_proposes_confirms_and_declines_on_the_page(app, db, defaults, agents,
                                                             make_user):
    last_month = previous_period(period_of(utcnow(), centre_tz()))
    at = datetime(int(last_month[:4]), int(last_month[5:]), 10, 4, tzinfo=timezone.utc)
    _results(agents[0], qa=[99], praise=2, at=at, now=utcnow())
    _results(agents[1], qa=[90], at=at, now=utcnow())
    db.session.commit()
    client = _signed_in(app, make_user("trainer"))
    page = client.get("/windmill/stars").get_data(as_text=True)
    assert "No proposal for this month yet." in page and f'value="{last_month}"' in page
    response = client.post("/windmill/stars/propose", data={"month": last_month})
    assert response.status_code == 302 and f"month={last_month}" in response.headers["Location"]
    page = client.get(f"/windmill/stars?month={last_month}").get_data(as_text=True)
    assert agents[0].display_name in page and agents[1].display_name in page
    [first, second] = stars.list_nominations("service_star", last_month)
    assert client.post(f"/windmill/stars/{first.id}/confirm").status_code == 302
    assert client.post(f"/windmill/stars/{second.id}/decline").status_code == 302
    db.session.expire_all()
    assert [n.status for n in stars.list_nominations("service_star", last_month)] == [
        "confirmed", "declined"]
    future = client.post("/windmill/stars/propose", data={"month": "2999-01"},
                         follow_redirects=True)
    assert "once the month is over" in future.get_data(as_text=True)
    assert client.get("/windmill/stars?month=2026-13").status_code == 400
    assert _signed_in(app, agents[2]).get("/windmill/stars").status_code == 403
