"""The real banks of ../shared/datasets through the CLI importer, the store and the questions
function (issue 17, point 4): every record imported or reported with its reason, never half; a
re-import changes nothing; a student practises and answers the imported questions.

Counts are the files' own (see the README's "Real question banks"); the conversion rules are
tests/unit/test_exam_banks.py's.
"""

from __future__ import annotations

import collections
import contextlib
import io
import json
from pathlib import Path
from typing import Any

import pytest
from support import HandlerClient, practice_item, register

from infra import cli
from mindly.domain import content_formats, jee_bank
from mindly.domain.content import content_id
from mindly.store import content as content_store

API = "/api/v1"
DATASETS = Path(__file__).resolve().parents[3] / "shared" / "datasets"
UPSC = DATASETS / "upsc-pyq" / "upsc_prelims.csv"
JEEBENCH = DATASETS / "jeebench" / "dataset.json"


def _cli(*args: str) -> dict[str, Any]:
    out, err = io.StringIO(), io.StringIO()
    with contextlib.redirect_stdout(out), contextlib.redirect_stderr(err):
        assert cli.main(["--env", *args]) == 0
    return dict(json.loads(out.getvalue()))


@pytest.fixture(scope="module")
def imported() -> dict[str, tuple[dict[str, Any], dict[str, Any]]]:
    """Each file imported twice: (first report, second report)."""
    return {name: (_cli("import", "questions", str(path), "--format", name),
                   _cli("import", "questions", str(path), "--format", name))
            for name, path in (("upsc", UPSC), ("jeebench", JEEBENCH))}


def _student(auth_fn: Any, profile_fn: Any, questions_fn: Any, exam: str) -> HandlerClient:
    token = register(auth_fn, name="Rohan Das").data["access_token"]
    profile = {"exam_type": exam, "level": "advanced", "study_hours_per_day": 6, "target_date": "2035-05-01",
               "weak_subjects": []}
    assert HandlerClient(profile_fn, token=token).put(f"{API}/profile", profile).status == 200
    return HandlerClient(questions_fn, token=token)


def test_the_upsc_file_imports_every_usable_row_and_reports_each_other_one(
        imported: dict[str, tuple[dict[str, Any], dict[str, Any]]]) -> None:
    first, again = imported["upsc"]
    # Then every row is accounted for, and the rejected ones by reason
    assert first["records"] == 2031
    assert (first["imported"] + first["skipped"], len(first["errors"])) == (1924, 107)
    reasons = collections.Counter(_reason(error["error"]) for error in first["errors"])
    assert reasons == {"figure": 81, "repeat": 15, "year": 4, "empty option": 1, "same text": 6}, reasons
    # And a second import changes nothing
    assert (again["imported"], again["updated"], again["skipped"]) == (0, 0, 1924)


def _reason(message: str) -> str:
    for needle, reason in (("figure", "figure"), ("year", "year"), ("same text", "same text"),
                           ("lists it twice", "repeat"), ("empty", "empty option")):
        if needle in message:
            return reason
    return message


def test_the_jeebench_file_imports_whole(imported: dict[str, tuple[dict[str, Any], dict[str, Any]]]) -> None:
    first, again = imported["jeebench"]
    assert (first["records"], first["imported"] + first["skipped"], first["errors"]) == (376, 376, [])
    assert (again["imported"], again["updated"], again["skipped"]) == (0, 0, 376)


def test_a_csat_passage_is_stored_once_for_its_questions(
        imported: dict[str, tuple[dict[str, Any], dict[str, Any]]], auth_fn: Any, profile_fn: Any,
        questions_fn: Any) -> None:
    # Given the CSAT questions of the first passage of the file
    records = [r.data for r in content_formats.read_records(UPSC.read_text(encoding="utf-8"), "upsc", "question")
               if r.data is not None and r.data.get("passage")]
    shared = collections.Counter(r["passage"]["passage_id"] for r in records)
    passage_key, _count = shared.most_common(1)[0]
    siblings = [r for r in records if r["passage"]["passage_id"] == passage_key]
    passage = siblings[0]["passage"]
    assert len(siblings) >= 2 and all(r["passage"] == passage for r in siblings)
    # When a UPSC student practises Reading Comprehension
    student = _student(auth_fn, profile_fn, questions_fn, "UPSC")
    items = [practice_item(student, {"subject": r["subject"], "topic": r["topic"]},
                   content_id("question", r["source"], r["external_id"])) for r in siblings]
    # Then each carries the one stored passage, its text as in the file
    stored_id = content_id("passage", siblings[0]["source"], passage["passage_id"])
    assert {item["passage"]["passage_id"] for item in items} == {stored_id}
    assert {item["passage"]["text"] for item in items} == {passage["text"]}
    assert all(item["type"] == "single" and item["paper"].startswith("UPSC Prelims") for item in items)


def test_a_jee_multiple_correct_question_is_answered_by_its_whole_set(
        imported: dict[str, tuple[dict[str, Any], dict[str, Any]]], auth_fn: Any, profile_fn: Any,
        questions_fn: Any) -> None:
    # Given the first multi-correct problem of JEEBench
    problem = next(p for p in json.loads(JEEBENCH.read_text(encoding="utf-8")) if p["type"] == "MCQ(multiple)")
    record = jee_bank.jee_record(problem)
    question_id = content_id("question", record["source"], record["external_id"])
    student = _student(auth_fn, profile_fn, questions_fn, "JEE")
    # When the JEE student finds it in practice
    item = practice_item(student, {"subject": record["subject"], "topic": record["topic"]}, question_id)
    # Then it is a LaTeX multiple question with the parsed options, and no key
    assert (item["type"], item["format"], item["paper"]) == ("multiple", "latex", problem["description"])
    assert item["options"] == record["options"] and "correct_options" not in item
    # And the whole gold set is right, a part of it wrong
    gold = sorted(problem["gold"])
    right = student.post(f"{API}/questions/submit", {"question_id": question_id, "selected_options": gold,
                                                     "confidence_rating": 4, "time_taken_seconds": 200})
    part = student.post(f"{API}/questions/submit", {"question_id": question_id, "selected_options": gold[:1],
                                                    "confidence_rating": 4, "time_taken_seconds": 100})
    assert right.data["is_correct"] is True and right.data["correct_options"] == gold, right
    assert part.data["is_correct"] is (len(gold) == 1)


def test_a_jee_numeric_question_is_graded_to_its_tolerance(
        imported: dict[str, tuple[dict[str, Any], dict[str, Any]]], auth_fn: Any, profile_fn: Any,
        questions_fn: Any) -> None:
    problem = next(p for p in json.loads(JEEBENCH.read_text(encoding="utf-8")) if p["type"] == "Numeric")
    record = jee_bank.jee_record(problem)
    question_id = content_id("question", record["source"], record["external_id"])
    stored = content_store.get_question(question_id)
    assert stored is not None and stored.question_type == "numeric" and stored.options is None
    student = _student(auth_fn, profile_fn, questions_fn, "JEE")
    gold = float(problem["gold"])
    for given, right in ((gold, True), (round(gold + 0.01, 6), True), (round(gold + 0.02, 6), False)):
        answer = student.post(f"{API}/questions/submit", {"question_id": question_id, "numeric_answer": given,
                                                          "confidence_rating": 3, "time_taken_seconds": 90})
        assert answer.status == 200, answer
        assert answer.data["is_correct"] is right, (given, answer.data)
