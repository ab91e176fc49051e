"""The progress engine (mindly.services.progress) against moto and the local Redis endpoint, and the
progress function's endpoints through its real Lambda handler (API.md "Progress and gamification").

Activities are recorded with explicit instants, so each test owns its days and weeks; students are
fresh ids, so tests never see each other's XP.
"""

from __future__ import annotations

import uuid
from concurrent.futures import ThreadPoolExecutor
from datetime import UTC, date, datetime, timedelta
from typing import Any

import pytest
from support import HandlerClient, register

from mindly.cache import leaderboard as boards
from mindly.cache.client import get_redis
from mindly.domain import badges as badge_rules
from mindly.domain import calendar
from mindly.exceptions import ValidationFailed
from mindly.services import badges as badge_catalog
from mindly.services import leaderboard
from mindly.services import progress as engine
from mindly.store import progress as store

API = "/api/v1"
ZONE = "Asia/Kolkata"


def _student(zone: str = ZONE, goal: int = 20, name: str = "Asha") -> engine.Student:
    return engine.Student(user_id=uuid.uuid4().hex, timezone=zone, daily_goal=goal, name=name)


def _answer(student: engine.Student, at: datetime, correct: bool = True, exam: str | None = "GATE",
            key: str | None = None, mirror: bool = True) -> engine.Recorded:
    activity = engine.Activity(key=key or uuid.uuid4().hex, kind="answer", at=at, correct=correct, exam=exam)
    return engine.record_activity(student, activity, ZONE, leaderboard.mirror_award(student.name) if mirror else None)


def _review(student: engine.Student, at: datetime, key: str | None = None) -> engine.Recorded:
    activity = engine.Activity(key=key or uuid.uuid4().hex, kind="review", at=at, exam="GATE")
    return engine.record_activity(student, activity, ZONE, leaderboard.mirror_award(student.name))


def _noon(day: date, zone: str = ZONE) -> datetime:
    return calendar.day_starts_at(day, zone) + timedelta(hours=12)


def _view(student: engine.Student, now: datetime) -> dict[str, Any]:
    return engine.progress_view(student, ZONE, now)


# --- XP, counters, daily goal ---------------------------------------------------------------------

def test_xp_counters_and_the_goal_bonus_once() -> None:
    # Given a student with a daily goal of 3 questions
    student = _student(goal=3)
    day = date(2031, 5, 6)
    # When they answer right, wrong, review a card, then answer twice more
    awarded = [_answer(student, _noon(day), correct=True).xp_awarded,
               _answer(student, _noon(day), correct=False).xp_awarded,
               _review(student, _noon(day)).xp_awarded,
               _answer(student, _noon(day), correct=True).xp_awarded,
               _answer(student, _noon(day), correct=True).xp_awarded]
    # Then +10, 0, +5, +10 and the 50 bonus with the third answer, then only +10
    assert awarded == [10, 0, 5, 60, 10]
    view = _view(student, _noon(day))
    assert view["xp_total"] == 85
    assert view["today"] == {"date": "2031-05-06", "questions_answered": 4, "goal_questions": 4,
                             "cards_reviewed": 1, "xp": 85, "daily_goal": 3, "goal_met": True}
    assert view["xp_this_week"] == 85


def test_the_same_activity_key_counts_once_and_answers_the_same() -> None:
    # Given one recorded answer
    student = _student()
    at = _noon(date(2031, 5, 7))
    first = _answer(student, at, key="attempt-1")
    # When the client retries it
    again = _answer(student, at, key="attempt-1")
    # Then nothing more is counted and the retry says what the first did
    assert (first.duplicate, again.duplicate) == (False, True)
    assert again.xp_awarded == first.xp_awarded == 10
    assert _view(student, at)["xp_total"] == 10
    assert _view(student, at)["today"]["questions_answered"] == 1


