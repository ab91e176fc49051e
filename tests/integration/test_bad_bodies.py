"""Hostile request bodies against the write endpoints of every function, through the real Lambda handlers.

For each endpoint and each kind of bad body (wrong types, 100k-character strings, 10k-deep nesting,
invalid UTF-8, a body over 1 MB, unknown fields, no body, not JSON, JSON null, an array instead of an
object): the answer is a 4xx of the expected status in the envelope, with a message and a list of
VALIDATION_ERROR items, never echoing the input; and nothing is stored (the student's items in the
Users and Study tables, the registering email, the imported question are as before).
"""

from __future__ import annotations

import json
import uuid
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import pytest
import support
from support import PASSWORD, Answer, HandlerClient, register, unique_email

from mindly.domain.content import content_id
from mindly.http.middleware import MAX_BODY_BYTES
from mindly.store import content as content_store
from mindly.store import users
from mindly.store.models import StudyTable, UsersTable
from mindly.store.progress import student_key

API = "/api/v1"
HUGE = "x" * 100_000
DEPTH = 10_000
ECHO = "x" * 100  # a run of the huge string: the answer must never carry it back
SOURCE = f"bad-bodies-{uuid.uuid4().hex[:8]}"
PROFILE = {"exam_type": "NEET", "level": "beginner", "study_hours_per_day": 3, "target_date": "2031-05-01",
           "weak_subjects": ["Physics"]}


@dataclass(frozen=True)
class Endpoint:
    name: str
    function: str  # the fixture of the function's module
    method: str
    path: str
    valid: Callable[[dict[str, Any]], Any]  # a body that would be accepted (and store something), given the student
    caller: str | None  # "student", "admin" or None (public)
    optional_body: bool = False  # no body (or null) is a valid request here
    ignores_unknown_fields: bool = False  # documented: login ignores fields it does not use


def _question(_: dict[str, Any]) -> list[dict[str, Any]]:
    return [{"source": SOURCE, "external_id": uuid.uuid4().hex, "exam_type": "NEET", "subject": "Zoology",
             "topic": "Evolution", "difficulty": "easy", "stem": "Which is a vestigial organ in humans?",
             "options": {"A": "Appendix", "B": "Heart", "C": "Liver", "D": "Lung"}, "correct_option": "A",
             "explanation": "The appendix has lost most of its ancestral function."}]


def _fresh_number(low: int, high: int) -> int:
    """A value unlikely to be the one stored already, so that accepting it changes something."""
    return low + uuid.uuid4().int % (high - low + 1)


ENDPOINTS = [
    Endpoint("register", "auth_fn", "POST", f"{API}/auth/register",
             lambda _: {"email": unique_email("bad"), "password": PASSWORD, "name": "Bad Body"}, None),
    Endpoint("login", "auth_fn", "POST", f"{API}/auth/login",
             lambda student: {"email": student["email"], "password": PASSWORD}, None, ignores_unknown_fields=True),
    Endpoint("profile", "profile_fn", "PUT", f"{API}/profile",
             lambda _: {**PROFILE, "daily_goal": _fresh_number(21, 500)}, "student"),
    Endpoint("daily_goal", "progress_fn", "PUT", f"{API}/progress/daily-goal",
             lambda _: {"target_questions": _fresh_number(21, 500)}, "student"),
    Endpoint("submit", "questions_fn", "POST", f"{API}/questions/submit",
             lambda student: {"question_id": student["question_id"], "selected_option": "A", "confidence_rating": 3,
                              "time_taken_seconds": 40}, "student"),
    Endpoint("review", "flashcards_fn", "POST", f"{API}/flashcards/review",
             lambda student: {"flashcard_id": student["flashcard_id"], "rating": 4}, "student"),
    Endpoint("roadmap", "roadmaps_fn", "POST", f"{API}/roadmaps",
             lambda _: {"months_available": 6, "weak_subjects": ["Physics"]}, "student", optional_body=True),
    Endpoint("mock_test", "analytics_fn", "POST", f"{API}/analytics/tests",
             lambda _: {"test_name": "Mock 1", "exam_type": "NEET", "taken_on": "2026-01-10",
                        "total_questions": 180, "correct": 120, "wrong": 40, "time_taken_minutes": 180,
                        "max_score": 720, "score": 440}, "student"),
    Endpoint("admin_import", "admin_fn", "POST", f"{API}/admin/questions/import", _question, "admin"),
]


# --- the bad bodies: each returns (raw body, content type, the statuses that are right) ----------

Bad = tuple[bytes, str, set[int]]


def _wrong_type(value: Any) -> Any:
    if isinstance(value, str):
        return 12345
    if isinstance(value, bool) or not isinstance(value, (int, float)):
        return {"unexpected": ["object"]}
    return str(value)


def wrong_types(valid: Any) -> Bad:
    body = {"records": valid} if isinstance(valid, list) else {k: _wrong_type(v) for k, v in valid.items()}
    return json.dumps(body).encode(), "application/json", {422}


