"""The SOP checker of the training room: a typed reply, checked element by element.

Each check looks for plain phrase patterns in a normalised copy of the reply (NFKC, so
full-width digits and punctuation become ASCII; lower case; spaces next to Chinese characters
removed). Chinese replies are also cut into words with jieba, loaded lazily on first use, so that
a forbidden phrase hidden inside a longer word ("不可以" in "可不可以") is not reported and
"请" counts as a courtesy word only where it is one ("请问", not "申请").

Pure: no Flask, no database. Messages are English msgids marked with ``N_`` and translated
where they are shown; ``params`` fill their ``%(name)s`` placeholders.
"""
from __future__ import annotations

import logging
import re
import threading
import unicodedata
from collections.abc import Sequence
from dataclasses import dataclass, field
from functools import cached_property

from app.i18n import N_

CHECKS: tuple[str, ...] = ("greeting", "employee_number", "courtesy", "no_forbidden",
                           "angry_customer", "verify_identity", "no_disclosure", "safety_first",
                           "close")


@dataclass(frozen=True)
class ElementResult:
    code: str
    passed: bool
    message: str
    params: dict = field(default_factory=dict)


# --------------------------------------------------------------------------- normalisation

_CJK_CHARS = "\u3400-\u4dbf\u4e00-\u9fff\uf900-\ufaff"
_CJK = re.compile(f"[{_CJK_CHARS}]")
# Chinese characters and the Chinese punctuation that NFKC leaves alone (。、「」 …).
_CJK_OR_PUNCT = f"{_CJK_CHARS}\u3000-\u303f\uff00-\uffef"
_SPACE_NEXT_TO_CJK = re.compile(f"(?<=[{_CJK_OR_PUNCT}]) | (?=[{_CJK_OR_PUNCT}])")
_QUOTES = str.maketrans({"\u2018": "'", "\u2019": "'", "\u201b": "'", "\u2032": "'",
                         "\u201c": '"', "\u201d": '"', "\uff07": "'"})


def language_of(text: str) -> str:
    """``"zh"`` when the text holds Chinese (CJK) characters, else ``"en"``."""
    return "zh" if _CJK.search(text or "") else "en"


def _normalise(text: str) -> str:
    text = unicodedata.normalize("NFKC", text or "").translate(_QUOTES).lower()
    text = re.sub(r"\s+", " ", text).strip()
    return _SPACE_NEXT_TO_CJK.sub("", text)


# --------------------------------------------------------------------------- jieba, lazily

_jieba = None
_jieba_lock = threading.Lock()


def _segmenter():
    """jieba, imported and initialised on first use (importing this module stays cheap)."""
    global _jieba
    if _jieba is None:
        with _jieba_lock:
            if _jieba is None:
                import jieba

                jieba.setLogLevel(logging.WARNING)
                jieba.initialize()
                _jieba = jieba
    return _jieba


class _Reply:
    def __init__(self, text: str) -> None:
        self.text = _normalise(text)
        self.lang = language_of(self.text)

    @cached_property
    def tokens(self) -> list[tuple[str, int, int]]:
        """(word, start, end) over the normalised text; empty for a reply without Chinese."""
        if self.lang != "zh":
            return []
        return list(_segmenter().tokenize(self.text))

    def token_at(self, pos: int) -> tuple[str, int, int] | None:
        for token in self.tokens:
            if token[1] <= pos < token[2]:
                return token
        return None

    def inside_longer_word(self, start: int, end: int) -> bool:
        """True when jieba puts the span [start, end) inside one longer word."""
        token = self.token_at(start)
        return (token is not None and token[2] >= end
                and token[2] - token[1] > end - start)


def _rx(*patterns: str) -> re.Pattern[str]:
    return re.compile("|".join(f"(?:{p})" for p in patterns))


# --------------------------------------------------------------------------- greeting

