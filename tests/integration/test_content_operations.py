"""Content operations through the real handlers (issue 17, point 6): the admin question list with keys
and statistics, edits as new versions, retirement, students' reports, and per-question statistics
kept in sharded counters written by the submit's own transaction.

The questions here are GATE Databases ones under a source of this module's own; lists are filtered
to their topics and only this module's ids are asserted on.
"""

from __future__ import annotations

import threading
import uuid
from collections import Counter
from collections.abc import Iterator
from typing import Any

import pytest
from pynamodb.connection.base import Connection
from support import HandlerClient, admin_token, all_at_once, register

from mindly.domain.content import content_id
from mindly.store import content as content_store
from mindly.store import question_stats as stats_store

API = "/api/v1"
SOURCE = f"ops-{uuid.uuid4().hex[:8]}"
EXAM, SUBJECT = "GATE", "Databases"
TXN, NORMAL, INDEXING = "Transactions and Concurrency", "Normal Forms", "Indexing and B+ Trees"


def _id(external_id: str) -> str:
    return content_id("question", SOURCE, external_id)


def single(external_id: str, **changes: Any) -> dict[str, Any]:
    record = {"source": SOURCE, "external_id": external_id, "exam_type": EXAM, "subject": SUBJECT, "topic": TXN,
              "difficulty": "medium", "stem": f"Which schedule is serialisable ({external_id})?",
              "options": {"A": "S1", "B": "S2", "C": "S3", "D": "None"}, "correct_option": "A",
              "explanation": "S1 has an acyclic precedence graph."}
    record.update(changes)
    return record


def multiple(external_id: str) -> dict[str, Any]:
    return {"source": SOURCE, "external_id": external_id, "exam_type": EXAM, "subject": SUBJECT, "topic": NORMAL,
            "difficulty": "hard", "type": "multiple", "stem": f"Which hold for BCNF ({external_id})?",
            "options": {"A": "Lossless", "B": "Always dependency preserving", "C": "No partial dependency",
                        "D": "Needs a surrogate key"},
            "correct_options": ["A", "C"], "explanation": None}


def numeric(external_id: str) -> dict[str, Any]:
    return {"source": SOURCE, "external_id": external_id, "exam_type": EXAM, "subject": SUBJECT,
            "topic": INDEXING, "difficulty": "easy", "type": "numeric",
            "stem": f"Height of a B+ tree of order 10 holding 1000 keys ({external_id})?",
            "answer": {"value": 3, "tolerance": 0}, "explanation": "ceil(log_10 1000) = 3."}


@pytest.fixture(scope="module")
def admin(auth_fn: Any, admin_fn: Any) -> HandlerClient:
    return HandlerClient(admin_fn, token=admin_token(auth_fn))


def _import(admin: HandlerClient, *records: dict[str, Any]) -> dict[str, Any]:
    answer = admin.post(f"{API}/admin/questions/import", list(records))
    assert answer.status == 200 and answer.data["errors"] == [], answer
    return dict(answer.data)


def _student(auth_fn: Any, profile_fn: Any, questions_fn: Any, name: str = "Ravi Menon") -> HandlerClient:
    token = register(auth_fn, name=name).data["access_token"]
    profile = {"exam_type": EXAM, "level": "intermediate", "study_hours_per_day": 4, "target_date": "2035-02-01",
               "weak_subjects": []}
    assert HandlerClient(profile_fn, token=token).put(f"{API}/profile", profile).status == 200
    return HandlerClient(questions_fn, token=token)


@pytest.fixture
def student(auth_fn: Any, profile_fn: Any, questions_fn: Any) -> HandlerClient:
    return _student(auth_fn, profile_fn, questions_fn)


def _submit(student: HandlerClient, question_id: str, seconds: int, **answer: Any) -> Any:
    answered = student.post(f"{API}/questions/submit", {"question_id": question_id, "confidence_rating": 3,
                                                        "time_taken_seconds": seconds, **answer})
    assert answered.status == 200, answered
    return answered


def _listed(admin: HandlerClient, question_id: str, topic: str, status: str = "active") -> dict[str, Any] | None:
    """The question's item of the admin list (paging on), or None when that list does not hold it."""
    cursor: str | None = None
    while True:
        query = {"exam": EXAM, "subject": SUBJECT, "topic": topic, "status": status, "limit": "100"}
        page = admin.get(f"{API}/admin/questions", query={**query, **({"cursor": cursor} if cursor else {})})
        assert page.status == 200, page
        found = [item for item in page.data["items"] if item["question_id"] == question_id]
        if found:
            return dict(found[0])
        cursor = page.data["next_cursor"]
        if cursor is None:
            return None