def huge_strings(valid: Any) -> Bad:
    body = HUGE if isinstance(valid, list) else {k: HUGE for k in valid}
    return json.dumps(body).encode(), "application/json", {422}


def deep_lists(valid: Any) -> Bad:
    return b"[" * DEPTH + b"]" * DEPTH, "application/json", {400}


def deep_objects(valid: Any) -> Bad:
    return b'{"a":' * DEPTH + b"1" + b"}" * DEPTH, "application/json", {400}


def deep_in_a_field(valid: Any) -> Bad:
    encoded = json.dumps(valid).encode()
    first_colon = encoded.index(b":")
    nested = b"[" * DEPTH + b"]" * DEPTH
    # The first field's value becomes 10k nested lists (the rest of the body is kept).
    rest = encoded[first_colon + 1:]
    end = rest.index(b",") if b"," in rest else rest.rindex(b"}")
    return encoded[:first_colon + 1] + nested + rest[end:], "application/json", {400}


def invalid_utf8(valid: Any) -> Bad:
    encoded = json.dumps(valid).encode()
    return encoded.replace(b'"', b'"\xff\xfe', 1), "application/json", {400}


def over_one_megabyte(valid: Any) -> Bad:
    padding = "y" * (MAX_BODY_BYTES + 1)
    body = [*valid, padding] if isinstance(valid, list) else {**valid, "padding": padding}
    return json.dumps(body).encode(), "application/json", {413}


def unknown_field(valid: Any) -> Bad:
    return json.dumps({**valid, "is_admin": True}).encode(), "application/json", {422}


def empty(valid: Any) -> Bad:
    return b"", "application/json", {400, 422}


def not_json(valid: Any) -> Bad:
    return b"email=a%40example.com&password=secret", "application/json", {400}


def not_json_content_type(valid: Any) -> Bad:
    return json.dumps(valid).encode(), "text/plain", {400, 415, 422}


def json_null(valid: Any) -> Bad:
    return b"null", "application/json", {400, 422}


def array_instead_of_object(valid: Any) -> Bad:
    return json.dumps([valid]).encode(), "application/json", {422}


BAD_BODIES: list[Callable[[Any], Bad]] = [
    wrong_types, huge_strings, deep_lists, deep_objects, deep_in_a_field, invalid_utf8, over_one_megabyte,
    unknown_field, empty, not_json, not_json_content_type, json_null, array_instead_of_object,
]


def _applies(endpoint: Endpoint, bad: Callable[[Any], Bad]) -> bool:
    if bad in (empty, json_null) and endpoint.optional_body:
        return False
    if bad is unknown_field and (endpoint.ignores_unknown_fields or endpoint.name == "admin_import"):
        return False  # login: documented; admin: a JSON array has no fields (its records are checked one by one)
    return not (bad is array_instead_of_object and endpoint.name == "admin_import")  # an array is right there


CASES = [pytest.param(endpoint, bad, id=f"{endpoint.name}-{bad.__name__}")
         for endpoint in ENDPOINTS for bad in BAD_BODIES if _applies(endpoint, bad)]


# --- accounts and what is stored --------------------------------------------------------------------

@pytest.fixture(scope="module")
def admin_token(auth_fn: Any) -> str:
    return support.admin_token(auth_fn, name="Bad Body Admin")


@pytest.fixture(scope="module")
def student(auth_fn: Any, profile_fn: Any, admin_fn: Any, admin_token: str) -> dict[str, Any]:
    """A student with a profile, and a question and a flashcard that exist (so that a valid submit or
    review would store something)."""
    answer = register(auth_fn, name="Bad Body Student")
    assert answer.status == 201, answer
    token = answer.data["access_token"]
    profile = HandlerClient(profile_fn, token=token).put(f"{API}/profile", PROFILE)
    assert profile.status == 200, profile
    admin = HandlerClient(admin_fn, token=admin_token)
    question = _question({})
    card = {key: question[0][key] for key in ("source", "external_id", "exam_type", "subject", "topic")}
    card.update({"question": "Name a vestigial organ.", "answer": "The appendix.", "difficulty": 2})
    for kind, records in (("questions", question), ("flashcards", [card])):
        imported = admin.post(f"{API}/admin/{kind}/import", records)
        assert imported.status == 200 and imported.data["imported"] == 1, imported
    return {"id": answer.data["user"]["id"], "email": answer.data["user"]["email"], "token": token,
            "question_id": content_id("question", SOURCE, card["external_id"]),
            "flashcard_id": content_id("flashcard", SOURCE, card["external_id"])}


def stored(student: dict[str, Any], valid: Any) -> dict[str, Any]:
    """Everything a bad body might have written: the student's account, sessions, profile and study
    items, the account a registration would create, the question an import would create."""
    key = student_key(student["id"])
    snapshot: dict[str, Any] = {
        # As stored (DynamoDB JSON): pynamodb's map attributes compare by identity, not by content
        "users": [(item.sk, item.serialize()) for item in UsersTable.query(key, consistent_read=True)],
        "study": [(item.sk, item.serialize()) for item in StudyTable.query(key, consistent_read=True)],
    }
    if isinstance(valid, dict) and "email" in valid and valid["email"] != student["email"]:
        snapshot["registered"] = users.find_user_id_by_email(valid["email"])
    if isinstance(valid, list):
        record = valid[0]
        snapshot["imported"] = content_store.get_question(content_id("question", record["source"],
                                                                     record["external_id"]))
    return snapshot


