"""The pure grading rules of quizzes: no app, no database."""
from datetime import datetime, timedelta, timezone

import pytest

from app.incentives.rules import Blade, RuleTerms, points_for
from app.training.grading import (
    Mark,
    attempt_score,
    diminishing_points,
    final_grade,
    grade,
    is_overtime,
    parse_number,
    passed,
    time_left,
)
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


def q(qtype, **kwargs):
    return Question(qtype=qtype, text="?", **kwargs)


def numeric_range(low, high, fraction=1.0, feedback=""):
    """A range answer as the question bank stores it: midpoint ± half the distance."""
    return Numeric((low + high) / 2, (high - low) / 2, fraction, feedback)


# --- single choice ------------------------------------------------------------------------

SINGLE_Q = q(SINGLE, choices=[
    Choice("您好，请问有什么可以帮您？", 1.0, "标准问候"),
    Choice("喂？", 0.0, "不规范"),
    Choice("您好", 0.5, "不完整"),
    Choice("滚", -1.0, ""),
])


@pytest.mark.parametrize("response, expected", [
    (0, Mark(1.0, True, ["标准问候"])),
    (1, Mark(0.0, False, ["不规范"])),
    (2, Mark(0.5, False, ["不完整"])),              # partial credit (=%50%)
    (3, Mark(0.0, False, [])),                      # negative fraction floored, empty feedback
    (None, Mark(0.0, False, [])),                   # unanswered
    (4, Mark(0.0, False, [])),                      # out of range (tampered form)
    (-1, Mark(0.0, False, [])),                     # not Python's last element
])
def test_single_choice(response, expected):
    assert grade(SINGLE_Q, response) == expected


@pytest.mark.parametrize("response", ["0", True, 0.0])
def test_single_choice_rejects_wrong_types(response):
    with pytest.raises(TypeError):
        grade(SINGLE_Q, response)


# --- multiple choice ----------------------------------------------------------------------

MULTI_Q = q(MULTIPLE, choices=[
    Choice("A", 0.5, "fa"),
    Choice("B", 0.5, "fb"),
    Choice("C", -0.5, "fc"),
    Choice("D", -1.0, "fd"),
    Choice("E", 0.0, ""),
])
THIRDS_Q = q(MULTIPLE, choices=[Choice(x, 1 / 3) for x in "ABC"] + [Choice("D", -1 / 3)])


@pytest.mark.parametrize("question, response, fraction, right, feedback", [
    (MULTI_Q, [0, 1], 1.0, True, ["fa", "fb"]),
    (MULTI_Q, [1, 0], 1.0, True, ["fa", "fb"]),              # feedback in answer order
    (MULTI_Q, [0], 0.5, False, ["fa"]),                      # partial
    (MULTI_Q, [0, 1, 2], 0.5, False, ["fa", "fb", "fc"]),    # negative weight subtracts
    (MULTI_Q, [0, 3], 0.0, False, ["fa", "fd"]),             # -0.5 floored at zero
    (MULTI_Q, [2, 3], 0.0, False, ["fc", "fd"]),             # -1.5 floored at zero
    (MULTI_Q, [0, 1, 4], 1.0, True, ["fa", "fb"]),           # a 0-weight choice costs nothing
    (MULTI_Q, [0, 0, 1], 1.0, True, ["fa", "fb"]),           # a repeated index counts once
    (MULTI_Q, [0, 1, 9], 1.0, True, ["fa", "fb"]),           # out-of-range index ignored
    (MULTI_Q, [], 0.0, False, []),
    (MULTI_Q, None, 0.0, False, []),
    (THIRDS_Q, [0, 1, 2], 1.0, True, []),                    # 3 × 1/3 is fully right
    (THIRDS_Q, [0, 1], pytest.approx(2 / 3), False, []),
    (THIRDS_Q, [0, 1, 2, 3], pytest.approx(2 / 3), False, []),
])
def test_multiple_choice(question, response, fraction, right, feedback):
    mark = grade(question, response)
    assert (mark.fraction, mark.right, mark.feedback) == (fraction, right, feedback)


def test_multiple_choice_sum_above_one_is_clamped():
    over = q(MULTIPLE, choices=[Choice("A", 1.0), Choice("B", 1.0)])
    assert grade(over, [0, 1]) == Mark(1.0, True, [])