def test_fifty_concurrent_activities_give_exact_totals() -> None:
    # Given 25 correct answers and 25 reviews arriving at once for one student (goal 20)
    student = _student(goal=20)
    at = _noon(date(2031, 5, 8))
    jobs = [("answer", f"a{i}") for i in range(25)] + [("review", f"r{i}") for i in range(25)]

    def record(job: tuple[str, str]) -> engine.Recorded:
        kind, key = job
        return _answer(student, at, key=key) if kind == "answer" else _review(student, at, key=key)

    # When they are recorded concurrently
    with ThreadPoolExecutor(max_workers=50) as pool:
        results = list(pool.map(record, jobs))
    # Then every activity counted exactly once, the bonus exactly once, the streak once
    assert sum(r.xp_awarded for r in results) == 25 * 10 + 25 * 5 + 50
    assert sum(1 for r in results if r.xp_awarded in (60, 55)) == 1  # the one that met the goal
    view = _view(student, at)
    assert view["xp_total"] == 425 and view["xp_this_week"] == 425
    assert view["today"]["questions_answered"] == 25 and view["today"]["cards_reviewed"] == 25
    assert view["current_streak"] == 1
    progress = store.get_progress(student.user_id)
    assert progress is not None and int(progress.version) == 50
    # And the Redis leaderboard mirror agrees with DynamoDB
    week = engine.leaderboard_week(at, ZONE)
    assert leaderboard.weekly(student.user_id, week, None)["me"]["xp"] == 425


def test_concurrent_retries_of_the_same_keys_count_once() -> None:
    # Given 10 distinct answers, each sent 5 times at once (client retries)
    student = _student(goal=100)
    at = _noon(date(2031, 5, 9))
    keys = [f"attempt-{i % 10}" for i in range(50)]
    # When all 50 requests race
    with ThreadPoolExecutor(max_workers=25) as pool:
        results = list(pool.map(lambda key: _answer(student, at, key=key), keys))
    # Then each key counted once. (At most ten answers say they recorded first: when a write's
    # answer is lost to a timeout and the client's retry finds it applied, that retry reports the
    # activity as already recorded, which it was.)
    assert sum(1 for r in results if not r.duplicate) <= 10
    assert all(r.xp_awarded == 10 for r in results)
    assert _view(student, at)["xp_total"] == 100
    assert _view(student, at)["today"]["questions_answered"] == 10


def test_a_transaction_whose_answer_is_lost_counts_once(monkeypatch: pytest.MonkeyPatch) -> None:
    # Given DynamoDB applying the activity's transaction but the answer timing out on the way back
    from botocore.exceptions import ReadTimeoutError
    from pynamodb.connection.base import Connection

    dispatch = Connection.dispatch
    lost = {"done": False}

    def applied_then_timed_out(self: Any, operation: str, kwargs: dict[str, Any]) -> Any:
        answer = dispatch(self, operation, kwargs)
        if operation == "TransactWriteItems" and not lost["done"]:
            lost["done"] = True
            raise ReadTimeoutError(endpoint_url="http://127.0.0.1")
        return answer

    monkeypatch.setattr(Connection, "dispatch", applied_then_timed_out)
    student = _student()
    at = _noon(date(2031, 5, 11))
    # When the activity is recorded
    recorded = _answer(student, at, key="lost-answer")
    # Then it is found recorded on the re-read, and counted once
    assert lost["done"] and recorded.xp_awarded == 10
    assert _view(student, at)["xp_total"] == 10 and _view(student, at)["today"]["questions_answered"] == 1


def test_a_read_that_times_out_is_read_again(monkeypatch: pytest.MonkeyPatch) -> None:
    from botocore.exceptions import ReadTimeoutError
    from pynamodb.connection.base import Connection

    dispatch = Connection.dispatch
    timed_out = {"count": 0}

    def slow_reads(self: Any, operation: str, kwargs: dict[str, Any]) -> Any:
        # Given the first BatchGetItems of the activity path getting no answer (each one retried by
        # pynamodb itself, as it does, before it gives up)
        if operation == "BatchGetItem" and timed_out["count"] < 4:
            timed_out["count"] += 1
            raise ReadTimeoutError(endpoint_url="http://127.0.0.1")
        return dispatch(self, operation, kwargs)

    monkeypatch.setattr(Connection, "dispatch", slow_reads)
    student = _student()
    at = _noon(date(2031, 5, 12))
    # When an activity is recorded, Then it is, once
    assert _answer(student, at, key="slow-read").xp_awarded == 10
    assert timed_out["count"] == 4
    assert _view(student, at)["xp_total"] == 10


