"""Question types, passages and LaTeX end to end through the real handlers (issue 17, points 1, 2
and the re-import part of 6; API.md "Question types, passages, formatting, media").

The questions here live in JEE Physics "Modern Physics" and "Optics" and UPSC CSAT "Reading
Comprehension", under a source of this module's own; practice pages are filtered to that topic
and only this module's ids are asserted on, so other tests' questions in those topics do not matter.
"""

from __future__ import annotations

import urllib.request
import uuid
from datetime import UTC, datetime
from typing import Any

import jwt
import pytest
from support import HandlerClient, admin_token, practice_item, register

from mindly.domain.content import content_id
from mindly.store import attempts as attempt_store
from mindly.store import content as content_store
from mindly.store.progress import student_key

API = "/api/v1"
SOURCE = f"types-{uuid.uuid4().hex[:8]}"
LATEX_STEM = ("A particle of mass $m$ moves with $\\vec{v}=\\frac{d\\vec{r}}{dt}$ \n\n"
              "\\begin{center}$$E=\\sqrt{p^{2}c^{2}+m^{2}c^{4}}$$\\end{center}  ")
PASSAGE = ("The monsoon is the lifeline of Indian agriculture.\nA weak monsoon lowers rural demand,\n"
           "and a strong one raises it.")


def _id(external_id: str) -> str:
    return content_id("question", SOURCE, external_id)


def multiple(**changes: Any) -> dict[str, Any]:
    record = {"source": SOURCE, "external_id": "multi-1", "exam_type": "JEE", "subject": "Physics",
              "topic": "Modern Physics", "difficulty": "hard", "type": "multiple", "format": "latex",
              "stem": LATEX_STEM, "options": {"A": "$E \\geq mc^2$ ", "B": "$E < mc^{2}$", "C": "$p = 0$ at rest",
                                              "D": "$v > c$"},
              "correct_options": ["C", "A"], "explanation": None, "year": 2019, "paper": "JEE Adv 2019 Paper 1"}
    record.update(changes)
    return record


def numeric(**changes: Any) -> dict[str, Any]:
    record = {"source": SOURCE, "external_id": "num-1", "exam_type": "JEE", "subject": "Physics",
              "topic": "Optics", "difficulty": "medium", "type": "numeric",
              "stem": "A lens has power 2 D. What is its focal length in metres?",
              "answer": {"value": 0.5, "tolerance": 0.01}, "explanation": "f = 1/P = 0.5 m."}
    record.update(changes)
    return record


def csat(n: int) -> dict[str, Any]:
    return {"source": SOURCE, "external_id": f"csat-{n}", "exam_type": "UPSC", "subject": "CSAT",
            "topic": "Reading Comprehension", "difficulty": "medium", "stem": f"Passage question {n}: what follows?",
            "options": {"A": f"Rural demand {n}", "B": f"Urban demand {n}", "C": f"Exports {n}", "D": f"None {n}"},
            "correct_option": "A", "explanation": None, "passage": {"passage_id": "monsoon", "text": PASSAGE}}


@pytest.fixture(scope="module")
def admin(auth_fn: Any, admin_fn: Any) -> HandlerClient:
    return HandlerClient(admin_fn, token=admin_token(auth_fn))


@pytest.fixture(scope="module")
def bank(admin: HandlerClient) -> dict[str, Any]:
    answer = admin.post(f"{API}/admin/questions/import", [multiple(), numeric(), csat(1), csat(2)])
    assert answer.status == 200, answer
    assert answer.data["errors"] == [], answer
    return answer.data


def _student(auth_fn: Any, profile_fn: Any, questions_fn: Any, exam: str) -> HandlerClient:
    token = register(auth_fn, name="Meera Iyer").data["access_token"]
    profile = {"exam_type": exam, "level": "advanced", "study_hours_per_day": 5, "target_date": "2035-05-01",
               "weak_subjects": []}
    assert HandlerClient(profile_fn, token=token).put(f"{API}/profile", profile).status == 200
    return HandlerClient(questions_fn, token=token)


@pytest.fixture
def jee(auth_fn: Any, profile_fn: Any, questions_fn: Any, bank: dict[str, Any]) -> HandlerClient:
    return _student(auth_fn, profile_fn, questions_fn, "JEE")


def _user_id(student: HandlerClient) -> str:
    return str(jwt.decode(str(student.token), options={"verify_signature": False})["sub"])


