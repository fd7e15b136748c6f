"""The ship-ready defaults: the rules of the eight blades, the level ladder and the badges.

`install_defaults` adds whatever is missing and never changes what a centre has edited.
"""
from __future__ import annotations

from datetime import datetime

from sqlalchemy import select

from app.database import db
from app.incentives.models import BadgeClass, Level, Rule, RuleVersion
from app.incentives.rules import Blade, Event

# event, English name, Chinese name, blade, points, daily cap, monthly cap, params
DEFAULT_RULES = [
    (Event.QUIZ_PASSED, "Quiz passed", "测验通过", Blade.GROWTH, 20, None, None,
     {"diminishing": [100, 50, 25]}),
    (Event.PATH_COMPLETED, "Learning path completed", "完成学习路径", Blade.GROWTH, 100, None,
     None, {}),
    (Event.SCENARIO_STAGE_COMPLETED, "Scenario stage completed", "场景实训阶段完成",
     Blade.GROWTH, 15, None, None, {}),
    (Event.SIGN_OFF_GIVEN, "Sign-off given to an apprentice", "为徒弟签核实训",
     Blade.PARTICIPATION, 10, None, 20, {}),
    (Event.SIGN_OFF_RECEIVED, "Practice signed off by the mentor", "实训获师傅签核",
     Blade.GROWTH, 20, None, None, {}),
    (Event.QA_EVALUATION, "QA evaluation in a score band", "质检评分达标", Blade.GOAL, 10, None,
     None, {"bands": [[95, 20], [90, 10], [80, 5]]}),
    (Event.CUSTOMER_PRAISE, "Verified customer praise", "客户表扬（已核实）", Blade.RECOGNITION,
     30, None, None, {}),
    (Event.MYSTERY_SHOPPER, "Mystery-shopper score", "神秘顾客评分", Blade.GOAL, 1, None, 2,
     {"per_point_above": [80, 1]}),
    (Event.SERVICE_STAR, "Service Star of the month", "月度服务之星", Blade.HONOUR, 200, None, 1,
     {}),
    (Event.SERVICE_MODEL, "Service Model of the year", "年度服务标兵", Blade.HONOUR, 1000, None, 1,
     {}),
    (Event.KBI_CHECKLIST, "KBI checklist completed", "关键行为检查表完成", Blade.GOAL, 2, 1, None,
     {}),
    (Event.SUGGESTION_ADOPTED, "Improvement suggestion adopted", "改进建议被采纳",
     Blade.PARTICIPATION, 50, None, None, {}),
    (Event.APPRENTICE_PASSED, "Apprentice passed onboarding", "徒弟通过入职考核",
     Blade.PARTICIPATION, 100, None, None, {}),
    (Event.PROMOTION, "Promotion", "晋升", Blade.CAREER, 300, None, None, {}),
    (Event.BADGE_EARNED, "Badge earned", "获得徽章", Blade.HONOUR, 50, None, None,
     {"max_points": 1000}),
    (Event.MANUAL_RECOGNITION, "Recognition by the team lead", "班长表扬", Blade.RECOGNITION,
     20, None, None, {"max_points": 50}),
    (Event.MANUAL_HONOUR, "Honour by the team lead", "班长授予荣誉", Blade.HONOUR, 30, None,
     None, {"max_points": 100}),
    (Event.VIOLATION_DEDUCTION, "Bonus deduction for a violation", "违规绩效扣分",
     Blade.MATERIAL, -50, None, None, {}),
]

# points needed, English name, Chinese name
DEFAULT_LEVELS = [
    (0, "Newcomer", "服务新人"),
    (200, "Rising Star", "服务新星"),
    (600, "Skilled Agent", "服务能手"),
    (1500, "Core Agent", "服务骨干"),
    (3000, "Service Expert", "服务专家"),
    (6000, "Service Benchmark", "服务标杆"),
    (10000, "Service Master", "服务大师"),
]

