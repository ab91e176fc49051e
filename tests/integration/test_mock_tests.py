"""Mock tests through the real handlers (issue 18): patterns, assembly from the bank, saving answers
under the server's clock, scoring by the pattern, the review, and what a finished test feeds
(analytics, attempts, mistake cards, XP), with the races and faults of point 7.

Time passes by moving a stored paper's clock back (its start, deadline and section windows), as
if the minutes had gone by: the functions read the real clock, and DynamoDB compares it with the
paper's.

The CAT questions are this module's own (a source of its own, enough for several papers); other
tests may add CAT questions too, so expectations read each paper question's key from the bank.
"""

from __future__ import annotations

import uuid
from datetime import UTC, datetime, timedelta
from decimal import Decimal
from typing import Any

import pytest
from support import HandlerClient, admin_token, all_at_once, register

from mindly.store import analytics as analytics_store
from mindly.store import content as content_store
from mindly.store import mock_tests as mock_store
from mindly.store.progress import instant_text

API = "/api/v1"
SOURCE = f"mock-{uuid.uuid4().hex[:8]}"
VARC, DILR, QA = ("Verbal Ability and Reading Comprehension", "Data Interpretation and Logical Reasoning",
                  "Quantitative Aptitude")
TOPICS = {VARC: "Para Summary", DILR: "Puzzles", QA: "Number System"}
# Twice what one CAT paper needs of each (section, type), over the three difficulties.
NEEDS = {(VARC, "single"): 22, (VARC, "numeric"): 2, (DILR, "single"): 12, (DILR, "numeric"): 10,
         (QA, "single"): 14, (QA, "numeric"): 8}


def _records() -> list[dict[str, Any]]:
    records = []
    for (subject, kind), needed in NEEDS.items():
        for n in range(2 * needed):
            external_id = f"{subject[:4]}-{kind}-{n}"
            record: dict[str, Any] = {
                "source": SOURCE, "external_id": external_id, "exam_type": "CAT", "subject": subject,
                "topic": TOPICS[subject], "difficulty": ("easy", "medium", "hard")[n % 3],
                "stem": f"{subject} question {external_id}: what follows?", "explanation": f"Because {n}."}
            if kind == "single":
                record.update(options={"A": "one", "B": "two", "C": "three", "D": "four"},
                              correct_option="ABCD"[n % 4])
            else:
                record.update(type="numeric", answer={"value": n, "tolerance": 0})
            records.append(record)
    return records


@pytest.fixture(scope="module")
def bank(auth_fn: Any, admin_fn: Any) -> None:
    admin = HandlerClient(admin_fn, token=admin_token(auth_fn))
    answer = admin.post(f"{API}/admin/questions/import", _records())
    assert answer.status == 200 and answer.data["errors"] == [], answer


class Student:
    def __init__(self, auth_fn: Any, profile_fn: Any, mock_fn: Any, exam: str = "CAT") -> None:
        registered = register(auth_fn, name="Meera Iyer")
        self.user_id = registered.data["user"]["id"]
        self.token = registered.data["access_token"]
        profile = {"exam_type": exam, "level": "intermediate", "study_hours_per_day": 3, "target_date": "2035-11-24",
                   "weak_subjects": []}
        assert HandlerClient(profile_fn, token=self.token).put(f"{API}/profile", profile).status == 200
        self.mock = HandlerClient(mock_fn, token=self.token)

    def client(self, module: Any) -> HandlerClient:
        return HandlerClient(module, token=self.token)


@pytest.fixture
def student(auth_fn: Any, profile_fn: Any, mock_tests_fn: Any, bank: None) -> Student:
    return Student(auth_fn, profile_fn, mock_tests_fn)


def _start(student: Student, pattern_id: str = "cat", **body: Any) -> dict[str, Any]:
    answer = student.mock.post(f"{API}/mock-tests", {"pattern_id": pattern_id, **body})
    assert answer.status == 201, answer
    return dict(answer.data)


