"""The streak-reminder job: once per local day, at the student's reminder time, a reminder to each
student with a running streak who has not studied yet that day.

It runs every 15 minutes and reads only what is due: a student whose reminder is on sits in the
``reminder_due`` index at the instant of their next reminder (mindly.store.notifications), so a
run asks each shard of the UTC hours since its last run (a cursor) for instants already past, then
reads those students' PROGRESS and account in BatchGetItems of 50 students.

For each student found, the day is *closed* first (one conditional write: the day is recorded as
dealt with and the student moves to the next local day's instant) and only then is anything sent.
A retried or overlapping run finds the day closed and sends nothing again; the price is that a run
killed between the write and the sends loses that day's reminder, which is the side to err on. A
student who studied already, has no streak, or is found too late (quiet hours, or over an hour
late after an outage) has the day closed without a reminder.

Channels: the in-app inbox always, mail when the student allows it (mindly.services.mail), push to
each device when allowed (mindly.services.push). A failed channel does not stop the others and is
tried once more; a device whose endpoint SNS disabled is forgotten and its endpoint deleted.
"""

from __future__ import annotations

import functools
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, timedelta
from typing import Any

from mindly.config import get_settings
from mindly.domain import calendar, reminders, streaks
from mindly.observability import logger
from mindly.services.progress import streak_of
from mindly.store import notifications as store
from mindly.store.progress import ProgressItem

# A run never reaches back further than this (nor does the first run). A student whose instant is
# older (the job was off for two days) is filed again by their next change of preferences or profile.
MAX_CATCH_UP = timedelta(hours=48)
ATTEMPTS_PER_CHANNEL = 2  # a failed send is tried once more
CATEGORY = "streak_reminder"


@dataclass
class Channels:
    """How a reminder reaches a student; the job's ports (tests pass failing or recording ones)."""

    mail: Callable[[str, str, str, str | None], str]  # (to, subject, text, link) -> message id
    push: Callable[[str, str, str, dict[str, str]], str]  # (endpoint arn, title, body, data) -> message id
    delete_endpoint: Callable[[str], None]
    endpoint_gone: type[Exception]  # what ``push`` raises for a disabled or deleted endpoint


def default_channels() -> Channels:
    """SES v2 mail and SNS push."""
    from mindly.services import mail, push

    return Channels(mail=mail.send_mail, push=push.publish, delete_endpoint=push.delete_endpoint,
                    endpoint_gone=push.EndpointGone)


@dataclass
class RunReport:
    """What one run did (also returned by the Lambda handler)."""

    now: str
    partitions_queried: int = 0
    items_read: int = 0
    reminded: int = 0
    skipped_studied: int = 0
    skipped_no_streak: int = 0
    skipped_late: int = 0
    already_closed: int = 0
    sent: dict[str, int] = field(default_factory=lambda: {"in_app": 0, "email": 0, "push": 0})
    retried: dict[str, int] = field(default_factory=lambda: {"in_app": 0, "email": 0, "push": 0})
    failed: dict[str, int] = field(default_factory=lambda: {"in_app": 0, "email": 0, "push": 0})
    devices_removed: int = 0

    def as_dict(self) -> dict[str, Any]:
        return {key: dict(value) if isinstance(value, dict) else value for key, value in self.__dict__.items()}


@dataclass(frozen=True)
class Reminder:
    """What one student is told."""

    notification_id: str
    title: str
    body: str


def reminder_for(due_at: datetime, streak_days: int) -> Reminder:
    days = f"{streak_days}-day" if streak_days > 1 else "1-day"
    return Reminder(notification_id=f"{due_at.strftime('%Y%m%dT%H%M%SZ')}-streak",
                    title=f"Keep your {days} streak going",
                    body=f"You have not studied yet today. A few questions or cards keep your {days} streak alive.")


def _hours(now: datetime) -> list[datetime]:
    """The UTC hours whose partitions this run reads: from the cursor (every earlier hour is done)
    to the current one, at most MAX_CATCH_UP back."""
    current = now.astimezone(UTC).replace(minute=0, second=0, microsecond=0)
    oldest = current - MAX_CATCH_UP
    cursor = store.get_cursor() or current - timedelta(hours=1)
    hour = max(min(cursor, current), oldest)
    found = []
    while hour <= current:
        found.append(hour)
        hour += timedelta(hours=1)
    return found


