"""The streak-reminder job through its real Lambda handler, invoked with a scheduled event, against
moto (DynamoDB, SES v2, SNS mobile push) and the local Redis endpoint.

Each test owns a far-future day of its own, so the reminder partitions a run reads hold only that
test's students. The job's cursor is shared by every process of the run, so each test says where
its run starts (``since``) by standing in for the cursor read; ``test_a_run_catches_up_from_the_cursor``
uses the stored cursor itself.
"""

from __future__ import annotations

import copy
import itertools
import json
import random
import uuid
from datetime import UTC, date, datetime, time, timedelta
from pathlib import Path
from typing import Any

import boto3
import pytest
from support import HandlerClient, LambdaContext, all_at_once, register

from infra import local_aws
from mindly.domain import calendar, reminders
from mindly.services import notifications, profile, push
from mindly.services import progress as engine
from mindly.services import reminders as job
from mindly.store import notifications as store

EVENTS = Path(__file__).resolve().parents[1] / "events"
LEADERBOARD_ZONE = "Asia/Kolkata"


@pytest.fixture(scope="session")
def reminders_fn() -> Any:
    import aws_permissions
    from support import enforce_lambda_limits

    return enforce_lambda_limits(aws_permissions.load_function("reminders"))


@pytest.fixture(scope="session")
def notifications_job_api() -> Any:
    import aws_permissions
    from support import enforce_lambda_limits

    return enforce_lambda_limits(aws_permissions.load_function("notifications"))


_DAYS = itertools.count(random.randrange(0, 1000) * 7, 7)


def _own_day() -> date:
    """A day no other test of this process uses, far in the future: a week apart from every other
    test's, so students one test moves to its next day are never due in another test's run."""
    return date(2031, 1, 1) + timedelta(days=next(_DAYS))


def scheduled_event(at: datetime) -> dict[str, Any]:
    event = copy.deepcopy(json.loads((EVENTS / "scheduled_event.json").read_text()))
    event["time"] = at.strftime("%Y-%m-%dT%H:%M:%SZ")
    return event


def _run(fn: Any, at: datetime, monkeypatch: pytest.MonkeyPatch, since: datetime | None = None,
         channels: job.Channels | None = None) -> dict[str, Any]:
    """Run the handler at ``at``, reading the hours from ``since``'s (default: ``at``'s)."""
    start = (since or at).astimezone(UTC).replace(minute=0, second=0, microsecond=0)
    monkeypatch.setattr(store, "get_cursor", lambda: start)
    if channels is None:
        return dict(fn.handler(scheduled_event(at), LambdaContext()))
    return dict(fn.handler(scheduled_event(at), LambdaContext(), channels=channels))


class Student:
    def __init__(self, user_id: str, email: str, zone: str) -> None:
        self.user_id, self.email, self.zone = user_id, email, zone
        self.arns: list[str] = []

    def local(self, day: date, at: time) -> datetime:
        return reminders.reminder_instant(day, at, self.zone)

    def active_on(self, *days: date) -> None:
        for day in days:
            at = calendar.day_starts_at(day, self.zone) + timedelta(hours=10)
            engine.record_activity(engine.Student(user_id=self.user_id, timezone=self.zone, daily_goal=500),
                                   engine.Activity(key=uuid.uuid4().hex, kind="answer", at=at, correct=True,
                                                   exam="GATE"), LEADERBOARD_ZONE)

    def settings(self) -> store.NotificationSettingsItem:
        item = store.get_settings(self.user_id)
        assert item is not None
        return item

    def inbox(self) -> list[store.InboxItem]:
        return store.inbox_page(self.user_id, 100, None)[0]

    def mails(self) -> list[Any]:
        """The reminder mails moto's SES took for the student (registration mails its own too)."""
        return [mail for mail in local_aws.sent_mail(to=self.email) if "streak" in mail.subject]


