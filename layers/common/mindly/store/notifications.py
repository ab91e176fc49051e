"""Notification settings, push devices, the in-app inbox and the reminder schedule (Users table).

Everything a student's notifications keep lives in their own partition ``USER#<id>``:

- ``NOTIFY#SETTINGS``: the preferences, the push devices (a map, at most a handful, so the
  reminders job has them without another read), the last local day reminded and, while the streak
  reminder is on, the item's place in the sparse ``reminder_due`` index: pk
  ``REMIND#<UTC hour>#<shard>``, sk ``<instant>#<user id>``, the instant being the next reminder.
  A run of the job asks each shard of the hours since its last run for the instants already past.
- ``INBOX#<notification id>``: one in-app notification; the id starts with its UTC instant, so the
  partition's inbox sorts newest last (pages are read backwards). Kept ``INBOX_TTL``.

One item lives outside: the job's cursor ``JOB#reminders / CURSOR`` (the first UTC hour whose
partitions it has not finished), which belongs to no student.
"""

from __future__ import annotations

import zlib
from datetime import UTC, datetime, timedelta
from typing import Any

from pynamodb.attributes import BooleanAttribute, MapAttribute, NumberAttribute, UnicodeAttribute, UTCDateTimeAttribute
from pynamodb.exceptions import DoesNotExist, PutError, UpdateError

from mindly.store.errors import StaleWrite, response_code
from mindly.store.models import StudyTable, UsersTable, batch_read, newest_first_page
from mindly.store.progress import ProgressItem, student_key
from mindly.store.users import user_key

SETTINGS_SK = "NOTIFY#SETTINGS"
INBOX_PREFIX = "INBOX#"
INBOX_TTL = timedelta(days=90)
REMIND_SHARDS = 8
REMINDER_JOB = "reminders"
HOUR_FORMAT = "%Y-%m-%dT%H"
INSTANT_FORMAT = "%Y-%m-%dT%H:%M:%SZ"
# BatchGetItem takes at most 100 keys; each student is two (PROGRESS and ACCOUNT).
STUDENTS_PER_BATCH = 50


class NotificationSettingsItem(UsersTable, discriminator="notification_settings"):
    """``USER#<id> / NOTIFY#SETTINGS``; ``version`` orders the writers (the API and the job)."""

    user_id = UnicodeAttribute()
    streak_reminder = BooleanAttribute(default=True)
    reminder_time = UnicodeAttribute(default="19:00")
    email = BooleanAttribute(default=True)
    push = BooleanAttribute(default=True)
    timezone = UnicodeAttribute()
    reminded_through = UnicodeAttribute(null=True)  # the last local day whose reminder was dealt with
    # device id -> {platform, token, endpoint_arn, created_at}
    devices: MapAttribute[str, Any] = MapAttribute(default=dict)
    version = NumberAttribute(default=0)
    updated_at = UTCDateTimeAttribute()


class InboxItem(UsersTable, discriminator="inbox"):
    """``USER#<id> / INBOX#<notification id>``: one in-app notification."""

    notification_id = UnicodeAttribute()
    category = UnicodeAttribute()
    title = UnicodeAttribute()
    body = UnicodeAttribute()
    created_at = UTCDateTimeAttribute()
    read_at = UTCDateTimeAttribute(null=True)


class ReminderCursorItem(UsersTable, discriminator="reminder_cursor"):
    """``JOB#reminders / CURSOR``: the first UTC hour (``HOUR_FORMAT``) not finished yet."""

    next_hour = UnicodeAttribute()
    updated_at = UTCDateTimeAttribute()


def instant_text(at: datetime) -> str:
    return at.astimezone(UTC).strftime(INSTANT_FORMAT)


def hour_text(at: datetime) -> str:
    return at.astimezone(UTC).strftime(HOUR_FORMAT)


def shard_of(user_id: str) -> int:
    return zlib.crc32(user_id.encode()) % REMIND_SHARDS


def _conditional(exc: Exception) -> bool:
    return response_code(exc) == "ConditionalCheckFailedException"


