"""Per-question statistics in the Content table: ``Q#<id> / STATS#<nn>``, nn = 00..15.

An answer adds (UpdateItem ADD, which creates the item when absent) to one shard of its question,
inside the submit's own transaction (mindly.services.questions), so it counts exactly when the
attempt does. Reports add to and take from ``reports_open`` of a shard in their own transactions
(mindly.store.reports). No item is written by every answer to a question: 20 students answering
one question in the same second spread over 16 items, and transactions touching different items
do not conflict. Reading a question's figures is its 16 shards (mindly.domain.question_stats sums
them), in BatchGetItems of at most 100 keys, as DynamoDB takes.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from pynamodb.attributes import NumberAttribute, UnicodeAttribute

from mindly.domain import question_stats as rules
from mindly.store.content import question_key
from mindly.store.models import ContentTable, batch_read
from mindly.store.progress import Increment

STATS_PREFIX = "STATS#"
BATCH_KEYS = 100  # DynamoDB's BatchGetItem takes at most this many keys a request


class QuestionStatsItem(ContentTable, discriminator="question_stats"):
    """One shard of a question's counters; ``hNN`` counts answers in time bucket NN
    (mindly.domain.question_stats.BUCKET_EDGES). ADD on a nested map path is not allowed, so each
    bucket is a top-level number."""

    question_id = UnicodeAttribute(null=True)
    attempts = NumberAttribute(null=True)
    correct = NumberAttribute(null=True)
    reports_open = NumberAttribute(null=True)
    h00 = NumberAttribute(null=True)
    h01 = NumberAttribute(null=True)
    h02 = NumberAttribute(null=True)
    h03 = NumberAttribute(null=True)
    h04 = NumberAttribute(null=True)
    h05 = NumberAttribute(null=True)
    h06 = NumberAttribute(null=True)
    h07 = NumberAttribute(null=True)
    h08 = NumberAttribute(null=True)
    h09 = NumberAttribute(null=True)
    h10 = NumberAttribute(null=True)
    h11 = NumberAttribute(null=True)
    h12 = NumberAttribute(null=True)
    h13 = NumberAttribute(null=True)
    h14 = NumberAttribute(null=True)
    h15 = NumberAttribute(null=True)
    h16 = NumberAttribute(null=True)
    h17 = NumberAttribute(null=True)
    h18 = NumberAttribute(null=True)
    h19 = NumberAttribute(null=True)


def _bucket_attribute(bucket: int) -> Any:
    return getattr(QuestionStatsItem, f"h{bucket:02d}")


def shard_key(question_id: str, shard: int) -> tuple[str, str]:
    return question_key(question_id)[0], f"{STATS_PREFIX}{shard:02d}"


def _shard_item(question_id: str, shard: int) -> QuestionStatsItem:
    return QuestionStatsItem(*shard_key(question_id, shard))


def answer_increment(question_id: str, user_id: str, attempt_id: str, correct: bool, seconds: int) -> Increment:
    """The shard update one answer makes, for the submit's transaction: +1 attempt, +1 correct when
    right, +1 in the answer's time bucket. The shard is chosen from the student and the attempt id,
    so a retry of the attempt names the same item."""
    item = _shard_item(question_id, rules.shard_of(user_id, attempt_id))
    actions = [QuestionStatsItem.kind.set(QuestionStatsItem), QuestionStatsItem.question_id.set(question_id),
               QuestionStatsItem.attempts.add(1), QuestionStatsItem.correct.add(1 if correct else 0),
               _bucket_attribute(rules.bucket_of(seconds)).add(1)]
    return Increment(item, actions)


def report_increment(question_id: str, report_id: str, change: int) -> Increment:
    """The shard update opening (+1) or resolving (-1) a report makes; the report id names the
    shard, so its resolution takes from the shard its opening added to."""
    item = _shard_item(question_id, rules.shard_of(report_id))
    return Increment(item, [QuestionStatsItem.kind.set(QuestionStatsItem),
                            QuestionStatsItem.question_id.set(question_id),
                            QuestionStatsItem.reports_open.add(change)])


def shard_keys(question_ids: Sequence[str]) -> list[tuple[str, str]]:
    """Every shard key of these questions (to read with ``read_content``)."""
    return [shard_key(question_id, shard) for question_id in dict.fromkeys(question_ids)
            for shard in range(rules.SHARDS)]


def read_content(keys: Sequence[tuple[str, str]]) -> list[Any]:
    """Content items of these keys (eventually consistent: statistics may lag a second), in as many
    BatchGetItems as DynamoDB's 100-key limit needs: one for up to six questions' shards."""
    unique = list(dict.fromkeys(keys))
    found: list[Any] = []
    for start in range(0, len(unique), BATCH_KEYS):
        [items] = batch_read([(ContentTable, unique[start:start + BATCH_KEYS])], consistent_read=False)
        found.extend(items)
    return found


def stats_from(items: Sequence[Any], question_ids: Sequence[str]) -> dict[str, rules.QuestionStats]:
    """Each question's statistics from the shard items among ``items`` (absent shards: zero)."""
    shards: dict[str, list[rules.ShardCounts]] = {question_id: [] for question_id in question_ids}
    for item in items:
        if isinstance(item, QuestionStatsItem) and item.question_id in shards:
            shards[str(item.question_id)].append(rules.ShardCounts(
                int(item.attempts or 0), int(item.correct or 0), int(item.reports_open or 0),
                tuple(int(getattr(item, f"h{bucket:02d}") or 0) for bucket in range(rules.BUCKETS))))
    return {question_id: rules.summed(found) for question_id, found in shards.items()}