_GREETING = _rx(
    r"您好(?!好)|你好(?!好)|早上好|上午好|中午好|下午好|晚上好|早安|欢迎致电|欢迎来电",
    r"\b(?:hello|hi|hey|greetings|good (?:morning|afternoon|evening|day))\b",
    r"(?<!you're )(?<!you are )\bwelcome\b",
)
_SENTENCE_END = re.compile(r"[。!?;]|\.(?!\d)")
# "Within the first sentence or so": the first sentence, or this many leading characters.
_GREETING_WINDOW = {"zh": 12, "en": 40}


def _check_greeting(reply: _Reply) -> ElementResult:
    end = _SENTENCE_END.search(reply.text)
    window = max(end.end() if end else len(reply.text), _GREETING_WINDOW[reply.lang])
    match = _GREETING.search(reply.text)
    if match and match.start() < window:
        return _ok("greeting", N_("Greeting given at the start."))
    if match:
        return _fail("greeting", N_("The greeting comes too late: open the reply with it "
                                    "(您好 / “Hello, good morning”)."))
    return _fail("greeting", N_("No greeting: open the reply with one "
                                "(您好 / “Hello, good morning”)."))


# --------------------------------------------------------------------------- employee number

_DIGITS = r"\d{2,8}(?!\d)"
_OUR_NUMBERS = (
    rf"(?:工号|员工号|员工编号|服务编号|坐席号|座席号)(?:是|为)?:?{_DIGITS}",
    r"(?<!\d)\d{2,8}号(?:客服|话务员|坐席|座席|服务代表|客服代表|客户代表|接线员|员工|专员"
    r"|为您服务)",
    rf"\b(?:employee|agent|staff|operator|badge|representative|rep)"
    rf"(?: (?:number|no\.?|id|code|#))?(?: ?(?:is\b|:|#))* ?{_DIGITS}",
)
_EMPLOYEE_NUMBER = _rx(
    *_OUR_NUMBERS,
    rf"\bid(?: (?:number|no\.?))?(?: ?(?:is\b|:|#))* ?{_DIGITS}",
)


def _check_employee_number(reply: _Reply) -> ElementResult:
    if _EMPLOYEE_NUMBER.search(reply.text):
        return _ok("employee_number", N_("Employee number given."))
    return _fail("employee_number", N_("No employee number: give it after the greeting "
                                       "(工号1234 / “employee number 1234”)."))


# --------------------------------------------------------------------------- courtesy

_COURTESY = _rx(
    r"谢谢|感谢|多谢|对不起|抱歉|不好意思|麻烦您|麻烦你|添麻烦|劳驾|辛苦您|见谅",
    r"\b(?:please|thanks?|thank you|sorry|apologi[sz]e[ds]?|apolog(?:y|ies)|appreciated?"
    r"|grateful|kindly|pardon)\b|\bexcuse me\b",
)
_QING = re.compile("请")
# Words beginning with 请 that are not a courtesy ("请假" leave, "请求" request).
_QING_NOT_COURTESY = frozenset({"请假", "请求", "请客", "请示", "请柬", "请愿", "请战", "请辞",
                                "请帖"})
# Words with 请 inside that are courtesy words.
_QING_COURTESY = frozenset({"敬请", "恳请", "烦请", "有请", "拜请"})


def _polite_qing(reply: _Reply) -> bool:
    for match in _QING.finditer(reply.text):
        token = reply.token_at(match.start())
        word = token[0] if token else "请"
        if word in _QING_COURTESY or (word.startswith("请") and word not in _QING_NOT_COURTESY):
            return True
    return False


def _check_courtesy(reply: _Reply) -> ElementResult:
    if _COURTESY.search(reply.text) or _polite_qing(reply):
        return _ok("courtesy", N_("Courtesy words used."))
    return _fail("courtesy", N_("No courtesy word: use 请 / 谢谢 / 对不起 / 麻烦您 "
                                "(“please”, “thank you”, “sorry”)."))


# --------------------------------------------------------------------------- forbidden phrases

