from datetime import UTC, datetime
from zoneinfo import ZoneInfo

import pytest

from app.qa.rules import CriterionTerms, ItemResult, ScoreError, score_of, window_end

CARD = [CriterionTerms("greeting", 10), CriterionTerms("verification", 20, is_critical=True),
        CriterionTerms("empathy", 20, allows_na=True), CriterionTerms("answer", 50)]


def test_a_clean_evaluation_scores_100():
    assert score_of(CARD, {}) == (100.0, False)


def test_points_out_of_weights():
    score, critical = score_of(CARD, {"greeting": ItemResult("greeting", points=5),
                                      "answer": ItemResult("answer", points=40)})
    assert (score, critical) == (85.0, False)


def test_na_leaves_the_denominator():
    score, _ = score_of(CARD, {"empathy": ItemResult("empathy", is_na=True),
                               "greeting": ItemResult("greeting", passed=False)})
    assert score == pytest.approx(70 * 100 / 80, abs=0.01)


def test_a_failed_critical_criterion_sets_the_score_to_zero_and_flags_it():
    assert score_of(CARD, {"verification": ItemResult("verification", passed=False)}) == (
        0.0, True)


def test_na_is_refused_where_the_criterion_always_applies():
    with pytest.raises(ScoreError) as error:
        score_of(CARD, {"answer": ItemResult("answer", is_na=True)})
    assert error.value.params == {"criterion": "answer"}


def test_points_above_the_weight_are_refused():
    with pytest.raises(ScoreError):
        score_of(CARD, {"greeting": ItemResult("greeting", points=11)})


def test_everything_na_has_no_score():
    with pytest.raises(ScoreError):
        score_of([CriterionTerms("x", 10, allows_na=True)], {"x": ItemResult("x", is_na=True)})


def test_the_dispute_window_counts_working_days():
    shanghai = ZoneInfo("Asia/Shanghai")
    # imported on a Thursday afternoon: Fri, Mon, Tue → the window ends at Wednesday 00:00
    thursday = datetime(2026, 3, 12, 7, 0, tzinfo=UTC)   # 15:00 in Shanghai
    end = window_end(thursday, 3, shanghai)
    assert end.astimezone(shanghai) == datetime(2026, 3, 18, 0, 0, tzinfo=shanghai)
