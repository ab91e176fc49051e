"""Notification preferences, push devices and the in-app inbox (API.md "Accounts and reminders").

The preferences and devices are one item per student (mindly.store.notifications), written under a
version condition, so a request and the reminders job never overwrite each other: a loser reads
again and redoes its change. Every write of the item also files it in the reminder index at the
next reminder instant (mindly.domain.reminders), or takes it out when the reminder is off.

A student is scheduled with the default preferences from their first ``PUT /profile`` (which also
re-schedules on a change of time zone: ``follow_profile``) or their first ``PUT
/notifications/preferences``, whichever comes first.
"""

from __future__ import annotations

import hashlib
import re
from collections.abc import Callable
from dataclasses import dataclass
from datetime import date, datetime
from typing import Any

from mindly.config import get_settings
from mindly.domain import reminders
from mindly.exceptions import NotFound, ServiceUnavailable, ValidationFailed
from mindly.services import pages, push
from mindly.store import notifications as store
from mindly.store import users
from mindly.store.errors import StaleWrite
from mindly.store.users import user_key

MAX_WRITE_ATTEMPTS = 5
# A student signs in on a few phones and tablets; past this the oldest device is dropped (its token
# most likely died with an old phone).
MAX_DEVICES = 10
_NOTIFICATION_ID = re.compile(r"\d{8}T\d{6}Z-[a-z0-9-]{1,40}")


def _zone_of(user_id: str) -> str:
    profile = users.get_profile(user_id)
    return str(profile.timezone) if profile is not None else get_settings().default_timezone


def _reminded_through(item: store.NotificationSettingsItem) -> date | None:
    return date.fromisoformat(str(item.reminded_through)) if item.reminded_through else None


def reschedule(item: store.NotificationSettingsItem, now: datetime) -> None:
    """File the item at its next reminder instant (out of the index when the reminder is off)."""
    if not item.streak_reminder:
        store.schedule(item, None)
        return
    at = reminders.parse_time(str(item.reminder_time))
    store.schedule(item, reminders.next_reminder(now, str(item.timezone), at, _reminded_through(item)))


def _changed(user_id: str, now: datetime, change: Callable[[store.NotificationSettingsItem], bool],
             zone_name: str | None = None) -> store.NotificationSettingsItem:
    """Read the settings (or the defaults), apply ``change`` and write them back rescheduled, again
    from a fresh read whenever another writer got there first. ``change`` answers whether there is
    anything to write."""
    for _ in range(MAX_WRITE_ATTEMPTS):
        item = store.get_settings(user_id)
        expected = None if item is None else int(item.version)
        if item is None:
            item = store.new_settings(user_id, zone_name or _zone_of(user_id), now)
        if not change(item) and expected is not None:
            return item
        item.updated_at = now
        reschedule(item, now)
        try:
            store.save_settings(item, expected)
        except StaleWrite:
            continue
        return item
    raise ServiceUnavailable("Your notification settings are being changed elsewhere; try again")


# --- preferences ---------------------------------------------------------------------------------

def preferences_view(item: store.NotificationSettingsItem) -> dict[str, Any]:
    due_at = store.due_at_of(item)
    return {"streak_reminder": bool(item.streak_reminder), "reminder_time": str(item.reminder_time),
            "email": bool(item.email), "push": bool(item.push), "timezone": str(item.timezone),
            "next_reminder_at": store.instant_text(due_at) if due_at else None}


def preferences(user_id: str, now: datetime) -> dict[str, Any]:
    """GET /notifications/preferences: the stored ones, or the defaults (not written)."""
    item = store.get_settings(user_id)
    if item is None:
        item = store.new_settings(user_id, _zone_of(user_id), now)
        reschedule(item, now)
    return preferences_view(item)


def update_preferences(user_id: str, streak_reminder: bool, reminder_time: str, email: bool, push_on: bool,
                       now: datetime) -> dict[str, Any]:
    """PUT /notifications/preferences. A reminder time must lie between 07:00 and 21:45 local
    (quiet hours 22:00-07:00; the job runs every 15 minutes); otherwise 422."""
    try:
        at = reminders.parse_time(reminder_time)
    except ValueError as exc:
        raise ValidationFailed(str(exc), field="reminder_time") from exc
    if not reminders.allowed_time(at):
        raise ValidationFailed(
            f"reminder_time must be between {reminders.time_text(reminders.EARLIEST_REMINDER)} and "
            f"{reminders.time_text(reminders.LATEST_REMINDER)} local: no reminder is sent in the quiet hours "
            f"({reminders.time_text(reminders.QUIET_STARTS)}-{reminders.time_text(reminders.QUIET_ENDS)})",
            field="reminder_time")

    def change(item: store.NotificationSettingsItem) -> bool:
        item.streak_reminder, item.reminder_time = streak_reminder, reminders.time_text(at)
        item.email, item.push = email, push_on
        return True

    return preferences_view(_changed(user_id, now, change))


