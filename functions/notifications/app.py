"""Notifications function: reminder preferences, push devices and the in-app inbox (API.md
"Accounts and reminders"). The reminders themselves come from the scheduled ``reminders`` job."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Annotated, Literal

from fastapi import Path, Query
from pydantic import Field

from mindly.http.app import API_PREFIX, create_app, error_responses, lambda_handler
from mindly.http.auth import CurrentUser
from mindly.http.envelope import Envelope
from mindly.http.schemas import AnswerData, PageOf, RequestBody, answers
from mindly.services import notifications

app = create_app("notifications")

PageNumber = Annotated[int, Query(ge=1, le=50)]
Limit = Annotated[int, Query(ge=1, le=100)]
Cursor = Annotated[str | None, Query(max_length=2000)]


class PreferencesRequest(RequestBody):
    streak_reminder: bool
    reminder_time: str = Field(max_length=5, description="HH:MM local, 07:00 to 21:45")
    email: bool
    push: bool


class Preferences(AnswerData):
    """The student's notification preferences (the defaults until they set their own)."""

    streak_reminder: bool
    reminder_time: str = Field(description="HH:MM in the student's time zone")
    email: bool
    push: bool
    timezone: str = Field(description="IANA zone the reminder time is read in (the profile's)")
    next_reminder_at: str | None = Field(description="UTC instant of the next reminder, null when off")


@app.get(f"{API_PREFIX}/notifications/preferences", operation_id="getNotificationPreferences")
@answers(Preferences)
def get_preferences(user: CurrentUser) -> Envelope:
    return Envelope(notifications.preferences(user.id, datetime.now(UTC)))


@app.put(f"{API_PREFIX}/notifications/preferences", responses=error_responses(503),
         operation_id="updateNotificationPreferences")
@answers(Preferences)
def put_preferences(user: CurrentUser, body: PreferencesRequest) -> Envelope:
    return Envelope(notifications.update_preferences(user.id, body.streak_reminder, body.reminder_time,
                                                     body.email, body.push, datetime.now(UTC)))


class DeviceRequest(RequestBody):
    platform: Literal["fcm", "apns"]
    token: str = Field(min_length=1, max_length=4096, pattern=r"^[A-Za-z0-9:_\-.]+$")


class Device(AnswerData):
    """A registered device (the token is not stored, only its SNS endpoint)."""

    device_id: str = Field(description="the same token always gives the same id")
    platform: Literal["fcm", "apns"]
    created_at: str = Field(description="UTC instant, YYYY-MM-DDTHH:MM:SSZ")


@app.post(f"{API_PREFIX}/notifications/devices", status_code=201,
          responses={200: {"description": "The token was registered already: the same device"},
                     **error_responses(501, 503)}, operation_id="registerDevice")
@answers(Device)
def register_device(user: CurrentUser, body: DeviceRequest) -> Envelope:
    registered = notifications.register_device(user.id, body.platform, body.token, datetime.now(UTC))
    return Envelope(registered.device, status_code=201 if registered.created else 200)


class Deleted(AnswerData):
    device_id: str
    deleted: bool


DeviceId = Annotated[str, Path(min_length=1, max_length=64)]


@app.delete(f"{API_PREFIX}/notifications/devices/{{device_id}}", responses=error_responses(404),
            operation_id="deleteDevice")
@answers(Deleted)
def delete_device(user: CurrentUser, device_id: DeviceId) -> Envelope:
    notifications.delete_device(user.id, device_id)
    return Envelope({"device_id": device_id, "deleted": True})


class Notification(AnswerData):
    notification_id: str
    category: Literal["streak_reminder"]
    title: str
    body: str
    created_at: str = Field(description="UTC instant, YYYY-MM-DDTHH:MM:SSZ")
    read: bool
    read_at: str | None


class NotificationsPage(PageOf):
    items: list[Notification]


@app.get(f"{API_PREFIX}/notifications", operation_id="getNotifications")
@answers(NotificationsPage)
def inbox(user: CurrentUser, page: PageNumber = 1, limit: Limit = 20, cursor: Cursor = None) -> Envelope:
    return Envelope(notifications.inbox(user.id, page, limit, cursor))


@app.post(f"{API_PREFIX}/notifications/{{notification_id}}/read", responses=error_responses(404),
          operation_id="markNotificationRead")
@answers(Notification)
def mark_read(user: CurrentUser, notification_id: Annotated[str, Path(min_length=1, max_length=64)]) -> Envelope:
    return Envelope(notifications.mark_read(user.id, notification_id, datetime.now(UTC)))


handler = lambda_handler(app)
