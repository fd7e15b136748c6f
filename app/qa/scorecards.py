"""Scorecards: the ready defaults for phone and chat, built on the service standard, and
saving a scorecard's criteria as a new version."""
from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import select

from app.audit.services import record_audit
from app.database import db
from app.errors import DomainError
from app.i18n import N_
from app.incentives.violations import SOP_RULES_BY_CODE
from app.qa.models import CHANNELS, Criterion, Scorecard, ScorecardVersion


class ScorecardError(DomainError):
    """A scorecard that cannot be saved as asked."""


@dataclass(frozen=True)
class CriterionSpec:
    code: str
    section_en: str
    section_zh: str
    name_en: str
    name_zh: str
    weight: float
    is_critical: bool = False
    allows_na: bool = False
    category: str = "other"


OPENING = ("Opening", "开场")
COURTESY = ("Courtesy and attitude", "礼貌与态度")
COMPLIANCE = ("Compliance", "合规")
HANDLING = ("Handling", "问题处理")
CLOSING = ("Wrap-up", "结束与记录")


def _c(code, section, name_en, name_zh, weight, *, critical=False, na=False, category="other"):
    return CriterionSpec(code, section[0], section[1], name_en, name_zh, weight, critical, na,
                         category)


# the service standard of domain.md §6, criterion by criterion; weights add up to 100
PHONE_CRITERIA = [
    _c("answer_three_rings", OPENING, "Answered within three rings", "三声铃响内接听", 5,
       category="not_answered_within_three_rings"),
    _c("greeting", OPENING, "Greeting with the company name and employee number",
       "问候并报公司名称和工号", 10, category="greeting_without_employee_number"),
    _c("courtesy_words", COURTESY, "Courtesy words: hello, please, thank you, sorry, goodbye",
       "使用礼貌用语：您好、请、谢谢、对不起、再见", 10, category="other"),
    _c("no_forbidden_phrases", COURTESY, "No forbidden phrases (flat negatives, blame)",
       "未使用服务禁语（生硬否定、指责）", 10, critical=True, category="forbidden_phrase"),
    _c("listening", COURTESY, "Listened without interrupting; no shirking or brushing off",
       "耐心倾听不打断，不推诿、不敷衍", 10, category="interrupting_customer"),
    _c("verification", COMPLIANCE, "Identity verified before any account detail was disclosed",
       "披露账户信息前已核实身份", 15, critical=True,
       category="disclosure_without_verification"),
    _c("wait_apology", COMPLIANCE, "A wait of more than three minutes: apologised and explained",
       "等待超过三分钟时致歉并说明", 5, na=True, category="no_apology_after_long_wait"),
    _c("empathy", HANDLING, "Angry customer: calm, listen, empathise, apologise, solve, "
       "follow up", "客户情绪激动时：冷静、倾听、共情、致歉、解决、跟进", 10, na=True,
       category="no_empathy_with_angry_customer"),
    _c("accurate_answer", HANDLING, "Accurate and complete answer", "答复准确完整", 15,
       category="shirking_responsibility"),
    _c("ticket_recorded", CLOSING, "The contact was recorded in a ticket", "按要求记录工单", 5,
       category="ticket_not_recorded"),
    _c("closing", CLOSING, "Closing: anything else, thanks, goodbye; the customer hangs up "
       "first", "结束语：询问是否还有其他需要、致谢、道别，待客户先挂机", 5,
       category="improper_closing"),
]

CHAT_CRITERIA = [
    _c("first_reply", OPENING, "First reply within 30 seconds", "30 秒内首次回复", 5,
       category="not_answered_within_three_rings"),
    _c("greeting", OPENING, "Greeting with the company name and employee number",
       "问候并报公司名称和工号", 10, category="greeting_without_employee_number"),
    _c("courtesy_words", COURTESY, "Courtesy words: hello, please, thank you, sorry, goodbye",
       "使用礼貌用语：您好、请、谢谢、对不起、再见", 10, category="other"),
    _c("no_forbidden_phrases", COURTESY, "No forbidden phrases (flat negatives, blame)",
       "未使用服务禁语（生硬否定、指责）", 10, critical=True, category="forbidden_phrase"),
    _c("no_brush_off", COURTESY, "No shirking, brushing off or canned replies that miss the "
       "question", "不推诿、不敷衍，不答非所问", 10, category="shirking_responsibility"),
    _c("verification", COMPLIANCE, "Identity verified before any account detail was disclosed",
       "披露账户信息前已核实身份", 15, critical=True,
       category="disclosure_without_verification"),
    _c("wait_apology", COMPLIANCE, "A wait of more than three minutes: apologised and explained",
       "等待超过三分钟时致歉并说明", 5, na=True, category="no_apology_after_long_wait"),
    _c("empathy", HANDLING, "Angry customer: calm, listen, empathise, apologise, solve, "
       "follow up", "客户情绪激动时：冷静、倾听、共情、致歉、解决、跟进", 10, na=True,
       category="no_empathy_with_angry_customer"),
    _c("accurate_answer", HANDLING, "Accurate and complete answer", "答复准确完整", 15,
       category="other"),
    _c("ticket_recorded", CLOSING, "The contact was recorded in a ticket", "按要求记录工单", 5,
       category="ticket_not_recorded"),
    _c("closing", CLOSING, "Closing: anything else, thanks, goodbye", "结束语：询问是否还有其他"
       "需要、致谢、道别", 5, category="improper_closing"),
]