@pytest.mark.parametrize("response", ["01", 1, [0, "1"], {0: True}])
def test_multiple_choice_rejects_wrong_types(response):
    with pytest.raises(TypeError):
        grade(MULTI_Q, response)


# --- true / false -------------------------------------------------------------------------

@pytest.mark.parametrize("truth, response, expected", [
    (True, True, Mark(1.0, True, ["yes-fb"])),
    (True, False, Mark(0.0, False, ["no-fb"])),
    (False, False, Mark(1.0, True, ["no-fb"])),
    (False, True, Mark(0.0, False, ["yes-fb"])),
    (True, None, Mark(0.0, False, [])),
    (False, None, Mark(0.0, False, [])),
])
def test_true_false(truth, response, expected):
    question = q(TRUE_FALSE, truth=truth, true_feedback="yes-fb", false_feedback="no-fb")
    assert grade(question, response) == expected


def test_true_false_rejects_strings():
    with pytest.raises(TypeError):
        grade(q(TRUE_FALSE, truth=True), "true")


# --- short answer -------------------------------------------------------------------------

SHORT_Q = q(SHORT, choices=[
    Choice("Customer First", 1.0, "exact"),
    Choice("customer*", 0.5, "starts right"),
    Choice("客户至上", 1.0, "中文"),
    Choice("客户*第一", 0.8, "通配"),
    Choice("5\\*", 1.0, "literal star"),
    Choice("ＡＢＣ", 1.0, "full-width"),
])


@pytest.mark.parametrize("response, fraction, feedback", [
    ("Customer First", 1.0, "exact"),
    ("customer first", 1.0, "exact"),                  # case-insensitive by default
    ("CUSTOMER FIRST", 1.0, "exact"),
    ("  Customer   First  ", 1.0, "exact"),            # trimmed, inner whitespace collapsed
    ("Customer\tFirst\n", 1.0, "exact"),
    ("Ｃｕｓｔｏｍｅｒ　Ｆｉｒｓｔ", 1.0, "exact"),       # full-width letters and space (NFKC)
    ("customer service", 0.5, "starts right"),         # wildcard
    ("Customer", 0.5, "starts right"),                 # `*` matches nothing too
    ("客户至上", 1.0, "中文"),
    (" 客户至上 ", 1.0, "中文"),
    ("客户永远第一", 0.8, "通配"),                       # Chinese with a wildcard
    ("客户第一", 0.8, "通配"),
    ("5*", 1.0, "literal star"),                       # an escaped asterisk is literal
    ("abc", 1.0, "full-width"),                        # the accepted answer normalised too
])
def test_short_answer_matches(response, fraction, feedback):
    mark = grade(SHORT_Q, response)
    assert (mark.fraction, mark.feedback) == (fraction, [feedback])
    assert mark.right is (fraction == 1.0)


@pytest.mark.parametrize("response", [
    "", "   ", None, "Client First", "the customer", "客户", "服务至上", "55", "5x",
    "Custom First!",
])
def test_short_answer_misses(response):
    assert grade(SHORT_Q, response) == Mark(0.0, False, [])


def test_short_answer_takes_the_best_matching_answer():
    question = q(SHORT, choices=[Choice("*", 0.0, "catch-all"), Choice("*ok*", 0.5, "some"),
                                 Choice("ok", 1.0, "best")])
    assert grade(question, "OK") == Mark(1.0, True, ["best"])
    assert grade(question, "not ok") == Mark(0.5, False, ["some"])
    assert grade(question, "nope") == Mark(0.0, False, ["catch-all"])


def test_short_answer_regex_characters_are_literal():
    question = q(SHORT, choices=[Choice("a.b(c)?", 1.0)])
    assert grade(question, "a.b(c)?").right is True
    assert grade(question, "axb(c)").right is False


@pytest.mark.parametrize("response, right", [
    ("Customer First", True),
    ("customer first", False),
    ("Ｃｕｓｔｏｍｅｒ Ｆｉｒｓｔ", True),                 # still width-normalised
    ("  Customer  First ", True),
])
def test_short_answer_case_sensitive(response, right):
    question = q(SHORT, choices=[Choice("Customer First", 1.0)])
    assert grade(question, response, case_sensitive=True).right is right
    assert grade(question, response).right is True


