"""The pure grading rules of quizzes (Moodle's semantics): one question's mark, an attempt's
score, the quiz grade over several attempts, pass or fail, diminishing points and the time
limit. No Flask and no database here; plain functions on the values of `questions.py`.
"""
from __future__ import annotations

import math
import re
import unicodedata
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from decimal import ROUND_HALF_UP, Decimal

from app.incentives.rules import Blade, RuleTerms, points_for
from app.training.questions import (
    DESCRIPTION,
    ESSAY,
    MATCHING,
    MULTIPLE,
    NUMERICAL,
    SHORT,
    SINGLE,
    TRUE_FALSE,
    Question,
)

# A multiple-choice sum this close to 1 is fully right (three answers of 1/3 each).
RIGHT_EPSILON = 1e-9
# Slack on a numerical tolerance, relative to the answer's size, so that a response exactly
# on the boundary counts despite binary floating point (3.14 ± 0.01 accepts 3.15).
NUMERIC_SLACK = 1e-9

METHODS = ("highest", "last", "first", "average")


@dataclass(frozen=True)
class Mark:
    """One question's mark. `fraction` is the share (0..1) of the question's points, None
    while waiting for hand grading; `right` says whether it is fully right (None when pending
    or not graded); `feedback` holds the per-answer feedback texts that apply, in answer
    order (empty texts left out)."""

    fraction: float | None
    right: bool | None
    feedback: list[str] = field(default_factory=list)


NOT_GRADED = Mark(None, None, [])
WRONG = Mark(0.0, False, [])


def _mark(fraction: float, feedback: list[str] | None = None,
          *, right: bool | None = None) -> Mark:
    """A mark with its fraction clamped to [0, 1] (and snapped to 0 or 1 when within
    RIGHT_EPSILON of them)."""
    fraction = min(max(fraction, 0.0), 1.0)
    if fraction >= 1 - RIGHT_EPSILON:
        fraction = 1.0
    elif fraction <= RIGHT_EPSILON:
        fraction = 0.0
    if right is None:
        right = fraction >= 1.0
    return Mark(fraction, right, [text for text in (feedback or []) if text])


# --- one question -------------------------------------------------------------------------

def grade(question: Question, response, *, case_sensitive: bool = False) -> Mark:
    """Grade `response` to `question`. Response shapes: SINGLE an int (the choice's index) or
    None; MULTIPLE a list of ints; TRUE_FALSE a bool or None; SHORT a str; MATCHING a dict
    prompt → chosen answer; NUMERICAL a str as typed; ESSAY anything (graded by hand);
    DESCRIPTION anything (not graded). Missing or blank responses earn 0. Indices outside the
    choices (a tampered form) are ignored; a response of the wrong Python type is a caller's
    bug and raises TypeError."""
    qtype = question.qtype
    if qtype in (ESSAY, DESCRIPTION):
        return NOT_GRADED
    if qtype == SINGLE:
        return _grade_single(question, response)
    if qtype == MULTIPLE:
        return _grade_multiple(question, response)
    if qtype == TRUE_FALSE:
        return _grade_true_false(question, response)
    if qtype == SHORT:
        return _grade_short(question, response, case_sensitive=case_sensitive)
    if qtype == MATCHING:
        return _grade_matching(question, response)
    if qtype == NUMERICAL:
        return _grade_numerical(question, response)
    raise ValueError(f"unknown question type {qtype!r}")


def _is_index(value) -> bool:
    return isinstance(value, int) and not isinstance(value, bool)


def _valid_index(question: Question, index: int) -> bool:
    return 0 <= index < len(question.choices)


def _grade_single(question: Question, response) -> Mark:
    if response is None:
        return WRONG
    if not _is_index(response):
        raise TypeError(f"a single-choice response is an int index, not {response!r}")
    if not _valid_index(question, response):
        return WRONG
    choice = question.choices[response]
    return _mark(choice.fraction, [choice.feedback])


