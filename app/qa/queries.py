"""QA's read side: evaluations of a person, the dispute queue, the QA desk's overview and a
team's trend — average score and critical-fail rate by week or month, per agent and per
criterion, and the criteria most often failed."""
from __future__ import annotations

from collections import defaultdict
from datetime import datetime, timedelta

from sqlalchemy import case, func, select

from app.auth.models import Team, User
from app.auth.queries import led_team_ids
from app.auth.roles import Permission
from app.centre.periods import centre_tz
from app.database import db
from app.qa import rules
from app.qa.models import (
    ColumnMapping,
    Criterion,
    Dispute,
    Evaluation,
    EvaluationItem,
    QaImport,
    RemediationRule,
    Scorecard,
)


def list_scorecards() -> list[Scorecard]:
    return list(db.session.scalars(select(Scorecard).order_by(Scorecard.code)))


def evaluations_of(user_id: int):
    """A select of a person's evaluations, newest first (for pagination)."""
    return (select(Evaluation).where(Evaluation.user_id == user_id)
            .order_by(Evaluation.evaluated_at.desc(), Evaluation.id.desc()))


def evaluations_of_import(import_id: int):
    return (select(Evaluation).where(Evaluation.import_id == import_id)
            .order_by(Evaluation.id))


def summary_of(user_id: int, since: datetime) -> dict:
    """A person's evaluations since a moment: how many, the average score, critical fails."""
    count, average, critical = db.session.execute(
        select(func.count(Evaluation.id), func.avg(Evaluation.score),
               func.sum(case((Evaluation.is_critical_fail, 1), else_=0)))
        .where(Evaluation.user_id == user_id, Evaluation.evaluated_at >= since)).one()
    return {"count": count or 0, "average": float(average) if average is not None else None,
            "critical": int(critical or 0)}


def open_disputes_for(user: User) -> list[Dispute]:
    """The open disputes this person may resolve: all for QA, those of their teams for a
    team lead."""
    query = (select(Dispute).join(Evaluation).join(User, User.id == Evaluation.user_id)
             .where(Dispute.status == "open", Evaluation.user_id != user.id)
             .order_by(Dispute.raised_at))
    if not user.can(Permission.USE_QA):
        query = query.where(User.team_id.in_(led_team_ids(user.id)))
    return list(db.session.scalars(query))


def recent_disputes_for(user: User, limit: int = 10) -> list[Dispute]:
    query = (select(Dispute).join(Evaluation).join(User, User.id == Evaluation.user_id)
             .where(Dispute.status != "open").order_by(Dispute.resolved_at.desc()).limit(limit))
    if not user.can(Permission.USE_QA):
        query = query.where(User.team_id.in_(led_team_ids(user.id)))
    return list(db.session.scalars(query))


def desk(now: datetime) -> dict:
    """The QA desk: recent imports, the open disputes, what waits for its window."""
    imports = list(db.session.scalars(select(QaImport).order_by(QaImport.imported_at.desc())
                                      .limit(10)))
    by_status = dict(db.session.execute(select(Evaluation.status, func.count())
                                        .group_by(Evaluation.status)).all())
    since = now - timedelta(days=30)
    average, critical, total = db.session.execute(
        select(func.avg(Evaluation.score),
               func.sum(case((Evaluation.is_critical_fail, 1), else_=0)),
               func.count(Evaluation.id)).where(Evaluation.evaluated_at >= since)).one()
    return {"imports": imports, "by_status": by_status,
            "average": float(average) if average is not None else None,
            "critical": int(critical or 0), "total": total or 0,
            "mappings": list(db.session.scalars(select(ColumnMapping)
                                                .order_by(ColumnMapping.source)))}


def remediation_rules() -> dict[str, RemediationRule]:
    return {r.category: r for r in db.session.scalars(select(RemediationRule))}


# --- a team's trend ---------------------------------------------------------------------------

