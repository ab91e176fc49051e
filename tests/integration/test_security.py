"""Security through the real Lambda handlers (issue "Hardening", point 4): one student can never
read or change another's data, forged tokens are refused on every authenticated route, admin routes
need an admin account now, no secret reaches a log line or an answer, and rate limits hold exactly
under parallel requests.

Already covered elsewhere, and not repeated here: on /auth/me, ``alg: none``, another secret, an
expired token, a payload claiming ``role: admin``, wrong aud/iss, no sid, a missing or malformed
Authorization header, a refresh token as access token and an access token at /auth/refresh
(test_auth.py); logout and logout-all revoking their sessions (test_auth.py); a student and a stranger
at POST /admin/questions/import, a demoted admin there (test_questions.py); the password, hash and
refresh token absent from the auth flow's logs, sequential rate limits (test_platform.py). Here the
token forgeries run against every authenticated route of every function, found from the apps' own
routers, so a route added without ``CurrentUser`` fails.

B is a student with data of every kind (module fixture); each isolation test makes a fresh A and
compares B's own views before and after A's requests.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
import logging
import sys
import time
import uuid
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from pathlib import Path
from types import ModuleType
from typing import Any

import boto3
import jwt
import pytest
from aws_permissions import load_function
from fastapi.routing import APIRoute
from support import PASSWORD, Answer, HandlerClient, LambdaContext, all_at_once, point_groq_at, register, unique_email

from infra import local_aws
from infra.fake_groq import FakeGroq, ok, server_error
from mindly.domain.content import content_id
from mindly.http.auth import current_user, require_admin
from mindly.llm import client as llm_client
from mindly.services import account, content
from mindly.services import questions as question_service
from mindly.services import roadmaps as roadmap_service
from mindly.store import notifications as notification_store
from mindly.store import users
from mindly.store.progress import BadgeItem, student_key

API = "/api/v1"
REPO = Path(__file__).resolve().parents[2]
ENVELOPE_KEYS = {"success", "data", "message", "errors"}
SOURCE = f"security-{uuid.uuid4().hex[:8]}"
EXAM, SUBJECT, TOPIC = "GATE", "Compiler Design", "Parsing"
CAT_QA, CAT_TOPIC = "Quantitative Aptitude", "Mensuration"  # a topic no other test module fills
# B's own password: A trying it on A's account must be a wrong password, not A's own.
BOB_PASSWORD = "Bhavna-secret-42"


# --- routes, from the apps themselves --------------------------------------------------------------

def http_functions() -> dict[str, ModuleType]:
    """Every function module under functions/ that serves HTTP (has an ``app``), by folder name."""
    modules = {folder.name: load_function(folder.name)
               for folder in sorted((REPO / "functions").iterdir()) if (folder / "app.py").is_file()}
    return {name: module for name, module in modules.items() if hasattr(module, "app")}


def _calls(dependant: Any) -> Iterator[Any]:
    for dependency in dependant.dependencies:
        yield dependency.call
        yield from _calls(dependency)


@dataclass(frozen=True)
class Route:
    function: str
    method: str
    path: str
    authenticated: bool
    admin: bool

    @property
    def key(self) -> str:
        return f"{self.method} {self.path}"


def all_routes() -> list[Route]:
    routes = []
    for name, module in http_functions().items():
        for route in module.app.routes:
            if not isinstance(route, APIRoute):
                continue
            calls = set(_calls(route.dependant))
            for method in sorted(route.methods):
                routes.append(Route(name, method, route.path, current_user in calls, require_admin in calls))
    return routes


# Routes anyone may call: no token, nothing of a student's.
PUBLIC = {
    f"POST {API}/auth/register", f"POST {API}/auth/login", f"POST {API}/auth/refresh", f"GET {API}/auth/google",
    f"GET {API}/health", f"GET {API}/syllabus/{{exam}}",
    # A mailed link's token is the credential (tests/integration/test_email_verification.py and
    # test_password_reset.py); forgot-password answers the same for every email.
    f"POST {API}/auth/verify-email", f"POST {API}/auth/password/forgot", f"POST {API}/auth/password/reset",
    f"GET {API}/mock-tests/patterns",  # the exams' published patterns, the same for everyone
}
# Authenticated routes that list shared content, the same for every student: nothing of B's to leak
# (their cursors name a position in the shared deck or bank, not anything of a student's).
SHARED_CONTENT = {
    f"GET {API}/questions/practice": "the question bank, never an answer or an attempt",
    f"GET {API}/flashcards": "the flashcard catalog, without any student's schedule",
}
# Filled by @isolates: route key -> the test proving A cannot reach B's data through it.
ISOLATED: dict[str, str] = {}


def isolates(*keys: str) -> Callable[[Callable[..., Any]], Callable[..., Any]]:
    def mark(test: Callable[..., Any]) -> Callable[..., Any]:
        for key in keys:
            ISOLATED[f"{key.split(' ')[0]} {API}{key.split(' ')[1]}"] = test.__name__
        return test

    return mark


# --- helpers ------------------------------------------------------------------------------------------

def _ip() -> str:
    return f"192.0.2.{uuid.uuid4().int % 250 + 1}"


def _assert_error(answer: Answer, status: int, code: str) -> None:
    assert answer.status == status, answer
    assert set(answer.json) == ENVELOPE_KEYS, answer
    assert answer.json["success"] is False and answer.json["data"] is None, answer
    assert [e["code"] for e in answer.json["errors"]] == [code], answer


def _in_threads(count: int, call: Callable[[int], Answer]) -> list[Answer]:
    return all_at_once(count, call)


@dataclass
class Student:
    """A signed-in student and a client per function."""

    user_id: str
    email: str
    access_token: str
    refresh_token: str
    name: str
    fns: dict[str, ModuleType]
    ids: dict[str, Any] = field(default_factory=dict)

    def to(self, function: str, token: str | None = None) -> HandlerClient:
        return HandlerClient(self.fns[function], token=token or self.access_token, source_ip=_ip())


def _new_student(name: str, profile: dict[str, Any] | None, password: str = PASSWORD) -> Student:
    fns = http_functions()
    email = unique_email("sec")
    answer = register(fns["auth"], email=email, password=password, name=name)
    assert answer.status == 201, answer
    student = Student(answer.data["user"]["id"], email, answer.data["access_token"], answer.data["refresh_token"],
                      name, fns)
    if profile is not None:
        assert student.to("profile").put(f"{API}/profile", profile).status == 200
    return student


def _profile(**changes: Any) -> dict[str, Any]:
    body = {"exam_type": EXAM, "level": "beginner", "study_hours_per_day": 2, "target_date": "2035-03-01",
            "weak_subjects": [SUBJECT], "daily_goal": 20, "timezone": "Asia/Kolkata"}
    return body | changes


def _mock_test(name: str, test_id: str, score: float, days_ago: int) -> dict[str, Any]:
    taken = (datetime.now(UTC) - timedelta(days=days_ago)).date().isoformat()
    return {"test_id": test_id, "test_name": name, "exam_type": EXAM, "taken_on": taken, "total_questions": 65,
            "correct": 40, "wrong": 10, "time_taken_minutes": 180, "max_score": 100, "score": score,
            "chapters": [{"subject": SUBJECT, "chapter": TOPIC, "correct": 3, "total": 5}]}


@pytest.fixture(scope="module")
def bank(local_aws: Any) -> dict[str, list[str]]:
    """Four GATE Compiler Design questions (right answer "A"; B answers the first three today and
    the fourth ten days ago) and two flashcards, of this module only."""
    questions = [{"source": SOURCE, "external_id": f"q{n}", "exam_type": EXAM, "subject": SUBJECT, "topic": TOPIC,
                  "difficulty": "easy", "stem": f"Parsing question {n}?",
                  "options": {"A": "right", "B": "wrong", "C": "other", "D": "last"}, "correct_option": "A",
                  "explanation": "Because A."} for n in range(4)]
    cards = [{"source": SOURCE, "external_id": f"f{n}", "exam_type": EXAM, "subject": SUBJECT, "topic": TOPIC,
              "question": f"Parsing card {n}?", "answer": f"Answer {n}", "difficulty": 2} for n in range(2)]
    assert content.import_objects("question", questions)["errors"] == []
    assert content.import_objects("flashcard", cards)["errors"] == []
    return {"questions": [content_id("question", SOURCE, f"q{n}") for n in range(4)],
            "flashcards": [content_id("flashcard", SOURCE, f"f{n}") for n in range(2)]}


@pytest.fixture(scope="module")
def cat_bank(local_aws: Any) -> None:
    """What a CAT Quantitative Aptitude sectional test takes (14 single-correct, 8 numeric), of this
    module; other modules' CAT questions may be drawn too."""
    records: list[dict[str, Any]] = []
    for n in range(22):
        record: dict[str, Any] = {"source": SOURCE, "external_id": f"cat-qa-{n}", "exam_type": "CAT",
                                  "subject": CAT_QA, "topic": CAT_TOPIC, "stem": f"Mensuration question {n}?",
                                  "difficulty": ("easy", "medium", "hard")[n % 3], "explanation": "Because."}
        if n < 14:
            record.update(options={"A": "one", "B": "two", "C": "three", "D": "four"}, correct_option="A")
        else:
            record.update(type="numeric", answer={"value": n, "tolerance": 0})
        records.append(record)
    assert content.import_objects("question", records)["errors"] == []


