"""QA import fixtures: the incentive rules and default scorecards installed, a team with two
agents and an analyst; planning and running imports (files: tests/support/qa_files.py)."""
from __future__ import annotations

from types import SimpleNamespace

import pytest

from app.auth.roles import Role
from app.incentives.services import install_defaults
from app.qa import importers
from app.qa.scorecards import install_default_scorecards


@pytest.fixture()
def qa(db, now, make_user, make_team):
    """Rules, levels and the default scorecards; a team with a lead, two agents (A1001 李雷,
    A1002) and a QA analyst (Q0001)."""
    install_defaults(now=now)
    install_default_scorecards(now=now)
    team = make_team("Blue")
    lead = make_user(Role.TEAM_LEAD, team=team, employee_number="L0001")
    team.lead_id = lead.id
    agent = make_user(Role.AGENT, team=team, employee_number="A1001", name="李雷")
    other = make_user(Role.AGENT, team=team, employee_number="A1002", name="韩梅梅")
    analyst = make_user(Role.QA_ANALYST, employee_number="Q0001", name="王芳")
    db.session.commit()
    return SimpleNamespace(team=team, lead=lead, agent=agent, other=other, analyst=analyst)


@pytest.fixture()
def plan(qa, now):
    """plan(data, filename="qa.csv", source="tool") → the import plan, written nowhere."""

    def make(data: bytes, filename: str = "qa.csv", source: str = "tool"):
        return importers.plan_import(data, filename, source=source, now=now)

    return make


@pytest.fixture()
def run_import(qa, db, now, plan):
    """run_import(data, filename="qa.csv", source="tool") → the committed QaImport (the
    plan must have no errors)."""

    def run(data: bytes, filename: str = "qa.csv", source: str = "tool", at=None):
        planned = importers.plan_import(data, filename, source=source, now=at or now)
        assert planned.errors == [], [e.english() for e in planned.errors]
        done = importers.apply_import(planned, filename=filename, actor_id=qa.analyst.id,
                                      now=at or now)
        db.session.commit()
        return done

    return run
