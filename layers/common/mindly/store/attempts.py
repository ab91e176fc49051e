"""A student's question attempts in the Study table: ``USER#<id> / ATTEMPT#<time>#<attempt id>``.

An attempt is written in the same transaction as its activity (mindly.services.progress), so it
exists exactly when the attempt counted. Sort keys start with the time, so a student's attempts
come back newest first from one Query, and a week of them is a key range (calibration).

``USER#<id> / ANSWERED#<question id>`` records that the student has answered a question (so they
have seen its key) and the last local day an answer to it counted toward the daily goal. It is
read in the submit's one BatchGetItem and written in the answer's transaction under a condition on
what was read, so two answers racing cannot both be a question's first (or first of the day).
"""

from __future__ import annotations

from datetime import UTC, date, datetime
from typing import Any, NamedTuple

from pynamodb.attributes import (
    BooleanAttribute,
    ListAttribute,
    MapAttribute,
    NumberAttribute,
    UnicodeAttribute,
    UTCDateTimeAttribute,
)

from mindly.store.models import StudyTable, newest_first_page
from mindly.store.progress import student_key

ATTEMPT_PREFIX = "ATTEMPT#"
ANSWERED_PREFIX = "ANSWERED#"


class AttemptItem(StudyTable, discriminator="attempt"):
    attempt_id = UnicodeAttribute()
    question_id = UnicodeAttribute()
    exam_type = UnicodeAttribute()
    subject = UnicodeAttribute()
    topic = UnicodeAttribute()
    selected_option = UnicodeAttribute(null=True)  # single
    correct_option = UnicodeAttribute(null=True)  # single
    is_correct = BooleanAttribute()
    confidence_rating = NumberAttribute(null=True)  # None: a mock test's answer the student did not rate
    time_taken_seconds = NumberAttribute()
    attempted_at = UTCDateTimeAttribute()
    # 4 or 5 options, 0 for a numeric question (older attempts: None, read as 4)
    option_count = NumberAttribute(null=True)
    # Added with the question types (older attempts: single, version 1)
    question_type = UnicodeAttribute(null=True)
    selected_options = ListAttribute(of=UnicodeAttribute, null=True)  # multiple
    correct_options = ListAttribute(of=UnicodeAttribute, null=True)  # multiple
    numeric_answer = UnicodeAttribute(null=True)  # numeric, the exact decimal given
    answer: MapAttribute[str, str] = MapAttribute(null=True)  # numeric key as answered: low/high(/value/tolerance)
    question_version = NumberAttribute(null=True)


def option_count(item: AttemptItem) -> int:
    """k of the attempt's question for calibration's chance 1/k (0: numeric; None was written as 4)."""
    return 4 if item.option_count is None else int(item.option_count)


def instant_key(at: datetime) -> str:
    return at.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%S.%fZ")


def attempt_sort_key(at: datetime, attempt_id: str) -> str:
    return f"{ATTEMPT_PREFIX}{instant_key(at)}#{attempt_id}"


def attempts_page(user_id: str, limit: int, start: dict[str, str] | None) -> tuple[list[Any],
                                                                                   dict[str, str] | None]:
    """One page of the student's attempts, newest first."""
    return newest_first_page(AttemptItem, student_key(user_id), ATTEMPT_PREFIX, limit, start)


def attempts_between(user_id: str, start: datetime, end: datetime) -> list[AttemptItem]:
    """The student's attempts made in [start, end), oldest first: one Query over the key range
    (pynamodb follows LastEvaluatedKey when a week's attempts exceed DynamoDB's 1 MB a page)."""
    items: list[Any] = list(AttemptItem.query(
        student_key(user_id), AttemptItem.sk.between(f"{ATTEMPT_PREFIX}{instant_key(start)}",
                                                     f"{ATTEMPT_PREFIX}{instant_key(end)}")))
    # A sort key is "<instant>#<id>", so the upper bound (no "#") already excludes ``end`` itself.
    return items


class AnsweredQuestionItem(StudyTable, discriminator="answered_question"):
    """``USER#<id> / ANSWERED#<question id>``: the question was answered (kept for good: the key
    stays seen), first by ``first_attempt_id``; ``goal_day`` is the last local day it counted
    toward the daily goal."""

    question_id = UnicodeAttribute()
    first_attempt_id = UnicodeAttribute()
    first_answered_at = UTCDateTimeAttribute()
    goal_day = UnicodeAttribute()


class AnswerStanding(NamedTuple):
    """What an answer to a question counts for, given what the student did with it before, and
    the marker write (an item and its condition; None: nothing to write) that makes it so."""

    answered_before: bool
    counts_for_goal: bool
    marker: tuple[AnsweredQuestionItem, Any] | None


def answered_key(user_id: str, question_id: str) -> tuple[str, str]:
    return student_key(user_id), f"{ANSWERED_PREFIX}{question_id}"


def answer_standing(user_id: str, question_id: str, attempt_id: str, found: list[Any], at: datetime,
                    today: date) -> AnswerStanding:
    """The standing of an answer at ``at`` (local day ``today``), from the items of one read that
    included ``answered_key`` (other items are ignored)."""
    pk, sk = answered_key(user_id, question_id)
    marker = next((item for item in found if isinstance(item, AnsweredQuestionItem) and item.sk == sk), None)
    if marker is None:
        first = AnsweredQuestionItem(pk, sk, question_id=question_id, first_attempt_id=attempt_id,
                                     first_answered_at=at, goal_day=today.isoformat())
        return AnswerStanding(False, True, (first, AnsweredQuestionItem.pk.does_not_exist()))
    if marker.goal_day == today.isoformat():
        return AnswerStanding(True, False, None)
    seen_day = marker.goal_day
    marker.goal_day = today.isoformat()
    return AnswerStanding(True, True, (marker, AnsweredQuestionItem.goal_day == seen_day))
