"""SM-2 spaced repetition (Wozniak 1990), exactly as API.md states it.

q is the rating 1..5. On every review the ease factor becomes
EF' = max(1.3, EF + 0.1 - (5 - q) * (0.08 + (5 - q) * 0.02)). A failure (q < 3) resets the
repetitions to 0 and the interval to 1 day (the EF update still applies). A pass adds a repetition;
the interval is 1 day after the first, 6 after the second, then ceil(previous interval x the EF
before this review). New cards start at EF 2.5, interval 0, repetitions 0. The next review is the
review's local date plus the interval.
"""

from __future__ import annotations

import math
from datetime import date, timedelta
from typing import NamedTuple

INITIAL_EASE = 2.5
# No interval grows past 100 years (FSRS's default maximum too): reviewing ahead again and again
# would otherwise push the next date past the calendar's end.
MAX_INTERVAL_DAYS = 36500
MIN_EASE = 1.3
PASSING_RATING = 3
RATINGS = range(1, 6)

NEW, LEARNING, REVIEW, RELEARNING = "new", "learning", "review", "relearning"


class CardSchedule(NamedTuple):
    """A student's schedule for one card."""

    ease_factor: float = INITIAL_EASE
    interval: int = 0
    repetitions: int = 0
    state: str = NEW
    lapses: int = 0
    next_review_date: date | None = None


def next_ease(ease: float, rating: int) -> float:
    """EF' for a review rated ``rating`` (rounded to 4 places, so stored values stay exact)."""
    miss = 5 - rating
    return round(max(MIN_EASE, ease + 0.1 - miss * (0.08 + miss * 0.02)), 4)


def review(card: CardSchedule, rating: int, on: date) -> CardSchedule:
    """The schedule after a review rated ``rating`` on the local day ``on``."""
    if rating not in RATINGS:
        raise ValueError("rating must be 1..5")
    ease = next_ease(card.ease_factor, rating)
    if rating < PASSING_RATING:
        lapsed = card.state == REVIEW
        return CardSchedule(ease_factor=ease, interval=1, repetitions=0,
                            state=RELEARNING if card.state in (REVIEW, RELEARNING) else LEARNING,
                            lapses=card.lapses + (1 if lapsed else 0), next_review_date=on + timedelta(days=1))
    repetitions = card.repetitions + 1
    if repetitions == 1:
        interval = 1
    elif repetitions == 2:
        interval = 6
    else:
        # EF has at most four decimals: rounding the product to 9 first keeps float noise
        # (200 x 2.22 = 444.00000000000006) from adding a day that exact arithmetic would not.
        interval = min(MAX_INTERVAL_DAYS, math.ceil(round(card.interval * card.ease_factor, 9)))
    graduated = repetitions >= 2
    state = REVIEW if graduated else (RELEARNING if card.state == RELEARNING else LEARNING)
    return CardSchedule(ease_factor=ease, interval=interval, repetitions=repetitions, state=state, lapses=card.lapses,
                        next_review_date=on + timedelta(days=interval))