@pytest.fixture(scope="module")
def bob(bank: dict[str, list[str]], cat_bank: None) -> Student:
    """B: a profile, three attempts today (one wrong, so a mistake card) and a wrong one ten days ago
    (its mistake card due), a card reviewed twice, two mock tests recorded and one sat in progress
    with a saved answer, a finished roadmap, a badge, XP this week, notification preferences, a push
    device and two notifications in the inbox."""
    b = _new_student("Bhavna Bose", _profile(level="advanced", daily_goal=7, timezone="Asia/Tokyo",
                                             study_hours_per_day=6), password=BOB_PASSWORD)
    questions_api, cards_api, analytics_api = b.to("questions"), b.to("flashcards"), b.to("analytics")
    wrong_attempt = f"b-attempt-{uuid.uuid4().hex[:8]}"
    for n, (option, attempt_id) in enumerate([("A", None), ("B", wrong_attempt), ("A", None)]):
        body = {"question_id": bank["questions"][n], "selected_option": option, "confidence_rating": 5,
                "time_taken_seconds": 30, **({"attempt_id": attempt_id} if attempt_id else {})}
        assert questions_api.post(f"{API}/questions/submit", body).status == 200
    card = bank["flashcards"][0]
    review_ids = [f"b-review-{uuid.uuid4().hex[:8]}" for _ in range(2)]
    for review_id in review_ids:
        answer = cards_api.post(f"{API}/flashcards/review", {"flashcard_id": card, "rating": 5,
                                                             "review_id": review_id})
        assert answer.status == 200, answer
    assert answer.data["repetitions"] == 2
    test_ids = [f"b-mock-{n}-{uuid.uuid4().hex[:6]}" for n in range(2)]
    for n, test_id in enumerate(test_ids):
        recorded = analytics_api.post(f"{API}/analytics/tests", _mock_test(f"Bhavna mock {n}", test_id, 60 + n, 5 - n))
        assert recorded.status == 201, recorded
    sent: list[dict[str, Any]] = []
    with pytest.MonkeyPatch.context() as patch:
        patch.setattr(roadmap_service, "sqs_enqueue", sent.append)
        job = b.to("roadmaps").post(f"{API}/roadmaps", {"months_available": 1 + uuid.uuid4().int % 36})
    assert job.status in (200, 202), job
    for message in sent:
        assert roadmap_service.process_job(message, 1) == "done"
    BadgeItem(student_key(b.user_id), "BADGE#streak-7", badge_id="streak-7", earned_at=datetime.now(UTC)).save()
    b.ids = {"wrong_attempt": wrong_attempt, "wrong_question": bank["questions"][1], "card": card,
             "mistake_card": f"mistake-{bank['questions'][1]}", "review_ids": review_ids, "test_ids": test_ids,
             "job_id": job.data["job_id"], "old_mistake": _back_dated_mistake(b, bank["questions"][3]),
             **_sit_a_mock_test(b), **_set_up_notifications(b)}
    return b


def _back_dated_mistake(b: Student, question_id: str) -> str:
    """B's wrong answer ten days ago (written as the submit path writes it, at that instant): its
    question is no longer recent, so its mistake card is what B's next practice question is."""
    answered = question_service.submit(b.user_id, b.name, question_id, "B", 4, 25, None, "Asia/Tokyo",
                                       datetime.now(UTC) - timedelta(days=10))
    assert answered["is_correct"] is False, answered
    return question_id


def _sit_a_mock_test(b: Student) -> dict[str, Any]:
    """B's CAT Quantitative Aptitude sectional test, in progress (40 minutes), one answer saved."""
    started = b.to("mock_tests").post(f"{API}/mock-tests", {"pattern_id": "cat", "subjects": [CAT_QA],
                                                             "mock_test_id": f"b-paper-{uuid.uuid4().hex[:8]}"})
    assert started.status == 201, started
    first = started.data["sections"][0]["questions"][0]
    given = {"selected_option": "C"} if first["question"]["type"] == "single" else {"numeric_answer": 3}
    saved = b.to("mock_tests").put(f"{API}/mock-tests/{started.data['mock_test_id']}/answers/{first['number']}",
                                   {**given, "time_spent_seconds": 45, "marked_for_review": True})
    assert saved.status == 200, saved
    return {"mock_test_id": started.data["mock_test_id"], "mock_number": first["number"]}


def _set_up_notifications(b: Student) -> dict[str, Any]:
    """B's own reminder preferences, an FCM device, and two notifications in the inbox."""
    notifications = b.to("notifications")
    preferences = notifications.put(f"{API}/notifications/preferences", {
        "streak_reminder": True, "reminder_time": "20:30", "email": False, "push": True})
    assert preferences.status == 200, preferences
    token = f"bhavna-fcm-{uuid.uuid4().hex}"
    device = notifications.post(f"{API}/notifications/devices", {"platform": "fcm", "token": token})
    assert device.status == 201, device
    note_ids = []
    for hours in (2, 1):
        at = (datetime.now(UTC) - timedelta(hours=hours)).replace(microsecond=0)
        note_ids.append(f"{at:%Y%m%dT%H%M%SZ}-streak-{uuid.uuid4().hex[:6]}")
        assert notification_store.add_to_inbox(b.user_id, note_ids[-1], "streak_reminder", "Bhavna, keep it up",
                                                "Your streak ends at midnight", at)
    return {"device_id": device.data["device_id"], "device_token": token, "notification_ids": note_ids}


def bob_sees(b: Student) -> dict[str, Any]:
    """Everything B can read of their own (what A must neither see nor change)."""
    pages = {"limit": "100"}
    views = {
        "me": b.to("auth").get(f"{API}/auth/me"),
        "profile": b.to("profile").get(f"{API}/profile"),
        "progress": b.to("progress").get(f"{API}/progress"),
        "badges": b.to("progress").get(f"{API}/progress/badges"),
        "leaderboard": b.to("progress").get(f"{API}/leaderboard/weekly"),
        "attempts": b.to("questions").get(f"{API}/questions/attempts", query=pages),
        "due": b.to("flashcards").get(f"{API}/flashcards/due", query=pages),
        "due_by_subject": b.to("flashcards").get(f"{API}/flashcards/due/by-subject"),
        "job": b.to("roadmaps").get(f"{API}/roadmaps/jobs/{b.ids['job_id']}"),
        "latest": b.to("roadmaps").get(f"{API}/roadmaps/latest"),
        "calibration": b.to("analytics").get(f"{API}/analytics/calibration"),
        "subjects": b.to("analytics").get(f"{API}/analytics/subjects"),
        "tests": b.to("analytics").get(f"{API}/analytics/tests", query=pages),
        "dashboard": b.to("analytics").get(f"{API}/analytics/dashboard"),
        "mastery": b.to("analytics").get(f"{API}/analytics/mastery"),
        "mock_tests": b.to("mock_tests").get(f"{API}/mock-tests", query=pages),
        "mock_test": b.to("mock_tests").get(f"{API}/mock-tests/{b.ids['mock_test_id']}"),
        "preferences": b.to("notifications").get(f"{API}/notifications/preferences"),
        "inbox": b.to("notifications").get(f"{API}/notifications", query=pages),
    }
    for name, answer in views.items():
        assert answer.status == 200, (name, answer)
    seen = {name: answer.data for name, answer in views.items()}
    # The paper's questions are shared content another module's admin may edit meanwhile; B's own
    # part of it is the status, which question stands at each number, and the answers saved there.
    seen["mock_test"] = (seen["mock_test"]["status"], [
        (q["number"], q["question"] and q["question"]["question_id"], q["answer"])
        for section in seen["mock_test"]["sections"] for q in section["questions"]])
    # Others' XP may move B's rank on the shared board; B's own XP may not move.
    seen["leaderboard"] = seen["leaderboard"]["me"]["xp"]
    return seen


