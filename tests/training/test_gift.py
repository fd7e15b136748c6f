"""GIFT: every construct read as Moodle reads it, errors with their line, and the round trip."""
from __future__ import annotations

import pytest

from app.training.gift import GiftError, export, parse
from app.training.questions import (
    DESCRIPTION,
    ESSAY,
    MATCHING,
    MULTIPLE,
    NUMERICAL,
    SHORT,
    SINGLE,
    TRUE_FALSE,
    Choice,
    Numeric,
    Pair,
    Question,
)


def one(text: str, **kwargs) -> Question:
    questions, errors = parse(text, **kwargs)
    assert errors == []
    assert len(questions) == 1
    return questions[0]


# (GIFT, the question it is read as)
CASES = [
    ("Just some text.", Question(DESCRIPTION, "Just some text.")),
    ("::D1::欢迎参加入职培训。", Question(DESCRIPTION, "欢迎参加入职培训。", name="D1")),
    ("::Q8:: How are you? {}", Question(ESSAY, "How are you?", name="Q8")),
    ("请描述你如何安抚愤怒的客户。{####先倾听，再共情。}",
     Question(ESSAY, "请描述你如何安抚愤怒的客户。", general_feedback="先倾听，再共情。")),
    ("Who's buried in Grant's tomb?{~Grant ~Jefferson =no one}",
     Question(SINGLE, "Who's buried in Grant's tomb?",
              choices=[Choice("Grant"), Choice("Jefferson"), Choice("no one", 1.0)])),
    ("::SOP-01::接听电话时第一句话应该是？{\n"
     "  =您好，很高兴为您服务#正确：先问候\n"
     "  ~喂，什么事#不礼貌\n"
     "  ####标准开场白体现服务意识。\n"
     "}",
     Question(SINGLE, "接听电话时第一句话应该是？", name="SOP-01",
              choices=[Choice("您好，很高兴为您服务", 1.0, "正确：先问候"),
                       Choice("喂，什么事", 0.0, "不礼貌")],
              general_feedback="标准开场白体现服务意识。")),
    ("Pick one {=right ~%50%half right#nearly ~%-25%bad}",
     Question(SINGLE, "Pick one", choices=[Choice("right", 1.0), Choice("half right", 0.5,
                                                                     "nearly"),
                                           Choice("bad", -0.25)])),
    ("Explicit weight {=%100%a ~b}",
     Question(SINGLE, "Explicit weight", choices=[Choice("a", 1.0), Choice("b")])),
    ("Which are primes? {~%50%2 ~%50%3 ~%-100%4}",
     Question(MULTIPLE, "Which are primes?",
              choices=[Choice("2", 0.5), Choice("3", 0.5), Choice("4", -1.0)])),
    ("Thirds {~%33.33333%a ~%33.33333%b ~%33.33333%c ~d}",
     Question(MULTIPLE, "Thirds", choices=[Choice("a", 0.3333333), Choice("b", 0.3333333),
                                            Choice("c", 0.3333333), Choice("d")])),
    ("以下哪些是服务禁语？{\n"
     "~%50%这不归我管#是禁语\n"
     "~%50%你听不懂吗#是禁语\n"
     "~%-100%请稍等#不是禁语\n"
     "####禁语会激化矛盾。}",
     Question(MULTIPLE, "以下哪些是服务禁语？",
              choices=[Choice("这不归我管", 0.5, "是禁语"), Choice("你听不懂吗", 0.5, "是禁语"),
                       Choice("请稍等", -1.0, "不是禁语")],
              general_feedback="禁语会激化矛盾。")),
    ("Grant is buried in Grant's tomb.{F}",
     Question(TRUE_FALSE, "Grant is buried in Grant's tomb.", truth=False)),
    ("The sun rises in the east.{T}", Question(TRUE_FALSE, "The sun rises in the east.",
                                              truth=True)),
    ("太阳从东方升起。{TRUE#答错了：确实是东方#答对了}",
     Question(TRUE_FALSE, "太阳从东方升起。", truth=True, false_feedback="答错了：确实是东方",
              true_feedback="答对了")),
    ("Two plus two is five.{FALSE#No, it is four.#Right.}",
     Question(TRUE_FALSE, "Two plus two is five.", truth=False, true_feedback="No, it is four.",
              false_feedback="Right.")),
    ("Water is wet.{T#Think again.}",
     Question(TRUE_FALSE, "Water is wet.", truth=True, false_feedback="Think again.")),
    ("Fire is cold.{F####Fire is hot.}",
     Question(TRUE_FALSE, "Fire is cold.", truth=False, general_feedback="Fire is hot.")),
    ("Two? {=two =2 =%50%a pair}",
     Question(SHORT, "Two?", choices=[Choice("two", 1.0), Choice("2", 1.0),
                                      Choice("a pair", 0.5)])),
    ("中国的首都是哪座城市？{=北京#对 =北京市#也对}",
     Question(SHORT, "中国的首都是哪座城市？", choices=[Choice("北京", 1.0, "对"),
                                                      Choice("北京市", 1.0, "也对")])),
    ("Capital of France? {=Paris}", Question(SHORT, "Capital of France?",
                                             choices=[Choice("Paris", 1.0)])),
    ("Match the animals. {=cat -> meow =dog -> woof =cow -> moo}",
     Question(MATCHING, "Match the animals.",
              pairs=[Pair("cat", "meow"), Pair("dog", "woof"), Pair("cow", "moo")])),
    ("Match. {\n=a -> 1\n=b -> 2\n= -> 3\n####three is a distractor}",
     Question(MATCHING, "Match.", pairs=[Pair("a", "1"), Pair("b", "2"), Pair("", "3")],
              general_feedback="three is a distractor")),
    ("请匹配情绪与应对：{=愤怒 -> 先倾听 =焦虑 -> 给出时间表 =失望 -> 道歉并补救}",
     Question(MATCHING, "请匹配情绪与应对：",
              pairs=[Pair("愤怒", "先倾听"), Pair("焦虑", "给出时间表"),
                     Pair("失望", "道歉并补救")])),
    ("Pi to two places? {#3.14:0.01}",
     Question(NUMERICAL, "Pi to two places?", numerics=[Numeric(3.14, 0.01)])),
    ("Between one and two? {#1..2}",
     Question(NUMERICAL, "Between one and two?", numerics=[Numeric(1.5, 0.5)])),
    ("Pi? {#=3.14:0.01#exact =%50%3:0.5#close ####It is 3.14159…}",
     Question(NUMERICAL, "Pi?", numerics=[Numeric(3.14, 0.01, 1.0, "exact"),
                                          Numeric(3.0, 0.5, 0.5, "close")],
              general_feedback="It is 3.14159…")),
    ("客服热线号码是？{#95598#对，就是95598}",
     Question(NUMERICAL, "客服热线号码是？", numerics=[Numeric(95598.0, 0.0, 1.0,
                                                              "对，就是95598")])),
    ("Below zero? {#-2..-1}", Question(NUMERICAL, "Below zero?", numerics=[Numeric(-1.5, 0.5)])),
    ("Grant is {~buried =entombed ~living} in Grant's tomb.",
     Question(SINGLE, "Grant is ", text_after=" in Grant's tomb.",
              choices=[Choice("buried"), Choice("entombed", 1.0), Choice("living")])),
    ("中国的首都是{=北京 ~上海}。",
     Question(SINGLE, "中国的首都是", text_after="。",
              choices=[Choice("北京", 1.0), Choice("上海")])),
    ("{=Paris ~London} is the capital of France.",
     Question(SINGLE, "", text_after=" is the capital of France.",
              choices=[Choice("Paris", 1.0), Choice("London")])),
    ("Two plus\n{=two =2}\nmakes four.",
     Question(SHORT, "Two plus ", text_after=" makes four.",
              choices=[Choice("two", 1.0), Choice("2", 1.0)])),
    ("[html]<p>Hello</p>{T}", Question(TRUE_FALSE, "<p>Hello</p>", text_format="html",
                                       truth=True)),
    ("::M1::[markdown]**Bold** claim {F}",
     Question(TRUE_FALSE, "**Bold** claim", name="M1", text_format="markdown", truth=False)),
    ("[plain]Plain words.", Question(DESCRIPTION, "Plain words.", text_format="plain")),
    ("[moodle][note] kept {}", Question(ESSAY, "[note] kept")),
    ("Escapes \\~ \\= \\# \\{ \\} \\: \\\\ done{T}",
     Question(TRUE_FALSE, "Escapes ~ = # { } : \\ done", truth=True)),
    ("First line\\nsecond line.", Question(DESCRIPTION, "First line\nsecond line.")),
    ("::a\\:b::Title with a colon{}", Question(ESSAY, "Title with a colon", name="a:b")),
    ("Answers with escapes {=1\\=1\\#yes#fb \\~ \\{ok\\} ~a\\:b}",
     Question(SINGLE, "Answers with escapes",
              choices=[Choice("1=1#yes", 1.0, "fb ~ {ok}"), Choice("a:b")])),
    ("A path C:\\Users\\d stays{}", Question(ESSAY, "A path C:\\Users\\d stays")),
    ("Line one\n  line two\n{=a ~b}",
     Question(SINGLE, "Line one\nline two", choices=[Choice("a", 1.0), Choice("b")])),
    ("// leading comment\nText\n// inside comment\n{=a ~b}",
     Question(SINGLE, "Text", choices=[Choice("a", 1.0), Choice("b")])),
    ("安全提示：{=不泄露客户信息 ~把密码告诉同事}",
     Question(SINGLE, "安全提示：", choices=[Choice("不泄露客户信息", 1.0),
                                          Choice("把密码告诉同事")])),
]