@pytest.mark.parametrize("botocore_retries", [False, True], ids=["answer-timed-out", "retry-refused"])
def test_an_applied_transaction_whose_answer_is_lost_still_reaches_the_leaderboard(
        monkeypatch: pytest.MonkeyPatch, botocore_retries: bool) -> None:
    from botocore.exceptions import ReadTimeoutError
    from pynamodb.connection.base import Connection

    # Given this week's board held in Redis
    student = _student()
    at = _noon(date(2031, 5, 13))
    week = engine.leaderboard_week(at, ZONE)
    assert leaderboard.weekly(student.user_id, week, None)["me"]["xp"] == 0
    # And DynamoDB applying the activity's transaction while its answer is lost: the call times out,
    # or botocore's own retry of it (as it retries a read timeout) is refused, the activity being there
    dispatch = Connection.dispatch
    lost = {"done": False}

    def applied_answer_lost(self: Any, operation: str, kwargs: dict[str, Any]) -> Any:
        if operation != "TransactWriteItems" or lost["done"]:
            return dispatch(self, operation, kwargs)
        lost["done"] = True
        dispatch(self, operation, kwargs)
        if botocore_retries:
            return dispatch(self, operation, kwargs)  # cancelled: ConditionalCheckFailed on the activity
        raise ReadTimeoutError(endpoint_url="http://127.0.0.1")

    monkeypatch.setattr(Connection, "dispatch", applied_answer_lost)
    # When an answer is recorded
    recorded = _answer(student, at, key="lost-answer-board")
    # Then it counted once, and the board shows it as DynamoDB does
    assert lost["done"] and recorded.xp_awarded == 10
    assert _view(student, at)["xp_this_week"] == 10
    assert leaderboard.weekly(student.user_id, week, None)["me"]["xp"] == 10
    assert leaderboard.weekly(student.user_id, week, "GATE")["me"]["xp"] == 10


def test_bad_activities_are_refused_before_anything_is_written() -> None:
    student = _student()
    at = _noon(date(2031, 5, 10))
    for activity in (engine.Activity(key="k", kind="cheat", at=at),
                     engine.Activity(key="", kind="answer", at=at, correct=True),
                     engine.Activity(key="x" * 129, kind="answer", at=at, correct=True),
                     engine.Activity(key="k", kind="answer", at=at.replace(tzinfo=None), correct=True)):
        with pytest.raises(ValidationFailed):
            engine.record_activity(student, activity, ZONE)
    assert store.get_progress(student.user_id) is None


# --- streaks in the student's own zone --------------------------------------------------------------

def test_each_student_rolls_over_at_their_own_midnight() -> None:
    # Given a student in Kolkata and one in New York, both active at the same two instants:
    # 2031-03-08 23:30 New York time (2031-03-09 10:00 Kolkata) and three hours later
    kolkata, new_york = _student("Asia/Kolkata"), _student("America/New_York")
    first = datetime(2031, 3, 9, 4, 30, tzinfo=UTC)
    later = first + timedelta(hours=3)
    for student in (kolkata, new_york):
        _answer(student, first)
        _answer(student, later)
    # Then New York crossed its midnight between them (two days), Kolkata did not (one day)
    assert _view(new_york, later)["current_streak"] == 2
    assert _view(kolkata, later)["current_streak"] == 1
    assert _view(new_york, later)["last_active_date"] == "2031-03-09"
    assert _view(kolkata, later)["today"]["questions_answered"] == 2
    assert _view(new_york, later)["today"]["questions_answered"] == 1


def test_a_daylight_saving_day_is_one_day() -> None:
    # Given a New York student active in the evening before and after the spring-forward night
    student = _student("America/New_York")
    zone = "America/New_York"
    for day in (date(2031, 3, 8), date(2031, 3, 9), date(2031, 3, 10)):  # 2031-03-09 has 23 hours
        _answer(student, calendar.day_starts_at(day, zone) + timedelta(hours=22, minutes=30))
    # Then each local day counted once
    assert _view(student, calendar.day_starts_at(date(2031, 3, 10), zone) + timedelta(hours=23))[
        "current_streak"] == 3