def _in_practice(student: HandlerClient, question_id: str, topic: str) -> bool:
    cursor: str | None = None
    while True:
        query = {"exam": EXAM, "subject": SUBJECT, "topic": topic, "limit": "100"}
        page = student.get(f"{API}/questions/practice", query={**query, **({"cursor": cursor} if cursor else {})})
        assert page.status == 200, page
        if any(item["question_id"] == question_id for item in page.data["items"]):
            return True
        cursor = page.data["next_cursor"]
        if cursor is None:
            return False


def _stats(admin: HandlerClient, question_id: str, topic: str, status: str = "active") -> dict[str, Any]:
    item = _listed(admin, question_id, topic, status)
    assert item is not None, question_id
    return dict(item["stats"])


def _refused(answer: Any, status: int, field: str | None = None) -> None:
    assert answer.status == status, answer
    assert answer.json["success"] is False and answer.json["data"] is None, answer
    if field is not None:
        assert field in [error["field"] for error in answer.json["errors"]], answer.json


@pytest.fixture
def dynamodb_calls(monkeypatch: pytest.MonkeyPatch) -> Iterator[list[tuple[str, dict[str, Any]]]]:
    """Every DynamoDB operation sent while the test runs, with its parameters."""
    calls: list[tuple[str, dict[str, Any]]] = []
    dispatch = Connection.dispatch

    def recording(self: Any, operation: str, kwargs: dict[str, Any]) -> Any:
        calls.append((operation, kwargs))
        return dispatch(self, operation, kwargs)

    monkeypatch.setattr(Connection, "dispatch", recording)
    yield calls


# --- the list, with keys and statistics ----------------------------------------------------------

def test_the_admin_list_shows_every_type_with_its_key_and_statistics_of_real_answers(
        admin: HandlerClient, auth_fn: Any, profile_fn: Any, questions_fn: Any) -> None:

    # Given a single, a multiple and a numeric question answered by three students
    _import(admin, single("list-s"), multiple("list-m"), numeric("list-n"))
    students = [_student(auth_fn, profile_fn, questions_fn, name) for name in ("Anu", "Bala", "Chitra")]
    for student, (option, seconds) in zip(students, [("A", 12), ("B", 40), ("A", 100)], strict=True):
        _submit(student, _id("list-s"), seconds, selected_option=option)
    _submit(students[0], _id("list-m"), 70, selected_options=["C", "A"])
    _submit(students[1], _id("list-m"), 80, selected_options=["A"])
    _submit(students[2], _id("list-n"), 3, numeric_answer=3)
    # When the admin lists each topic
    single_item = _listed(admin, _id("list-s"), TXN)
    multi_item = _listed(admin, _id("list-m"), NORMAL)
    numeric_item = _listed(admin, _id("list-n"), INDEXING)
    assert single_item and multi_item and numeric_item
    # Then each shows its key, in its import form, at version 1, active
    assert single_item["record"]["correct_option"] == "A" and single_item["record"]["type"] == "single"
    assert multi_item["record"]["correct_options"] == ["A", "C"]
    assert numeric_item["record"]["answer"] == {"value": 3, "tolerance": 0} and "options" not in numeric_item["record"]
    assert {(i["version"], i["status"], i["retired_at"]) for i in (single_item, multi_item, numeric_item)} == {
        (1, "active", None)}
    # And the statistics of those answers: times 12, 40, 100 s fall in buckets 10-15, 40-50, 90-120,
    # so the median is interpolated to the middle of 40-50
    assert single_item["stats"] == {"attempts": 3, "correct": 2, "accuracy": 0.6667, "median_time_seconds": 45.0,
                                    "reports_open": 0}
    assert multi_item["stats"] == {"attempts": 2, "correct": 1, "accuracy": 0.5, "median_time_seconds": 75.0,
                                   "reports_open": 0}
    assert numeric_item["stats"] == {"attempts": 1, "correct": 1, "accuracy": 1.0, "median_time_seconds": 2.5,
                                     "reports_open": 0}
    # And a question sharing a passage shows the passage's text in its record, as imported
    passage = {"passage_id": "schedules", "text": "T1 reads X, then T2 writes X.\nT1 then writes X."}
    _import(admin, single("list-p", topic=NORMAL, passage=passage))
    with_passage = _listed(admin, _id("list-p"), NORMAL)
    assert with_passage is not None and with_passage["record"]["passage"] == passage
    # And the page matches its documented model
    page = admin.get(f"{API}/admin/questions", query={"exam": EXAM, "subject": SUBJECT, "topic": NORMAL})
    admin.module.AdminQuestionsPage.model_validate(page.data)


