"""mindly.domain.performance: the mock-test dashboard's arithmetic.

The forecast is the OLS line through (test number, percent) evaluated at the next test number, with
the 95% prediction interval yhat +/- t(0.975, n - 2) * s * sqrt(1 + 1/n + (x0 - mean x)^2 / Sxx).
Consistency is 100 * max(0, 1 - sd / mean). A chapter's priority is weightage x (1 - a) x
(0.5 + 2a(1 - a)). The study-load signal says "ease_off" when the recent week had >= 1.2 x the
minutes of the week before and accuracy at least 0.05 lower. The expected values below are worked
out by hand in the comments.
"""

from __future__ import annotations

import itertools
import math
from datetime import date, timedelta

import pytest
from hypothesis import assume, given, settings
from hypothesis import strategies as st

from mindly.domain import performance
from mindly.domain.performance import DayLoad

TODAY = date(2026, 3, 15)
# The window is 2026-03-02 .. 2026-03-15: the earlier week 03-02 .. 03-08, the recent one 03-09 .. 03-15.
WINDOW_START = TODAY - timedelta(days=13)


def week(first: date, minutes: float, answered: int, correct: int) -> list[DayLoad]:
    """Seven consecutive days from ``first``, each with the same load."""
    return [DayLoad(first + timedelta(days=i), minutes, answered, correct) for i in range(7)]


EARLIER = WINDOW_START
RECENT = WINDOW_START + timedelta(days=7)


# --- least squares ------------------------------------------------------------------------------


def test_least_squares_on_hand_computed_points() -> None:
    # Given the points (1, 2), (2, 3), (3, 5), (4, 6)
    #   mean x = 2.5, mean y = 4; x - mean = -1.5, -0.5, 0.5, 1.5; y - mean = -2, -1, 1, 2
    #   Sxx = 2.25 + 0.25 + 0.25 + 2.25 = 5; Sxy = 3 + 0.5 + 0.5 + 3 = 7
    #   slope = 7 / 5 = 1.4; intercept = 4 - 1.4 x 2.5 = 0.5
    #   fitted 1.9, 3.3, 4.7, 6.1; residuals 0.1, -0.3, 0.3, -0.1; SSE = 0.01 + 0.09 + 0.09 + 0.01 = 0.2
    #   residual sd = sqrt(0.2 / (4 - 2)) = sqrt(0.1) = 0.316228
    # When the line is fitted
    fit = performance.least_squares([1, 2, 3, 4], [2, 3, 5, 6])
    # Then it is as computed
    assert fit.slope == pytest.approx(1.4)
    assert fit.intercept == pytest.approx(0.5)
    assert fit.residual_sd == pytest.approx(math.sqrt(0.1))
    assert (fit.n, fit.sxx, fit.mean_x) == (4, pytest.approx(5.0), pytest.approx(2.5))


def test_points_on_a_line_have_no_residual() -> None:
    # Given points on y = 3 - 2x / When fitted / Then the line is recovered with residual sd 0
    fit = performance.least_squares([0, 1, 2, 5], [3, 1, -1, -7])
    assert (fit.slope, fit.intercept, fit.residual_sd) == (pytest.approx(-2), pytest.approx(3), pytest.approx(0))


def test_two_points_give_the_line_through_them_and_residual_sd_zero() -> None:
    # Given two points / When fitted / Then n - 2 = 0 leaves no residual to measure: residual sd 0.0
    fit = performance.least_squares([1, 3], [10, 20])
    assert (fit.slope, fit.intercept, fit.residual_sd, fit.n) == (5.0, 5.0, 0.0, 2)


@pytest.mark.parametrize(("xs", "ys"), [
    ([1, 2, 3], [1, 2]),  # lengths differ
    ([1], [1]),  # one point
    ([], []),  # no points
    ([2, 2, 2], [1, 2, 3]),  # all xs equal: a vertical "line"
    ([0.1, 0.1, 0.1], [1, 2, 3]),  # equal xs whose float mean is not exactly 0.1
    ([1, 2, math.nan], [1, 2, 3]),
    ([1, 2, 3], [1, math.inf, 3]),
])
def test_least_squares_rejects_what_determines_no_line(xs: list[float], ys: list[float]) -> None:
    with pytest.raises(ValueError):
        performance.least_squares(xs, ys)