def follow_profile(user_id: str, zone_name: str, now: datetime) -> None:
    """After PUT /profile: schedule a student who has no settings yet (the defaults), and move the
    next reminder to the new zone's local time when the zone changed. A day already reminded (in
    either zone) is never reminded again: the next one is the first later local day."""

    def change(item: store.NotificationSettingsItem) -> bool:
        if item.timezone == zone_name:
            return False
        item.timezone = zone_name
        return True

    _changed(user_id, now, change, zone_name=zone_name)


# --- devices -------------------------------------------------------------------------------------------

@dataclass(frozen=True)
class Registered:
    device: dict[str, Any]
    created: bool


def device_id_of(platform: str, token: str) -> str:
    """A device's id: a digest of its platform and token, so the same token is the same device
    (and the token itself, a credential of the app's install, is never stored)."""
    return hashlib.sha256(f"{platform}:{token}".encode()).hexdigest()[:32]


def _device_view(device_id: str, device: dict[str, Any]) -> dict[str, Any]:
    return {"device_id": device_id, "platform": device["platform"], "created_at": device["created_at"]}


def register_device(user_id: str, platform: str, token: str, now: datetime) -> Registered:
    """POST /notifications/devices: the token's SNS endpoint, kept with the student's settings.
    The same token again answers the same device (``created`` False)."""
    device_id = device_id_of(platform, token)
    item = store.get_settings(user_id)
    if item is not None and device_id in store.devices_of(item):
        return Registered(_device_view(device_id, store.devices_of(item)[device_id]), created=False)
    endpoint = push.create_endpoint(platform, token, user_id)
    endpoint_arn = endpoint.arn
    if endpoint.previous_owner is not None:
        # The phone was signed in to another account before: the token is this account's now, so the
        # other one forgets the device (its reminders must not reach whoever holds the phone now).
        store.forget_device(endpoint.previous_owner, device_id)
    dropped: list[str] = []
    added: list[bool] = []

    def change(settings: store.NotificationSettingsItem) -> bool:
        devices = store.devices_of(settings)
        dropped.clear()
        added[:] = [device_id not in devices]
        if not added[0]:
            return False
        while len(devices) >= MAX_DEVICES:
            oldest = min(devices, key=lambda key: str(devices[key]["created_at"]))
            dropped.append(str(devices.pop(oldest)["endpoint_arn"]))
        devices[device_id] = {"platform": platform, "endpoint_arn": endpoint_arn,
                              "created_at": store.instant_text(now)}
        store.set_devices(settings, devices)
        return True

    saved = _changed(user_id, now, change)
    for arn in dropped:
        push.delete_endpoint(arn, owner=user_id)
    return Registered(_device_view(device_id, store.devices_of(saved)[device_id]), created=added[0])


def delete_device(user_id: str, device_id: str) -> None:
    """DELETE /notifications/devices/{device_id}: the endpoint deleted, the device forgotten."""
    item = store.get_settings(user_id)
    device = store.devices_of(item).get(device_id) if item is not None else None
    if device is None:
        raise NotFound("No such device")
    push.delete_endpoint(str(device["endpoint_arn"]), owner=user_id)
    store.forget_device(user_id, device_id)


# --- inbox -----------------------------------------------------------------------------------------------

def _inbox_view(item: store.InboxItem) -> dict[str, Any]:
    return {"notification_id": item.notification_id, "category": item.category, "title": item.title,
            "body": item.body, "created_at": store.instant_text(item.created_at),
            "read": item.read_at is not None,
            "read_at": store.instant_text(item.read_at) if item.read_at else None}


def inbox(user_id: str, page: int, limit: int, cursor: str | None) -> dict[str, Any]:
    """GET /notifications: the in-app inbox, newest first."""
    def fetch(start: pages.Key | None) -> tuple[list[Any], pages.Key | None]:
        return store.inbox_page(user_id, limit, start)

    return pages.paginate(fetch, page, limit, cursor, pages.Scope("notifications", user_id),
                          {"pk": user_key(user_id)}, _inbox_view)


def mark_read(user_id: str, notification_id: str, now: datetime) -> dict[str, Any]:
    """POST /notifications/{id}/read (marking it again keeps the first time)."""
    if _NOTIFICATION_ID.fullmatch(notification_id) is None:
        raise NotFound("No such notification")
    item = store.mark_read(user_id, notification_id, now)
    if item is None:
        raise NotFound("No such notification")
    return _inbox_view(item)