def _student(auth_fn: Any, profile_fn: Any, zone: str, day: date, reminder_time: str = "19:00",
             email: bool = True, push_on: bool = True, devices: tuple[str, ...] = (),
             api: Any = None) -> Student:
    """A registered student with a profile in ``zone`` and a device per platform in ``devices``
    (through the notifications function ``api``), whose preferences were set on the morning of
    ``day`` (so the next reminder is that day's; every write of the settings files the student
    at the next reminder from the time of the write)."""
    answer = register(auth_fn)
    assert answer.status == 201, answer
    student = Student(answer.data["user"]["id"], answer.data["user"]["email"], zone)
    token = answer.data["access_token"]
    saved = HandlerClient(profile_fn, token=token).put(
        "/api/v1/profile", {"exam_type": "GATE", "level": "beginner", "study_hours_per_day": 2,
                            "target_date": "2099-12-31", "weak_subjects": [], "timezone": zone})
    assert saved.status == 200, saved
    for platform in devices:
        registered = HandlerClient(api, token=token).post(
            "/api/v1/notifications/devices", {"platform": platform, "token": f"tok-{uuid.uuid4().hex}"})
        assert registered.status == 201, registered
        student.arns.append(str(store.devices_of(student.settings())[registered.data["device_id"]]["endpoint_arn"]))
    notifications.update_preferences(student.user_id, True, reminder_time, email, push_on,
                                     student.local(day, time(8, 0)))
    return student


def _pushed(arn: str) -> list[str]:
    """The messages moto's SNS holds for an endpoint."""
    from moto.sns.models import sns_backends

    backend = sns_backends[local_aws.DEFAULT_ACCOUNT_ID]["ap-south-1"]
    endpoint = backend.platform_endpoints.get(arn)
    return list(endpoint.messages.values()) if endpoint is not None else []


@pytest.mark.parametrize("zone", ["Asia/Kolkata", "America/New_York", "Pacific/Auckland", "Asia/Kathmandu"])
def test_reminder_reaches_each_zone_at_its_local_time_by_every_channel(
        auth_fn: Any, profile_fn: Any, notifications_job_api: Any, reminders_fn: Any, zone: str,
        monkeypatch: pytest.MonkeyPatch) -> None:
    # Given a student in ``zone`` with a streak from yesterday, not active yet today, with a device
    day = _own_day()
    student = _student(auth_fn, profile_fn, zone, day, devices=("fcm",), api=notifications_job_api)
    student.active_on(day - timedelta(days=1))
    [arn] = student.arns
    due = student.local(day, time(19, 0))
    # When the job runs a quarter of an hour before 19:00 local
    early = _run(reminders_fn, due - timedelta(minutes=15), monkeypatch)
    # Then nothing is sent yet
    assert early["reminded"] == 0 and student.inbox() == [] and student.mails() == []
    # When it runs at 19:00 local
    report = _run(reminders_fn, due, monkeypatch)
    # Then the student is reminded in the app, by mail and by push, once each
    assert report["reminded"] == 1 and report["items_read"] == 3  # settings, PROGRESS, account
    [note] = student.inbox()
    assert note.category == "streak_reminder" and note.created_at == due and "1-day streak" in note.title
    [mail] = student.mails()
    assert mail.subject == note.title and mail.link is not None
    [message] = _pushed(arn)
    assert json.loads(json.loads(message)["GCM"])["notification"]["title"] == note.title
    # And the next reminder is 19:00 local tomorrow
    assert store.due_at_of(student.settings()) == student.local(day + timedelta(days=1), time(19, 0))