@pytest.mark.parametrize("gift, expected", CASES, ids=[str(i) for i in range(len(CASES))])
def test_parse(gift, expected):
    question = one(gift)
    assert question.to_dict() == expected.to_dict()


def test_table_covers_every_type():
    assert {expected.qtype for _, expected in CASES} == {
        DESCRIPTION, ESSAY, SINGLE, MULTIPLE, TRUE_FALSE, SHORT, MATCHING, NUMERICAL}
    assert len(CASES) >= 30


def test_categories_and_lines():
    text = ("// bank\n"
            "First {T}\n"
            "\n"
            "$CATEGORY: onboarding/culture\n"
            "\n"
            "Second\n"
            "{F}\n"
            "\n"
            "$CATEGORY: $course$/服务规范/服务禁语\n"
            "Third {T}\n"
            "\n"
            "$CATEGORY:\n"
            "Fourth {T}\n")
    questions, errors = parse(text, category="default")
    assert errors == []
    assert [(q.text, q.category, q.line) for q in questions] == [
        ("First", "default", 2), ("Second", "onboarding/culture", 6),
        ("Third", "服务规范/服务禁语", 10), ("Fourth", "default", 13)]


def test_bom_and_crlf():
    text = "\ufeff::T1::第一题{T}\r\n\r\n::T2::第二\r\n题{=甲 ~乙}\r\n"
    questions, errors = parse(text)
    assert errors == []
    assert [(q.name, q.text, q.line) for q in questions] == [("T1", "第一题", 1),
                                                           ("T2", "第二\n题", 3)]
    assert questions[1].choices == [Choice("甲", 1.0), Choice("乙")]


