"""Analytics: the weekly calibration report, subject accuracy, recorded mock tests and the dashboard.

Every read is a Query of the student's own partition, bounded by what the student did in the
period (never a Scan). Each report starts with one BatchGetItem of the student's context (profile,
PROGRESS, the mock-test count); reports that cost more than that are cached in Redis under a key
holding the PROGRESS version and the mock-test count, which every answer, review and recorded test
changes, so new activity invalidates the cache without the write path touching Redis. A finished
week's calibration cannot change any more and is cached without the version.
"""

from __future__ import annotations

import uuid
from collections import defaultdict
from datetime import date, datetime, timedelta
from typing import Any, NamedTuple

from mindly.cache.client import get_json, set_json
from mindly.cache.client import key as redis_key
from mindly.domain import calendar, calibration, mastery, performance, syllabus
from mindly.exceptions import Conflict, NotFound, ServiceUnavailable, ValidationFailed
from mindly.services import pages
from mindly.services import profile as profiles
from mindly.store import analytics as store
from mindly.store import attempts as attempt_store
from mindly.store import mastery as mastery_store
from mindly.store import users
from mindly.store.errors import AlreadyExists, OutcomeUnknown, StaleWrite
from mindly.store.models import StudyTable, UsersTable, batch_read
from mindly.store.progress import ProgressItem, student_key

CURRENT_CACHE_SECONDS = 3600
FINISHED_WEEK_CACHE_SECONDS = 7 * 24 * 3600
CONFIDENT_ERROR_MIN = 4
MAX_CONFIDENT_ERRORS = 100
TREND_WEEKS = 12
DASHBOARD_TESTS = 100  # the latest tests the dashboard reads (one Query page)
MIN_CHAPTER_QUESTIONS = 5
WEAK_CHAPTERS = 10


class Context(NamedTuple):
    """What every report reads first, in one BatchGetItem."""

    zone: str
    exam: str | None  # the profile's exam
    version: int  # PROGRESS version: changes with every activity
    tests: int  # mock tests recorded


def _context(user_id: str) -> Context:
    pk = student_key(user_id)
    found_profiles, study = batch_read([
        (UsersTable, [(users.user_key(user_id), "PROFILE")]),
        (StudyTable, [(pk, "PROGRESS"), (pk, store.MOCK_COUNTER)]),
    ])
    profile = next(iter(found_profiles), None)
    progress = next((item for item in study if isinstance(item, ProgressItem)), None)
    counter = next((item for item in study if isinstance(item, store.MockCounterItem)), None)
    return Context(zone=str(profile.timezone) if profile else profiles.DEFAULT_TIMEZONE,
                   exam=str(profile.exam_type) if profile else None,
                   version=int(progress.version) if progress else 0,
                   tests=int(counter.tests_recorded) if counter else 0)


def _exam(requested: str | None, context: Context) -> str:
    if requested:
        return profiles.exam_code(requested)
    if context.exam is None:
        raise NotFound("No exam given and no profile set; pass exam= or PUT /api/v1/profile first")
    return context.exam


def _ratio(correct: int, total: int) -> float | None:
    return round(correct / total, 4) if total else None


# --- calibration ---------------------------------------------------------------------------------

def _week_of(week: str | None, today: date) -> tuple[str, date]:
    if week is None:
        return calendar.iso_week(today), today - timedelta(days=today.weekday())
    try:
        monday = calendar.week_monday(week)
    except ValueError as exc:
        raise ValidationFailed("week must be an ISO week like 2026-W47 that exists", field="week") from exc
    if not 2000 <= monday.year <= 2100:
        raise ValidationFailed("week must be between 2000 and 2100", field="week")
    return week, monday


