"""mindly.domain.fsrs_schedule: FSRS (the ``fsrs`` package, 6.x) by local day.

review(state or None, rating 1..5, at, on) -> (state dict, interval days >= 1, on + interval). Ratings 1-2
are Again, 3 Hard, 4 Good, 5 Easy; no learning steps and no fuzzing, so the same review always gives the
same schedule.
"""

from __future__ import annotations

import json
from datetime import UTC, date, datetime, timedelta
from itertools import pairwise
from typing import Any
from zoneinfo import ZoneInfo

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from mindly.domain import fsrs_schedule

KOLKATA = ZoneInfo("Asia/Kolkata")
AT0 = datetime(2026, 3, 2, 9, 30, tzinfo=KOLKATA)
AGAIN, HARD, GOOD, EASY = 1, 3, 4, 5


def local_day(at: datetime) -> date:
    return at.astimezone(KOLKATA).date()


def without_id(state: dict[str, Any]) -> dict[str, Any]:
    """The memory state and schedule, without the package's card id (see the determinism tests)."""
    return {key: value for key, value in state.items() if key != "card_id"}


def replay(reviews: list[tuple[int, int]], at: datetime = AT0) -> tuple[dict[str, Any] | None, datetime]:
    """The state after ``reviews`` ((rating, hours after the previous review's due instant; may be negative,
    i.e. early)) starting from a new card at ``at``, and the instant the next review would happen."""
    state: dict[str, Any] | None = None
    for rating, hours in reviews:
        state, interval, _next = fsrs_schedule.review(state, rating, at, local_day(at))
        at = max(at, at + timedelta(days=interval, hours=hours))
    return state, at


# A review history; each gap is relative to the previous review's due instant (-1 day .. +60 days).
histories = st.lists(st.tuples(st.integers(1, 5), st.integers(-24, 24 * 60)), max_size=12)


# --- a new card ---------------------------------------------------------------------------------


@pytest.mark.parametrize("rating", [1, 2, 3, 4, 5])
def test_a_first_review_gives_a_state_an_interval_of_at_least_a_day_and_the_next_date(rating: int) -> None:
    # Given a card never reviewed under FSRS
    # When it is reviewed at 09:30 in Kolkata on 2 March
    state, interval, next_date = fsrs_schedule.review(None, rating, AT0, date(2026, 3, 2))
    # Then it has a memory state and is due at least a day later, on the review's local date + interval
    assert state["stability"] > 0
    assert 1 <= state["difficulty"] <= 10
    assert interval >= 1
    assert next_date == date(2026, 3, 2) + timedelta(days=interval)
    # and the due instant is the review instant + interval days (no intra-day learning steps)
    assert datetime.fromisoformat(state["due"]) == AT0 + timedelta(days=interval)
    assert datetime.fromisoformat(state["last_review"]) == AT0


def test_on_a_new_card_easy_is_longest_and_again_is_shorter_than_good() -> None:
    # Given a new card
    # When it is rated each way
    intervals = {rating: fsrs_schedule.review(None, rating, AT0, local_day(AT0))[1] for rating in range(1, 6)}
    # Then Easy >= Good >= Hard, and Again < Good
    assert intervals[EASY] >= intervals[GOOD] >= intervals[HARD]
    assert intervals[AGAIN] < intervals[GOOD]
    assert intervals[EASY] > intervals[GOOD]


def test_again_is_shorter_than_good_on_a_card_that_has_been_passing() -> None:
    # Given a card rated Good three times, each time when due
    state, at = replay([(GOOD, 0), (GOOD, 0), (GOOD, 0)])
    # When it is rated Again, or Good, at its next due instant
    _, again, _ = fsrs_schedule.review(state, AGAIN, at, local_day(at))
    _, good, _ = fsrs_schedule.review(state, GOOD, at, local_day(at))
    # Then Again gives a shorter interval than Good
    assert again < good


def test_the_interval_is_counted_in_whole_local_days_whatever_the_zone_of_at() -> None:
    # Given the same instant expressed in Kolkata and in UTC
    in_utc = AT0.astimezone(UTC)
    # When the same review happens at that instant
    state_ist, interval_ist, next_ist = fsrs_schedule.review(None, GOOD, AT0, date(2026, 3, 2))
    state_utc, interval_utc, next_utc = fsrs_schedule.review(None, GOOD, in_utc, date(2026, 3, 2))
    # Then the schedule is the same
    assert (interval_ist, next_ist) == (interval_utc, next_utc)
    assert without_id(state_ist) == without_id(state_utc)


# --- determinism --------------------------------------------------------------------------------


@settings(max_examples=60, deadline=None)
@given(history=histories, rating=st.integers(1, 5))
def test_the_same_review_always_gives_the_same_schedule(history: list[tuple[int, int]], rating: int) -> None:
    # Given a card with some history (the same for both runs)
    state, at = replay(history)
    # When the same review is made twice from the same state
    first = fsrs_schedule.review(state, rating, at, local_day(at))
    second = fsrs_schedule.review(state, rating, at, local_day(at))
    # Then the interval, the date and the memory state are identical (no fuzzing)
    assert first[1:] == second[1:]
    assert without_id(first[0]) == without_id(second[0])
    # and a card that already has a state keeps it whole, id included
    if state is not None:
        assert first[0] == second[0]


@settings(max_examples=40, deadline=None)
@given(history=histories)
def test_replaying_a_history_gives_the_same_schedule(history: list[tuple[int, int]]) -> None:
    # Given a review history / When it is replayed twice from a new card
    state_a, at_a = replay(history)
    state_b, at_b = replay(history)
    # Then every step matched: the final state (without the package's id) and the next instant are equal
    assert at_a == at_b
    assert (state_a is None) == (state_b is None)
    if state_a is not None and state_b is not None:
        assert without_id(state_a) == without_id(state_b)


