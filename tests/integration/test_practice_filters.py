"""GET /questions/practice's ``unanswered=true`` and ``order=shuffled`` through the questions
function's real handler: answered questions are skipped across pages, the shuffled list is a
rotation that is stable for a student within a day, differs between students and pages without
repeats or gaps, and a cursor is refused with any other value of either.

The content lives in NEET Botany "Plant Reproduction", written here; no other test puts questions
there (test_practice_next.py uses other Botany topics), and every list here is walked to its end.
"""

from __future__ import annotations

import uuid
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from support import HandlerClient, admin_token, register

API = "/api/v1"
SOURCE = f"test-filters-{uuid.uuid4().hex[:8]}"
TOPIC = {"exam": "NEET", "subject": "Botany", "topic": "Plant Reproduction"}
COUNT = 30


@pytest.fixture(scope="module")
def reproduction(auth_fn: Any, admin_fn: Any) -> list[str]:
    """Thirty Plant Reproduction questions (the answer is always A), their ids in bank order."""
    from mindly.domain.content import content_id

    records = [{"source": SOURCE, "external_id": f"rep-{n}", "exam_type": "NEET", "subject": "Botany",
                "topic": "Plant Reproduction", "difficulty": ("easy", "medium", "hard")[n % 3],
                "stem": f"Plant reproduction question {n}?",
                "options": {"A": f"yes {n}", "B": f"no {n}", "C": f"maybe {n}", "D": f"never {n}"},
                "correct_option": "A", "explanation": None} for n in range(COUNT)]
    admin = HandlerClient(admin_fn, token=admin_token(auth_fn))
    answer = admin.post(f"{API}/admin/questions/import", records)
    assert answer.status == 200 and answer.data["errors"] == [], answer
    return sorted(content_id("question", SOURCE, r["external_id"]) for r in records)


def new_student(auth_fn: Any, questions_fn: Any) -> HandlerClient:
    return HandlerClient(questions_fn, token=register(auth_fn, name="Farhan Qureshi").data["access_token"])


@pytest.fixture
def student(auth_fn: Any, questions_fn: Any) -> HandlerClient:
    return new_student(auth_fn, questions_fn)


def walk(client: HandlerClient, limit: int = 7, **query: str) -> tuple[list[str], list[int]]:
    """Every question of the list, following next_cursor to the end, and each page's length."""
    ids: list[str] = []
    sizes: list[int] = []
    cursor: str | None = None
    while True:
        page = client.get(f"{API}/questions/practice",
                          query={**TOPIC, "limit": str(limit), **query, **({"cursor": cursor} if cursor else {})})
        assert page.status == 200, page
        ids += [item["question_id"] for item in page.data["items"]]
        sizes.append(len(page.data["items"]))
        cursor = page.data["next_cursor"]
        assert page.data["has_more"] is (cursor is not None)
        if cursor is None:
            return ids, sizes
        assert len(sizes) < 100, "the list never ended"


def answer(client: HandlerClient, question_id: str) -> None:
    sent = client.post(f"{API}/questions/submit", {"question_id": question_id, "selected_option": "A",
                                                   "confidence_rating": 3, "time_taken_seconds": 15})
    assert sent.status == 200, sent


def test_unanswered_skips_every_answered_question_across_pages(reproduction: list[str],
                                                              student: HandlerClient) -> None:
    # Given a student who answered every third question of the topic
    answered = reproduction[::3]
    for question_id in answered:
        answer(student, question_id)
    # When they page through it with unanswered=true
    ids, sizes = walk(student, unanswered="true")
    # Then every other question comes, once each, in bank order, and none answered
    assert ids == [q for q in reproduction if q not in answered]
    # And pages came short rather than reading further (7 read a page, some of them answered)
    assert any(size < 7 for size in sizes[:-1])
    # And the plain list still shows them all
    assert walk(student)[0] == reproduction


def test_the_shuffled_list_is_a_rotation_stable_for_a_student_within_a_day(reproduction: list[str],
                                                                            student: HandlerClient) -> None:
    # When a student walks the shuffled list twice, in pages of 7
    first, _ = walk(student, order="shuffled")
    again, _ = walk(student, order="shuffled")
    # Then both walks are the same, hold every question once (no repeats, no gaps, across the
    # page where the list wraps around) and are the bank order started elsewhere
    assert first == again
    assert sorted(first) == reproduction and len(first) == COUNT
    start = reproduction.index(first[0])
    assert first == reproduction[start:] + reproduction[:start]
    # And the page size does not change the order (a page of 1 ends exactly where the range does)
    assert walk(student, limit=4, order="shuffled")[0] == first
    assert walk(student, limit=1, order="shuffled")[0] == first