@pytest.fixture
def bob_unchanged(bob: Student) -> Iterator[Student]:
    """B, checked to see exactly the same of their own after the test as before it."""
    before = bob_sees(bob)
    yield bob
    assert bob_sees(bob) == before


@pytest.fixture
def alice(auth_fn: Any, bank: dict[str, list[str]]) -> Student:
    """A: a fresh student of the same exam as B, with a profile and nothing else."""
    return _new_student("Asha Iyer", _profile())


def _not_bobs(answer: Answer, b: Student) -> None:
    """Nothing that identifies B's records appears in an answer to A."""
    for marker in (b.ids["wrong_attempt"], b.ids["mistake_card"], b.ids["job_id"], *b.ids["review_ids"],
                   *b.ids["test_ids"], "Bhavna mock", b.user_id, b.email, b.ids["mock_test_id"], b.ids["device_id"],
                   *b.ids["notification_ids"], "Bhavna, keep it up"):
        assert marker not in answer.text, (marker, answer)


# --- isolation ---------------------------------------------------------------------------------------

@isolates("GET /profile", "PUT /profile")
def test_a_student_reads_and_writes_only_their_own_profile(bob_unchanged: Student) -> None:
    # Given B with a profile, and A without one yet
    b = bob_unchanged
    a = _new_student("Asha Iyer", None)
    # When A reads "the" profile, then sets one
    before = a.to("profile").get(f"{API}/profile")
    put = a.to("profile").put(f"{API}/profile", _profile(level="intermediate", daily_goal=33))
    after = a.to("profile").get(f"{API}/profile")
    # Then A never sees B's, and A's write is A's alone (B's is checked unchanged by the fixture)
    _assert_error(before, 404, "NOT_FOUND")
    assert put.status == after.status == 200, (put, after)
    assert (after.data["level"], after.data["daily_goal"], after.data["timezone"]) == ("intermediate", 33,
                                                                                        "Asia/Kolkata")
    assert b.to("profile").get(f"{API}/profile").data["daily_goal"] == 7


@isolates("GET /progress", "PUT /progress/daily-goal", "GET /progress/badges", "GET /leaderboard/weekly")
def test_progress_badges_and_leaderboard_rank_are_the_callers_own(bob_unchanged: Student, alice: Student) -> None:
    # Given B with XP, a streak and a badge, and A with nothing
    b, progress = bob_unchanged, alice.to("progress")
    # When A reads progress, badges and their rank, and changes the daily goal
    mine = progress.get(f"{API}/progress")
    badges = progress.get(f"{API}/progress/badges")
    board = progress.get(f"{API}/leaderboard/weekly")
    goal = progress.put(f"{API}/progress/daily-goal", {"target_questions": 42})
    # Then A sees only A's zeros; the board's public top may list B, but "me" is A
    assert mine.status == 200 and mine.data["xp_total"] == 0 and mine.data["current_streak"] == 0, mine
    assert mine.data["today"]["questions_answered"] == 0 and mine.data["today"]["daily_goal"] == 20
    assert badges.status == 200 and badges.data["earned"] == [], badges
    assert board.status == 200 and board.data["me"] == {"rank": None, "xp": 0}, board
    assert b.to("progress").get(f"{API}/leaderboard/weekly").data["me"]["xp"] > 0
    assert goal.status == 200 and goal.data["daily_goal"] == 42, goal
    # And B's goal is still B's
    assert b.to("progress").get(f"{API}/progress").data["today"]["daily_goal"] == 7
    for answer in (mine, badges, goal):
        _not_bobs(answer, b)


@isolates("GET /questions/attempts", "POST /questions/submit")
def test_attempts_and_their_cursors_and_attempt_ids_stay_with_their_student(bob_unchanged: Student,
                                                                            alice: Student) -> None:
    # Given B's attempts, a cursor into them, and the attempt_id of B's wrong answer
    b, questions = bob_unchanged, alice.to("questions")
    cursor = b.to("questions").get(f"{API}/questions/attempts", query={"limit": "1"}).data["next_cursor"]
    assert cursor
    # When A lists attempts, replays B's cursor, and submits with B's attempt_id (right this time)
    listed = questions.get(f"{API}/questions/attempts")
    replayed = questions.get(f"{API}/questions/attempts", query={"cursor": cursor})
    submitted = questions.post(f"{API}/questions/submit", {
        "question_id": b.ids["wrong_question"], "selected_option": "A", "confidence_rating": 2,
        "time_taken_seconds": 12, "attempt_id": b.ids["wrong_attempt"]})
    # Then A's list is empty, B's cursor is refused, and the submit is A's own answer, not B's replayed
    assert listed.status == 200 and listed.data["items"] == [], listed
    _assert_error(replayed, 422, "VALIDATION_ERROR")
    assert replayed.json["errors"][0]["field"] == "cursor"
    assert submitted.status == 200, submitted
    assert (submitted.data["is_correct"], submitted.data["xp_awarded"]) == (True, 10)
    mine = questions.get(f"{API}/questions/attempts").data["items"]
    assert [(m["selected_option"], m["confidence_rating"]) for m in mine] == [("A", 2)]
    # And A's own cursor does not open B's list either
    questions.post(f"{API}/questions/submit", {"question_id": b.ids["wrong_question"], "selected_option": "C",
                                               "confidence_rating": 1, "time_taken_seconds": 5})
    own_cursor = questions.get(f"{API}/questions/attempts", query={"limit": "1"}).data["next_cursor"]
    _assert_error(b.to("questions").get(f"{API}/questions/attempts", query={"cursor": own_cursor}), 422,
                  "VALIDATION_ERROR")
    _not_bobs(listed, b)  # (the submit answers the attempt_id A sent, which is B's string)


@isolates("GET /flashcards/due", "GET /flashcards/due/by-subject", "POST /flashcards/review",
          "POST /flashcards/review/undo")
def test_cards_reviews_and_undo_are_per_student(bob_unchanged: Student, alice: Student) -> None:
    # Given B's mistake card (due today) and B's twice-reviewed deck card with B's review ids
    b, cards = bob_unchanged, alice.to("flashcards")
    # When A reads the due queue, reviews B's mistake card, reuses B's review_id, and undoes B's review
    due = cards.get(f"{API}/flashcards/due", query={"limit": "100"})
    grouped = cards.get(f"{API}/flashcards/due/by-subject")
    mistake = cards.post(f"{API}/flashcards/review", {"flashcard_id": b.ids["mistake_card"], "rating": 4})
    undo_bobs = cards.post(f"{API}/flashcards/review/undo", {"review_id": b.ids["review_ids"][-1]})
    undo_last = cards.post(f"{API}/flashcards/review/undo")
    reused = cards.post(f"{API}/flashcards/review", {"flashcard_id": b.ids["card"], "rating": 5,
                                                     "review_id": b.ids["review_ids"][-1]})
    # Then A's queue has none of B's cards or schedules, B's card is not found, nothing of B's is undone
    assert due.status == grouped.status == 200, (due, grouped)
    listed = due.data["cards"] + [c for group in grouped.data["subjects"].values() for c in group]
    assert b.ids["mistake_card"] not in {c["flashcard_id"] for c in listed}
    assert all(c["repetitions"] == 0 for c in listed if c["flashcard_id"] == b.ids["card"])
    _assert_error(mistake, 404, "NOT_FOUND")
    _assert_error(undo_bobs, 404, "NOT_FOUND")
    _assert_error(undo_last, 404, "NOT_FOUND")
    # And B's review_id names A's own first review of that card, not B's answer replayed
    assert reused.status == 200, reused
    assert (reused.data["repetitions"], reused.data["interval"], reused.data["xp_awarded"]) == (1, 1, 5)
    for answer in (due, grouped, reused):
        _not_bobs(answer, b)


