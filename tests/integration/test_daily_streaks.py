"""The daily-streak job through its real Lambda handler, invoked with a scheduled event (from
`sam local generate-event cloudwatch scheduled-event`), against moto and the local Redis endpoint.

Each test owns a far-future month of its own, and sets the job's cursor two days before its run
(as if the job had run until then), so the partitions a run reads hold only that test's students.
"""

from __future__ import annotations

import copy
import json
import uuid
from datetime import UTC, date, datetime, timedelta
from pathlib import Path
from typing import Any

import boto3
import pytest
from support import LambdaContext

from mindly.domain import calendar
from mindly.services import daily_streaks, leaderboard
from mindly.services import progress as engine
from mindly.store import progress as store

EVENTS = Path(__file__).resolve().parents[1] / "events"
ZONE = "Asia/Kolkata"


CURSOR_DAYS_BEFORE = 2


def set_cursor(day: date) -> None:
    """Say the job has finished every partition before ``day``."""
    store.JobCursorItem(f"JOB#{daily_streaks.JOB_NAME}", "CURSOR", next_day=day.isoformat(),
                        updated_at=datetime.now(UTC)).save()


def scheduled_event(at: datetime) -> dict[str, Any]:
    event = copy.deepcopy(json.loads((EVENTS / "scheduled_event.json").read_text()))
    event["time"] = at.strftime("%Y-%m-%dT%H:%M:%SZ")
    return event


class Collected:
    """A publisher that keeps what it was given."""

    def __init__(self) -> None:
        self.events: list[dict[str, Any]] = []

    def __call__(self, events: list[dict[str, Any]]) -> None:
        self.events.extend(events)

    def for_user(self, user_id: str) -> list[dict[str, Any]]:
        return [e for e in self.events if e["detail"]["user_id"] == user_id]


def _run(fn: Any, at: datetime, publish: Any = None, from_cursor: bool = False) -> dict[str, Any]:
    """Run the handler at ``at``: as the run after one two days earlier, or (``from_cursor``)
    continuing from where the last run left the cursor."""
    if not from_cursor:
        set_cursor(at.date() - timedelta(days=CURSOR_DAYS_BEFORE))
    publisher = publish if publish is not None else Collected()
    return dict(fn.handler(scheduled_event(at), LambdaContext(), publish=publisher))


def _student(zone: str, name: str = "Ravi") -> engine.Student:
    return engine.Student(user_id=uuid.uuid4().hex, timezone=zone, daily_goal=500, name=name)


def _active_on(student: engine.Student, *days: date) -> None:
    for day in days:
        at = calendar.day_starts_at(day, student.timezone) + timedelta(hours=10)
        engine.record_activity(student, engine.Activity(key=uuid.uuid4().hex, kind="answer", at=at, correct=True,
                                                        exam="GATE"), ZONE)


def _stored(student: engine.Student) -> store.ProgressItem:
    item = store.get_progress(student.user_id)
    assert item is not None
    return item


def test_broken_streaks_are_reset_once_and_only_due_students_are_read(daily_streaks_fn: Any) -> None:
    # Given, on 2032-02-10 (UTC), three New York students whose streak broke (last active 02-08,
    # so 02-09 was missed and ended at 05:00 UTC on 02-10), and four Kolkata students active on
    # 02-09 local time, whose 02-10 is not over yet
    broken = [_student("America/New_York") for _ in range(3)]
    fine = [_student("Asia/Kolkata") for _ in range(4)]
    for student in broken:
        _active_on(student, date(2032, 2, 7), date(2032, 2, 8))
    for student in fine:
        _active_on(student, date(2032, 2, 9))
    run_at = datetime(2032, 2, 10, 6, 5, tzinfo=UTC)
    # When the job runs
    events = Collected()
    report = _run(daily_streaks_fn, run_at, events)
    # Then it read exactly the three broken streaks, reset them and said so
    assert report["items_read"] == 3 and report["streaks_lost"] == 3
    assert report["partitions_queried"] == (CURSOR_DAYS_BEFORE + 1) * store.ACTIVE_SHARDS
    for student in broken:
        item = _stored(student)
        assert (int(item.current_streak), int(item.longest_streak)) == (0, 2)
        assert item.active_pk is None and item.covered_through is None
        [event] = events.for_user(student.user_id)
        assert event["detail_type"] == "StreakLost"
        assert event["detail"]["lost_streak"] == 2 and event["detail"]["broken_on"] == "2032-02-09"
    for student in fine:
        assert int(_stored(student).current_streak) == 1
    # And the read of GET /progress agrees with what the job stored
    view = engine.progress_view(broken[0], ZONE, run_at)
    assert (view["current_streak"], view["longest_streak"]) == (0, 2)
    # When it runs again at the same time, it reads and changes nothing
    again = Collected()
    second = _run(daily_streaks_fn, run_at, again, from_cursor=True)
    assert (second["items_read"], second["streaks_lost"], second["events_published"]) == (0, 0, 0)
    assert second["partitions_queried"] == store.ACTIVE_SHARDS  # only today's: the rest are done
    assert again.events == []