def test_empty_file():
    assert parse("") == ([], [])
    assert parse("// only a comment\n\n\n") == ([], [])


# (broken GIFT, a piece of the message, its params) — each placed at line 5 of a file
BROKEN = [
    ("Unclosed {=a ~b", "not closed with }", {}),
    ("Unclosed over lines {\n=a\n~b", "not closed with }", {}),
    ("Stray } here", "never opened", {}),
    ("Nested {=a {~b}}", "cannot hold another {", {}),
    ("No right answer {~a ~b ~c}", "no right answer", {}),
    ("Half right only {=%50%a ~b}", "no right answer", {}),
    ("Short, half only {=%50%a}", "no right answer", {}),
    ("Weights short of 100 {~%50%a ~%20%b ~c}", "add up to", {"total": "70"}),
    ("Not a number {#abc}", "is not a number", {"value": "abc"}),
    ("Bad tolerance {#3:x}", "is not a number", {"value": "x"}),
    ("Bad of several {#=3:0.1 =%50%pi}", "is not a number", {"value": "pi"}),
    ("Backwards {#2..1}", "starts above its end", {"value": "2..1"}),
    ("Negative tolerance {#3:-1}", "is negative", {"value": "-1"}),
    ("Numerical with tilde {#=3 ~4}", "not ~", {}),
    ("Two pairs {=a -> 1 =b -> 2}", "at least %(pairs)s pairs", {"pairs": 3, "prompts": 2}),
    ("One prompt {=a -> 1 = -> 2 = -> 3}", "at least %(pairs)s pairs",
     {"pairs": 3, "prompts": 2}),
    ("Pair without arrow {=a -> 1 =b -> 2 =c}", "has no ->", {"pair": "c"}),
    ("Matching feedback {=a -> 1#x =b -> 2 =c -> 3}", "no weights", {}),
    ("[rtf]Unknown marker {T}", "Unknown format marker", {"marker": "rtf"}),
    ("::T::[HTML]Upper-case marker {T}", "Unknown format marker", {"marker": "HTML"}),
    ("Too heavy {=a ~%150%b}", "outside -100 to 100", {"weight": "150"}),
    ("Too light {~%50%a ~%50%b ~%-101%c}", "outside -100 to 100", {"weight": "-101"}),
    ("Weight not a number {~%half%a =b}", "is not a number", {"weight": "half"}),
    ("Weight not closed {~%50 a =b}", "no closing percent sign", {"weight": "%50 a"}),
    ("Two blocks {=a ~b} and {=c ~d}", "only one answer block", {}),
    ("Essay with {} text after", "Only a missing-word question", {}),
    ("Match {=a -> 1 =b -> 2 =c -> 3} after", "Only a missing-word question", {}),
    ("::T1::", "no text", {}),
    ("::T2::{=a ~b}", "no text", {}),
    ("::T3 not closed {T}", "not closed with ::", {}),
    ("Answer without marker {Paris}", "must start with = or ~", {"text": "Paris"}),
    ("Text before the first answer {Paris =London ~Rome}", "must start with = or ~",
     {"text": "Paris"}),
    ("Empty answer {= ~b}", "An answer is empty", {}),
    ("Too much true/false feedback {T#a#b#c}", "at most two feedbacks", {}),
    ("Two hashes {=a#b#c ~d}", "more than one #", {}),
    ("Lower-case true {true}", "must start with = or ~", {"text": "true"}),
]


