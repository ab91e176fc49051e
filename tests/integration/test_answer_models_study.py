"""The answer models of the study functions (questions, flashcards, roadmaps, analytics) against
what their real handlers send: every route's ``data`` must validate, strictly (an int where the model
says float passes, a float where it says int does not), with the model its OpenAPI document names,
in the branches that change its shape (right and wrong answers, a repeated review, a new card's
undo, a queued, done and failed roadmap, tests and no tests on the dashboard).

The content lives in CAT Quantitative Aptitude under a source of this module's own."""

from __future__ import annotations

import re
import uuid
from datetime import UTC, date, datetime, timedelta
from typing import Any

import pytest
from pydantic import BaseModel
from support import HandlerClient, deliver_to_worker, register

from mindly.domain.content import content_id
from mindly.http.schemas import answer_model
from mindly.services import content

API = "/api/v1"
SOURCE = f"answer-models-{uuid.uuid4().hex[:8]}"
EXAM, SUBJECT, TOPIC = "CAT", "Quantitative Aptitude", "Arithmetic"
QUESTIONS = 12  # the correct option of each is "A"
ANSWERS = 20  # enough for a calibration score
CARDS = 3


def valid(module: Any, name: str, answer: Any, *statuses: int) -> Any:
    """``answer``'s data, validated with the model ``name`` of the function ``module``."""
    assert answer.status in (statuses or (200,)), answer
    model: type[BaseModel] = getattr(module, name)
    model.model_rebuild()
    model.model_validate(answer.data, strict=True)
    return answer.data


@pytest.fixture(scope="module")
def question_ids(local_aws: Any) -> list[str]:
    records = [{"source": SOURCE, "external_id": f"q{n}", "exam_type": EXAM, "subject": SUBJECT, "topic": TOPIC,
                "difficulty": "medium", "stem": f"Arithmetic question {n}?",
                "options": {"A": f"right {n}", "B": f"wrong {n}", "C": f"other {n}", "D": f"last {n}"},
                "correct_option": "A", "explanation": "Because."} for n in range(QUESTIONS)]
    report = content.import_objects("question", records)
    assert not report["errors"], report
    cards = [{"source": SOURCE, "external_id": f"c{n}", "exam_type": EXAM, "subject": SUBJECT, "topic": TOPIC,
              "question": f"Card {n}?", "answer": f"Answer {n}", "difficulty": 1 + n} for n in range(CARDS)]
    report = content.import_objects("flashcard", cards)
    assert not report["errors"], report
    return [content_id("question", SOURCE, f"q{n}") for n in range(QUESTIONS)]


@pytest.mark.parametrize("folder", ["questions", "flashcards", "roadmaps", "analytics"])
def test_every_route_declares_its_answer_model_and_a_readable_operation_id(folder: str,
                                                                          request: pytest.FixtureRequest) -> None:
    from fastapi.routing import APIRoute

    app = request.getfixturevalue(f"{folder}_fn").app
    routes = [route for route in app.routes if isinstance(route, APIRoute)]
    assert routes
    for route in routes:
        assert answer_model(route.endpoint) is not None, route.path
        assert re.fullmatch(r"[a-z]+(?:[A-Z][a-z]+)+", route.operation_id or ""), route.path
    ids = [op["operationId"] for ops in app.openapi()["paths"].values() for op in ops.values()]
    assert len(ids) == len(set(ids)) == len(routes)


def _student(auth_fn: Any, profile_fn: Any, **profile: Any) -> tuple[str, str]:
    """A registered student with a CAT profile: (token, user id)."""
    answer = register(auth_fn, name="Kavya Rao")
    assert answer.status == 201, answer
    token = answer.data["access_token"]
    body = {"exam_type": EXAM, "level": "intermediate", "study_hours_per_day": 3, "target_date": "2035-06-01",
            "weak_subjects": [], "timezone": "Asia/Kolkata", **profile}
    assert HandlerClient(profile_fn, token=token).put(f"{API}/profile", body).status == 200
    return token, answer.data["user"]["id"]


def _submit(client: HandlerClient, question_id: str, option: str, confidence: int) -> Any:
    return client.post(f"{API}/questions/submit", {"question_id": question_id, "selected_option": option,
                                                    "confidence_rating": confidence, "time_taken_seconds": 30})