def test_the_admin_list_pages_with_cursors_and_reads_one_query_a_page(admin: HandlerClient,
                                                                       dynamodb_calls: list[Any]) -> None:
    # Given three questions in a topic
    _import(admin, *(single(f"page-{n}", topic="Relational Algebra and SQL") for n in range(3)))
    query = {"exam": EXAM, "subject": SUBJECT, "topic": "Relational Algebra and SQL", "limit": "1"}
    seen: list[str] = []
    cursor: str | None = None
    while True:
        dynamodb_calls.clear()
        page = admin.get(f"{API}/admin/questions", query={**query, **({"cursor": cursor} if cursor else {})})
        assert page.status == 200, page
        # Then each page is one Query, one BatchGetItem (16 shards of its one question) and the
        # admin's role check
        assert Counter(op for op, _ in dynamodb_calls) == {"Query": 1, "BatchGetItem": 1, "GetItem": 1}
        seen += [item["question_id"] for item in page.data["items"]]
        cursor = page.data["next_cursor"]
        if cursor is None:
            break
    # And the pages hold every question once
    mine = [question_id for question_id in seen if question_id in {_id(f"page-{n}") for n in range(3)}]
    assert sorted(mine) == sorted(_id(f"page-{n}") for n in range(3))


# --- per-question statistics on the submit path ----------------------------------------------------

def test_a_submit_stays_one_read_and_one_transaction_with_the_statistics_shard(
        admin: HandlerClient, student: HandlerClient, dynamodb_calls: list[Any]) -> None:
    _import(admin, single("cost"))
    dynamodb_calls.clear()
    # When a student answers
    _submit(student, _id("cost"), 30, selected_option="A", attempt_id="cost-attempt-1")
    # Then the submit made one BatchGetItem and one TransactWriteItems (the catalog Query aside)
    ops = Counter(op for op, _ in dynamodb_calls if op != "Query")
    assert ops == {"BatchGetItem": 1, "TransactWriteItems": 1}
    # And the transaction holds the question's statistics shard among at most 100 items
    [transaction] = [kwargs for op, kwargs in dynamodb_calls if op == "TransactWriteItems"]
    items = transaction["TransactItems"]
    assert len(items) <= 100
    shard_updates = [item["Update"]["Key"] for item in items if "Update" in item
                     and item["Update"]["Key"]["pk"]["S"] == f"Q#{_id('cost')}"]
    assert [key["sk"]["S"][:6] for key in shard_updates] == ["STATS#"]


def test_twenty_parallel_answers_to_one_question_are_counted_exactly(
        admin: HandlerClient, auth_fn: Any, profile_fn: Any, questions_fn: Any) -> None:
    # Given one question and twenty students
    _import(admin, single("crowd"))
    students = [_student(auth_fn, profile_fn, questions_fn, f"Student {n}") for n in range(20)]

    # When all twenty answer it at once (every third one wrong), each at its own time, and the
    # first student's request is sent twice at once (a retry racing the original)
    def answer(n: int) -> Any:
        body = {"question_id": _id("crowd"), "selected_option": "B" if n % 3 == 0 else "A",
                "confidence_rating": 4, "time_taken_seconds": 10 + n, "attempt_id": f"crowd-{n}"}
        return students[n].post(f"{API}/questions/submit", body)

    answers = all_at_once(21, lambda n: answer(n % 20))
    assert all(a.status == 200 for a in answers), [a for a in answers if a.status != 200]
    # Then the statistics count each attempt once: 20 attempts, 13 right, no update lost
    stats = _stats(admin, _id("crowd"), TXN)
    assert (stats["attempts"], stats["correct"], stats["accuracy"]) == (20, 13, 0.65)
    # Times 10..29 s: 5 in 10-15, 5 in 15-20, 10 in 20-30; the 10th of 20 closes bucket 15-20
    assert stats["median_time_seconds"] == 20.0
    # And they were spread over shards rather than one item every answer wrote
    found = stats_store.read_content(stats_store.shard_keys([_id("crowd")]))
    assert len(found) > 1
    assert sum(int(item.attempts or 0) for item in found) == 20


