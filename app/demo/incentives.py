"""The demo centre's windmill: six months of points across the blades for every agent,
team-lead recognitions, a pending customer praise, and a correction."""
from __future__ import annotations

import random
from datetime import date, datetime, time, timedelta, timezone

from sqlalchemy import select

from app.auth.models import Team, User
from app.auth.queries import mentors_of
from app.auth.roles import Role
from app.centre.periods import centre_tz, month_first_day, period_of_date, previous_period
from app.database import db
from app.incentives.badges import grant_badge
from app.incentives.manual import grant_recognition
from app.incentives.models import (
    BadgeAward,
    BadgeClass,
    PointEntry,
    Redemption,
    Reward,
    ServiceStarNomination,
    Violation,
)
from app.incentives.rewards import (
    approve_redemption,
    create_reward,
    fulfil_redemption,
    request_redemption,
)
from app.incentives.services import Award, award_batch, install_defaults, reverse_entry
from app.incentives.stars import confirm_nomination, propose_service_stars
from app.incentives.violations import record_violation
from app.leaderboard.services import close_month, month_status

MONTHS = 6


def _moment(day: date, rng: random.Random) -> datetime:
    local = datetime.combine(day, time(rng.randint(8, 20), rng.randint(0, 59)),
                             tzinfo=centre_tz())
    return local.astimezone(timezone.utc)


def _days(period: str, today: date, hired: date) -> list[date]:
    first = month_first_day(period)
    days = []
    day = first
    while day.month == first.month and day <= today:
        if day >= hired and day.weekday() < 6:
            days.append(day)
        day += timedelta(days=1)
    return days


def plan_awards(agents: list[User], today: date, mentors: dict[int, int]) -> list[Award]:
    """Deterministic events for the agents over the last six months."""
    rng = random.Random(4000)
    periods = [period_of_date(today)]
    for _ in range(MONTHS - 1):
        periods.append(previous_period(periods[-1]))
    awards: list[Award] = []
    for agent in agents:
        skill = rng.uniform(0.6, 1.0)   # some agents shine, some struggle
        for period in reversed(periods):
            days = _days(period, today, agent.hire_date)
            if not days:
                continue
            key = f"demo:{agent.employee_number}:{period}"
            for day in days:
                if rng.random() < 0.6 + 0.3 * skill:
                    awards.append(Award("kbi.checklist_completed", agent.id,
                                        f"{key}:kbi:{day.isoformat()}", "kbi",
                                        occurred_at=_moment(day, rng)))
            # QA points come from the demo's QA imports (app/demo/qa.py)
            for n in range(rng.randint(0, 2)):
                awards.append(Award("quiz.passed", agent.id, f"{key}:quiz:{n}", "quiz_attempt",
                                    f"{agent.id}{n}", occurred_at=_moment(rng.choice(days), rng),
                                    attempt=rng.choice([1, 1, 1, 2, 3])))
            for n in range(rng.randint(0, 3)):
                awards.append(Award("scenario.stage_completed", agent.id, f"{key}:stage:{n}",
                                    "scenario_stage", f"S{rng.randint(1, 10):02d}-{n + 1}",
                                    occurred_at=_moment(rng.choice(days), rng)))
            if rng.random() < 0.5 * skill:
                awards.append(Award("customer_praise.verified", agent.id, f"{key}:praise",
                                    "praise", f"P-{agent.id}-{period}",
                                    occurred_at=_moment(rng.choice(days), rng),
                                    pending=period == periods[0] and rng.random() < 0.5,
                                    comment="客户来电表扬：耐心细致，问题一次解决。"))
            if rng.random() < 0.3:
                awards.append(Award("mystery_shopper.scored", agent.id, f"{key}:mystery",
                                    "mystery_shopper", occurred_at=_moment(rng.choice(days), rng),
                                    score=round(rng.uniform(78, 99), 1)))
            if agent.id in mentors and rng.random() < 0.7:
                awards.append(Award("sign_off.received", agent.id, f"{key}:signoff",
                                    "sign_off", occurred_at=_moment(rng.choice(days), rng),
                                    awarded_by_id=mentors[agent.id]))
                awards.append(Award("sign_off.given", mentors[agent.id],
                                    f"{key}:signoff:mentor", "sign_off",
                                    occurred_at=_moment(rng.choice(days), rng)))
            if rng.random() < 0.05:
                awards.append(Award("suggestion.adopted", agent.id, f"{key}:suggestion",
                                    "suggestion", occurred_at=_moment(rng.choice(days), rng),
                                    comment="建议在工单模板中增加回访时间字段。"))
    return awards


def demo_awards(today: date) -> list[Award]:
    """The points history to load for the active agents (after the people are loaded)."""
    agents = list(db.session.scalars(
        select(User).where(User.is_active.is_(True),
                           User.role_links.any(role=Role.AGENT.value))
        .order_by(User.employee_number)))
    mentors = {apprentice: mentor.id for apprentice, mentor in
               mentors_of([a.id for a in agents]).items()}
    return plan_awards(agents, today, mentors)


def load_incentives(awards: list[Award], today: date, now: datetime, progress) -> dict:
    """Install the default rules, then write the history in batches (repeats add nothing)."""
    created = {"rules": install_defaults(now=now)["rules"], "entries": 0}
    for start in range(0, len(awards), 2000):
        chunk = awards[start:start + 2000]
        created["entries"] += award_batch(chunk, now=now).created
        progress(len(chunk))
    created["recognitions"] = _recognitions(today, now)
    created["reversals"] = _correction(now)
    return created


