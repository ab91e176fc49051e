"""GET /account/export (issue 20, point 2): everything a student stored, through every route that
stores something, and nothing of another student's."""

from __future__ import annotations

import json
import uuid
from datetime import UTC, datetime
from typing import Any

import pytest
from account_support import API, Student, seed_content

from mindly.services import account
from mindly.store.progress import BadgeItem, student_key


@pytest.fixture(scope="module")
def content_ids(local_aws: Any) -> tuple[list[str], list[str]]:
    return seed_content()


@pytest.fixture
def fns(auth_fn: Any, profile_fn: Any, questions_fn: Any, flashcards_fn: Any, progress_fn: Any,
        analytics_fn: Any, roadmaps_fn: Any, mock_tests_fn: Any, notifications_fn: Any) -> dict[str, Any]:
    return {"auth": auth_fn, "profile": profile_fn, "questions": questions_fn, "flashcards": flashcards_fn,
            "progress": progress_fn, "analytics": analytics_fn, "roadmaps": roadmaps_fn,
            "mock_tests": mock_tests_fn, "notifications": notifications_fn}


def _kinds(items: list[dict[str, Any]]) -> set[str]:
    return {item["kind"] for item in items}


def test_the_export_holds_everything_the_student_stored_and_nothing_of_anyone_else(
        fns: dict[str, Any], content_ids: tuple[list[str], list[str]], queue_url: str) -> None:
    # Given a student who stored something through every route that stores (mock tests sat here and
    # notification settings, devices and inbox too), and a classmate who did the same (same
    # questions, same cards: their reports and reviews sit beside hers)
    question_ids, card_ids = content_ids
    months = 1 + uuid.uuid4().int % 30
    student = Student(fns).study(question_ids, card_ids, months)
    classmate = Student(fns, name="Ravi Kumar").study(question_ids, card_ids, 1 + (months % 30))
    # (a badge takes a week of study: written as the activity path writes it, for both)
    for someone in (student, classmate):
        BadgeItem(student_key(someone.user_id), "BADGE#streak-7", badge_id="streak-7",
                  earned_at=datetime.now(tz=UTC)).save()
    # When she exports her data
    answer = student.to("auth").get(f"{API}/account/export")
    # Then it is all there, section by section
    assert answer.status == 200, answer
    data = answer.data
    assert data["user"]["email"] == student.email and data["user"]["name"] == "Meera Iyer"
    assert data["profile"]["exam_type"] == "GATE" and data["profile"]["weak_subjects"]
    assert {"progress", "day", "week", "activity", "subject_stats", "topic_stats", "answered_question"} <= \
        _kinds(data["progress"])
    progress = next(item for item in data["progress"] if item["kind"] == "progress")
    assert progress["xp_total"] == student.stored["progress"]["xp_total"] and progress["current_streak"] == 1
    attempts = {item["attempt_id"]: item for item in data["attempts"]}
    practised = {a["attempt_id"] for a in student.stored["attempts"]}
    finished, still_open = student.stored["finished_test"], student.stored["open_test"]
    from_mock = f"mock-{finished['mock_test_id']}-{finished['number']:03d}"  # the submitted test's answer
    assert set(attempts) == practised | {from_mock}
    assert sorted(attempts[a]["is_correct"] for a in practised) == [False, True]
    cards = {item["flashcard_id"]: item for item in data["cards"]}
    assert card_ids[0] in cards and card_ids[1] not in cards  # the second review was undone
    assert any(item["origin"] == "mistake" for item in cards.values())  # the wrong answer's card
    reviews = {item["flashcard_id"]: item for item in data["reviews"]}
    assert set(reviews) == set(card_ids[:2]) and reviews[card_ids[1]]["undone_at"]  # the log keeps the undo
    assert {"mock_test", "mock_guard", "mock_counter"} <= _kinds(data["mock_tests"])
    assert f"Mock of {student.user_id}" in {i.get("test_name") for i in data["mock_tests"] if i["kind"] == "mock_test"}
    # (the mock tests sat here: both papers, their saved answers, the finish's chunk guards and list lines)
    papers = {i["mock_test_id"]: i for i in data["mock_tests"] if i["kind"] == "mock_paper"}
    assert set(papers) == {finished["mock_test_id"], still_open["mock_test_id"]}
    assert papers[finished["mock_test_id"]]["status"] == "finished" and papers[finished["mock_test_id"]]["result"]
    assert papers[still_open["mock_test_id"]]["status"] == "in_progress"
    saved = {(i["mock_test_id"], i["number"]): i for i in data["mock_tests"] if i["kind"] == "mock_answer"}
    assert set(saved) == {(test["mock_test_id"], test["number"]) for test in (finished, still_open)}
    assert {i["selected_option"] for i in saved.values()} == {"A"}
    assert {i["mock_test_id"] for i in data["mock_tests"] if i["kind"] == "mock_chunk"} == {finished["mock_test_id"]}
    assert {i["mock_test_id"] for i in data["mock_tests"] if i["kind"] == "mock_entry"} == set(papers)
    job = next(i for i in data["roadmaps"] if i["kind"] == "roadmap_job")
    assert job["job_id"] == student.stored["roadmap"]["job_id"] and job["request"]["months"] == months
    assert {item["badge_id"] for item in data["badges"]} == {"streak-7"}
    [report] = data["reports"]
    assert report["report_id"] == student.stored["report"]["report_id"] and report["comment"].endswith(student.user_id)
    assert data["sessions"] and _kinds(data["security"]) <= {"login_guard", "link_token"}
    # (the notification preferences with both devices, and the inbox entry with its read mark)
    [settings] = [i for i in data["notifications"] if i["kind"] == "notification_settings"]
    assert (settings["reminder_time"], settings["email"], settings["push"]) == ("20:30", False, True)
    assert {device_id: device["platform"] for device_id, device in settings["devices"].items()} == {
        device["device_id"]: device["platform"] for device in student.stored["devices"]}
    [note] = [i for i in data["notifications"] if i["kind"] == "inbox"]
    assert note["notification_id"] == student.stored["notification_id"] and note["read_at"]
    assert data["other"] == []  # every kind stored has its section
    # And nothing secret and nothing of the classmate's: no password hash, no token id, no id of hers
    text = json.dumps({name: value for name, value in data.items() if name != "withheld"})
    assert "password_hash" not in text and "$2b$" not in text and "current_jti" not in text
    assert not [token for token in student.stored["device_tokens"].values() if token in text]  # only its digest
    assert classmate.user_id not in text and classmate.email not in text and "Ravi Kumar" not in text
    assert {entry["attribute"] for entry in data["withheld"]} >= {"password_hash", "current_jti"}