_FORBIDDEN_ZH = [
    r"(?<!可)不可以", r"不行(?!驶)", r"(?<!有)没有?办法", r"(?:办|做|处理|解决)不了", r"办不到",
    r"不归我们?管?", r"不是我们(?:的)?部门", r"不是我们?(?:的)?(?:事|责任|业务范围)",
    r"不关我们?的事", r"不管我们?的事", r"与我们?无关",
    r"我(?:才)?不管(?!怎样|怎么|多|什么|如何|是)",
    r"(?<![您知])不知道(?!您|是否)", r"我(?:也)?不清楚",
    r"你自己(?:去|查|看|弄|想办法|找|打|处理|办)", r"自己看着办",
    r"你?听不懂(?:吗|么|啊|嘛)|你听不懂|听不明白吗|听明白没有",
    r"我(?:已经|都|刚才|早就)(?:跟你)?说过|说了(?:多少|几)遍|不是(?:跟你)?说了吗|不是告诉你了",
    r"你怎么(?!样|称呼)", r"没有?这(?:个|项|种)业务",
    r"急什么|催什么|找别人|爱找谁找谁|你问我我问谁|有完没完|烦不烦",
    r"(?<!不)怪你|(?<!不是)你的错|是你(?:自己)?的问题|谁让你|这是规定",
]
_FORBIDDEN_EN = [
    r"\bnot (?:my|our) (?:job|problem|responsibility|department|concern)\b",
    r"\bcalm down\b",
    r"\b(?:that's|that is|it's|it is|this is) (?:just )?impossible\b",
    r"\byou should(?: have|'ve)\b(?! (?:received|got|gotten|been|a|an|now|already))",
    r"\bi (?:really )?(?:don't|do not|dont) know\b|\bdunno\b",
    r"\bwe (?:can't|cannot|can not|won't) (?:do|help with) (?:that|this|anything)\b",
    r"\bnothing (?:i|we) can do\b|\b(?:i|we) (?:can't|cannot) help you\b",
    r"\bi(?:'ve| have)? already told you\b|\bi told you (?:already|before)\b|\bhow many times\b",
    r"(?<!not )(?<!n't )\byour (?:own )?fault\b",
    r"\b(?:that's|that is|it's|it is) (?:your|not our) problem\b",
    r"\b(?:figure it out|look it up|sort it out|do it) yourself\b",
    r"\b(?:call|ask|try|find) someone else\b",
    r"\bwhat's wrong with you\b|\bdon't you understand\b|\bare you (?:deaf|stupid)\b",
    r"\bwhat's the rush\b|\bwe don't (?:do|offer) that\b",
]
_FORBIDDEN = [re.compile(p) for p in _FORBIDDEN_ZH + _FORBIDDEN_EN]


def _find_forbidden(reply: _Reply) -> re.Match[str] | None:
    found = []
    for pattern in _FORBIDDEN:
        for match in pattern.finditer(reply.text):
            if _CJK.search(match.group()) and reply.inside_longer_word(*match.span()):
                continue  # e.g. "不可以" inside "可不可以", "不行" inside "行不行"
            found.append(match)
            break
    return min(found, key=lambda m: m.start()) if found else None


def _check_no_forbidden(reply: _Reply) -> ElementResult:
    match = _find_forbidden(reply)
    if match is None:
        return _ok("no_forbidden", N_("No forbidden phrases."))
    return _fail("no_forbidden",
                 N_("Forbidden phrase “%(phrase)s”: never refuse flatly, brush the customer off "
                    "or blame them; say what you can do instead."),
                 phrase=match.group())


# --------------------------------------------------------------------------- angry customer

_FOLLOW_UP_WORDS_ZH = r"跟进|回电|回访|回复|联系|致电|反馈|回"
_NOT_FOLLOW_UP_ZH = rf"(?!(?:[为帮给]您)?(?:{_FOLLOW_UP_WORDS_ZH}))"
_FOLLOW_UP_WORDS_EN = (r"follow|call you|get back|update you|contact you|keep you|be in touch"
                       r"|let you know|know|check back|reach out|ring you")