# --- Student's t --------------------------------------------------------------------------------


@pytest.mark.parametrize(("df", "expected"), [
    (1, 12.706), (2, 4.303), (3, 3.182), (4, 2.776), (5, 2.571), (10, 2.228), (20, 2.086), (30, 2.042),
])
def test_the_t_table_holds_the_published_values(df: int, expected: float) -> None:
    assert performance.t_quantile_975(df) == expected


@pytest.mark.parametrize(("df", "published"), [(40, 2.021), (60, 2.000), (120, 1.980), (1000, 1.962)])
def test_past_the_table_t_agrees_with_the_published_values_to_3_decimals(df: int, published: float) -> None:
    assert performance.t_quantile_975(df) == pytest.approx(published, abs=0.0005)


def test_t_tends_to_the_normal_quantile_and_never_rises_with_df() -> None:
    # Given df 1 .. 500 and a huge df
    values = [performance.t_quantile_975(df) for df in range(1, 501)]
    # Then each value is at most the one before (also across the table's end at 30 -> 31) and above 1.96
    assert all(b <= a for a, b in itertools.pairwise(values))
    assert min(values) > 1.96
    assert performance.t_quantile_975(10**9) == pytest.approx(1.959964, abs=1e-6)


@pytest.mark.parametrize("df", [0, -1])
def test_t_needs_at_least_one_degree_of_freedom(df: int) -> None:
    with pytest.raises(ValueError):
        performance.t_quantile_975(df)


# --- score forecast -----------------------------------------------------------------------------


def test_three_tests_give_the_hand_computed_forecast() -> None:
    # Given tests scoring 40, 50, 66 percent (x = 1, 2, 3)
    #   mean x = 2, mean y = 52; Sxx = 2; Sxy = (-1)(-12) + 0 + (1)(14) = 26; slope 13; intercept 52 - 26 = 26
    #   fitted 39, 52, 65; residuals 1, -2, 1; SSE = 6; s = sqrt(6 / 1) = 2.449490
    #   x0 = 4: yhat = 26 + 13 x 4 = 78; se = s x sqrt(1 + 1/3 + (4 - 2)^2 / 2) = sqrt(6 x 10/3) = sqrt(20) = 4.472136
    #   t(df 1) = 12.706: margin = 56.822961; low = 21.177039 -> 21.18; high = 134.82 -> clamped to 100
    forecast = performance.predict_next_score([40, 50, 66])
    # Then
    assert forecast == {"predicted_percent": 78.0, "standard_error": 4.47, "low": 21.18, "high": 100.0,
                        "confidence_level": 0.95, "tests_used": 3, "slope_per_test": 13.0, "intercept": 26.0}


def test_five_tests_give_the_hand_computed_forecast_inside_0_to_100() -> None:
    # Given tests scoring 50, 54, 55, 60, 61 (x = 1..5)
    #   mean x = 3, mean y = 56; Sxx = 10; Sxy = 12 + 2 + 0 + 4 + 10 = 28; slope 2.8; intercept 56 - 8.4 = 47.6
    #   fitted 50.4, 53.2, 56.0, 58.8, 61.6; residuals -0.4, 0.8, -1.0, 1.2, -0.6
    #   SSE = 0.16 + 0.64 + 1.00 + 1.44 + 0.36 = 3.6; s = sqrt(3.6 / 3) = sqrt(1.2)
    #   x0 = 6: yhat = 47.6 + 16.8 = 64.4; se = sqrt(1.2 x (1 + 1/5 + 9/10)) = sqrt(2.52) = 1.587451
    #   t(df 3) = 3.182: margin = 5.051269; low = 59.348731; high = 69.451269
    forecast = performance.predict_next_score([50, 54, 55, 60, 61])
    assert forecast == {"predicted_percent": 64.4, "standard_error": 1.59, "low": 59.35, "high": 69.45,
                        "confidence_level": 0.95, "tests_used": 5, "slope_per_test": 2.8, "intercept": 47.6}


