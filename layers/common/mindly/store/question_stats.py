"""Per-question statistics in the Content table: ``Q#<id> / STATS#<nn>``, nn = 00..15.

An answer adds (UpdateItem ADD, which creates the item when absent) to one shard of its question,
inside the submit's own transaction (mindly.services.questions), so it counts exactly when the
attempt does. Reports add to and take from ``reports_open`` of a shard in their own transactions
(mindly.store.reports). No item is written by every answer to a question: 20 students answering
one question in the same second spread over 16 items, and transactions touching different items
do not conflict. Reading a question's figures is its 16 shards (mindly.domain.question_stats sums
them), in BatchGetItems of at most 100 keys, as DynamoDB takes.

The adaptive model's question side rides on the same ADD (mindly.domain.mastery): an answer adds
its step of the question's difficulty (``learned_steps``, integer millionths) and one to
``learned_answers``, and files its shard in the ``by_exam`` index under the hour of the answer
(``FOLD#<UTC hour>#<nn> / <question id>``: sparse, 16 partitions an hour, so no index partition
takes every answer). The fold (mindly.services.question_fold) queries an hour's partitions for the
questions answered in it, sums their shards and copies the sums onto the question item
(``store_learned``), where the submit and practice read them. Integer sums do not depend on the
order answers arrive in, so neither does the folded difficulty.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import UTC, datetime
from typing import Any, NamedTuple

from pynamodb.attributes import NumberAttribute, UnicodeAttribute, UTCDateTimeAttribute
from pynamodb.exceptions import DoesNotExist, PutError, UpdateError

from mindly.domain import question_stats as rules
from mindly.store.content import QuestionItem, question_key
from mindly.store.errors import response_code
from mindly.store.models import ContentTable, StudyTable, batch_read
from mindly.store.progress import Increment

STATS_PREFIX = "STATS#"
BATCH_KEYS = 100  # DynamoDB's BatchGetItem takes at most this many keys a request
FOLD_PREFIX = "FOLD#"
FOLD_HOUR_FORMAT = "%Y-%m-%dT%H"


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
    # The model's question side (see the module docstring): summed steps in millionths, and answers.
    learned_steps = NumberAttribute(null=True)
    learned_answers = NumberAttribute(null=True)


def _bucket_attribute(bucket: int) -> Any:
    return getattr(QuestionStatsItem, f"h{bucket:02d}")


def shard_key(question_id: str, shard: int) -> tuple[str, str]:
    return question_key(question_id)[0], f"{STATS_PREFIX}{shard:02d}"


def _shard_item(question_id: str, shard: int) -> QuestionStatsItem:
    return QuestionStatsItem(*shard_key(question_id, shard))


class LearnedStep(NamedTuple):
    """An answer's step of its question's difficulty (mindly.domain.mastery.question_term) and when
    it was answered (the hour its shard is filed under for the fold)."""

    step: int
    at: datetime


def fold_hour(at: datetime) -> str:
    """The UTC hour an answer at ``at`` is filed under for the fold."""
    return at.astimezone(UTC).strftime(FOLD_HOUR_FORMAT)


def fold_partition(hour: str, shard: int) -> str:
    return f"{FOLD_PREFIX}{hour}#{shard:02d}"


def answer_increment(question_id: str, user_id: str, attempt_id: str, correct: bool, seconds: int,
                     learned: LearnedStep | None = None) -> Increment:
    """The shard update one answer makes, for the submit's transaction: +1 attempt, +1 correct when
    right, +1 in the answer's time bucket, and with ``learned`` the answer's difficulty step, +1
    learned answer and the shard's place in its hour's fold partition. The shard is chosen from the
    student and the attempt id, so a retry of the attempt names the same item."""
    shard = rules.shard_of(user_id, attempt_id)
    item = _shard_item(question_id, shard)
    actions = [QuestionStatsItem.kind.set(QuestionStatsItem), QuestionStatsItem.question_id.set(question_id),
               QuestionStatsItem.attempts.add(1), QuestionStatsItem.correct.add(1 if correct else 0),
               _bucket_attribute(rules.bucket_of(seconds)).add(1)]
    if learned is not None:
        actions += [QuestionStatsItem.learned_steps.add(learned.step), QuestionStatsItem.learned_answers.add(1),
                    QuestionStatsItem.gsi1_pk.set(fold_partition(fold_hour(learned.at), shard)),
                    QuestionStatsItem.gsi1_sk.set(question_id)]
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


# --- the fold: the questions answered in an hour, their summed steps, copied onto the question -----

class Learned(NamedTuple):
    """A question's summed steps (millionths) and the answers they came from, over all its shards."""

    steps: int
    answers: int