def calibration_report(user_id: str, week: str | None, now: datetime) -> dict[str, Any]:
    """GET /analytics/calibration (API.md "Analytics"): the week's answers in the student's zone."""
    context = _context(user_id)
    name, monday = _week_of(week, calendar.local_date(now, context.zone))
    start = calendar.day_starts_at(monday, context.zone)
    end = calendar.day_starts_at(monday + timedelta(days=7), context.zone)
    finished = end <= now
    cache_key = redis_key("analytics", "calibration", user_id, name, context.zone,
                          "final" if finished else str(context.version))
    cached = get_json(cache_key)
    if isinstance(cached, dict):
        return cached
    # A mock test's answer the student gave no confidence rating says nothing about calibration.
    found = [a for a in attempt_store.attempts_between(user_id, start, end) if a.confidence_rating is not None]
    answers = [calibration.Answer(confidence=int(a.confidence_rating), correct=bool(a.is_correct),
                                  subject=str(a.subject), topic=str(a.topic), options=attempt_store.option_count(a))
               for a in found]
    confident_errors = [a for a in reversed(found)
                        if not a.is_correct and int(a.confidence_rating) >= CONFIDENT_ERROR_MIN]
    report = {"week": name, "timezone": context.zone, "starts_at": _instant(start), "ends_at": _instant(end),
              **calibration.report(answers),
              "confident_errors": [_error_view(a) for a in confident_errors[:MAX_CONFIDENT_ERRORS]],
              "confident_errors_total": len(confident_errors)}
    set_json(cache_key, report, FINISHED_WEEK_CACHE_SECONDS if finished else CURRENT_CACHE_SECONDS,
             owner=user_id)
    return report


def _instant(at: datetime) -> str:
    return at.strftime("%Y-%m-%dT%H:%M:%SZ")


def _error_view(item: attempt_store.AttemptItem) -> dict[str, Any]:
    return {"attempt_id": item.attempt_id, "question_id": item.question_id, "subject": item.subject,
            "topic": item.topic, "selected_option": item.selected_option, "correct_option": item.correct_option,
            "confidence_rating": int(item.confidence_rating), "attempted_at": _instant(item.attempted_at)}


# --- subject accuracy ----------------------------------------------------------------------------

def subject_accuracy(user_id: str, exam: str | None, subject: str | None) -> list[dict[str, Any]]:
    """GET /analytics/subjects: counters kept at submit time, one Query (one item a subject).
    With ``subject``, the topics of that subject instead (exam: the one given, else the profile's)."""
    if subject is None:
        code = profiles.exam_code(exam) if exam else None
        rows = store.subject_stats(user_id, code)
        return sorted(({"exam_type": r.exam_type, "subject": r.subject, "attempts": int(r.attempts),
                        "correct": int(r.correct), "accuracy": _ratio(int(r.correct), int(r.attempts))}
                       for r in rows), key=lambda row: (row["exam_type"], row["subject"]))
    code = profiles.exam_for(user_id, exam)
    canonical = syllabus.canonical_subject(code, subject)
    if canonical is None:
        raise ValidationFailed(f"'{subject[:60]}' is not a subject of {code}", field="subject")
    topics = store.topic_stats(user_id, code, canonical)
    return sorted(({"exam_type": t.exam_type, "subject": t.subject, "topic": t.topic, "attempts": int(t.attempts),
                    "correct": int(t.correct), "accuracy": _ratio(int(t.correct), int(t.attempts))}
                   for t in topics), key=lambda row: row["topic"])


def topic_mastery(user_id: str, exam: str | None) -> dict[str, Any]:
    """GET /analytics/mastery: every topic of the exam's syllabus (then any topic answered that the
    syllabus no longer lists), with the model's mastery (mindly.domain.mastery.mastery: the chance
    on a median-difficulty question, no guessing), the answers it learned from and the last one's
    time; an unanswered topic shows the prior. One BatchGetItem: the exam's item, or without
    ``exam`` the profile and every exam's item together."""
    if exam:
        code = profiles.exam_code(exam)
        item = mastery_store.read_mastery(user_id, code)
    else:
        found, item = mastery_store.read_profile_mastery(user_id)
        if found is None:
            raise NotFound("No exam given and no profile set; pass exam= or PUT /api/v1/profile first")
        code = found
    known = mastery_store.abilities(item)
    order = [(s.name, topic) for s in syllabus.subjects(code) for topic in s.topics]
    order += sorted(set(known) - set(order))
    return {"exam_type": code, "topics": [_mastery_row(subject, topic, known.get((subject, topic)))
                                          for subject, topic in order]}


