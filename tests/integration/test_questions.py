"""Question bank and MCQ practice through the real handlers (API.md "Questions" and "Admin"):
imports (admin API and CLI, the AQuA-RAT file end to end), practice, submit and attempts.

The content of these tests lives in NEET Zoology "Evolution" (written here) and CAT Quantitative
Aptitude (the AQuA import); no other test puts questions there.
"""

from __future__ import annotations

import asyncio
import contextlib
import io
import json
import uuid
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any

import pytest
from support import HandlerClient, register

from infra import cli
from mindly.store import attempts as attempt_store
from mindly.store import users
from mindly.store.progress import student_key

API = "/api/v1"
AQUA = Path(__file__).resolve().parents[3] / "shared" / "datasets" / "aqua" / "dev.json"
SOURCE = f"test-{uuid.uuid4().hex[:8]}"


def evolution_question(n: int, difficulty: str = "easy", **changes: Any) -> dict[str, Any]:
    record = {
        "source": SOURCE, "external_id": f"evo-{n}", "exam_type": "NEET", "subject": "Zoology",
        "topic": "Evolution", "difficulty": difficulty, "stem": f"Evolution question {n}?",
        "options": {"A": f"first {n}", "B": f"second {n}", "C": f"third {n}", "D": f"fourth {n}"},
        "correct_option": "ABCD"[n % 4], "explanation": f"Because of reason {n}.",
    }
    record.update(changes)
    return record


@pytest.fixture(scope="module")
def admin(auth_fn: Any, admin_fn: Any) -> HandlerClient:
    answer = register(auth_fn, name="Content Admin")
    user = users.get_user(answer.data["user"]["id"])
    assert user is not None
    users.set_role(user, "admin")
    login = HandlerClient(auth_fn).post(f"{API}/auth/login", {"email": user.email, "password": "Correct-horse-9"})
    assert login.status == 200, login
    return HandlerClient(admin_fn, token=login.data["access_token"])


@pytest.fixture(scope="module")
def bank(admin: HandlerClient) -> list[dict[str, Any]]:
    """Seven Evolution questions: four easy, three hard."""
    records = [evolution_question(n, "easy" if n < 4 else "hard") for n in range(7)]
    answer = admin.post(f"{API}/admin/questions/import", records)
    assert answer.status == 200, answer
    assert answer.data["imported"] + answer.data["skipped"] == 7
    return records


@pytest.fixture
def student(auth_fn: Any, questions_fn: Any, profile_fn: Any) -> HandlerClient:
    answer = register(auth_fn, name="Kiran Rao")
    token = answer.data["access_token"]
    profile = {"exam_type": "NEET", "level": "beginner", "study_hours_per_day": 3, "target_date": "2035-05-01",
               "weak_subjects": ["Zoology"]}
    assert HandlerClient(profile_fn, token=token).put(f"{API}/profile", profile).status == 200
    return HandlerClient(questions_fn, token=token)


# --- admin imports ---------------------------------------------------------------------------------

def test_admin_import_is_idempotent_and_reports_each_bad_record(admin: HandlerClient) -> None:
    # Given a batch with good records and three bad ones
    batch = [evolution_question(100), evolution_question(101, correct_option="E"),
             evolution_question(102, options={"A": "x", "B": "X ", "C": "y", "D": "z"}), "not an object",
             evolution_question(103)]
    # When it is imported twice
    first = admin.post(f"{API}/admin/questions/import", batch)
    second = admin.post(f"{API}/admin/questions/import", batch)
    # Then the good ones are imported once, and every bad one is reported at its index
    assert first.status == 200, first
    assert (first.data["imported"], first.data["skipped"]) == (2, 0)
    assert [(e["index"], e["external_id"]) for e in first.data["errors"]] == [(1, "evo-101"), (2, "evo-102"),
                                                                             (3, None)]
    assert "not one of the options" in first.data["errors"][0]["error"]
    assert (second.data["imported"], second.data["skipped"], len(second.data["errors"])) == (0, 2, 3)


def test_admin_flashcard_import(admin: HandlerClient) -> None:
    cards = [{"source": SOURCE, "external_id": f"fc-{n}", "exam_type": "NEET", "subject": "Zoology",
              "topic": "Evolution", "question": f"Card {n}?", "answer": f"Answer {n}", "difficulty": 1 + n % 5}
             for n in range(3)] + [{"source": SOURCE, "external_id": "fc-bad", "exam_type": "NEET",
                                    "subject": "Zoology", "topic": "Evolution", "question": "q", "answer": "a",
                                    "difficulty": 9}]
    answer = admin.post(f"{API}/admin/flashcards/import", cards)
    assert answer.status == 200, answer
    assert (answer.data["imported"], answer.data["errors"][0]["index"]) == (3, 3)