def test_scores_on_a_line_give_a_zero_width_interval() -> None:
    # Given 50, 55, 60, 65, 70 (exactly 5 points a test) / Then the next is 75 with no uncertainty
    forecast = performance.predict_next_score([50, 55, 60, 65, 70])
    assert forecast is not None
    assert (forecast["predicted_percent"], forecast["low"], forecast["high"]) == (75.0, 75.0, 75.0)
    assert forecast["standard_error"] == 0.0


@pytest.mark.parametrize("percents", [[], [70], [40, 80]])
def test_fewer_than_three_tests_give_no_forecast(percents: list[float]) -> None:
    assert performance.predict_next_score(percents) is None


def test_a_falling_line_is_clamped_at_0() -> None:
    # Given 30, 15, 0: the line predicts -15 / Then the forecast is 0 and so is the low end
    #   (residuals are 0, so the interval is [-15, -15] before clamping)
    forecast = performance.predict_next_score([30, 15, 0])
    assert forecast is not None
    assert (forecast["predicted_percent"], forecast["low"], forecast["high"]) == (0.0, 0.0, 0.0)
    assert forecast["slope_per_test"] == -15.0


def test_a_rising_line_is_clamped_at_100() -> None:
    # Given 80, 90, 100: the line predicts 110 / Then the forecast is 100
    forecast = performance.predict_next_score([80, 90, 100])
    assert forecast is not None
    assert (forecast["predicted_percent"], forecast["low"], forecast["high"]) == (100.0, 100.0, 100.0)


def test_negative_marking_scores_below_zero_are_fitted_as_they_are() -> None:
    # Given -10, 0, 10 (a raw score below zero is possible with negative marking)
    # Then the line is -20 + 10x, predicting 20 at x = 4
    forecast = performance.predict_next_score([-10, 0, 10])
    assert forecast is not None
    assert (forecast["predicted_percent"], forecast["intercept"]) == (20.0, -20.0)


percent_lists = st.lists(st.floats(-25, 100, allow_nan=False), min_size=3, max_size=40)


@settings(max_examples=300, deadline=None)
@given(percents=percent_lists)
def test_the_interval_holds_the_prediction_within_0_to_100(percents: list[float]) -> None:
    # Given any three or more scores / When forecast
    forecast = performance.predict_next_score(percents)
    # Then 0 <= low <= prediction <= high <= 100 and the standard error is not negative
    assert forecast is not None
    assert 0.0 <= forecast["low"] <= forecast["predicted_percent"] <= forecast["high"] <= 100.0
    assert forecast["standard_error"] >= 0.0
    assert forecast["tests_used"] == len(percents)


@settings(max_examples=300, deadline=None)
@given(xs=st.lists(st.integers(-100, 100), min_size=2, max_size=30, unique=True),
       data=st.data(), shift=st.floats(-1000, 1000, allow_nan=False))
def test_adding_a_constant_to_every_y_shifts_only_the_intercept(xs: list[int], data: st.DataObject,
                                                                shift: float) -> None:
    # Given any points and a constant
    ys = data.draw(st.lists(st.floats(-1000, 1000, allow_nan=False), min_size=len(xs), max_size=len(xs)))
    # When the constant is added to every y
    before = performance.least_squares(xs, ys)
    after = performance.least_squares(xs, [y + shift for y in ys])
    # Then the intercept moves by the constant and nothing else changes
    assert after.intercept == pytest.approx(before.intercept + shift, abs=1e-6)
    assert after.slope == pytest.approx(before.slope, abs=1e-6)
    assert after.residual_sd == pytest.approx(before.residual_sd, abs=1e-6)
    assert (after.n, after.sxx, after.mean_x) == (before.n, before.sxx, before.mean_x)


# --- consistency --------------------------------------------------------------------------------


def test_consistency_of_two_tests_by_hand() -> None:
    # Given 60 and 80: mean 70, population sd 10; 100 x (1 - 10/70) = 85.71 -> 86
    assert performance.consistency_score([60, 80]) == {"score": 86, "mean_percent": 70.0, "sd_percent": 10.0,
                                                       "tests": 2}