def test_an_export_too_large_for_one_response_is_a_clear_413(fns: dict[str, Any],
                                                               monkeypatch: pytest.MonkeyPatch) -> None:
    # Given a student, and an export limit below what their data takes
    student = Student(fns)
    monkeypatch.setattr(account, "MAX_EXPORT_BYTES", 200)
    # When they export
    answer = student.to("auth").get(f"{API}/account/export")
    # Then the answer is a 413 in the envelope saying why, not a response Lambda would fail
    assert answer.status == 413, answer
    assert answer.json["errors"][0]["code"] == "EXPORT_TOO_LARGE"


def test_an_unclassified_kind_is_exported_under_other(fns: dict[str, Any], monkeypatch: pytest.MonkeyPatch) -> None:
    # Given a student with an item of a kind nobody classified yet (a feature added later)
    from mindly.store.models import StudyTable, connection_of

    student = Student(fns)
    connection_of(StudyTable).dispatch("PutItem", {"TableName": StudyTable.Meta.table_name, "Item": {
        "pk": {"S": f"USER#{student.user_id}"}, "sk": {"S": "FUTURE#1"}, "kind": {"S": "future_kind"},
        "note": {"S": "kept"}}})
    # When they export
    data = student.to("auth").get(f"{API}/account/export").data
    # Then the item is there, under other, with its table
    assert data["other"] == [{"sk": "FUTURE#1", "kind": "future_kind", "note": "kept", "table": "StudyTable"}]