def _mastery_row(subject: str, topic: str, known: mastery_store.TopicAbility | None) -> dict[str, Any]:
    ability = known.ability if known is not None else mastery.Ability()
    at = known.last_answered_at if known is not None else None
    return {"subject": subject, "topic": topic, "mastery": round(mastery.mastery(ability), 4),
            "answered": ability.answers, "last_answered_at": _instant(at) if at is not None else None}


# --- mock tests ----------------------------------------------------------------------------------

def _chapters(exam: str, chapters: list[dict[str, Any]], total: int, correct: int) -> list[dict[str, Any]]:
    seen: set[tuple[str, str]] = set()
    result = []
    for index, chapter in enumerate(chapters):
        field = f"chapters.{index}"
        subject = syllabus.canonical_subject(exam, chapter["subject"])
        if subject is None:
            raise ValidationFailed(f"'{chapter['subject'][:60]}' is not a subject of {exam}", field=f"{field}.subject")
        topic = syllabus.canonical_topic(exam, subject, chapter["chapter"])
        if topic is None:
            raise ValidationFailed(f"'{chapter['chapter'][:60]}' is not a chapter of {subject}",
                                   field=f"{field}.chapter")
        if (subject, topic) in seen:
            raise ValidationFailed(f"chapter '{topic}' is listed twice", field=f"{field}.chapter")
        seen.add((subject, topic))
        if chapter["correct"] > chapter["total"]:
            raise ValidationFailed("a chapter's correct must not exceed its total", field=f"{field}.correct")
        result.append({"subject": subject, "chapter": topic, "correct": chapter["correct"],
                       "total": chapter["total"]})
    if sum(c["total"] for c in result) > total:
        raise ValidationFailed("the chapters' totals exceed total_questions", field="chapters")
    if sum(c["correct"] for c in result) > correct:
        raise ValidationFailed("the chapters' correct answers exceed correct", field="chapters")
    return result


def record_mock_test(user_id: str, test: dict[str, Any], now: datetime) -> tuple[int, dict[str, Any]]:
    """POST /analytics/tests: ``(status, test)``; 201 when recorded, 200 when this test_id was
    recorded already with the same content (a retry), 409 when it was with other content."""
    exam = profiles.exam_code(test["exam_type"])
    if test["correct"] + test["wrong"] > test["total_questions"]:
        raise ValidationFailed("correct + wrong must not exceed total_questions", field="wrong")
    if test["score"] > test["max_score"]:
        raise ValidationFailed("score must not exceed max_score", field="score")
    if test["score"] < -test["max_score"]:
        raise ValidationFailed("score must not be below -max_score", field="score")
    context = _context(user_id)
    taken_on: date = test["taken_on"]
    if taken_on > calendar.local_date(now, context.zone) + timedelta(days=1):
        raise ValidationFailed("taken_on must not be in the future", field="taken_on")
    if taken_on.year < 2000:
        raise ValidationFailed("taken_on must be a date from 2000 on", field="taken_on")
    chapters = _chapters(exam, test.get("chapters") or [], test["total_questions"], test["correct"])
    test_id = test.get("test_id") or uuid.uuid4().hex
    item = store.MockTestItem(
        student_key(user_id), store.mock_sort_key(taken_on.isoformat(), test_id), test_id=test_id,
        test_name=test["test_name"].strip(), exam_type=exam, taken_on=taken_on.isoformat(),
        total_questions=test["total_questions"], correct=test["correct"], wrong=test["wrong"],
        time_taken_minutes=test["time_taken_minutes"], max_score=test["max_score"], score=test["score"],
        chapters=chapters, recorded_at=now)
    try:
        store.record_mock_test(item)
    except StaleWrite as exc:
        raise ServiceUnavailable("Too many tests recorded at once; try again") from exc
    except (AlreadyExists, OutcomeUnknown) as exc:
        existing = store.get_mock_test(user_id, test_id)
        if existing is None:
            raise ServiceUnavailable("The test could not be recorded; try again") from exc
        if isinstance(exc, OutcomeUnknown):
            return 201, mock_test_view(existing)  # our own write, whose answer was lost
        if _content(mock_test_view(existing)) != _content(mock_test_view(item)):
            raise Conflict("test_id was already used for another test", field="test_id") from exc
        return 200, mock_test_view(existing)
    return 201, mock_test_view(item)