def test_admin_routes_refuse_students_and_strangers(student: HandlerClient, admin_fn: Any,
                                                    admin: HandlerClient) -> None:
    as_student = HandlerClient(admin_fn, token=student.token)
    assert as_student.post(f"{API}/admin/questions/import", []).status == 403
    assert HandlerClient(admin_fn).post(f"{API}/admin/questions/import", []).status == 401
    # A body that is not a list is refused as a whole
    bad = admin.post(f"{API}/admin/questions/import", {"records": []})
    assert bad.status == 422 and bad.json["success"] is False


def test_a_demoted_admin_loses_access_at_once(auth_fn: Any, admin_fn: Any) -> None:
    answer = register(auth_fn)
    user = users.get_user(answer.data["user"]["id"])
    assert user is not None
    users.set_role(user, "admin")
    token = HandlerClient(auth_fn).post(f"{API}/auth/login", {"email": user.email, "password": "Correct-horse-9"}
                                        ).data["access_token"]
    client = HandlerClient(admin_fn, token=token)
    assert client.post(f"{API}/admin/questions/import", []).status == 200
    users.set_role(user, "student")
    assert client.post(f"{API}/admin/questions/import", []).status == 403


# --- the CLI and the AQuA-RAT file ----------------------------------------------------------------

def _cli(*args: str) -> dict[str, Any]:
    out, err = io.StringIO(), io.StringIO()
    with contextlib.redirect_stdout(out), contextlib.redirect_stderr(err):
        assert cli.main(["--env", *args]) == 0
    return dict(json.loads(out.getvalue()))


def test_the_aqua_file_imports_end_to_end_and_can_be_answered(student: HandlerClient) -> None:
    # When the AQuA-RAT dev file is imported with the documented mapping, twice
    first = _cli("import", "questions", str(AQUA), "--format", "aqua")
    again = _cli("import", "questions", str(AQUA), "--format", "aqua")
    # Then every line is accounted for: imported, or reported with its reason; nothing twice
    lines = sum(1 for line in AQUA.read_text().splitlines() if line.strip())
    assert first["records"] == lines == 254
    assert first["imported"] + first["skipped"] + len(first["errors"]) == lines
    assert [(e["index"], e["external_id"]) for e in first["errors"]] == [(92, "line-93")]
    assert "same text" in first["errors"][0]["error"]
    assert (again["imported"], again["skipped"]) == (0, first["imported"] + first["skipped"])
    # And a student can practise one and answer it, getting the rationale as explanation
    line = json.loads(AQUA.read_text().splitlines()[0])
    page = student.get(f"{API}/questions/practice", query={"exam": "CAT", "subject": "Quantitative Aptitude",
                                                            "topic": "Time, Speed and Distance", "limit": "100"})
    assert page.status == 200, page
    found = [q for q in page.data["items"] if q["stem"] == line["question"]]
    assert len(found) == 1 and set(found[0]["options"]) == set("ABCDE")
    answer = student.post(f"{API}/questions/submit", {"question_id": found[0]["question_id"],
                                                      "selected_option": line["correct"], "confidence_rating": 4,
                                                      "time_taken_seconds": 75})
    assert answer.status == 200, answer
    assert answer.data["is_correct"] is True and answer.data["xp_awarded"] == 10
    assert answer.data["explanation"] == line["rationale"]


def test_the_cli_reports_an_unreadable_file(tmp_path: Path) -> None:
    broken = tmp_path / "broken.json"
    broken.write_text("{not json")
    with pytest.raises(SystemExit, match="cannot import"):
        _cli("import", "questions", str(broken))


# --- practice ---------------------------------------------------------------------------------------

def test_practice_never_shows_the_answer_and_filters(student: HandlerClient, bank: list[dict[str, Any]]) -> None:
    page = student.get(f"{API}/questions/practice", query={"subject": "zoology", "topic": "evolution",
                                                            "limit": "100"})
    assert page.status == 200, page
    mine = [q for q in page.data["items"] if q["stem"].startswith("Evolution question")]
    assert len(mine) >= 7
    for item in page.data["items"]:
        # (API.md's December additions: type, format, passage, media, year and paper; still no key)
        assert set(item) == {"question_id", "exam_type", "subject", "topic", "difficulty", "stem", "options",
                             "type", "format", "passage", "media", "year", "paper"}
        assert item["exam_type"] == "NEET" and item["topic"] == "Evolution"
    hard = student.get(f"{API}/questions/practice", query={"exam": "neet", "subject": "Zoology",
                                                            "topic": "Evolution", "difficulty": "hard"})
    assert {q["difficulty"] for q in hard.data["items"]} == {"hard"}
    assert {q["stem"] for q in hard.data["items"]} >= {"Evolution question 4?", "Evolution question 6?"}