def _recognitions(today: date, now: datetime) -> int:
    """Each team lead recognised two agents this month."""
    given = 0
    comments = ["主动回访投诉客户，化解矛盾。", "Stayed calm with an angry caller and solved it.",
                "连续一周零差错受理工单。"]
    for team in db.session.scalars(select(Team).where(Team.lead_id.is_not(None))
                                   .order_by(Team.name)):
        members = [m for m in team.members if m.is_active and m.id != team.lead_id]
        for n, agent in enumerate(members[:2]):
            token = f"demo-{today.strftime('%Y%m')}-{agent.id}"
            exists = db.session.scalar(select(PointEntry.id).where(
                PointEntry.idempotency_key == f"manual:{team.lead_id}:{token}"))
            if exists:
                continue
            grant_recognition(agent.id, kind="recognition" if n == 0 else "honour",
                              points=20 + 10 * n, comment=comments[n % len(comments)],
                              granter_id=team.lead_id, now=now, token=token)
            given += 1
    return given


def _correction(now: datetime) -> int:
    """One KBI checklist was recorded twice by mistake and taken back by the trainer."""
    trainer = db.session.scalar(select(User).where(User.employee_number == "8001"))
    entry = db.session.scalar(
        select(PointEntry).where(PointEntry.event == "kbi.checklist_completed",
                                 PointEntry.status == "confirmed")
        .order_by(PointEntry.id).limit(1))
    done = db.session.scalar(select(PointEntry.id).where(
        PointEntry.idempotency_key == "demo:correction"))
    if entry is None or done:
        return 0
    reverse_entry(entry.id, reason="关键行为检查表重复录入 / KBI checklist entered twice",
                  actor_id=trainer.id if trainer else None, now=now,
                  idempotency_key="demo:correction")
    return 1


# --- rewards, violations, badges and Service Stars --------------------------------------

DEMO_REWARDS = [
    ("Cinema tickets for two", "双人电影票", 300, None),
    ("Extra half day off", "额外半天调休", 800, 20),
    ("Ergonomic headset", "人体工学耳麦", 1200, 5),
    ("Team dinner voucher", "班组聚餐券", 2000, None),
    ("Book of your choice", "自选图书一本", 150, None),
]


def load_rewards_and_honours(today: date, now: datetime) -> dict:
    """The catalogue and a few redemptions, violations on the ladder, granted badges, and the
    Service Stars of last month, proposed and confirmed. Each part runs once."""
    done = {"rewards": 0, "redemptions": 0, "violations": 0, "badges": 0, "stars": 0}
    trainer = db.session.scalar(select(User).where(User.employee_number == "8001"))
    if trainer is None:
        return done
    if not db.session.scalar(select(Reward.id).limit(1)):
        for name_en, name_zh, cost, stock in DEMO_REWARDS:
            create_reward(name_en=name_en, name_zh=name_zh, cost=cost, stock=stock,
                          actor_id=trainer.id, now=now)
            done["rewards"] += 1
    if not db.session.scalar(select(Redemption.id).limit(1)):
        rewards = list(db.session.scalars(select(Reward).order_by(Reward.cost)))
        for n, number in enumerate(("1105", "2106", "3107")):
            agent = db.session.scalar(select(User).where(User.employee_number == number))
            redemption = request_redemption(agent.id, rewards[0].id, now=now)
            if n >= 1:
                approve_redemption(redemption.id, actor_id=trainer.id, now=now)
            if n == 2:
                fulfil_redemption(redemption.id, actor_id=trainer.id, now=now)
            done["redemptions"] += 1
    # (the QA imports' critical fails are on the ladder already: these are the team lead's)
    if not db.session.scalar(select(Violation.id).where(~Violation.evidence.like("QA %"))
                             .limit(1)):
        lead = db.session.scalar(select(User).where(User.employee_number == "1100"))
        agent = db.session.scalar(select(User).where(User.employee_number == "1108"))
        for days_ago, rule, evidence in (
                (40, "forbidden_phrase", "通话录音 2026-0917-118：对客户说“这个我们没有办法”。"),
                (6, "disclosure_without_verification",
                 "Call 1108-22: read out the account balance before verifying the caller.")):
            record_violation(agent.id, sop_rule=rule, evidence=evidence,
                             occurred_on=today - timedelta(days=days_ago), actor_id=lead.id,
                             now=now)
            done["violations"] += 1
    if not db.session.scalar(select(BadgeAward.id).where(BadgeAward.granted_by_id.is_not(None))
                             .limit(1)):
        smile = db.session.scalar(select(BadgeClass).where(BadgeClass.code == "smile_star"))
        lead = db.session.scalar(select(User).where(User.employee_number == "2100"))
        agent = db.session.scalar(select(User).where(User.employee_number == "2105"))
        if smile and lead and agent:
            grant_badge(smile.id, agent.id, lead.id, "来电客户专门表扬她的笑声和耐心。", now,
                        token="demo-smile")
            done["badges"] += 1
    last_month = previous_period(period_of_date(today))
    if not db.session.scalar(select(ServiceStarNomination.id).where(
            ServiceStarNomination.period == last_month)):
        nominations = propose_service_stars(last_month, now=now, count=3, actor_id=trainer.id)
        for nomination in nominations[:2]:
            confirm_nomination(nomination.id, trainer.id, now)
            done["stars"] += 1
    return done


def close_past_months(today: date, now: datetime) -> int:
    """Close the history's months whose grace is over: their boards are stored and their
    Service Stars proposed (last month's are confirmed by `load_rewards_and_honours`)."""
    closed = 0
    period = previous_period(period_of_date(today))
    for _ in range(MONTHS - 1):
        if month_status(period, today) == "ready":
            close_month(period, actor_id=None, now=now)
            closed += 1
        period = previous_period(period)
    return closed