# --- edits --------------------------------------------------------------------------------------

def test_an_edit_is_a_new_version_and_attempts_keep_the_version_they_answered(
        admin: HandlerClient, student: HandlerClient) -> None:
    # Given a question answered right at version 1
    _import(admin, single("edit"))
    assert _submit(student, _id("edit"), 20, selected_option="A").data["is_correct"] is True
    listed = _listed(admin, _id("edit"), TXN)
    assert listed is not None
    # When the admin sends its record back with another key and no source or external id
    record = {k: v for k, v in listed["record"].items() if k not in ("source", "external_id")}
    edited = admin.put(f"{API}/admin/questions/{_id('edit')}", {**record, "correct_option": "B"})
    # Then it is version 2 with the new key, and grading follows it
    assert edited.status == 200, edited
    assert (edited.data["version"], edited.data["record"]["correct_option"]) == (2, "B")
    assert _submit(student, _id("edit"), 20, selected_option="B").data["is_correct"] is True
    # And the first attempt keeps version 1 and the key it was graded against
    [newer, older] = student.get(f"{API}/questions/attempts").data["items"][:2]
    assert (older["question_version"], older["correct_option"], older["is_correct"]) == (1, "A", True)
    assert (newer["question_version"], newer["correct_option"]) == (2, "B")
    # And the same record again writes nothing new; an edit of a version seen before is 409
    same = admin.put(f"{API}/admin/questions/{_id('edit')}", {**record, "correct_option": "B"})
    assert same.status == 200 and same.data["version"] == 2, same
    stale = admin.put(f"{API}/admin/questions/{_id('edit')}", {**record, "stem": "Changed?"}, query={"version": "1"})
    _refused(stale, 409)
    assert int(content_store.get_question(_id("edit")).version) == 2  # type: ignore[union-attr]


def test_two_edits_from_one_version_cannot_both_win(admin: HandlerClient, monkeypatch: pytest.MonkeyPatch) -> None:
    # Given two edits of the same question that have both read version 1 before either writes
    _import(admin, single("race"))
    together = threading.Barrier(2)
    save = content_store.save_question_version

    def after_both_read(item: Any, read_version: int | None, retired: bool) -> bool:
        together.wait()
        return save(item, read_version, retired)

    monkeypatch.setattr(content_store, "save_question_version", after_both_read)
    # When both are sent at once
    answers = all_at_once(2, lambda n: admin.put(f"{API}/admin/questions/{_id('race')}",
                                                 single("race", stem=f"Edited by admin {n}?")))
    # Then one is version 2 and the other a 409 in the envelope; the stored stem is the winner's
    assert sorted(a.status for a in answers) == [200, 409], answers
    [winner] = [a for a in answers if a.status == 200]
    _refused(next(a for a in answers if a.status == 409), 409)
    stored = content_store.get_question(_id("race"))
    assert stored is not None and (int(stored.version), stored.stem) == (2, winner.data["record"]["stem"])


# --- retirement ---------------------------------------------------------------------------------

def test_a_retired_question_leaves_practice_keeps_its_attempts_and_stays_retired_on_reimport(
        admin: HandlerClient, student: HandlerClient) -> None:
    # Given a question a student answered
    _import(admin, single("retire", topic="ER Model"))
    _submit(student, _id("retire"), 25, selected_option="C")
    assert _in_practice(student, _id("retire"), "ER Model")
    # When the admin retires it, twice
    first = admin.post(f"{API}/admin/questions/{_id('retire')}/retire")
    second = admin.post(f"{API}/admin/questions/{_id('retire')}/retire")
    # Then it is retired once (the second changes nothing) and practice no longer shows it
    assert first.status == second.status == 200, (first, second)
    assert first.data["status"] == "retired" and first.data["retired_at"] is not None
    assert second.data == first.data
    assert not _in_practice(student, _id("retire"), "ER Model")
    assert content_store.get_question(_id("retire")) is not None  # still readable by id
    # And the admin finds it among the retired, not the active, with its statistics
    assert _listed(admin, _id("retire"), "ER Model") is None
    assert _stats(admin, _id("retire"), "ER Model", "retired")["attempts"] == 1
    # And the student's attempt stays
    assert [a["question_id"] for a in student.get(f"{API}/questions/attempts").data["items"]] == [_id("retire")]
    # When its record is imported again, changed
    report = _import(admin, single("retire", topic="ER Model", stem="Reworded?"))
    # Then the content is updated (version 2) and it stays retired
    assert report["updated"] == 1
    retired = _listed(admin, _id("retire"), "ER Model", "retired")
    assert retired is not None and (retired["version"], retired["record"]["stem"]) == (2, "Reworded?")
    assert not _in_practice(student, _id("retire"), "ER Model")
    # And restoring it brings it back into practice
    restored = admin.post(f"{API}/admin/questions/{_id('retire')}/restore")
    assert restored.status == 200 and restored.data["status"] == "active", restored
    assert _in_practice(student, _id("retire"), "ER Model")