@pytest.mark.parametrize("gift, piece, params", BROKEN,
                         ids=[str(i) for i in range(len(BROKEN))])
def test_broken(gift, piece, params):
    text = "// header\n\n::OK::Fine {T}\n\n" + gift + "\n\nAlso fine {F}\n"
    questions, errors = parse(text)
    assert len(errors) == 1
    error = errors[0]
    assert error.line == 5
    assert piece in error.message
    assert error.params == params
    error.message % error.params        # the msgid formats with exactly these params
    assert [q.text for q in questions] == ["Fine", "Also fine"]


def test_third_question_broken_reports_its_line():
    text = ("$CATEGORY: onboarding/faq\n"          # 1
            "\n"
            "::Q1::One {T}\n"                       # 3
            "\n"
            "// the second question\n"              # 5
            "::Q2::Two\n"                           # 6
            "{=a ~b}\n"
            "\n"
            "\n"
            "::Q3::Three is broken\n"               # 10
            "{\n"
            "  =a\n"
            "  ~%200%b\n"
            "}\n"
            "\n"
            "::Q4::Four {#4}\n"                     # 16
            "\n"
            "::Q5::Five {~a}\n")                    # 18
    questions, errors = parse(text)
    assert errors == [
        GiftError(10, errors[0].message, {"weight": "200"}),
        GiftError(18, "The question has no right answer.", {}),
    ]
    assert "outside -100 to 100" in errors[0].message
    assert [(q.name, q.line) for q in questions] == [("Q1", 3), ("Q2", 6), ("Q4", 16)]