def _pass(student: Student, test_id: str, minutes: float) -> None:
    """As if ``minutes`` went by: the paper's clock moves back by that much."""
    paper = mock_store.read_paper(student.user_id, test_id).paper
    assert paper is not None
    shift = timedelta(minutes=minutes)

    def earlier(text: str) -> str:
        return instant_text(datetime.strptime(text, "%Y-%m-%dT%H:%M:%SZ").replace(tzinfo=UTC) - shift) if text else ""

    paper.started_at = paper.started_at - shift
    paper.deadline = earlier(paper.deadline)
    paper.window_starts = [earlier(t) for t in paper.window_starts]
    paper.window_ends = [earlier(t) for t in paper.window_ends]
    if paper.deadline_pk:
        mock_store.schedule_deadline(paper)
    paper.save()


def _key(question_id: str) -> Any:
    item = content_store.get_question(question_id)
    assert item is not None
    return content_store.question_of(item)


def _right(question_id: str) -> dict[str, Any]:
    question = _key(question_id)
    if question.question_type == "numeric":
        return {"numeric_answer": float(question.answer.value)}
    return {"selected_option": question.correct_option}


def _wrong(question_id: str) -> dict[str, Any]:
    question = _key(question_id)
    if question.question_type == "numeric":
        return {"numeric_answer": float(question.answer.value) + 1000}
    return {"selected_option": next(letter for letter in "ABCD" if letter != question.correct_option)}


def _questions(section: dict[str, Any]) -> list[tuple[int, str, str]]:
    return [(q["number"], q["question"]["question_id"], q["question"]["type"]) for q in section["questions"]]


def _save(student: Student, test_id: str, number: int, body: dict[str, Any]) -> Any:
    return student.mock.put(f"{API}/mock-tests/{test_id}/answers/{number}", {"time_spent_seconds": 30, **body})


# --- patterns and assembly -------------------------------------------------------------------------

def test_patterns_are_public_and_cat_has_three_clocked_sections(mock_tests_fn: Any) -> None:
    # When anyone asks for the patterns, without a token
    answer = HandlerClient(mock_tests_fn).get(f"{API}/mock-tests/patterns")
    # Then the six patterns are listed, CAT with its three 40-minute sections in order
    assert answer.status == 200
    patterns = {p["pattern_id"]: p for p in answer.data}
    assert set(patterns) == {"jee-main-paper-1", "neet-ug", "gate-cs", "cat", "upsc-gs1", "upsc-csat"}
    cat = patterns["cat"]
    assert [(s["name"], s["duration_minutes"]) for s in cat["sections"]] == [("VARC", 40), ("DILR", 40), ("QA", 40)]
    assert cat["max_score"] == 204 and patterns["jee-main-paper-1"]["max_score"] == 300


def test_a_cat_paper_shows_only_the_open_section_and_never_the_key(student: Student) -> None:
    # When a student starts a CAT mock test
    paper = _start(student)
    # Then it is in progress for 120 minutes, with VARC's 24 questions open and DILR, QA still locked
    assert paper["status"] == "in_progress"
    started = datetime.strptime(paper["started_at"], "%Y-%m-%dT%H:%M:%SZ")
    assert datetime.strptime(paper["deadline"], "%Y-%m-%dT%H:%M:%SZ") - started == timedelta(minutes=120)
    varc, dilr, qa = paper["sections"]
    assert [len(varc["questions"]), len(dilr["questions"]), len(qa["questions"])] == [24, 0, 0]
    assert dilr["starts_at"] == varc["ends_at"] and qa["starts_at"] == dilr["ends_at"]
    # And the numbers run 1..24 over VARC's questions, of its subject, 22 single and 2 numeric
    assert [n for n, _, _ in _questions(varc)] == list(range(1, 25))
    assert sorted(kind for _, _, kind in _questions(varc)).count("numeric") == 2
    assert {q["question"]["subject"] for q in varc["questions"]} == {VARC}
    # And no item carries the key or the explanation
    for item in varc["questions"]:
        assert not {"correct_option", "correct_options", "answer", "explanation"} & set(item["question"])
        assert item["answer"] is None