def test_a_week_of_days_earns_a_freeze_that_saves_a_missed_day() -> None:
    # Given a student active seven days running
    student = _student()
    start = date(2031, 6, 2)
    for offset in range(7):
        _answer(student, _noon(start + timedelta(days=offset)))
    assert _view(student, _noon(start + timedelta(days=6)))["streak_freezes"] == 1
    # When they miss day 8, a read on day 9 (before any job ran) already shows the freeze spent
    day9 = start + timedelta(days=8)
    shown = _view(student, _noon(day9))
    assert (shown["current_streak"], shown["streak_freezes"]) == (7, 0)
    # And studying on day 9 extends the streak to 8
    assert _answer(student, _noon(day9)).current_streak == 8
    # When they then miss two days with no freeze, the streak is gone on the read, longest kept
    shown = _view(student, _noon(day9 + timedelta(days=3)))
    assert (shown["current_streak"], shown["longest_streak"]) == (0, 8)
    assert _answer(student, _noon(day9 + timedelta(days=3))).current_streak == 1


def test_a_running_streak_is_filed_for_the_job_at_the_end_of_its_first_uncovered_day() -> None:
    # Given a New York student active on 2031-07-01
    student = _student("America/New_York")
    _answer(student, datetime(2031, 7, 1, 16, 0, tzinfo=UTC))
    progress = store.get_progress(student.user_id)
    assert progress is not None
    # Then the job will find it when 2031-07-02 ends in New York: 2031-07-03 04:00 UTC
    shard = store.shard_of(student.user_id, store.ACTIVE_SHARDS)
    assert progress.active_pk == f"ACTIVE#2031-07-03#{shard}"
    assert progress.active_sk == f"2031-07-03T04:00:00Z#{student.user_id}"


# --- badges ----------------------------------------------------------------------------------------

@pytest.fixture
def small_catalog(monkeypatch: pytest.MonkeyPatch) -> tuple[badge_rules.Badge, ...]:
    """A catalog with low thresholds, evaluated by the same engine as the real one."""
    catalog = tuple(badge_rules.parse_catalog([
        {"badge_id": "three-answers", "name": "Three", "description": "Answer 3 questions.",
         "criteria": {"metric": "questions_answered", "op": ">=", "value": 3}},
        {"badge_id": "gate-mini-master", "name": "GATE Mini Master", "description": "5 GATE at 80%.",
         "criteria": {"all": [{"metric": "exam.GATE.answered", "op": ">=", "value": 5},
                              {"metric": "exam.GATE.accuracy", "op": ">=", "value": 0.8}]}},
    ]))
    monkeypatch.setattr(badge_catalog, "catalog", lambda now=None: catalog)
    return catalog


def test_a_badge_is_awarded_exactly_once_under_a_race(small_catalog: Any) -> None:
    # Given ten answers arriving at once, the third of which crosses the badge's threshold
    student = _student(goal=100)
    at = _noon(date(2031, 8, 1))
    with ThreadPoolExecutor(max_workers=10) as pool:
        results = list(pool.map(lambda _i: _answer(student, at, exam="JEE"), range(10)))
    # Then exactly one activity earned it, and it is stored once
    assert sum(r.badges_earned.count("three-answers") for r in results) == 1
    assert [b.badge_id for b in store.earned_badges(student.user_id)] == ["three-answers"]


def test_an_exam_master_badge_needs_both_volume_and_accuracy(small_catalog: Any) -> None:
    # Given one student with 5 GATE answers, 4 right (80%) and one with 5 answers, 3 right (60%)
    at = _noon(date(2031, 8, 2))
    accurate, sloppy = _student(), _student()
    for index in range(5):
        _answer(accurate, at, correct=index != 0)
        _answer(sloppy, at, correct=index >= 2)
    # Then only the accurate one is a master
    assert "gate-mini-master" in {b.badge_id for b in store.earned_badges(accurate.user_id)}
    assert "gate-mini-master" not in {b.badge_id for b in store.earned_badges(sloppy.user_id)}


def test_the_catalog_is_data_seeded_once_and_read_back() -> None:
    # When the bundled catalog is seeded twice
    first = badge_catalog.seed()
    second = badge_catalog.seed()
    # Then the second run changes nothing, and the stored catalog is the bundled one
    assert second == {"badges": first["badges"], "written": 0, "unchanged": first["badges"]}
    assert badge_catalog.catalog() == badge_rules.bundled_catalog()


# --- leaderboard ----------------------------------------------------------------------------------

