"""The demo centre's QA: six months of evaluations imported from a call-review tool's exports
(phone item by item with Chinese headers, chat as totals with English headers), through the
same import as a QA analyst's upload; past months confirmed after their dispute window, one
amended dispute, an open dispute waiting for the team lead, critical fails with their
remediation, and this month's evaluations still in their window."""
from __future__ import annotations

import csv
import io
import random
from datetime import date, datetime, time, timedelta, timezone

from sqlalchemy import func, select

from app.auth.models import User
from app.auth.roles import Role
from app.centre.periods import (
    centre_tz,
    month_first_day,
    month_last_day,
    period_of_date,
    previous_period,
)
from app.database import db
from app.qa import importers, services
from app.qa.models import Evaluation, QaImport
from app.qa.scorecards import PHONE_CRITERIA, install_default_scorecards

MONTHS = 6
SOURCE = "demo-callreview"
ANALYST = "7001"
EVALUATORS = ["质检员 周敏", "QA Grace Lin"]

REMEDIATION = [
    ("forbidden_phrase", "scenario", "S07", "情景实训：服务禁语与争执引发媒体投诉"),
    ("disclosure_without_verification", "scenario", "S05",
     "情景实训：未核实身份泄露账户信息"),
    ("shirking_responsibility", "scenario", "S08", "情景实训：“不是我们部门”——推诿转接"),
    ("no_empathy_with_angry_customer", "lesson", "L-EMPATHY", "微课：愤怒客户六步安抚法"),
    ("other", "lesson", "L-SOP", "微课：服务规范复习"),
]


def _local(day: date, hour: int, minute: int) -> datetime:
    return datetime.combine(day, time(hour, minute), tzinfo=centre_tz()).astimezone(timezone.utc)


def _item_results(rng: random.Random, skill: float, critical_fail: str | None) -> list[tuple]:
    """(criterion code, result) for every phone criterion."""
    results = []
    for c in PHONE_CRITERIA:
        if c.code == critical_fail:
            results.append((c.code, "fail"))
        elif c.allows_na and rng.random() < 0.6:
            results.append((c.code, "N/A"))
        elif c.is_critical:
            results.append((c.code, "pass"))
        elif rng.random() < 0.75 + 0.2 * skill:
            results.append((c.code, f"{c.weight:g}"))
        else:
            results.append((c.code, f"{max(0, c.weight - rng.choice([2, 3, 5])):g}"))
    return results


def _csv(header: list[str], rows: list[list]) -> bytes:
    out = io.StringIO()
    writer = csv.writer(out)
    writer.writerow(header)
    writer.writerows(rows)
    return out.getvalue().encode("utf-8-sig")


def _files(agents: list[User], period: str, until: datetime, rng: random.Random,
           critical: dict[str, str]) -> tuple[bytes, bytes]:
    """The month's phone export (item level, Chinese headers) and chat export (totals,
    English headers) with evaluations up to `until`."""
    tz = centre_tz()
    first, last = month_first_day(period), month_last_day(period)
    last = min(last, until.astimezone(tz).date())
    phone, chat = [], []
    for agent in agents:
        hired = max(agent.hire_date, first)
        if hired > last:
            continue
        skill = (int(agent.employee_number) * 37 % 100) / 100
        days = [hired + timedelta(days=n) for n in range((last - hired).days + 1)]
        days = [d for d in days if d.weekday() < 6] or [hired]
        for n in range(rng.randint(2, 4)):
            day = rng.choice(days)
            moment = _local(day, rng.randint(9, 17), rng.randint(0, 59))
            if moment >= until:
                continue
            key = f"{period.replace('-', '')}-{agent.employee_number}-{n}"
            stamp = moment.astimezone(tz).strftime("%Y-%m-%d %H:%M")
            evaluator = rng.choice(EVALUATORS)
            if n < 2:
                fail = critical.get(f"{agent.employee_number}:{n}")
                for code, result in _item_results(rng, skill, fail):
                    phone.append([f"P-{key}", agent.employee_number, stamp, "phone-standard",
                                  code, result, evaluator,
                                  "开场未报工号" if code == "greeting" and result != "10" else ""])
            else:
                score = round(min(100.0, rng.gauss(82 + 14 * skill, 4)), 1)
                chat.append([f"C-{key}", agent.employee_number, stamp, "chat-standard",
                             f"{score:g}", "no", "chat", evaluator,
                             "回复及时，结束语规范。" if score >= 90 else "答复不够完整。"])
    phone_file = _csv(["质检编号", "工号", "质检日期", "评分表", "评分项", "结果", "质检员",
                       "备注"], phone)
    chat_file = _csv(["evaluation_id", "agent_id", "evaluated_at", "scorecard", "score",
                      "critical_fail", "channel", "evaluator", "comment"], chat)
    return phone_file, chat_file