@isolates("GET /roadmaps/jobs/{job_id}", "GET /roadmaps/latest", "POST /roadmaps")
def test_roadmap_jobs_belong_to_their_student(bob_unchanged: Student, alice: Student,
                                              monkeypatch: pytest.MonkeyPatch) -> None:
    # Given B's finished roadmap job
    b, roadmaps = bob_unchanged, alice.to("roadmaps")
    sent: list[dict[str, Any]] = []
    monkeypatch.setattr(roadmap_service, "sqs_enqueue", sent.append)
    # When A polls B's job, asks for the latest roadmap, and requests one
    polled = roadmaps.get(f"{API}/roadmaps/jobs/{b.ids['job_id']}")
    latest = roadmaps.get(f"{API}/roadmaps/latest")
    requested = roadmaps.post(f"{API}/roadmaps", {"months_available": 2})
    # Then B's job is not found for A, A has no roadmap yet, and A's request is A's job
    _assert_error(polled, 404, "NOT_FOUND")
    _assert_error(latest, 404, "NOT_FOUND")
    assert requested.status in (200, 202), requested
    job_id = requested.data["job_id"]
    assert job_id != b.ids["job_id"] and sent in ([], [{"job_id": job_id, "user_id": alice.user_id}])
    assert roadmaps.get(f"{API}/roadmaps/jobs/{job_id}").status == 200
    # And the other way round: B cannot poll A's job
    _assert_error(b.to("roadmaps").get(f"{API}/roadmaps/jobs/{job_id}"), 404, "NOT_FOUND")
    _not_bobs(requested, b)


@isolates("GET /analytics/calibration", "GET /analytics/subjects", "GET /analytics/tests", "POST /analytics/tests",
          "GET /analytics/dashboard")
def test_analytics_show_only_the_callers_answers_and_tests(bob_unchanged: Student, alice: Student) -> None:
    # Given B's answers this week, B's mock tests and a cursor into them
    b, analytics = bob_unchanged, alice.to("analytics")
    cursor = b.to("analytics").get(f"{API}/analytics/tests", query={"limit": "1"}).data["next_cursor"]
    assert cursor
    # When A reads every report, replays B's cursor, and records a test under B's test_id
    calibration = analytics.get(f"{API}/analytics/calibration")
    subjects = analytics.get(f"{API}/analytics/subjects")
    topics = analytics.get(f"{API}/analytics/subjects", query={"exam": EXAM, "subject": SUBJECT})
    tests = analytics.get(f"{API}/analytics/tests")
    replayed = analytics.get(f"{API}/analytics/tests", query={"cursor": cursor})
    dashboard = analytics.get(f"{API}/analytics/dashboard")
    recorded = analytics.post(f"{API}/analytics/tests", _mock_test("Asha mock", b.ids["test_ids"][0], 10, 1))
    # Then A sees nothing of B's, and B's cursor is refused
    assert calibration.status == 200 and calibration.data["attempts"] == 0, calibration
    assert subjects.status == 200 and subjects.data == [], subjects
    assert topics.status == 200 and all(row["attempts"] == 0 for row in topics.data), topics
    assert tests.status == 200 and tests.data["items"] == [], tests
    _assert_error(replayed, 422, "VALIDATION_ERROR")
    assert replayed.json["errors"][0]["field"] == "cursor"
    assert dashboard.status == 200 and dashboard.data["tests_recorded"] == 0, dashboard
    assert all(row["practice_answered"] == 0 for row in dashboard.data["accuracy_trend"]["weeks"])
    # And B's test_id is A's own new test (201), not B's test answered back nor a conflict with it
    assert recorded.status == 201, recorded
    assert (recorded.data["test_name"], recorded.data["score"]) == ("Asha mock", 10)
    for answer in (calibration, subjects, topics, tests, dashboard):
        _not_bobs(answer, b)


@isolates("POST /questions/{question_id}/reports")
def test_a_report_of_a_question_is_the_reporting_students_own(bob_unchanged: Student, alice: Student) -> None:
    # Given B's open report of a question, with B's comment
    b, question_id = bob_unchanged, bob_unchanged.ids["wrong_question"]
    path = f"{API}/questions/{question_id}/reports"
    bobs = b.to("questions").post(path, {"reason": "unclear", "comment": "Bhavna mock wording"})
    assert bobs.status in (200, 201), bobs
    # When A reports the same question
    alices = alice.to("questions").post(path, {"reason": "typo"})
    # Then A opens A's own report (201, not B's answered back), and B's stays B's
    assert alices.status == 201, alices
    assert alices.data["report_id"] != bobs.data["report_id"] and alices.data["reason"] == "typo"
    again = b.to("questions").post(path, {"reason": "other"})
    assert (again.status, again.data["report_id"], again.data["reason"]) == (200, bobs.data["report_id"], "unclear")
    _not_bobs(alices, b)


@isolates("GET /auth/me", "POST /auth/logout", "POST /auth/logout-all")
def test_me_and_logging_out_concern_only_the_caller(bob_unchanged: Student, alice: Student) -> None:
    # Given B signed in
    b, auth = bob_unchanged, alice.to("auth")
    # When A asks who they are, then logs out of this session and of all sessions
    me = auth.get(f"{API}/auth/me")
    out = auth.post(f"{API}/auth/logout")
    again = _new_student_session(alice)
    out_all = alice.to("auth", again).post(f"{API}/auth/logout-all")
    # Then A is A, and B's session still works (the fixture reads all of B's views after this)
    assert me.status == 200 and me.data["id"] == alice.user_id and me.data["email"] == alice.email, me
    assert out.status == out_all.status == 200, (out, out_all)
    assert b.to("auth").get(f"{API}/auth/me").data["id"] == b.user_id
    _not_bobs(me, b)


def _new_student_session(student: Student) -> str:
    login = student.to("auth").post(f"{API}/auth/login", {"email": student.email, "password": PASSWORD})
    assert login.status == 200, login
    return str(login.data["access_token"])


@isolates("POST /mock-tests", "GET /mock-tests", "GET /mock-tests/{mock_test_id}",
          "PUT /mock-tests/{mock_test_id}/answers/{number}", "POST /mock-tests/{mock_test_id}/submit")
def test_a_mock_test_is_read_answered_and_submitted_only_by_its_student(bob_unchanged: Student,
                                                                        alice: Student) -> None:
    # Given B's sectional test in progress, with an answer saved at one number
    b, mock = bob_unchanged, alice.to("mock_tests")
    test_id, number = b.ids["mock_test_id"], b.ids["mock_number"]
    # When A lists tests, opens B's test by its id, saves an answer in it and submits it
    listed = mock.get(f"{API}/mock-tests")
    opened = mock.get(f"{API}/mock-tests/{test_id}")
    saved = mock.put(f"{API}/mock-tests/{test_id}/answers/{number}", {"clear": True, "time_spent_seconds": 1})
    submitted = mock.post(f"{API}/mock-tests/{test_id}/submit")
    # Then A has no tests, and B's test is not found for A on every route (the fixture finds it still
    # in progress, with B's answer, and no result recorded)
    assert listed.status == 200 and listed.data["items"] == [], listed
    for answer in (opened, saved, submitted):
        _assert_error(answer, 404, "NOT_FOUND")
    # When A starts a test under B's mock_test_id
    started = mock.post(f"{API}/mock-tests", {"pattern_id": "cat", "subjects": [CAT_QA], "mock_test_id": test_id})
    # Then it is A's own new paper (201), not B's answered back (200) nor a conflict with it
    assert started.status == 201, started
    assert all(q["answer"] is None for section in started.data["sections"] for q in section["questions"])
    assert [t["mock_test_id"] for t in mock.get(f"{API}/mock-tests").data["items"]] == [test_id]
    # And under that one id each student reaches only their own paper: A's save lands in A's
    mine = mock.put(f"{API}/mock-tests/{test_id}/answers/{number}", {"clear": True, "time_spent_seconds": 2})
    assert mine.status == 200 and mine.data["answered"] is False, mine
    bobs = b.to("mock_tests").get(f"{API}/mock-tests/{test_id}").data["sections"][0]["questions"]
    assert next(q for q in bobs if q["number"] == number)["answer"]["answered"] is True
    for answer in (listed, opened, saved, submitted):
        _not_bobs(answer, b)  # (A's own paper carries the id A sent, which is B's string)


