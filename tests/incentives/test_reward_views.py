"""The reward, redemption, violation and coaching pages through the test client: who may do
what, whose records they see, and what the pages show."""
from __future__ import annotations

from datetime import date

import pytest
from sqlalchemy import func, select

from app.incentives.models import (
    CoachingTask,
    PointBalance,
    Redemption,
    Reward,
    Violation,
)
from app.incentives.rewards import create_reward, request_redemption
from app.incentives.services import Award, award
from app.incentives.violations import record_violation

PASSWORD = "correct-horse-1"          # the factories' password (tests/conftest.py)


@pytest.fixture()
def sign_in(app):
    """A separate signed-in client per person."""

    def make(user):
        client = app.test_client()
        response = client.post("/login", data={"login": user.employee_number,
                                               "password": PASSWORD})
        assert response.status_code == 302
        return client

    return make


@pytest.fixture()
def floor(db, defaults, make_user, make_team, now):
    lead = make_user("team_lead", name="Lead Li")
    other_lead = make_user("team_lead", name="Lead Wang")
    team = make_team("Team A", lead=lead)
    other_team = make_team("Team B", lead=other_lead)
    agent = make_user("agent", team=team, name="Agent Zhao")
    stranger = make_user("agent", team=other_team, name="Agent Qian")
    for person in (agent, stranger):
        award(Award("career.promotion", person.id, f"p:{person.id}", "promotion"), now=now)
    trainer = make_user("trainer")
    reward = create_reward(name_en="Cinema voucher", name_zh="电影票", cost=100, stock=5,
                           description_en="Two tickets.", description_zh="两张电影票。",
                           actor_id=trainer.id, now=now)
    db.session.commit()
    return {"lead": lead, "other_lead": other_lead, "agent": agent, "stranger": stranger,
            "trainer": trainer, "admin": make_user("admin"), "reward": reward}


def _balance(db, user_id) -> int:
    return db.session.get(PointBalance, user_id, populate_existing=True).balance


def _redemption(db, redemption_id) -> Redemption:
    return db.session.get(Redemption, redemption_id, populate_existing=True)


# --- rewards and redemptions -------------------------------------------------------------------

def test_the_catalogue_shows_the_balance_and_redeems(db, floor, sign_in):
    client = sign_in(floor["agent"])
    page = client.get("/windmill/rewards").get_data(as_text=True)
    assert "Cinema voucher" in page and "Two tickets." in page
    assert 'data-testid="balance"' in page and "300" in page
    response = client.post(f"/windmill/rewards/{floor['reward'].id}/redeem")
    assert response.status_code == 302 and response.headers["Location"].endswith(
        "/windmill/redemptions/mine")
    assert _balance(db, floor["agent"].id) == 200
    mine = client.get("/windmill/redemptions/mine").get_data(as_text=True)
    assert "Cinema voucher" in mine and "Requested" in mine and "Cancel the request" in mine


def test_the_catalogue_speaks_the_users_language(db, floor, sign_in):
    floor["agent"].locale = "zh_Hans"
    db.session.commit()
    page = sign_in(floor["agent"]).get("/windmill/rewards").get_data(as_text=True)
    assert "电影票" in page and "两张电影票。" in page and "Cinema voucher" not in page


def test_not_enough_points_is_said_and_nothing_is_spent(db, floor, sign_in, make_user):
    poor = make_user("agent")
    client = sign_in(poor)
    response = client.post(f"/windmill/rewards/{floor['reward'].id}/redeem",
                           follow_redirects=True)
    assert "You do not have enough points" in response.get_data(as_text=True)
    assert db.session.scalar(select(func.count()).select_from(Redemption)) == 0


def test_an_agent_cancels_their_own_request_but_not_anyone_elses(db, floor, sign_in, now):
    mine = request_redemption(floor["agent"].id, floor["reward"].id, now=now)
    theirs = request_redemption(floor["stranger"].id, floor["reward"].id, now=now)
    db.session.commit()
    client = sign_in(floor["agent"])
    assert client.post(f"/windmill/redemptions/{theirs.id}/cancel").status_code == 404
    assert client.post(f"/windmill/redemptions/{mine.id}/cancel").status_code == 302
    assert _redemption(db, mine.id).status == "cancelled"
    assert _redemption(db, theirs.id).status == "requested"
    assert _balance(db, floor["agent"].id) == 300