def _grade_multiple(question: Question, response) -> Mark:
    if response is None:
        return WRONG
    if isinstance(response, (str, bytes, dict)) or not all(_is_index(i) for i in response):
        raise TypeError(f"a multiple-choice response is a list of int indices, not {response!r}")
    chosen = sorted({i for i in response if _valid_index(question, i)})
    if not chosen:
        return WRONG
    choices = [question.choices[i] for i in chosen]
    # Negative weights count in the sum; the question's total is then floored at zero.
    return _mark(sum(c.fraction for c in choices), [c.feedback for c in choices])


def _grade_true_false(question: Question, response) -> Mark:
    if response is None:
        return WRONG
    if not isinstance(response, bool):
        raise TypeError(f"a true/false response is a bool, not {response!r}")
    feedback = question.true_feedback if response else question.false_feedback
    return _mark(1.0 if response == question.truth else 0.0, [feedback])


def normalise_text(text: str, *, case_sensitive: bool = False) -> str:
    """What short answers compare: NFKC (full-width and half-width forms alike), trimmed,
    inner whitespace collapsed to one space, case-folded unless case-sensitive."""
    text = " ".join(unicodedata.normalize("NFKC", text).split())
    return text if case_sensitive else text.casefold()


def short_answer_matches(accepted: str, response: str, *, case_sensitive: bool = False) -> bool:
    """Whether `response` matches the accepted answer: the whole response, after
    normalisation; `*` in the accepted answer stands for any characters (`\\*` for a literal
    asterisk)."""
    pattern = normalise_text(accepted, case_sensitive=case_sensitive)
    response = normalise_text(response, case_sensitive=case_sensitive)
    if "*" not in pattern:
        return pattern == response
    literal = "\x00"   # stands in for an escaped asterisk while splitting on wildcards
    parts = pattern.replace("\\*", literal).split("*")
    regex = ".*".join(re.escape(part.replace(literal, "*")) for part in parts)
    return re.fullmatch(regex, response, flags=re.DOTALL) is not None


def _grade_short(question: Question, response, *, case_sensitive: bool) -> Mark:
    if response is None:
        return WRONG
    if not isinstance(response, str):
        raise TypeError(f"a short-answer response is a str, not {response!r}")
    if not response.strip():
        return WRONG
    matching = [c for c in question.choices
                if short_answer_matches(c.text, response, case_sensitive=case_sensitive)]
    if not matching:
        return WRONG
    best = max(matching, key=lambda c: c.fraction)    # the first of equals, in answer order
    return _mark(best.fraction, [best.feedback])


def _grade_matching(question: Question, response) -> Mark:
    if response is None:
        response = {}
    if not isinstance(response, dict):
        raise TypeError(f"a matching response is a dict prompt → answer, not {response!r}")
    pairs = [p for p in question.pairs if p.prompt.strip()]   # empty prompt: a distractor
    if not pairs:
        return WRONG
    right = sum(1 for p in pairs if response.get(p.prompt) == p.answer)
    return _mark(right / len(pairs))


_NUMBER = re.compile(r"[+-]?(?:[0-9]+(?:\.[0-9]*)?|\.[0-9]+)(?:[eE][+-]?[0-9]+)?")


def parse_number(text) -> float | None:
    """A typed number: "3.14", " 3.14 ", "-2", "1e3", full-width "３.１４" (NFKC) and the
    minus sign "−" are accepted; a decimal comma ("3,14"), thousands separators, "nan",
    "inf" and anything else give None. An int or float is taken as it is."""
    if isinstance(text, bool):
        raise TypeError(f"a numerical response is a str, not {text!r}")
    if isinstance(text, (int, float)):
        return float(text) if math.isfinite(text) else None
    if text is None:
        return None
    if not isinstance(text, str):
        raise TypeError(f"a numerical response is a str, not {text!r}")
    text = unicodedata.normalize("NFKC", text).strip().replace("\u2212", "-")
    if not _NUMBER.fullmatch(text):
        return None
    value = float(text)
    return value if math.isfinite(value) else None


def within_tolerance(x: float, value: float, tolerance: float) -> bool:
    """|x - value| ≤ tolerance, the boundary included (with a hair of slack for floating
    point, relative to the size of the numbers)."""
    slack = NUMERIC_SLACK * max(1.0, abs(value), abs(x))
    return abs(x - value) <= abs(tolerance) + slack