def _submit(student: HandlerClient, question_id: str, confidence: int = 3, **answer: Any) -> Any:
    return student.post(f"{API}/questions/submit", {"question_id": question_id, "confidence_rating": confidence,
                                                    "time_taken_seconds": 40, **answer})


# --- practice ------------------------------------------------------------------------------------

def test_practice_shows_each_type_with_its_fields_and_never_its_key(jee: HandlerClient) -> None:
    # Given the imported multiple-correct and numeric questions
    # When the JEE student pages through practice
    multi = practice_item(jee, {"subject": "Physics", "topic": "Modern Physics"}, _id("multi-1"))
    number = practice_item(jee, {"subject": "Physics", "topic": "Optics"}, _id("num-1"))
    # Then each carries its type and format, options only when it has them, and no key at all
    assert (multi["type"], multi["format"], multi["year"], multi["paper"]) == (
        "multiple", "latex", 2019, "JEE Adv 2019 Paper 1")
    assert sorted(multi["options"]) == ["A", "B", "C", "D"]
    assert (number["type"], number["format"], number["passage"], number["media"]) == ("numeric", "text", None, [])
    assert "options" not in number
    for item in (multi, number):
        assert not {"correct_option", "correct_options", "answer", "explanation"} & set(item), item


def test_latex_is_kept_exactly_as_written(jee: HandlerClient) -> None:
    # Given a LaTeX stem with backslashes, $$ blocks, line breaks and trailing spaces, and an option
    # ending in a space
    item = practice_item(jee, {"subject": "Physics", "topic": "Modern Physics"}, _id("multi-1"))
    # Then practice returns them byte for byte (no trimming, no escaping)
    assert item["stem"] == LATEX_STEM
    assert item["options"]["A"] == "$E \\geq mc^2$ "


def test_a_passage_is_stored_once_and_returned_with_each_of_its_questions(
        auth_fn: Any, profile_fn: Any, questions_fn: Any, bank: dict[str, Any]) -> None:
    # Given two CSAT questions sharing one passage
    upsc = _student(auth_fn, profile_fn, questions_fn, "UPSC")
    # When practice lists them
    items = [practice_item(upsc, {"subject": "CSAT", "topic": "Reading Comprehension"}, _id(f"csat-{n}"))
             for n in (1, 2)]
    # Then both carry the same passage, text as written, and it is one item in the table
    passage_id = content_id("passage", SOURCE, "monsoon")
    assert [item["passage"] for item in items] == [{"passage_id": passage_id, "text": PASSAGE}] * 2
    stored = content_store.passages([passage_id])
    assert list(stored) == [passage_id] and stored[passage_id].text == PASSAGE
    assert {content_store.get_question(_id(f"csat-{n}")).passage_id for n in (1, 2)} == {passage_id}  # type: ignore[union-attr]


def _external_id_whose_id_starts_with(digit: str, stem: str) -> str:
    """An external id whose question id starts with ``digit`` (ids are hashes: try names in turn)."""
    return next(name for n in range(10_000) if _id(name := f"{stem}-{n}").startswith(digit))


def test_a_passages_questions_come_one_after_another_in_practice(
        admin: HandlerClient, auth_fn: Any, profile_fn: Any, questions_fn: Any) -> None:
    # Given two questions of one passage whose ids sort far apart (0... and f...), and a question
    # without a passage whose id sorts between them (8...)
    records = [{**csat(0), "external_id": _external_id_whose_id_starts_with(digit, name), **changes}
               for digit, name, changes in (
                   ("0", "apart-a", {"passage": {"passage_id": "monsoon-apart", "text": PASSAGE + " (2)"}}),
                   ("f", "apart-b", {"passage": {"passage_id": "monsoon-apart", "text": PASSAGE + " (2)"}}),
                   ("8", "between", {"passage": None}))]
    records = [{k: v for k, v in record.items() if v is not None} for record in records]
    for n, record in enumerate(records):
        record["stem"] = f"Apart question {n}?"
        record["options"] = {letter: f"{text} apart {n}" for letter, text in record["options"].items()}
    imported = admin.post(f"{API}/admin/questions/import", records)
    assert imported.status == 200 and imported.data["errors"] == [], imported
    # When the whole topic is paged through
    upsc = _student(auth_fn, profile_fn, questions_fn, "UPSC")
    listed: list[str] = []
    cursor: str | None = None
    while True:
        query = {"subject": "CSAT", "topic": "Reading Comprehension", "limit": "100"}
        page = upsc.get(f"{API}/questions/practice", query={**query, **({"cursor": cursor} if cursor else {})})
        assert page.status == 200, page
        listed += [item["question_id"] for item in page.data["items"]]
        cursor = page.data["next_cursor"]
        if cursor is None:
            break
    # Then the passage's questions stand next to each other, not on either side of the other one
    first, second = sorted(listed.index(_id(record["external_id"])) for record in records[:2])
    assert second == first + 1, (first, second)
    assert _id(records[2]["external_id"]) in listed


