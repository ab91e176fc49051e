"""The fold: the adaptive model's question side, learned off the hot path (mindly.domain.mastery).

Every answer adds its step of its question's difficulty to one of the question's 16 statistics
shards, inside the submit's own transaction, and files that shard under the UTC hour of the
answer (mindly.store.question_stats). The hourly job (mindly.services.daily_streaks) then folds each
hour that has ended: it queries the hour's 16 fold partitions for the questions answered in it,
sums each question's 16 shards and copies the sums onto the question item, where the next submit
and ``/practice/next`` read the difficulty with the question itself (no extra read).

Why here: a sum of integers is the same in any order, so the fold may run late, twice or in
parallel and still write the same difficulty; an hour of lag only means that steps are computed
from a difficulty up to an hour old, which the model allows (its question step is small and shrinks
with answers). A stream or a queue would need a call or a stream consumer on every answer; this
needs neither, and a question answered a thousand times in an hour is folded once.

Bounded: a run folds the hours from its cursor (the first hour not folded yet) to the last hour
that ended ``GRACE`` ago (normally one hour), at most ``MAX_CATCH_UP_HOURS`` of them, and starts no new hour after
``BUDGET_SECONDS``. An hour costs 16 Queries (their items: at most 16 a question answered), one
BatchGetItem per 6 questions and one UpdateItem per question: O(questions answered that hour),
never more than the bank, however many students answered. The cursor moves past an hour only
when the hour is folded, so a run that fails or stops folds it again next time (harmlessly).
"""

from __future__ import annotations

import time
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import Any

from mindly.store import question_stats as store

# An hour is folded once it ended this long ago: the answers stamped in it have committed by then
# (a submit's whole budget is inside its function's timeout, far below this).
GRACE = timedelta(minutes=2)
# After an outage the fold reaches back this far; a question answered only before then keeps its
# last folded difficulty until its next answer is folded (its shards keep every step meanwhile).
MAX_CATCH_UP_HOURS = 48
# Shares the hourly job's timeout with the streak settlement that runs first.
BUDGET_SECONDS = 150.0


@dataclass
class FoldReport:
    """What one fold did."""

    hours_folded: list[str] = field(default_factory=list)
    questions_folded: int = 0
    questions_unchanged: int = 0  # a newer fold had already written as much (or the question is gone)
    stopped_early: bool = False

    def as_dict(self) -> dict[str, Any]:
        return dict(self.__dict__)


def _hour_start(at: datetime) -> datetime:
    return at.astimezone(UTC).replace(minute=0, second=0, microsecond=0)


def hours_to_fold(now: datetime, cursor: str | None) -> list[str]:
    """The hours a run at ``now`` folds, oldest first: from the cursor (at most the catch-up limit
    back) to the last hour that ended at least ``GRACE`` before ``now``; the first run ever (no
    cursor) folds that last hour only, since no answer was filed for a fold before it."""
    last = _hour_start(now - GRACE) - timedelta(hours=1)
    first = last
    if cursor is not None:
        first = max(last - timedelta(hours=MAX_CATCH_UP_HOURS - 1),
                    datetime.strptime(cursor, store.FOLD_HOUR_FORMAT).replace(tzinfo=UTC))
    hours = []
    at = first
    while at <= last:
        hours.append(store.fold_hour(at))
        at += timedelta(hours=1)
    return hours


def fold_hour(hour: str, report: FoldReport) -> None:
    """Fold the questions answered in one hour: their shards' sums onto their items."""
    for question_id, learned in store.learned_sums(store.answered_in(hour)).items():
        if learned.answers and store.store_learned(question_id, learned):
            report.questions_folded += 1
        else:
            report.questions_unchanged += 1


def fold(now: datetime, budget_seconds: float = BUDGET_SECONDS) -> FoldReport:
    """One fold run (see the module docstring)."""
    report = FoldReport()
    started = time.monotonic()
    for hour in hours_to_fold(now, store.fold_cursor()):
        if time.monotonic() - started > budget_seconds:
            report.stopped_early = True  # the next run continues from this hour
            break
        fold_hour(hour, report)
        next_hour = datetime.strptime(hour, store.FOLD_HOUR_FORMAT).replace(tzinfo=UTC) + timedelta(hours=1)
        store.advance_fold_cursor(store.fold_hour(next_hour), now)
        report.hours_folded.append(hour)
    return report