def test_the_same_mock_test_id_gives_the_same_paper_and_another_pattern_is_refused(student: Student) -> None:
    test_id = str(uuid.uuid4())
    first = _start(student, mock_test_id=test_id)
    # When the same id is sent again (a retry), in parallel too
    again = all_at_once(3, lambda _: student.mock.post(f"{API}/mock-tests", {"pattern_id": "cat",
                                                                               "mock_test_id": test_id}))
    # Then each answers the same paper, 200
    assert {a.status for a in again} == {200}
    assert all(_questions(a.data["sections"][0]) == _questions(first["sections"][0]) for a in again)
    # And the same id with another pattern is a conflict on mock_test_id
    other = student.mock.post(f"{API}/mock-tests", {"pattern_id": "upsc-csat", "mock_test_id": test_id})
    assert other.status == 409 and other.json["errors"][0]["field"] == "mock_test_id"


def test_unseen_questions_come_first(student: Student) -> None:
    # Given a first CAT paper, finished
    first = _start(student)
    _pass(student, first["mock_test_id"], 121)
    assert student.mock.post(f"{API}/mock-tests/{first['mock_test_id']}/submit").status == 200
    # When the student starts a second one
    second = _start(student)
    # Then none of its VARC questions repeats the first paper's while unseen ones are left (the bank
    # holds twice a paper of this module's questions)
    seen = {qid for _, qid, _ in _questions(first["sections"][0])}
    assert not seen & {qid for _, qid, _ in _questions(second["sections"][0])}


def test_a_bank_that_cannot_fill_the_pattern_is_422_listing_what_is_missing(auth_fn: Any, profile_fn: Any,
                                                                             mock_tests_fn: Any) -> None:
    student = Student(auth_fn, profile_fn, mock_tests_fn, exam="NEET")
    # When a NEET UG paper (45 single-correct questions in each of four subjects) is asked for
    answer = student.mock.post(f"{API}/mock-tests", {"pattern_id": "neet-ug"})
    # Then it is refused with every short pool listed, and no test is created
    assert answer.status == 422
    errors = answer.json["errors"]
    assert {e["code"] for e in errors} == {"INSUFFICIENT_CONTENT"}
    assert all(e["missing"]["needed"] == 45 and e["missing"]["available"] < 45 for e in errors)
    assert student.mock.get(f"{API}/mock-tests").data["items"] == []


def test_unknown_patterns_and_subjects_are_422(student: Student) -> None:
    assert student.mock.post(f"{API}/mock-tests", {"pattern_id": "cat-2099"}).json["errors"][0]["field"] == \
        "pattern_id"
    answer = student.mock.post(f"{API}/mock-tests", {"pattern_id": "cat", "subjects": ["Astrology"]})
    assert answer.status == 422 and answer.json["errors"][0]["field"] == "subjects"


def test_a_sectional_test_keeps_only_the_sections_of_its_subjects(student: Student) -> None:
    # When a student starts CAT on Quantitative Aptitude only
    paper = _start(student, subjects=[QA])
    # Then the paper is QA's 22 questions, open now, for its 40 minutes
    [section] = paper["sections"]
    assert section["name"] == "QA" and len(section["questions"]) == 22
    started = datetime.strptime(paper["started_at"], "%Y-%m-%dT%H:%M:%SZ")
    assert datetime.strptime(paper["deadline"], "%Y-%m-%dT%H:%M:%SZ") - started == timedelta(minutes=40)


# --- saving answers --------------------------------------------------------------------------------