def test_a_trainer_manages_the_catalogue(db, floor, sign_in):
    client = sign_in(floor["trainer"])
    response = client.post("/windmill/rewards/new", data={
        "name_zh": "马克杯", "name_en": "Mug", "cost": "30", "stock": "", "is_active": "y"})
    assert response.status_code == 302
    mug = db.session.scalar(select(Reward).where(Reward.name_en == "Mug"))
    assert mug.cost == 30 and mug.stock is None and mug.is_active
    invalid = client.post("/windmill/rewards/new", data={"name_zh": "杯", "name_en": "Cup",
                                                         "cost": "0"})
    assert invalid.status_code == 200 and 'class="errors"' in invalid.get_data(as_text=True)
    edit = client.get(f"/windmill/rewards/{mug.id}/edit")
    assert edit.status_code == 200 and "马克杯" in edit.get_data(as_text=True)
    client.post(f"/windmill/rewards/{mug.id}/edit", data={
        "name_zh": "马克杯", "name_en": "Mug", "cost": "40", "stock": "3"})   # withdrawn
    mug = db.session.get(Reward, mug.id, populate_existing=True)
    assert (mug.cost, mug.stock, mug.is_active) == (40, 3, False)
    listing = client.get("/windmill/rewards/manage").get_data(as_text=True)
    assert "Mug" in listing and "Withdrawn" in listing
    assert "Mug" not in sign_in(floor["agent"]).get("/windmill/rewards").get_data(as_text=True)


def test_the_queue_approves_rejects_and_fulfils(db, floor, sign_in, now):
    first = request_redemption(floor["agent"].id, floor["reward"].id, now=now)
    second = request_redemption(floor["stranger"].id, floor["reward"].id, now=now)
    db.session.commit()
    client = sign_in(floor["trainer"])
    queue = client.get("/windmill/redemptions").get_data(as_text=True)
    assert "Agent Zhao" in queue and "Agent Qian" in queue
    assert client.post(f"/windmill/redemptions/{first.id}/approve").status_code == 302
    assert client.post(f"/windmill/redemptions/{first.id}/fulfil").status_code == 302
    assert _redemption(db, first.id).status == "fulfilled"
    refused = client.post(f"/windmill/redemptions/{second.id}/reject", data={"note": ""},
                          follow_redirects=True)
    assert "Say why the redemption is rejected." in refused.get_data(as_text=True)
    client.post(f"/windmill/redemptions/{second.id}/reject",
                data={"note": "Only one voucher per month."})
    assert _redemption(db, second.id).status == "rejected"
    assert _balance(db, floor["stranger"].id) == 300
    closed = client.get("/windmill/redemptions?status=closed").get_data(as_text=True)
    assert "Only one voucher per month." in closed


def test_agents_and_team_leads_cannot_decide_redemptions(db, floor, sign_in, now):
    redemption = request_redemption(floor["agent"].id, floor["reward"].id, now=now)
    db.session.commit()
    for person in (floor["agent"], floor["lead"]):
        client = sign_in(person)
        assert client.post(f"/windmill/redemptions/{redemption.id}/approve").status_code == 403
        assert client.get("/windmill/rewards/manage").status_code == 403
    assert _redemption(db, redemption.id).status == "requested"


# --- violations and coaching --------------------------------------------------------------------

def _violation_form(agent, **values):
    return {"user_id": str(agent.id), "sop_rule": "forbidden_phrase",
            "evidence": "Call 2026-03-14 09:12: said 没有 and hung up.",
            "occurred_on": "2026-03-14", **values}


def test_a_team_lead_records_a_violation_of_their_agent(db, floor, sign_in):
    client = sign_in(floor["lead"])
    form = client.get("/windmill/violations/new").get_data(as_text=True)
    assert "Agent Zhao" in form and "Agent Qian" not in form
    response = client.post("/windmill/violations/new", data=_violation_form(floor["agent"]))
    assert response.status_code == 302
    violation = db.session.scalar(select(Violation))
    assert violation.user_id == floor["agent"].id and violation.step == "verbal_warning"
    listing = client.get("/windmill/violations").get_data(as_text=True)
    assert "Agent Zhao" in listing and "Verbal warning" in listing and "Coaching" in listing


def test_a_team_lead_cannot_record_against_another_teams_agent(db, floor, sign_in):
    client = sign_in(floor["lead"])
    response = client.post("/windmill/violations/new", data=_violation_form(floor["stranger"]))
    assert response.status_code == 403
    assert db.session.scalar(select(func.count()).select_from(Violation)) == 0


