"""The demo centre loads once, and a second load changes nothing."""
from sqlalchemy import func, select

from app.audit.models import AuditEvent
from app.auth.models import Mentorship, Team, User, UserRole
from app.auth.roles import Role
from app.notifications.models import Notification


def _counts(db):
    return {model.__name__: db.session.scalar(select(func.count()).select_from(model))
            for model in (User, Team, Mentorship, AuditEvent, Notification, UserRole)}


def test_demo_load_builds_the_centre_and_is_idempotent(runner, db):
    first = runner.invoke(args=["demo", "load"])
    assert first.exit_code == 0, first.output
    assert "Demo centre loaded" in first.output
    counts = _counts(db)
    assert counts["Team"] == 4
    second = runner.invoke(args=["demo", "load"])
    assert second.exit_code == 0 and "nothing changed" in second.output
    assert _counts(db) == counts

    users = db.session.scalars(select(User)).all()
    by_role = {role: [u for u in users if u.has_role(role)] for role in Role}
    assert len(by_role[Role.QA_ANALYST]) == 2
    assert len(by_role[Role.TRAINER]) == 1 and len(by_role[Role.ADMIN]) == 1
    for team in db.session.scalars(select(Team)):
        agents = [u for u in team.members if u.is_active and u.has_role(Role.AGENT)
                  and not u.has_role(Role.TEAM_LEAD)]
        assert 10 <= len(agents) <= 15
        assert team.lead is not None
        mentors = [u for u in agents if u.has_role(Role.MENTOR)]
        assert mentors and all(u.career_level == "senior_agent" for u in mentors)
    assert any(not u.is_active and u.leave_date for u in users)        # attrition history
    assert any(any("\u4e00" <= ch <= "\u9fff" for ch in u.name) for u in users)  # Chinese names
    assert any(u.name.isascii() for u in users)                        # English names
    cohorts = {u.cohort for u in users if u.is_active}
    assert len(cohorts) > 3   # hire dates spread, with a fresh onboarding cohort


def test_demo_load_works_in_the_first_hours_of_a_month(runner, db, monkeypatch):
    """On the 1st the month's exports hold no evaluations yet: the demo still loads."""
    from datetime import datetime, timezone

    from app.demo import cli
    monkeypatch.setattr(cli, "utcnow", lambda: datetime(2026, 11, 30, 16, 50, tzinfo=timezone.utc))
    result = runner.invoke(args=["demo", "load"])
    assert result.exit_code == 0, result.output
    assert "qa_imports=" in result.output