# --- submit --------------------------------------------------------------------------------------

@pytest.mark.parametrize(("external_id", "answer", "field"), [
    ("multi-1", {"selected_option": "A"}, "selected_option"),  # another type's field
    ("multi-1", {}, "selected_options"),  # none
    ("multi-1", {"selected_options": ["A"], "numeric_answer": 1}, "numeric_answer"),  # several
    ("multi-1", {"selected_options": ["A", "E"]}, "selected_options"),  # not an option of it
    ("num-1", {"selected_options": ["A"]}, "selected_options"),
    ("num-1", {"selected_option": "B"}, "selected_option"),
    ("csat-1", {"numeric_answer": 3}, "numeric_answer"),
    ("csat-1", {"selected_option": "A", "selected_options": ["A"]}, "selected_options"),
])
def test_an_answer_in_the_wrong_field_for_the_type_is_refused_on_that_field(
        jee: HandlerClient, external_id: str, answer: dict[str, Any], field: str) -> None:
    # When a student answers with a field that is not the question's type's (or several, or none)
    refused = _submit(jee, _id(external_id), **answer)
    # Then it is 422 on that field, and nothing is recorded
    assert refused.status == 422, refused
    assert [error["field"] for error in refused.json["errors"]] == [field], refused.json
    assert attempt_store.attempts_page(_user_id(jee), 10, None)[0] == []


@pytest.mark.parametrize("body", [{"numeric_answer": "NaN"}, {"numeric_answer": "0.5"}, {"numeric_answer": True},
                                  {"selected_options": []}, {"selected_options": ["AB"]}])
def test_malformed_answer_values_are_422_in_the_envelope(jee: HandlerClient, body: dict[str, Any]) -> None:
    refused = _submit(jee, _id("num-1"), **body)
    assert refused.status == 422 and refused.json["success"] is False, refused


def test_a_multiple_correct_answer_is_right_only_as_the_whole_set(jee: HandlerClient) -> None:
    # When the set is given in another order with a repeat, then a part of it
    whole = _submit(jee, _id("multi-1"), selected_options=["c", "A", "C"])
    part = _submit(jee, _id("multi-1"), selected_options=["A"])
    # Then order and repeats do not matter, a part is wrong, and the answer shows the whole set
    assert whole.status == 200 and whole.data["is_correct"] is True, whole
    assert part.status == 200 and part.data["is_correct"] is False, part
    assert whole.data["correct_options"] == ["A", "C"] and "correct_option" not in whole.data
    [newest, oldest] = jee.get(f"{API}/questions/attempts").data["items"]
    assert (oldest["type"], oldest["selected_options"], oldest["correct_options"]) == ("multiple", ["A", "C"],
                                                                                      ["A", "C"])
    assert newest["selected_options"] == ["A"] and newest["is_correct"] is False


@pytest.mark.parametrize(("given", "right"), [(0.5, True), (0.51, True), (0.49, True), (0.511, False),
                                              (0.489, False), (1, False), (-0.5, False)])
def test_a_numeric_answer_is_right_within_the_tolerance_in_exact_decimals(
        jee: HandlerClient, given: float, right: bool) -> None:
    # Given value 0.5, tolerance 0.01 (0.51 - 0.5 is 0.010000000000000009 in binary floating point)
    answer = _submit(jee, _id("num-1"), numeric_answer=given)
    # Then the edge is inside, just past it is outside, and the answer shows the key as imported
    assert answer.status == 200, answer
    assert answer.data["is_correct"] is right
    assert answer.data["answer"] == {"value": 0.5, "tolerance": 0.01}