def test_unclosed_brace_swallows_nothing_after_a_blank_line():
    questions, errors = parse("A {=a ~b\n\nB {T}\n")
    assert [(e.line, "not closed" in e.message) for e in errors] == [(1, True)]
    assert [q.text for q in questions] == ["B"]


BANK = [
    Question(DESCRIPTION, "欢迎！本题库用于新员工入职。", name="INTRO"),
    Question(SINGLE, "接听电话的第一句话？", name="SOP-01", category="onboarding/process",
             choices=[Choice("您好，很高兴为您服务", 1.0, "正确"), Choice("喂？", 0.0, "不礼貌"),
                      Choice("稍等", 0.25, "可以更好")],
             general_feedback="先问候，再报工号。"),
    Question(MULTIPLE, "Which are forbidden phrases?", name="FP-01",
             category="onboarding/forbidden-phrases", text_format="html",
             choices=[Choice("<b>Not my job</b>", 1 / 3, "forbidden"),
                      Choice("You don't understand?", 1 / 3),
                      Choice("Ask someone else", 1 / 3),
                      Choice("One moment please", -1.0, "this one is fine")],
             general_feedback="Forbidden phrases escalate."),
    Question(TRUE_FALSE, "Customer data may be shared with colleagues.", name="SAFE-01",
             category="onboarding/safety-privacy", truth=False,
             true_feedback="No: only on a need-to-know basis.", false_feedback="Right."),
    Question(TRUE_FALSE, "We apologise first.", category="onboarding/safety-privacy",
             truth=True, true_feedback="Yes.", general_feedback="Apology calms."),
    Question(TRUE_FALSE, "Only right feedback.", truth=True, true_feedback="Correct!"),
    Question(TRUE_FALSE, "No feedback at all.", truth=False),
    Question(SHORT, "The hotline number?", name="FAQ-01", category="onboarding/faq",
             choices=[Choice("95598", 1.0, "Yes"), Choice("955 98", 0.5)]),
    Question(SHORT, "Missing ", text_after=" word, short answer.", category="onboarding/faq",
             choices=[Choice("the", 1.0)]),
    Question(MATCHING, "Match the step to its order.", name="PROC-01",
             category="onboarding/process",
             pairs=[Pair("Answer", "1"), Pair("Identify", "2"), Pair("Verify", "3"),
                    Pair("", "4")],
             general_feedback="Answer, identify, verify."),
    Question(NUMERICAL, "Seconds to answer a call?", name="SOP-02", category="",
             numerics=[Numeric(15.0, 0.0, 1.0, "Within 15 s."), Numeric(20.0, 5.0, 0.5)]),
    Question(NUMERICAL, "Between 0.1 and 0.3?",
             numerics=[Numeric(0.2, 0.09999999999999999)]),
    Question(NUMERICAL, "Negative? ", text_after=" degrees.",
             numerics=[Numeric(-1.5, 0.25, 1.0, "cold")]),
    Question(NUMERICAL, "About ", text_after=" kg.", general_feedback="Two and a half.",
             numerics=[Numeric(2.5, 0.5), Numeric(3.0, 0.0, 0.5, "close")]),
    Question(MULTIPLE, "停电时应", text_after="。", general_feedback="先安抚，再查询。",
             choices=[Choice("安抚客户", 0.5, "对"), Choice("查询停电信息", 0.5),
                      Choice("挂断电话", -1.0, "禁止")]),
    Question(ESSAY, "描述一次你处理投诉的经历。", name="ANGRY-01",
             category="onboarding/angry-customer", general_feedback="倾听、共情、道歉、方案。"),
    Question(ESSAY, "Essay, no feedback."),
    Question(SINGLE, "", text_after=" is the capital.", choices=[Choice("Paris", 1.0),
                                                                 Choice("Rome")]),
    Question(SINGLE, "Specials ~ = # { } : \\ and\na line break", name="a::b {x}",
             choices=[Choice("= ~ # { } : \\n", 1.0, "fb # = ~ {}"), Choice("-> arrow")],
             general_feedback="general # ~ = { } :"),
    Question(DESCRIPTION, "[note] looks like a marker"),
    Question(DESCRIPTION, "// looks like a comment"),
    Question(DESCRIPTION, "::looks like a title:: and $CATEGORY: too", text_format="plain"),
    Question(SINGLE, "Markdown **text**", text_format="markdown",
             choices=[Choice("%50% literal?", 1.0), Choice("b", -0.125)]),
]


