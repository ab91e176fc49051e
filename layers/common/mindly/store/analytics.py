"""What analytics reads in the Study table, all under the student's own partition ``USER#<id>``.

- ``STATS#<exam>#<subject>`` and ``TSTATS#<exam>#<subject>#<topic>``: attempts, correct answers and
  seconds spent, added atomically (UpdateItem ADD) in the same transaction as the attempt, so they
  count each attempt exactly once. Subject accuracy is one Query of ``STATS#`` (one item a subject).
- ``MOCK#<taken on>#<test id>``: a mock test the student sat elsewhere and recorded here, newest
  first by date; ``MOCKID#<test id>`` guards the id (a retried POST records once) and ``MOCKS``
  counts them (the dashboard cache is keyed by that count).
"""

from __future__ import annotations

import random
import time
from datetime import date
from typing import Any

from pynamodb.attributes import BooleanAttribute, JSONAttribute, NumberAttribute, UnicodeAttribute, UTCDateTimeAttribute
from pynamodb.exceptions import TransactWriteError
from pynamodb.transactions import TransactWrite

from mindly.store.errors import AlreadyExists, OutcomeUnknown, StaleWrite, response_code
from mindly.store.models import StudyTable, connection_of, newest_first_page
from mindly.store.progress import DayItem, Increment, student_key

SUBJECT_PREFIX = "STATS#"
TOPIC_PREFIX = "TSTATS#"
MOCK_PREFIX = "MOCK#"
MOCK_ID_PREFIX = "MOCKID#"
MOCK_COUNTER = "MOCKS"


class SubjectStatsItem(StudyTable, discriminator="subject_stats"):
    """``USER#<id> / STATS#<exam>#<subject>``: the student's answers in one subject."""

    exam_type = UnicodeAttribute()
    subject = UnicodeAttribute()
    attempts = NumberAttribute(default=0)
    correct = NumberAttribute(default=0)
    seconds = NumberAttribute(default=0)


class TopicStatsItem(SubjectStatsItem, discriminator="topic_stats"):
    """``USER#<id> / TSTATS#<exam>#<subject>#<topic>``: the same for one topic."""

    topic = UnicodeAttribute()


class MockTestItem(StudyTable, discriminator="mock_test"):
    """``USER#<id> / MOCK#<taken on>#<test id>``: one recorded mock test."""

    test_id = UnicodeAttribute()
    test_name = UnicodeAttribute()
    exam_type = UnicodeAttribute()
    taken_on = UnicodeAttribute()
    total_questions = NumberAttribute()
    correct = NumberAttribute()
    wrong = NumberAttribute()
    time_taken_minutes = NumberAttribute()
    max_score = NumberAttribute()
    score = NumberAttribute()
    chapters = JSONAttribute(default=list)  # [{subject, chapter, correct, total}]
    recorded_at = UTCDateTimeAttribute()
    # A mock test sat here (mindly.services.mock_tests): its answers are also attempts, already in the
    # topic counters and the days' tallies, so the dashboard counts its questions once, from those.
    sat_here = BooleanAttribute(null=True)


class MockGuardItem(StudyTable, discriminator="mock_guard"):
    """``USER#<id> / MOCKID#<test id>``: where the test with this id is stored."""

    mock_sk = UnicodeAttribute()


class MockCounterItem(StudyTable, discriminator="mock_counter"):
    """``USER#<id> / MOCKS``: how many mock tests the student has recorded."""

    # Stored as "count"; named otherwise in Python, where `count` is Model's query-count method.
    tests_recorded = NumberAttribute(default=0, attr_name="count")


def _counter_actions(model: Any, answers: int, correct: int, seconds: int, fields: dict[str, str]) -> list[Any]:
    # An UpdateItem may create the item, so it also sets the kind (serialised from the class).
    actions = [model.kind.set(model), model.attempts.add(answers), model.correct.add(correct),
               model.seconds.add(max(0, seconds))]
    return actions + [getattr(model, name).set(value) for name, value in fields.items()]


def attempt_counters(user_id: str, exam: str, subject: str, topic: str, correct: bool,
                     seconds: int) -> list[Increment]:
    """The subject and topic counters one attempt adds to (for the attempt's transaction)."""
    return summed_counters(user_id, exam, [(subject, topic, correct, seconds)])


def summed_counters(user_id: str, exam: str, answers: list[tuple[str, str, bool, int]]) -> list[Increment]:
    """The subject and topic counters of several attempts ``(subject, topic, correct, seconds)``,
    one update per counter (a transaction may name an item once): a mock test's chunk of answers."""
    pk = student_key(user_id)
    subjects: dict[str, list[int]] = {}
    topics: dict[tuple[str, str], list[int]] = {}
    for subject, topic, correct, seconds in answers:
        for tally in (subjects.setdefault(subject, [0, 0, 0]), topics.setdefault((subject, topic), [0, 0, 0])):
            tally[0] += 1
            tally[1] += 1 if correct else 0
            tally[2] += max(0, seconds)
    increments = [Increment(SubjectStatsItem(pk, f"{SUBJECT_PREFIX}{exam}#{subject}"),
                            _counter_actions(SubjectStatsItem, answered, right, seconds,
                                             {"exam_type": exam, "subject": subject}))
                  for subject, (answered, right, seconds) in subjects.items()]
    return increments + [
        Increment(TopicStatsItem(pk, f"{TOPIC_PREFIX}{exam}#{subject}#{topic}"),
                  _counter_actions(TopicStatsItem, answered, right, seconds,
                                   {"exam_type": exam, "subject": subject, "topic": topic}))
        for (subject, topic), (answered, right, seconds) in topics.items()]