def test_cursor_pages_cover_everything_once_and_match_page_numbers(student: HandlerClient,
                                                                    bank: list[dict[str, Any]]) -> None:
    query = {"subject": "Zoology", "topic": "Evolution", "limit": "3"}
    seen: list[str] = []
    cursor = None
    for _ in range(20):
        answer = student.get(f"{API}/questions/practice", query={**query, **({"cursor": cursor} if cursor else {})})
        assert answer.status == 200, answer
        seen += [q["question_id"] for q in answer.data["items"]]
        assert answer.data["has_more"] == (answer.data["next_cursor"] is not None)
        cursor = answer.data["next_cursor"]
        if cursor is None:
            break
    assert len(seen) == len(set(seen)) >= 7
    second = student.get(f"{API}/questions/practice", query={**query, "page": "2"})
    assert [q["question_id"] for q in second.data["items"]] == seen[3:6]
    assert second.data["page"] == 2 and second.data["limit"] == 3


def test_practice_refuses_bad_filters(student: HandlerClient, auth_fn: Any, questions_fn: Any,
                                      bank: list[dict[str, Any]]) -> None:
    cases = [({"exam": "MBA"}, "INVALID_EXAM_TYPE"), ({"subject": "Astrology"}, "VALIDATION_ERROR"),
             ({"topic": "Tides"}, "VALIDATION_ERROR"), ({"difficulty": "brutal"}, "VALIDATION_ERROR"),
             ({"limit": "0"}, "VALIDATION_ERROR"), ({"limit": "101"}, "VALIDATION_ERROR"),
             ({"page": "0"}, "VALIDATION_ERROR"), ({"cursor": "!!!"}, "VALIDATION_ERROR")]
    for query, code in cases:
        answer = student.get(f"{API}/questions/practice", query=query)
        assert answer.status == 422, (query, answer)
        assert answer.json["errors"][0]["code"] == code, (query, answer)
    # A cursor from one filter is refused on another
    cursor = student.get(f"{API}/questions/practice", query={"subject": "Zoology", "topic": "Evolution",
                                                              "limit": "1"}).data["next_cursor"]
    other = student.get(f"{API}/questions/practice", query={"difficulty": "hard", "cursor": cursor})
    assert other.status == 422 and other.json["errors"][0]["field"] == "cursor"
    # A student with no profile must name the exam
    stranger = HandlerClient(questions_fn, token=register(auth_fn).data["access_token"])
    answer = stranger.get(f"{API}/questions/practice")
    assert answer.status == 422 and answer.json["errors"][0]["code"] == "INVALID_EXAM_TYPE"


# --- submit and attempts ------------------------------------------------------------------------------

def _question_id(student: HandlerClient, n: int) -> str:
    page = student.get(f"{API}/questions/practice", query={"subject": "Zoology", "topic": "Evolution",
                                                            "limit": "100"})
    return next(q["question_id"] for q in page.data["items"] if q["stem"] == f"Evolution question {n}?")


def test_submit_right_and_wrong(student: HandlerClient, bank: list[dict[str, Any]]) -> None:
    qid = _question_id(student, 1)  # correct option B
    right = student.post(f"{API}/questions/submit", {"question_id": qid, "selected_option": "b",
                                                     "confidence_rating": 5, "time_taken_seconds": 30})
    assert right.status == 200, right
    assert right.data | {"attempt_id": None} == {
        "attempt_id": None, "is_correct": True, "correct_option": "B", "explanation": "Because of reason 1.",
        "xp_awarded": 10, "xp_withheld": None, "xp_recorded": 10, "ai_explanation": None,
        "ai_explanation_status": "not_needed"}
    wrong = student.post(f"{API}/questions/submit", {"question_id": qid, "selected_option": "D",
                                                     "confidence_rating": 2, "time_taken_seconds": 12})
    assert (wrong.data["is_correct"], wrong.data["xp_awarded"], wrong.data["correct_option"]) == (False, 0, "B")
    assert wrong.data["xp_withheld"] == "answered_before"  # the question's second answer
    # With no Groq key configured (as here), the offline generator explains, and says so
    assert wrong.data["ai_explanation_status"] == "ok"
    assert wrong.data["ai_explanation"]["source"] == "offline"
    text = wrong.data["ai_explanation"]["text"]
    assert "B) second 1" in text and "D) fourth 1" in text and "Because of reason 1." in text