def test_the_violation_form_shows_its_errors_inline(db, floor, sign_in):
    client = sign_in(floor["lead"])
    response = client.post("/windmill/violations/new",
                           data=_violation_form(floor["agent"], evidence=""))
    assert response.status_code == 200 and 'id="evidence-errors"' in response.get_data(
        as_text=True)
    future = client.post("/windmill/violations/new",
                         data=_violation_form(floor["agent"], occurred_on="2099-01-01"),
                         follow_redirects=True)
    assert "cannot lie in the future" in future.get_data(as_text=True)
    assert db.session.scalar(select(func.count()).select_from(Violation)) == 0


def test_a_serious_violation_shows_the_deduction(db, floor, sign_in):
    client = sign_in(floor["lead"])
    response = client.post("/windmill/violations/new", follow_redirects=True,
                           data=_violation_form(floor["agent"], is_serious="y"))
    page = response.get_data(as_text=True)
    assert "a bonus deduction of 50 points" in page
    mine = sign_in(floor["agent"]).get("/windmill/violations/mine").get_data(as_text=True)
    assert "Bonus deduction" in mine and "50 points deducted" in mine


def test_an_agent_sees_only_their_own_record(db, floor, sign_in, now):
    for person, evidence in ((floor["agent"], "Zhao interrupted the customer."),
                             (floor["stranger"], "Qian disclosed an address.")):
        lead = floor["lead"] if person is floor["agent"] else floor["other_lead"]
        record_violation(person.id, sop_rule="interrupting_customer", evidence=evidence,
                         occurred_on=date(2026, 3, 10), actor_id=lead.id, now=now)
    db.session.commit()
    client = sign_in(floor["agent"])
    mine = client.get("/windmill/violations/mine").get_data(as_text=True)
    assert "Zhao interrupted the customer." in mine and "Qian disclosed" not in mine
    assert "Interrupting the customer" in mine and "Verbal warning" in mine
    assert client.get("/windmill/violations").status_code == 403


def test_a_team_lead_sees_the_violations_of_their_teams_only(db, floor, sign_in, now):
    record_violation(floor["stranger"].id, sop_rule="other", evidence="Qian was rude.",
                     occurred_on=date(2026, 3, 10), actor_id=floor["other_lead"].id, now=now)
    db.session.commit()
    client = sign_in(floor["lead"])
    assert "Qian was rude." not in client.get("/windmill/violations").get_data(as_text=True)
    assert client.get(f"/windmill/violations?user={floor['stranger'].id}").status_code == 403
    trainer = sign_in(floor["trainer"]).get("/windmill/violations").get_data(as_text=True)
    assert "Qian was rude." in trainer


def test_sop_rules_show_in_chinese_for_a_chinese_reader(db, floor, sign_in, now):
    record_violation(floor["agent"].id, sop_rule="forbidden_phrase", evidence="说了不可以",
                     occurred_on=date(2026, 3, 10), actor_id=floor["lead"].id, now=now)
    floor["agent"].locale = "zh_Hans"
    db.session.commit()
    mine = sign_in(floor["agent"]).get("/windmill/violations/mine").get_data(as_text=True)
    assert "使用服务禁语" in mine


def test_the_team_lead_marks_a_coaching_task_done(db, floor, sign_in, now):
    record_violation(floor["agent"].id, sop_rule="forbidden_phrase", evidence="Said 不.",
                     occurred_on=date(2026, 3, 10), actor_id=floor["lead"].id, now=now)
    db.session.commit()
    task = db.session.scalar(select(CoachingTask))
    other = sign_in(floor["other_lead"])
    assert "Said 不." not in other.get("/windmill/coaching").get_data(as_text=True)
    assert other.post(f"/windmill/coaching/{task.id}/done",
                      data={"note": "Not mine."}).status_code == 403
    client = sign_in(floor["lead"])
    page = client.get("/windmill/coaching").get_data(as_text=True)
    assert "Agent Zhao" in page and "Said 不." in page
    assert client.post(f"/windmill/coaching/{task.id}/done",
                       data={"note": "Practised the polite refusal."}).status_code == 302
    task = db.session.get(CoachingTask, task.id, populate_existing=True)
    assert task.status == "done" and task.note == "Practised the polite refusal."
    done = client.get("/windmill/coaching?status=done").get_data(as_text=True)
    assert "Practised the polite refusal." in done
