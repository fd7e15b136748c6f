"""Pure decisions of QA: an evaluation's score from its criterion results, the dispute
window in working days, and what makes two versions of an evaluation the same. No Flask and
no database here."""
from __future__ import annotations

import hashlib
from dataclasses import dataclass
from datetime import date, datetime, time, timedelta
from zoneinfo import ZoneInfo


def N_(message: str) -> str:
    """Mark a message for the catalogues (translated where it is shown)."""
    return message


@dataclass(frozen=True)
class CriterionTerms:
    code: str
    weight: float
    is_critical: bool = False
    allows_na: bool = False


@dataclass(frozen=True)
class ItemResult:
    """A criterion's result as a file gives it: points given, or pass/fail, or N/A."""

    code: str
    points: float | None = None      # the points given out of the weight
    passed: bool | None = None       # pass/fail; None with points None: N/A
    is_na: bool = False


class ScoreError(ValueError):
    """An item result that the scorecard does not allow. The message is an English msgid;
    `params` fill it in."""

    def __init__(self, message: str, **params):
        super().__init__(message)
        self.message = message
        self.params = params


def item_points(terms: CriterionTerms, result: ItemResult) -> tuple[float | None, bool | None]:
    """The points an item earns and whether it passed; (None, None) when N/A."""
    if result.is_na:
        if not terms.allows_na:
            raise ScoreError(N_("Criterion %(criterion)s cannot be N/A."), criterion=terms.code)
        return None, None
    if result.points is not None:
        if not 0 <= result.points <= terms.weight:
            raise ScoreError(N_("%(value)s is outside 0–%(weight)s for criterion %(criterion)s."),
                             value=result.points, weight=terms.weight, criterion=terms.code)
        return result.points, result.points >= terms.weight
    passed = bool(result.passed)
    return (terms.weight if passed else 0.0), passed


def score_of(criteria: list[CriterionTerms], results: dict[str, ItemResult]
             ) -> tuple[float, bool]:
    """The evaluation's score out of 100 and whether a critical criterion failed.

    Each criterion earns its points out of its weight; N/A criteria leave the denominator; a
    criterion the file does not mention counts as passed (call-review tools export only the
    deductions, often); a failed critical criterion sets the score to 0."""
    earned = possible = 0.0
    critical_fail = False
    for terms in criteria:
        result = results.get(terms.code, ItemResult(terms.code, passed=True))
        points, passed = item_points(terms, result)
        if points is None:
            continue
        earned += points
        possible += terms.weight
        if terms.is_critical and passed is False:
            critical_fail = True
    if critical_fail:
        return 0.0, True
    if possible == 0:
        raise ScoreError(N_("Every criterion is N/A: the evaluation has no score."))
    return round(earned * 100 / possible, 2), False


def window_end(imported_at: datetime, working_days: int, tz: ZoneInfo) -> datetime:
    """The end of the dispute window: the end of the `working_days`-th working day (Monday
    to Friday, in the centre's time zone) after the import."""
    day = imported_at.astimezone(tz).date()
    left = working_days
    while left > 0:
        day += timedelta(days=1)
        if day.weekday() < 5:
            left -= 1
    end = datetime.combine(day + timedelta(days=1), time(0), tzinfo=tz)
    return end.astimezone(ZoneInfo("UTC"))


def fingerprint(score: float, critical_fail: bool, items: list[tuple[str, float | None]],
                ) -> str:
    """What decides whether a re-imported evaluation changed: its score, its critical flag
    and its item results (points per criterion code)."""
    text = f"{score:.2f}|{int(critical_fail)}|" + ";".join(
        f"{code}={'na' if points is None else f'{points:.2f}'}" for code, points in sorted(
            items, key=lambda item: item[0]))
    return hashlib.sha256(text.encode()).hexdigest()


def weeks_and_months(day: date) -> tuple[str, str]:
    """The ISO week ("2026-W11") and the month ("2026-03") of a day, for the trend charts."""
    year, week, _ = day.isocalendar()
    return f"{year}-W{week:02d}", f"{day.year:04d}-{day.month:02d}"