def assert_refused(answer: Answer, statuses: set[int]) -> None:
    assert answer.status in statuses, answer
    assert answer.text and ECHO not in answer.text, answer
    body = answer.json
    assert set(body) == {"success", "data", "message", "errors"}, body
    assert body["success"] is False and body["data"] is None, body
    assert isinstance(body["message"], str) and body["message"], body
    assert body["errors"], body
    for item in body["errors"]:
        assert item["code"] == "VALIDATION_ERROR", body
        assert isinstance(item["message"], str) and item["message"], body
    assert answer.headers.get("x-request-id"), answer.headers


# --- the tests ------------------------------------------------------------------------------------

@pytest.mark.parametrize(("endpoint", "bad"), CASES)
def test_a_bad_body_is_refused_in_the_envelope_and_stores_nothing(
        request: pytest.FixtureRequest, endpoint: Endpoint, bad: Callable[[Any], Bad],
        student: dict[str, Any], admin_token: str) -> None:
    # Given the endpoint's function, its caller and a body it would accept
    token = {"student": student["token"], "admin": admin_token, None: None}[endpoint.caller]
    client = HandlerClient(request.getfixturevalue(endpoint.function), token=token)
    valid = endpoint.valid(student)
    before = stored(student, valid)
    raw, content_type, statuses = bad(valid)

    # When that body is spoiled in one way and sent
    answer = client.request(endpoint.method, endpoint.path, headers={"content-type": content_type}, raw_body=raw)

    # Then it is refused with the right 4xx in the envelope, and nothing changed
    assert_refused(answer, statuses)
    assert stored(student, valid) == before


def test_the_valid_bodies_are_accepted_and_stored(request: pytest.FixtureRequest, student: dict[str, Any],
                                                 admin_token: str) -> None:
    # The control: unspoiled, every body above is accepted and changes what `stored` sees.
    for endpoint in ENDPOINTS:
        token = {"student": student["token"], "admin": admin_token, None: None}[endpoint.caller]
        client = HandlerClient(request.getfixturevalue(endpoint.function), token=token)
        valid = endpoint.valid(student)
        before = stored(student, valid)
        answer = client.request(endpoint.method, endpoint.path, valid)
        assert answer.status in (200, 201, 202), (endpoint.name, answer)
        assert stored(student, valid) != before, endpoint.name


@pytest.mark.parametrize("endpoint", [e for e in ENDPOINTS if not e.ignores_unknown_fields
                                      and e.name != "admin_import"], ids=lambda e: e.name)
def test_an_unknown_field_is_named_in_the_errors(request: pytest.FixtureRequest, endpoint: Endpoint,
                                                 student: dict[str, Any], admin_token: str) -> None:
    token = {"student": student["token"], "admin": admin_token, None: None}[endpoint.caller]
    client = HandlerClient(request.getfixturevalue(endpoint.function), token=token)
    answer = client.request(endpoint.method, endpoint.path, {**endpoint.valid(student), "is_admin": True})
    assert answer.status == 422, answer
    assert {"code": "VALIDATION_ERROR", "field": "is_admin", "message": "unknown field"} in answer.json["errors"]


@pytest.mark.parametrize("endpoint", [e for e in ENDPOINTS if e.name != "admin_import"], ids=lambda e: e.name)
def test_wrong_types_are_named_field_by_field(request: pytest.FixtureRequest, endpoint: Endpoint,
                                              student: dict[str, Any], admin_token: str) -> None:
    token = {"student": student["token"], "admin": admin_token, None: None}[endpoint.caller]
    client = HandlerClient(request.getfixturevalue(endpoint.function), token=token)
    valid = endpoint.valid(student)
    answer = client.request(endpoint.method, endpoint.path, {k: _wrong_type(v) for k, v in valid.items()})
    assert answer.status == 422, answer
    assert {item["field"] for item in answer.json["errors"]} == set(valid), answer


def test_an_import_reports_a_huge_record_at_its_index_and_stores_nothing(
        admin_fn: Any, admin_token: str, student: dict[str, Any]) -> None:
    # Given an import whose one record has a 100k-character stem (the body is a valid JSON array)
    records = _question(student)
    records[0]["stem"] = HUGE
    before = stored(student, records)
    # When it is imported
    answer = HandlerClient(admin_fn, token=admin_token).post(f"{API}/admin/questions/import", records)
    # Then the record is refused on its own, without echoing it, and nothing is stored
    assert answer.status == 200, answer
    assert answer.data["imported"] == 0 and [e["index"] for e in answer.data["errors"]] == [0], answer
    assert ECHO not in answer.text
    assert stored(student, records) == before