def _week_of_students(week_monday: date, xps: list[int], exam: str = "CAT") -> list[engine.Student]:
    """Students earning exactly ``xps`` (multiples of 10) in the ISO week starting ``week_monday``,
    with as few activities as the rules allow: a daily goal of 1 makes a first (wrong) answer worth
    the 50 bonus, then +10 per right answer."""
    students = []
    for index, xp in enumerate(xps):
        student = _student(goal=1 if xp >= 50 else 500, name=f"Student {index:02d}")
        at = _noon(week_monday + timedelta(days=index % 7))
        if xp >= 50:
            _answer(student, at, correct=False, exam=exam)
        for _ in range((xp % 50 if xp >= 50 else xp) // 10):
            _answer(student, at, exam=exam)
        students.append(student)
    return students


def test_weekly_board_top_ten_ties_and_my_rank_survive_losing_redis() -> None:
    # Given twelve students of one week, with ties
    monday = date(2031, 9, 1)
    week = calendar.iso_week(monday)
    xps = [50, 60, 60, 70, 10, 50, 20, 20, 80, 90, 10, 30]
    students = _week_of_students(monday, xps)
    # When the board is read (built from DynamoDB, then served from Redis)
    caller = students[4]  # 10 XP, tied for last
    built = leaderboard.weekly(caller.user_id, week, None)
    warm = leaderboard.weekly(caller.user_id, week, None)
    # Then the top ten is by XP, ties by user id descending, and the caller sees their own rank
    expected = sorted(((s.user_id, xp) for s, xp in zip(students, xps, strict=True)),
                      key=lambda e: (e[1], e[0]), reverse=True)
    assert [(t["user_id"], t["xp"]) for t in warm["top"]] == expected[:10]
    assert [t["rank"] for t in warm["top"]] == list(range(1, 11))
    assert warm["top"][0]["name"] == "Student 09"
    assert warm["me"] == {"rank": [uid for uid, _ in expected].index(caller.user_id) + 1, "xp": 10}
    assert warm["me"]["rank"] in (11, 12)
    assert built == warm
    # And when Redis loses every board, the rebuild gives the same answer
    get_redis().flushall()
    assert leaderboard.weekly(caller.user_id, week, None) == warm
    # And a per-exam board ranks the exam's XP
    assert leaderboard.weekly(caller.user_id, week, "CAT")["top"] == warm["top"]
    assert leaderboard.weekly(caller.user_id, week, "NEET") == {"week": week, "top": [],
                                                                "me": {"rank": None, "xp": 0}}


def test_the_board_is_served_from_dynamodb_when_redis_is_down(upstash: Any) -> None:
    monday = date(2031, 9, 8)
    week = calendar.iso_week(monday)
    students = _week_of_students(monday, [30, 20])
    warm = leaderboard.weekly(students[0].user_id, week, None)
    # When Redis stops answering, awards and reads still work from DynamoDB
    upstash.set_down(True)
    _answer(students[1], _noon(monday), mirror=True)
    _answer(students[1], _noon(monday), mirror=True)
    down = leaderboard.weekly(students[0].user_id, week, None)
    assert [(t["user_id"], t["xp"]) for t in down["top"]] == [(students[1].user_id, 40), (students[0].user_id, 30)]
    assert warm["me"] == {"rank": 1, "xp": 30} and down["me"] == {"rank": 2, "xp": 30}
    # And once Redis is back the board it held is stale, so it is rebuilt (the awards made while
    # it was down are in DynamoDB)
    upstash.set_down(False)
    get_redis().flushall()
    assert leaderboard.weekly(students[0].user_id, week, None) == down


def test_an_award_during_a_rebuild_is_not_lost() -> None:
    # Given a rebuild that has raised its marker and read DynamoDB (stale: 30 XP)
    redis = get_redis()
    week, user = "2031-W40", uuid.uuid4().hex
    boards.begin_rebuild(redis, week, None)
    stale = [(user, 30, "Asha")]
    # When an award lands before the rebuild loads what it read
    assert boards.set_totals(redis, week, {None: 40}, user, "Asha") == 1
    boards.load(redis, week, None, stale)
    # Then the board keeps the newer total
    board = boards.read(redis, week, None, user)
    assert board is not None and board.my_xp == 40
    # And an award to a board Redis does not have is left to the next rebuild
    assert boards.set_totals(redis, "2031-W41", {None: 10}, user, "Asha") == 0
    assert boards.read(redis, "2031-W41", None, user) is None


# --- the endpoints --------------------------------------------------------------------------------

@pytest.fixture
def student_client(auth_fn: Any, progress_fn: Any) -> tuple[HandlerClient, str]:
    answer = register(auth_fn, name="Meera Iyer")
    assert answer.status == 201, answer
    return HandlerClient(progress_fn, token=answer.data["access_token"]), answer.data["user"]["id"]


def _put_profile(profile_fn: Any, client: HandlerClient, **changes: Any) -> None:
    body = {"exam_type": "GATE", "level": "beginner", "study_hours_per_day": 2, "target_date": "2035-01-01",
            "weak_subjects": [], **changes}
    answer = HandlerClient(profile_fn, token=client.token).put(f"{API}/profile", body)
    assert answer.status == 200, answer


def test_get_progress_of_a_new_student(student_client: tuple[HandlerClient, str]) -> None:
    client, _ = student_client
    answer = client.get(f"{API}/progress")
    assert answer.status == 200, answer
    data = answer.data
    assert set(data) == {"xp_total", "xp_this_week", "current_streak", "longest_streak", "last_active_date",
                         "streak_freezes", "today"}
    assert (data["xp_total"], data["current_streak"], data["last_active_date"]) == (0, 0, None)
    assert set(data["today"]) == {"date", "questions_answered", "goal_questions", "cards_reviewed", "xp",
                                  "daily_goal", "goal_met"}
    assert data["today"]["daily_goal"] == 20


def test_progress_reflects_activity_recorded_now(student_client: tuple[HandlerClient, str]) -> None:
    client, user_id = student_client
    student = engine.student_of(user_id, "Meera Iyer")
    engine.record_activity(student, engine.Activity(key="now-1", kind="answer", at=datetime.now(UTC), correct=True,
                                                    exam="GATE"), ZONE, leaderboard.mirror_award(student.name))
    data = client.get(f"{API}/progress").data
    assert (data["xp_total"], data["xp_this_week"], data["current_streak"]) == (10, 10, 1)
    board = client.get(f"{API}/leaderboard/weekly", query={"exam": "gate"})
    assert board.status == 200, board
    assert board.data["me"]["xp"] == 10 and board.data["me"]["rank"] >= 1
    assert any(t["user_id"] == user_id and t["name"] == "Meera Iyer" for t in board.data["top"]) \
        or board.data["me"]["rank"] > 10


def test_daily_goal_is_validated_stored_and_pays_once(student_client: tuple[HandlerClient, str],
                                                      profile_fn: Any) -> None:
    client, user_id = student_client
    # Given no profile yet: the goal has nowhere to live
    assert client.put(f"{API}/progress/daily-goal", {"target_questions": 5}).status == 404
    _put_profile(profile_fn, client)
    # Bad bodies are 422 in the envelope
    for body in ({"target_questions": 0}, {"target_questions": 501}, {"target_questions": "5"}, {},
                 {"target_questions": 5, "extra": 1}):
        answer = client.put(f"{API}/progress/daily-goal", body)
        assert answer.status == 422, (body, answer)
        assert answer.json["errors"][0]["code"] == "VALIDATION_ERROR"
    # Given three answers today
    student = engine.student_of(user_id, "Meera Iyer")
    for index in range(3):
        engine.record_activity(student, engine.Activity(key=f"g{index}", kind="answer", at=datetime.now(UTC),
                                                        correct=True), ZONE)
    # When the goal is lowered to 3, the bonus is paid now; raising and lowering again pays nothing
    today = client.put(f"{API}/progress/daily-goal", {"target_questions": 3})
    assert today.status == 200, today
    assert (today.data["goal_met"], today.data["xp"], today.data["daily_goal"]) == (True, 80, 3)
    assert client.put(f"{API}/progress/daily-goal", {"target_questions": 50}).data["xp"] == 80
    assert client.put(f"{API}/progress/daily-goal", {"target_questions": 2}).data["xp"] == 80
    assert client.get(f"{API}/progress").data["xp_total"] == 80
    # And the profile holds the new goal
    profile = HandlerClient(profile_fn, token=client.token).get(f"{API}/profile")
    assert profile.data["daily_goal"] == 2


def test_badges_endpoint_lists_earned_and_available(student_client: tuple[HandlerClient, str]) -> None:
    client, user_id = student_client
    badge_catalog.seed()
    answer = client.get(f"{API}/progress/badges")
    assert answer.status == 200, answer
    assert answer.data["earned"] == []
    available = {b["badge_id"]: b for b in answer.data["available"]}
    assert {"streak-7", "streak-30", "questions-100", "questions-500", "cards-1000", "goal-7-days",
            "gate-master", "upsc-master", "jee-master", "cat-master", "neet-master"} <= set(available)
    assert available["gate-master"]["name"] == "GATE Master"
    # When the student earns one (a stored badge item), it moves to earned with its time
    store.BadgeItem(store.student_key(user_id), "BADGE#streak-7", badge_id="streak-7",
                    earned_at=datetime(2031, 1, 1, tzinfo=UTC)).save()
    earned = client.get(f"{API}/progress/badges").data["earned"]
    assert earned == [{"badge_id": "streak-7", "name": "Week Warrior", "description": "Keep a 7-day study streak.",
                       "earned_at": "2031-01-01T00:00:00Z"}]


def test_leaderboard_rejects_an_unknown_exam(student_client: tuple[HandlerClient, str]) -> None:
    client, _ = student_client
    answer = client.get(f"{API}/leaderboard/weekly", query={"exam": "MBA"})
    assert answer.status == 422, answer
    assert answer.json["errors"][0]["code"] == "INVALID_EXAM_TYPE"


def test_progress_is_503_not_500_when_dynamodb_gives_no_answer(student_client: tuple[HandlerClient, str],
                                                                 monkeypatch: pytest.MonkeyPatch) -> None:
    from botocore.exceptions import ReadTimeoutError
    from pynamodb.connection.base import Connection

    client, _ = student_client
    dispatch = Connection.dispatch

    def no_answer(self: Any, operation: str, kwargs: dict[str, Any]) -> Any:
        if operation == "BatchGetItem":
            raise ReadTimeoutError(endpoint_url="http://127.0.0.1")
        return dispatch(self, operation, kwargs)

    # Given DynamoDB not answering the progress read (still after botocore's retries)
    monkeypatch.setattr(Connection, "dispatch", no_answer)
    # When the student asks for their progress
    answer = client.get(f"{API}/progress")
    # Then they are told to try again shortly, as for any busy store
    assert answer.status == 503, answer.text
    assert answer.json["errors"][0]["code"] == "SERVICE_UNAVAILABLE" and answer.headers["retry-after"] == "1"


def test_progress_endpoints_need_a_token(progress_fn: Any) -> None:
    anonymous = HandlerClient(progress_fn)
    for path in ("/progress", "/progress/badges", "/leaderboard/weekly"):
        answer = anonymous.get(f"{API}{path}")
        assert answer.status == 401, (path, answer)
        assert answer.json["success"] is False


def test_a_failed_condition_on_a_callers_item_is_told_apart_from_a_repeated_activity(local_aws: Any) -> None:
    # pynamodb sends a transaction's deletes before its puts: a removal whose condition fails must
    # read as the caller's conflict, not as "this activity was recorded already".
    from mindly.store.analytics import SubjectStatsItem
    from mindly.store.progress import ExtraConflict, Increment, Removal

    student = engine.Student(user_id=f"tx-{uuid.uuid4().hex[:10]}")
    ghost = store.JobCursorItem(store.student_key(student.user_id), "NOT-THERE", next_day="2026-01-01",
                                updated_at=datetime.now(UTC))
    activity = engine.Activity(key=uuid.uuid4().hex, kind="answer", at=datetime.now(UTC), correct=True)
    with pytest.raises(ExtraConflict):
        engine.record_activity(student, activity, "Asia/Kolkata",
                               extra=[Removal(ghost, store.JobCursorItem.pk.exists())])
    # and the same activity then records normally, an Increment creating its counter item
    counter = SubjectStatsItem(store.student_key(student.user_id), "STATS#JEE#Physics")
    engine.record_activity(student, activity, "Asia/Kolkata", extra=[
        Increment(counter, [SubjectStatsItem.kind.set(SubjectStatsItem), SubjectStatsItem.attempts.add(2)])])
    again = engine.record_activity(student, activity, "Asia/Kolkata", extra=[
        Increment(counter, [SubjectStatsItem.kind.set(SubjectStatsItem), SubjectStatsItem.attempts.add(2)])])
    assert again.duplicate
    [stored] = SubjectStatsItem.query(store.student_key(student.user_id), SubjectStatsItem.sk.startswith("STATS#"))
    assert int(stored.attempts) == 2