def test_the_shuffled_list_starts_elsewhere_for_other_students(reproduction: list[str], auth_fn: Any,
                                                                questions_fn: Any) -> None:
    # Given five students (their start points are sha-256 of their ids: five in one gap of thirty
    # questions has a chance below one in 800,000)
    firsts = set()
    for _ in range(5):
        client = new_student(auth_fn, questions_fn)
        page = client.get(f"{API}/questions/practice", query={**TOPIC, "limit": "3", "order": "shuffled"})
        assert page.status == 200, page
        firsts.add(page.data["items"][0]["question_id"])
    # Then they do not all start at the same question
    assert len(firsts) > 1


def test_page_numbers_walk_the_shuffled_list_as_cursors_do(reproduction: list[str], student: HandlerClient) -> None:
    # Given the shuffled list walked with cursors
    ids, _ = walk(student, limit=7, order="shuffled")
    # When page 3 is asked by number
    page = student.get(f"{API}/questions/practice", query={**TOPIC, "limit": "7", "page": "3", "order": "shuffled"})
    # Then it is the third page of the walk
    assert page.status == 200, page
    assert [item["question_id"] for item in page.data["items"]] == ids[14:21]


def test_unanswered_and_shuffled_together_skip_within_the_rotation(reproduction: list[str],
                                                                   student: HandlerClient) -> None:
    # Given a student who answered five questions
    answered = set(reproduction[1:30:6])
    for question_id in answered:
        answer(student, question_id)
    # When they walk the shuffled list without them
    ids, _ = walk(student, order="shuffled", unanswered="true")
    # Then it is their rotation with those left out
    assert ids == [q for q in walk(student, order="shuffled")[0] if q not in answered]


def test_a_shuffled_list_begun_yesterday_carries_on_in_yesterday_order(reproduction: list[str], auth_fn: Any,
                                                                       questions_fn: Any) -> None:
    # Given a student who read the first page of the shuffled list yesterday (India time)
    from mindly.services import questions

    answer = register(auth_fn, name="Farhan Qureshi")
    client, user_id = HandlerClient(questions_fn, token=answer.data["access_token"]), answer.data["user"]["id"]
    now = datetime.now(UTC)

    def listed(page: int, at: datetime, cursor: str | None = None) -> dict[str, Any]:
        return questions.practice(user_id, "NEET", "Botany", "Plant Reproduction", None, page, 7, cursor,
                                  order="shuffled", now=at)

    yesterday = listed(1, now - timedelta(days=1))
    # When they ask for the next page today with yesterday's cursor
    page = client.get(f"{API}/questions/practice",
                      query={**TOPIC, "limit": "7", "order": "shuffled", "cursor": yesterday["next_cursor"]})
    # Then it is yesterday's second page, not a jump into today's order
    assert page.status == 200, page
    assert page.data["items"] == listed(2, now - timedelta(days=1))["items"]
    # And a cursor from two days ago is refused
    older = listed(1, now - timedelta(days=2))["next_cursor"]
    refused = client.get(f"{API}/questions/practice",
                         query={**TOPIC, "limit": "7", "order": "shuffled", "cursor": older})
    assert refused.status == 422 and refused.json["errors"][0]["field"] == "cursor", refused


@pytest.mark.parametrize(("first", "replayed"), [
    ({"unanswered": "true"}, {}),
    ({}, {"unanswered": "true"}),
    ({"order": "shuffled"}, {}),
    ({}, {"order": "shuffled"}),
    ({"order": "shuffled"}, {"order": "bank"}),
    ({"order": "shuffled", "unanswered": "true"}, {"order": "shuffled"}),
])
def test_a_cursor_replayed_with_another_unanswered_or_order_is_refused(
        reproduction: list[str], student: HandlerClient, first: dict[str, str], replayed: dict[str, str]) -> None:
    # Given a cursor of the list with some values of unanswered and order
    page = student.get(f"{API}/questions/practice", query={**TOPIC, "limit": "5", **first})
    assert page.status == 200 and page.data["next_cursor"], page
    # When it is used with other values
    again = student.get(f"{API}/questions/practice",
                        query={**TOPIC, "limit": "5", **replayed, "cursor": page.data["next_cursor"]})
    # Then it is refused on cursor
    assert again.status == 422, again
    assert again.json["errors"][0]["field"] == "cursor"


@pytest.mark.parametrize("query", [{"order": "random"}, {"unanswered": "perhaps"}])
def test_bad_order_or_unanswered_values_are_422(student: HandlerClient, query: dict[str, str]) -> None:
    # When the list is asked with a value it does not know
    got = student.get(f"{API}/questions/practice", query={**TOPIC, **query})
    # Then it is refused on that field
    assert got.status == 422, got
    assert got.json["errors"][0]["field"] == next(iter(query))