def test_a_wrong_numeric_answer_becomes_a_mistake_card_showing_the_key(jee: HandlerClient,
                                                                       flashcards_fn: Any) -> None:
    # When the student gets the numeric question wrong
    wrong = _submit(jee, _id("num-1"), numeric_answer=2)
    assert wrong.status == 200 and wrong.data["is_correct"] is False
    # Then the offline explanation names the key, and the mistake card's answer shows it
    assert wrong.data["ai_explanation"]["source"] == "offline"
    assert "0.5" in wrong.data["ai_explanation"]["text"]
    due = HandlerClient(flashcards_fn, token=jee.token).get(f"{API}/flashcards/due", query={"limit": "50"})
    card = next(c for c in due.data["cards"] if c["flashcard_id"].endswith(_id("num-1")))
    assert card["answer"] == "0.5 (± 0.01). f = 1/P = 0.5 m."
    [attempt] = jee.get(f"{API}/questions/attempts").data["items"]
    assert (attempt["type"], attempt["numeric_answer"], attempt["answer"]) == ("numeric", 2,
                                                                               {"value": 0.5, "tolerance": 0.01})


def test_a_question_without_an_explanation_gets_the_offline_one_and_a_card(jee: HandlerClient,
                                                                          flashcards_fn: Any) -> None:
    # Given a multiple-correct question the bank has no explanation for
    wrong = _submit(jee, _id("multi-1"), selected_options=["A", "B"])
    # Then the submit says explanation null, the offline explanation says what was extra and missed
    assert wrong.status == 200, wrong
    assert wrong.data["explanation"] is None
    text = wrong.data["ai_explanation"]["text"]
    assert "You also marked B" in text and "You left out C" in text
    due = HandlerClient(flashcards_fn, token=jee.token).get(f"{API}/flashcards/due", query={"limit": "50"})
    card = next(c for c in due.data["cards"] if c["flashcard_id"].endswith(_id("multi-1")))
    assert card["answer"] == "A) $E \\geq mc^2$ ; C) $p = 0$ at rest"


def test_calibration_uses_chance_zero_for_numeric_and_one_in_k_otherwise(jee: HandlerClient,
                                                                         analytics_fn: Any) -> None:
    # Given a numeric answer and a four-option answer, both at confidence 3
    assert _submit(jee, _id("num-1"), numeric_answer=0.5).status == 200
    assert _submit(jee, _id("multi-1"), selected_options=["A", "C"]).status == 200
    stored = {a.question_id: a for a in attempt_store.attempts_page(_user_id(jee), 10, None)[0]}
    assert (int(stored[_id("num-1")].option_count), int(stored[_id("multi-1")].option_count)) == (0, 4)
    # Then the week's mean claimed probability is (0.5 + 0.625) / 2: (c-1)/4 and 1/4 + 2 * 3/16
    report = HandlerClient(analytics_fn, token=jee.token).get(f"{API}/analytics/calibration")
    assert report.status == 200, report
    assert report.data["mean_confidence"] == 0.5625


# --- re-import and versions ----------------------------------------------------------------------

def test_a_changed_record_updates_as_a_new_version_and_attempts_keep_theirs(admin: HandlerClient,
                                                                            jee: HandlerClient) -> None:
    # Given a question answered at version 1
    record = numeric(external_id="num-versioned")
    assert admin.post(f"{API}/admin/questions/import", [record]).data["imported"] == 1
    first = _submit(jee, _id("num-versioned"), numeric_answer=0.52)
    assert first.data["is_correct"] is False
    # When it is re-imported unchanged, then with a wider tolerance
    same = admin.post(f"{API}/admin/questions/import", [record]).data
    changed = admin.post(f"{API}/admin/questions/import",
                         [numeric(external_id="num-versioned", answer={"value": 0.5, "tolerance": 0.05})]).data
    # Then the first is skipped, the second updated (version 2), and grading follows the new key
    assert (same["imported"], same["updated"], same["skipped"]) == (0, 0, 1)
    assert (changed["imported"], changed["updated"], changed["skipped"]) == (0, 1, 0)
    assert int(content_store.get_question(_id("num-versioned")).version) == 2  # type: ignore[union-attr]
    again = _submit(jee, _id("num-versioned"), numeric_answer=0.52)
    assert again.data["is_correct"] is True and again.data["answer"] == {"value": 0.5, "tolerance": 0.05}
    # And the earlier attempt keeps the version and the key it was graded against
    [newer, older] = jee.get(f"{API}/questions/attempts").data["items"]
    assert (older["question_version"], older["answer"], older["is_correct"]) == (
        1, {"value": 0.5, "tolerance": 0.01}, False)
    assert (newer["question_version"], newer["answer"]) == (2, {"value": 0.5, "tolerance": 0.05})