@isolates("GET /notifications/preferences", "PUT /notifications/preferences", "POST /notifications/devices",
          "DELETE /notifications/devices/{device_id}", "GET /notifications",
          "POST /notifications/{notification_id}/read")
def test_notification_preferences_devices_and_inbox_are_per_student(bob_unchanged: Student, alice: Student) -> None:
    # Given B's preferences (20:30, no mail, Tokyo), B's push device, two notifications and a cursor into them
    b, notifications = bob_unchanged, alice.to("notifications")
    cursor = b.to("notifications").get(f"{API}/notifications", query={"limit": "1"}).data["next_cursor"]
    assert cursor
    # When A reads and sets preferences, registers a device, deletes B's, reads the inbox (and B's
    # cursor into B's), and marks B's notification read
    read = notifications.get(f"{API}/notifications/preferences")
    changed = notifications.put(f"{API}/notifications/preferences", {
        "streak_reminder": True, "reminder_time": "08:15", "email": True, "push": False})
    device = notifications.post(f"{API}/notifications/devices", {"platform": "fcm",
                                                                 "token": f"asha-fcm-{uuid.uuid4().hex}"})
    deleted = notifications.request("DELETE", f"{API}/notifications/devices/{b.ids['device_id']}")
    inbox = notifications.get(f"{API}/notifications")
    replayed = notifications.get(f"{API}/notifications", query={"cursor": cursor})
    marked = notifications.post(f"{API}/notifications/{b.ids['notification_ids'][0]}/read")
    # Then A's preferences are A's defaults, then A's choice, in A's zone (the fixture finds B's unchanged)
    assert read.status == 200, read
    assert {k: read.data[k] for k in ("reminder_time", "email", "push", "timezone")} == {
        "reminder_time": "19:00", "email": True, "push": True, "timezone": "Asia/Kolkata"}
    assert changed.status == 200 and (changed.data["reminder_time"], changed.data["push"]) == ("08:15", False)
    # And A's device is A's own; B's device is not found for A, and still delivers for B
    assert device.status == 201 and device.data["device_id"] != b.ids["device_id"], device
    _assert_error(deleted, 404, "NOT_FOUND")
    settings = notification_store.get_settings(b.user_id)
    assert settings is not None
    bobs_devices = notification_store.devices_of(settings)
    assert list(bobs_devices) == [b.ids["device_id"]]
    endpoint = boto3.client("sns").get_endpoint_attributes(EndpointArn=bobs_devices[b.ids["device_id"]]["endpoint_arn"])
    assert endpoint["Attributes"]["Enabled"] == "true"
    # And A's inbox is empty, B's cursor is refused, and B's notification is not found (it stays unread)
    assert inbox.status == 200 and inbox.data["items"] == [], inbox
    _assert_error(replayed, 422, "VALIDATION_ERROR")
    assert replayed.json["errors"][0]["field"] == "cursor"
    _assert_error(marked, 404, "NOT_FOUND")
    for answer in (read, changed, device, inbox):
        _not_bobs(answer, b)


@isolates("GET /analytics/mastery", "GET /practice/next")
def test_topic_mastery_and_the_next_question_come_from_the_callers_answers(bob_unchanged: Student,
                                                                           alice: Student) -> None:
    # Given B's four Parsing answers, one a mistake ten days old whose card is due: B's next question
    b = bob_unchanged
    where = {"exam": EXAM, "subject": SUBJECT, "topic": TOPIC}
    bobs_next = b.to("questions").get(f"{API}/practice/next", query=where)
    assert (bobs_next.data["reason"], bobs_next.data["question"]["question_id"]) == ("mistake_due",
                                                                                      b.ids["old_mistake"]), bobs_next
    bobs_parsing = [row for row in b.to("analytics").get(f"{API}/analytics/mastery").data["topics"]
                    if (row["subject"], row["topic"]) == (SUBJECT, TOPIC)]
    assert [row["answered"] for row in bobs_parsing] == [4]
    # When A, who answered nothing, reads topic mastery and asks for the next question there
    report = alice.to("analytics").get(f"{API}/analytics/mastery")
    given = alice.to("questions").get(f"{API}/practice/next", query=where)
    # Then every topic is A's prior (0.5, nothing answered), not B's
    assert report.status == 200 and report.data["exam_type"] == EXAM, report
    assert {(row["mastery"], row["answered"], row["last_answered_at"]) for row in report.data["topics"]} == {
        (0.5, 0, None)}
    # And A's next question is chosen from A's own record: never as B's due mistake, at A's mastery
    assert given.status == 200, given
    assert given.data["reason"] != "mistake_due" and given.data["topic_mastery"] == 0.5, given
    for answer in (report, given):
        _not_bobs(answer, b)


@isolates("GET /account/export")
def test_an_export_holds_only_the_exporting_students_data(bob_unchanged: Student, alice: Student) -> None:
    # Given B with data of every kind, and A with a profile
    b = bob_unchanged
    # When A exports
    export = alice.to("auth").get(f"{API}/account/export")
    # Then it is A's account and A's profile, and nothing of B's (records, ids, name, devices, inbox)
    assert export.status == 200, export
    assert (export.data["user"]["email"], export.data["profile"]["timezone"]) == (alice.email, "Asia/Kolkata")
    for section in ("attempts", "reviews", "cards", "mock_tests", "roadmaps", "badges", "reports"):
        assert export.data[section] == [], (section, export.data[section])
    # (A's profile filed A's default reminder: A's settings, without devices or an inbox)
    assert [(n["kind"], n["reminder_time"], n["devices"]) for n in export.data["notifications"]] == [
        ("notification_settings", "19:00", {})]
    _not_bobs(export, b)
    for marker in (b.name, b.ids["old_mistake"], b.ids["device_token"]):
        assert marker not in export.text, marker


@isolates("POST /auth/verify-email/request")
def test_a_verification_link_is_mailed_to_the_callers_address_and_verifies_only_them(bob_unchanged: Student,
                                                                                      alice: Student) -> None:
    # Given B's unverified address and the mails it has had
    b = bob_unchanged
    bobs_mail = len(local_aws.sent_mail(to=b.email))
    # When A asks for a verification link
    asked = alice.to("auth").post(f"{API}/auth/verify-email/request")
    # Then the link goes to A's address only, and opening it verifies A (the fixture finds B unverified)
    assert asked.status == 202 and asked.data == {"email_verified": False, "mail_sent": True}, asked
    assert len(local_aws.sent_mail(to=b.email)) == bobs_mail
    link = local_aws.sent_mail(to=alice.email)[-1].link
    assert link is not None and alice.email not in link
    verified = HandlerClient(alice.fns["auth"], source_ip=_ip()).post(
        f"{API}/auth/verify-email", {"token": link.partition("token=")[2]})
    assert verified.status == 200, verified
    assert alice.to("auth").get(f"{API}/auth/me").data["email_verified"] is True
    _not_bobs(asked, b)


@pytest.fixture(scope="module")
def account_worker() -> ModuleType:
    """The deletion sweep's handler (an SQS worker, not among the HTTP functions)."""
    worker: ModuleType = load_function("account_worker")
    return worker


