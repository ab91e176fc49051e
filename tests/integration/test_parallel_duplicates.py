"""Concurrent duplicates answer consistently (issue 15, point 6), through the real handlers.

Every route that replays a request it has seen (a repeated attempt_id, review_id, test_id, an
undo of one review) is sent 20 copies at once, then one more later: the store records the request
once, and every copy answers what a later retry answers, so a client summing ``xp_awarded`` over
the answers it got is told the truth. A retry of a submit or a review answers exactly as the first
(a client whose first answer was lost learns what it earned); an undo that says
``already_undone: true`` took nothing back, and says 0.
"""

from __future__ import annotations

import asyncio
import json
import uuid
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from support import Answer, HandlerClient, register

from mindly.domain import calendar
from mindly.domain.content import content_id
from mindly.services import content
from mindly.store import analytics as analytics_store
from mindly.store import attempts as attempt_store
from mindly.store import cards as card_store
from mindly.store.progress import student_key

API = "/api/v1"
SOURCE = f"duplicates-{uuid.uuid4().hex[:8]}"
SUBJECT, TOPIC = "Theory of Computation", "Regular Languages and Finite Automata"
COPIES = 20


@pytest.fixture(scope="module")
def question_ids(local_aws: Any) -> list[str]:
    records = [{"source": SOURCE, "external_id": f"q{n}", "exam_type": "GATE", "subject": SUBJECT, "topic": TOPIC,
                "difficulty": "easy", "stem": f"Duplicate question {n}?",
                "options": {"A": f"right {n}", "B": f"wrong {n}", "C": f"other {n}", "D": f"last {n}"},
                "correct_option": "A", "explanation": "Because."} for n in range(4)]
    assert not content.import_objects("question", records)["errors"]
    return [content_id("question", SOURCE, f"q{n}") for n in range(4)]


@pytest.fixture(scope="module")
def card_ids(local_aws: Any) -> list[str]:
    records = [{"source": SOURCE, "external_id": f"c{n}", "exam_type": "GATE", "subject": SUBJECT, "topic": TOPIC,
                "question": f"Duplicate card {n}?", "answer": f"Answer {n}", "difficulty": 2} for n in range(4)]
    assert not content.import_objects("flashcard", records)["errors"]
    return [content_id("flashcard", SOURCE, f"c{n}") for n in range(4)]


@pytest.fixture
def student(auth_fn: Any, profile_fn: Any, questions_fn: Any, flashcards_fn: Any, progress_fn: Any,
            analytics_fn: Any) -> dict[str, Any]:
    answer = register(auth_fn, name="Divya Nair")
    assert answer.status == 201, answer
    token = answer.data["access_token"]
    profile = {"exam_type": "GATE", "level": "beginner", "study_hours_per_day": 2, "target_date": "2035-03-01",
               "weak_subjects": [], "daily_goal": 20, "timezone": "Asia/Kolkata"}
    assert HandlerClient(profile_fn, token=token).put(f"{API}/profile", profile).status == 200
    clients = {name: HandlerClient(fn, token=token) for name, fn in (
        ("questions", questions_fn), ("flashcards", flashcards_fn), ("progress", progress_fn),
        ("analytics", analytics_fn))}
    return {"user_id": answer.data["user"]["id"], **clients}


def _at_once(send: Callable[[], Answer], copies: int = COPIES) -> list[Answer]:
    """``copies`` calls of ``send`` started together (each worker thread with its own event loop:
    Mangum runs the app on the calling thread's loop)."""
    with ThreadPoolExecutor(max_workers=copies,
                            initializer=lambda: asyncio.set_event_loop(asyncio.new_event_loop())) as pool:
        return list(pool.map(lambda _n: send(), range(copies)))


def _progress(student: dict[str, Any]) -> dict[str, Any]:
    answer = student["progress"].get(f"{API}/progress")
    assert answer.status == 200, answer
    return dict(answer.data)


