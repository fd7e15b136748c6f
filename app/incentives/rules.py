"""Pure decisions of the incentive windmill: blades, point formulas, caps, levels and the
violation ladder. No Flask and no database here; the services call these."""
from __future__ import annotations

from bisect import bisect_right
from dataclasses import dataclass, field
from enum import StrEnum


class Blade(StrEnum):
    """The eight kinds of incentive the windmill spins on (domain.md §4)."""

    HONOUR = "honour"
    MATERIAL = "material"
    GOAL = "goal"
    COMPETITION = "competition"
    GROWTH = "growth"
    CAREER = "career"
    RECOGNITION = "recognition"
    PARTICIPATION = "participation"


class EntryStatus(StrEnum):
    PENDING = "pending"        # waiting for verification (e.g. customer praise); not counted
    CONFIRMED = "confirmed"    # counted on the boards
    REVERSED = "reversed"      # cancelled by a reversal entry (or rejected while pending)


class Event(StrEnum):
    """What happened, in the words the other packages use when they award points."""

    QUIZ_PASSED = "quiz.passed"
    PATH_COMPLETED = "training.path_completed"
    SCENARIO_STAGE_COMPLETED = "scenario.stage_completed"
    SIGN_OFF_GIVEN = "sign_off.given"
    SIGN_OFF_RECEIVED = "sign_off.received"
    QA_EVALUATION = "qa.evaluation"
    QA_CRITICAL_FAIL = "qa.critical_fail"
    CUSTOMER_PRAISE = "customer_praise.verified"
    MYSTERY_SHOPPER = "mystery_shopper.scored"
    SERVICE_STAR = "service_star.won"
    SERVICE_MODEL = "service_model.won"
    KBI_CHECKLIST = "kbi.checklist_completed"
    SUGGESTION_ADOPTED = "suggestion.adopted"
    APPRENTICE_PASSED = "apprentice.passed_onboarding"
    PROMOTION = "career.promotion"
    BADGE_EARNED = "badge.earned"
    MANUAL_RECOGNITION = "manual.recognition"
    MANUAL_HONOUR = "manual.honour"
    VIOLATION_DEDUCTION = "violation.deduction"


# Only these events may carry negative points (the violation ladder).
NEGATIVE_EVENTS = frozenset({Event.VIOLATION_DEDUCTION})


@dataclass(frozen=True)
class RuleTerms:
    """A rule as it stood at one version: what an event is worth, on which blade."""

    points: int
    blade: Blade
    is_active: bool = True
    daily_cap: int | None = None      # most entries of this rule per user per day
    monthly_cap: int | None = None    # most entries of this rule per user per month
    # Optional shapes: {"diminishing": [100, 50, 25]} percent per attempt (the last repeats);
    # {"bands": [[95, 20], [90, 10], [80, 5]]} points for a score at or above each floor;
    # {"per_point_above": [80, 1]} one point per score point above 80.
    params: dict = field(default_factory=dict)


class RuleError(ValueError):
    """A rule's terms that cannot work. The message is an English msgid."""


def N_(message: str) -> str:
    """Mark a message for the catalogues (translated where it is shown)."""
    return message


def check_terms(event: str, terms: RuleTerms) -> None:
    if terms.points < 0 and event not in NEGATIVE_EVENTS:
        raise RuleError(N_("Only violation rules may take points away."))
    if terms.points > 0 and event in NEGATIVE_EVENTS:
        raise RuleError(N_("A violation rule takes points away: give a negative value."))
    for cap in (terms.daily_cap, terms.monthly_cap):
        if cap is not None and cap < 1:
            raise RuleError(N_("A cap must be at least 1."))
    bands = terms.params.get("bands")
    if bands is not None:
        floors = [floor for floor, _points in bands]
        if floors != sorted(floors, reverse=True):
            raise RuleError(N_("Score bands go from the highest floor down."))
    diminishing = terms.params.get("diminishing")
    if diminishing is not None and (not diminishing or any(not 0 <= p <= 100
                                                            for p in diminishing)):
        raise RuleError(N_("Diminishing percentages lie between 0 and 100."))


def points_for(terms: RuleTerms, *, attempt: int | None = None,
               score: float | None = None) -> int:
    """What one event is worth under these terms (0 when it earns nothing)."""
    points = terms.points
    bands = terms.params.get("bands")
    if bands is not None:
        if score is None:
            return 0
        points = next((band_points for floor, band_points in bands if score >= floor), 0)
    above = terms.params.get("per_point_above")
    if above is not None:
        floor, per_point = above
        if score is None or score <= floor:
            return 0
        points = int((score - floor) * per_point)
    diminishing = terms.params.get("diminishing")
    if diminishing and attempt:
        percent = diminishing[min(attempt, len(diminishing)) - 1]
        points = points * percent // 100
    return points


def within_cap(cap: int | None, already: int) -> bool:
    return cap is None or already < cap


def cap_negative(deduction: int, month_positive: int, month_negative: int,
                 share_percent: int) -> int:
    """Positive outweighs negative: a month's negative total stays within `share_percent` of
    its positive total. Returns the (negative or zero) deduction that may still be applied."""
    allowed = month_positive * share_percent // 100 - month_negative
    return -min(-deduction, max(allowed, 0))


# --- the violation ladder ---------------------------------------------------------------

class LadderStep(StrEnum):
    VERBAL_WARNING = "verbal_warning"      # and on-the-spot coaching by the team lead
    WRITTEN_WARNING = "written_warning"    # and targeted re-training
    BONUS_DEDUCTION = "bonus_deduction"    # negative points, capped


def ladder_step(earlier_in_window: int, *, serious: bool) -> LadderStep:
    """The step a new violation takes, given how many the agent had in the rolling window."""
    if serious or earlier_in_window >= 2:
        return LadderStep.BONUS_DEDUCTION
    return LadderStep.WRITTEN_WARNING if earlier_in_window == 1 else LadderStep.VERBAL_WARNING


# --- levels -----------------------------------------------------------------------------

def level_index(thresholds: list[int], total: int) -> int:
    """Index of the highest level whose threshold `total` reaches (thresholds ascending);
    0 below the first."""
    return max(bisect_right(thresholds, total) - 1, 0)


def progress_to_next(thresholds: list[int], total: int) -> tuple[int | None, float]:
    """(points still needed, fraction done) towards the next level; (None, 1.0) at the top."""
    i = level_index(thresholds, total)
    if i + 1 >= len(thresholds):
        return None, 1.0
    low, high = thresholds[i], thresholds[i + 1]
    return high - total, (total - low) / (high - low)