# --- settings ----------------------------------------------------------------------------------------

def get_settings(user_id: str) -> NotificationSettingsItem | None:
    try:
        return NotificationSettingsItem.get(user_key(user_id), SETTINGS_SK, consistent_read=True)
    except DoesNotExist:
        return None


def new_settings(user_id: str, zone_name: str, at: datetime) -> NotificationSettingsItem:
    """The default settings of a student (not written)."""
    return NotificationSettingsItem(user_key(user_id), SETTINGS_SK, user_id=user_id, timezone=zone_name,
                                    devices={}, updated_at=at)


def devices_of(item: NotificationSettingsItem) -> dict[str, dict[str, Any]]:
    """The item's devices as plain dicts (device id -> {platform, token, endpoint_arn, created_at})."""
    raw = item.devices.as_dict() if isinstance(item.devices, MapAttribute) else dict(item.devices or {})
    return {device_id: dict(device) for device_id, device in raw.items()}


def set_devices(item: NotificationSettingsItem, devices: dict[str, dict[str, Any]]) -> None:
    item.devices = devices  # a raw MapAttribute holds a plain dict


def schedule(item: NotificationSettingsItem, due_at: datetime | None) -> None:
    """Put the item in the ``reminder_due`` index at ``due_at`` (or take it out)."""
    if due_at is None:
        item.remind_pk = item.remind_sk = None
        return
    item.remind_pk = f"REMIND#{hour_text(due_at)}#{shard_of(str(item.user_id))}"
    item.remind_sk = f"{instant_text(due_at)}#{item.user_id}"


def due_at_of(item: NotificationSettingsItem) -> datetime | None:
    """The instant the item is scheduled at in the index, if it is."""
    if not item.remind_sk:
        return None
    return datetime.strptime(str(item.remind_sk).split("#", 1)[0], INSTANT_FORMAT).replace(tzinfo=UTC)


def save_settings(item: NotificationSettingsItem, expected_version: int | None) -> None:
    """Write the settings; ``expected_version`` None: only if there are none yet. StaleWrite when
    another writer (the job, another request) got there first: read again and redo."""
    condition = (NotificationSettingsItem.pk.does_not_exist() if expected_version is None
                 else NotificationSettingsItem.version == expected_version)
    item.version = 0 if expected_version is None else expected_version + 1
    try:
        item.save(condition=condition)
    except PutError as exc:
        if _conditional(exc):
            raise StaleWrite(str(item.user_id)) from exc
        raise


def close_day(item: NotificationSettingsItem, day: str, next_due: datetime) -> bool:
    """Record that ``day``'s reminder was dealt with and move the item to ``next_due`` (one
    conditional UpdateItem): only while the item is still at the instant it was read at (so a
    change the student made meanwhile stands) and no later day was dealt with. False when the
    condition failed: another run did it, or the student rescheduled.

    The write comes before anything is sent, so a retried run finds the day closed and sends
    nothing again."""
    probe = NotificationSettingsItem(user_key(str(item.user_id)), SETTINGS_SK, user_id=item.user_id)
    schedule(probe, next_due)
    condition = ((NotificationSettingsItem.remind_sk == item.remind_sk)
                 & (NotificationSettingsItem.reminded_through.does_not_exist()
                    | (NotificationSettingsItem.reminded_through < day)))
    try:
        NotificationSettingsItem(user_key(str(item.user_id)), SETTINGS_SK).update(
            actions=[NotificationSettingsItem.reminded_through.set(day),
                     NotificationSettingsItem.remind_pk.set(probe.remind_pk),
                     NotificationSettingsItem.remind_sk.set(probe.remind_sk),
                     NotificationSettingsItem.version.add(1)],
            condition=condition)
    except UpdateError as exc:
        if _conditional(exc):
            return False
        raise
    return True