def test_consistency_of_three_tests_by_hand() -> None:
    # Given 40, 60, 80: mean 60, sd = sqrt((400 + 0 + 400) / 3) = 16.3299; 100 x (1 - 16.3299/60) = 72.78 -> 73
    assert performance.consistency_score([40, 60, 80]) == {"score": 73, "mean_percent": 60.0,
                                                           "sd_percent": 16.33, "tests": 3}


def test_a_spread_larger_than_the_mean_scores_0() -> None:
    # Given 0, 0, 90: mean 30, sd = sqrt((900 + 900 + 3600) / 3) = 42.43 > 30 -> max(0, negative) = 0
    result = performance.consistency_score([0, 0, 90])
    assert result is not None
    assert (result["score"], result["mean_percent"], result["sd_percent"]) == (0, 30.0, 42.43)


@pytest.mark.parametrize("percents", [[0, 0], [-10, -10], [-20, 10]])
def test_a_mean_of_zero_or_below_scores_0(percents: list[float]) -> None:
    result = performance.consistency_score(percents)
    assert result is not None
    assert result["score"] == 0


@pytest.mark.parametrize("percents", [[], [75]])
def test_fewer_than_two_tests_give_no_consistency(percents: list[float]) -> None:
    assert performance.consistency_score(percents) is None


@settings(max_examples=300, deadline=None)
@given(percents=st.lists(st.floats(-25, 100, allow_nan=False), min_size=2, max_size=40))
def test_the_consistency_score_is_an_integer_within_0_to_100(percents: list[float]) -> None:
    result = performance.consistency_score(percents)
    assert result is not None
    assert isinstance(result["score"], int)
    assert 0 <= result["score"] <= 100
    assert result["sd_percent"] >= 0.0


@settings(max_examples=200, deadline=None)
@given(percent=st.floats(0.01, 100, allow_nan=False), n=st.integers(2, 40))
def test_the_same_positive_score_every_time_is_perfectly_consistent(percent: float, n: int) -> None:
    result = performance.consistency_score([percent] * n)
    assert result is not None
    assert (result["score"], result["sd_percent"]) == (100, 0.0)


# --- chapter priority ---------------------------------------------------------------------------


@pytest.mark.parametrize(("accuracy", "expected"), [(0.0, 0.5), (0.5, 1.0), (1.0, 0.5), (0.3, 0.92), (0.9, 0.68)])
def test_scoring_potential_by_hand(accuracy: float, expected: float) -> None:
    # 0.5 + 2a(1 - a): a = 0.3 -> 0.5 + 0.42 = 0.92; a = 0.9 -> 0.5 + 0.18 = 0.68
    assert performance.scoring_potential(accuracy) == pytest.approx(expected)


@pytest.mark.parametrize("accuracy", [-0.01, 1.01, math.nan])
def test_scoring_potential_rejects_accuracies_outside_0_to_1(accuracy: float) -> None:
    with pytest.raises(ValueError):
        performance.scoring_potential(accuracy)


def test_chapter_priority_by_hand() -> None:
    # Given weightage 10 and 3 of 10 right
    #   a = 0.3, weakness 0.7, potential 0.5 + 2 x 0.3 x 0.7 = 0.92, priority 10 x 0.7 x 0.92 = 6.44
    assert performance.chapter_priority(10, 3, 10) == {"accuracy": 0.3, "weakness": 0.7,
                                                       "scoring_potential": 0.92, "priority": 6.44}


def test_chapter_priority_rounds_to_4_decimals() -> None:
    # Given weightage 7 and 1 of 3 right
    #   a = 0.333333, weakness 0.666667, potential 0.5 + 2 x 1/3 x 2/3 = 0.944444, priority 7 x 2/3 x 17/18 = 4.407407
    assert performance.chapter_priority(7, 1, 3) == {"accuracy": 0.3333, "weakness": 0.6667,
                                                     "scoring_potential": 0.9444, "priority": 4.4074}