def _dicts(questions):
    return [q.to_dict() for q in questions]


def test_round_trip():
    text = export(BANK)
    questions, errors = parse(text)
    assert errors == []
    assert _dicts(questions) == _dicts(BANK)
    assert all(q.line > 0 for q in questions)
    assert [q.line for q in questions] == sorted(q.line for q in questions)


def test_export_is_stable():
    text = export(BANK)
    assert export(parse(text)[0]) == text


def test_parse_export_parse_of_the_table():
    questions = [one(gift) for gift, _ in CASES]
    text = export(questions)
    again, errors = parse(text)
    assert errors == []
    assert _dicts(again) == _dicts(questions)
    assert export(again) == text


def test_export_writes_categories_only_on_change():
    text = export([Question(ESSAY, "a", category="x"), Question(ESSAY, "b", category="x"),
                   Question(ESSAY, "c", category="y"), Question(ESSAY, "d")])
    lines = [line for line in text.splitlines() if line.startswith("$CATEGORY:")]
    assert lines == ["$CATEGORY: x", "$CATEGORY: y", "$CATEGORY:"]
    assert [(q.text, q.category) for q in parse(text)[0]] == [("a", "x"), ("b", "x"),
                                                              ("c", "y"), ("d", "")]


def test_export_layout():
    text = export([
        Question(SINGLE, "服务第一句？", name="SOP-01", category="onboarding/process",
                 choices=[Choice("您好", 1.0, "对"), Choice("喂", 0.0, "错"),
                          Choice("嗯", -0.5)],
                 general_feedback="要问候。"),
        Question(TRUE_FALSE, "Sky is green.", truth=False, true_feedback="No.",
                 false_feedback="Yes.", category="onboarding/process"),
        Question(NUMERICAL, "Pi?", numerics=[Numeric(3.14, 0.01, 1.0, "ok")],
                 category="onboarding/process"),
        Question(MULTIPLE, "Pick", choices=[Choice("a", 0.5), Choice("b", 0.5), Choice("c")],
                 category="onboarding/process"),
    ])
    assert text == (
        "$CATEGORY: onboarding/process\n"
        "\n"
        "::SOP-01::服务第一句？ {\n"
        "\t=您好#对\n"
        "\t~喂#错\n"
        "\t~%-50%嗯\n"
        "\t####要问候。\n"
        "}\n"
        "\n"
        "Sky is green. {FALSE#No.#Yes.}\n"
        "\n"
        "Pi? {#3.14:0.01#ok}\n"
        "\n"
        "Pick {\n"
        "\t~%50%a\n"
        "\t~%50%b\n"
        "\t~c\n"
        "}\n")
