"""Mock tests sat here, in the Study table under the student's partition ``USER#<id>``.

- ``PAPER#<id>``: the paper (questions by number, section and group), its clock (``deadline`` and,
  for sections with their own clock, ``window_starts`` / ``window_ends``), its status
  (``in_progress`` -> ``closing`` -> ``finished``) and, once finished, its result. While it is in
  progress it carries the sparse ``deadline`` index's keys (``DEADLINE#<shard>``, ``<deadline>#<user>
  #<id>``), so the sweep finds expired tests in O(expired tests).
- ``PAPER#<id>#A#<nnn>``: one saved answer. It is written in a transaction with a condition check
  on the paper: in progress, before the deadline and inside its section's window, compared by
  DynamoDB with the server's clock, so a late save fails atomically and a save cannot slip in after
  the paper was closed. One Query of ``PAPER#<id>`` reads the paper and all its answers.
- ``PAPER#<id>#W#<nn>``: written once by the finishing transaction of chunk nn (attempts, counters,
  markers, mistake cards of a range of questions): a finish that crashed and runs again skips the
  chunks already applied, so nothing is counted twice.
- ``MTLIST#<started at>#<id>``: the test's line in the student's list, newest first.
"""

from __future__ import annotations

import random
import time
from datetime import datetime
from typing import Any, NamedTuple

from pynamodb.attributes import (
    BooleanAttribute,
    JSONAttribute,
    ListAttribute,
    NumberAttribute,
    UnicodeAttribute,
    UTCDateTimeAttribute,
)
from pynamodb.exceptions import TransactWriteError, UpdateError
from pynamodb.transactions import TransactWrite

from mindly.store.attempts import instant_key
from mindly.store.errors import OutcomeUnknown, response_code
from mindly.store.models import StudyTable, connection_of, newest_first_page
from mindly.store.progress import instant_text, shard_of, student_key

PAPER_PREFIX = "PAPER#"
LIST_PREFIX = "MTLIST#"
DEADLINE_SHARDS = 4
IN_PROGRESS, CLOSING, FINISHED = "in_progress", "closing", "finished"
MAX_TRANSACTION_RETRIES = 5


class MockPaperItem(StudyTable, discriminator="mock_paper"):
    """``USER#<id> / PAPER#<id>``: one mock test sat here (see the module docstring)."""

    mock_test_id = UnicodeAttribute()
    user_id = UnicodeAttribute()
    pattern_id = UnicodeAttribute()
    exam_type = UnicodeAttribute()
    subjects = ListAttribute(of=UnicodeAttribute, null=True)  # the subjects asked for (None: all)
    status = UnicodeAttribute()
    started_at = UTCDateTimeAttribute()
    deadline = UnicodeAttribute()  # instant_text: compared as text in conditions
    # Per section, in pattern order: its own clock's start and end (instant_text), "" when it has none.
    window_starts = ListAttribute(of=UnicodeAttribute)
    window_ends = ListAttribute(of=UnicodeAttribute)
    # [[number, section, group index, subject, question id, difficulty, version], ...]
    questions = JSONAttribute()
    list_sk = UnicodeAttribute()  # the sort key of its line in the student's list
    closed_at = UTCDateTimeAttribute(null=True)
    auto_submitted = BooleanAttribute(null=True)
    plan = JSONAttribute(null=True)  # what the finish decided before its writes (see services.mock_tests)
    result = JSONAttribute(null=True)


class MockAnswerItem(StudyTable, discriminator="mock_answer"):
    """``USER#<id> / PAPER#<id>#A#<nnn>``: the last answer saved for one question."""

    mock_test_id = UnicodeAttribute()
    number = NumberAttribute()
    selected_option = UnicodeAttribute(null=True)
    selected_options = ListAttribute(of=UnicodeAttribute, null=True)
    numeric_answer = UnicodeAttribute(null=True)  # the exact decimal given
    cleared = BooleanAttribute(default=False)
    time_spent_seconds = NumberAttribute(default=0)
    marked_for_review = BooleanAttribute(default=False)
    confidence_rating = NumberAttribute(null=True)
    saved_at = UTCDateTimeAttribute()


class MockChunkItem(StudyTable, discriminator="mock_chunk"):
    """``USER#<id> / PAPER#<id>#W#<nn>``: chunk nn of the finish was written."""

    mock_test_id = UnicodeAttribute()
    written_at = UTCDateTimeAttribute()


class MockListItem(StudyTable, discriminator="mock_entry"):
    """``USER#<id> / MTLIST#<started at>#<id>``: the test in the student's list."""

    mock_test_id = UnicodeAttribute()
    pattern_id = UnicodeAttribute()
    exam_type = UnicodeAttribute()
    status = UnicodeAttribute()
    started_at = UTCDateTimeAttribute()
    deadline = UnicodeAttribute()
    finished_at = UTCDateTimeAttribute(null=True)
    score = NumberAttribute(null=True)
    max_score = NumberAttribute()
    percent = NumberAttribute(null=True)
    auto_submitted = BooleanAttribute(null=True)