def test_questions_answers_match_their_models(auth_fn: Any, profile_fn: Any, questions_fn: Any,
                                              question_ids: list[str]) -> None:
    # Given a student practising CAT arithmetic
    token, _ = _student(auth_fn, profile_fn)
    student = HandlerClient(questions_fn, token=token)
    # When they list practice questions, answer one right and one wrong, and list their attempts
    practice = valid(questions_fn, "PracticePage", student.get(
        f"{API}/questions/practice", query={"subject": SUBJECT, "topic": TOPIC, "limit": "2"}))
    right = valid(questions_fn, "SubmitAnswer", _submit(student, question_ids[0], "A", 4))
    wrong = valid(questions_fn, "SubmitAnswer", _submit(student, question_ids[1], "B", 5))
    again = valid(questions_fn, "SubmitAnswer", _submit(student, question_ids[1], "A", 3))
    attempts = valid(questions_fn, "AttemptsPage", student.get(f"{API}/questions/attempts"))
    last = valid(questions_fn, "AttemptsPage", student.get(f"{API}/questions/attempts",
                                                           query={"page": "2", "limit": "100"}))
    # Then every answer fits its model, in the branches that differ
    assert practice["items"] and practice["next_cursor"] is not None
    assert right["is_correct"] and right["ai_explanation"] is None
    assert not wrong["is_correct"] and wrong["ai_explanation_status"] != "not_needed"
    assert again["xp_withheld"] == "answered_before"
    assert len(attempts["items"]) == 3 and last["items"] == [] and last["next_cursor"] is None


def test_flashcards_answers_match_their_models(auth_fn: Any, profile_fn: Any, questions_fn: Any,
                                               flashcards_fn: Any, question_ids: list[str]) -> None:
    # Given a student holding a mistake card (a wrong answer), with new cards a day allowed
    token, _ = _student(auth_fn, profile_fn, new_cards_per_day=2)
    assert _submit(HandlerClient(questions_fn, token=token), question_ids[2], "C", 2).status == 200
    student = HandlerClient(flashcards_fn, token=token)
    # When they read the due cards, the catalog, review a deck card (twice) and undo it (twice)
    due = valid(flashcards_fn, "DueCards", student.get(f"{API}/flashcards/due"))
    by_subject = valid(flashcards_fn, "DueCardsBySubject", student.get(f"{API}/flashcards/due/by-subject"))
    catalog = valid(flashcards_fn, "FlashcardCatalogPage", student.get(
        f"{API}/flashcards", query={"subject": SUBJECT, "topic": TOPIC, "limit": "1"}))
    card = catalog["items"][0]["flashcard_id"]
    body = {"flashcard_id": card, "rating": 4, "review_id": uuid.uuid4().hex, "time_taken_seconds": 12}
    review = valid(flashcards_fn, "CardReview", student.post(f"{API}/flashcards/review", body))
    repeat = valid(flashcards_fn, "CardReview", student.post(f"{API}/flashcards/review", body))
    undo = {"review_id": body["review_id"]}
    undone = valid(flashcards_fn, "UndoneReview", student.post(f"{API}/flashcards/review/undo", undo))
    undone_again = valid(flashcards_fn, "UndoneReview", student.post(f"{API}/flashcards/review/undo", undo))
    # Then every answer fits its model
    assert due["total_due"] == 1 and due["new_cards"] >= 1 and due["by_subject"] == {SUBJECT: 1}
    assert list(by_subject["subjects"]) == [SUBJECT]
    assert review["xp_withheld"] is None and repeat["xp_withheld"] == "duplicate"
    assert undone["next_review_date"] is None and undone["xp_awarded"] < 0
    assert undone_again["already_undone"] and undone_again["xp_awarded"] == 0