def team_trend(team_ids: list[int], *, since: datetime, by: str = "week",
               user_id: int | None = None, criterion: str | None = None) -> dict:
    """The QA picture of the agents of these teams (or of one of them) since a moment.

    `series`: per week (or month) the number of evaluations, the average score and the
    critical-fail rate; `agents`: the same per agent; `criteria`: per criterion, how often it
    was scored and failed, the most failed first; `criterion_series`: per week (or month) the
    fail rate of one criterion, when one is asked for."""
    tz = centre_tz()
    scope = [User.team_id.in_(team_ids), Evaluation.evaluated_at >= since]
    if user_id is not None:
        scope.append(Evaluation.user_id == user_id)
    rows = db.session.execute(
        select(Evaluation.user_id, Evaluation.evaluated_at, Evaluation.score,
               Evaluation.is_critical_fail)
        .join(User, User.id == Evaluation.user_id).where(*scope)).all()
    buckets: dict[str, list] = defaultdict(lambda: [0, 0.0, 0])
    agents: dict[int, list] = defaultdict(lambda: [0, 0.0, 0])
    for user_id, evaluated_at, score, critical in rows:
        week, month = rules.weeks_and_months(evaluated_at.astimezone(tz).date())
        for bucket in (buckets[week if by == "week" else month], agents[user_id]):
            bucket[0] += 1
            bucket[1] += score
            bucket[2] += 1 if critical else 0
    series = [{"label": label, "count": n, "average": round(total / n, 1),
               "critical_rate": round(crit * 100 / n, 1)}
              for label, (n, total, crit) in sorted(buckets.items())]
    people = {u.id: u for u in db.session.scalars(select(User).where(User.id.in_(agents)))}
    per_agent = sorted(({"user": people[user_id], "count": n, "average": round(total / n, 1),
                         "critical": crit} for user_id, (n, total, crit) in agents.items()),
                       key=lambda a: (a["average"], a["user"].employee_number))
    criteria = db.session.execute(
        select(Criterion.code, Criterion.name_en, Criterion.name_zh, Criterion.is_critical,
               func.count(EvaluationItem.id),
               func.sum(case((EvaluationItem.is_passed.is_(False), 1), else_=0)))
        .join(EvaluationItem, EvaluationItem.criterion_id == Criterion.id)
        .join(Evaluation, Evaluation.id == EvaluationItem.evaluation_id)
        .join(User, User.id == Evaluation.user_id)
        .where(*scope, EvaluationItem.is_passed.is_not(None))
        .group_by(Criterion.code, Criterion.name_en, Criterion.name_zh, Criterion.is_critical)
    ).all()
    per_criterion = sorted(
        ({"code": code, "name_en": en, "name_zh": zh, "is_critical": critical,
          "scored": scored, "failed": int(failed or 0),
          "fail_rate": round(int(failed or 0) * 100 / scored, 1) if scored else 0.0}
         for code, en, zh, critical, scored, failed in criteria),
        key=lambda c: (-c["failed"], c["code"]))
    return {"series": series, "agents": per_agent, "criteria": per_criterion,
            "count": len(rows),
            "criterion_series": _criterion_series(scope, criterion, by) if criterion else []}


def _criterion_series(scope: list, code: str, by: str) -> list[dict]:
    """Per week (or month), how often one criterion was scored and failed."""
    tz = centre_tz()
    buckets: dict[str, list] = defaultdict(lambda: [0, 0])
    for evaluated_at, passed in db.session.execute(
            select(Evaluation.evaluated_at, EvaluationItem.is_passed)
            .join(EvaluationItem, EvaluationItem.evaluation_id == Evaluation.id)
            .join(Criterion, Criterion.id == EvaluationItem.criterion_id)
            .join(User, User.id == Evaluation.user_id)
            .where(*scope, Criterion.code == code, EvaluationItem.is_passed.is_not(None))):
        week, month = rules.weeks_and_months(evaluated_at.astimezone(tz).date())
        bucket = buckets[week if by == "week" else month]
        bucket[0] += 1
        bucket[1] += 0 if passed else 1
    return [{"label": label, "scored": n, "failed": failed,
             "fail_rate": round(failed * 100 / n, 1)}
            for label, (n, failed) in sorted(buckets.items())]


def teams_visible_to(user: User) -> list[Team]:
    """The teams whose QA trend this person may see: all for QA and managers of everyone,
    the teams they lead for a team lead."""
    query = select(Team).order_by(Team.name)
    if not user.can(Permission.VIEW_ALL_AGENTS):
        query = query.where(Team.id.in_(led_team_ids(user.id)))
    return list(db.session.scalars(query))