class DeadlinePassed(Exception):
    """A save's condition failed: the paper is no longer in progress, or its clock ran out."""


class NotInProgress(Exception):
    """Closing found the paper already closing or finished."""


def paper_key(user_id: str, mock_test_id: str) -> tuple[str, str]:
    return student_key(user_id), f"{PAPER_PREFIX}{mock_test_id}"


def answer_sort_key(mock_test_id: str, number: int) -> str:
    return f"{PAPER_PREFIX}{mock_test_id}#A#{number:03d}"


def chunk_key(user_id: str, mock_test_id: str, chunk: int) -> tuple[str, str]:
    return student_key(user_id), f"{PAPER_PREFIX}{mock_test_id}#W#{chunk:02d}"


def list_sort_key(started: datetime, mock_test_id: str) -> str:
    """The list line's key: newest first by the instant started, to the microsecond."""
    return f"{LIST_PREFIX}{instant_key(started)}#{mock_test_id}"


def list_item(paper: MockPaperItem, max_score: float) -> MockListItem:
    pk = student_key(str(paper.user_id))
    return MockListItem(pk, str(paper.list_sk),
                        mock_test_id=paper.mock_test_id, pattern_id=paper.pattern_id, exam_type=paper.exam_type,
                        status=paper.status, started_at=paper.started_at, deadline=paper.deadline,
                        max_score=max_score)


def schedule_deadline(paper: MockPaperItem) -> None:
    """Put an in-progress paper in the sparse ``deadline`` index at its deadline."""
    user_id = str(paper.user_id)
    paper.deadline_pk = f"DEADLINE#{shard_of(user_id, DEADLINE_SHARDS)}"
    paper.deadline_sk = f"{paper.deadline}#{user_id}#{paper.mock_test_id}"


def _codes(exc: TransactWriteError) -> list[str | None]:
    return [reason.code if reason is not None else None
            for reason in (getattr(exc, "cancellation_reasons", None) or [])]


def create_paper(paper: MockPaperItem, entry: MockListItem) -> bool:
    """Store a new paper and its list line in one transaction; False when a paper with this id
    exists already (the same mock_test_id again)."""
    try:
        with TransactWrite(connection=connection_of(StudyTable)) as transaction:
            transaction.save(paper, condition=MockPaperItem.pk.does_not_exist())
            transaction.save(entry)
    except TransactWriteError as exc:
        if response_code(exc) is None:
            raise OutcomeUnknown(str(paper.mock_test_id)) from exc
        if "ConditionalCheckFailed" in _codes(exc):
            return False
        raise
    return True


class PaperState(NamedTuple):
    paper: MockPaperItem | None
    answers: dict[int, MockAnswerItem]
    chunks: set[int]


def read_paper(user_id: str, mock_test_id: str) -> PaperState:
    """The paper, its saved answers by number and the finish chunks already written: one strongly
    consistent Query of ``PAPER#<id>`` (paged by pynamodb past 1 MB, which 200 answers never reach)."""
    pk, sk = paper_key(user_id, mock_test_id)
    paper, answers, chunks = None, {}, set()
    for item in StudyTable.query(pk, StudyTable.sk.startswith(sk), consistent_read=True):
        if isinstance(item, MockPaperItem) and item.sk == sk:
            paper = item
        elif isinstance(item, MockAnswerItem) and item.mock_test_id == mock_test_id:
            answers[int(item.number)] = item
        elif isinstance(item, MockChunkItem) and item.mock_test_id == mock_test_id:
            chunks.add(int(str(item.sk).rsplit("#", 1)[-1]))
    return PaperState(paper, answers, chunks)


def save_answer(paper: MockPaperItem, answer: MockAnswerItem, section_index: int, now: datetime) -> None:
    """Write a saved answer if, by DynamoDB's check in the same transaction, the paper is in
    progress, ``now`` is before its deadline and inside the section's own window (if it has one).

    DeadlinePassed when the check fails; OutcomeUnknown when no answer came (saving again is safe:
    the same answer overwrites itself).
    """
    at = instant_text(now)
    condition = (MockPaperItem.status == IN_PROGRESS) & (MockPaperItem.deadline > at)
    if paper.window_ends[section_index]:
        condition &= ((MockPaperItem.window_starts[section_index] <= at)
                      & (MockPaperItem.window_ends[section_index] > at))
    for attempt in range(MAX_TRANSACTION_RETRIES):
        try:
            with TransactWrite(connection=connection_of(StudyTable)) as transaction:
                transaction.condition_check(MockPaperItem, paper.pk, paper.sk, condition=condition)
                transaction.save(answer)
            return
        except TransactWriteError as exc:
            if response_code(exc) is None:
                raise OutcomeUnknown(str(paper.mock_test_id)) from exc
            codes = _codes(exc)
            if "ConditionalCheckFailed" in codes:
                raise DeadlinePassed(str(paper.mock_test_id)) from exc
            if "TransactionConflict" not in codes and response_code(exc) != "TransactionConflictException":
                raise
            time.sleep(random.uniform(0, 0.02 * 2 ** attempt))  # another save of this paper or its close
    raise OutcomeUnknown(str(paper.mock_test_id))


