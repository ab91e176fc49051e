"""Signed page cursors through the real handlers (issue 15 point 4): every paginated route refuses
a cursor replayed on other filters, by another student or changed by a byte (422 on ``cursor``);
a cursor shows nothing of the table's keys; paging still walks every item exactly once.

The content here is NEET Physics "Kinematics" and Chemistry "Mole Concept" questions and flashcards
of this module's own source; other tests may add NEET content meanwhile, so walks check this
module's items, and the students' own lists exactly.
"""

from __future__ import annotations

import base64
import uuid
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from support import HandlerClient, register

from mindly.domain import calendar
from mindly.domain.content_formats import RawRecord
from mindly.services import content

API = "/api/v1"
SOURCE = f"cursor-test-{uuid.uuid4().hex[:8]}"
TOPICS = {"Physics": "Kinematics", "Chemistry": "Mole Concept"}


@dataclass
class Student:
    user_id: str
    clients: dict[str, HandlerClient]  # function name -> client with this student's token
    attempt_ids: list[str] = field(default_factory=list)
    test_ids: list[str] = field(default_factory=list)


@dataclass(frozen=True)
class ListRoute:
    """A paginated route: which function answers it, its path and the id of an item."""

    function: str
    path: str
    item_id: str


ROUTES = {
    "practice": ListRoute("questions", f"{API}/questions/practice", "question_id"),
    "attempts": ListRoute("questions", f"{API}/questions/attempts", "attempt_id"),
    "catalog": ListRoute("flashcards", f"{API}/flashcards", "flashcard_id"),
    "tests": ListRoute("analytics", f"{API}/analytics/tests", "test_id"),
}
# Replays: (route, filters the cursor was made with, filters it is replayed with).
REPLAYS = [
    ("practice", {"subject": "Physics"}, {"subject": "Chemistry"}),
    ("practice", {"subject": "Physics", "topic": "Kinematics"}, {"subject": "Chemistry", "topic": "Mole Concept"}),
    ("practice", {}, {"subject": "Physics"}),  # an unfiltered cursor with a filter
    ("practice", {"subject": "Physics"}, {}),  # a filtered cursor without it
    ("practice", {"subject": "Physics", "topic": "Kinematics"}, {"subject": "Physics"}),
    ("practice", {"subject": "Physics", "difficulty": "easy"}, {"subject": "Physics", "difficulty": "hard"}),
    ("practice", {"subject": "Physics", "difficulty": "easy"}, {"subject": "Chemistry", "difficulty": "easy"}),
    ("practice", {"subject": "Physics"}, {"subject": "Physics", "difficulty": "easy"}),
    ("practice", {"subject": "Physics"}, {"exam": "JEE", "subject": "Physics"}),
    ("catalog", {"subject": "Physics"}, {"subject": "Chemistry"}),
    ("catalog", {}, {"subject": "Physics"}),
    ("catalog", {"subject": "Physics", "topic": "Kinematics"}, {"subject": "Physics"}),
    ("catalog", {"subject": "Physics"}, {"exam": "JEE", "subject": "Physics"}),
]


@pytest.fixture(scope="module")
def module_content() -> dict[str, set[str]]:
    """Twelve questions (Physics and Chemistry, easy and hard) and six flashcards of this module."""
    # (ids carry the subject: the same external id twice is one record, and a re-import of it with
    # other content updates it)
    questions = [{"source": SOURCE, "external_id": f"{subject}-q{n}", "exam_type": "NEET", "subject": subject,
                  "topic": topic, "difficulty": "easy" if n % 2 else "hard", "stem": f"{SOURCE} {subject} {n}?",
                  "options": {"A": f"a{n}", "B": f"b{n}", "C": f"c{n}", "D": f"d{n}"}, "correct_option": "A",
                  "explanation": f"Because {n}."}
                 for subject, topic in TOPICS.items() for n in range(6)]
    cards = [{"source": SOURCE, "external_id": f"{subject}-c{n}", "exam_type": "NEET", "subject": subject,
              "topic": topic,
              "question": f"{SOURCE} {subject} card {n}?", "answer": f"Answer {n}", "difficulty": 1 + n}
             for subject, topic in TOPICS.items() for n in range(3)]
    for kind, records in (("question", questions), ("flashcard", cards)):
        report = content.import_records(kind, [RawRecord(i, r) for i, r in enumerate(records)])
        assert report["errors"] == [], report
    return {"questions": {q["stem"] for q in questions}, "cards": {c["question"] for c in cards}}


