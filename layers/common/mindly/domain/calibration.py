"""Confidence calibration: does the student know what they know? (API.md "Analytics").

Before answering, the student rates their confidence c from 1 (a guess) to 5 (certain). On a
question with k options that rating stands for the probability of being right

    p = 1/k + (c - 1) * (1 - 1/k) / 4

so c = 1 is chance and c = 5 is certainty, in four equal steps. For k = 4 this is API.md's
p = 0.25 + (c - 1) x 0.1875.

Over a set of answers: bias = mean p - accuracy (positive = overconfident), brier = mean (p - correct)^2,
and the calibration score is the point-biserial correlation between c and correctness, reported only
with at least 20 answers holding at least 3 right and 3 wrong (below that a correlation is noise).

A topic is judged only with at least 10 answers. It is overconfident when its bias is at least 0.15
and even the upper 95% Wilson bound of its accuracy is below its mean p; underconfident when its bias
is at most -0.15 and the lower Wilson bound is above its mean p. The Wilson test keeps a few unlucky
answers from branding a topic: the gap has to be both large and unlikely to be chance.

Sums of floats use ``math.fsum`` (exactly rounded), so a report does not depend on the order of
the answers.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from typing import Any, NamedTuple

MIN_TOPIC_ATTEMPTS = 10
TOPIC_BIAS_THRESHOLD = 0.15
MIN_SCORE_ATTEMPTS = 20
MIN_EACH_OUTCOME = 3
Z_95 = 1.959963984540054
CONFIDENCES = range(1, 6)
DEFAULT_OPTIONS = 4
DECIMALS = 4
# Biases are differences of floats: 0.95 - 0.8 is 0.1499999999999999. A bias that is exactly the
# threshold on paper must count, so the comparison allows this much float noise.
BIAS_TOLERANCE = 1e-12


class Answer(NamedTuple):
    """One answered question: the confidence stated before answering and whether it was right."""

    confidence: int
    correct: bool
    subject: str
    topic: str
    options: int = DEFAULT_OPTIONS


def probability(confidence: int, options: int = DEFAULT_OPTIONS) -> float:
    """The chance of being right that ``confidence`` (1..5) claims on a question with ``options`` options
    (0 for a numeric question: its chance is 0, so p = (c - 1) / 4, API.md).

    p = 1/k + (c - 1) * (1 - 1/k) / 4, computed as ((k - 1)(c - 1) + 4) / (4k) so it is a single
    division: exact for k = 4 (multiples of 1/16) and exactly 1.0 at c = 5.
    """
    if confidence not in CONFIDENCES:
        raise ValueError("confidence must be 1..5")
    if options == 0:  # a numeric question: no chance to guess, so c = 1 claims 0 and each step 1/4
        return (confidence - 1) / 4
    if options < 2:
        raise ValueError("a question needs at least 2 options (0 for a numeric question)")
    return ((options - 1) * (confidence - 1) + 4) / (4 * options)


def wilson_interval(successes: int, n: int, z: float = Z_95) -> tuple[float, float]:
    """The Wilson score interval for ``successes`` out of ``n``; (0.0, 1.0) when there are no trials.

    With p = successes / n: centre = (p + z^2 / 2n) / (1 + z^2 / n) and
    half-width = z / (1 + z^2 / n) * sqrt(p(1 - p) / n + z^2 / 4n^2). At p = 0 the lower bound is 0
    and at p = 1 the upper bound is 1 exactly (floats would land a hair off).
    """
    if n < 0 or not 0 <= successes <= n:
        raise ValueError("successes must be between 0 and n")
    if n == 0:
        return 0.0, 1.0
    share = successes / n
    z2 = z * z
    denominator = 1 + z2 / n
    centre = (share + z2 / (2 * n)) / denominator
    half = z / denominator * math.sqrt(share * (1 - share) / n + z2 / (4 * n * n))
    low = 0.0 if successes == 0 else max(0.0, centre - half)
    high = 1.0 if successes == n else min(1.0, centre + half)
    return low, high


def point_biserial(confidences: Sequence[int], corrects: Sequence[bool]) -> float | None:
    """The Pearson correlation between confidence and correctness (0/1), i.e. the point-biserial r.

    None with fewer than 2 answers or when either variable never varies. The sums are integers, so
    only the final square root rounds.
    """
    if len(confidences) != len(corrects):
        raise ValueError("confidences and corrects must have the same length")
    n = len(confidences)
    if n < 2:
        return None
    ys = [1 if correct else 0 for correct in corrects]
    sum_x, sum_y = sum(confidences), sum(ys)
    spread_x = n * sum(x * x for x in confidences) - sum_x * sum_x
    spread_y = n * sum_y - sum_y * sum_y  # y * y == y for 0/1
    if spread_x == 0 or spread_y == 0:
        return None
    covariance = n * sum(x * y for x, y in zip(confidences, ys, strict=True)) - sum_x * sum_y
    return max(-1.0, min(1.0, covariance / math.sqrt(spread_x * spread_y)))


def report(answers: Sequence[Answer]) -> dict[str, Any]:
    """The calibration report of API.md for ``answers`` (without ``week``, which the caller adds).

    Values are rounded to 4 decimals; None where they are undefined (no answers, too few for a score).
    """
    summary = _Summary.of(answers)
    topics = [_Summary.of(group) for group in _by_topic(answers).values()]
    judged = [topic for topic in topics if topic.attempts >= MIN_TOPIC_ATTEMPTS]
    over = sorted((t for t in judged if t.overconfident), key=lambda t: t.sort_key(-1))
    under = sorted((t for t in judged if t.underconfident), key=lambda t: t.sort_key(1))
    return {
        "attempts": summary.attempts,
        "accuracy": _round(summary.accuracy),
        "mean_confidence": _round(summary.mean_p),
        "bias": _round(summary.bias),
        "brier": _round(summary.brier),
        "calibration_score": _round(calibration_score(answers)),
        "curve": curve(answers),
        "overconfident_topics": [topic.row() for topic in over],
        "underconfident_topics": [topic.row() for topic in under],
    }


def calibration_score(answers: Sequence[Answer]) -> float | None:
    """The point-biserial r of ``answers``, or None with too few answers, rights or wrongs to mean anything."""
    right = sum(1 for answer in answers if answer.correct)
    wrong = len(answers) - right
    if len(answers) < MIN_SCORE_ATTEMPTS or min(right, wrong) < MIN_EACH_OUTCOME:
        return None
    return point_biserial([a.confidence for a in answers], [a.correct for a in answers])


def curve(answers: Sequence[Answer]) -> list[dict[str, Any]]:
    """One row per confidence level 1..5: the probability it claims and the accuracy it got."""
    rows = []
    for level in CONFIDENCES:
        at_level = _Summary.of([answer for answer in answers if answer.confidence == level])
        claimed = at_level.mean_p if at_level.attempts else probability(level, DEFAULT_OPTIONS)
        rows.append({"confidence": level, "probability": _round(claimed), "attempts": at_level.attempts,
                     "accuracy": _round(at_level.accuracy)})
    return rows


class _Summary(NamedTuple):
    """Totals of a group of answers (all of them, one topic or one confidence level), unrounded."""

    attempts: int
    right: int
    p_total: float
    squared_error_total: float
    subject: str = ""
    topic: str = ""

    @classmethod
    def of(cls, answers: Sequence[Answer]) -> _Summary:
        ps = [probability(answer.confidence, answer.options) for answer in answers]
        errors = [(p - (1.0 if answer.correct else 0.0)) ** 2 for p, answer in zip(ps, answers, strict=True)]
        first = answers[0] if answers else None
        return cls(attempts=len(answers), right=sum(1 for answer in answers if answer.correct),
                   p_total=math.fsum(ps), squared_error_total=math.fsum(errors),
                   subject=first.subject if first else "", topic=first.topic if first else "")

    @property
    def accuracy(self) -> float | None:
        return self.right / self.attempts if self.attempts else None

    @property
    def mean_p(self) -> float | None:
        return self.p_total / self.attempts if self.attempts else None

    @property
    def bias(self) -> float | None:
        return self._mean_p_minus_accuracy() if self.attempts else None

    @property
    def brier(self) -> float | None:
        return self.squared_error_total / self.attempts if self.attempts else None

    @property
    def overconfident(self) -> bool:
        if not self.attempts:
            return False
        _, high = wilson_interval(self.right, self.attempts)
        bias = self._mean_p_minus_accuracy()
        return bias >= TOPIC_BIAS_THRESHOLD - BIAS_TOLERANCE and high < self.p_total / self.attempts

    @property
    def underconfident(self) -> bool:
        if not self.attempts:
            return False
        low, _ = wilson_interval(self.right, self.attempts)
        bias = self._mean_p_minus_accuracy()
        return bias <= -TOPIC_BIAS_THRESHOLD + BIAS_TOLERANCE and low > self.p_total / self.attempts

    def sort_key(self, direction: int) -> tuple[float, str, str]:
        """By the bias shown (rounded), ``direction`` -1 for largest first, then by subject and topic."""
        return direction * round(self._mean_p_minus_accuracy(), DECIMALS), self.subject, self.topic

    def _mean_p_minus_accuracy(self) -> float:
        return self.p_total / self.attempts - self.right / self.attempts

    def row(self) -> dict[str, Any]:
        low, high = wilson_interval(self.right, self.attempts)
        return {"subject": self.subject, "topic": self.topic, "attempts": self.attempts,
                "accuracy": _round(self.accuracy), "mean_confidence": _round(self.mean_p), "bias": _round(self.bias),
                "wilson_low": _round(low), "wilson_high": _round(high)}


def _by_topic(answers: Sequence[Answer]) -> dict[tuple[str, str], list[Answer]]:
    groups: dict[tuple[str, str], list[Answer]] = {}
    for answer in answers:
        groups.setdefault((answer.subject, answer.topic), []).append(answer)
    return groups


def _round(value: float | None) -> float | None:
    return None if value is None else round(value, DECIMALS)