# --- reports ------------------------------------------------------------------------------------

def test_a_report_is_201_then_the_same_200_and_resolving_takes_it_off_the_count_once(
        admin: HandlerClient, student: HandlerClient) -> None:

    _import(admin, single("report"))
    path = f"{API}/questions/{_id('report')}/reports"
    # When the student reports the question, then reports it again
    first = student.post(path, {"reason": "wrong_answer", "comment": "The key should be B."})
    repeat = student.post(path, {"reason": "typo"})
    # Then the first is 201 and the repeat answers the same open report
    assert first.status == 201, first
    assert repeat.status == 200 and repeat.data == first.data, repeat
    student.module.QuestionReport.model_validate(first.data)
    assert (first.data["status"], first.data["reason"], first.data["comment"]) == (
        "open", "wrong_answer", "The key should be B.")
    assert _stats(admin, _id("report"), TXN)["reports_open"] == 1
    # And the admin sees it among the open reports
    report_id = first.data["report_id"]
    opened = _report_in(admin, report_id, "open")
    assert opened is not None and opened["question_id"] == _id("report")
    # When the admin resolves it twice (the second with another action)
    resolved = admin.post(f"{API}/admin/reports/{report_id}/resolve", {"action": "fixed", "note": "Key corrected"})
    again = admin.post(f"{API}/admin/reports/{report_id}/resolve", {"action": "rejected"})
    # Then it is resolved once, as first resolved, and the open count went down once
    assert resolved.status == again.status == 200, (resolved, again)
    assert resolved.data["status"] == "resolved" and resolved.data["resolution"]["action"] == "fixed"
    assert again.data == resolved.data
    admin.module.AdminReport.model_validate(resolved.data)
    assert _stats(admin, _id("report"), TXN)["reports_open"] == 0
    assert _report_in(admin, report_id, "open") is None and _report_in(admin, report_id, "resolved") is not None
    admin.module.AdminReportsPage.model_validate(
        admin.get(f"{API}/admin/reports", query={"status": "resolved"}).data)
    # And the student may report the question anew
    anew = student.post(path, {"reason": "unclear"})
    assert anew.status == 201 and anew.data["report_id"] != report_id, anew


def _report_in(admin: HandlerClient, report_id: str, status: str) -> dict[str, Any] | None:
    cursor: str | None = None
    while True:
        query = {"status": status, "limit": "100", **({"cursor": cursor} if cursor else {})}
        page = admin.get(f"{API}/admin/reports", query=query)
        assert page.status == 200, page
        found = [item for item in page.data["items"] if item["report_id"] == report_id]
        if found:
            return dict(found[0])
        cursor = page.data["next_cursor"]
        if cursor is None:
            return None


def test_parallel_reports_open_one_and_parallel_resolutions_count_once(admin: HandlerClient,
                                                                       student: HandlerClient) -> None:
    # Given a question; when one student sends five reports of it at once
    _import(admin, single("report-race"))
    path = f"{API}/questions/{_id('report-race')}/reports"
    sent = all_at_once(5, lambda n: student.post(path, {"reason": "other", "comment": f"copy {n}"}))
    # Then one is 201 and every other answers that same report
    assert sorted(a.status for a in sent) == [200, 200, 200, 200, 201], sent
    assert len({a.data["report_id"] for a in sent}) == 1
    assert _stats(admin, _id("report-race"), TXN)["reports_open"] == 1
    # When five resolutions of it arrive at once
    report_id = sent[0].data["report_id"]
    resolved = all_at_once(5, lambda n: admin.post(f"{API}/admin/reports/{report_id}/resolve",
                                                   {"action": "rejected" if n % 2 else "fixed"}))
    # Then all answer the one resolution, and the count went down exactly once
    assert all(a.status == 200 for a in resolved), resolved
    assert len({a.data["resolution"]["action"] for a in resolved}) == 1
    assert _stats(admin, _id("report-race"), TXN)["reports_open"] == 0