def test_a_missed_day_spends_a_freeze_and_the_streak_goes_on(daily_streaks_fn: Any) -> None:
    # Given a Kolkata student with a 7-day streak (one freeze earned) who misses 2032-03-08
    student = _student("Asia/Kolkata")
    _active_on(student, *(date(2032, 3, 1) + timedelta(days=d) for d in range(7)))
    assert int(_stored(student).streak_freezes) == 1
    # When the job runs after 03-08 ended in Kolkata (18:30 UTC)
    events = Collected()
    report = _run(daily_streaks_fn, datetime(2032, 3, 8, 19, 5, tzinfo=UTC), events)
    # Then the freeze is spent, the streak kept, and a StreakSaved event sent
    item = _stored(student)
    assert (int(item.current_streak), int(item.streak_freezes), item.covered_through) == (7, 0, "2032-03-08")
    assert report["streaks_saved"] == 1
    [event] = events.for_user(student.user_id)
    assert event["detail_type"] == "StreakSaved"
    assert event["detail"]["frozen_days"] == ["2032-03-08"] and event["detail"]["freezes_left"] == 0
    # And studying the next day extends it to 8
    _active_on(student, date(2032, 3, 9))
    assert int(_stored(student).current_streak) == 8


def test_the_students_own_activity_wins_a_race_with_the_job(daily_streaks_fn: Any,
                                                            monkeypatch: pytest.MonkeyPatch) -> None:
    # Given a New York student whose streak broke, who studies again (00:30 on 04-07, their time)
    # just as the job writes
    student = _student("America/New_York")
    _active_on(student, date(2032, 4, 5))
    run_at = datetime(2032, 4, 7, 4, 30, tzinfo=UTC)  # 04-06 is over in New York
    save = store.save_settled_progress
    raced = {"done": False}

    def racing_save(progress: store.ProgressItem, expected_version: int) -> None:
        if not raced["done"] and progress.user_id == student.user_id:
            raced["done"] = True
            engine.record_activity(student, engine.Activity(key="race", kind="review", at=run_at), ZONE)
        save(progress, expected_version)

    monkeypatch.setattr(store, "save_settled_progress", racing_save)
    # When the job runs
    report = _run(daily_streaks_fn, run_at)
    # Then the job's write lost, it read the student again, and kept what the activity wrote
    assert report["conflicts_retried"] == 1
    item = _stored(student)
    assert (int(item.current_streak), int(item.cards_reviewed), item.last_active_date) == (1, 1, "2032-04-07")
    assert int(item.xp_total) == 15


def test_streak_events_reach_the_event_bus(daily_streaks_fn: Any, local_aws: Any) -> None:
    # Given a rule on the streak bus forwarding to a queue
    bus = local_aws.event_buses["StreakEventBus"]
    events_client, sqs = boto3.client("events"), boto3.client("sqs")
    queue_url = sqs.create_queue(QueueName=f"streak-events-{uuid.uuid4().hex[:8]}")["QueueUrl"]
    queue_arn = sqs.get_queue_attributes(QueueUrl=queue_url, AttributeNames=["QueueArn"])["Attributes"]["QueueArn"]
    rule = f"streaks-{uuid.uuid4().hex[:8]}"
    events_client.put_rule(Name=rule, EventBusName=bus, EventPattern=json.dumps({"source": ["mindly.streaks"]}))
    events_client.put_targets(Rule=rule, EventBusName=bus, Targets=[{"Id": "queue", "Arn": queue_arn}])
    student = _student("Europe/London")
    _active_on(student, date(2032, 5, 3))
    # When the job runs with its real EventBridge publisher (no publisher passed)
    set_cursor(date(2032, 5, 3))
    report = daily_streaks_fn.handler(scheduled_event(datetime(2032, 5, 5, 1, 5, tzinfo=UTC)), LambdaContext())
    # Then the StreakLost event is on the bus
    assert report["events_published"] >= 1
    messages = sqs.receive_message(QueueUrl=queue_url, MaxNumberOfMessages=10, WaitTimeSeconds=1)["Messages"]
    delivered = [json.loads(m["Body"]) for m in messages]
    mine = [d for d in delivered if d["detail"]["user_id"] == student.user_id]
    assert [(d["source"], d["detail-type"]) for d in mine] == [("mindly.streaks", "StreakLost")]
    assert mine[0]["detail"]["event_id"] == f"{student.user_id}:lost:2032-05-04"