def test_answers_are_saved_overwritten_and_resumed(student: Student) -> None:
    paper = _start(student)
    test_id = paper["mock_test_id"]
    number, question_id, _ = next(q for q in _questions(paper["sections"][0]) if q[2] == "single")
    # When the student saves an answer, then changes it and marks it for review
    assert _save(student, test_id, number, _wrong(question_id)).status == 200
    saved = _save(student, test_id, number, {**_right(question_id), "marked_for_review": True,
                                             "time_spent_seconds": 75})
    # Then the last save is what the paper holds when the app is opened again
    assert saved.status == 200 and saved.data["selected_option"] == _right(question_id)["selected_option"]
    resumed = student.mock.get(f"{API}/mock-tests/{test_id}")
    item = next(q for q in resumed.data["sections"][0]["questions"] if q["number"] == number)
    assert item["answer"]["selected_option"] == _right(question_id)["selected_option"]
    assert item["answer"]["marked_for_review"] is True and item["answer"]["time_spent_seconds"] == 75
    # And clearing it leaves the question unanswered
    cleared = _save(student, test_id, number, {"clear": True})
    assert cleared.status == 200 and cleared.data["answered"] is False


def test_a_save_must_fit_the_question(student: Student) -> None:
    paper = _start(student)
    test_id = paper["mock_test_id"]
    single = next(q for q in _questions(paper["sections"][0]) if q[2] == "single")
    numeric = next(q for q in _questions(paper["sections"][0]) if q[2] == "numeric")
    # Then another type's field, an option not offered, two fields, or a number not in the paper are refused
    assert _save(student, test_id, single[0], {"numeric_answer": 3}).json["errors"][0]["field"] == "numeric_answer"
    assert _save(student, test_id, numeric[0], {"selected_option": "A"}).json["errors"][0]["field"] == \
        "selected_option"
    assert _save(student, test_id, single[0], {"selected_option": "E"}).status == 422
    assert _save(student, test_id, single[0], {"selected_option": "A", "clear": True}).status == 422
    assert _save(student, test_id, 69, {"selected_option": "A"}).status == 404
    assert _save(student, "no-such-test", 1, {"selected_option": "A"}).status == 404


def test_a_locked_or_finished_section_refuses_saves(student: Student) -> None:
    paper = _start(student)
    test_id = paper["mock_test_id"]
    # When the student tries a DILR question (number 25) while VARC's clock runs
    early = _save(student, test_id, 25, {"selected_option": "A"})
    # Then it is 409 DEADLINE_PASSED: the section is not open yet
    assert early.status == 409 and early.json["errors"][0]["code"] == "DEADLINE_PASSED"
    # When 41 minutes have passed: DILR is open, and VARC closed for good
    _pass(student, test_id, 41)
    dilr = student.mock.get(f"{API}/mock-tests/{test_id}").data["sections"][1]
    number, question_id, _ = _questions(dilr)[0]
    assert _save(student, test_id, number, _right(question_id)).status == 200
    late = _save(student, test_id, 1, {"selected_option": "A"})
    assert late.status == 409 and late.json["errors"][0]["code"] == "DEADLINE_PASSED"


def test_the_deadline_is_enforced_by_dynamodb_not_by_the_caller(student: Student) -> None:
    # Given a paper whose deadline passes between the service's own check and the write
    paper = _start(student, subjects=[QA])
    test_id = paper["mock_test_id"]
    stored = mock_store.read_paper(student.user_id, test_id).paper
    assert stored is not None
    _pass(student, test_id, 41)
    answer = mock_store.MockAnswerItem(stored.pk, mock_store.answer_sort_key(test_id, 1), mock_test_id=test_id,
                                       number=1, selected_option="A", saved_at=datetime.now(UTC))
    # When the write is attempted with the clock of a moment ago (as a slow request would)
    with pytest.raises(mock_store.DeadlinePassed):
        mock_store.save_answer(stored, answer, 0, datetime.now(UTC))
    # Then nothing was saved
    assert mock_store.read_paper(student.user_id, test_id).answers == {}