def _sweep_deletion(worker: ModuleType, queued: list[dict[str, Any]]) -> None:
    """What the deletion queue's event source mapping does with each message, until the sweep
    queues no continuation."""
    rounds = 0
    while queued:
        body = json.dumps(queued.pop(0))
        record = {"messageId": uuid.uuid4().hex, "receiptHandle": uuid.uuid4().hex, "body": body,
                  "attributes": {"ApproximateReceiveCount": "1"}, "messageAttributes": {},
                  "md5OfBody": hashlib.md5(body.encode()).hexdigest(), "eventSource": "aws:sqs",
                  "eventSourceARN": "arn:aws:sqs:ap-south-1:123456789012:q", "awsRegion": "ap-south-1"}
        assert worker.handler({"Records": [record]}, LambdaContext())["batchItemFailures"] == []
        rounds += 1
        assert rounds < 100, "the sweep does not end"


@isolates("DELETE /account")
def test_deleting_an_account_needs_its_own_password_and_sweeps_only_the_caller(
        bob_unchanged: Student, alice: Student, account_worker: ModuleType, monkeypatch: pytest.MonkeyPatch) -> None:
    # Given B's account, and the deletion queue's messages kept here
    b, auth = bob_unchanged, alice.to("auth")
    queued: list[dict[str, Any]] = []
    monkeypatch.setattr(account, "sqs_enqueue", queued.append)
    # When A asks to delete with B's password
    refused = auth.request("DELETE", f"{API}/account", {"password": BOB_PASSWORD})
    # Then it is a wrong password for A's account: 401, nothing queued, A still signed in
    _assert_error(refused, 401, "AUTHENTICATION_ERROR")
    assert queued == [] and auth.get(f"{API}/auth/me").status == 200
    # When A deletes with A's own password, and the sweep runs to its end
    deleted = auth.request("DELETE", f"{API}/account", {"password": PASSWORD})
    assert deleted.status == 202 and queued == [{"user_id": alice.user_id}], deleted
    _sweep_deletion(account_worker, queued)
    # Then A is gone, while B still signs in with B's password (and the fixture finds all of B's data)
    login = b.to("auth").post(f"{API}/auth/login", {"email": alice.email, "password": PASSWORD})
    _assert_error(login, 401, "AUTHENTICATION_ERROR")
    again = b.to("auth").post(f"{API}/auth/login", {"email": b.email, "password": BOB_PASSWORD})
    assert again.status == 200 and again.data["user"]["id"] == b.user_id, again
    assert users.get_user(alice.user_id) is None and users.get_user(b.user_id) is not None


def test_every_route_with_a_students_data_has_an_isolation_test() -> None:
    # Given every route of every HTTP function, from the apps' own routers
    routes = all_routes()
    keys = {route.key for route in routes}
    authenticated = {route.key for route in routes if route.authenticated}
    per_student = {route.key for route in routes if route.authenticated and not route.admin} - set(SHARED_CONTENT)
    # Then the routes without a token are exactly the known public ones (a new one is a decision)
    assert keys - authenticated == PUBLIC
    assert set(SHARED_CONTENT) <= authenticated
    # And every route serving a student's own data is covered by an isolation test above
    assert per_student - set(ISOLATED) == set(), "routes without an isolation test"
    assert set(ISOLATED) - per_student == set(), "isolation tests for routes that do not exist"
    # And the admin routes are the two imports (checked below), the media upload (test_media.py) and
    # the content operations (test_content_operations.py refuses students on each)
    assert {route.key for route in routes if route.admin} == {
        f"POST {API}/admin/questions/import", f"POST {API}/admin/flashcards/import", f"POST {API}/admin/media",
        f"GET {API}/admin/questions", f"PUT {API}/admin/questions/{{question_id}}",
        f"POST {API}/admin/questions/{{question_id}}/retire", f"POST {API}/admin/questions/{{question_id}}/restore",
        f"GET {API}/admin/reports", f"POST {API}/admin/reports/{{report_id}}/resolve"}


# --- tokens -------------------------------------------------------------------------------------------

def _b64url(raw: bytes) -> str:
    return base64.urlsafe_b64encode(raw).rstrip(b"=").decode()


def _claims(token: str) -> dict[str, Any]:
    return jwt.decode(token, options={"verify_signature": False})


def _hmac_token(header: dict[str, Any], claims: dict[str, Any], secret: bytes, digest: Any = hashlib.sha256) -> str:
    """A JWT assembled by hand, so its header can say anything."""
    signing_input = f"{_b64url(json.dumps(header).encode())}.{_b64url(json.dumps(claims).encode())}"
    signature = hmac.new(secret, signing_input.encode(), digest).digest()
    return f"{signing_input}.{_b64url(signature)}"


def _unsigned(header: dict[str, Any], claims: dict[str, Any]) -> str:
    return f"{_b64url(json.dumps(header).encode())}.{_b64url(json.dumps(claims).encode())}."


def _flip_signature(token: str) -> str:
    head, payload, signature = token.split(".")
    middle = len(signature) // 2  # not the last character: its low bits may be padding
    swapped = "A" if signature[middle] != "A" else "B"
    return f"{head}.{payload}.{signature[:middle]}{swapped}{signature[middle + 1:]}"


def _signed(claims: dict[str, Any], secret: str, **changes: Any) -> str:
    return jwt.encode(claims | changes, secret, algorithm="HS256")


FORGERIES: dict[str, Callable[[Student, str, str], str]] = {
    # (student, secret, another student's id) -> Authorization header
    "tampered signature": lambda s, _k, _o: f"Bearer {_flip_signature(s.access_token)}",
    "tampered payload: another sub, role admin": lambda s, _k, other: "Bearer " + ".".join([
        s.access_token.split(".")[0], _b64url(json.dumps(_claims(s.access_token) | {"sub": other, "role": "admin"})
                                              .encode()), s.access_token.split(".")[2]]),
    "expired": lambda s, key, _o: "Bearer " + _signed(_claims(s.access_token), key, iat=int(time.time()) - 7200,
                                                      exp=int(time.time()) - 1),
    "refresh token as access token": lambda s, _k, _o: f"Bearer {s.refresh_token}",
    "typ claim of neither kind": lambda s, key, _o: "Bearer " + _signed(_claims(s.access_token), key, typ="id"),
    "alg none, no signature": lambda s, _k, _o: "Bearer " + jwt.encode(_claims(s.access_token), None, algorithm="none"),
    "alg none, real signature kept": lambda s, _k, _o: "Bearer " + ".".join([
        _b64url(b'{"alg":"none","typ":"JWT"}'), *s.access_token.split(".")[1:]]),
    "alg None, empty signature": lambda s, _k, _o: "Bearer " + _unsigned({"alg": "None"}, _claims(s.access_token)),
    "another secret": lambda s, _k, _o: "Bearer " + _signed(_claims(s.access_token), "not-the-secret-" + "x" * 40),
    "HS512 with the real secret": lambda s, key, _o: "Bearer " + jwt.encode(_claims(s.access_token), key,
                                                                           algorithm="HS512"),
    "HS384 with the real secret": lambda s, key, _o: "Bearer " + jwt.encode(_claims(s.access_token), key,
                                                                           algorithm="HS384"),
    "RS256 header, HMAC signature with the secret": lambda s, key, _o: "Bearer " + _hmac_token(
        {"alg": "RS256", "typ": "JWT"}, _claims(s.access_token), key.encode()),
    "ES256 header, HMAC signature with the secret": lambda s, key, _o: "Bearer " + _hmac_token(
        {"alg": "ES256", "typ": "JWT"}, _claims(s.access_token), key.encode()),
    "token without Bearer": lambda s, _k, _o: s.access_token,
    "another scheme": lambda s, _k, _o: f"Token {s.access_token}",
    "garbage": lambda _s, _k, _o: "Bearer \x7fgarbage.%%%.???",
    "three empty parts": lambda _s, _k, _o: "Bearer ..",
    "signature only": lambda s, _k, _o: "Bearer " + s.access_token.split(".")[2],
}


