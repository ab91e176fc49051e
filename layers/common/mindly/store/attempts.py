"""A student's question attempts in the Study table: ``USER#<id> / ATTEMPT#<time>#<attempt id>``.

An attempt is written in the same transaction as its activity (mindly.services.progress), so it
exists exactly when the attempt counted. Sort keys start with the time, so a student's attempts
come back newest first from one Query, and a week of them is a key range (calibration).
"""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

from pynamodb.attributes import BooleanAttribute, NumberAttribute, UnicodeAttribute, UTCDateTimeAttribute

from mindly.store.models import StudyTable, newest_first_page
from mindly.store.progress import student_key

ATTEMPT_PREFIX = "ATTEMPT#"


class AttemptItem(StudyTable, discriminator="attempt"):
    attempt_id = UnicodeAttribute()
    question_id = UnicodeAttribute()
    exam_type = UnicodeAttribute()
    subject = UnicodeAttribute()
    topic = UnicodeAttribute()
    selected_option = UnicodeAttribute()
    correct_option = UnicodeAttribute()
    is_correct = BooleanAttribute()
    confidence_rating = NumberAttribute()
    time_taken_seconds = NumberAttribute()
    attempted_at = UTCDateTimeAttribute()
    option_count = NumberAttribute(null=True)  # 4 or 5 (older attempts: None, read as 4)


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