def _query_all(model: Any, user_id: str, prefix: str, **kwargs: Any) -> list[Any]:
    """Every item of the student's partition under ``prefix`` (one Query, paged by pynamodb
    as DynamoDB requires)."""
    return list(model.query(student_key(user_id), model.sk.startswith(prefix), **kwargs))


def subject_stats(user_id: str, exam: str | None = None) -> list[SubjectStatsItem]:
    prefix = f"{SUBJECT_PREFIX}{exam}#" if exam else SUBJECT_PREFIX
    return _query_all(SubjectStatsItem, user_id, prefix)


def topic_stats(user_id: str, exam: str, subject: str | None = None) -> list[TopicStatsItem]:
    prefix = f"{TOPIC_PREFIX}{exam}#{subject}#" if subject else f"{TOPIC_PREFIX}{exam}#"
    return _query_all(TopicStatsItem, user_id, prefix)


def days_between(user_id: str, first: date, last: date) -> list[DayItem]:
    """The student's DAY items from ``first`` to ``last`` (local dates, inclusive): one Query."""
    return list(DayItem.query(student_key(user_id),
                              DayItem.sk.between(f"DAY#{first.isoformat()}", f"DAY#{last.isoformat()}")))


def mock_sort_key(taken_on: str, test_id: str) -> str:
    return f"{MOCK_PREFIX}{taken_on}#{test_id}"


def record_mock_test(item: MockTestItem, attempts: int = 5) -> None:
    """Store a mock test, its id guard and the count in one transaction.

    AlreadyExists: a test with this id is recorded already. OutcomeUnknown: no answer came (it may
    have been applied). StaleWrite: the count kept changing under concurrent recordings.
    """
    guard, _, counter = record_items(item)
    for attempt in range(attempts):
        try:
            with TransactWrite(connection=connection_of(StudyTable)) as transaction:
                transaction.save(guard, condition=MockGuardItem.pk.does_not_exist())
                transaction.save(item, condition=MockTestItem.pk.does_not_exist())
                transaction.update(counter.item, actions=counter.actions)
            return
        except TransactWriteError as exc:
            if response_code(exc) is None:
                raise OutcomeUnknown(str(item.pk)) from exc
            codes = [reason.code if reason is not None else None
                     for reason in (getattr(exc, "cancellation_reasons", None) or [])]
            if "ConditionalCheckFailed" in codes:
                raise AlreadyExists(str(item.test_id)) from exc
            if "TransactionConflict" not in codes and response_code(exc) != "TransactionConflictException":
                raise
            time.sleep(random.uniform(0, 0.02 * 2 ** attempt))  # another recording holds the count
    raise StaleWrite(str(item.pk))


def record_items(item: MockTestItem) -> tuple[MockGuardItem, MockTestItem, Increment]:
    """What recording a test writes: its id guard, the test, and +1 on the count (which keys the
    dashboard cache). A mock test sat here writes them in its finishing transaction, unconditionally:
    that transaction's own activity record already makes it happen once."""
    guard = MockGuardItem(item.pk, f"{MOCK_ID_PREFIX}{item.test_id}", mock_sk=item.sk)
    counter = MockCounterItem(item.pk, MOCK_COUNTER)
    return guard, item, Increment(counter, [MockCounterItem.kind.set(MockCounterItem),
                                            MockCounterItem.tests_recorded.add(1)])


def get_mock_test(user_id: str, test_id: str) -> MockTestItem | None:
    """The stored test with this id (two strongly consistent reads: the guard, then the test)."""
    pk = student_key(user_id)
    guard = next(iter(MockGuardItem.batch_get([(pk, f"{MOCK_ID_PREFIX}{test_id}")], consistent_read=True)), None)
    if not isinstance(guard, MockGuardItem):
        return None
    found = next(iter(MockTestItem.batch_get([(pk, str(guard.mock_sk))], consistent_read=True)), None)
    return found if isinstance(found, MockTestItem) else None


def mock_tests_page(user_id: str, limit: int, start: dict[str, str] | None) -> tuple[list[Any],
                                                                                     dict[str, str] | None]:
    """One page of the student's mock tests, newest first."""
    return newest_first_page(MockTestItem, student_key(user_id), MOCK_PREFIX, limit, start)


def recent_mock_tests(user_id: str, count: int) -> list[MockTestItem]:
    """The student's latest ``count`` mock tests, newest first (one Query)."""
    return list(MockTestItem.query(student_key(user_id), MockTestItem.sk.startswith(MOCK_PREFIX),
                                   scan_index_forward=False, limit=count, page_size=count))