def _content(view: dict[str, Any]) -> dict[str, Any]:
    return {k: v for k, v in view.items() if k not in ("recorded_at", "percent")}


def mock_test_view(item: store.MockTestItem) -> dict[str, Any]:
    max_score = float(item.max_score)
    return {"test_id": item.test_id, "test_name": item.test_name, "exam_type": item.exam_type,
            "taken_on": item.taken_on, "total_questions": int(item.total_questions), "correct": int(item.correct),
            "wrong": int(item.wrong), "unattempted": int(item.total_questions) - int(item.correct) - int(item.wrong),
            "time_taken_minutes": int(item.time_taken_minutes), "max_score": _number(max_score),
            "score": _number(float(item.score)), "percent": round(float(item.score) / max_score * 100, 2),
            "chapters": list(item.chapters or []), "recorded_at": _instant(item.recorded_at)}


def _number(value: float) -> float | int:
    return int(value) if value == int(value) else value


def mock_tests(user_id: str, page: int, limit: int, cursor: str | None) -> dict[str, Any]:
    """GET /analytics/tests: the student's recorded tests, latest taken first, one Query a page."""

    def fetch(start: pages.Key | None) -> tuple[list[Any], pages.Key | None]:
        return store.mock_tests_page(user_id, limit, start)

    return pages.paginate(fetch, page, limit, cursor, pages.Scope("analytics/tests", user_id),
                          {"pk": student_key(user_id)}, mock_test_view)


# --- dashboard -----------------------------------------------------------------------------------

def dashboard(user_id: str, exam: str | None, now: datetime) -> dict[str, Any]:
    """GET /analytics/dashboard (README "API notes"): trend, prediction, consistency, weak
    chapters, heatmap and study load, each with the numbers behind it."""
    context = _context(user_id)
    code = _exam(exam, context)
    today = calendar.local_date(now, context.zone)
    cache_key = redis_key("analytics", "dashboard", user_id, code, context.zone, today.isoformat(),
                          str(context.version), str(context.tests))
    cached = get_json(cache_key)
    if isinstance(cached, dict):
        return cached
    first_day = today - timedelta(days=today.weekday()) - timedelta(weeks=TREND_WEEKS - 1)
    days = store.days_between(user_id, first_day, today)
    tests = [t for t in reversed(store.recent_mock_tests(user_id, DASHBOARD_TESTS)) if t.exam_type == code]
    topics = store.topic_stats(user_id, code)
    percents = [float(t.score) / float(t.max_score) * 100 for t in tests]
    answer = {
        "exam_type": code,
        "today": today.isoformat(),
        "tests_recorded": len(tests),
        "accuracy_trend": _trend(days, tests, first_day, today),
        "predicted_next_score": _prediction(tests, percents),
        "consistency": performance.consistency_score(percents),
        **_chapter_views(code, tests, topics),
        "study_load": performance.study_load(
            [performance.DayLoad(day=date.fromisoformat(d.day), minutes=int(d.study_seconds or 0) / 60,
                                 answered=int(d.questions_answered), correct=int(d.questions_correct or 0))
             for d in days], today),
    }
    set_json(cache_key, answer, CURRENT_CACHE_SECONDS, owner=user_id)
    return answer