def _student(auth_fn: Any, profile_fn: Any, functions: dict[str, Any], attempts: int, tests: int) -> Student:
    answer = register(auth_fn, name="Cursor Student")
    assert answer.status == 201, answer
    token = answer.data["access_token"]
    profile = {"exam_type": "NEET", "level": "beginner", "study_hours_per_day": 3, "target_date": "2035-05-01",
               "weak_subjects": []}
    assert HandlerClient(profile_fn, token=token).put(f"{API}/profile", profile).status == 200
    clients = {name: HandlerClient(fn, token=token) for name, fn in functions.items()}
    student = Student(answer.data["user"]["id"], clients)
    bank = student.clients["questions"].get(f"{API}/questions/practice", query={"subject": "Physics", "limit": "100"})
    physics = [q["question_id"] for q in bank.data["items"] if q["stem"].startswith(SOURCE)]
    for question_id in physics[:attempts]:
        submitted = student.clients["questions"].post(f"{API}/questions/submit", {
            "question_id": question_id, "selected_option": "A", "confidence_rating": 4, "time_taken_seconds": 20})
        assert submitted.status == 200, submitted
        student.attempt_ids.append(submitted.data["attempt_id"])
    today = calendar.local_date(datetime.now(UTC), "Asia/Kolkata")
    for n in range(tests):
        body = {"test_name": f"Mock {n}", "exam_type": "NEET", "taken_on": (today - timedelta(days=n + 1)).isoformat(),
                "total_questions": 180, "correct": 100, "wrong": 40, "time_taken_minutes": 180, "max_score": 720,
                "score": 360 + n, "chapters": [{"subject": "Physics", "chapter": "Kinematics", "correct": 5,
                                                "total": 10}]}
        recorded = student.clients["analytics"].post(f"{API}/analytics/tests", body)
        assert recorded.status == 201, recorded
        student.test_ids.append(recorded.data["test_id"])
    return student


@pytest.fixture(scope="module")
def pair(module_content: dict[str, set[str]], auth_fn: Any, profile_fn: Any, questions_fn: Any,
         flashcards_fn: Any, analytics_fn: Any) -> tuple[Student, Student]:
    """Two NEET students: A with five attempts and three mock tests, B with two of each."""
    functions = {"questions": questions_fn, "flashcards": flashcards_fn, "analytics": analytics_fn}
    return (_student(auth_fn, profile_fn, functions, attempts=5, tests=3),
            _student(auth_fn, profile_fn, functions, attempts=2, tests=2))


def _get(student: Student, route: str, query: dict[str, str]) -> Any:
    return student.clients[ROUTES[route].function].get(ROUTES[route].path, query=query)


def _first_cursor(student: Student, route: str, filters: dict[str, str]) -> str:
    answer = _get(student, route, {**filters, "limit": "1"})
    assert answer.status == 200, answer
    assert answer.data["next_cursor"], (route, filters)
    return str(answer.data["next_cursor"])


def _assert_cursor_refused(answer: Any) -> None:
    assert answer.status == 422, answer
    assert answer.json["errors"][0]["code"] == "VALIDATION_ERROR", answer
    assert answer.json["errors"][0]["field"] == "cursor", answer


def _walk(student: Student, route: str, filters: dict[str, str], limits: list[int]) -> list[dict[str, Any]]:
    """Every item of a list, page by page with next_cursor (the limit of each page from ``limits``,
    the last one repeating)."""
    items: list[dict[str, Any]] = []
    cursor = None
    for page in range(200):
        limit = limits[min(page, len(limits) - 1)]
        answer = _get(student, route, {**filters, "limit": str(limit), **({"cursor": cursor} if cursor else {})})
        assert answer.status == 200, answer
        assert len(answer.data["items"]) <= limit
        assert answer.data["has_more"] == (answer.data["next_cursor"] is not None)
        items += answer.data["items"]
        cursor = answer.data["next_cursor"]
        if cursor is None:
            return items
    raise AssertionError(f"{route} never ended")


# --- replays --------------------------------------------------------------------------------------

@pytest.mark.parametrize(("route", "made_with", "replayed_with"), REPLAYS,
                         ids=[f"{r}:{m or 'all'}->{p or 'all'}" for r, m, p in REPLAYS])
def test_a_cursor_replayed_with_other_filters_is_refused(pair: tuple[Student, Student], route: str,
                                                         made_with: dict[str, str],
                                                         replayed_with: dict[str, str]) -> None:
    # Given a cursor of one filter set
    a, _ = pair
    cursor = _first_cursor(a, route, made_with)
    # When the same student replays it with other filters
    answer = _get(a, route, {**replayed_with, "cursor": cursor})
    # Then it is refused on the cursor, not answered with another list's (or an empty) page
    _assert_cursor_refused(answer)
    # And with its own filters it still works
    assert _get(a, route, {**made_with, "cursor": cursor}).status == 200


