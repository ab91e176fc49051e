"""Analytics through the real handler (API.md "Analytics", README "API notes"): the calibration
report of a local week, subject and topic accuracy from the submit-time counters, mock tests and the
dashboard, with the reads they cost and their Redis cache.

Answers are recorded through mindly.services.questions.submit (the submit endpoint's own code) at
chosen instants, so weeks in the past and across a year boundary can be filled. The questions live
in JEE Chemistry "Electrochemistry" and "Chemical Kinetics" under a source of their own.
"""

from __future__ import annotations

import uuid
from concurrent.futures import ThreadPoolExecutor
from datetime import UTC, date, datetime, timedelta
from typing import Any

import pytest
from support import HandlerClient, register

from mindly.domain import calendar, calibration
from mindly.domain.content import content_id
from mindly.services import content, questions
from mindly.store import analytics as analytics_store
from mindly.store.progress import student_key

API = "/api/v1"
SOURCE = f"analytics-{uuid.uuid4().hex[:8]}"
TOPICS = ("Electrochemistry", "Chemical Kinetics")
QUESTIONS = 12  # per topic; the correct option of each is "A"


@pytest.fixture(scope="module")
def question_ids(local_aws: Any) -> dict[str, list[str]]:
    records = []
    for topic in TOPICS:
        for n in range(QUESTIONS):
            records.append({
                "source": SOURCE, "external_id": f"{topic}-{n}", "exam_type": "JEE", "subject": "Chemistry",
                "topic": topic, "difficulty": "medium", "stem": f"{topic} question {n}?",
                "options": {"A": f"right {n}", "B": f"wrong {n}", "C": f"other {n}", "D": f"last {n}"},
                "correct_option": "A", "explanation": "Because."})
    report = content.import_objects("question", records)
    assert not report["errors"], report
    return {topic: [content_id("question", SOURCE, f"{topic}-{n}") for n in range(QUESTIONS)] for topic in TOPICS}


def _student(auth_fn: Any, profile_fn: Any, analytics_fn: Any, timezone: str | None = "Asia/Kolkata",
             with_profile: bool = True) -> tuple[HandlerClient, str]:
    answer = register(auth_fn, name="Meera Iyer")
    assert answer.status == 201, answer
    token = answer.data["access_token"]
    if with_profile:
        profile = {"exam_type": "JEE", "level": "intermediate", "study_hours_per_day": 4,
                   "target_date": "2035-04-01", "weak_subjects": ["Chemistry"], "timezone": timezone}
        assert HandlerClient(profile_fn, token=token).put(f"{API}/profile", profile).status == 200
    return HandlerClient(analytics_fn, token=token), answer.data["user"]["id"]


@pytest.fixture
def student(auth_fn: Any, profile_fn: Any, analytics_fn: Any) -> tuple[HandlerClient, str]:
    return _student(auth_fn, profile_fn, analytics_fn)


def answer(user_id: str, question_id: str, right: bool, confidence: int, at: datetime, seconds: int = 60,
           attempt_id: str | None = None) -> dict[str, Any]:
    return questions.submit(user_id, None, question_id, "A" if right else "B", confidence, seconds,
                            attempt_id or uuid.uuid4().hex, "Asia/Kolkata", at)


def local_today() -> date:
    return calendar.local_date(datetime.now(UTC), "Asia/Kolkata")


# --- calibration -----------------------------------------------------------------------------------