def test_a_chapter_never_got_right_ranks_below_one_partly_known() -> None:
    # Given the same weightage: 0/10 right -> 1 x 0.5 = 0.5; 3/10 right -> 0.7 x 0.92 = 0.644
    never, partly = performance.chapter_priority(1, 0, 10), performance.chapter_priority(1, 3, 10)
    # Then the partly known chapter converts to marks faster and ranks higher
    assert (never["priority"], partly["priority"]) == (0.5, 0.644)


@pytest.mark.parametrize(("weightage", "correct", "total"), [
    (10, 0, 0), (10, 0, -1), (10, -1, 5), (10, 6, 5), (-0.1, 1, 2), (math.nan, 1, 2), (math.inf, 1, 2),
])
def test_chapter_priority_rejects_impossible_inputs(weightage: float, correct: int, total: int) -> None:
    with pytest.raises(ValueError):
        performance.chapter_priority(weightage, correct, total)


answers = st.integers(1, 500).flatmap(lambda total: st.tuples(st.integers(0, total), st.just(total)))


@settings(max_examples=300, deadline=None)
@given(weightage=st.floats(0, 100, allow_nan=False), answer=answers)
def test_priority_lies_within_0_and_the_weightage(weightage: float, answer: tuple[int, int]) -> None:
    # weakness and potential are both within 0..1
    correct, total = answer
    priority = performance.chapter_priority(weightage, correct, total)["priority"]
    assert 0.0 <= priority <= weightage + 5e-5  # + half a unit of the 4th decimal


@settings(max_examples=200, deadline=None)
@given(weightage=st.floats(0, 100, allow_nan=False), total=st.integers(1, 500))
def test_a_mastered_chapter_has_no_priority(weightage: float, total: int) -> None:
    assert performance.chapter_priority(weightage, total, total)["priority"] == 0.0


@settings(max_examples=300, deadline=None)
@given(weightage=st.floats(0, 100, allow_nan=False), factor=st.floats(0, 10, allow_nan=False), answer=answers)
def test_priority_scales_linearly_with_weightage(weightage: float, factor: float, answer: tuple[int, int]) -> None:
    correct, total = answer
    base = performance.chapter_priority(weightage, correct, total)["priority"]
    scaled = performance.chapter_priority(weightage * factor, correct, total)["priority"]
    # Each side is rounded to 4 decimals, so they agree within the rounding carried through the factor
    assert scaled == pytest.approx(base * factor, abs=5e-5 * (1 + factor))


@settings(max_examples=300, deadline=None)
@given(total=st.integers(1, 200), data=st.data())
def test_from_a_quarter_right_upwards_more_accuracy_never_raises_priority(total: int, data: st.DataObject) -> None:
    # (1 - a)(0.5 + 2a - 2a^2) has derivative 6a^2 - 8a + 1.5, negative for a in (0.2257, 1]: the priority
    # falls from there on. Below it, it rises (0/10 right ranks below 3/10 right, see above).
    low = data.draw(st.integers(math.ceil(total / 4), total))
    high = data.draw(st.integers(low, total))
    assume(low < high)
    first = performance.chapter_priority(10, low, total)["priority"]
    second = performance.chapter_priority(10, high, total)["priority"]
    assert second <= first


# --- accuracy bands -----------------------------------------------------------------------------


@pytest.mark.parametrize(("accuracy", "band"), [
    (None, "unseen"), (1.0, "strong"), (0.75, "strong"), (0.7499, "fair"), (0.5, "fair"), (0.4999, "weak"),
    (0.0, "weak"),
])
def test_accuracy_bands_at_their_boundaries(accuracy: float | None, band: str) -> None:
    assert performance.accuracy_band(accuracy) == band


@pytest.mark.parametrize("accuracy", [-0.1, 1.1, math.nan])
def test_an_accuracy_outside_0_to_1_has_no_band(accuracy: float) -> None:
    with pytest.raises(ValueError):
        performance.accuracy_band(accuracy)


# --- study load ---------------------------------------------------------------------------------