DEFAULT_SCORECARDS = [
    ("phone-standard", "Phone service standard", "电话服务质检评分表", "phone", PHONE_CRITERIA),
    ("chat-standard", "Chat service standard", "在线客服质检评分表", "chat", CHAT_CRITERIA),
]


def install_default_scorecards(*, now: datetime) -> int:
    """Add the default scorecards that are missing; never changes a centre's edits."""
    added = 0
    for code, name_en, name_zh, channel, criteria in DEFAULT_SCORECARDS:
        if db.session.scalar(select(Scorecard.id).where(Scorecard.code == code)) is None:
            save_scorecard(None, code=code, name_en=name_en, name_zh=name_zh,
                           channel=channel, criteria=criteria, actor_id=None, now=now,
                           note="Default")
            added += 1
    return added


def _check(code: str, name_en: str, name_zh: str, channel: str,
           criteria: list[CriterionSpec]) -> None:
    if not code.strip() or not name_en.strip() or not name_zh.strip():
        raise ScorecardError(N_("A scorecard needs a code and a name in both languages."))
    if channel not in CHANNELS:
        raise ScorecardError(N_("Choose the channel the scorecard is for."))
    if not criteria:
        raise ScorecardError(N_("A scorecard needs at least one criterion."))
    seen = set()
    for criterion in criteria:
        if not criterion.code.strip() or not criterion.name_en.strip() \
                or not criterion.name_zh.strip():
            raise ScorecardError(N_("Every criterion needs a code and a name in both "
                                    "languages."))
        if criterion.code in seen:
            raise ScorecardError(N_("Criterion code %(code)s is used twice."),
                                 code=criterion.code)
        seen.add(criterion.code)
        if not criterion.weight or criterion.weight <= 0 or criterion.weight > 100:
            raise ScorecardError(N_("The weight of %(code)s must lie between 0 and 100."),
                                 code=criterion.code)
        if criterion.category not in SOP_RULES_BY_CODE:
            raise ScorecardError(N_("Choose the rule of the service standard that %(code)s "
                                    "checks."), code=criterion.code)
    if all(c.allows_na for c in criteria):
        raise ScorecardError(N_("At least one criterion must always apply (not N/A)."))


def save_scorecard(scorecard_id: int | None, *, code: str, name_en: str, name_zh: str,
                   channel: str, criteria: list[CriterionSpec], actor_id: int | None,
                   now: datetime, note: str = "") -> ScorecardVersion:
    """Create a scorecard, or give an existing one a new version with these criteria.
    Evaluations scored with an earlier version keep it."""
    code = code.strip()
    _check(code, name_en, name_zh, channel, criteria)
    clash = db.session.scalar(select(Scorecard.id).where(Scorecard.code == code))
    if clash is not None and clash != scorecard_id:
        raise ScorecardError(N_("Another scorecard already has the code %(code)s."), code=code)
    if scorecard_id is None:
        scorecard = Scorecard(code=code, name_en=name_en.strip(), name_zh=name_zh.strip(),
                              channel=channel, is_active=True, current_version=1,
                              created_at=now)
        db.session.add(scorecard)
        db.session.flush()
        number = 1
    else:
        scorecard = db.session.get(Scorecard, scorecard_id)
        if scorecard is None:
            raise ScorecardError(N_("No such scorecard."))
        scorecard.code, scorecard.channel = code, channel
        scorecard.name_en, scorecard.name_zh = name_en.strip(), name_zh.strip()
        number = scorecard.current_version + 1
        scorecard.current_version = number
    version = ScorecardVersion(scorecard_id=scorecard.id, version=number, created_at=now,
                               created_by_id=actor_id, note=note[:200])
    db.session.add(version)
    db.session.flush()
    for position, spec in enumerate(criteria, start=1):
        db.session.add(Criterion(
            scorecard_version_id=version.id, position=position, code=spec.code.strip(),
            section_en=spec.section_en.strip(), section_zh=spec.section_zh.strip(),
            name_en=spec.name_en.strip(), name_zh=spec.name_zh.strip(),
            weight=float(spec.weight), is_critical=bool(spec.is_critical),
            allows_na=bool(spec.allows_na), category=spec.category))
    db.session.flush()
    if actor_id is not None:
        record_audit("qa.scorecard_saved", actor_id=actor_id, now=now,
                     target_type="scorecard", target_id=scorecard.id,
                     details={"code": code, "version": number, "criteria": len(criteria)})
    return version


def current_version(scorecard: Scorecard) -> ScorecardVersion:
    return db.session.scalar(select(ScorecardVersion).where(
        ScorecardVersion.scorecard_id == scorecard.id,
        ScorecardVersion.version == scorecard.current_version))


def specs_of(version: ScorecardVersion) -> list[CriterionSpec]:
    return [CriterionSpec(c.code, c.section_en, c.section_zh, c.name_en, c.name_zh, c.weight,
                          c.is_critical, c.allows_na, c.category) for c in version.criteria]
