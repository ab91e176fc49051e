"""bench.question_bank's pure helpers: the generated bank is a valid, realistic bank, its changed copy
changes what it says, its answers are right, and the deep-page walk lands where it says (offline)."""

from __future__ import annotations

from collections import defaultdict
from decimal import Decimal
from typing import Any

import pytest

from bench import question_bank as qb
from mindly.domain import syllabus
from mindly.domain.content import Response, content_hash, is_right, parse_question

MEDIA = ("figure-0001", "figure-0002", "figure-0003")


@pytest.fixture(scope="module")
def bank() -> list[dict[str, Any]]:
    return qb.generate_bank(3000, seed=11, media_ids=MEDIA)


def test_every_generated_record_enters_the_bank(bank: list[dict[str, Any]]) -> None:
    # Given a generated bank of 3,000 records
    # When each is validated as an import validates it
    parsed = [parse_question(record) for record in bank]
    # Then none is refused, and every record has its own id
    assert len(parsed) == 3000
    assert len({question.question_id for question in parsed}) == 3000


def test_generated_bank_mixes_types_exams_difficulties_latex_and_media(bank: list[dict[str, Any]]) -> None:
    # Given the generated bank
    # When its mix is counted
    mix = qb.bank_mix(bank)
    # Then it holds every type, exam and difficulty in realistic shares, LaTeX only where exams use it
    assert set(mix["types"]) == {"single", "multiple", "numeric"}
    assert mix["types"]["single"] > mix["types"]["multiple"] > 0 and mix["types"]["numeric"] > 0.08 * 3000
    assert set(mix["exams"]) == set(syllabus.EXAM_TYPES)
    assert set(mix["difficulties"]) == {"easy", "medium", "hard"}
    assert 0.05 * 3000 < mix["in_passages"] < 0.25 * 3000
    assert mix["latex"] > 0 and all(r["exam_type"] in qb.LATEX_EXAMS for r in bank if r.get("format") == "latex")
    assert 0 < mix["with_media"] < 0.05 * 3000
    assert {ref["media_id"] for r in bank for ref in r.get("media", [])} <= set(MEDIA)


def test_generated_passages_are_shared_by_three_to_five_questions_of_one_topic(bank: list[dict[str, Any]]) -> None:
    # Given the generated bank
    groups: dict[str, list[dict[str, Any]]] = defaultdict(list)
    for record in bank:
        if "passage" in record:
            groups[record["passage"]["passage_id"]].append(record)
    # When the questions are grouped by passage
    sizes = {len(members) for members in groups.values()}
    # Then each passage has 3-5 questions (the bank's last group may be cut short), one text, one topic
    assert sizes <= {1, 2, 3, 4, 5} and sizes & {3, 4, 5}
    assert sum(len(m) < 3 for m in groups.values()) <= 1
    for members in groups.values():
        assert len({m["passage"]["text"] for m in members}) == 1
        assert len({(m["exam_type"], m["subject"], m["topic"]) for m in members}) == 1


def test_generated_bank_is_the_same_for_the_same_seed() -> None:
    # Given two banks from one seed and one from another
    # When they are compared
    # Then the same seed gives the same records, another seed others
    assert qb.generate_bank(200, seed=3) == qb.generate_bank(200, seed=3)
    assert qb.generate_bank(200, seed=3) != qb.generate_bank(200, seed=4)


def test_changed_copy_edits_one_record_in_twenty_and_only_those(bank: list[dict[str, Any]]) -> None:
    # Given the first 1,000 records of the bank
    sample = bank[:1000]
    # When 5 % are changed
    edited, changed = qb.with_changes(sample, 0.05)
    # Then exactly 50 records hash differently (a re-import updates them) and the rest hash the same
    differs = [content_hash(parse_question(a)) != content_hash(parse_question(b))
               for a, b in zip(sample, edited, strict=True)]
    assert changed == 50 == sum(differs)
    assert sample == bank[:1000]  # the original is left as it was


def test_answer_of_is_the_right_answer_of_every_type(bank: list[dict[str, Any]]) -> None:
    # Given one generated record of each type
    for kind in ("single", "multiple", "numeric"):
        record = next(r for r in bank if r.get("type") == kind)
        # When the bench's answer is graded
        given = qb.answer_of(record)
        number = given.get("numeric_answer")
        response = Response(option=given.get("selected_option"),
                            options=tuple(sorted(given.get("selected_options", ()))),
                            number=Decimal(repr(number)) if number is not None else None)
        # Then it is right
        assert is_right(parse_question(record), response), (kind, given)


class FakeList:
    """A list of ``total`` items paged like the practice route: cursors are item positions."""

    def __init__(self, total: int) -> None:
        self.total = total
        self.limits: list[int] = []

    def get(self, query: dict[str, Any]) -> Any:
        start, limit = int(query["cursor"]), int(query["limit"])
        self.limits.append(limit)
        end = min(self.total, start + limit)
        data = {"items": list(range(start, end)), "next_cursor": str(end) if end < self.total else None}
        return type("Answer", (), {"json": lambda _self: {"data": data}})()


def test_deep_cursor_reaches_the_target_in_pages_of_up_to_a_hundred() -> None:
    # Given a list of 4,000 items and the cursor after its first page of 20
    items = FakeList(4000)
    # When the walk goes to item 480 (page 25 of 20)
    cursor, done = qb.deep_cursor(items.get, "20", 20, 480)
    # Then it stops there, having asked for at most 100 items a request
    assert (cursor, done) == ("480", 480)
    assert items.limits == [100, 100, 100, 100, 60]


def test_deep_cursor_stops_at_the_last_page_of_a_short_list() -> None:
    # Given a list of 150 items and the cursor after its first page
    items = FakeList(150)
    # When the walk aims past its end
    cursor, done = qb.deep_cursor(items.get, "20", 20, 480)
    # Then it returns the last cursor the list has, where the rest of the items start
    assert (cursor, done) == ("120", 120)
