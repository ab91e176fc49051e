"""Per-question statistics as pure rules: the time buckets, the median read from a histogram, shards
and the sums an admin sees (mindly.domain.question_stats)."""

from __future__ import annotations

import statistics

import pytest
from hypothesis import given
from hypothesis import strategies as st

from mindly.domain.question_stats import (
    BUCKET_EDGES,
    BUCKETS,
    SHARDS,
    QuestionStats,
    ShardCounts,
    bucket_of,
    median_seconds,
    shard_of,
    summed,
)


def _histogram(times: list[int]) -> list[int]:
    counts = [0] * BUCKETS
    for seconds in times:
        counts[bucket_of(seconds)] += 1
    return counts


@pytest.mark.parametrize(("seconds", "bucket"), [(0, 0), (4, 0), (5, 1), (59, 7), (60, 8), (1799, 18),
                                                 (1800, 19), (3600, 19), (-3, 0), (5000, 19)])
def test_a_time_falls_in_the_bucket_whose_lower_edge_it_reaches(seconds: int, bucket: int) -> None:
    assert bucket_of(seconds) == bucket


def test_the_buckets_cover_the_submit_range_in_increasing_edges() -> None:
    assert BUCKET_EDGES[0] == 0 and BUCKET_EDGES[-1] == 3600
    assert list(BUCKET_EDGES) == sorted(set(BUCKET_EDGES))


def test_no_answers_have_no_median() -> None:
    assert median_seconds([0] * BUCKETS) is None


@pytest.mark.parametrize(("times", "median"), [
    ([33], 35.0),  # one answer: the middle of its bucket (30-40)
    ([12, 40, 100], 45.0),  # the middle answer's bucket 40-50, half of it below the median
    ([10, 11, 12, 13], 12.5),  # all in 10-15: interpolated to its middle
    ([1, 2, 61, 62], 5.0),  # the halves meet at the upper edge of the lower bucket
])
def test_the_median_is_interpolated_inside_the_bucket_that_holds_it(times: list[int], median: float) -> None:
    assert median_seconds(_histogram(times)) == median


def test_a_histogram_of_the_wrong_length_is_refused() -> None:
    with pytest.raises(ValueError):
        median_seconds([1, 2, 3])


@given(st.lists(st.integers(min_value=0, max_value=3600), min_size=1, max_size=200))
def test_the_median_is_within_the_buckets_of_the_middle_answers(times: list[int]) -> None:
    # Given any answers' times; the exact median lies between the two middle answers
    ordered = sorted(times)
    lower, upper = ordered[(len(ordered) - 1) // 2], ordered[len(ordered) // 2]
    # Then the histogram's median lies between the lower middle's bucket start and the upper
    # middle's bucket end: it is off by at most those buckets' width
    estimate = median_seconds(_histogram(times))
    assert estimate is not None
    low_edge = BUCKET_EDGES[bucket_of(lower)]
    high_edge = BUCKET_EDGES[bucket_of(upper) + 1]
    assert low_edge <= estimate <= high_edge
    assert abs(estimate - statistics.median(times)) <= high_edge - low_edge


@given(st.text(min_size=1, max_size=40), st.text(min_size=1, max_size=40))
def test_a_shard_is_stable_and_in_range(user_id: str, attempt_id: str) -> None:
    shard = shard_of(user_id, attempt_id)
    assert 0 <= shard < SHARDS
    assert shard_of(user_id, attempt_id) == shard  # a retry names the same shard


def test_answers_spread_over_every_shard() -> None:
    assert {shard_of("student", f"attempt-{n}") for n in range(400)} == set(range(SHARDS))


def test_shards_sum_to_the_questions_statistics() -> None:
    # Given two shards (a third never written)
    first = ShardCounts(attempts=2, correct=1, reports_open=1, histogram=tuple(_histogram([12, 41])))
    second = ShardCounts(attempts=1, correct=1, reports_open=0, histogram=tuple(_histogram([100])))
    # Then their sums are the question's figures, accuracy to 4 places
    assert summed([first, second]) == QuestionStats(attempts=3, correct=2, accuracy=0.6667,
                                                    median_time_seconds=45.0, reports_open=1)
    assert summed([]) == QuestionStats(0, 0, None, None, 0)
