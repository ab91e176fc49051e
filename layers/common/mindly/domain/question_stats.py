"""Per-question statistics as plain values: which shard an answer counts in, the time histogram's
buckets, and the figures an admin sees (attempts, correct, accuracy, median time, open reports).

Every answer adds to one of ``SHARDS`` counter items of its question, never to one item that every
student's answer writes (mindly.store.question_stats). The shard comes from a hash of the student
and the attempt id, so a retried attempt lands on the same shard (and its transaction, recorded
once, counts it once). Summing the shards gives the totals and the histogram; the median time is
read from the histogram.

Time buckets (seconds, lower bound inclusive): 0-5, 5-10, 10-15, 15-20, 20-30, 30-40, 40-50,
50-60, 60-75, 75-90, 90-120, 120-150, 150-180, 180-240, 240-300, 300-420, 420-600, 600-900,
900-1800, 1800-3600 (3600 itself counts in the last). The median is interpolated linearly inside
the bucket that holds it, so it is within that bucket's width of the exact median: 5 s below 20 s,
10 s up to a minute, 15 s up to 90 s, 30 s up to 3 minutes, 1 minute up to 5, coarser beyond.
"""

from __future__ import annotations

import hashlib
from bisect import bisect_right
from collections.abc import Iterable, Sequence
from typing import NamedTuple

SHARDS = 16
BUCKET_EDGES = (0, 5, 10, 15, 20, 30, 40, 50, 60, 75, 90, 120, 150, 180, 240, 300, 420, 600, 900, 1800, 3600)
BUCKETS = len(BUCKET_EDGES) - 1


def shard_of(*parts: str) -> int:
    """The shard (0..SHARDS-1) an event counts in: a stable hash of ``parts`` (for an answer, the
    student and the attempt id), the same on every retry."""
    digest = hashlib.sha256("\x1f".join(parts).encode()).digest()
    return int.from_bytes(digest[:4], "big") % SHARDS


def bucket_of(seconds: int) -> int:
    """The histogram bucket of an answer's time (below 0 counts as 0, above the last edge in the last)."""
    clamped = min(max(seconds, 0), BUCKET_EDGES[-1])
    return min(bisect_right(BUCKET_EDGES, clamped) - 1, BUCKETS - 1)


def median_seconds(histogram: Sequence[int]) -> float | None:
    """The median time from bucket counts (``BUCKETS`` of them), interpolated inside its bucket:
    L + (n/2 - F) / f x w, with L the bucket's lower edge, F the answers below it, f its count and w
    its width. None with no answers. Rounded to 0.1 s."""
    if len(histogram) != BUCKETS:
        raise ValueError(f"a histogram has {BUCKETS} buckets")
    total = sum(histogram)
    if total <= 0:
        return None
    half = total / 2
    below = 0
    for bucket, count in enumerate(histogram):
        if count > 0 and below + count >= half:
            low, high = BUCKET_EDGES[bucket], BUCKET_EDGES[bucket + 1]
            return round(low + (half - below) / count * (high - low), 1)
        below += count
    raise AssertionError("unreachable: the counts add up to total")


class ShardCounts(NamedTuple):
    """What one shard item holds."""

    attempts: int = 0
    correct: int = 0
    reports_open: int = 0
    histogram: tuple[int, ...] = (0,) * BUCKETS


class QuestionStats(NamedTuple):
    """A question's statistics, summed over its shards."""

    attempts: int
    correct: int
    accuracy: float | None
    median_time_seconds: float | None
    reports_open: int

    def view(self) -> dict[str, int | float | None]:
        return self._asdict()


def summed(shards: Iterable[ShardCounts]) -> QuestionStats:
    """The totals of a question's shards (missing shards count as zero): accuracy rounded to 4
    places (None before the first answer), the median time from the summed histogram."""
    attempts = correct = reports = 0
    histogram = [0] * BUCKETS
    for shard in shards:
        attempts += shard.attempts
        correct += shard.correct
        reports += shard.reports_open
        for bucket, count in enumerate(shard.histogram):
            histogram[bucket] += count
    accuracy = round(correct / attempts, 4) if attempts else None
    return QuestionStats(attempts, correct, accuracy, median_seconds(histogram), max(0, reports))
