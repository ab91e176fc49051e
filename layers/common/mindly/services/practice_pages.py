"""How the practice list (GET /questions/practice) reads a page: in bank order or rotated
(``order=shuffled``), and without the questions the student has answered (``unanswered=true``).

Bank order is one Query a page (mindly.store.content.query_page). A rotated list
(mindly.domain.practice_order) reads the filters' range from the student's start point to its end,
then from its beginning up to the point: one Query a page, and two for the one page where the
list wraps around (the second fills the page from the range's beginning, or, when the first
filled it exactly, looks one question ahead so ``has_more`` stays true only when more follow). A
cursor's key tells which side of the start point it stands on, so it needs nothing else.

``unanswered=true`` reads the page's ANSWERED markers (mindly.store.attempts) in one BatchGetItem,
the page's passages in the same call (when both fit its 100 keys; else the passages of the
questions kept follow in a second), and drops the questions answered: a page may then hold fewer
than ``limit`` items, even none, while ``next_cursor`` goes on; the list ends where
``next_cursor`` is null.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import date
from typing import Any

from mindly.domain import practice_order, syllabus
from mindly.store import attempts as attempt_store
from mindly.store import content as content_store
from mindly.store.models import ContentTable, StudyTable, batch_read

BATCH_GET_MAX_KEYS = 100  # DynamoDB's BatchGetItem limit

Read = Callable[[dict[str, str] | None], content_store.Page]


def bank_order(exam: str, subject: str | None, topic: str | None, difficulty: str | None, limit: int) -> Read:
    """Pages in (subject, topic, id) order: one Query each."""
    return lambda start: content_store.query_page("question", exam, subject, topic, difficulty, limit, start)


def rotated(exam: str, subject: str | None, topic: str | None, difficulty: str | None, limit: int,
            student_id: str, day: date) -> Read:
    """Pages of the student's rotation for ``day`` (see the module docstring)."""
    topics = [(s.name, t) for s in syllabus.subjects(exam) if subject in (None, s.name)
              for t in s.topics if topic in (None, t)]
    filters = {"exam": exam, "subject": subject, "topic": topic, "difficulty": difficulty}
    start_at = practice_order.start_point(student_id, day, filters, topics)
    point = content_store.question_sort_key(start_at.subject, start_at.topic, start_at.id_point, None)
    low, high = content_store.range_bounds(subject, topic)
    index_keys = ("gsi2_pk", "gsi2_sk") if difficulty else ("gsi1_pk", "gsi1_sk")

    def read(start: dict[str, str] | None) -> content_store.Page:
        if start is not None and start[index_keys[1]] < point:  # past the wrap: the range's beginning
            return content_store.query_range(exam, difficulty, low, point, limit, start)
        found = content_store.query_range(exam, difficulty, point, high, limit, start)
        if found.last_key is not None:
            return found
        room = limit - len(found.items)
        rest = content_store.query_range(exam, difficulty, low, point, max(room, 1), None)
        if room == 0:  # the page is full: the question looked ahead only says whether more follow
            return content_store.index_page(found.items + rest.items[:1], limit, index_keys)
        return content_store.Page(found.items + rest.items, rest.last_key)

    return read


def unanswered_only(user_id: str, items: list[Any]) -> tuple[list[Any], dict[str, content_store.PassageItem]]:
    """The page's questions the student never answered, and the passages they show (see the
    module docstring for the calls)."""
    if not items:
        return [], {}
    passage_ids = list(dict.fromkeys(str(item.passage_id) for item in items if item.passage_id))
    markers = [attempt_store.answered_key(user_id, str(item.question_id)) for item in items]
    together = len(markers) + len(passage_ids) <= BATCH_GET_MAX_KEYS
    found_markers, found_passages = batch_read([
        (StudyTable, markers),
        (ContentTable, [content_store.passage_key(pid) for pid in passage_ids] if together else []),
    ])
    answered = {str(m.question_id) for m in found_markers if isinstance(m, attempt_store.AnsweredQuestionItem)}
    kept = [item for item in items if str(item.question_id) not in answered]
    if together:
        return kept, {str(p.passage_id): p for p in found_passages if isinstance(p, content_store.PassageItem)}
    return kept, content_store.passages([str(item.passage_id) for item in kept if item.passage_id])