def due_settings(now: datetime, report: RunReport) -> list[store.NotificationSettingsItem]:
    """Every student whose reminder is due at ``now`` (one Query per shard and hour)."""
    found = []
    for hour in _hours(now):
        for shard in range(store.REMIND_SHARDS):
            report.partitions_queried += 1
            found += store.due_reminders(hour, shard, now)
    report.items_read += len(found)
    return found


def _studied_on(streak: streaks.Streak, day: date, zone_name: str) -> bool:
    """Whether the student was active on their local ``day`` (also when an activity counted in
    another zone covers the same stretch of time)."""
    if streak.last_active is not None and streak.last_active >= day:
        return True
    return streaks.overlaps_counted_day(streak, calendar.day_starts_at(day, zone_name))


def _try(channel: str, report: RunReport, send: Callable[[], Any],
         permanent: tuple[type[Exception], ...] = ()) -> str:
    """Send through one channel, once more if it fails: ``sent``, ``failed`` (both tries failed) or
    ``gone`` (a ``permanent`` failure, not worth the second try)."""
    for attempt in range(ATTEMPTS_PER_CHANNEL):
        try:
            send()
        except permanent:
            return "gone"
        except Exception as exc:  # any failure of a channel must leave the others running
            if attempt + 1 < ATTEMPTS_PER_CHANNEL:
                report.retried[channel] += 1
                continue
            report.failed[channel] += 1
            logger.warning("reminder channel failed", extra={"channel": channel, "reason": type(exc).__name__})
            return "failed"
        report.sent[channel] += 1
        return "sent"
    return "failed"


def _push_all(item: store.NotificationSettingsItem, reminder: Reminder, channels: Channels,
              report: RunReport) -> None:
    data = {"category": CATEGORY, "notification_id": reminder.notification_id}
    for device_id, device in store.devices_of(item).items():
        arn = str(device["endpoint_arn"])
        outcome = _try("push", report, functools.partial(channels.push, arn, reminder.title, reminder.body, data),
                       permanent=(channels.endpoint_gone,))
        if outcome == "gone":
            # The provider said the token is dead: SNS disabled the endpoint, and it never delivers again.
            channels.delete_endpoint(arn)
            store.forget_device(str(item.user_id), device_id)
            report.devices_removed += 1


def _send(item: store.NotificationSettingsItem, reminder: Reminder, email: str | None, due_at: datetime,
          channels: Channels, report: RunReport) -> None:
    user_id = str(item.user_id)
    _try("in_app", report, lambda: store.add_to_inbox(user_id, reminder.notification_id, CATEGORY,
                                                      reminder.title, reminder.body, due_at))
    if item.email and email:
        link = get_settings().app_base_url
        _try("email", report, lambda: channels.mail(email, reminder.title, reminder.body, link))
    if item.push:
        _push_all(item, reminder, channels, report)


def _remind(item: store.NotificationSettingsItem, progress: ProgressItem | None, email: str | None,
            now: datetime, channels: Channels, report: RunReport) -> None:
    zone = str(item.timezone)
    due_at = store.due_at_of(item)
    if due_at is None:
        return
    day = calendar.local_date(due_at, zone)
    at = reminders.parse_time(str(item.reminder_time))
    next_due = reminders.next_reminder(now, zone, at, day)
    streak = streaks.view(streak_of(progress), day, calendar.day_starts_at(day, zone))
    if not reminders.may_send(now, due_at, zone):
        outcome = "skipped_late"
    elif _studied_on(streak, day, zone):
        outcome = "skipped_studied"
    elif streak.current < 1:
        outcome = "skipped_no_streak"
    else:
        outcome = "reminded"
    if not store.close_day(item, day.isoformat(), next_due):
        report.already_closed += 1
        return
    setattr(report, outcome, getattr(report, outcome) + 1)
    if outcome == "reminded":
        _send(item, reminder_for(due_at, streak.current), email, due_at, channels, report)


def run(now: datetime, channels: Channels) -> RunReport:
    """One run of the job (see the module docstring)."""
    report = RunReport(now=store.instant_text(now))
    due = due_settings(now, report)
    progress, emails = store.progress_and_emails(sorted({str(item.user_id) for item in due}))
    report.items_read += len(progress) + len(emails)
    for item in due:
        user_id = str(item.user_id)
        _remind(item, progress.get(user_id), emails.get(user_id), now, channels, report)
    # Every hour before the current one is finished: all its instants are past and were read.
    store.advance_cursor(now.astimezone(UTC).replace(minute=0, second=0, microsecond=0), now)
    logger.info("reminder run", extra=report.as_dict())
    return report