def test_a_week_report_matches_the_formulas_for_the_answers_of_that_local_week(
        student: tuple[HandlerClient, str], question_ids: dict[str, list[str]]) -> None:
    client, user_id = student
    # Given answers in 2026-W40 (Mon 28 Sep .. Sun 4 Oct, Asia/Kolkata), and one on each side of it
    monday = calendar.day_starts_at(date(2026, 9, 28), "Asia/Kolkata")
    plan = [(True, 5), (True, 4), (False, 4), (False, 2), (True, 3), (False, 5)]
    ids = question_ids["Electrochemistry"]
    for n, (right, confidence) in enumerate(plan):
        answer(user_id, ids[n], right, confidence, monday + timedelta(hours=10 + n))
    answer(user_id, ids[7], True, 1, monday - timedelta(seconds=1))  # Sunday 23:59:59 of W39
    answer(user_id, ids[8], True, 1, monday + timedelta(days=7))  # Monday 00:00 of W41

    # When the week's report is asked for
    got = client.get(f"{API}/analytics/calibration", query={"week": "2026-W40"})

    # Then it covers exactly the six answers, with the numbers computed by hand
    assert got.status == 200, got
    data = got.data
    assert data["week"] == "2026-W40" and data["attempts"] == 6
    # p: 1.0, 0.8125, 0.8125, 0.4375, 0.625, 1.0 -> mean 4.6875 / 6 = 0.78125; accuracy 3/6
    assert data["accuracy"] == 0.5
    assert data["mean_confidence"] == pytest.approx(0.7812, abs=1e-4)
    assert data["bias"] == pytest.approx(0.2812, abs=1e-4)
    # brier: (0 + 0.03515625 + 0.66015625 + 0.19140625 + 0.140625 + 1) / 6 = 0.337890625
    assert data["brier"] == pytest.approx(0.3379, abs=1e-4)
    assert data["calibration_score"] is None  # fewer than 20 answers
    assert [row["attempts"] for row in data["curve"]] == [0, 1, 1, 2, 2]
    # the confident errors (confidence >= 4 and wrong), newest first
    assert [(e["confidence_rating"], e["question_id"]) for e in data["confident_errors"]] == [(5, ids[5]), (4, ids[2])]
    assert data["starts_at"] == "2026-09-27T18:30:00Z" and data["ends_at"] == "2026-10-04T18:30:00Z"


def test_the_default_week_is_the_current_one_in_the_students_zone(
        auth_fn: Any, profile_fn: Any, analytics_fn: Any, question_ids: dict[str, list[str]]) -> None:
    client, user_id = _student(auth_fn, profile_fn, analytics_fn, timezone="Pacific/Kiritimati")
    now = datetime.now(UTC)
    answer(user_id, question_ids["Chemical Kinetics"][0], True, 3, now)
    data = client.get(f"{API}/analytics/calibration").data
    assert data["week"] == calendar.iso_week(calendar.local_date(now, "Pacific/Kiritimati"))
    assert data["timezone"] == "Pacific/Kiritimati"
    assert data["attempts"] == 1  # a one-attempt week
    assert data["accuracy"] == 1.0 and data["bias"] == pytest.approx(-0.375)
    assert data["calibration_score"] is None


def test_an_empty_week_has_no_numbers_and_no_topics(student: tuple[HandlerClient, str]) -> None:
    client, _ = student
    data = client.get(f"{API}/analytics/calibration", query={"week": "2026-W02"}).data
    assert data["attempts"] == 0
    assert data["accuracy"] is None and data["bias"] is None and data["brier"] is None
    assert data["calibration_score"] is None
    assert [row["attempts"] for row in data["curve"]] == [0] * 5
    assert data["overconfident_topics"] == [] and data["underconfident_topics"] == []
    assert data["confident_errors"] == []


def test_weeks_across_the_year_boundary(student: tuple[HandlerClient, str],
                                        question_ids: dict[str, list[str]]) -> None:
    client, user_id = student
    ids = question_ids["Chemical Kinetics"]
    # 2026-W53 is Mon 28 Dec 2026 .. Sun 3 Jan 2027; 2027-W01 starts Mon 4 Jan 2027 (local dates)
    answer(user_id, ids[0], True, 5, calendar.day_starts_at(date(2026, 12, 28), "Asia/Kolkata"))
    answer(user_id, ids[1], False, 5, calendar.day_starts_at(date(2027, 1, 3), "Asia/Kolkata") + timedelta(hours=23))
    answer(user_id, ids[2], True, 2, calendar.day_starts_at(date(2027, 1, 4), "Asia/Kolkata"))
    w53 = client.get(f"{API}/analytics/calibration", query={"week": "2026-W53"}).data
    w01 = client.get(f"{API}/analytics/calibration", query={"week": "2027-W01"}).data
    assert (w53["attempts"], w53["accuracy"]) == (2, 0.5)
    assert (w01["attempts"], w01["accuracy"]) == (1, 1.0)
    # 2027 has no week 53; 2026-W54 and a malformed week are refused with a clear 422
    for bad in ("2027-W53", "2026-W54", "2026-47", "W47-2026", "2026-W4x"):
        got = client.get(f"{API}/analytics/calibration", query={"week": bad})
        assert got.status == 422, (bad, got)
        assert got.json["errors"][0]["field"] == "week"