def _trend(days: list[Any], tests: list[store.MockTestItem], first_day: date, today: date) -> dict[str, Any]:
    weeks: dict[str, dict[str, int]] = defaultdict(lambda: {"answered": 0, "correct": 0, "tests": 0,
                                                            "test_correct": 0, "test_questions": 0,
                                                            "sat_correct": 0, "sat_questions": 0})
    for day in days:
        row = weeks[calendar.iso_week(date.fromisoformat(day.day))]
        row["answered"] += int(day.questions_answered)
        row["correct"] += int(day.questions_correct or 0)
    for test in tests:
        taken = date.fromisoformat(test.taken_on)
        if first_day <= taken <= today:
            row = weeks[calendar.iso_week(taken)]
            row["tests"] += 1
            row["test_correct"] += int(test.correct)
            row["test_questions"] += int(test.total_questions)
            if test.sat_here:  # its answers are in the days' tallies already: the combined figure counts them once
                row["sat_correct"] += int(test.correct)
                row["sat_questions"] += int(test.total_questions)
    rows: list[dict[str, Any]] = []
    for offset in range(TREND_WEEKS):
        name = calendar.iso_week(first_day + timedelta(weeks=offset))
        row = weeks.get(name, {"answered": 0, "correct": 0, "tests": 0, "test_correct": 0, "test_questions": 0,
                               "sat_correct": 0, "sat_questions": 0})
        total = row["answered"] + row["test_questions"] - row["sat_questions"]
        rows.append({"week": name, "practice_answered": row["answered"], "practice_correct": row["correct"],
                     "practice_accuracy": _ratio(row["correct"], row["answered"]), "tests": row["tests"],
                     "test_accuracy": _ratio(row["test_correct"], row["test_questions"]),
                     "accuracy": _ratio(row["correct"] + row["test_correct"] - row["sat_correct"], total)})
    points = [(index, row["accuracy"]) for index, row in enumerate(rows) if row["accuracy"] is not None]
    slope = None
    if len(points) >= 2 and len({x for x, _ in points}) >= 2:
        fit = performance.least_squares([x for x, _ in points], [y for _, y in points])
        slope = round(fit.slope, 4)
    return {"weeks": rows, "slope_per_week": slope, "weeks_with_data": len(points)}


def _prediction(tests: list[store.MockTestItem], percents: list[float]) -> dict[str, Any] | None:
    predicted = performance.predict_next_score(percents)
    if predicted is None:
        return None
    latest_max = float(tests[-1].max_score)
    return {**predicted, "max_score": _number(latest_max),
            "predicted_score": round(predicted["predicted_percent"] * latest_max / 100, 1),
            "scores_percent": [round(p, 2) for p in percents]}


def _chapter_views(exam: str, tests: list[store.MockTestItem], topics: list[Any]) -> dict[str, Any]:
    """Weak chapters by priority and the chapter-by-accuracy heatmap, from practice and mock tests."""
    tally: dict[tuple[str, str], dict[str, int]] = defaultdict(lambda: {"correct": 0, "total": 0,
                                                                        "practice": 0, "tests": 0})
    for topic in topics:
        row = tally[(str(topic.subject), str(topic.topic))]
        row["correct"] += int(topic.correct)
        row["total"] += int(topic.attempts)
        row["practice"] += int(topic.attempts)
    for test in tests:
        if test.sat_here:
            continue  # its answered questions are in the topic counters already
        for chapter in test.chapters or []:
            row = tally[(chapter["subject"], chapter["chapter"])]
            row["correct"] += int(chapter["correct"])
            row["total"] += int(chapter["total"])
            row["tests"] += int(chapter["total"])
    weak: list[dict[str, Any]] = []
    heatmap = []
    for subject in syllabus.subjects(exam):
        cells = []
        for topic in subject.topics:
            row = tally.get((subject.name, topic), {"correct": 0, "total": 0, "practice": 0, "tests": 0})
            accuracy = _ratio(row["correct"], row["total"])
            cells.append({"chapter": topic, "questions": row["total"], "correct": row["correct"],
                          "accuracy": accuracy, "band": performance.accuracy_band(accuracy)})
            if row["total"] >= MIN_CHAPTER_QUESTIONS:
                weight = syllabus.chapter_weightage(exam, subject.name, topic)
                weak.append({"subject": subject.name, "chapter": topic, "weightage": round(weight, 4),
                             "questions": row["total"], "correct": row["correct"],
                             "from_practice": row["practice"], "from_tests": row["tests"],
                             **performance.chapter_priority(weight, row["correct"], row["total"])})
        heatmap.append({"subject": subject.name, "weightage": round(syllabus.subject_weightage(exam, subject.name), 2),
                        "chapters": cells})
    weak.sort(key=lambda c: (-c["priority"], c["subject"], c["chapter"]))
    return {"weak_chapters": [c for c in weak if c["priority"] > 0][:WEAK_CHAPTERS],
            "heatmap": {"bands": [{"band": name, "min_accuracy": low} for name, low in performance.ACCURACY_BANDS],
                        "subjects": heatmap}}