_EMPATHY = _rx(
    r"理解您|理解你|明白您|能理解|我理解|非常理解|完全理解|可以理解|换作是我|换做是我|换成是我"
    r"|感同身受|能体会|体会到|您的心情|心情我",
    r"\bi (?:completely |totally |fully |really |do )?understand\b",
    r"\bi can (?:see|imagine|understand)\b|\bi know how\b|\bi hear you\b|\bi appreciate how\b",
    r"\bthat must (?:be|have been)\b|\bi'd be (?:upset|frustrated|angry|annoyed) too\b"
    r"|\bunderstandabl[ey]\b|\bi get (?:it|that|why)\b",
)
_APOLOGY = _rx(r"抱歉|对不起|不好意思|致歉|道歉|歉意",
               r"\b(?:sorry|apologi[sz]e[ds]?|apolog(?:y|ies))\b")
_SOLUTION = _rx(
    rf"我们?(?:马上|立即|立刻|现在就|这就|会|来)(?:为|帮|给)您{_NOT_FOLLOW_UP_ZH}",
    rf"我们?(?:马上|现在就|这就|立刻){_NOT_FOLLOW_UP_ZH}",
    rf"(?:马上|立即|立刻)(?:为|帮)您{_NOT_FOLLOW_UP_ZH}|(?:立即|立刻){_NOT_FOLLOW_UP_ZH}|马上安排",
    r"(?:为|帮)您(?:安排|办理|处理|申请|登记|加急|核查|查询|恢复|解决|派)",
    rf"\b(?:i will|i'll|i am going to|i'm going to|we will|we'll|let me)\b"
    rf"(?! (?:personally )?(?:{_FOLLOW_UP_WORDS_EN}))",
    r"\b(?:right away|straight away|immediately|right now)\b",
)
_FOLLOW_UP = _rx(
    r"跟进|回电|回复您|答复您|联系您|回访|给您回|再联系|致电您|通知您|告知您|反馈给您",
    r"\bfollow(?:ing)?[ -]?up\b|\b(?:call|ring) you back\b|\bget back to you\b|\bupdate you\b",
    r"\bkeep you (?:posted|updated|informed)\b|\bcontact you\b|\bbe in touch\b"
    r"|\bcheck back\b|\blet you know\b|\breach out to you\b",
)
_ANGRY_STEPS = (
    (_EMPATHY, N_("Empathy is missing: first show you understand the customer’s feelings "
                  "(我理解您的心情 / “I understand how frustrating this is”)."), None),
    (_APOLOGY, N_("The apology is missing: apologise after showing empathy "
                  "(非常抱歉 / “I’m sorry”)."),
     N_("The apology must come after the empathy: first show you understand, then apologise.")),
    (_SOLUTION, N_("No solution is offered: after apologising, say what you will do now "
                   "(我马上为您… / “I’ll … right away”)."),
     N_("The solution must come after the apology: empathise, apologise, then offer what "
        "you will do.")),
    (_FOLLOW_UP, N_("No follow-up: after the solution, say how you will follow up "
                    "(我会跟进并回电 / “I’ll call you back”)."),
     N_("The follow-up must come after the solution: offer what you will do, then say how you "
        "will follow up.")),
)


def _check_angry_customer(reply: _Reply) -> ElementResult:
    pos = 0
    for pattern, missing, out_of_order in _ANGRY_STEPS:
        match = pattern.search(reply.text, pos)
        if match is None:
            if out_of_order and pattern.search(reply.text):
                return _fail("angry_customer", out_of_order)
            return _fail("angry_customer", missing)
        pos = match.end()
    return _ok("angry_customer",
               N_("Empathy, apology, solution and follow-up, in the right order."))


# --------------------------------------------------------------------------- disclosure