def test_an_overconfident_topic_is_flagged_with_its_wilson_bound(
        student: tuple[HandlerClient, str], question_ids: dict[str, list[str]]) -> None:
    client, user_id = student
    monday = calendar.day_starts_at(date(2026, 10, 12), "Asia/Kolkata")  # 2026-W42
    # Given twelve sure answers in Electrochemistry with only two right, and twelve unsure ones in
    # Chemical Kinetics that are all right
    for n in range(12):
        answer(user_id, question_ids["Electrochemistry"][n], n < 2, 5, monday + timedelta(minutes=n))
        answer(user_id, question_ids["Chemical Kinetics"][n], True, 1, monday + timedelta(hours=1, minutes=n))
    data = client.get(f"{API}/analytics/calibration", query={"week": "2026-W42"}).data
    assert data["attempts"] == 24
    over = data["overconfident_topics"]
    assert [(t["subject"], t["topic"], t["attempts"]) for t in over] == [("Chemistry", "Electrochemistry", 12)]
    _low, high = calibration.wilson_interval(2, 12)
    assert over[0]["wilson_high"] == pytest.approx(high, abs=1e-4) and high < 1.0
    assert [t["topic"] for t in data["underconfident_topics"]] == ["Chemical Kinetics"]
    # 24 answers, 14 right and 10 wrong: the point-biserial correlation is defined (and negative)
    assert data["calibration_score"] is not None and data["calibration_score"] < 0


def test_a_student_with_no_profile_gets_reports_in_the_default_zone(
        auth_fn: Any, profile_fn: Any, analytics_fn: Any, question_ids: dict[str, list[str]]) -> None:
    client, user_id = _student(auth_fn, profile_fn, analytics_fn, with_profile=False)
    now = datetime.now(UTC)
    assert client.get(f"{API}/analytics/calibration").data["attempts"] == 0
    answer(user_id, question_ids["Electrochemistry"][0], False, 4, now)
    data = client.get(f"{API}/analytics/calibration").data
    assert data["timezone"] == "Asia/Kolkata" and data["attempts"] == 1
    assert client.get(f"{API}/analytics/subjects").data == [
        {"exam_type": "JEE", "subject": "Chemistry", "attempts": 1, "correct": 0, "accuracy": 0.0}]
    # the dashboard needs an exam: none given and no profile is a clear 404, with exam= it works
    missing = client.get(f"{API}/analytics/dashboard")
    assert missing.status == 404, missing
    assert client.get(f"{API}/analytics/dashboard", query={"exam": "jee"}).status == 200


def test_the_report_is_cached_until_the_student_answers_again(
        student: tuple[HandlerClient, str], question_ids: dict[str, list[str]], monkeypatch: Any) -> None:
    client, user_id = student
    now = datetime.now(UTC)
    answer(user_id, question_ids["Electrochemistry"][0], True, 3, now)
    queries: list[int] = []
    from mindly.store import attempts as attempt_store

    real = attempt_store.attempts_between

    def counted(*args: Any) -> Any:
        queries.append(1)
        return real(*args)

    monkeypatch.setattr(attempt_store, "attempts_between", counted)
    first = client.get(f"{API}/analytics/calibration").data
    second = client.get(f"{API}/analytics/calibration").data
    assert first == second and len(queries) == 1  # the second came from Redis
    answer(user_id, question_ids["Electrochemistry"][1], False, 5, now + timedelta(seconds=1))
    third = client.get(f"{API}/analytics/calibration").data
    assert len(queries) == 2 and third["attempts"] == first["attempts"] + 1  # new activity: read again