def test_parallel_undos_of_one_review_take_its_xp_back_once_and_duplicates_say_zero(
        student: dict[str, Any], card_ids: list[str]) -> None:
    # Given a review that earned +5
    cards = student["flashcards"]
    review_id = str(uuid.uuid4())
    reviewed = cards.post(f"{API}/flashcards/review", {"flashcard_id": card_ids[0], "rating": 4,
                                                       "review_id": review_id})
    assert reviewed.status == 200 and reviewed.data["xp_awarded"] == 5
    # When 20 undos of it arrive at once, and one more later
    answers = _at_once(lambda: cards.post(f"{API}/flashcards/review/undo", {"review_id": review_id}))
    later = cards.post(f"{API}/flashcards/review/undo", {"review_id": review_id})
    # Then one undo took the +5 back; every other one, and the later retry, says it took nothing
    assert {a.status for a in answers} == {200}, [a for a in answers if a.status != 200]
    firsts = [a.data for a in answers if not a.data["already_undone"]]
    assert [f["xp_awarded"] for f in firsts] == [-5]
    assert {a.data["xp_awarded"] for a in answers if a.data["already_undone"]} == {0}
    assert (later.status, later.data["already_undone"], later.data["xp_awarded"]) == (200, True, 0)
    assert sum(a.data["xp_awarded"] for a in answers) + later.data["xp_awarded"] == -5
    # And the truth agrees: the review and its count are gone, the card is new again
    progress = _progress(student)
    assert (progress["xp_total"], progress["today"]["cards_reviewed"]) == (0, 0)
    assert card_store.get_card(student["user_id"], card_ids[0]) is None


def test_parallel_undos_of_a_card_reviewed_twice_agree(student: dict[str, Any], card_ids: list[str]) -> None:
    # Given a card reviewed twice (the second review ahead of its date: +0), the second one named
    cards = student["flashcards"]
    assert cards.post(f"{API}/flashcards/review", {"flashcard_id": card_ids[1], "rating": 4}).data["xp_awarded"] == 5
    review_id = str(uuid.uuid4())
    second = cards.post(f"{API}/flashcards/review", {"flashcard_id": card_ids[1], "rating": 5, "review_id": review_id})
    assert second.data["xp_awarded"] == 0
    # When 20 undos of the second review race (each restoring the card under its version)
    answers = _at_once(lambda: cards.post(f"{API}/flashcards/review/undo", {"review_id": review_id}))
    # Then none is refused as "reviewed again since": one undid it, the rest found it undone
    assert {a.status for a in answers} == {200}, [a for a in answers if a.status != 200]
    assert sum(not a.data["already_undone"] for a in answers) == 1
    assert {(a.data["repetitions"], a.data["xp_awarded"]) for a in answers} == {(1, 0)}
    stored = card_store.get_card(student["user_id"], card_ids[1])
    assert stored is not None and int(stored.repetitions) == 1
    assert _progress(student)["xp_total"] == 5


def _same_apart_from_xp(answers: list[Any]) -> bool:
    """Whether the answers agree on everything but what each copy earned itself."""
    def rest(answer: Any) -> str:
        return json.dumps({k: v for k, v in answer.data.items() if k not in ("xp_awarded", "xp_withheld")},
                          sort_keys=True)
    return len({rest(answer) for answer in answers}) == 1


def test_parallel_submits_of_one_attempt_record_it_once_and_answer_alike(
        student: dict[str, Any], question_ids: list[str]) -> None:
    # Given one answer sent 20 times at once with the same attempt_id (client retries)
    body = {"question_id": question_ids[0], "selected_option": "A", "confidence_rating": 4,
            "time_taken_seconds": 25, "attempt_id": str(uuid.uuid4())}
    answers = _at_once(lambda: student["questions"].post(f"{API}/questions/submit", body))
    later = student["questions"].post(f"{API}/questions/submit", body)
    # Then the copy that recorded it earned +10, and every other copy, like the later retry, says
    # 0 because it is a duplicate: summing xp_awarded gives the truth. Otherwise they answer alike.
    assert {a.status for a in answers} == {200}
    earned = [(a.data["xp_awarded"], a.data["xp_withheld"]) for a in [*answers, later]]
    assert sorted(earned, key=str) == sorted([(10, None)] + [(0, "duplicate")] * COPIES, key=str), earned
    assert _same_apart_from_xp([*answers, later])
    # And every copy says what the attempt earned when it was recorded (a client whose first answer
    # was lost learns it from its retry)
    assert {a.data["xp_recorded"] for a in [*answers, later]} == {10}
    # And it is recorded once: one attempt, +10 once, one answer toward the goal
    progress = _progress(student)
    assert (progress["xp_total"], progress["today"]["questions_answered"]) == (10, 1)
    attempts = list(attempt_store.AttemptItem.query(student_key(student["user_id"]),
                                                    attempt_store.AttemptItem.sk.startswith("ATTEMPT#")))
    assert [a.attempt_id for a in attempts] == [body["attempt_id"]]
    stats = analytics_store.subject_stats(student["user_id"], "GATE")
    assert [(int(s.attempts), int(s.correct)) for s in stats] == [(1, 1)]