@pytest.mark.parametrize("route", ROUTES)
def test_another_students_cursor_is_refused_on_every_list(pair: tuple[Student, Student], route: str) -> None:
    # Given a cursor of A's, and one of B's
    a, b = pair
    filters = {"subject": "Physics"} if route in ("practice", "catalog") else {}
    a_cursor, b_cursor = _first_cursor(a, route, filters), _first_cursor(b, route, filters)
    # When each uses the other's (same route, same filters)
    # Then both are refused, even on the shared question bank and deck
    _assert_cursor_refused(_get(b, route, {**filters, "cursor": a_cursor}))
    _assert_cursor_refused(_get(a, route, {**filters, "cursor": b_cursor}))


def test_a_cursor_of_one_list_is_refused_on_another(pair: tuple[Student, Student]) -> None:
    a, _ = pair
    attempts = _first_cursor(a, "attempts", {})
    tests = _first_cursor(a, "tests", {})
    _assert_cursor_refused(_get(a, "tests", {"cursor": attempts}))
    _assert_cursor_refused(_get(a, "attempts", {"cursor": tests}))
    _assert_cursor_refused(_get(a, "catalog", {"cursor": _first_cursor(a, "practice", {})}))


@pytest.mark.parametrize("route", ROUTES)
def test_a_tampered_cursor_is_refused_on_every_list(pair: tuple[Student, Student], route: str) -> None:
    a, _ = pair
    cursor = _first_cursor(a, route, {})
    middle = len(cursor) // 2
    for tampered in (cursor[:middle] + ("A" if cursor[middle] != "A" else "B") + cursor[middle + 1:],
                     cursor[:-4], cursor + "AAAA", "x" + cursor[1:] if cursor[0] != "x" else "y" + cursor[1:],
                     "not-a-cursor"):
        _assert_cursor_refused(_get(a, route, {"cursor": tampered}))


# --- opacity --------------------------------------------------------------------------------------

@pytest.mark.parametrize("route", ROUTES)
def test_a_cursor_decodes_to_nothing_readable(pair: tuple[Student, Student], route: str) -> None:
    # Given a cursor of a filtered list (practice by difficulty reads the second index)
    a, _ = pair
    filters = {"subject": "Physics", "difficulty": "easy"} if route == "practice" else {}
    answer = _get(a, route, {**filters, "limit": "1"})
    cursor = answer.data["next_cursor"]
    last_id = answer.data["items"][-1][ROUTES[route].item_id]
    # When a client base64-decodes it
    raw = base64.urlsafe_b64decode(cursor + "=" * (-len(cursor) % 4)).decode("latin-1")
    # Then no key name, key value, id or filter shows
    for part in ['"pk"', '"sk"', "gsi", "USER", "EXAM", "DECK", "QUESTION", "ATTEMPT", "MOCK", "NEET", "Physics",
                 a.user_id[:8], str(last_id)[:8]]:
        assert part not in raw, (route, part)
    # And it fits a URL comfortably
    assert len(cursor) < 600


# --- paging ---------------------------------------------------------------------------------------

@pytest.mark.parametrize("route", ROUTES)
def test_cursor_paging_walks_every_item_exactly_once(pair: tuple[Student, Student], route: str,
                                                     module_content: dict[str, set[str]]) -> None:
    a, _ = pair
    filters = {"subject": "Physics", "topic": "Kinematics"} if route in ("practice", "catalog") else {}
    # When the list is walked two at a time, and again changing the page size on the way
    for limits in ([2], [1, 3, 2]):
        items = _walk(a, route, filters, limits)
        ids = [item[ROUTES[route].item_id] for item in items]
        # Then no item comes twice, and every item of the list comes, in the order of one big page
        assert len(ids) == len(set(ids)), (route, limits)
        whole = _get(a, route, {**filters, "limit": "100"}).data
        assert whole["has_more"] is False
        assert ids == [item[ROUTES[route].item_id] for item in whole["items"]], (route, limits)
        if route == "attempts":
            assert sorted(ids) == sorted(a.attempt_ids)
        elif route == "tests":
            assert sorted(ids) == sorted(a.test_ids)
        elif route == "practice":
            stems = {item["stem"] for item in items}
            assert {s for s in module_content["questions"] if " Physics " in s} <= stems
        else:
            questions = {item["question"] for item in items}
            assert {c for c in module_content["cards"] if " Physics " in c} <= questions


@pytest.mark.parametrize("route", ROUTES)
def test_the_same_page_asked_twice_answers_the_same_cursor(pair: tuple[Student, Student], route: str) -> None:
    a, _ = pair
    first = _get(a, route, {"limit": "1"}).data
    again = _get(a, route, {"limit": "1"}).data
    assert first["next_cursor"] == again["next_cursor"]
    resumed = _get(a, route, {"limit": "1", "cursor": first["next_cursor"]}).data
    assert resumed == _get(a, route, {"limit": "1", "cursor": first["next_cursor"]}).data
    assert resumed["items"] == _get(a, route, {"limit": "1", "page": "2"}).data["items"]