def test_a_first_review_returns_the_same_state_dict_each_time() -> None:
    # Given a card never reviewed under FSRS
    # When the same first review is made twice
    first = fsrs_schedule.review(None, GOOD, AT0, local_day(AT0))
    second = fsrs_schedule.review(None, GOOD, AT0, local_day(AT0))
    # Then the outputs are equal, the state dict included (same inputs -> same outputs).
    #   fsrs.Card() without a card_id would take one from the wall clock (ms); the module fixes it, so
    #   the whole state is the same.
    assert first == second


# --- properties over random histories -----------------------------------------------------------


@settings(max_examples=100, deadline=None)
@given(history=histories, rating=st.integers(1, 5))
def test_the_interval_is_at_least_a_day_and_the_next_date_is_on_plus_interval(
        history: list[tuple[int, int]], rating: int) -> None:
    # Given a card with any history, reviewed at some instant whose local day is ``on``
    state, at = replay(history)
    on = local_day(at)
    # When it is reviewed
    new_state, interval, next_date = fsrs_schedule.review(state, rating, at, on)
    # Then the interval is a whole number of days >= 1 and the next date is on + interval
    assert isinstance(interval, int)
    assert interval >= 1
    assert next_date == on + timedelta(days=interval)
    assert datetime.fromisoformat(new_state["due"]) == at + timedelta(days=interval)


@settings(max_examples=100, deadline=None)
@given(history=histories)
def test_easy_is_at_least_good_which_is_at_least_hard_and_again_is_at_most_good(
        history: list[tuple[int, int]]) -> None:
    # Given a card with any history
    state, at = replay(history)
    # When it is rated each way at the same instant
    intervals = {rating: fsrs_schedule.review(state, rating, at, local_day(at))[1] for rating in range(1, 6)}
    # Then Easy >= Good >= Hard
    assert intervals[EASY] >= intervals[GOOD] >= intervals[HARD]
    # and Again <= Good; strictly shorter whenever Good is more than a day (both are floored at one day,
    # so a card with very low stability gets 1 day either way)
    assert intervals[AGAIN] <= intervals[GOOD]
    if intervals[GOOD] > 1:
        assert intervals[AGAIN] < intervals[GOOD]


@settings(max_examples=100, deadline=None)
@given(history=histories)
def test_ratings_1_and_2_are_both_again(history: list[tuple[int, int]]) -> None:
    # Given a card with any history
    state, at = replay(history)
    # When it is rated 1, or 2, at the same instant
    one = fsrs_schedule.review(state, 1, at, local_day(at))
    two = fsrs_schedule.review(state, 2, at, local_day(at))
    # Then both give the same schedule and memory state
    assert one[1:] == two[1:]
    assert without_id(one[0]) == without_id(two[0])
    if state is not None:
        assert one[0] == two[0]


@settings(max_examples=60, deadline=None)
@given(history=st.lists(st.tuples(st.integers(1, 5), st.integers(-24, 24 * 60)), min_size=1, max_size=12))
def test_the_state_dict_round_trips_through_json_for_a_sequence_of_reviews(history: list[tuple[int, int]]) -> None:
    # Given a new card
    state: dict[str, Any] | None = None
    stored: dict[str, Any] | None = None
    at = AT0
    for rating, hours in history:
        # When each review's state is stored as JSON and read back before the next review
        state, interval, _ = fsrs_schedule.review(state, rating, at, local_day(at))
        from_store, interval_from_store, _ = fsrs_schedule.review(stored, rating, at, local_day(at))
        # Then the stored copy schedules exactly like the live dict
        assert interval_from_store == interval
        assert without_id(from_store) == without_id(state)
        stored = json.loads(json.dumps(state))
        assert stored == state
        at = max(at, at + timedelta(days=interval, hours=hours))
    # and the card id is kept across reviews once it exists
    assert state is not None
    again, _, _ = fsrs_schedule.review(state, GOOD, at, local_day(at))
    assert again["card_id"] == state["card_id"]


def test_feeding_the_state_back_grows_the_interval_for_good_reviews_made_when_due() -> None:
    # Given a new card
    state: dict[str, Any] | None = None
    at, intervals = AT0, []
    # When it is rated Good five times, each at its due instant
    for _ in range(5):
        state, interval, next_date = fsrs_schedule.review(state, GOOD, at, local_day(at))
        assert next_date == local_day(at) + timedelta(days=interval)
        intervals.append(interval)
        at += timedelta(days=interval)
    # Then every interval is longer than the one before (stability grows on recalled reviews)
    assert all(later > earlier for earlier, later in pairwise(intervals))


# --- invalid ratings ----------------------------------------------------------------------------


@pytest.mark.parametrize("rating", [0, 6, -1, 10])
def test_a_rating_outside_1_to_5_is_rejected(rating: int) -> None:
    # Given a new card / When it is reviewed with an invalid rating / Then ValueError
    with pytest.raises(ValueError, match=r"1\.\.5"):
        fsrs_schedule.review(None, rating, AT0, local_day(AT0))


@settings(max_examples=50, deadline=None)
@given(rating=st.integers().filter(lambda r: not 1 <= r <= 5))
def test_any_integer_outside_1_to_5_is_rejected_for_a_reviewed_card(rating: int) -> None:
    # Given a card with a state
    state, _, _ = fsrs_schedule.review(None, GOOD, AT0, local_day(AT0))
    before = dict(state)
    # When an out-of-range rating arrives / Then ValueError, and the state is untouched
    with pytest.raises(ValueError):
        fsrs_schedule.review(state, rating, AT0 + timedelta(days=2), local_day(AT0) + timedelta(days=2))
    assert state == before
