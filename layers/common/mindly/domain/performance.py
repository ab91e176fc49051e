"""The mock-test dashboard's arithmetic: score forecast, consistency, chapter priority, study load.

Score forecast. Mock test i (oldest first, i = 1..n) scored y_i percent of its maximum. An ordinary
least-squares line y = intercept + slope * x through the points (i, y_i) predicts the next test at
x0 = n + 1. The range around it is the 95% prediction interval for one new observation,
yhat +/- t(0.975, n - 2) * s * sqrt(1 + 1/n + (x0 - mean x)^2 / Sxx), where s is the residual
standard deviation sqrt(SSE / (n - 2)). Three tests are the fewest that leave a residual to measure
(n - 2 >= 1); with so few the t value is large (12.706 at n = 3) and the range says so honestly.
Percentages are clamped to 0..100 only when reported: negative marking (JEE, NEET, GATE, CAT) can
put a raw score below zero, and the line is fitted on what the student really scored.

Consistency. 100 * max(0, 1 - sd / mean) over the tests' percentages (population sd), so 100 is the
same score every time and 0 is a spread as large as the mean itself (or a mean of zero or below).

Chapter priority. weightage * weakness * scoring potential, with accuracy a = correct / total,
weakness 1 - a and potential 0.5 + 2a(1 - a). The potential is 0.5 at a = 0 (the chapter needs its
foundations first) and at a = 1 (nothing left to win), and 1.0 at a = 0.5, where partial knowledge
turns into marks fastest. Over a the priority peaks near a = 0.23 and falls from there to 0 at a = 1.

Study load. Over the 14 local days ending today, the recent 7 days are compared with the 7 before.
When the student put in clearly more time (at least LOAD_RISE times as many minutes) and got
clearly worse (accuracy down by ACCURACY_DROP or more), more hours are not helping: the signal is
"ease_off" (rest or revise). Fewer than MIN_ANSWERS_PER_HALF answers in either week is too little
to judge accuracy by.
"""

from __future__ import annotations

import math
import statistics
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date, timedelta
from typing import Any, NamedTuple

# --- least squares ------------------------------------------------------------------------------


class Fit(NamedTuple):
    """An ordinary least-squares line and what a prediction interval needs from it."""

    slope: float
    intercept: float
    n: int
    residual_sd: float  # sqrt(SSE / (n - 2)); 0.0 when n == 2 (two points leave no residual)
    sxx: float  # sum of (x - mean x)^2
    mean_x: float


def least_squares(xs: Sequence[float], ys: Sequence[float]) -> Fit:
    """The OLS line through the points (xs[i], ys[i]).

    ValueError when the lengths differ, there are fewer than two points, a value is not finite or all
    xs are equal (no line is determined).
    """
    if len(xs) != len(ys):
        raise ValueError("xs and ys must have the same length")
    n = len(xs)
    if n < 2:
        raise ValueError("a line needs at least two points")
    if not all(math.isfinite(v) for v in (*xs, *ys)):
        raise ValueError("xs and ys must be finite")
    if min(xs) == max(xs):
        raise ValueError("all xs are equal: no line is determined")
    mean_x, mean_y = math.fsum(xs) / n, math.fsum(ys) / n
    # Centred sums: far steadier in floating point than sum(x*y) - n*mean_x*mean_y.
    sxx = math.fsum((x - mean_x) ** 2 for x in xs)
    sxy = math.fsum((x - mean_x) * (y - mean_y) for x, y in zip(xs, ys, strict=True))
    slope = sxy / sxx
    intercept = mean_y - slope * mean_x
    sse = math.fsum((y - (intercept + slope * x)) ** 2 for x, y in zip(xs, ys, strict=True))
    residual_sd = math.sqrt(sse / (n - 2)) if n > 2 else 0.0
    return Fit(slope=slope, intercept=intercept, n=n, residual_sd=residual_sd, sxx=sxx, mean_x=mean_x)


# --- Student's t --------------------------------------------------------------------------------

# Two-sided 95% critical values t(0.975, df) for df = 1..30, as printed in the standard tables.
_T975 = (
    12.706, 4.303, 3.182, 2.776, 2.571, 2.447, 2.365, 2.306, 2.262, 2.228,
    2.201, 2.179, 2.160, 2.145, 2.131, 2.120, 2.110, 2.101, 2.093, 2.086,
    2.080, 2.074, 2.069, 2.064, 2.060, 2.056, 2.052, 2.048, 2.045, 2.042,
)
_Z975 = 1.959963984540054  # the normal quantile the t values approach as df grows