def close_paper(paper: MockPaperItem, closed_at: datetime, auto_submitted: bool) -> None:
    """in_progress -> closing, conditional on its status: from here on no save commits.
    NotInProgress when another finisher closed it first."""
    try:
        paper.update(actions=[MockPaperItem.status.set(CLOSING), MockPaperItem.closed_at.set(closed_at),
                              MockPaperItem.auto_submitted.set(auto_submitted)],
                     condition=MockPaperItem.status == IN_PROGRESS)
    except UpdateError as exc:
        if response_code(exc) == "ConditionalCheckFailed" or "ConditionalCheckFailed" in str(exc):
            raise NotInProgress(str(paper.mock_test_id)) from exc
        if response_code(exc) is None:
            raise OutcomeUnknown(str(paper.mock_test_id)) from exc
        raise


def store_plan(paper: MockPaperItem, plan: dict[str, Any]) -> dict[str, Any]:
    """Keep the finish's plan on a closing paper, once: the plan already kept wins (a finisher that
    ran before a crash, or in parallel), so every finisher writes the same figures."""
    try:
        paper.update(actions=[MockPaperItem.plan.set(plan)],
                     condition=(MockPaperItem.status == CLOSING) & MockPaperItem.plan.does_not_exist())
        return plan
    except UpdateError as exc:
        if response_code(exc) is None:
            raise OutcomeUnknown(str(paper.mock_test_id)) from exc
        if response_code(exc) != "ConditionalCheckFailed" and "ConditionalCheckFailed" not in str(exc):
            raise
    paper.refresh(consistent_read=True)
    if paper.plan is None:
        raise NotInProgress(str(paper.mock_test_id))
    kept: dict[str, Any] = paper.plan
    return kept


class ChunkConflict(Exception):
    """A condition on one of a chunk's own items (a mistake card) failed: read it again and rebuild."""


def write_chunk(user_id: str, mock_test_id: str, chunk: int, puts: list[Any], updates: list[tuple[Any, list[Any]]],
                now: datetime) -> bool:
    """One chunk of the finish in one transaction, with its guard: True when written now, False
    when it had been written before. ``puts`` are items or (item, condition)."""
    guard = MockChunkItem(*chunk_key(user_id, mock_test_id, chunk), mock_test_id=mock_test_id, written_at=now)
    for attempt in range(MAX_TRANSACTION_RETRIES):
        try:
            with TransactWrite(connection=connection_of(StudyTable)) as transaction:
                transaction.save(guard, condition=MockChunkItem.pk.does_not_exist())
                for entry in puts:
                    item, condition = entry if isinstance(entry, tuple) else (entry, None)
                    transaction.save(item, condition=condition)
                for item, actions in updates:
                    transaction.update(item, actions=actions)
            return True
        except TransactWriteError as exc:
            if response_code(exc) is None:
                raise OutcomeUnknown(mock_test_id) from exc
            codes = _codes(exc)
            if codes and codes[0] == "ConditionalCheckFailed":
                return False  # the guard: written by an earlier or parallel finish
            if "ConditionalCheckFailed" in codes:
                raise ChunkConflict(mock_test_id) from exc
            if "TransactionConflict" not in codes and response_code(exc) != "TransactionConflictException":
                raise
            time.sleep(random.uniform(0, 0.02 * 2 ** attempt))
    raise OutcomeUnknown(mock_test_id)


def tests_page(user_id: str, limit: int, start: dict[str, str] | None) -> tuple[list[Any], dict[str, str] | None]:
    """One page of the student's mock tests, newest first."""
    return newest_first_page(MockListItem, student_key(user_id), LIST_PREFIX, limit, start)


def expired(shard: int, now: datetime, limit: int) -> list[MockPaperItem]:
    """Up to ``limit`` in-progress papers of one shard whose deadline is before ``now``: one Query
    of the sparse ``deadline`` index (finished papers have left it)."""
    items = MockPaperItem.deadline_index.query(
        f"DEADLINE#{shard}", MockPaperItem.deadline_sk < instant_text(now), limit=limit, page_size=limit)
    return [item for item in items if isinstance(item, MockPaperItem)]