def test_case_sensitive_wildcard():
    question = q(SHORT, choices=[Choice("SLA*", 1.0)])
    assert grade(question, "SLA 90/20", case_sensitive=True).fraction == 1.0
    assert grade(question, "sla 90/20", case_sensitive=True).fraction == 0.0


# --- matching -----------------------------------------------------------------------------

MATCH_Q = q(MATCHING, pairs=[
    Pair("首问负责制", "第一个接到问题的人负责到底"),
    Pair("限时办结", "在承诺时限内办结"),
    Pair("一次性告知", "一次讲清所需材料"),
    Pair("Hold", "must not exceed 60 s"),
    Pair("", "干扰项"),                                  # distractor: not a prompt
])
ALL_RIGHT = {p.prompt: p.answer for p in MATCH_Q.pairs if p.prompt}


@pytest.mark.parametrize("changes, fraction", [
    ({}, 1.0),
    ({"Hold": "干扰项"}, 0.75),
    ({"Hold": "干扰项", "限时办结": "一次讲清所需材料"}, 0.5),
    ({"Hold": None, "限时办结": None, "首问负责制": None}, 0.25),      # unanswered prompts
    ({p: "干扰项" for p in ALL_RIGHT}, 0.0),
])
def test_matching_partial(changes, fraction):
    response = {**ALL_RIGHT, **changes}
    assert grade(MATCH_Q, response) == Mark(fraction, fraction == 1.0, [])


@pytest.mark.parametrize("response", [None, {}, {"unknown": "x"}])
def test_matching_missing(response):
    assert grade(MATCH_Q, response) == Mark(0.0, False, [])


def test_matching_rejects_a_list():
    with pytest.raises(TypeError):
        grade(MATCH_Q, list(ALL_RIGHT.items()))


# --- numerical ----------------------------------------------------------------------------

PI_Q = q(NUMERICAL, numerics=[Numeric(3.14, 0.01, 1.0, "good"), Numeric(3.0, 0.5, 0.5, "close")])
RANGE_Q = q(NUMERICAL, numerics=[numeric_range(0.1, 0.3, 1.0, "in range")])
EXACT_Q = q(NUMERICAL, numerics=[Numeric(1000.0, 0.0, 1.0, "exact")])


@pytest.mark.parametrize("question, response, fraction, feedback", [
    (PI_Q, "3.14", 1.0, ["good"]),
    (PI_Q, " 3.14 ", 1.0, ["good"]),
    (PI_Q, "３.１４", 1.0, ["good"]),                  # full-width digits
    (PI_Q, "３．１４", 1.0, ["good"]),                 # full-width point
    (PI_Q, "+3.14", 1.0, ["good"]),
    (PI_Q, "314e-2", 1.0, ["good"]),
    (PI_Q, "3.15", 1.0, ["good"]),                     # exactly at the tolerance boundary
    (PI_Q, "3.13", 1.0, ["good"]),
    (PI_Q, "3.1501", 0.5, ["close"]),                  # just outside: the next best answer
    (PI_Q, "3.5", 0.5, ["close"]),                     # its boundary counts too
    (PI_Q, "2.5", 0.5, ["close"]),
    (PI_Q, "3.5001", 0.0, []),
    (PI_Q, "2.4999", 0.0, []),
    (RANGE_Q, "0.1", 1.0, ["in range"]),               # both ends of a range count
    (RANGE_Q, "0.3", 1.0, ["in range"]),
    (RANGE_Q, "0.2", 1.0, ["in range"]),
    (RANGE_Q, ".25", 1.0, ["in range"]),
    (RANGE_Q, "0.0999", 0.0, []),
    (RANGE_Q, "0.3001", 0.0, []),
    (EXACT_Q, "1e3", 1.0, ["exact"]),
    (EXACT_Q, "1000", 1.0, ["exact"]),
    (EXACT_Q, "1000.", 1.0, ["exact"]),
    (EXACT_Q, "1000.001", 0.0, []),
    (EXACT_Q, "999.999", 0.0, []),
])
def test_numerical(question, response, fraction, feedback):
    mark = grade(question, response)
    assert (mark.fraction, mark.feedback) == (fraction, feedback)
    assert mark.right is (fraction == 1.0)


