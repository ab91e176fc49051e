"""The practice list's ``order=shuffled`` (pure): where a student's rotated list starts today.

A true per-student shuffle cannot page with one Query a page: DynamoDB returns a partition in
sort-key order (subject, topic, id), the bank is shared by every student, so no index can hold each
student's own permutation, and sorting by a per-student hash means reading every question under
the filters on every page (the whole exam: one Query a megabyte of bank, about 2,000 questions).
What does page with one Query is a rotation: the same cyclic order, started at a point that
depends on the student, the day and the filters. The list runs from that point to the end of
the filters' range, then from the range's beginning back up to the point, each question exactly
once. Two students (or one student on two days) start in different places; the neighbours of a
question stay its neighbours. The start point is a topic under the filters (chosen uniformly)
and 8 hex digits within it (question ids are sha-256 hex, so a uniform point among its questions).
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Mapping, Sequence
from datetime import date
from typing import NamedTuple


class StartPoint(NamedTuple):
    """Where a rotated list begins: a topic and a point among its question ids."""

    subject: str
    topic: str
    id_point: str


def start_point(student_id: str, day: date, filters: Mapping[str, str | None],
                topics: Sequence[tuple[str, str]]) -> StartPoint:
    """The student's start point for ``day`` under ``filters`` (canonical values), among
    ``topics``, the (subject, topic) pairs the filters cover in syllabus order (not empty)."""
    if not topics:
        raise ValueError("a list covers at least one topic")
    seed = json.dumps([student_id, day.isoformat(), sorted(filters.items())], separators=(",", ":"))
    digest = hashlib.sha256(seed.encode()).digest()
    subject, topic = topics[int.from_bytes(digest[:8], "big") % len(topics)]
    return StartPoint(subject, topic, digest[8:12].hex())