def test_roadmaps_answers_match_their_models(auth_fn: Any, profile_fn: Any, roadmaps_fn: Any, sqs: Any,
                                             queue_url: str, roadmap_worker_fn: Any) -> None:
    from mindly.store import roadmaps as roadmap_store

    # Given a student whose profile no other test shares (so no roadmap of theirs is cached)
    token, user_id = _student(auth_fn, profile_fn, weak_subjects=[SUBJECT],
                              study_hours_per_day=1 + uuid.uuid4().int % 10)
    student = HandlerClient(roadmaps_fn, token=token)
    months = 1 + uuid.uuid4().int % 6
    # When they request a roadmap, poll it, have it generated, read it and request it again
    queued = valid(roadmaps_fn, "RoadmapRequested", student.post(f"{API}/roadmaps", {"months_available": months}),
                   202)
    waiting = valid(roadmaps_fn, "RoadmapJob", student.get(f"{API}/roadmaps/jobs/{queued['job_id']}"))
    assert deliver_to_worker(sqs, queue_url, roadmap_worker_fn)["received"] == 1
    done = valid(roadmaps_fn, "RoadmapJob", student.get(f"{API}/roadmaps/jobs/{queued['job_id']}"))
    latest = valid(roadmaps_fn, "LatestRoadmap", student.get(f"{API}/roadmaps/latest"))
    ready = valid(roadmaps_fn, "RoadmapRequested", student.post(f"{API}/roadmaps", {"months_available": months}))
    # And another request whose job fails
    other = student.post(f"{API}/roadmaps", {"months_available": months + 1}).data
    roadmap_store.fail(user_id, other["job_id"], "could not be generated", datetime.now(UTC))
    failed = valid(roadmaps_fn, "RoadmapJob", student.get(f"{API}/roadmaps/jobs/{other['job_id']}"))
    # Then every answer fits its model
    assert "poll_url" in queued and waiting == {"job_id": queued["job_id"], "status": "queued"}
    assert done["status"] == "done" and "error" not in done and latest["roadmap"] == done["roadmap"]
    assert ready["status"] == "done" and "poll_url" not in ready
    assert failed["status"] == "failed" and "roadmap" not in failed and failed["error"]


def _mock_test(n: int, score: float) -> dict[str, Any]:
    return {"test_id": f"{SOURCE}-{n}-{uuid.uuid4().hex[:6]}", "test_name": f"Mock {n}", "exam_type": EXAM,
            "taken_on": (date.today() - timedelta(days=10 - n)).isoformat(), "total_questions": 66,
            "correct": 30 + n, "wrong": 10, "time_taken_minutes": 120, "max_score": 198, "score": score,
            "chapters": [{"subject": SUBJECT, "chapter": TOPIC, "correct": 4, "total": 10}]}


def test_analytics_answers_match_their_models(auth_fn: Any, profile_fn: Any, questions_fn: Any,
                                              analytics_fn: Any, question_ids: list[str]) -> None:
    # Given a student who answered most questions wrong while sure of them (an overconfident topic),
    # some of them twice
    token, _ = _student(auth_fn, profile_fn)
    answering = HandlerClient(questions_fn, token=token)
    for n in range(ANSWERS):
        question_id = question_ids[n % QUESTIONS]
        right = n % QUESTIONS < 2
        assert _submit(answering, question_id, "A" if right else "B", 4 if right else 5).status == 200
    student = HandlerClient(analytics_fn, token=token)
    # When they read the dashboard with no tests, record three tests (one twice) and read everything
    bare = valid(analytics_fn, "AnalyticsDashboard", student.get(f"{API}/analytics/dashboard"))
    tests = [_mock_test(n, score) for n, score in enumerate((90, 101.5, 120))]
    first = valid(analytics_fn, "MockTest", student.post(f"{API}/analytics/tests", tests[0]), 201)
    retry = valid(analytics_fn, "MockTest", student.post(f"{API}/analytics/tests", tests[0]), 200)
    for test in tests[1:]:
        valid(analytics_fn, "MockTest", student.post(f"{API}/analytics/tests", test), 201)
    listed = valid(analytics_fn, "MockTestsPage", student.get(f"{API}/analytics/tests"))
    dashboard = valid(analytics_fn, "AnalyticsDashboard", student.get(f"{API}/analytics/dashboard"))
    report = valid(analytics_fn, "CalibrationReport", student.get(f"{API}/analytics/calibration"))
    empty_week = valid(analytics_fn, "CalibrationReport", student.get(f"{API}/analytics/calibration",
                                                                      query={"week": "2020-W10"}))
    subjects = valid(analytics_fn, "AccuracyRows", student.get(f"{API}/analytics/subjects"))
    topics = valid(analytics_fn, "AccuracyRows", student.get(f"{API}/analytics/subjects",
                                                             query={"subject": SUBJECT}))
    # Then every answer fits its model, in the branches that differ
    assert bare["predicted_next_score"] is None and bare["consistency"] is None
    assert first == retry and isinstance(first["max_score"], int) and any(
        isinstance(t["score"], float) for t in listed["items"])
    assert dashboard["predicted_next_score"] is not None and dashboard["consistency"] is not None
    assert dashboard["weak_chapters"]
    assert report["attempts"] == ANSWERS and report["confident_errors"] and report["overconfident_topics"]
    assert report["calibration_score"] is not None
    assert empty_week["attempts"] == 0 and empty_week["accuracy"] is None
    assert subjects[0]["subject"] == SUBJECT and "topic" not in subjects[0]
    assert topics[0]["topic"] == TOPIC