def forget_device(user_id: str, device_id: str) -> None:
    """Drop one device from the settings (one UpdateItem; nothing when it is gone already)."""
    try:
        NotificationSettingsItem(user_key(user_id), SETTINGS_SK).update(
            actions=[NotificationSettingsItem.devices[device_id].remove(),
                     NotificationSettingsItem.version.add(1)],
            condition=NotificationSettingsItem.devices[device_id].exists())
    except UpdateError as exc:
        if not _conditional(exc):
            raise


def due_reminders(hour: datetime, shard: int, until: datetime) -> list[NotificationSettingsItem]:
    """Settings of one ``reminder_due`` partition whose reminder is due at or before ``until``
    (one Query, paginated as DynamoDB requires)."""
    return list(NotificationSettingsItem.reminder_due.query(
        f"REMIND#{hour_text(hour)}#{shard}", NotificationSettingsItem.remind_sk <= f"{instant_text(until)}#~"))


def progress_and_emails(user_ids: list[str]) -> tuple[dict[str, ProgressItem], dict[str, str]]:
    """Each student's PROGRESS item and account email, STUDENTS_PER_BATCH students a BatchGetItem
    (both tables in one call)."""
    progress: dict[str, ProgressItem] = {}
    emails: dict[str, str] = {}
    for start in range(0, len(user_ids), STUDENTS_PER_BATCH):
        chunk = user_ids[start:start + STUDENTS_PER_BATCH]
        studies, accounts = batch_read([(StudyTable, [(student_key(uid), "PROGRESS") for uid in chunk]),
                                        (UsersTable, [(user_key(uid), "ACCOUNT") for uid in chunk])])
        progress.update({str(item.user_id): item for item in studies if isinstance(item, ProgressItem)})
        emails.update({str(item.user_id): str(item.email) for item in accounts if getattr(item, "email", None)})
    return progress, emails


# --- the job's cursor ------------------------------------------------------------------------------

def get_cursor() -> datetime | None:
    try:
        item = ReminderCursorItem.get(f"JOB#{REMINDER_JOB}", "CURSOR", consistent_read=True)
    except DoesNotExist:
        return None
    return datetime.strptime(str(item.next_hour), HOUR_FORMAT).replace(tzinfo=UTC)


def advance_cursor(next_hour: datetime, at: datetime) -> None:
    """Move the cursor forward (never back: a late, slow run does not undo a newer one)."""
    text = hour_text(next_hour)
    item = ReminderCursorItem(f"JOB#{REMINDER_JOB}", "CURSOR", next_hour=text, updated_at=at)
    try:
        item.save(condition=ReminderCursorItem.pk.does_not_exist() | (ReminderCursorItem.next_hour < text))
    except PutError as exc:
        if not _conditional(exc):
            raise


# --- inbox ---------------------------------------------------------------------------------------------

def add_to_inbox(user_id: str, notification_id: str, category: str, title: str, body: str,
                 at: datetime) -> bool:
    """Store one in-app notification (only if absent: a repeat is False, nothing written)."""
    item = InboxItem(user_key(user_id), f"{INBOX_PREFIX}{notification_id}", notification_id=notification_id,
                     category=category, title=title, body=body, created_at=at, expires_at=at + INBOX_TTL)
    try:
        item.save(condition=InboxItem.pk.does_not_exist())
    except PutError as exc:
        if _conditional(exc):
            return False
        raise
    return True


def inbox_page(user_id: str, limit: int, start: dict[str, str] | None) -> tuple[list[InboxItem], dict[str, str] | None]:
    """One page of the inbox, newest first (one Query)."""
    return newest_first_page(InboxItem, user_key(user_id), INBOX_PREFIX, limit, start)


def mark_read(user_id: str, notification_id: str, at: datetime) -> InboxItem | None:
    """Mark a notification read (the first time counts; one UpdateItem); None when there is none."""
    item = InboxItem(user_key(user_id), f"{INBOX_PREFIX}{notification_id}")
    try:
        item.update(actions=[InboxItem.read_at.set(InboxItem.read_at | at)], condition=InboxItem.pk.exists())
    except UpdateError as exc:
        if _conditional(exc):
            return None
        raise
    return item