def test_a_retried_or_overlapping_run_sends_nothing_twice(auth_fn: Any, profile_fn: Any, notifications_job_api: Any,
                                                          reminders_fn: Any, monkeypatch: pytest.MonkeyPatch) -> None:
    # Given a student due for a reminder
    day = _own_day()
    student = _student(auth_fn, profile_fn, "Asia/Kolkata", day, devices=("fcm",), api=notifications_job_api)
    student.active_on(day - timedelta(days=2), day - timedelta(days=1))
    [arn] = student.arns
    due = student.local(day, time(19, 0))
    # And every run reads the settings as they were before any run closed the day (so each finds the
    # student due: overlapping runs, or a retry of a run that died after its query)
    [before] = [item for item in store.due_reminders(due, store.shard_of(student.user_id), due)
                if item.user_id == student.user_id]
    real_due = store.due_reminders

    def stale_view(hour: datetime, shard: int, until: datetime) -> list[store.NotificationSettingsItem]:
        found = real_due(hour, shard, until)
        if shard == store.shard_of(student.user_id):
            found = [item for item in found if item.user_id != student.user_id] + [copy.copy(before)]
        return found

    monkeypatch.setattr(store, "due_reminders", stale_view)
    # When two runs go at once, and the scheduled event is delivered again afterwards
    reports = all_at_once(2, lambda _: _run(reminders_fn, due, monkeypatch))
    retry = _run(reminders_fn, due, monkeypatch)
    # Then exactly one of them reminded the student; the others found the day closed
    assert sorted(r["reminded"] for r in [*reports, retry]) == [0, 0, 1]
    assert sum(r["already_closed"] for r in [*reports, retry]) == 2
    # And the student got one notification, one mail and one push
    assert len(student.inbox()) == 1 and len(student.mails()) == 1 and len(_pushed(arn)) == 1


def test_a_student_who_studied_today_is_not_reminded(auth_fn: Any, profile_fn: Any, reminders_fn: Any,
                                                     monkeypatch: pytest.MonkeyPatch) -> None:
    # Given a student with a streak who was active this morning (local)
    day = _own_day()
    student = _student(auth_fn, profile_fn, "America/New_York", day)
    student.active_on(day - timedelta(days=1), day)
    due = student.local(day, time(19, 0))
    # When the job runs at their reminder time
    report = _run(reminders_fn, due, monkeypatch)
    # Then they are skipped, told nothing, and filed at tomorrow's reminder time
    assert (report["reminded"], report["skipped_studied"]) == (0, 1)
    assert student.inbox() == [] and student.mails() == []
    assert store.due_at_of(student.settings()) == student.local(day + timedelta(days=1), time(19, 0))


def test_a_student_without_a_streak_is_not_reminded(auth_fn: Any, profile_fn: Any, reminders_fn: Any,
                                                    monkeypatch: pytest.MonkeyPatch) -> None:
    # Given one student who never studied and one whose streak broke two days ago
    day = _own_day()
    never = _student(auth_fn, profile_fn, "Pacific/Auckland", day)
    lapsed = _student(auth_fn, profile_fn, "Pacific/Auckland", day)
    lapsed.active_on(day - timedelta(days=3))
    # When the job runs at their reminder time
    report = _run(reminders_fn, never.local(day, time(19, 0)), monkeypatch)
    # Then neither is reminded; both move to tomorrow
    assert (report["reminded"], report["skipped_no_streak"]) == (0, 2)
    for student in (never, lapsed):
        assert student.inbox() == [] and student.mails() == []
        assert store.due_at_of(student.settings()) == student.local(day + timedelta(days=1), time(19, 0))


def test_no_reminder_goes_out_in_the_quiet_hours_or_hours_late(auth_fn: Any, profile_fn: Any, reminders_fn: Any,
                                                                monkeypatch: pytest.MonkeyPatch) -> None:
    # Given a student reminded at 21:45 local and one at 19:00, both with a streak
    day = _own_day()
    late_evening = _student(auth_fn, profile_fn, "Asia/Kolkata", day, reminder_time="21:45")
    evening = _student(auth_fn, profile_fn, "Asia/Kolkata", day)
    for student in (late_evening, evening):
        student.active_on(day - timedelta(days=1))
    # When the first run after 21:45 comes only at 22:00 local (the quiet hours), after an outage
    # that began before 19:00
    at = late_evening.local(day, time(22, 0))
    report = _run(reminders_fn, at, monkeypatch, since=evening.local(day, time(19, 0)))
    # Then neither is reminded (one is in the quiet hours, the other three hours late) and both
    # wait for tomorrow's time
    assert (report["reminded"], report["skipped_late"]) == (0, 2)
    assert late_evening.inbox() == [] and evening.inbox() == []
    assert store.due_at_of(late_evening.settings()) == late_evening.local(day + timedelta(days=1), time(21, 45))