def _request(route: Route, fns: dict[str, ModuleType], authorization: str | None) -> Answer:
    path = route.path.replace("{job_id}", uuid.uuid4().hex)
    body: Any = [] if route.admin else ({} if route.method in ("POST", "PUT") else None)
    headers = {"authorization": authorization} if authorization is not None else {}
    return HandlerClient(fns[route.function], source_ip=_ip()).request(route.method, path, body, headers=headers)


def _authenticated_routes() -> list[Route]:
    # Logging out last, so a control run with a real token keeps its session to the end
    routes = [route for route in all_routes() if route.authenticated]
    return sorted(routes, key=lambda route: ("/logout" in route.path, route.key))


def test_a_real_token_passes_authentication_on_every_authenticated_route(alice: Student,
                                                                        monkeypatch: pytest.MonkeyPatch) -> None:
    # Given a real access token (the control for the forgeries below)
    monkeypatch.setattr(roadmap_service, "sqs_enqueue", lambda _body: None)
    routes = _authenticated_routes()
    assert len(routes) >= 20, [route.key for route in routes]
    for route in routes:
        # When each authenticated route is called with it (empty bodies; logging out with a session of its own)
        token = _new_student_session(alice) if "/logout" in route.path else alice.access_token
        answer = _request(route, alice.fns, f"Bearer {token}")
        # Then none refuses the token; admin routes refuse the student's role
        assert answer.status not in (401, 500), (route.key, answer)
        if route.admin:
            _assert_error(answer, 403, "AUTHORIZATION_ERROR")


@pytest.mark.parametrize("forgery", list(FORGERIES))
def test_a_forged_token_is_401_on_every_authenticated_route(forgery: str, alice: Student, settings: Any) -> None:
    # Given a token forged from a real session (another student's id where one is claimed)
    other = register(alice.fns["auth"]).data["user"]["id"]
    authorization = FORGERIES[forgery](alice, settings.jwt_secret.get_secret_value(), other)
    for route in _authenticated_routes():
        # When it is sent to every authenticated route of every function
        answer = _request(route, alice.fns, authorization)
        # Then each answers 401 AUTHENTICATION_ERROR in the envelope, inviting a bearer token
        _assert_error(answer, 401, "AUTHENTICATION_ERROR")
        assert answer.headers.get("www-authenticate", "").lower().startswith("bearer"), (route.key, answer.headers)
    # And the real token of that session was never the problem
    assert alice.to("auth").get(f"{API}/auth/me").status == 200


@pytest.mark.parametrize("ending", ["logout", "logout-all"])
def test_a_revoked_token_is_401_on_every_authenticated_route(ending: str, alice: Student) -> None:
    # Given a session that logged out (of itself, or of everything)
    assert alice.to("auth").post(f"{API}/auth/{ending}").status == 200
    for route in _authenticated_routes():
        # When its access token is still sent to every authenticated route
        answer = _request(route, alice.fns, f"Bearer {alice.access_token}")
        # Then each refuses it
        _assert_error(answer, 401, "AUTHENTICATION_ERROR")
    # And its refresh token cannot mint a new one
    refreshed = alice.to("auth").post(f"{API}/auth/refresh", {"refresh_token": alice.refresh_token})
    _assert_error(refreshed, 401, "AUTHENTICATION_ERROR")


def test_a_forged_token_changes_nothing_of_the_student_it_names(bob_unchanged: Student, alice: Student,
                                                                settings: Any) -> None:
    # Given tokens claiming to be B: B's claims under another secret, and A's signature over B's claims
    b = bob_unchanged
    claims = _claims(b.access_token)
    forged = [_signed(claims, "not-the-secret-" + "y" * 40),
              ".".join([alice.access_token.split(".")[0], _b64url(json.dumps(claims).encode()),
                        alice.access_token.split(".")[2]])]
    for token in forged:
        # When they are used to write as B
        writes = [
            b.to("profile", token).put(f"{API}/profile", _profile(daily_goal=99)),
            b.to("progress", token).put(f"{API}/progress/daily-goal", {"target_questions": 99}),
            b.to("flashcards", token).post(f"{API}/flashcards/review/undo"),
            b.to("questions", token).post(f"{API}/questions/submit", {
                "question_id": b.ids["wrong_question"], "selected_option": "A", "confidence_rating": 1,
                "time_taken_seconds": 1}),
        ]
        # Then every write is refused (and the fixture finds B's data unchanged)
        for answer in writes:
            _assert_error(answer, 401, "AUTHENTICATION_ERROR")


# --- admin --------------------------------------------------------------------------------------------

ADMIN_IMPORTS = {
    "questions": [{"source": SOURCE, "external_id": "admin-q", "exam_type": EXAM, "subject": SUBJECT, "topic": TOPIC,
                   "difficulty": "hard", "stem": "Admin-only question?", "options": {"A": "a", "B": "b", "C": "c",
                                                                                     "D": "d"},
                   "correct_option": "B", "explanation": "Because B."}],
    "flashcards": [{"source": SOURCE, "external_id": "admin-f", "exam_type": EXAM, "subject": SUBJECT,
                    "topic": TOPIC, "question": "Admin-only card?", "answer": "Yes", "difficulty": 3}],
}


def _imported(kind: str, alice: Student) -> bool:
    """Whether this module's admin-only record reached the bank (read through the student API)."""
    if kind == "questions":
        answer = alice.to("questions").get(f"{API}/questions/practice", query={
            "exam": EXAM, "subject": SUBJECT, "topic": TOPIC, "difficulty": "hard", "limit": "100"})
        return any(item["stem"] == "Admin-only question?" for item in answer.data["items"])
    answer = alice.to("flashcards").get(f"{API}/flashcards", query={"exam": EXAM, "subject": SUBJECT, "topic": TOPIC,
                                                                     "limit": "100"})
    return any(item["question"] == "Admin-only card?" for item in answer.data["items"])


@pytest.mark.parametrize("kind", list(ADMIN_IMPORTS))
def test_a_student_cannot_import_even_with_a_token_claiming_admin(kind: str, alice: Student, settings: Any) -> None:
    # Given a student's real token, and one signed with the real key claiming role admin for that account
    claimed = _signed(_claims(alice.access_token), settings.jwt_secret.get_secret_value(), role="admin")
    for token in (alice.access_token, claimed):
        # When either imports
        answer = alice.to("admin", token).post(f"{API}/admin/{kind}/import", ADMIN_IMPORTS[kind])
        # Then it is 403 AUTHORIZATION_ERROR: the account's role decides, not the token's
        _assert_error(answer, 403, "AUTHORIZATION_ERROR")
    # And nothing was imported
    assert not _imported(kind, alice)


@pytest.mark.parametrize("kind", list(ADMIN_IMPORTS))
def test_a_demoted_admin_loses_both_imports_at_once(kind: str, alice: Student) -> None:
    # Given an admin signed in (their token says admin)
    admin = _new_student("Content Admin", None)
    account = users.get_user(admin.user_id)
    assert account is not None
    users.set_role(account, "admin")
    token = _new_student_session(admin)
    assert _claims(token)["role"] == "admin"
    assert admin.to("admin", token).post(f"{API}/admin/{kind}/import", []).status == 200
    # When they are demoted, their token still claiming admin
    users.set_role(account, "student")
    answer = admin.to("admin", token).post(f"{API}/admin/{kind}/import", ADMIN_IMPORTS[kind])
    # Then the same token is refused at once, and nothing is imported
    _assert_error(answer, 403, "AUTHORIZATION_ERROR")
    assert not _imported(kind, alice)


# --- secrets in logs and answers -----------------------------------------------------------------------

class _CurrentStdout:
    """Powertools' handler keeps the stdout it found at import; this follows capsys's instead."""

    def write(self, text: str) -> int:
        return sys.stdout.write(text)

    def flush(self) -> None:
        sys.stdout.flush()


@pytest.fixture(scope="module")
def fake_groq() -> Iterator[FakeGroq]:
    server = FakeGroq().start()
    yield server
    server.stop()


@pytest.fixture
def groq_key(settings: Any, fake_groq: FakeGroq, monkeypatch: pytest.MonkeyPatch) -> str:
    key = f"gsk_security_{uuid.uuid4().hex}"
    point_groq_at(settings, monkeypatch, fake_groq.url, key)
    # A loaded test machine must not turn the explained answer into "unavailable"
    monkeypatch.setattr(settings, "explanation_budget_seconds", 30.0)
    yield key
    llm_client.groq_client.cache_clear()


