"""What each role's home page shows."""
from __future__ import annotations

from datetime import date, timedelta

from sqlalchemy import func, select

from app.audit.models import AuditEvent
from app.auth import queries as people
from app.auth.models import Team, User, UserRole
from app.auth.roles import Role
from app.centre.periods import month_first_day, month_last_day, period_of_date, previous_period
from app.database import db, utcnow
from app.extensions import cache
from app.incentives.queries import windmill_of
from app.notifications.models import Notification
from app.qa import queries as qa_queries
from app.scenarios import queries as scenario_queries
from app.training import queries as training_queries

NEW_AGENT_DAYS = 90  # onboarding plus three months of monthly deepening (domain.md §3)


def agent_home(user: User, today: date) -> dict:
    mentors = people.mentors_of([user.id])
    team = user.team
    teammates = people.team_members(team.id) if team else []
    latest = db.session.scalars(
        select(Notification).where(Notification.user_id == user.id)
        .order_by(Notification.created_at.desc(), Notification.id.desc()).limit(5)
    ).all()
    windmill = windmill_of(user.id, period_of_date(today))
    return {
        "month_points": windmill["month_total"],
        "level": windmill["level"],
        "team": team,
        "lead": team.lead if team else None,
        "mentor": mentors.get(user.id),
        "days_since_hire": (today - user.hire_date).days,
        "teammate_count": max(len(teammates) - 1, 0),
        "notifications": latest,
        "evaluations": db.session.scalars(qa_queries.evaluations_of(user.id).limit(3)).all(),
        "scenario_assignments": scenario_queries.open_scenario_assignments([user.id]),
        "scenario_runs": [p for p in scenario_queries.progress_by_scenario(user.id).values()
                          if p.status != "completed"],
        "path_states": training_queries.states_of([user.id], today).get(user.id, []),
    }


def mentor_home(user: User, today: date) -> dict:
    apprentices = people.apprentices_of(user.id)
    ids = [apprentice.id for apprentice, _ in apprentices]
    return {
        "waiting": scenario_queries.sign_off_queue(user, include_unmentored=False),
        "overdue": scenario_queries.overdue_assignments(ids, today),
        "completed": scenario_queries.completed_counts(ids),
        "apprentices": [
            {"user": apprentice, "mentorship": mentorship,
             "days": (today - mentorship.started_on).days}
            for apprentice, mentorship in apprentices
        ],
    }


def team_lead_home(user: User, today: date) -> dict:
    teams = list(db.session.scalars(select(Team).where(Team.lead_id == user.id)
                                     .order_by(Team.name)))
    result = []
    for team in teams:
        members = people.team_members(team.id)
        mentors = people.mentors_of([m.id for m in members])
        new_agents = [m for m in members if (today - m.hire_date).days < NEW_AGENT_DAYS]
        result.append({
            "team": team,
            "members": members,
            "mentors": mentors,
            "new_count": len(new_agents),
            "new_without_mentor": [m for m in new_agents if m.id not in mentors],
        })
    return {"teams": result}


def _agent_ids():
    return select(UserRole.user_id).where(UserRole.role == Role.AGENT.value)


def qa_home(user: User, today: date) -> dict:
    teams = people.list_teams()
    agents = db.session.scalar(
        select(func.count()).select_from(User)
        .where(User.is_active.is_(True), User.id.in_(_agent_ids()))
    ) or 0
    desk = qa_queries.desk(utcnow())
    return {"teams": teams, "agent_count": agents, "desk": desk,
            "open_disputes": len(qa_queries.open_disputes_for(user))}


def trainer_home(user: User, today: date) -> dict:
    since = today - timedelta(days=NEW_AGENT_DAYS)
    new_agents = list(db.session.scalars(
        select(User).where(User.is_active.is_(True), User.hire_date >= since,
                           User.id.in_(_agent_ids()))
        .order_by(User.hire_date.desc(), User.employee_number)
    ))
    mentors = people.mentors_of([u.id for u in new_agents])
    return {
        "cohorts": people.cohorts()[:6],
        "new_agents": new_agents,
        "mentors": mentors,
        "without_mentor": [u for u in new_agents if u.id not in mentors],
    }


def people_version() -> str:
    """A stamp that changes whenever anybody is added or changed (hire, leave, team…).

    Caches of figures derived from people carry it in their key, so a change is never served
    stale and no writer has to remember to invalidate anything.
    """
    stamp, count, leavers = db.session.execute(
        select(func.max(User.updated_at), func.count(User.id), func.count(User.leave_date))
    ).one()
    return f"{stamp.isoformat() if stamp else '-'}/{count}/{leavers}"


def attrition_trend(today: date, months: int = 6) -> list[dict]:
    """Leavers, headcount and monthly attrition for the last `months` months, oldest first.

    Cached (in Redis when configured) until the people change or the day turns.
    """
    key = f"attrition/{today.isoformat()}/{months}/{people_version()}"
    trend = cache.get(key)
    if trend is None:
        trend = _attrition_trend(today, months)
        cache.set(key, trend, timeout=24 * 3600)
    return trend


def _attrition_trend(today: date, months: int) -> list[dict]:
    period = period_of_date(today)
    periods = [period]
    for _ in range(months - 1):
        periods.append(previous_period(periods[-1]))
    trend = []
    for p in reversed(periods):
        first, last = month_first_day(p), month_last_day(p)
        leavers, average, rate = people.attrition_for_month(first, min(last, today))
        trend.append({"period": p, "leavers": leavers, "rate": rate, "headcount": average})
    return trend


def admin_home(user: User, today: date) -> dict:
    active = db.session.scalar(select(func.count()).select_from(User)
                               .where(User.is_active.is_(True))) or 0
    inactive = db.session.scalar(select(func.count()).select_from(User)
                                 .where(User.is_active.is_(False))) or 0
    recent = db.session.scalars(
        select(AuditEvent).order_by(AuditEvent.occurred_at.desc(), AuditEvent.id.desc()).limit(8)
    ).all()
    teams_without_lead = db.session.scalars(
        select(Team).where(Team.lead_id.is_(None)).order_by(Team.name)).all()
    return {
        "active": active,
        "inactive": inactive,
        "team_count": db.session.scalar(select(func.count()).select_from(Team)) or 0,
        "trend": attrition_trend(today),
        "recent_events": recent,
        "teams_without_lead": teams_without_lead,
    }


HOME_DATA = {
    Role.AGENT: agent_home,
    Role.MENTOR: mentor_home,
    Role.TEAM_LEAD: team_lead_home,
    Role.QA_ANALYST: qa_home,
    Role.TRAINER: trainer_home,
    Role.ADMIN: admin_home,
}