DEFAULT_BADGES = [
    {"code": "qa_excellence", "name_en": "QA Excellence", "name_zh": "质检优秀",
     "description_en": "Ten QA evaluations of 95 or more in one month.",
     "description_zh": "一个月内十次质检评分达到 95 分及以上。",
     "image": "qa_excellence.png", "blade": Blade.HONOUR, "kind": "automatic",
     "criteria": {"event": Event.QA_EVALUATION.value, "min_score": 95, "count": 10,
                  "window": "month"}, "points": 50},
    {"code": "praised_five", "name_en": "Customers' Favourite", "name_zh": "客户之选",
     "description_en": "Five verified customer praises in one month.",
     "description_zh": "一个月内获得五次经核实的客户表扬。",
     "image": "praised_five.png", "blade": Blade.RECOGNITION, "kind": "automatic",
     "criteria": {"event": Event.CUSTOMER_PRAISE.value, "count": 5, "window": "month"},
     "points": 50},
    {"code": "first_sign_off", "name_en": "First Sign-off", "name_zh": "首次签核",
     "description_en": "A mentor signed off your practice for the first time.",
     "description_zh": "第一次获得师傅的实训签核。",
     "image": "first_sign_off.png", "blade": Blade.GROWTH, "kind": "automatic",
     "criteria": {"event": Event.SIGN_OFF_RECEIVED.value, "count": 1, "window": "ever"},
     "points": 10},
    {"code": "onboarding_graduate", "name_en": "Onboarding Graduate", "name_zh": "入职结业",
     "description_en": "Completed a learning path: every lesson, quiz and practice in it.",
     "description_zh": "完成一条学习路径中的全部微课、测验和实训。",
     "image": "onboarding_graduate.png", "blade": Blade.GROWTH, "kind": "automatic",
     "criteria": {"event": Event.PATH_COMPLETED.value, "count": 1, "window": "ever"},
     "points": 50},
    {"code": "smile_star", "name_en": "Smile Star", "name_zh": "微笑之星",
     "description_en": "Warm, smiling service that customers notice.",
     "description_zh": "服务热情、面带微笑，令客户印象深刻。",
     "image": "smile_star.png", "blade": Blade.HONOUR, "kind": "manual",
     "granter_roles": ["team_lead", "trainer"], "monthly_cap_per_granter": 2, "points": 30},
    {"code": "patience_award", "name_en": "Patience Award", "name_zh": "最佳耐心奖",
     "description_en": "Calm and patient with a difficult customer.",
     "description_zh": "面对难缠的客户依然冷静、耐心。",
     "image": "patience_award.png", "blade": Blade.HONOUR, "kind": "manual",
     "granter_roles": ["team_lead", "trainer"], "monthly_cap_per_granter": 2, "points": 30},
]


def install_defaults(*, now: datetime) -> dict[str, int]:
    """Add the default rules, levels and badges that are missing. Returns what was added."""
    added = {"rules": 0, "levels": 0, "badges": 0}
    have_rules = set(db.session.scalars(select(Rule.event)))
    for event, name_en, name_zh, blade, points, daily, monthly, params in DEFAULT_RULES:
        if event.value in have_rules:
            continue
        rule = Rule(event=event.value, name_en=name_en, name_zh=name_zh, blade=blade.value,
                    points=points, is_active=True, daily_cap=daily, monthly_cap=monthly,
                    params=params, version=1, updated_at=now)
        db.session.add(rule)
        db.session.flush()
        db.session.add(RuleVersion(rule_id=rule.id, version=1, changed_at=now,
                                   terms=rule_terms_json(rule), comment="default"))
        added["rules"] += 1
    have_levels = set(db.session.scalars(select(Level.min_points)))
    for min_points, name_en, name_zh in DEFAULT_LEVELS:
        if min_points not in have_levels:
            db.session.add(Level(min_points=min_points, name_en=name_en, name_zh=name_zh))
            added["levels"] += 1
    have_badges = set(db.session.scalars(select(BadgeClass.code)))
    for spec in DEFAULT_BADGES:
        if spec["code"] not in have_badges:
            db.session.add(BadgeClass(**{**spec, "blade": spec["blade"].value}))
            added["badges"] += 1
    db.session.flush()
    return added


def rule_terms_json(rule: Rule) -> dict:
    return {"points": rule.points, "blade": rule.blade, "is_active": rule.is_active,
            "daily_cap": rule.daily_cap, "monthly_cap": rule.monthly_cap,
            "params": dict(rule.params or {}), "name_en": rule.name_en, "name_zh": rule.name_zh}
