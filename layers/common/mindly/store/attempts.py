"""A student's question attempts in the Study table: ``USER#<id> / ATTEMPT#<time>#<attempt id>``.

An attempt is written in the same transaction as its activity (mindly.services.progress), so it
exists exactly when the attempt counted. Sort keys start with the time, so a student's attempts
come back newest first from one Query, and a week of them is a key range (calibration).
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from pynamodb.attributes import BooleanAttribute, NumberAttribute, UnicodeAttribute, UTCDateTimeAttribute

from mindly.store.models import StudyTable
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


def attempt_sort_key(at: datetime, attempt_id: str) -> str:
    return f"{ATTEMPT_PREFIX}{at.strftime('%Y-%m-%dT%H:%M:%S.%fZ')}#{attempt_id}"


def attempts_page(user_id: str, limit: int, start: dict[str, str] | None) -> tuple[list[AttemptItem],
                                                                                    dict[str, str] | None]:
    """One page of the student's attempts, newest first (one Query of ``limit`` + 1 items)."""
    exclusive_start = {name: {"S": value} for name, value in start.items()} if start else None
    items: list[Any] = list(AttemptItem.query(
        student_key(user_id), AttemptItem.sk.startswith(ATTEMPT_PREFIX), scan_index_forward=False,
        limit=limit + 1, page_size=limit + 1, last_evaluated_key=exclusive_start))
    if len(items) <= limit:
        return items, None
    items = items[:limit]
    return items, {"pk": items[-1].pk, "sk": items[-1].sk}