def test_reports_still_answer_when_redis_is_down(student: tuple[HandlerClient, str],
                                                  question_ids: dict[str, list[str]], upstash: Any) -> None:
    _client, user_id = student
    answer(user_id, question_ids["Electrochemistry"][0], True, 3, datetime.now(UTC))
    # authentication needs Redis (the revocation check fails closed), so call the service directly
    from mindly.services import analytics

    upstash.set_down(True)
    try:
        report = analytics.calibration_report(user_id, None, datetime.now(UTC))
        board = analytics.dashboard(user_id, None, datetime.now(UTC))
    finally:
        upstash.set_down(False)
    assert report["attempts"] == 1 and board["exam_type"] == "JEE"


# --- subject accuracy --------------------------------------------------------------------------------

def test_subject_and_topic_accuracy_come_from_counters_kept_at_submit(
        student: tuple[HandlerClient, str], question_ids: dict[str, list[str]]) -> None:
    client, user_id = student
    now = datetime.now(UTC)
    for n in range(5):
        answer(user_id, question_ids["Electrochemistry"][n], n < 3, 3, now + timedelta(seconds=n))
    for n in range(2):
        answer(user_id, question_ids["Chemical Kinetics"][n], True, 3, now + timedelta(seconds=10 + n))
    # a retried attempt counts once
    answer(user_id, question_ids["Chemical Kinetics"][5], False, 3, now + timedelta(seconds=20), attempt_id="again")
    answer(user_id, question_ids["Chemical Kinetics"][5], False, 3, now + timedelta(seconds=21), attempt_id="again")

    subjects = client.get(f"{API}/analytics/subjects").data
    assert subjects == [{"exam_type": "JEE", "subject": "Chemistry", "attempts": 8, "correct": 5,
                         "accuracy": 0.625}]
    topics = client.get(f"{API}/analytics/subjects", query={"subject": "chemistry"}).data
    assert [(t["topic"], t["attempts"], t["correct"], t["accuracy"]) for t in topics] == [
        ("Chemical Kinetics", 3, 2, 0.6667), ("Electrochemistry", 5, 3, 0.6)]
    assert client.get(f"{API}/analytics/subjects", query={"subject": "Botany"}).status == 422
    assert client.get(f"{API}/analytics/subjects", query={"exam": "MBA"}).status == 422


def test_concurrent_answers_are_each_counted_once(student: tuple[HandlerClient, str],
                                                  question_ids: dict[str, list[str]]) -> None:
    _client, user_id = student
    now = datetime.now(UTC)
    ids = question_ids["Electrochemistry"]
    jobs = [(ids[n % 6], n % 6 < 3, f"race-{n % 6}") for n in range(12)]  # 6 attempts, each sent twice
    with ThreadPoolExecutor(max_workers=6) as pool:
        list(pool.map(lambda job: answer(user_id, job[0], job[1], 3, now, attempt_id=job[2]), jobs))
    stats = analytics_store.subject_stats(user_id, "JEE")
    assert [(int(s.attempts), int(s.correct)) for s in stats] == [(6, 3)]


# --- mock tests and the dashboard ------------------------------------------------------------------

def mock_test(n: int, points: float, day: date, **changes: Any) -> dict[str, Any]:
    body = {"test_name": f"Full mock {n}", "exam_type": "JEE", "taken_on": day.isoformat(),
            "total_questions": 90, "correct": 50, "wrong": 20, "time_taken_minutes": 180, "max_score": 300,
            "score": points, "chapters": [
                {"subject": "Chemistry", "chapter": "Electrochemistry", "correct": 2, "total": 10},
                {"subject": "Physics", "chapter": "optics", "correct": 8, "total": 10}]}
    body.update(changes)
    return body