def test_more_time_and_worse_results_say_ease_off() -> None:
    # Given an earlier week of 60 min/day at 8/10 right and a recent week of 80 min/day at 7/10 right
    #   minutes 420 -> 560 (>= 1.2 x 420 = 504); accuracy 56/70 = 0.8 -> 49/70 = 0.7 (<= 0.8 - 0.05)
    #   trend: x = 0..13, mean 6.5, Sxx = 2 x (0.25 + 2.25 + ... + 42.25) = 227.5;
    #   minutes - mean = -10 then +10, Sxy = 10 x 24.5 + 10 x 24.5 = 490; slope = 490 / 227.5 = 2.1538
    days = week(EARLIER, 60, 10, 8) + week(RECENT, 80, 10, 7)
    # When the load is read
    load = performance.study_load(days, TODAY)
    # Then
    assert (load["minutes_earlier"], load["minutes_recent"]) == (420.0, 560.0)
    assert (load["accuracy_earlier"], load["accuracy_recent"]) == (0.8, 0.7)
    assert load["minutes_trend_per_day"] == 2.15
    assert load["signal"] == "ease_off"
    assert load["message"]


def test_more_time_with_steady_results_is_steady() -> None:
    # Given double the minutes and the same 80% accuracy
    load = performance.study_load(week(EARLIER, 30, 10, 8) + week(RECENT, 60, 10, 8), TODAY)
    assert load["signal"] == "steady"
    assert load["message"]


def test_worse_results_without_more_time_is_steady() -> None:
    # Given the same minutes (not a rise) and accuracy 0.8 -> 0.5
    load = performance.study_load(week(EARLIER, 60, 10, 8) + week(RECENT, 60, 10, 5), TODAY)
    assert load["signal"] == "steady"


def test_a_rise_just_under_1_2_is_steady() -> None:
    # Given 100 -> 119.9 minutes (one day each week) and accuracy 0.8 -> 0.5
    days = [DayLoad(EARLIER, 100, 40, 32), DayLoad(RECENT, 119.9, 40, 20)]
    assert performance.study_load(days, TODAY)["signal"] == "steady"


def test_a_drop_just_under_0_05_is_steady() -> None:
    # Given double the minutes and accuracy 0.80 -> 0.76 (100 answers a week)
    days = [DayLoad(EARLIER, 100, 100, 80), DayLoad(RECENT, 200, 100, 76)]
    assert performance.study_load(days, TODAY)["signal"] == "steady"


def test_exactly_1_2_times_the_minutes_and_exactly_0_05_lower_accuracy_say_ease_off() -> None:
    # Given 10.3 -> 12.36 minutes (exactly 1.2 x) and accuracy 0.85 -> 0.80 (exactly 0.05 lower)
    #   in floats 1.2 * 10.3 = 12.360000000000001 > 12.36 and 0.85 - 0.05 = 0.7999999999999999 < 0.8:
    #   the thresholds are inclusive all the same
    days = [DayLoad(EARLIER, 10.3, 100, 85), DayLoad(RECENT, 12.36, 100, 80)]
    assert performance.study_load(days, TODAY)["signal"] == "ease_off"


def test_ease_off_needs_more_minutes_not_only_1_2_times_zero() -> None:
    # Given no minutes logged in either week (1.2 x 0 = 0 <= 0) and accuracy 0.8 -> 0.5
    days = week(EARLIER, 0, 10, 8) + week(RECENT, 0, 10, 5)
    # Then nothing says more time went in: steady
    assert performance.study_load(days, TODAY)["signal"] == "steady"


@pytest.mark.parametrize(("earlier_answers", "recent_answers"), [(19, 40), (40, 19), (0, 0)])
def test_fewer_than_20_answers_in_a_week_is_not_enough_data(earlier_answers: int, recent_answers: int) -> None:
    # Given a week below 20 answers, even with more time and far worse accuracy
    days = [DayLoad(EARLIER, 10, earlier_answers, earlier_answers),
            DayLoad(RECENT, 500, recent_answers, 0)]
    load = performance.study_load(days, TODAY)
    assert load["signal"] == "not_enough_data"
    assert load["message"]


def test_exactly_20_answers_a_week_is_enough() -> None:
    days = [DayLoad(EARLIER, 10, 20, 20), DayLoad(RECENT, 500, 20, 0)]
    assert performance.study_load(days, TODAY)["signal"] == "ease_off"