def test_numerical_negative_values():
    question = q(NUMERICAL, numerics=[Numeric(-40.0, 2.0)])
    assert [grade(question, r).fraction for r in ("-40", "−38", "-42", "-42.01", "40")] == [
        1.0, 1.0, 1.0, 0.0, 0.0]


@pytest.mark.parametrize("response", [
    "3,14", "", "   ", None, "abc", "3.14abc", "3 .14", "1,000", "1_000", "nan", "inf",
    "-inf", "Infinity", "0x10", "3.14.1", "e3", "1e", "٣.١٤",
])
def test_numerical_unparseable_earns_zero(response):
    assert parse_number(response) is None
    assert grade(PI_Q, response) == Mark(0.0, False, [])


@pytest.mark.parametrize("text, value", [
    ("3.14", 3.14), ("-0.5", -0.5), (".5", 0.5), ("1E3", 1000.0), ("2e+2", 200.0),
    ("１２３", 123.0), ("−7", -7.0), (7, 7.0), (2.5, 2.5),
])
def test_parse_number(text, value):
    assert parse_number(text) == value


# --- not graded automatically -------------------------------------------------------------

@pytest.mark.parametrize("qtype, response", [
    (ESSAY, "我认为服务的核心是……"), (ESSAY, ""), (ESSAY, None), (DESCRIPTION, None),
])
def test_essay_and_description_are_not_auto_graded(qtype, response):
    assert grade(q(qtype), response) == Mark(None, None, [])


def test_unknown_question_type():
    with pytest.raises(ValueError):
        grade(q("cloze"), "x")


# --- the attempt's score ------------------------------------------------------------------

PENDING = Mark(None, None, [])


@pytest.mark.parametrize("marks, expected", [
    ([(1, Mark(1.0, True, [])), (1, Mark(0.0, False, []))], (50.0, 1.0)),
    ([(2, Mark(1.0, True, [])), (1, Mark(0.5, False, [])), (1, Mark(0.0, False, []))],
     (62.5, 2.5)),
    ([(1, Mark(1.0, True, []))] * 2 + [(1, Mark(0.0, False, []))], (66.67, 2.0)),
    ([(3, Mark(1.0, True, [])), (10, PENDING)], (None, 3.0)),     # essay waits for a grader
    ([(10, PENDING)], (None, 0.0)),
    ([(1, Mark(1.0, True, [])), (0, PENDING)], (100.0, 1.0)),     # a description: 0 points
    ([(0.1, Mark(1.0, True, []))] * 3, (100.0, 0.3)),
    ([], (0.0, 0.0)),
    ([(5, Mark(0.0, False, []))], (0.0, 0.0)),
])
def test_attempt_score(marks, expected):
    assert attempt_score(marks) == expected


def test_attempt_score_after_hand_grading():
    marks = [(3, Mark(1.0, True, [])), (10, PENDING)]
    assert attempt_score(marks)[0] is None
    marks[1] = (10, Mark(0.7, False, []))
    assert attempt_score(marks) == (round(1000 / 13, 2), 10.0)


def test_attempt_score_rejects_negative_points():
    with pytest.raises(ValueError):
        attempt_score([(-1, Mark(1.0, True, []))])


# --- the quiz grade -----------------------------------------------------------------------

@pytest.mark.parametrize("scores, method, expected", [
    ([60.0, 90.0, 75.0], "highest", 90.0),
    ([60.0, 90.0, 75.0], "last", 75.0),
    ([60.0, 90.0, 75.0], "first", 60.0),
    ([60.0, 90.0, 75.0], "average", 75.0),
    ([100.0, 33.33, 66.67], "average", 66.67),
    ([66.66, 66.67], "average", 66.67),               # 66.665: halves round up
    ([70.0, 70.0, 71.0], "average", 70.33),
    ([80.0], "highest", 80.0),
    ([80.0], "average", 80.0),
    ([], "highest", None),
    ([], "average", None),
    ([], "last", None),
    ([], "first", None),
])
def test_final_grade(scores, method, expected):
    assert final_grade(scores, method) == expected


@pytest.mark.parametrize("scores", [[], [50.0]])
def test_final_grade_unknown_method(scores):
    with pytest.raises(ValueError):
        final_grade(scores, "best")