def t_quantile_975(df: int) -> float:
    """The two-sided 95% Student t critical value for ``df`` degrees of freedom.

    The published table for df 1..30; past it the Cornish-Fisher expansion of t in powers of 1/df
    (Abramowitz and Stegun 26.7.5), which agrees with the tables to 3 decimals there (2.021 at 40,
    2.000 at 60, 1.980 at 120) and tends to 1.96. ValueError for df < 1.
    """
    if df < 1:
        raise ValueError("degrees of freedom must be at least 1")
    if df <= len(_T975):
        return _T975[df - 1]
    z = _Z975
    g1 = (z**3 + z) / 4
    g2 = (5 * z**5 + 16 * z**3 + 3 * z) / 96
    g3 = (3 * z**7 + 19 * z**5 + 17 * z**3 - 15 * z) / 384
    g4 = (79 * z**9 + 776 * z**7 + 1482 * z**5 - 1920 * z**3 - 945 * z) / 92160
    return z + g1 / df + g2 / df**2 + g3 / df**3 + g4 / df**4


# --- score forecast -----------------------------------------------------------------------------

MIN_TESTS_FOR_PREDICTION = 3
CONFIDENCE_LEVEL = 0.95


def _clamp_percent(value: float) -> float:
    return min(100.0, max(0.0, value))


def _rounded(value: float, places: int) -> float:
    """``value`` rounded, with -0.0 shown as 0.0 (a tiny negative slope must not read "-0.0")."""
    return round(value, places) + 0.0


def predict_next_score(percents: Sequence[float]) -> dict[str, Any] | None:
    """The next mock test's expected percentage and its 95% prediction interval.

    ``percents`` are the recorded tests' scores as percent of the maximum, oldest first. None with
    fewer than MIN_TESTS_FOR_PREDICTION tests. The prediction and its bounds are clamped to 0..100;
    everything is rounded to 2 decimals.
    """
    n = len(percents)
    if n < MIN_TESTS_FOR_PREDICTION:
        return None
    fit = least_squares(range(1, n + 1), percents)
    x0 = n + 1
    yhat = fit.intercept + fit.slope * x0
    se = fit.residual_sd * math.sqrt(1 + 1 / n + (x0 - fit.mean_x) ** 2 / fit.sxx)
    margin = t_quantile_975(n - 2) * se
    return {
        "predicted_percent": _rounded(_clamp_percent(yhat), 2),
        "standard_error": _rounded(se, 2),
        "low": _rounded(_clamp_percent(yhat - margin), 2),
        "high": _rounded(_clamp_percent(yhat + margin), 2),
        "confidence_level": CONFIDENCE_LEVEL,
        "tests_used": n,
        "slope_per_test": _rounded(fit.slope, 2),
        "intercept": _rounded(fit.intercept, 2),
    }


# --- consistency --------------------------------------------------------------------------------

MIN_TESTS_FOR_CONSISTENCY = 2


def consistency_score(percents: Sequence[float]) -> dict[str, Any] | None:
    """How steady the student's mock-test percentages are, 0..100 (100: the same score every time).

    None with fewer than MIN_TESTS_FOR_CONSISTENCY tests. A mean of zero or below scores 0.
    """
    n = len(percents)
    if n < MIN_TESTS_FOR_CONSISTENCY:
        return None
    mean = statistics.fmean(percents)
    sd = statistics.pstdev(percents)  # exact for equal values, so identical scores give sd 0.0 and 100
    score = round(100 * max(0.0, 1 - sd / mean)) if mean > 0 else 0
    return {"score": score, "mean_percent": _rounded(mean, 2), "sd_percent": _rounded(sd, 2), "tests": n}


# --- chapter priority ---------------------------------------------------------------------------


def scoring_potential(accuracy: float) -> float:
    """How readily a chapter at ``accuracy`` turns into marks: 0.5 + 2a(1 - a), from 0.5 to 1.0.

    ValueError outside [0, 1].
    """
    if not 0.0 <= accuracy <= 1.0:
        raise ValueError("accuracy must be within 0..1")
    return 0.5 + 2 * accuracy * (1 - accuracy)


def chapter_priority(weightage: float, correct: int, total: int) -> dict[str, float]:
    """A chapter's study priority: weightage x weakness x scoring potential (rounded to 4 decimals).

    ValueError when total <= 0, correct is outside 0..total, or weightage is negative or not finite.
    """
    if total <= 0:
        raise ValueError("total must be positive")
    if not 0 <= correct <= total:
        raise ValueError("correct must be within 0..total")
    if not (math.isfinite(weightage) and weightage >= 0):
        raise ValueError("weightage must be a finite number >= 0")
    accuracy = correct / total
    weakness = 1 - accuracy
    potential = scoring_potential(accuracy)
    return {
        "accuracy": _rounded(accuracy, 4),
        "weakness": _rounded(weakness, 4),
        "scoring_potential": _rounded(potential, 4),
        "priority": _rounded(weightage * weakness * potential, 4),
    }


ACCURACY_BANDS = (("strong", 0.75), ("fair", 0.5), ("weak", 0.0))
UNSEEN = "unseen"


