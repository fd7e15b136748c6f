"""The QA pages through the test client: ownership, disputes, resolution, scorecard
versions, the team trend and the remediation mapping."""
import pytest
from sqlalchemy import select

from app.auth.roles import Role
from app.database import db as _db
from app.database import utcnow
from app.incentives.services import install_defaults
from app.qa.models import Dispute, Evaluation, RemediationRule, Scorecard
from tests.support.qa import evaluate, phone_scorecard


@pytest.fixture()
def centre(db, make_user, make_team):
    now = utcnow()
    install_defaults(now=now)
    team = make_team("Blue")
    lead = make_user(Role.TEAM_LEAD, team=team, name="Lead Lin")
    team.lead_id = lead.id
    agent = make_user(Role.AGENT, team=team, name="Agent Ann")
    other = make_user(Role.AGENT, team=make_team("Red"), name="Other Oscar")
    analyst = make_user(Role.QA_ANALYST, name="Analyst Amy")
    version = phone_scorecard(now)
    mine = evaluate(version, agent.id, "V-1", now=now, analyst_id=analyst.id,
                    results={"greeting": "5", "empathy": "N/A"})
    theirs = evaluate(version, other.id, "V-2", now=now, analyst_id=analyst.id)
    db.session.commit()
    return {"lead": lead, "agent": agent, "other": other, "analyst": analyst, "mine": mine,
            "theirs": theirs, "version": version, "team": team}


def test_an_agent_sees_their_evaluations_with_the_breakdown_but_not_others(
        client, login_as, centre):
    login_as(centre["agent"])
    page = client.get("/qa/mine").get_data(as_text=True)
    assert "V-1" in page and "V-2" not in page
    detail = client.get(f"/qa/evaluations/{centre['mine']}").get_data(as_text=True)
    assert "Greeting with the company name and employee number" in detail
    assert "N/A" in detail and 'data-testid="dispute-form"' in detail
    assert client.get(f"/qa/evaluations/{centre['theirs']}").status_code == 404
    assert client.get(f"/qa/people/{centre['other'].id}").status_code == 404


def test_dispute_and_resolution_through_the_pages(client, login_as, centre):
    login_as(centre["agent"])
    response = client.post(f"/qa/evaluations/{centre['mine']}/dispute",
                           data={"reason": "I gave my employee number."})
    assert response.status_code == 302
    dispute = _db.session.scalar(select(Dispute))
    assert dispute.status == "open"
    client.post("/logout")
    login_as(centre["lead"])
    queue = client.get("/qa/disputes").get_data(as_text=True)
    assert "V-1" in queue
    detail = client.get(f"/qa/evaluations/{centre['mine']}").get_data(as_text=True)
    assert 'data-testid="resolve-form"' in detail
    response = client.post(f"/qa/disputes/{dispute.id}/resolve", data={
        "decision": "amend", "score": "100", "note": "Heard it on the recording."})
    assert response.status_code == 302
    _db.session.expire_all()
    assert _db.session.get(Dispute, dispute.id).status == "amended"
    assert _db.session.get(Evaluation, centre["mine"]).score == 100


def test_a_lead_of_another_team_cannot_resolve(client, login_as, centre, make_user,
                                                make_team):
    login_as(centre["agent"])
    client.post(f"/qa/evaluations/{centre['mine']}/dispute", data={"reason": "Wrong score."})
    client.post("/logout")
    team = make_team("Green")
    stranger = make_user(Role.TEAM_LEAD, team=team)
    team.lead_id = stranger.id
    _db.session.commit()
    login_as(stranger)
    dispute = _db.session.scalar(select(Dispute))
    assert client.post(f"/qa/disputes/{dispute.id}/resolve", data={
        "decision": "uphold", "note": "no"}).status_code == 404
    assert "V-1" not in client.get("/qa/disputes").get_data(as_text=True)