def test_a_failing_mail_is_retried_once_and_push_and_inbox_still_arrive(
        auth_fn: Any, profile_fn: Any, notifications_job_api: Any, reminders_fn: Any,
        monkeypatch: pytest.MonkeyPatch) -> None:
    # Given a student due for a reminder with a device, and a mail channel that always fails
    day = _own_day()
    student = _student(auth_fn, profile_fn, "Asia/Kolkata", day, devices=("fcm",), api=notifications_job_api)
    student.active_on(day - timedelta(days=1))
    [arn] = student.arns
    tries: list[str] = []

    def failing_mail(to: str, subject: str, text: str, link: str | None) -> str:
        tries.append(to)
        raise ConnectionError("SES unreachable")

    channels = job.Channels(mail=failing_mail, push=push.publish, delete_endpoint=push.delete_endpoint,
                            endpoint_gone=push.EndpointGone)
    # When the job runs at the reminder time
    report = _run(reminders_fn, student.local(day, time(19, 0)), monkeypatch, channels=channels)
    # Then the mail was tried twice (once more after the failure) and counted as failed
    assert tries == [student.email, student.email]
    assert (report["retried"]["email"], report["failed"]["email"], report["sent"]["email"]) == (1, 1, 0)
    # And the push and the in-app notification still went out
    assert report["reminded"] == 1 and len(_pushed(arn)) == 1 and len(student.inbox()) == 1


def test_a_mail_that_fails_once_is_sent_on_its_second_try(auth_fn: Any, profile_fn: Any, reminders_fn: Any,
                                                          monkeypatch: pytest.MonkeyPatch) -> None:
    # Given a student due for a reminder and a mail channel that fails only the first time
    day = _own_day()
    student = _student(auth_fn, profile_fn, "Asia/Kolkata", day)
    student.active_on(day - timedelta(days=1))
    from mindly.services import mail

    failures = [ConnectionError("a blip")]

    def flaky_mail(to: str, subject: str, text: str, link: str | None) -> str:
        if failures:
            raise failures.pop()
        return mail.send_mail(to, subject, text, link)

    channels = job.Channels(mail=flaky_mail, push=push.publish, delete_endpoint=push.delete_endpoint,
                            endpoint_gone=push.EndpointGone)
    # When the job runs
    report = _run(reminders_fn, student.local(day, time(19, 0)), monkeypatch, channels=channels)
    # Then the second try delivered it
    assert (report["retried"]["email"], report["sent"]["email"], report["failed"]["email"]) == (1, 1, 0)
    assert len(student.mails()) == 1


def test_a_disabled_push_endpoint_loses_its_device(auth_fn: Any, profile_fn: Any, notifications_job_api: Any,
                                                   reminders_fn: Any, monkeypatch: pytest.MonkeyPatch) -> None:
    # Given a student with two devices, one of which SNS disabled (the app was uninstalled)
    day = _own_day()
    student = _student(auth_fn, profile_fn, "Asia/Kolkata", day, devices=("fcm", "apns"), api=notifications_job_api)
    student.active_on(day - timedelta(days=1))
    alive, dead = student.arns
    sns = boto3.client("sns")
    sns.set_endpoint_attributes(EndpointArn=dead, Attributes={"Enabled": "false"})
    # When the job reminds the student
    report = _run(reminders_fn, student.local(day, time(19, 0)), monkeypatch)
    # Then the live device got the push, the dead one was forgotten and its endpoint deleted
    assert (report["sent"]["push"], report["devices_removed"]) == (1, 1)
    assert len(_pushed(alive)) == 1
    assert [device["endpoint_arn"] for device in store.devices_of(student.settings()).values()] == [alive]
    with pytest.raises(sns.exceptions.NotFoundException):
        sns.get_endpoint_attributes(EndpointArn=dead)