def accuracy_band(accuracy: float | None) -> str:
    """The band of a chapter's accuracy: "strong", "fair", "weak", or "unseen" when never practised.

    ValueError for an accuracy outside [0, 1].
    """
    if accuracy is None:
        return UNSEEN
    if not 0.0 <= accuracy <= 1.0:
        raise ValueError("accuracy must be within 0..1")
    return next(name for name, lower in ACCURACY_BANDS if lower <= accuracy)


# --- study load ---------------------------------------------------------------------------------


@dataclass(frozen=True)
class DayLoad:
    """One local day of study: minutes spent and questions answered (and got right)."""

    day: date
    minutes: float
    answered: int
    correct: int

    def __post_init__(self) -> None:
        if not (math.isfinite(self.minutes) and self.minutes >= 0):
            raise ValueError("minutes must be a finite number >= 0")
        if not 0 <= self.correct <= self.answered:
            raise ValueError("correct must be within 0..answered")


LOAD_WINDOW_DAYS = 14
HALF_DAYS = LOAD_WINDOW_DAYS // 2
MIN_ANSWERS_PER_HALF = 20
LOAD_RISE = 1.2
ACCURACY_DROP = 0.05
EASE_OFF, STEADY, NOT_ENOUGH_DATA = "ease_off", "steady", "not_enough_data"
# Thresholds are inclusive: 120 minutes against 100 is a rise of 1.2 and 0.80 -> 0.75 a drop of 0.05,
# even though the float arithmetic for them lands a hair on the other side.
_TOLERANCE = 1e-9


def _accuracy(correct: int, answered: int) -> float | None:
    return correct / answered if answered else None


def _window(days: Sequence[DayLoad], today: date) -> list[DayLoad]:
    """The LOAD_WINDOW_DAYS days ending ``today``, oldest first, with the missing ones as zero days."""
    by_day: dict[date, DayLoad] = {}
    for load in days:
        if load.day in by_day:
            raise ValueError(f"more than one entry for {load.day.isoformat()}")
        by_day[load.day] = load
    first = today - timedelta(days=LOAD_WINDOW_DAYS - 1)
    window = (first + timedelta(days=i) for i in range(LOAD_WINDOW_DAYS))
    return [by_day.get(day, DayLoad(day, 0.0, 0, 0)) for day in window]


class _Half(NamedTuple):
    """One week's totals."""

    minutes: float
    answered: int
    correct: int

    @classmethod
    def of(cls, loads: Sequence[DayLoad]) -> _Half:
        return cls(math.fsum(d.minutes for d in loads), sum(d.answered for d in loads),
                   sum(d.correct for d in loads))

    @property
    def accuracy(self) -> float | None:
        return _accuracy(self.correct, self.answered)


def _signal(earlier: _Half, recent: _Half) -> tuple[str, str]:
    """The load signal and its sentence for the student."""
    if min(earlier.answered, recent.answered) < MIN_ANSWERS_PER_HALF:
        return NOT_ENOUGH_DATA, (f"Answer at least {MIN_ANSWERS_PER_HALF} questions in each of the last two weeks "
                                 "to compare your study load.")
    more_time = (recent.minutes > earlier.minutes
                 and recent.minutes >= LOAD_RISE * earlier.minutes - _TOLERANCE)
    worse = recent.correct / recent.answered <= earlier.correct / earlier.answered - ACCURACY_DROP + _TOLERANCE
    if more_time and worse:
        return EASE_OFF, ("You studied more this week than last but your accuracy fell: "
                          "rest or revise what you got wrong rather than adding hours.")
    return STEADY, "Your study time and accuracy are holding steady."


def _day_row(load: DayLoad) -> dict[str, Any]:
    accuracy = _accuracy(load.correct, load.answered)
    return {"date": load.day.isoformat(), "minutes": _rounded(load.minutes, 1), "answered": load.answered,
            "correct": load.correct, "accuracy": None if accuracy is None else _rounded(accuracy, 4)}


def study_load(days: Sequence[DayLoad], today: date) -> dict[str, Any]:
    """The last two weeks' study load, ending on the student's local ``today``, and what it suggests.

    Days outside the window are ignored, missing ones count as zero; ValueError for a date given
    twice.
    """
    window = _window(days, today)
    earlier, recent = _Half.of(window[:HALF_DAYS]), _Half.of(window[HALF_DAYS:])
    trend = least_squares(range(LOAD_WINDOW_DAYS), [d.minutes for d in window]).slope
    signal, message = _signal(earlier, recent)
    return {
        "days": [_day_row(d) for d in window],
        "minutes_recent": _rounded(recent.minutes, 1),
        "minutes_earlier": _rounded(earlier.minutes, 1),
        "accuracy_recent": None if recent.accuracy is None else _rounded(recent.accuracy, 4),
        "accuracy_earlier": None if earlier.accuracy is None else _rounded(earlier.accuracy, 4),
        "minutes_trend_per_day": _rounded(trend, 2),
        "signal": signal,
        "message": message,
    }