def test_two_devices_saving_one_answer_leave_one_of_them(student: Student) -> None:
    paper = _start(student)
    test_id = paper["mock_test_id"]
    number, question_id, _ = next(q for q in _questions(paper["sections"][0]) if q[2] == "single")
    bodies = [_right(question_id), _wrong(question_id)] * 3
    # When six saves of the question race
    answers = all_at_once(6, lambda i: _save(student, test_id, number, bodies[i]))
    # Then each succeeded and the paper holds exactly one answer for it, one of those sent
    assert {a.status for a in answers} == {200}
    state = mock_store.read_paper(student.user_id, test_id)
    assert list(state.answers) == [number]
    assert state.answers[number].selected_option in {b["selected_option"] for b in bodies}


# --- scoring, review and what a finished test feeds -------------------------------------------------

def _sit_qa(student: Student, right: int, wrong_single: int, wrong_numeric: int) -> tuple[str, dict[str, int]]:
    """A QA-only CAT test with ``right`` right answers, and wrong single and numeric ones; the rest skipped."""
    paper = _start(student, subjects=[QA])
    test_id = paper["mock_test_id"]
    questions = _questions(paper["sections"][0])
    singles = [q for q in questions if q[2] == "single"]
    numerics = [q for q in questions if q[2] == "numeric"]
    plan: dict[str, int] = {"right": 0, "wrong_single": 0, "wrong_numeric": 0}
    for number, question_id, _ in singles[:right]:
        assert _save(student, test_id, number, {**_right(question_id), "confidence_rating": 4}).status == 200
        plan["right"] += 1
    for number, question_id, _ in singles[right:right + wrong_single]:
        assert _save(student, test_id, number, {**_wrong(question_id), "confidence_rating": 5}).status == 200
        plan["wrong_single"] += 1
    for number, question_id, _ in numerics[:wrong_numeric]:
        assert _save(student, test_id, number, _wrong(question_id)).status == 200
        plan["wrong_numeric"] += 1
    return test_id, plan


def test_scoring_follows_the_pattern_and_a_second_submit_gives_the_same_result(
        student: Student, progress_fn: Any) -> None:
    # Given a QA test with 5 right answers, 3 wrong single-correct and 2 wrong numeric ones
    test_id, _ = _sit_qa(student, right=5, wrong_single=3, wrong_numeric=2)
    # When the student submits it, twice
    first = student.mock.post(f"{API}/mock-tests/{test_id}/submit")
    second = student.mock.post(f"{API}/mock-tests/{test_id}/submit")
    # Then the score is 5 x 3 - 3 x 1 + 0 = 12 of 66, by section too, and both answers agree
    assert first.status == 200 and second.status == 200 and first.data == second.data
    result = first.data
    assert (result["score"], result["max_score"], result["attempted"]) == (12, 66, 10)
    assert result["percent"] == 18.18 and result["accuracy"] == 0.5
    [qa] = result["sections"]
    assert (qa["correct"], qa["wrong"], qa["unattempted"], qa["score"]) == (5, 5, 12, 12)
    assert result["time_per_question_seconds"] == 30 and result["auto_submitted"] is False
    # And XP is +10 for each right answer to a question never answered before: 50, counted once
    assert result["xp_awarded"] == 50
    progress = student.client(progress_fn).get(f"{API}/progress").data
    assert progress["xp_total"] == 50 and progress["current_streak"] == 1
    assert progress["today"]["questions_answered"] == 10