def answered_in(hour: str) -> list[str]:
    """The questions with an answer filed under ``hour`` (its last answer in a shard was then): one
    Query a fold partition (16), paged as DynamoDB requires; each question once, sorted."""
    found: set[str] = set()
    for shard in range(rules.SHARDS):
        for item in QuestionStatsItem.by_exam.query(fold_partition(hour, shard)):
            found.add(str(item.gsi1_sk))
    return sorted(found)


def learned_sums(question_ids: Sequence[str]) -> dict[str, Learned]:
    """Each question's sums over its 16 shards, read strongly consistent (a fold never copies less
    than what is committed), six questions a BatchGetItem."""
    ids = list(dict.fromkeys(question_ids))
    sums = {question_id: Learned(0, 0) for question_id in ids}
    per_call = BATCH_KEYS // rules.SHARDS
    for start in range(0, len(ids), per_call):
        [items] = batch_read([(ContentTable, shard_keys(ids[start:start + per_call]))])
        for item in items:
            if isinstance(item, QuestionStatsItem) and item.question_id in sums:
                steps, answers = sums[str(item.question_id)]
                sums[str(item.question_id)] = Learned(steps + int(item.learned_steps or 0),
                                                      answers + int(item.learned_answers or 0))
    return sums


def store_learned(question_id: str, learned: Learned) -> bool:
    """Copy a question's sums onto its item (one UpdateItem SET: the content, its hash and its
    version are untouched). Never backwards: a slower fold that read fewer answers than the item
    already holds writes nothing (answer counts only grow). False when nothing was written."""
    item = QuestionItem(*question_key(question_id))
    condition = QuestionItem.pk.exists() & (QuestionItem.learned_answers.does_not_exist()
                                            | (QuestionItem.learned_answers <= learned.answers))
    try:
        item.update(actions=[QuestionItem.learned_steps.set(learned.steps),
                             QuestionItem.learned_answers.set(learned.answers)], condition=condition)
    except UpdateError as exc:
        if response_code(exc) == "ConditionalCheckFailedException":
            return False
        raise
    return True


class FoldCursorItem(StudyTable, discriminator="fold_cursor"):
    """``JOB#question_fold / CURSOR``: the first UTC hour the fold has not finished for good
    (every earlier hour's partitions were folded after the hour ended)."""

    next_hour = UnicodeAttribute()
    updated_at = UTCDateTimeAttribute()


FOLD_CURSOR_KEY = ("JOB#question_fold", "CURSOR")


def fold_cursor() -> str | None:
    try:
        return str(FoldCursorItem.get(*FOLD_CURSOR_KEY, consistent_read=True).next_hour)
    except DoesNotExist:
        return None


def advance_fold_cursor(next_hour: str, at: datetime) -> None:
    """Move the cursor forward (never back: a late retry of an old run does not undo a newer one)."""
    item = FoldCursorItem(*FOLD_CURSOR_KEY, next_hour=next_hour, updated_at=at)
    try:
        item.save(condition=FoldCursorItem.pk.does_not_exist() | (FoldCursorItem.next_hour < next_hour))
    except PutError as exc:
        if response_code(exc) != "ConditionalCheckFailedException":
            raise