_MASKED = _rx(  # numbers that are ours to give: employee numbers, tickets, hotlines
    *_OUR_NUMBERS,
    r"(?:工单号?|受理号|服务单号?|投诉单号?)(?:是|为)?:?[a-z0-9-]{4,}",
    r"\b(?:reference|ticket|case|job|work order)(?: (?:number|no\.?|#))?(?: ?(?:is\b|:|#))* ?"
    r"[a-z0-9-]*\d[a-z0-9-]*",
    r"(?<!\d)[48]00[ -]?\d{3}[ -]?\d{4}(?!\d)",
)
_AMOUNT = r"(?:[¥$£€] ?)?\d[\d,]*(?:\.\d+)?(?: ?(?:元|块钱|(?:dollars|yuan|rmb|pounds|euros)\b))?"
_DISCLOSURES = (
    ("amount", N_("The reply discloses an amount of money (“%(detail)s”): never give account "
                  "details to a caller who has not been verified."), _rx(
        r"\d[\d,]*(?:\.\d+)? ?(?:元|块钱|圆)",
        r"[¥$£€] ?\d",
        r"\d[\d,]*(?:\.\d+)? ?(?:dollars|yuan|rmb|cny|usd|pounds|euros)\b|\b(?:rmb|cny|usd) ?\d",
        rf"余额(?:还|只|仅)?(?:为|是|有|剩|:)+(?:{_AMOUNT})?|余额{_AMOUNT}",
        rf"欠费(?:金额)?(?:为|是|:)?{_AMOUNT}|欠(?:了|款)(?:为|是|:)?{_AMOUNT}|尚欠(?:{_AMOUNT})?",
        r"(?:您|你)(?:的账户)?(?:已经|目前|当前|现在)欠费?",
        rf"\b(?:balance|outstanding (?:amount|balance|bill|charges?))"
        rf" (?:is|of|stands at|comes to|was)\b(?: {_AMOUNT})?",
        rf"\bbill (?:is|of|comes to|was) {_AMOUNT}",
        rf"\byou owe\b(?: (?:us )?{_AMOUNT})?|\bin arrears\b",
    )),
    ("address", N_("The reply discloses an address (“%(detail)s”): never give account details "
                   "to a caller who has not been verified."), _rx(
        r"(?:路|街|巷|弄|道|胡同)\d+号",
        r"\d+(?:号楼|栋|幢|单元|室|号院)",
        rf"(?:地址|住址)(?:是|为|:)[{_CJK_CHARS}]{{2,}}(?:省|市|区|县|路|街|小区|村)",
        r"\b\d+[a-z]? (?:[a-z]+ ){1,3}(?:street|st|road|rd|avenue|ave|lane|ln|drive|dr"
        r"|boulevard|blvd|court|ct|way|place|crescent|close|terrace)\b",
        r"\b(?:apartment|apt|flat|unit|suite) ?#?\d",
    )),
    ("number", N_("The reply discloses a phone, account or ID number (“%(detail)s”): never give "
                  "account details to a caller who has not been verified."), _rx(
        r"(?<![\d.])\d{7,}(?![\d.]?\d)",
        r"(?<![\d.])\d{3,4}(?:[ -]\d{3,4}){1,2}(?![\d.]?\d)",
        r"(?:户号|账号|账户号?|用户号|用户编号|客户号|卡号|电表号|表号|合同号|身份证(?:号码?)?)"
        r"(?:是|为)?:?\d{4,}",
        r"(?:尾号|后四位|后4位)(?:是|为)?:?\d{3,4}",
        r"\b(?:account|customer|meter|card|contract|policy|passport) ?(?:number|no\.?|#)"
        r"(?: ?(?:is\b|:))* ?\d{4,}",
        r"\b(?:ending (?:in|with)|last (?:four|4) digits (?:are|is|:)) ?\d{3,4}",
    )),
)