def test_mock_tests_are_validated(student: tuple[HandlerClient, str]) -> None:
    client, _ = student
    today = local_today()
    bad = [
        ({"correct": 80, "wrong": 20}, "wrong"),
        ({"score": 301}, "score"),
        ({"score": -301}, "score"),
        ({"exam_type": "MBA"}, None),
        ({"taken_on": (today + timedelta(days=3)).isoformat()}, "taken_on"),
        ({"taken_on": "1999-12-31"}, "taken_on"),
        ({"taken_on": "yesterday"}, None),
        ({"total_questions": 0}, None),
        ({"max_score": 0}, None),
        ({"chapters": [{"subject": "Botany", "chapter": "Genetics", "correct": 1, "total": 2}]}, "chapters.0.subject"),
        ({"chapters": [{"subject": "Physics", "chapter": "Genetics", "correct": 1, "total": 2}]}, "chapters.0.chapter"),
        ({"chapters": [{"subject": "Physics", "chapter": "Optics", "correct": 3, "total": 2}]}, "chapters.0.correct"),
        ({"chapters": [{"subject": "Physics", "chapter": "Optics", "correct": 1, "total": 80},
                       {"subject": "Physics", "chapter": "Optics", "correct": 1, "total": 2}]}, "chapters.1.chapter"),
        ({"chapters": [{"subject": "Physics", "chapter": "Optics", "correct": 1, "total": 91}]}, "chapters"),
        ({"chapters": [{"subject": "Physics", "chapter": "Optics", "correct": 51, "total": 60}]}, "chapters"),
        ({"surprise": 1}, None),
        ({"score": "high"}, None),
    ]
    for changes, field in bad:
        got = client.post(f"{API}/analytics/tests", mock_test(0, 120, today, **changes))
        assert got.status == 422, (changes, got)
        if field:
            assert got.json["errors"][0]["field"] == field, (changes, got)
    assert client.get(f"{API}/analytics/tests").data["items"] == []  # nothing was stored


def test_mock_tests_are_listed_newest_first_and_a_retry_records_once(student: tuple[HandlerClient, str]) -> None:
    client, _ = student
    today = local_today()
    first = client.post(f"{API}/analytics/tests", mock_test(1, 120, today - timedelta(days=20), test_id="m-1"))
    assert first.status == 201, first
    assert first.data["percent"] == 40.0 and first.data["unattempted"] == 20
    assert first.data["chapters"][1]["chapter"] == "Optics"  # syllabus spelling
    again = client.post(f"{API}/analytics/tests", mock_test(1, 120, today - timedelta(days=20), test_id="m-1"))
    assert again.status == 200 and again.data["test_id"] == "m-1"
    other = client.post(f"{API}/analytics/tests", mock_test(9, 150, today - timedelta(days=2), test_id="m-1"))
    assert other.status == 409, other
    for n, days in ((2, 10), (3, 5)):
        assert client.post(f"{API}/analytics/tests", mock_test(n, 100 + n, today - timedelta(days=days))).status == 201
    page = client.get(f"{API}/analytics/tests", query={"limit": "2"}).data
    assert [t["test_name"] for t in page["items"]] == ["Full mock 3", "Full mock 2"]
    rest = client.get(f"{API}/analytics/tests", query={"limit": "2", "cursor": page["next_cursor"]}).data
    assert [t["test_name"] for t in rest["items"]] == ["Full mock 1"] and rest["next_cursor"] is None


