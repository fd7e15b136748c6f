"""My windmill, the team's, recognitions, rules and corrections through the test client."""
from datetime import date

from sqlalchemy import func, select

from app.audit.models import AuditEvent
from app.incentives.models import PointEntry, PointRollup, Rule
from app.incentives.services import Award, award


def test_my_windmill_explains_every_entry(client, login_as, defaults, db, now):
    agent = login_as("agent")
    award(Award("qa.evaluation", agent.id, "qa:1", "qa_evaluation", "QA-77", score=96), now=now)
    award(Award("quiz.passed", agent.id, "quiz:1", "quiz_attempt", "12", attempt=2), now=now)
    db.session.commit()
    page = client.get("/windmill/?month=2026-03").get_data(as_text=True)
    assert 'id="blades-chart"' in page and '"type": "radar"' in page
    assert 'id="trend-chart"' in page
    assert "QA evaluation in a score band" in page and "Score 96" in page and "#QA-77" in page
    assert "Attempt 2" in page and "Quiz passed" in page
    assert "+20" in page and "+10" in page
    assert "Automatic" in page
    assert "30" in page   # the month's total


def test_the_windmill_in_chinese(client, login_as, defaults, db, now):
    agent = login_as("agent")
    award(Award("quiz.passed", agent.id, "quiz:1", "quiz_attempt", attempt=1), now=now)
    db.session.commit()
    client.post("/language", data={"locale": "zh_Hans"})
    page = client.get("/windmill/?month=2026-03").get_data(as_text=True)
    assert "测验通过" in page and "成长" in page


def test_a_bad_month_is_refused(client, login_as):
    login_as("agent")
    assert client.get("/windmill/?month=2026-13").status_code == 400


def test_a_team_lead_recognises_an_agent_of_their_team(client, login_as, make_user, make_team,
                                                       defaults, db, app):
    lead = login_as("team_lead")
    team = make_team("Blue", lead=lead)
    agent = make_user("agent", team=team, name="Wang Fang")
    outsider = make_user("agent")
    form = client.get("/windmill/recognitions/new").get_data(as_text=True)
    assert "Wang Fang" in form and outsider.name not in form
    data = {"agent_id": agent.id, "kind": "recognition", "points": 25,
            "comment": "Calmed an angry customer", "token": "tok-1"}
    assert client.post("/windmill/recognitions/new", data=data).status_code == 302
    assert client.post("/windmill/recognitions/new", data=data).status_code == 302  # resent
    entries = db.session.scalars(select(PointEntry).where(PointEntry.user_id == agent.id)).all()
    assert [(e.points, e.blade, e.awarded_by_id) for e in entries] == [(25, "recognition",
                                                                       lead.id)]
    assert db.session.scalar(select(AuditEvent).where(AuditEvent.action == "points.manual_award"))
    other = app.test_client()
    other.post("/login", data={"login": agent.employee_number, "password": "correct-horse-1"})
    assert "Calmed an angry customer" in other.get("/windmill/").get_data(as_text=True)


def test_recognitions_are_bounded_and_never_for_oneself(client, login_as, make_user, make_team,
                                                        defaults, db, app):
    app.config["MANUAL_AWARDS_PER_MONTH"] = 2
    try:
        lead = login_as("team_lead")
        team = make_team("Green", lead=lead)
        agent = make_user("agent", team=team)
        for n in range(3):
            response = client.post("/windmill/recognitions/new", data={
                "agent_id": agent.id, "kind": "honour", "points": 10, "comment": "Well done",
                "token": f"t{n}"}, follow_redirects=True)
        assert "You have given the 2 recognitions allowed this month." in response.get_data(
            as_text=True)
        own = client.post("/windmill/recognitions/new", data={
            "agent_id": lead.id, "kind": "honour", "points": 10, "comment": "Me",
            "token": "self"})
        assert own.status_code == 200   # not among the choices: refused by the form
        count = db.session.scalar(select(func.count()).select_from(PointEntry))
        assert count == 2
    finally:
        app.config["MANUAL_AWARDS_PER_MONTH"] = 10


def test_who_sees_whose_windmill(app, make_user, make_team, defaults, db):
    lead = make_user("team_lead")
    team = make_team("Red", lead=lead)
    agent = make_user("agent", team=team)
    stranger = make_user("agent")

    def status(viewer, url):
        client = app.test_client()
        client.post("/login", data={"login": viewer.employee_number,
                                    "password": "correct-horse-1"})
        return client.get(url).status_code

    assert status(lead, f"/windmill/people/{agent.id}") == 200
    assert status(lead, f"/windmill/teams/{team.id}") == 200
    assert status(stranger, f"/windmill/people/{agent.id}") == 403
    assert status(stranger, f"/windmill/teams/{team.id}") == 403
    assert status(agent, f"/windmill/people/{agent.id}") == 200


def test_a_trainer_edits_previews_and_replays_a_rule(client, login_as, make_user, defaults, db,
                                                     now):
    login_as("trainer")
    agent = make_user("agent")
    award(Award("quiz.passed", agent.id, "q", "quiz_attempt", attempt=1), now=now)
    db.session.commit()
    rule = db.session.scalar(select(Rule).where(Rule.event == "quiz.passed"))
    data = {"name_en": "Quiz passed", "name_zh": "测验通过", "blade": "growth", "points": 30,
            "is_active": "y", "params": '{"diminishing": [100, 50, 25]}', "comment": "more"}
    preview = client.post(f"/windmill/rules/{rule.id}", data={**data, "preview": "1"})
    assert "1 entry of the open months would change." in preview.get_data(as_text=True)
    db.session.expire_all()
    assert db.session.get(Rule, rule.id).version == 1
    saved = client.post(f"/windmill/rules/{rule.id}", data={**data, "save_replay": "1"},
                        follow_redirects=True)
    assert "Saved as version 2; 1 entries replayed." in saved.get_data(as_text=True)
    db.session.expire_all()
    assert db.session.get(PointRollup, (agent.id, "2026-03", "growth")).points == 30
    bad = client.post(f"/windmill/rules/{rule.id}", data={**data, "params": "[1", "save": "1"})
    assert "JSON object" in bad.get_data(as_text=True)


def test_an_admin_reverses_an_entry_with_a_reason(client, login_as, make_user, defaults, db,
                                                  now):
    login_as("admin")
    agent = make_user("agent", hire_date=date(2025, 1, 1))
    entry = award(Award("quiz.passed", agent.id, "q", "quiz_attempt", attempt=1), now=now).entry
    db.session.commit()
    client.post(f"/windmill/entries/{entry.id}/reverse", data={"reason": "duplicate attempt"})
    db.session.expire_all()
    assert db.session.get(PointEntry, entry.id).status == "reversed"
    assert db.session.scalar(select(AuditEvent).where(AuditEvent.action == "points.reverse"))
    page = client.get(f"/windmill/people/{agent.id}").get_data(as_text=True)
    assert "duplicate attempt" in page and "Takes back entry" in page