def _grade_numerical(question: Question, response) -> Mark:
    x = parse_number(response)
    if x is None:
        return WRONG
    matching = [n for n in question.numerics if within_tolerance(x, n.value, n.tolerance)]
    if not matching:
        return WRONG
    best = max(matching, key=lambda n: n.fraction)
    return _mark(best.fraction, [best.feedback])


# --- attempts and the quiz grade ----------------------------------------------------------

def round2(value: float) -> float:
    """Rounded to 2 decimals, halves away from zero as people expect (66.665 → 66.67), after
    shedding floating-point noise ((66.66 + 66.67) / 2 is 66.66499999999999 in binary)."""
    return float(Decimal(repr(round(value, 9))).quantize(Decimal("0.01"),
                                                         rounding=ROUND_HALF_UP))


def attempt_score(marks: list[tuple[float, Mark]]) -> tuple[float | None, float]:
    """(question max points, mark) pairs → (percent 0..100 rounded to 2 decimals, points
    earned so far, rounded to 2 decimals). The percent is None while any question with points
    waits for hand grading. A question worth 0 points (a description) does not count, even
    with a pending-looking mark; an attempt with no points to earn scores 0 %."""
    total = earned = 0.0
    pending = False
    for max_points, mark in marks:
        if max_points < 0:
            raise ValueError("a question's max points cannot be negative")
        if max_points == 0:
            continue
        total += max_points
        if mark.fraction is None:
            pending = True
        else:
            earned += max_points * mark.fraction
    earned = round2(earned)
    if pending:
        return None, earned
    if total == 0:
        return 0.0, earned
    return round2(earned / total * 100), earned


def final_grade(scores: list[float], method: str) -> float | None:
    """The quiz grade from the finished attempts' percents, in attempt order: "highest",
    "last", "first" or "average" (rounded to 2 decimals). No attempts → None."""
    if method not in METHODS:
        raise ValueError(f"unknown grading method {method!r}")
    if not scores:
        return None
    if method == "highest":
        return max(scores)
    if method == "last":
        return scores[-1]
    if method == "first":
        return scores[0]
    return round2(sum(scores) / len(scores))


def passed(percent: float | None, pass_mark: float) -> bool | None:
    """Reaching the pass mark passes (90 passes 90); None while the percent is pending."""
    if percent is None:
        return None
    return percent >= pass_mark


def diminishing_points(base: int, attempt: int, steps: list[int]) -> int:
    """Points for the n-th passing attempt (1-based) under {"diminishing": steps}: percentages
    per attempt, the last repeating. This is the incentive rules' own arithmetic
    (`app.incentives.rules.points_for`), so it floors the way the ledger does."""
    if attempt < 1:
        raise ValueError("attempts count from 1")
    terms = RuleTerms(points=base, blade=Blade.GROWTH, params={"diminishing": list(steps)})
    return points_for(terms, attempt=attempt)


# --- the time limit -----------------------------------------------------------------------

def _limit(limit_minutes: int | None) -> timedelta | None:
    """None or 0 minutes: no limit (Moodle's 0)."""
    if limit_minutes is None or limit_minutes == 0:
        return None
    if limit_minutes < 0:
        raise ValueError("a time limit cannot be negative")
    return timedelta(minutes=limit_minutes)


def time_left(started_at: datetime, limit_minutes: int | None, now: datetime) -> float | None:
    """Seconds left of the time limit (never below 0); None without a limit."""
    limit = _limit(limit_minutes)
    if limit is None:
        return None
    return max((started_at + limit - now).total_seconds(), 0.0)


def is_overtime(started_at: datetime, limit_minutes: int | None, now: datetime,
                grace_seconds: int = 5) -> bool:
    """Whether an answer arriving `now` comes too late: after the limit plus a small grace
    for the network. Exactly at the limit plus grace still counts."""
    limit = _limit(limit_minutes)
    if limit is None:
        return False
    return now > started_at + limit + timedelta(seconds=grace_seconds)