def test_a_failed_publish_leaves_the_streaks_for_the_next_run(daily_streaks_fn: Any) -> None:
    student = _student("Asia/Kolkata")
    _active_on(student, date(2032, 6, 1))
    run_at = datetime(2032, 6, 2, 19, 0, tzinfo=UTC)

    def failing(events: list[dict[str, Any]]) -> None:
        raise RuntimeError("EventBridge unavailable")

    # When publishing fails, the run fails and the streak is not written
    with pytest.raises(RuntimeError):
        _run(daily_streaks_fn, run_at, failing)
    assert int(_stored(student).current_streak) == 1
    # Then the retried run settles and publishes it
    events = Collected()
    report = _run(daily_streaks_fn, run_at, events, from_cursor=True)
    assert report["streaks_lost"] == 1 and int(_stored(student).current_streak) == 0
    assert [e["detail_type"] for e in events.for_user(student.user_id)] == ["StreakLost"]


def test_the_finished_weeks_top_ten_is_stored_once(daily_streaks_fn: Any) -> None:
    # Given a week (2032-W28, Monday 2032-07-05) with eleven students on the GATE board, two tied
    monday = date(2032, 7, 5)
    week = calendar.iso_week(monday)
    students = []
    for index, answers in enumerate([3, 1, 4, 1, 5, 9, 2, 6, 5, 3, 5]):
        student = _student("Asia/Kolkata", name=f"S{index}")
        at = calendar.day_starts_at(monday + timedelta(days=index % 7), ZONE) + timedelta(hours=9)
        for _ in range(answers):
            engine.record_activity(student, engine.Activity(key=uuid.uuid4().hex, kind="answer", at=at,
                                                            correct=True, exam="GATE"), ZONE)
        students.append(student)
    # When the job runs after the week ended in the leaderboard zone (Monday 00:00 IST + grace)
    run_at = calendar.day_starts_at(monday + timedelta(days=7), ZONE) + timedelta(minutes=10)
    report = _run(daily_streaks_fn, run_at)
    # Then the overall and GATE finals are stored, equal to what the live board showed
    assert week in report["weeks_closed"] and f"{week}#GATE" in report["weeks_closed"]
    finals = store.get_week_finals(week, [None, "GATE"])
    live = leaderboard.weekly(students[0].user_id, week, None)["top"]
    assert finals[None].top == live == finals["GATE"].top
    assert len(live) == 10 and live[0]["xp"] == 90 and live[0]["name"] == "S5"
    # And a second run leaves them alone
    again = _run(daily_streaks_fn, run_at + timedelta(hours=1), from_cursor=True)
    assert week not in again["weeks_closed"]


def test_a_week_is_not_closed_before_it_ends(daily_streaks_fn: Any) -> None:
    monday = date(2032, 8, 2)
    week_before = calendar.previous_iso_week(monday)
    # A run a minute after the week's end (inside the grace period) closes the week before it only
    run_at = calendar.day_starts_at(monday, ZONE) + timedelta(minutes=1)
    report = _run(daily_streaks_fn, run_at)
    assert calendar.iso_week(monday) not in {w.split("#")[0] for w in report["weeks_closed"]}
    assert all(w.startswith(calendar.previous_iso_week(monday - timedelta(days=7))) or w.startswith(week_before)
               for w in report["weeks_closed"])


def test_the_run_uses_the_scheduled_events_time(daily_streaks_fn: Any) -> None:
    report = _run(daily_streaks_fn, datetime(2032, 9, 1, 10, 5, tzinfo=UTC))
    assert report["now"] == "2032-09-01T10:05:00Z"
    set_cursor(datetime.now(UTC).date())
    bad = daily_streaks_fn.handler({"time": "not a time"}, LambdaContext(), publish=Collected())
    assert abs(datetime.strptime(bad["now"], "%Y-%m-%dT%H:%M:%SZ").replace(tzinfo=UTC) - datetime.now(UTC)) \
        < timedelta(minutes=5)