def test_missing_days_are_filled_with_zero_days() -> None:
    # Given only two logged days
    days = [DayLoad(WINDOW_START + timedelta(days=3), 25.04, 4, 3), DayLoad(TODAY, 10, 0, 0)]
    load = performance.study_load(days, TODAY)
    # Then all 14 days appear, oldest first, the missing ones with zeros and no accuracy
    rows = load["days"]
    assert [r["date"] for r in rows] == [(WINDOW_START + timedelta(days=i)).isoformat() for i in range(14)]
    assert rows[0] == {"date": "2026-03-02", "minutes": 0.0, "answered": 0, "correct": 0, "accuracy": None}
    assert rows[3] == {"date": "2026-03-05", "minutes": 25.0, "answered": 4, "correct": 3, "accuracy": 0.75}
    assert rows[13] == {"date": "2026-03-15", "minutes": 10.0, "answered": 0, "correct": 0, "accuracy": None}
    assert (load["minutes_earlier"], load["minutes_recent"]) == (25.0, 10.0)
    assert (load["accuracy_earlier"], load["accuracy_recent"]) == (0.75, None)
    assert load["signal"] == "not_enough_data"


def test_no_days_at_all_give_an_empty_window() -> None:
    load = performance.study_load([], TODAY)
    assert len(load["days"]) == 14
    assert (load["minutes_recent"], load["minutes_earlier"], load["minutes_trend_per_day"]) == (0.0, 0.0, 0.0)
    assert (load["accuracy_recent"], load["accuracy_earlier"], load["signal"]) == (None, None, "not_enough_data")


def test_days_outside_the_window_are_ignored() -> None:
    # Given the steady example plus a huge day just before the window and one after today
    days = week(EARLIER, 30, 10, 8) + week(RECENT, 30, 10, 8) + [
        DayLoad(WINDOW_START - timedelta(days=1), 1000, 100, 0),
        DayLoad(TODAY + timedelta(days=1), 1000, 100, 0),
    ]
    load = performance.study_load(days, TODAY)
    # Then they count nowhere
    assert (load["minutes_earlier"], load["minutes_recent"]) == (210.0, 210.0)
    assert (load["accuracy_earlier"], load["accuracy_recent"]) == (0.8, 0.8)
    assert load["minutes_trend_per_day"] == 0.0
    assert load["days"][0]["date"] == "2026-03-02" and load["days"][-1]["date"] == "2026-03-15"


def test_a_date_given_twice_is_rejected() -> None:
    days = [DayLoad(TODAY, 10, 1, 1), DayLoad(TODAY, 20, 2, 1)]
    with pytest.raises(ValueError, match="2026-03-15"):
        performance.study_load(days, TODAY)


@pytest.mark.parametrize(("minutes", "answered", "correct"), [(-1, 0, 0), (math.nan, 0, 0), (0, 2, 3), (0, 2, -1)])
def test_an_impossible_day_is_rejected(minutes: float, answered: int, correct: int) -> None:
    with pytest.raises(ValueError):
        DayLoad(TODAY, minutes, answered, correct)


day_loads = st.builds(DayLoad, day=st.integers(-20, 5).map(lambda i: TODAY + timedelta(days=i)),
                      minutes=st.floats(0, 600, allow_nan=False), answered=st.integers(0, 200),
                      correct=st.just(0))


@settings(max_examples=200, deadline=None)
@given(days=st.lists(day_loads, max_size=30, unique_by=lambda d: d.day))
def test_the_window_is_always_the_14_days_ending_today(days: list[DayLoad]) -> None:
    load = performance.study_load(days, TODAY)
    # Then 14 consecutive dates ending today, and the two weeks' minutes are the in-window minutes
    assert [r["date"] for r in load["days"]] == [(WINDOW_START + timedelta(days=i)).isoformat() for i in range(14)]
    inside = [d for d in days if WINDOW_START <= d.day <= TODAY]
    total = math.fsum(d.minutes for d in inside)
    assert load["minutes_earlier"] + load["minutes_recent"] == pytest.approx(total, abs=0.1)
    assert load["signal"] in ("ease_off", "steady", "not_enough_data")