def test_a_finished_test_shows_the_review_and_feeds_analytics_attempts_and_mistake_cards(
        student: Student, analytics_fn: Any, questions_fn: Any, flashcards_fn: Any) -> None:
    test_id, _ = _sit_qa(student, right=2, wrong_single=1, wrong_numeric=1)
    assert student.mock.post(f"{API}/mock-tests/{test_id}/submit").status == 200
    # When the student opens the finished test
    review = student.mock.get(f"{API}/mock-tests/{test_id}").data
    # Then every question comes with its key, explanation, the student's answer and its marks
    [section] = review["review"]
    assert len(section["questions"]) == 22
    for item in section["questions"]:
        question = _key(item["question"]["question_id"])
        assert item["explanation"] == question.explanation
        if question.question_type == "numeric":
            assert Decimal(str(item["answer_key"]["value"])) == question.answer.value
        else:
            assert item["correct_option"] == question.correct_option
    outcomes = sorted(item["outcome"] for item in section["questions"])
    assert outcomes.count("correct") == 2 and outcomes.count("wrong") == 2
    assert {item["marks"] for item in section["questions"] if item["outcome"] == "wrong"} <= {-1, 0}
    # And it is a record in GET /analytics/tests, its chapters from the questions' topics
    tests = student.client(analytics_fn).get(f"{API}/analytics/tests").data["items"]
    record = next(t for t in tests if t["test_id"] == test_id)
    assert (record["score"], record["max_score"], record["correct"], record["wrong"]) == (5, 66, 2, 2)
    assert {c["subject"] for c in record["chapters"]} == {QA}
    # And the dashboard counts the test, and its 4 answered questions once in the heatmap (as attempts,
    # not again from the test's chapters)
    dashboard = student.client(analytics_fn).get(f"{API}/analytics/dashboard", query={"exam": "CAT"}).data
    assert dashboard["tests_recorded"] == 1
    qa_cells = next(s for s in dashboard["heatmap"]["subjects"] if s["subject"] == QA)["chapters"]
    cell = next(c for c in qa_cells if c["chapter"] == TOPICS[QA])
    assert (cell["questions"], cell["correct"]) == (4, 2)
    # And its answered questions are attempts (the rated ones with their confidence)
    attempts = student.client(questions_fn).get(f"{API}/questions/attempts").data["items"]
    mine = [a for a in attempts if a["attempt_id"].startswith(f"mock-{test_id}-")]
    assert len(mine) == 4 and sorted(str(a["confidence_rating"]) for a in mine) == ["4", "4", "5", "None"]
    # And the three rated answers are in this week's calibration report (the unrated one is not)
    calibration = student.client(analytics_fn).get(f"{API}/analytics/calibration").data
    assert calibration["attempts"] == 3
    subjects = student.client(analytics_fn).get(f"{API}/analytics/subjects", query={"exam": "CAT"}).data
    qa = next(s for s in subjects if s["subject"] == QA)
    assert (qa["attempts"], qa["correct"]) == (4, 2)
    # And the wrong answers became mistake cards, due today
    due = student.client(flashcards_fn).get(f"{API}/flashcards/due", query={"limit": "100"}).data
    mistakes = [c for c in due["cards"] if c["flashcard_id"].startswith("mistake-")]
    assert len(mistakes) == 2


def test_a_question_seen_in_a_mock_test_earns_no_practice_xp(student: Student, questions_fn: Any) -> None:
    test_id, _ = _sit_qa(student, right=1, wrong_single=0, wrong_numeric=0)
    assert student.mock.post(f"{API}/mock-tests/{test_id}/submit").status == 200
    paper = mock_store.read_paper(student.user_id, test_id).paper
    assert paper is not None
    unanswered = paper.questions[-1][4]  # skipped in the test, but its key was in the review
    # When the student practises it afterwards, rightly
    answer = student.client(questions_fn).post(f"{API}/questions/submit", {
        "question_id": unanswered, **_right(unanswered), "confidence_rating": 3, "time_taken_seconds": 10})
    # Then it earns nothing: its key was seen
    assert answer.status == 200 and answer.data["is_correct"] is True
    assert (answer.data["xp_awarded"], answer.data["xp_withheld"]) == (0, "answered_before")


def test_a_read_after_the_deadline_finishes_the_test_with_the_saved_answers(student: Student) -> None:
    test_id, _ = _sit_qa(student, right=3, wrong_single=0, wrong_numeric=0)
    # When the deadline passes without a submit and the student opens the test
    _pass(student, test_id, 41)
    answer = student.mock.get(f"{API}/mock-tests/{test_id}")
    # Then it is finished with what was saved, auto-submitted
    assert answer.status == 200 and answer.data["status"] == "finished"
    assert answer.data["auto_submitted"] is True and answer.data["score"] == 9
    # And a submit now answers the same result, and a save is refused
    assert student.mock.post(f"{API}/mock-tests/{test_id}/submit").data["score"] == 9
    assert _save(student, test_id, 1, {"selected_option": "A"}).status == 409


