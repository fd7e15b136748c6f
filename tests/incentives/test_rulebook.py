"""Changing a rule: versions, preview, replay in open months only, manual awards untouched."""
from datetime import datetime, timezone

import pytest
from sqlalchemy import select

from app.audit.models import AuditEvent
from app.incentives.ledger import verify_rollups
from app.incentives.models import ClosedPeriod, PointEntry, PointRollup, Rule, RuleVersion
from app.incentives.rulebook import RuleChangeError, change_rule, preview_rule_change
from app.incentives.rules import Blade, RuleTerms
from app.incentives.services import Award, award


def _quiz_rule(db):
    return db.session.scalar(select(Rule).where(Rule.event == "quiz.passed"))


def test_a_change_makes_a_version_and_past_entries_keep_their_value(db, defaults, make_user,
                                                                    now):
    agent = make_user("agent")
    entry = award(Award("quiz.passed", agent.id, "q1", "quiz_attempt", attempt=1), now=now).entry
    rule = _quiz_rule(db)
    change_rule(rule.id, terms=RuleTerms(points=40, blade=Blade.GROWTH), name_en=rule.name_en,
                name_zh=rule.name_zh, actor_id=None, now=now, comment="double it")
    assert rule.version == 2 and entry.points == 20
    versions = db.session.scalars(select(RuleVersion).where(RuleVersion.rule_id == rule.id)
                                  .order_by(RuleVersion.version)).all()
    assert [v.terms["points"] for v in versions] == [20, 40]
    later = award(Award("quiz.passed", agent.id, "q2", "quiz_attempt", attempt=1), now=now).entry
    assert later.points == 40 and later.rule_version == 2
    assert db.session.scalar(select(AuditEvent).where(AuditEvent.action == "rule.change"))


def test_preview_and_replay_touch_open_months_only(db, defaults, make_user, now):
    agent = make_user("agent")
    february = datetime(2026, 2, 10, 3, 0, tzinfo=timezone.utc)
    award(Award("quiz.passed", agent.id, "feb", "quiz_attempt", attempt=1, occurred_at=february),
          now=february)
    award(Award("quiz.passed", agent.id, "mar", "quiz_attempt", attempt=2), now=now)  # 10
    db.session.add(ClosedPeriod(period="2026-02", closed_at=now))
    db.session.flush()
    rule = _quiz_rule(db)
    terms = RuleTerms(points=30, blade=Blade.GROWTH, params={"diminishing": [100, 50, 25]})
    [line] = preview_rule_change(rule.id, terms)
    assert (line.period, line.old_points, line.new_points) == ("2026-03", 10, 15)
    _rule, lines = change_rule(rule.id, terms=terms, name_en=rule.name_en, name_zh=rule.name_zh,
                               actor_id=None, now=now, replay=True)
    assert len(lines) == 1
    march = db.session.get(PointRollup, (agent.id, "2026-03", "growth"))
    february_rollup = db.session.get(PointRollup, (agent.id, "2026-02", "growth"))
    assert march.points == 15 and february_rollup.points == 20
    assert verify_rollups() == []
    replaced = db.session.scalar(select(PointEntry).where(
        PointEntry.idempotency_key == "replay:2:v2"))
    assert replaced.points == 15 and replaced.rule_version == 2


def test_replay_leaves_manual_awards_alone(db, defaults, make_user, now):
    agent = make_user("agent")
    award(Award("manual.recognition", agent.id, "m", "manual", points=40), now=now)
    rule = db.session.scalar(select(Rule).where(Rule.event == "manual.recognition"))
    assert preview_rule_change(rule.id, RuleTerms(points=5, blade=Blade.RECOGNITION,
                                                  params={"max_points": 10})) == []


def test_switching_a_rule_off_and_replaying_takes_its_points_back(db, defaults, make_user, now):
    agent = make_user("agent")
    award(Award("quiz.passed", agent.id, "q", "quiz_attempt", attempt=1), now=now)
    rule = _quiz_rule(db)
    change_rule(rule.id, terms=RuleTerms(points=20, blade=Blade.GROWTH, is_active=False),
                name_en=rule.name_en, name_zh=rule.name_zh, actor_id=None, now=now,
                replay=True)
    assert db.session.get(PointRollup, (agent.id, "2026-03", "growth")).points == 0


def test_impossible_terms_are_refused(db, defaults, now):
    rule = db.session.scalar(select(Rule).where(Rule.event == "quiz.passed"))
    with pytest.raises(RuleChangeError):
        change_rule(rule.id, terms=RuleTerms(points=-5, blade=Blade.GROWTH), name_en="x",
                    name_zh="x", actor_id=None, now=now)
