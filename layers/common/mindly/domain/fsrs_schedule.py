"""FSRS scheduling (the ``fsrs`` package, 6.x) for students who opt into it instead of SM-2.

Ratings 1-2 map to Again, 3 to Hard, 4 to Good, 5 to Easy. Mindly schedules by local day, so the
scheduler runs without intra-day learning steps and without fuzzing (the same review always gives
the same schedule); the card's FSRS memory state (stability, difficulty) is kept as a dict beside
its SM-2 fields, and both are updated on every review, so switching scheduler keeps everything.
"""

from __future__ import annotations

import math
from datetime import UTC, date, datetime, timedelta
from functools import cache

from fsrs import Card, Rating, Scheduler
from fsrs.card import CardDict

RATING_MAP = {1: Rating.Again, 2: Rating.Again, 3: Rating.Hard, 4: Rating.Good, 5: Rating.Easy}


@cache
def _scheduler() -> Scheduler:
    return Scheduler(learning_steps=(), relearning_steps=(), enable_fuzzing=False)


def review(state: CardDict | None, rating: int, at: datetime, on: date) -> tuple[CardDict, int, date]:
    """The FSRS state after a review at instant ``at`` (local day ``on``), the interval in days and
    the next review's local date. ``state`` None is a card never reviewed under FSRS."""
    if rating not in RATING_MAP:
        raise ValueError("rating must be 1..5")
    # A fixed card id: fsrs takes one from the clock otherwise, and Mindly keys cards itself.
    card = Card.from_dict(state) if state else Card(card_id=1, due=at)
    updated, _log = _scheduler().review_card(card, RATING_MAP[rating], review_datetime=at.astimezone(UTC))
    interval = max(1, math.ceil((updated.due - at).total_seconds() / 86400 - 1e-9))
    return updated.to_dict(), interval, on + timedelta(days=interval)