def test_single_answer_records_without_the_new_fields_still_read_as_before(jee: HandlerClient) -> None:
    # Given an attempt item written before the question types (no type, no version)
    now = datetime.now(UTC)
    old = attempt_store.AttemptItem(
        student_key(_user_id(jee)), attempt_store.attempt_sort_key(now, "legacy-1"), attempt_id="legacy-1",
        question_id=_id("csat-1"), exam_type="UPSC", subject="CSAT", topic="Reading Comprehension",
        selected_option="B", correct_option="A", is_correct=False, confidence_rating=2, time_taken_seconds=30,
        attempted_at=now)
    old.save()
    # Then the attempts list shows it as a single answer of version 1
    [item] = jee.get(f"{API}/questions/attempts").data["items"]
    assert (item["type"], item["selected_option"], item["correct_option"], item["question_version"]) == (
        "single", "B", "A", 1)


# --- media ---------------------------------------------------------------------------------------

PNG = b"\x89PNG\r\n\x1a\n" + b"\x00" * 64


def _upload(admin: HandlerClient) -> str:
    target = admin.post(f"{API}/admin/media", {"content_type": "image/png", "bytes": len(PNG)})
    assert target.status == 200, target
    request = urllib.request.Request(target.data["upload_url"], data=PNG, method="PUT",
                                     headers={"Content-Type": "image/png"})
    with urllib.request.urlopen(request, timeout=10) as answer:
        assert answer.status == 200
    return str(target.data["media_id"])


def test_a_question_with_an_uploaded_figure_shows_a_signed_url_in_practice(admin: HandlerClient,
                                                                          jee: HandlerClient) -> None:
    # Given a figure uploaded through the signed URL, and a question referring to it
    media_id = _upload(admin)
    record = numeric(external_id="num-figure", media=[{"media_id": media_id, "alt": "A convex lens"}])
    assert admin.post(f"{API}/admin/questions/import", [record]).data["imported"] == 1
    # When the student practises it
    item = practice_item(jee, {"subject": "Physics", "topic": "Optics"}, _id("num-figure"))
    # Then the item carries the figure with a short-lived signed URL that serves the image
    [figure] = item["media"]
    assert (figure["media_id"], figure["alt"]) == (media_id, "A convex lens")
    assert "X-Amz-Signature=" in figure["url"] and "X-Amz-Expires=300" in figure["url"]
    with urllib.request.urlopen(figure["url"], timeout=10) as answer:
        assert answer.read() == PNG


def test_a_question_referring_to_a_missing_figure_is_refused_at_import(admin: HandlerClient) -> None:
    # When a question names a media id nothing was uploaded under
    answer = admin.post(f"{API}/admin/questions/import",
                        [numeric(external_id="num-no-figure", media=[{"media_id": "never-uploaded-01", "alt": "x"}])])
    # Then it is reported and not stored
    assert answer.status == 200, answer
    assert (answer.data["imported"], len(answer.data["errors"])) == (0, 1)
    assert "never-uploaded-01 not uploaded" in answer.data["errors"][0]["error"]
    assert content_store.get_question(_id("num-no-figure")) is None


def test_subject_accuracy_counts_every_type(jee: HandlerClient, analytics_fn: Any) -> None:
    # Given a right numeric answer, a wrong multiple answer and a right single one
    assert _submit(jee, _id("num-1"), numeric_answer=0.5).data["is_correct"] is True
    assert _submit(jee, _id("multi-1"), selected_options=["A"]).data["is_correct"] is False
    # Then subject accuracy counts both in JEE Physics, exactly
    subjects = HandlerClient(analytics_fn, token=jee.token).get(f"{API}/analytics/subjects", query={"exam": "JEE"})
    assert subjects.status == 200, subjects
    [physics] = [row for row in subjects.data if row["subject"] == "Physics"]
    assert (physics["attempts"], physics["correct"], physics["accuracy"]) == (2, 1, 0.5)