@pytest.mark.parametrize("percent, pass_mark, expected", [
    (90.0, 90, True),                                  # exactly the pass mark passes
    (90, 90.0, True),
    (89.99, 90, False),
    (100.0, 90, True),
    (0.0, 0, True),
    (0.0, 60, False),
    (None, 90, None),                                  # pending hand grading
])
def test_passed(percent, pass_mark, expected):
    assert passed(percent, pass_mark) is expected


def test_pending_essay_flows_to_no_pass_decision():
    percent, earned = attempt_score([(1, Mark(1.0, True, [])), (1, grade(q(ESSAY), "…"))])
    assert (percent, earned) == (None, 1.0)
    assert passed(percent, 50) is None


# --- diminishing points -------------------------------------------------------------------

@pytest.mark.parametrize("base, attempt, steps, expected", [
    (20, 1, [100, 50, 25], 20),
    (20, 2, [100, 50, 25], 10),
    (20, 3, [100, 50, 25], 5),
    (20, 4, [100, 50, 25], 5),                         # the last percentage repeats
    (20, 10, [100, 50, 25], 5),
    (10, 3, [100, 50, 25], 2),                         # 2.5 floors, as the ledger does
    (15, 2, [100, 50, 25], 7),
    (20, 2, [100], 20),
    (20, 2, [100, 0], 0),
    (0, 1, [100, 50, 25], 0),
])
def test_diminishing_points(base, attempt, steps, expected):
    assert diminishing_points(base, attempt, steps) == expected


def test_diminishing_points_agree_with_the_incentive_rules():
    terms = RuleTerms(points=30, blade=Blade.GROWTH, params={"diminishing": [100, 60, 30]})
    assert [diminishing_points(30, n, [100, 60, 30]) for n in range(1, 6)] == [
        points_for(terms, attempt=n) for n in range(1, 6)] == [30, 18, 9, 9, 9]


@pytest.mark.parametrize("attempt", [0, -1])
def test_diminishing_points_attempts_count_from_one(attempt):
    with pytest.raises(ValueError):
        diminishing_points(20, attempt, [100, 50])


# --- the time limit -----------------------------------------------------------------------

START = datetime(2024, 5, 1, 9, 0, tzinfo=timezone.utc)


@pytest.mark.parametrize("elapsed, limit, left", [
    (timedelta(0), 30, 1800.0),
    (timedelta(minutes=10), 30, 1200.0),
    (timedelta(minutes=29, seconds=59.5), 30, 0.5),
    (timedelta(minutes=30), 30, 0.0),                  # at the limit
    (timedelta(minutes=45), 30, 0.0),                  # never negative
    (timedelta(minutes=10), None, None),               # no limit
    (timedelta(minutes=10), 0, None),                  # Moodle's 0: no limit
])
def test_time_left(elapsed, limit, left):
    assert time_left(START, limit, START + elapsed) == left


@pytest.mark.parametrize("elapsed, limit, grace, overtime", [
    (timedelta(minutes=10), 30, 5, False),             # inside
    (timedelta(minutes=30), 30, 5, False),             # at the limit
    (timedelta(minutes=30, seconds=5), 30, 5, False),  # at the end of the grace
    (timedelta(minutes=30, seconds=5, microseconds=1), 30, 5, True),
    (timedelta(minutes=30, seconds=6), 30, 5, True),   # after the grace
    (timedelta(minutes=31), 30, 5, True),
    (timedelta(minutes=30, seconds=1), 30, 0, True),   # no grace
    (timedelta(minutes=30, seconds=20), 30, 30, False),
    (timedelta(days=3), None, 5, False),               # no limit
    (timedelta(days=3), 0, 5, False),
])
def test_is_overtime(elapsed, limit, grace, overtime):
    assert is_overtime(START, limit, START + elapsed, grace_seconds=grace) is overtime


def test_is_overtime_default_grace_is_five_seconds():
    assert is_overtime(START, 1, START + timedelta(seconds=65)) is False
    assert is_overtime(START, 1, START + timedelta(seconds=66)) is True


def test_negative_time_limit_is_rejected():
    with pytest.raises(ValueError):
        time_left(START, -5, START)
    with pytest.raises(ValueError):
        is_overtime(START, -5, START)
