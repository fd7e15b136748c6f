"""The pure arithmetic of the windmill: no app, no database."""
import pytest

from app.incentives.rules import (
    Blade,
    LadderStep,
    RuleError,
    RuleTerms,
    cap_negative,
    check_terms,
    ladder_step,
    level_index,
    points_for,
    progress_to_next,
)


def test_fixed_points_and_diminishing_attempts():
    terms = RuleTerms(points=20, blade=Blade.GROWTH, params={"diminishing": [100, 50, 25]})
    assert [points_for(terms, attempt=n) for n in (1, 2, 3, 4, 9)] == [20, 10, 5, 5, 5]
    assert points_for(RuleTerms(points=15, blade=Blade.GROWTH)) == 15


def test_score_bands_pick_the_highest_floor_reached():
    terms = RuleTerms(points=0, blade=Blade.GOAL, params={"bands": [[95, 20], [90, 10], [80, 5]]})
    assert [points_for(terms, score=s) for s in (100, 95, 94.9, 90, 80, 79.9)] == [
        20, 20, 10, 10, 5, 0]
    assert points_for(terms) == 0


def test_points_per_score_point_above_a_floor():
    terms = RuleTerms(points=1, blade=Blade.GOAL, params={"per_point_above": [80, 1]})
    assert points_for(terms, score=92.5) == 12
    assert points_for(terms, score=80) == 0


@pytest.mark.parametrize("event,terms", [
    ("quiz.passed", RuleTerms(points=-5, blade=Blade.GROWTH)),
    ("violation.deduction", RuleTerms(points=5, blade=Blade.MATERIAL)),
    ("quiz.passed", RuleTerms(points=5, blade=Blade.GROWTH, daily_cap=0)),
    ("qa.evaluation", RuleTerms(points=5, blade=Blade.GOAL, params={"bands": [[80, 5], [95, 9]]})),
    ("quiz.passed", RuleTerms(points=5, blade=Blade.GROWTH, params={"diminishing": [120]})),
])
def test_impossible_terms_are_refused(event, terms):
    with pytest.raises(RuleError):
        check_terms(event, terms)


def test_negative_points_stay_within_a_share_of_the_positive():
    assert cap_negative(-50, month_positive=1000, month_negative=0, share_percent=20) == -50
    assert cap_negative(-50, month_positive=100, month_negative=0, share_percent=20) == -20
    assert cap_negative(-50, month_positive=100, month_negative=20, share_percent=20) == 0
    assert cap_negative(-50, month_positive=0, month_negative=0, share_percent=20) == 0


def test_the_violation_ladder():
    assert ladder_step(0, serious=False) == LadderStep.VERBAL_WARNING
    assert ladder_step(1, serious=False) == LadderStep.WRITTEN_WARNING
    assert ladder_step(2, serious=False) == LadderStep.BONUS_DEDUCTION
    assert ladder_step(0, serious=True) == LadderStep.BONUS_DEDUCTION


def test_levels_and_progress():
    thresholds = [0, 200, 600]
    assert [level_index(thresholds, t) for t in (0, 199, 200, 5000)] == [0, 0, 1, 2]
    assert progress_to_next(thresholds, 300) == (300, 0.25)
    assert progress_to_next(thresholds, 700) == (None, 1.0)