def _find_disclosure(reply: _Reply, before: int | None = None) -> tuple[str, str, str] | None:
    """The first account detail in the reply (kind, message, text), optionally only before a
    position; our own numbers (employee number, ticket, hotline) are not disclosures."""
    text = _MASKED.sub(lambda m: "#" * len(m.group()), reply.text)
    best: tuple[int, str, str, str] | None = None
    for kind, message, pattern in _DISCLOSURES:
        for match in pattern.finditer(text):
            if kind == "number" and sum(c.isdigit() for c in match.group()) < 7 \
                    and not re.search(r"[a-z\u4e00-\u9fff]", match.group()):
                continue  # a short number on its own (a date, an amount of minutes) is no ID
            if before is not None and match.start() >= before:
                break
            if best is None or match.start() < best[0]:
                best = (match.start(), kind, message, reply.text[match.start():match.end()])
            break
    return best[1:] if best else None


def _check_no_disclosure(reply: _Reply) -> ElementResult:
    found = _find_disclosure(reply)
    if found is None:
        return _ok("no_disclosure", N_("No account details disclosed."))
    _kind, message, detail = found
    return _fail("no_disclosure", message, detail=detail)


# --------------------------------------------------------------------------- verify identity

_VERIFY = _rx(
    r"核实|验证|核对(?:一下)?(?:您的)?(?:身份|信息)|确认(?:一下)?(?:您的)?身份|身份信息",
    r"身份证(?:号码?)?(?:的)?(?:后四位|后4位|号)|户主(?:的)?(?:姓名|名字)|户主名|户名"
    r"|预留(?:的)?(?:手机|电话)|证件号",
    r"\bverif(?:y|ied|ication)\b|\bconfirm (?:your|the account holder's|the) "
    r"(?:identity|full name|name|date of birth|postcode|zip code)\b",
    r"\bsecurity (?:question|check|code)\b|\bdate of birth\b|\blast (?:four|4) digits\b",
    r"\baccount holder's (?:full )?name\b|\bpasscode\b|\bpin\b|\bone-time (?:code|password)\b",
)


def _check_verify_identity(reply: _Reply) -> ElementResult:
    request = _VERIFY.search(reply.text)
    if request is None:
        return _fail("verify_identity",
                     N_("No identity check: ask the caller to verify their identity first "
                        "(户主姓名、身份证后四位 / “your date of birth and the last four digits "
                        "of your ID”)."))
    early = _find_disclosure(reply, before=request.start())
    if early is not None:
        return _fail("verify_identity",
                     N_("Account details (“%(detail)s”) were given before the identity check: "
                        "verify the caller first, then answer."),
                     detail=early[2])
    return _ok("verify_identity", N_("Identity verified before any account details."))


# --------------------------------------------------------------------------- safety first

_SAFETY = _rx(
    r"远离|(?:不要|别|请勿|切勿|千万不要|千万别)(?:去|再)?(?:靠近|触碰|触摸|碰|接近|用手)",
    r"保持(?:安全)?距离|离开现场|撤离|疏散|(?:不要|别|请勿|切勿)(?:开关|使用|点)(?:任何)?"
    r"(?:电器|明火|火|电灯)|打开门窗|开窗通风|关闭(?:燃气|煤气)?(?:总)?阀门|切断电源"
    r"|拉下总闸|设置警戒|看好(?:孩子|小孩)",
    r"\b(?:stay|keep|move|step) (?:well )?(?:away|clear|back)\b"
    r"|\b(?:don't|do not|never) (?:touch|approach|go near|use|switch)\b",
    r"\bkeep (?:people|everyone|others|children|the children|your family) (?:back|away|clear)\b",
    r"\bleave the (?:area|building|house|scene)\b|\bevacuate\b|\bsafe distance\b"
    r"|\bkeep your distance\b|\bopen the windows\b",
)
_HELP_NOW = _rx(
    r"抢修(?:人员|队|班组|师傅|车)?(?:已|马上|立即|立刻|正在|会尽快|火速)",
    r"(?:立即|马上|立刻|已经?|正在)(?:为您)?(?:派|安排|通知|调度|联系抢修)|已派|紧急|加急"
    r"|(?<!\d)(?:110|119|120)(?!\d)|正在赶往|赶赴现场|马上赶到|即刻",
    r"\bdispatch(?:ed|ing)?\b|\bon (?:their|his|her|its|the) way\b|\bright away\b"
    r"|\bstraight away\b|\bemergenc(?:y|ies)\b|\burgent(?:ly)?\b|\ben route\b|\bescalat",
    r"\bsending (?:an? |the |our )?(?:engineer|crew|team|technician|repair|fire)"
    r"|\b(?:911|999|112)\b|\bas we speak\b",
)


