"""The shuffled practice list's start point (mindly.domain.practice_order)."""

from __future__ import annotations

from datetime import date

import pytest

from mindly.domain.practice_order import start_point

DAY = date(2026, 12, 2)
TOPICS = [("Botany", t) for t in ("Cell Biology", "Plant Kingdom", "Ecology", "Genetics")]
FILTERS = {"exam": "NEET", "subject": "Botany", "topic": None, "difficulty": None}


def test_the_start_point_is_stable_for_a_student_and_a_day() -> None:
    # Then the same student, day and filters start at the same point, within a topic of the list
    first = start_point("student-1", DAY, FILTERS, TOPICS)
    assert first == start_point("student-1", DAY, dict(FILTERS), TOPICS)
    assert (first.subject, first.topic) in TOPICS and len(first.id_point) == 8


def test_the_start_point_differs_across_students_days_and_filters() -> None:
    # Given one student's point
    first = start_point("student-1", DAY, FILTERS, TOPICS)
    # Then other students, another day and other filters start elsewhere (sha-256: no collision here)
    assert first != start_point("student-2", DAY, FILTERS, TOPICS)
    assert first != start_point("student-1", date(2026, 12, 3), FILTERS, TOPICS)
    assert first != start_point("student-1", DAY, {**FILTERS, "difficulty": "easy"}, TOPICS)


def test_students_start_in_every_topic() -> None:
    # Given many students
    topics = {start_point(f"student-{n}", DAY, FILTERS, TOPICS).topic for n in range(200)}
    # Then each topic of the list is some student's start
    assert topics == {topic for _, topic in TOPICS}


def test_a_list_without_topics_has_no_start() -> None:
    with pytest.raises(ValueError, match="at least one topic"):
        start_point("student-1", DAY, FILTERS, [])