def test_the_sweep_finishes_expired_tests_once_even_when_its_run_is_redelivered(
        student: Student, mock_sweep_fn: Any, progress_fn: Any) -> None:
    test_id, _ = _sit_qa(student, right=4, wrong_single=1, wrong_numeric=0)
    untouched = _start(student, subjects=[VARC])["mock_test_id"]
    _pass(student, test_id, 45)
    # When the scheduled sweep runs three times at once (a redelivered event, overlapping runs)
    event = {"source": "aws.events", "detail-type": "Scheduled Event", "time": "2026-12-02T10:00:00Z"}
    reports = all_at_once(3, lambda _: mock_sweep_fn.handler(event, None))
    # Then the expired test is finished, once: one result, XP counted once
    assert sum(r["finished"] for r in reports) >= 1 and all(r["failed"] == 0 for r in reports)
    finished = student.mock.get(f"{API}/mock-tests/{test_id}").data
    assert finished["status"] == "finished" and finished["auto_submitted"] is True and finished["score"] == 11
    assert student.client(progress_fn).get(f"{API}/progress").data["xp_total"] == 40
    # And the test still running was left alone, and the finished one left the deadline index
    assert mock_store.read_paper(student.user_id, untouched).paper.status == "in_progress"  # type: ignore[union-attr]
    assert mock_store.read_paper(student.user_id, test_id).paper.deadline_pk is None  # type: ignore[union-attr]


def test_parallel_submits_converge_to_one_result(student: Student, progress_fn: Any) -> None:
    test_id, _ = _sit_qa(student, right=3, wrong_single=2, wrong_numeric=0)
    # When five submits race (two devices, retries)
    answers = all_at_once(5, lambda _: student.mock.post(f"{API}/mock-tests/{test_id}/submit"))
    # Then those that answered agree, and XP and the counters count the test once
    results = [a.data for a in answers if a.status == 200]
    assert results and all(r == results[0] for r in results)
    assert {a.status for a in answers} <= {200, 503}
    assert student.mock.post(f"{API}/mock-tests/{test_id}/submit").data == results[0]
    assert student.client(progress_fn).get(f"{API}/progress").data["xp_total"] == 30
    stats = analytics_store.subject_stats(student.user_id, "CAT")
    assert [(int(s.attempts), int(s.correct)) for s in stats] == [(5, 3)]


def test_submits_and_reads_racing_the_deadline_agree_on_one_auto_submitted_result(
        student: Student, progress_fn: Any) -> None:
    test_id, _ = _sit_qa(student, right=2, wrong_single=0, wrong_numeric=0)
    _pass(student, test_id, 40.5)
    # When, just past the deadline, the student's submit and reads from two devices race
    answers = all_at_once(6, lambda i: student.mock.post(f"{API}/mock-tests/{test_id}/submit") if i % 2
                          else student.mock.get(f"{API}/mock-tests/{test_id}"))
    # Then every answer shows the same finished result, auto-submitted (the deadline came first)
    finished = [a.data for a in answers if a.status == 200]
    assert finished and {a.status for a in answers} <= {200, 503}
    results = {(r["score"], r["auto_submitted"], r["finished_at"]) for r in finished}
    assert len(results) == 1 and next(iter(results))[:2] == (6, True)
    assert student.client(progress_fn).get(f"{API}/progress").data["xp_total"] == 20