def _check_safety_first(reply: _Reply) -> ElementResult:
    safety = _SAFETY.search(reply.text)
    help_now = _HELP_NOW.search(reply.text)
    if safety and help_now:
        return _ok("safety_first", N_("Safety instruction given and help is on its way."))
    if not safety and not help_now:
        return _fail("safety_first",
                     N_("Safety comes first: tell the caller to keep away from the danger "
                        "(远离、不要触碰 / “stay away, don’t touch it”) and say that help is being "
                        "sent now."))
    if not safety:
        return _fail("safety_first",
                     N_("No safety instruction: tell the caller to keep away from the danger "
                        "(远离、不要触碰 / “stay away, don’t touch it”)."))
    return _fail("safety_first",
                 N_("Say that help is being sent now or escalated as an emergency "
                    "(抢修人员马上赶到 / “an engineer has been dispatched”)."))


# --------------------------------------------------------------------------- close

_ANYTHING_ELSE = _rx(
    r"还有(?:什么|其他|其它|别的|需要|没有)|(?:其他|其它|别的)(?:问题|需要|业务|事情|可以)"
    r"|还需要(?:什么|办理|咨询)|有没有(?:其他|其它|别的)",
    r"\banything else\b|\bany other\b|\bsomething else\b|\bother questions?\b"
    r"|\banything more\b",
)
_THANKS_OR_BYE = _rx(
    r"感谢|谢谢|多谢|再见|祝您|拜拜",
    r"\bthank|\bgood ?bye\b|\bbye\b|\bhave a (?:good|nice|great|lovely|pleasant|wonderful)\b"
    r"|\btake care\b",
)


def _check_close(reply: _Reply) -> ElementResult:
    anything_else = _ANYTHING_ELSE.search(reply.text)
    thanks = _THANKS_OR_BYE.search(reply.text)
    if anything_else and thanks:
        return _ok("close", N_("Closed properly."))
    if not anything_else and not thanks:
        return _fail("close", N_("No proper close: ask whether anything else is needed, then "
                                 "thank the caller and say goodbye."))
    if not anything_else:
        return _fail("close", N_("Ask whether anything else is needed before closing "
                                 "(请问还有其他可以帮您的吗 / “Is there anything else?”)."))
    return _fail("close", N_("Thank the caller or say goodbye when closing "
                             "(感谢您的来电，再见 / “Thank you for calling, goodbye”)."))


# --------------------------------------------------------------------------- entry point

def _ok(code: str, message: str, **params: str) -> ElementResult:
    return ElementResult(code, True, message, params)


def _fail(code: str, message: str, **params: str) -> ElementResult:
    return ElementResult(code, False, message, params)


_CHECKERS = {
    "greeting": _check_greeting,
    "employee_number": _check_employee_number,
    "courtesy": _check_courtesy,
    "no_forbidden": _check_no_forbidden,
    "angry_customer": _check_angry_customer,
    "verify_identity": _check_verify_identity,
    "no_disclosure": _check_no_disclosure,
    "safety_first": _check_safety_first,
    "close": _check_close,
}
assert tuple(_CHECKERS) == CHECKS


def check_reply(text: str, checks: Sequence[str]) -> list[ElementResult]:
    """One result per requested check, in the requested order; an unknown code is an error."""
    unknown = [code for code in checks if code not in _CHECKERS]
    if unknown:
        raise ValueError(f"unknown SOP check(s): {', '.join(map(str, unknown))}")
    reply = _Reply(text)
    return [_CHECKERS[code](reply) for code in checks]