def test_submit_refuses_bad_answers(student: HandlerClient, bank: list[dict[str, Any]]) -> None:
    qid = _question_id(student, 2)
    base = {"question_id": qid, "selected_option": "A", "confidence_rating": 3, "time_taken_seconds": 10}
    assert student.post(f"{API}/questions/submit", {**base, "question_id": "nope"}).status == 404
    option_e = student.post(f"{API}/questions/submit", {**base, "selected_option": "E"})
    assert option_e.status == 422 and option_e.json["errors"][0]["field"] == "selected_option"
    for change in ({"selected_option": "Z"}, {"confidence_rating": 0}, {"confidence_rating": 6},
                   {"time_taken_seconds": -1}, {"time_taken_seconds": 3601}, {"confidence_rating": "3"},
                   {"attempt_id": ""}, {"extra": True}):
        answer = student.post(f"{API}/questions/submit", {**base, **change})
        assert answer.status == 422, (change, answer)
    assert student.get(f"{API}/questions/attempts").data["items"] == []


def test_the_same_attempt_records_once_even_when_retried_concurrently(student: HandlerClient,
                                                                      bank: list[dict[str, Any]]) -> None:
    qid = _question_id(student, 3)  # correct option D
    body = {"question_id": qid, "selected_option": "D", "confidence_rating": 4, "time_taken_seconds": 20,
            "attempt_id": str(uuid.uuid4())}
    # (Mangum runs the app on the calling thread's event loop: each worker thread gets its own)
    with ThreadPoolExecutor(max_workers=10,
                            initializer=lambda: asyncio.set_event_loop(asyncio.new_event_loop())) as pool:
        answers = list(pool.map(lambda _i: student.post(f"{API}/questions/submit", body), range(10)))
    assert {a.status for a in answers} == {200}
    # one copy recorded it (+10); the others are duplicates and say 0, so the sum is the truth
    assert sorted(a.data["xp_awarded"] for a in answers) == [0] * 9 + [10]
    assert sorted(str(a.data["xp_withheld"]) for a in answers) == ["None"] + ["duplicate"] * 9
    listed = student.get(f"{API}/questions/attempts").data["items"]
    assert [a["attempt_id"] for a in listed] == [body["attempt_id"]]
    # And reusing the id for another question is a conflict
    other = student.post(f"{API}/questions/submit", {**body, "question_id": _question_id(student, 0)})
    assert other.status == 409


def test_attempts_are_the_students_own_newest_first(student: HandlerClient, auth_fn: Any, questions_fn: Any,
                                                    bank: list[dict[str, Any]]) -> None:
    ids = []
    for n in range(4):
        answer = student.post(f"{API}/questions/submit", {"question_id": _question_id(student, n),
                                                          "selected_option": "A", "confidence_rating": 1 + n,
                                                          "time_taken_seconds": n})
        ids.append(answer.data["attempt_id"])
    first = student.get(f"{API}/questions/attempts", query={"limit": "3"})
    assert [a["attempt_id"] for a in first.data["items"]] == ids[::-1][:3]
    rest = student.get(f"{API}/questions/attempts", query={"limit": "3", "cursor": first.data["next_cursor"]})
    assert [a["attempt_id"] for a in rest.data["items"]] == ids[:1] and rest.data["has_more"] is False
    item = first.data["items"][0]
    assert (item["confidence_rating"], item["time_taken_seconds"], item["subject"]) == (4, 3, "Zoology")
    # Another student sees none of them, and cannot use this student's cursor
    other = HandlerClient(questions_fn, token=register(auth_fn).data["access_token"])
    assert other.get(f"{API}/questions/attempts").data["items"] == []
    assert other.get(f"{API}/questions/attempts", query={"cursor": first.data["next_cursor"]}).status == 422
    # And each attempt is stored once
    stored = list(attempt_store.AttemptItem.query(student_key(_user_id(student)),
                                                  attempt_store.AttemptItem.sk.startswith("ATTEMPT#")))
    assert len(stored) == 4


def _user_id(client: HandlerClient) -> str:
    from mindly.config import get_settings
    from mindly.services import tokens

    return tokens.decode(get_settings(), str(client.token), "access").user_id