def test_editing_a_scorecard_makes_a_new_version_and_keeps_the_old(client, login_as, centre):
    login_as(centre["analyst"])
    card = _db.session.scalar(select(Scorecard).where(Scorecard.code == "phone-standard"))
    form = client.get(f"/qa/scorecards/{card.id}/edit").get_data(as_text=True)
    assert 'name="criteria-0-criterion_code"' in form
    data = {"code": "phone-standard", "name_en": "Phone", "name_zh": "电话", "channel": "phone",
            "note": "Two criteria",
            "criteria-0-criterion_code": "greeting", "criteria-0-section_en": "Opening",
            "criteria-0-section_zh": "开场", "criteria-0-name_en": "Greeting",
            "criteria-0-name_zh": "问候", "criteria-0-weight": "40",
            "criteria-0-category": "greeting_without_employee_number",
            "criteria-1-criterion_code": "verification", "criteria-1-section_en": "Compliance",
            "criteria-1-section_zh": "合规", "criteria-1-name_en": "Verification",
            "criteria-1-name_zh": "核实身份", "criteria-1-weight": "60",
            "criteria-1-is_critical": "y",
            "criteria-1-category": "disclosure_without_verification"}
    response = client.post(f"/qa/scorecards/{card.id}/edit", data=data)
    assert response.status_code == 302
    _db.session.expire_all()
    card = _db.session.get(Scorecard, card.id)
    assert card.current_version == 2
    assert [c.code for c in card.versions[-1].criteria] == ["greeting", "verification"]
    # the evaluations keep the version they were scored with
    assert _db.session.get(Evaluation, centre["mine"]).scorecard_version.version == 1
    page = client.get(f"/qa/scorecards/{card.id}?version=1").get_data(as_text=True)
    assert "Accurate and complete answer" in page


def test_a_scorecard_with_a_bad_weight_is_refused(client, login_as, centre):
    login_as(centre["analyst"])
    response = client.post("/qa/scorecards/new", data={
        "code": "x", "name_en": "X", "name_zh": "X", "channel": "phone",
        "criteria-0-criterion_code": "a", "criteria-0-name_en": "A", "criteria-0-name_zh": "甲",
        "criteria-0-weight": "0", "criteria-0-category": "other"})
    assert response.status_code == 200
    assert _db.session.scalar(select(Scorecard).where(Scorecard.code == "x")) is None


def test_the_team_trend_shows_charts_agents_and_failed_criteria(client, login_as, centre):
    login_as(centre["lead"])
    page = client.get("/qa/team").get_data(as_text=True)
    assert 'id="qaavg-chart"' in page and 'id="qacrit-chart"' in page
    assert "Agent Ann" in page and "Other Oscar" not in page
    assert "Greeting with the company name and employee number" in page   # failed once
    monthly = client.get("/qa/team?by=month").get_data(as_text=True)
    assert 'id="qaavg-data"' in monthly


def test_the_trainer_maps_remediation(client, login_as, centre, now):
    from app.scenarios import importers
    library = importers.shipped_library()
    importers.apply_import(importers.plan_import(
        [("S07.yaml", (library / "S07-forbidden-phrases-media.yaml").read_bytes())]),
        actor_id=None, now=now)
    _db.session.commit()
    login_as(Role.TRAINER)
    unknown = client.post("/qa/remediation", data={
        "category": "forbidden_phrase", "item_kind": "scenario", "item_code": "S99",
        "title": "", "due_days": "7"}, follow_redirects=True)
    assert "There is no scenario S99 in the training room." in unknown.get_data(as_text=True)
    assert _db.session.scalar(select(RemediationRule)) is None
    response = client.post("/qa/remediation", data={
        "category": "forbidden_phrase", "item_kind": "scenario", "item_code": "S07",
        "title": "", "due_days": "7"})
    assert response.status_code == 302
    rule = _db.session.scalar(select(RemediationRule))
    assert (rule.category, rule.item_code) == ("forbidden_phrase", "S07")
    assert rule.title   # the scenario's title when none is given
    page = client.get("/qa/remediation").get_data(as_text=True)
    assert 'value="S07"' in page and '<datalist id="scenario-codes">' in page
    assert "datalist" not in page.split("</title>")[0]   # in the page, not in its title


def test_the_agent_cannot_see_the_desk_or_the_queue(client, login_as, centre):
    login_as(centre["agent"])
    assert client.get("/qa/desk").status_code == 403
    assert client.get("/qa/disputes").status_code == 403
    assert client.get("/qa/").headers["Location"].endswith("/qa/mine")


def test_the_trend_of_one_agent_and_one_criterion(client, login_as, centre):
    login_as(centre["lead"])
    page = client.get(f"/qa/team?agent={centre['agent'].id}&criterion=greeting"
                      ).get_data(as_text=True)
    assert 'data-testid="criterion-trend"' in page and 'id="qacriterion-data"' in page
    assert "Agent Ann" in page
    # an agent of another team is not a choice: the whole team is shown
    other = client.get(f"/qa/team?agent={centre['other'].id}").get_data(as_text=True)
    assert "Other Oscar" not in other


def test_the_homes_show_qa_at_a_glance(client, login_as, centre):
    login_as(centre["agent"])
    home = client.get("/home/agent").get_data(as_text=True)
    assert 'data-testid="home-qa"' in home and "V-1" in home and "V-2" not in home
    client.post("/logout")
    login_as(centre["analyst"])
    home = client.get("/home/qa_analyst").get_data(as_text=True)
    assert 'data-testid="home-qa-stats"' in home