def test_no_secret_reaches_a_log_line_or_an_answer(bank: dict[str, list[str]], groq_key: str, fake_groq: FakeGroq,
                                                   settings: Any, capsys: pytest.CaptureFixture[str],
                                                   caplog: pytest.LogCaptureFixture,
                                                   monkeypatch: pytest.MonkeyPatch) -> None:
    # Given every log line captured: Powertools' JSON on stdout, and every logging record (the SDKs' too)
    from mindly.observability import logger

    monkeypatch.setattr(logger.registered_handler, "stream", _CurrentStdout())
    caplog.set_level(logging.INFO)
    for sdk in ("groq", "httpx", "httpcore", "mindly"):
        caplog.set_level(logging.DEBUG, logger=sdk)
    capsys.readouterr()
    fns = http_functions()
    password, wrong_password = f"Pw-{uuid.uuid4().hex}", f"Wrong-{uuid.uuid4().hex}"
    email = unique_email("leak")
    auth = HandlerClient(fns["auth"], source_ip=_ip())
    sent: list[Answer] = []  # every answer, with the tokens it was sent
    issued: list[str] = []

    def call(answer: Answer) -> Answer:
        sent.append(answer)
        if answer.json and isinstance(answer.json.get("data"), dict):
            issued.extend(answer.data[name] for name in ("access_token", "refresh_token") if name in answer.data)
        return answer

    # When a student registers, fails a login, logs in, refreshes, answers wrong twice (Groq explains
    # the first; the second call to Groq fails), is refused with a bad token, and logs out
    registered = call(auth.post(f"{API}/auth/register", {"email": email, "password": password, "name": "Leak"}))
    assert registered.status == 201, registered
    call(auth.post(f"{API}/auth/register", {"email": email, "password": password, "name": "Leak", "x": 1}))
    _assert_error(call(auth.post(f"{API}/auth/login", {"email": email, "password": wrong_password})), 401,
                  "AUTHENTICATION_ERROR")
    login = call(auth.post(f"{API}/auth/login", {"email": email, "password": password}))
    refreshed = call(auth.post(f"{API}/auth/refresh", {"refresh_token": login.data["refresh_token"]}))
    assert login.status == refreshed.status == 200, (login, refreshed)
    questions = HandlerClient(fns["questions"], token=refreshed.data["access_token"], source_ip=_ip())
    fake_groq.then(ok({"text": "Option B misreads the grammar; A follows from the derivation."}), server_error())
    explained = call(questions.post(f"{API}/questions/submit", {"question_id": bank["questions"][0],
                                                               "selected_option": "C", "confidence_rating": 4,
                                                               "time_taken_seconds": 20}))
    unexplained = call(questions.post(f"{API}/questions/submit", {"question_id": bank["questions"][2],
                                                                 "selected_option": "D", "confidence_rating": 4,
                                                                 "time_taken_seconds": 20}))
    assert explained.status == unexplained.status == 200, (explained, unexplained)
    assert explained.data["ai_explanation"]["source"] == "groq"
    assert unexplained.data["ai_explanation_status"] == "unavailable"
    assert {r["key"] for r in fake_groq.requests} == {groq_key}  # the key really was used
    call(HandlerClient(fns["auth"], token=registered.data["access_token"][:-4] + "AAAA").get(f"{API}/auth/me"))
    call(HandlerClient(fns["auth"], token=refreshed.data["access_token"]).post(f"{API}/auth/logout"))
    call(HandlerClient(fns["auth"], token=refreshed.data["access_token"]).get(f"{API}/auth/me"))
    stored = users.get_user(registered.data["user"]["id"])
    assert stored is not None
    secrets = {"password": password, "wrong password": wrong_password, "bcrypt hash": stored.password_hash,
               "bcrypt prefix": "$2b$", "JWT secret": settings.jwt_secret.get_secret_value(), "Groq key": groq_key}
    secrets |= {f"token {n}": token for n, token in enumerate(issued)}
    assert len(issued) == 6
    # Then no log line holds any secret
    out, err = capsys.readouterr()
    logged = out + err + "\n".join(f"{r.getMessage()} {r.__dict__}" for r in caplog.records)
    assert '"message":"request"' in out.replace(" ", "")  # the capture works
    for name, secret in secrets.items():
        assert secret not in logged, f"{name} in the logs"
    # And no answer holds one, but the tokens an auth answer issues itself (body and cookie)
    for answer in sent:
        own = set()
        if answer.json and isinstance(answer.json.get("data"), dict):
            own = {answer.data.get("access_token"), answer.data.get("refresh_token")}
        everything = answer.text + json.dumps(answer.headers) + json.dumps(answer.cookies)
        for name, secret in secrets.items():
            assert secret in own or secret not in everything, f"{name} in {answer}"


# --- rate limits under parallel requests ------------------------------------------------------------

@pytest.fixture
def steady_clock(monkeypatch: pytest.MonkeyPatch) -> None:
    """The limiter's clock held in the middle of the current minute, so a burst never straddles two
    windows (the sliding window lets part of the previous window's count lapse there)."""
    import upstash_ratelimit.limiter as limiter

    middle = (int(time.time() * 1000) // 60_000) * 60_000 + 30_000
    monkeypatch.setattr(limiter, "now_ms", lambda: middle)


def _assert_exactly(answers: list[Answer], limit: int, ok_status: int) -> None:
    statuses = [answer.status for answer in answers]
    assert sorted(statuses) == sorted([ok_status] * limit + [429] * (len(answers) - limit)), answers
    for answer in answers:
        if answer.status == 429:
            _assert_error(answer, 429, "RATE_LIMIT_EXCEEDED")
            assert 1 <= int(answer.headers["retry-after"]) <= 60, answer.headers
            assert answer.headers["x-ratelimit-limit"] == str(limit)


def test_parallel_requests_of_one_student_pass_exactly_the_limit(settings: Any, steady_clock: None,
                                                                 monkeypatch: pytest.MonkeyPatch) -> None:
    # Given a per-student limit of 5 a minute, and a student who has not made a request yet
    monkeypatch.setattr(settings, "user_rate_limit_per_minute", 5)
    student = _new_student("Burst Student", None)
    # When the student sends 16 requests at once, to two functions
    answers = _in_threads(16, lambda i: student.to("progress" if i % 2 else "auth").get(
        f"{API}/progress" if i % 2 else f"{API}/auth/me"))
    # Then exactly 5 pass and 11 are 429 with Retry-After
    _assert_exactly(answers, 5, 200)


def test_parallel_logins_from_one_ip_pass_exactly_the_limit(alice: Student, settings: Any, steady_clock: None,
                                                            monkeypatch: pytest.MonkeyPatch) -> None:
    # Given a login limit of 4 a minute per IP
    monkeypatch.setattr(settings, "login_rate_limit_per_minute", 4)
    client = HandlerClient(alice.fns["auth"], source_ip="192.0.2.201")
    # When 12 logins arrive at once from one address
    answers = _in_threads(12, lambda _i: client.post(f"{API}/auth/login", {"email": alice.email,
                                                                          "password": PASSWORD}))
    # Then exactly 4 sign in and 8 are 429 with Retry-After
    _assert_exactly(answers, 4, 200)


def test_parallel_registrations_from_one_ip_pass_exactly_the_limit(auth_fn: Any, settings: Any, steady_clock: None,
                                                                   monkeypatch: pytest.MonkeyPatch) -> None:
    # Given a register limit of 3 a minute per IP
    monkeypatch.setattr(settings, "register_rate_limit_per_minute", 3)
    client = HandlerClient(auth_fn, source_ip="192.0.2.202")
    # When 10 different registrations arrive at once from one address
    answers = _in_threads(10, lambda _i: client.post(f"{API}/auth/register", {
        "email": unique_email("burst"), "password": PASSWORD, "name": "Burst"}))
    # Then exactly 3 accounts are created and 7 are 429 with Retry-After
    _assert_exactly(answers, 3, 201)