def test_the_dashboard_predicts_ranks_weak_chapters_and_draws_the_heatmap(
        student: tuple[HandlerClient, str], question_ids: dict[str, list[str]]) -> None:
    client, _user_id = student
    today = local_today()
    # Given fewer than three tests there is no prediction
    client.post(f"{API}/analytics/tests", mock_test(1, 120, today - timedelta(days=21)))
    client.post(f"{API}/analytics/tests", mock_test(2, 150, today - timedelta(days=14)))
    board = client.get(f"{API}/analytics/dashboard").data
    assert board["predicted_next_score"] is None and board["tests_recorded"] == 2
    assert board["consistency"]["tests"] == 2
    # Then a third test gives a least-squares prediction: 40%, 50%, 60% -> 70% next, no residual
    client.post(f"{API}/analytics/tests", mock_test(3, 180, today - timedelta(days=7)))
    board = client.get(f"{API}/analytics/dashboard").data
    predicted = board["predicted_next_score"]
    assert predicted["predicted_percent"] == 70.0 and predicted["predicted_score"] == 210.0
    assert predicted["standard_error"] == 0.0 and predicted["tests_used"] == 3
    # Weak chapters: Electrochemistry (6 of 30 right in tests) outranks Optics (24 of 30)
    weak = board["weak_chapters"]
    assert [c["chapter"] for c in weak[:2]] == ["Electrochemistry", "Optics"]
    electro = weak[0]
    assert electro["accuracy"] == 0.2 and electro["questions"] == 30 and electro["from_tests"] == 30
    assert electro["priority"] == pytest.approx(electro["weightage"] * 0.8 * electro["scoring_potential"], abs=1e-3)
    # The heatmap has every JEE chapter, the unseen ones as such
    chemistry = next(s for s in board["heatmap"]["subjects"] if s["subject"] == "Chemistry")
    cells = {c["chapter"]: c for c in chemistry["chapters"]}
    assert cells["Electrochemistry"]["band"] == "weak" and cells["Mole Concept"]["band"] == "unseen"
    assert len(board["heatmap"]["subjects"]) == 3
    # The trend has twelve weeks, the tests in theirs
    weeks = board["accuracy_trend"]["weeks"]
    assert len(weeks) == 12 and weeks[-1]["week"] == calendar.iso_week(today)
    assert sum(w["tests"] for w in weeks) == 3


def test_practice_feeds_the_trend_and_the_study_load(student: tuple[HandlerClient, str],
                                                     question_ids: dict[str, list[str]]) -> None:
    client, user_id = student
    now = datetime.now(UTC)
    board = client.get(f"{API}/analytics/dashboard").data
    assert board["study_load"]["signal"] == "not_enough_data"
    assert board["accuracy_trend"]["weeks_with_data"] == 0
    ids = question_ids["Chemical Kinetics"]
    for n in range(4):
        answer(user_id, ids[n], n != 0, 3, now + timedelta(seconds=n), seconds=90)
    board = client.get(f"{API}/analytics/dashboard").data  # new activity: not the cached answer
    this_week = board["accuracy_trend"]["weeks"][-1]
    assert (this_week["practice_answered"], this_week["practice_correct"]) == (4, 3)
    today = board["study_load"]["days"][-1]
    assert today["date"] == board["today"] and today["answered"] == 4 and today["minutes"] == 6.0
    kinetics = next(c for s in board["heatmap"]["subjects"] for c in s["chapters"]
                    if c["chapter"] == "Chemical Kinetics")
    assert (kinetics["questions"], kinetics["correct"]) == (4, 3)


def test_analytics_needs_a_token(analytics_fn: Any) -> None:
    anonymous = HandlerClient(analytics_fn)
    for path in ("calibration", "subjects", "tests", "dashboard"):
        assert anonymous.get(f"{API}/analytics/{path}").status == 401


def test_counters_are_items_of_the_students_own_partition(student: tuple[HandlerClient, str],
                                                          question_ids: dict[str, list[str]]) -> None:
    _, user_id = student
    answer(user_id, question_ids["Electrochemistry"][0], True, 3, datetime.now(UTC))
    [stats] = analytics_store.subject_stats(user_id)
    assert stats.pk == student_key(user_id) and stats.sk == "STATS#JEE#Chemistry"
    [topic] = analytics_store.topic_stats(user_id, "JEE", "Chemistry")
    assert topic.sk == "TSTATS#JEE#Chemistry#Electrochemistry" and int(topic.seconds) == 60