# --- bad input and roles ------------------------------------------------------------------------

@pytest.mark.parametrize(("query", "status", "field"), [
    ({}, 422, "exam"),
    ({"exam": "MBA"}, 422, "exam"),
    ({"exam": EXAM, "status": "deleted"}, 422, "status"),
    ({"exam": EXAM, "topic": TXN}, 422, "topic"),
    ({"exam": EXAM, "subject": "Astrology"}, 422, "subject"),
    ({"exam": EXAM, "cursor": "not-a-cursor"}, 422, "cursor"),
    ({"exam": EXAM, "limit": "101"}, 422, "limit"),
])
def test_bad_list_filters_are_422_in_the_envelope(admin: HandlerClient, query: dict[str, str], status: int,
                                                  field: str) -> None:
    _refused(admin.get(f"{API}/admin/questions", query=query), status, field)


def test_bad_edits_and_unknown_ids_are_refused_in_the_envelope(admin: HandlerClient, student: HandlerClient) -> None:
    _import(admin, single("bad"))
    unknown = uuid.uuid4().hex
    edit = f"{API}/admin/questions/{_id('bad')}"
    # Unknown question or report: 404
    _refused(admin.put(f"{API}/admin/questions/{unknown}", single("bad")), 404)
    _refused(admin.post(f"{API}/admin/questions/{unknown}/retire"), 404)
    _refused(admin.post(f"{API}/admin/questions/{unknown}/restore"), 404)
    _refused(admin.post(f"{API}/admin/reports/{unknown}/resolve", {"action": "fixed"}), 404)
    _refused(student.post(f"{API}/questions/{unknown}/reports", {"reason": "typo"}), 404)
    # A record that is not one, another identity, or an invalid record: 422
    _refused(admin.put(edit, ["not", "an", "object"]), 422)
    _refused(admin.put(edit, single("another-id")), 422, "external_id")
    _refused(admin.put(edit, single("bad", source="elsewhere")), 422, "source")
    _refused(admin.put(edit, single("bad", correct_option="E")), 422)
    _refused(admin.put(edit, {**single("bad"), "colour": "red"}), 422)
    _refused(admin.put(edit, single("bad"), query={"version": "0"}), 422, "version")
    # Bad resolutions and reports: 422
    _refused(admin.post(f"{API}/admin/reports/{unknown}/resolve", {"action": "ignored"}), 422, "action")
    _refused(admin.post(f"{API}/admin/reports/{unknown}/resolve", {"action": "fixed", "note": "x" * 1001}), 422)
    _refused(admin.get(f"{API}/admin/reports", query={"status": "closed"}), 422, "status")
    report = f"{API}/questions/{_id('bad')}/reports"
    _refused(student.post(report, {"reason": "boring"}), 422, "reason")
    _refused(student.post(report, {"reason": "typo", "comment": "x" * 1001}), 422, "comment")
    _refused(student.post(report, {}), 422, "reason")
    # And nothing was changed by any of it
    assert int(content_store.get_question(_id("bad")).version) == 1  # type: ignore[union-attr]


def test_students_are_refused_on_every_content_operation(student: HandlerClient, admin_fn: Any,
                                                         admin: HandlerClient) -> None:
    _import(admin, single("roles"))
    as_student = HandlerClient(admin_fn, token=student.token)
    question, report = _id("roles"), uuid.uuid4().hex
    calls = [("GET", f"{API}/admin/questions", None, {"exam": EXAM}),
             ("PUT", f"{API}/admin/questions/{question}", single("roles", stem="Hijacked?"), None),
             ("POST", f"{API}/admin/questions/{question}/retire", None, None),
             ("POST", f"{API}/admin/questions/{question}/restore", None, None),
             ("GET", f"{API}/admin/reports", None, None),
             ("POST", f"{API}/admin/reports/{report}/resolve", {"action": "fixed"}, None)]
    for method, path, body, query in calls:
        answer = as_student.request(method, path, body, query=query)
        _refused(answer, 403)
        assert answer.json["errors"][0]["code"] == "AUTHORIZATION_ERROR"
        _refused(HandlerClient(admin_fn).request(method, path, body, query=query), 401)
    stored = content_store.get_question(question)
    assert stored is not None and stored.stem != "Hijacked?" and stored.retired_at is None