def test_a_submit_racing_saves_scores_only_what_was_saved_before_it(student: Student) -> None:
    paper = _start(student, subjects=[QA])
    test_id = paper["mock_test_id"]
    questions = [q for q in _questions(paper["sections"][0]) if q[2] == "single"][:6]

    def act(index: int) -> Any:
        if index == 6:
            return student.mock.post(f"{API}/mock-tests/{test_id}/submit")
        number, question_id, _ = questions[index]
        return _save(student, test_id, number, _right(question_id))

    # When six saves and a submit race
    answers = all_at_once(7, act)
    # Then every save that answered 200 is in the result, and every refused one is not
    saved = sum(1 for a in answers[:6] if a.status == 200)
    assert {a.status for a in answers[:6]} <= {200, 409}
    result = student.mock.post(f"{API}/mock-tests/{test_id}/submit").data
    assert result["attempted"] == saved and result["score"] == 3 * saved


def test_a_crash_between_scoring_and_writing_the_result_converges(student: Student, progress_fn: Any,
                                                                    monkeypatch: pytest.MonkeyPatch) -> None:
    # Given a paper of 22 questions (two finishing chunks) answered 3 right and 1 wrong
    test_id, _ = _sit_qa(student, right=3, wrong_single=1, wrong_numeric=0)
    real = mock_store.write_chunk
    calls: list[int] = []

    def crash_after_first(*args: Any, **kwargs: Any) -> bool:
        calls.append(args[2])
        if len(calls) > 1:
            raise RuntimeError("the container died")
        return real(*args, **kwargs)

    monkeypatch.setattr(mock_store, "write_chunk", crash_after_first)
    # When the first submit dies after writing one chunk
    with pytest.raises(RuntimeError):
        from mindly.services import mock_tests as service
        service.submit(student.user_id, None, test_id, datetime.now(UTC))
    monkeypatch.setattr(mock_store, "write_chunk", real)
    # Then the next submit finishes it, and nothing of the first chunk is counted twice
    result = student.mock.post(f"{API}/mock-tests/{test_id}/submit").data
    assert (result["score"], result["attempted"], result["xp_awarded"]) == (8, 4, 30)
    stats = analytics_store.subject_stats(student.user_id, "CAT")
    assert [(int(s.attempts), int(s.correct)) for s in stats] == [(4, 3)]
    assert student.client(progress_fn).get(f"{API}/progress").data["xp_total"] == 30


def test_the_list_shows_tests_newest_first(student: Student) -> None:
    first = _start(student, subjects=[QA])["mock_test_id"]
    _pass(student, first, 50)
    second = _start(student, subjects=[VARC])["mock_test_id"]
    listed = student.mock.get(f"{API}/mock-tests").data["items"]
    assert [t["mock_test_id"] for t in listed] == [second, first]
    assert listed[0]["status"] == "in_progress"


def test_a_question_whose_type_an_admin_changed_during_the_test_is_voided(student: Student, auth_fn: Any,
                                                                          admin_fn: Any) -> None:
    paper = _start(student, subjects=[QA])
    test_id = paper["mock_test_id"]
    number, question_id, _ = next(q for q in _questions(paper["sections"][0]) if q[2] == "single")
    assert _save(student, test_id, number, _right(question_id)).status == 200
    # When an admin turns that single-correct question into a numeric one before the submit
    admin = HandlerClient(admin_fn, token=admin_token(auth_fn))
    listed = admin.get(f"{API}/admin/questions", query={"exam": "CAT", "subject": QA, "limit": "100"}).data
    while not any(q["question_id"] == question_id for q in listed["items"]):
        listed = admin.get(f"{API}/admin/questions", query={"exam": "CAT", "subject": QA, "limit": "100",
                                                             "cursor": listed["next_cursor"]}).data
    record = next(q["record"] for q in listed["items"] if q["question_id"] == question_id)
    record = {k: v for k, v in record.items() if k not in ("options", "correct_option")}
    edited = admin.put(f"{API}/admin/questions/{question_id}", {**record, "type": "numeric",
                                                                 "answer": {"value": 7, "tolerance": 0}})
    assert edited.status == 200, edited
    # Then the test still finishes, that question unattempted rather than marked against a numeric key
    result = student.mock.post(f"{API}/mock-tests/{test_id}/submit")
    assert result.status == 200 and (result.data["attempted"], result.data["score"]) == (0, 0)
