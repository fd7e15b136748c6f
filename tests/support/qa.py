"""Building QA evaluations for tests without a file: a scorecard and rows as an import would
hand them over."""
from __future__ import annotations

from datetime import datetime

from app.database import db
from app.qa import rules, scorecards, services
from app.qa.models import QaImport


def phone_scorecard(now: datetime):
    """The default phone scorecard's version (installed when missing)."""
    scorecards.install_default_scorecards(now=now)
    from sqlalchemy import select

    from app.qa.models import Scorecard
    card = db.session.scalar(select(Scorecard).where(Scorecard.code == "phone-standard"))
    return scorecards.current_version(card)


def qa_import(analyst_id: int, now: datetime) -> QaImport:
    done = QaImport(source="test", filename="test.csv", sha256="0" * 64, layout="summary",
                    rows=0, new=0, unchanged=0, changed=0, imported_by_id=analyst_id,
                    imported_at=now)
    db.session.add(done)
    db.session.flush()
    return done


def evaluate(version, agent_id: int, external_id: str, *, now: datetime, analyst_id: int,
             results: dict[str, str] | None = None, evaluated_at: datetime | None = None,
             score: float | None = None) -> int:
    """Record one evaluation; `results` maps criterion codes to "pass", "fail", "N/A" or
    points (the others pass). Returns its id."""
    criteria = {c.code: c for c in version.criteria}
    terms = [rules.CriterionTerms(c.code, c.weight, c.is_critical, c.allows_na)
             for c in version.criteria]
    given = {}
    for code, value in (results or {}).items():
        if value == "N/A":
            given[code] = rules.ItemResult(code, is_na=True)
        elif value in ("pass", "fail"):
            given[code] = rules.ItemResult(code, passed=value == "pass")
        else:
            given[code] = rules.ItemResult(code, points=float(value))
    computed, critical = rules.score_of(terms, given)
    items = []
    for term in terms:
        points, passed = rules.item_points(term, given.get(term.code,
                                                           rules.ItemResult(term.code,
                                                                            passed=True)))
        items.append(services.ItemRow(criteria[term.code].id, points, passed))
    failed = tuple(criteria[code].category for code, r in given.items()
                   if criteria[code].is_critical and r.passed is False)
    final = computed if score is None else score
    row = services.EvaluationRow(
        external_id=external_id, user_id=agent_id, scorecard_version_id=version.id,
        evaluated_at=evaluated_at or now, channel="phone", evaluator="QA Test",
        score=final, is_critical_fail=critical, comment="",
        fingerprint=rules.fingerprint(final, critical, [(t.code, None) for t in terms]),
        items=items, failed_categories=failed)
    done = qa_import(analyst_id, now)
    [evaluation_id] = services.record_evaluations([row], source="test", import_id=done.id,
                                                  actor_id=analyst_id, now=now)
    return evaluation_id