def test_parallel_repeats_of_an_attempt_that_earned_nothing_say_why_alike(
        student: dict[str, Any], question_ids: list[str]) -> None:
    # Given a question answered once already, and its second answer sent 20 times at once
    questions = student["questions"]
    first = questions.post(f"{API}/questions/submit", {"question_id": question_ids[1], "selected_option": "A",
                                                       "confidence_rating": 3, "time_taken_seconds": 10})
    assert first.data["xp_awarded"] == 10
    body = {"question_id": question_ids[1], "selected_option": "A", "confidence_rating": 3,
            "time_taken_seconds": 10, "attempt_id": str(uuid.uuid4())}
    answers = _at_once(lambda: questions.post(f"{API}/questions/submit", body))
    # Then every copy says the same: recorded, no XP, and why (the one that recorded it: the
    # question was answered before; the others: they are duplicates)
    earned = sorted((a.status, a.data["xp_awarded"], a.data["xp_withheld"]) for a in answers)
    assert earned == sorted([(200, 0, "answered_before")] + [(200, 0, "duplicate")] * (COPIES - 1)), earned
    assert _progress(student)["today"]["questions_answered"] == 2


def test_parallel_reviews_with_one_review_id_apply_once_and_answer_alike(
        student: dict[str, Any], card_ids: list[str]) -> None:
    # Given one review sent 20 times at once with the same review_id
    body = {"flashcard_id": card_ids[2], "rating": 4, "review_id": str(uuid.uuid4())}
    answers = _at_once(lambda: student["flashcards"].post(f"{API}/flashcards/review", body))
    later = student["flashcards"].post(f"{API}/flashcards/review", body)
    # Then each copy answers as the later retry does, except that only the one that applied it
    # earned +5 (the others say 0: duplicates), and the card was reviewed once
    assert {a.status for a in answers} == {200}, [a for a in answers if a.status != 200]
    assert _same_apart_from_xp([*answers, later])
    earned = sorted((a.data["xp_awarded"], str(a.data["xp_withheld"])) for a in [*answers, later])
    assert earned == sorted([(5, "None")] + [(0, "duplicate")] * COPIES), earned
    assert later.data["repetitions"] == 1
    stored = card_store.get_card(student["user_id"], card_ids[2])
    assert stored is not None and (int(stored.repetitions), int(stored.version)) == (1, 1)
    progress = _progress(student)
    assert (progress["xp_total"], progress["today"]["cards_reviewed"]) == (5, 1)


def test_parallel_daily_goal_changes_pay_the_bonus_once_and_answer_alike(
        student: dict[str, Any], question_ids: list[str]) -> None:
    # Given two questions answered today (goal 20: not met)
    for question in question_ids[2:4]:
        submitted = student["questions"].post(f"{API}/questions/submit", {
            "question_id": question, "selected_option": "A", "confidence_rating": 3, "time_taken_seconds": 5})
        assert submitted.status == 200
    # When the goal is lowered to 2 by 20 requests at once
    answers = _at_once(lambda: student["progress"].put(f"{API}/progress/daily-goal", {"target_questions": 2}))
    # Then the bonus is paid once, and every answer shows the same day
    assert {a.status for a in answers} == {200}, [a for a in answers if a.status != 200]
    assert {json.dumps(a.data, sort_keys=True) for a in answers} == {json.dumps(answers[0].data, sort_keys=True)}
    assert (answers[0].data["goal_met"], answers[0].data["xp"]) == (True, 70)
    assert _progress(student)["xp_total"] == 70


def test_parallel_mock_tests_with_one_test_id_record_once(student: dict[str, Any]) -> None:
    # Given one mock test sent 20 times at once with the same test_id
    today = calendar.local_date(datetime.now(UTC), "Asia/Kolkata")
    body = {"test_id": f"mock-{uuid.uuid4().hex[:8]}", "test_name": "Full mock", "exam_type": "GATE",
            "taken_on": (today - timedelta(days=1)).isoformat(), "total_questions": 65, "correct": 40,
            "wrong": 10, "time_taken_minutes": 180, "max_score": 100, "score": 58,
            "chapters": [{"subject": SUBJECT, "chapter": TOPIC, "correct": 4, "total": 6}]}
    answers = _at_once(lambda: student["analytics"].post(f"{API}/analytics/tests", body))
    later = student["analytics"].post(f"{API}/analytics/tests", body)
    # Then one copy recorded it (201) and every other one, like the later retry, found it (200)
    assert sorted(a.status for a in answers) == [200] * (COPIES - 1) + [201], [
        a for a in answers if a.status not in (200, 201)]
    assert later.status == 200
    assert {json.dumps(a.data, sort_keys=True) for a in answers} == {json.dumps(later.data, sort_keys=True)}
    listed = student["analytics"].get(f"{API}/analytics/tests").data["items"]
    assert [t["test_id"] for t in listed] == [body["test_id"]]