def test_channels_the_student_turned_off_are_not_used(auth_fn: Any, profile_fn: Any, notifications_job_api: Any,
                                                      reminders_fn: Any, monkeypatch: pytest.MonkeyPatch) -> None:
    # Given a student who turned mail and push off (in-app stays on)
    day = _own_day()
    student = _student(auth_fn, profile_fn, "Asia/Kolkata", day, email=False, push_on=False, devices=("fcm",),
                       api=notifications_job_api)
    student.active_on(day - timedelta(days=1))
    [arn] = student.arns
    # When the job reminds them
    report = _run(reminders_fn, student.local(day, time(19, 0)), monkeypatch)
    # Then only the inbox has it
    assert report["reminded"] == 1 and report["sent"] == {"in_app": 1, "email": 0, "push": 0}
    assert len(student.inbox()) == 1 and student.mails() == [] and _pushed(arn) == []


def test_a_zone_change_moves_the_reminder_to_the_new_local_time_from_the_next_day(
        auth_fn: Any, profile_fn: Any, reminders_fn: Any, monkeypatch: pytest.MonkeyPatch) -> None:
    # Given a student in Kolkata reminded today at 19:00 IST, who then studied at 20:00 IST
    day = _own_day()
    student = _student(auth_fn, profile_fn, "Asia/Kolkata", day)
    student.active_on(day - timedelta(days=1))
    reminded_at = student.local(day, time(19, 0))
    assert _run(reminders_fn, reminded_at, monkeypatch)["reminded"] == 1
    engine.record_activity(engine.Student(user_id=student.user_id, timezone="Asia/Kolkata", daily_goal=500),
                           engine.Activity(key=uuid.uuid4().hex, kind="answer", at=student.local(day, time(20, 0)),
                                           correct=True, exam="GATE"), LEADERBOARD_ZONE)
    # When they fly to New York and change the profile's zone (09:00 there, the same calendar day)
    moved_at = student.local(day, time(19, 30)) + timedelta(hours=1)
    profile.put_profile(student.user_id, "GATE", "beginner", 2, date(2099, 12, 31), [], None, "America/New_York",
                        now=moved_at)
    student.zone = "America/New_York"
    # Then the next reminder is at 19:00 New York time the next day, not again the same day
    tomorrow = student.local(day + timedelta(days=1), time(19, 0))
    assert store.due_at_of(student.settings()) == tomorrow
    assert str(student.settings().timezone) == "America/New_York"
    same_day = student.local(day, time(19, 0))
    assert _run(reminders_fn, same_day, monkeypatch)["reminded"] == 0
    # And at that time the job reminds them, once
    assert _run(reminders_fn, tomorrow, monkeypatch)["reminded"] == 1
    assert len(student.inbox()) == 2 and len(student.mails()) == 2


def test_a_run_catches_up_from_the_cursor(auth_fn: Any, profile_fn: Any, reminders_fn: Any) -> None:
    # Given a student due at 19:00 IST on the last day any test uses, and the job's cursor saying the
    # runs stopped two hours before that (an outage)
    day = date(2099, 12, 30)
    student = _student(auth_fn, profile_fn, "Asia/Kolkata", day)
    student.active_on(day - timedelta(days=1))
    due = student.local(day, time(19, 0))
    store.ReminderCursorItem(f"JOB#{store.REMINDER_JOB}", "CURSOR", next_hour=store.hour_text(due - timedelta(hours=2)),
                             updated_at=due).save()
    # When the job comes back half an hour after the reminder time (the next UTC hour)
    at = due + timedelta(minutes=45)
    report = dict(reminders_fn.handler(scheduled_event(at), LambdaContext()))
    # Then it read every shard of the hours since the cursor, and reminded the student
    assert report["partitions_queried"] == 4 * store.REMIND_SHARDS
    assert report["reminded"] == 1
    # And the cursor now says every hour before the run's is done
    assert store.get_cursor() == at.replace(minute=0, second=0)