def _import(data: bytes, filename: str, analyst: User, at: datetime) -> QaImport | None:
    if data.count(b"\n") < 2:  # early in the month the export may hold no evaluations yet
        return None
    plan = importers.plan_import(data, filename, source=SOURCE, now=at)
    if plan.errors:
        raise RuntimeError(f"demo QA file {filename}: {plan.errors[:3]}")
    if not plan.new:
        return None
    return importers.apply_import(plan, filename=filename, actor_id=analyst.id, now=at)


def load_qa(today: date, now: datetime, progress) -> dict:
    """Scorecards, the remediation mapping and six months of imports. Runs once: a centre
    that already has QA imports is left alone."""
    created = {"scorecards": install_default_scorecards(now=now), "qa_imports": 0,
               "qa_evaluations": 0, "disputes": 0}
    if db.session.scalar(select(func.count(QaImport.id))):
        return created
    analyst = db.session.scalar(select(User).where(User.employee_number == ANALYST))
    trainer = db.session.scalar(select(User).where(User.employee_number == "8001"))
    if analyst is None or trainer is None:
        return created
    for category, kind, code, title in REMEDIATION:
        services.save_remediation_rule(category, item_kind=kind, item_code=code, title=title,
                                       due_days=7, actor_id=trainer.id, now=now)
    agents = list(db.session.scalars(
        select(User).where(User.is_active.is_(True),
                           User.role_links.any(role=Role.AGENT.value))
        .order_by(User.employee_number)))
    rng = random.Random(7001)
    periods = [period_of_date(today)]
    for _ in range(MONTHS - 1):
        periods.append(previous_period(periods[-1]))
    periods.reverse()
    # critical fails per month: "employee number:evaluation number" → the criterion failed
    critical = {periods[-3]: {f"{agents[5].employee_number}:0": "no_forbidden_phrases"},
                periods[-1]: {f"{agents[9].employee_number}:1": "verification"}}
    for period in periods:
        current = period == periods[-1]
        at = now - timedelta(days=1) if current else _local(month_last_day(period), 18, 0)
        if current and at.astimezone(centre_tz()).date() < month_first_day(period):
            at = now - timedelta(minutes=30)
        phone, chat = _files(agents, period, at, rng, critical.get(period, {}))
        for data, name in ((phone, f"质检导出-电话-{period}.csv"),
                           (chat, f"qa-export-chat-{period}.csv")):
            done = _import(data, name, analyst, at)
            if done is not None:
                created["qa_imports"] += 1
                created["qa_evaluations"] += done.new
        if period == periods[-2]:
            created["disputes"] += _amended_dispute(agents, period, at)
        if not current:
            services.confirm_due(now=min(at + timedelta(days=6), now))
        progress(1)
    created["disputes"] += _open_dispute(agents, now)
    return created


def _amended_dispute(agents: list[User], period: str, imported_at: datetime) -> int:
    """Last month an agent disputed an evaluation and QA amended the score."""
    evaluation = db.session.scalar(
        select(Evaluation).where(Evaluation.user_id.in_([a.id for a in agents[2:12]]),
                                 Evaluation.external_id.like(f"%-{period.replace('-', '')}-%"),
                                 Evaluation.score < 92, Evaluation.is_critical_fail.is_(False))
        .order_by(Evaluation.id))
    if evaluation is None:
        return 0
    agent = evaluation.user
    dispute = services.raise_dispute(
        evaluation.id,
        reason="录音 02:15 处可以听到，我已按流程核实过客户身份，并完整答复了问题。",
        actor_id=agent.id, now=imported_at + timedelta(hours=2))
    analyst = db.session.scalar(select(User).where(User.employee_number == ANALYST))
    services.resolve_dispute(
        dispute.id, decision="amend", score=min(100.0, evaluation.score + 6),
        note="复听录音后确认身份核实已完成，予以加分更正。", actor_id=analyst.id,
        now=imported_at + timedelta(days=1))
    return 1


def _open_dispute(agents: list[User], now: datetime) -> int:
    """This month an agent disputes a pending evaluation: it waits for the team lead."""
    agent = agents[1]
    evaluation = db.session.scalar(
        select(Evaluation).where(Evaluation.user_id == agent.id,
                                 Evaluation.status == "pending")
        .order_by(Evaluation.evaluated_at.desc()))
    if evaluation is None:
        return 0
    services.raise_dispute(
        evaluation.id, reason="The customer hung up before I could close; the closing "
        "criterion should be N/A.", actor_id=agent.id, now=now - timedelta(hours=2))
    return 1

