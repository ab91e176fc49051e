"""The notifications function through its real Lambda handler: preferences, push devices (SNS
platform endpoints in moto) and the in-app inbox."""

from __future__ import annotations

from datetime import UTC, date, datetime, time, timedelta
from typing import Any

import boto3
import pytest
from support import HandlerClient, register

from mindly.domain import reminders
from mindly.store import notifications as store


def _signed_in(auth_fn: Any, notifications_fn: Any) -> tuple[HandlerClient, str]:
    answer = register(auth_fn)
    assert answer.status == 201, answer
    return HandlerClient(notifications_fn, token=answer.data["access_token"]), str(answer.data["user"]["id"])


def _set_profile(auth_fn: Any, profile_fn: Any, zone: str) -> tuple[str, str]:
    answer = register(auth_fn)
    token = answer.data["access_token"]
    saved = HandlerClient(profile_fn, token=token).put(
        "/api/v1/profile", {"exam_type": "JEE", "level": "advanced", "study_hours_per_day": 4,
                            "target_date": "2099-06-01", "weak_subjects": [], "timezone": zone})
    assert saved.status == 200, saved
    return token, str(answer.data["user"]["id"])


def test_notification_preferences_default_to_an_evening_reminder_by_every_channel(
        auth_fn: Any, notifications_fn: Any) -> None:
    # Given a new student who set nothing
    client, _ = _signed_in(auth_fn, notifications_fn)
    # When they read their preferences
    answer = client.get("/api/v1/notifications/preferences")
    # Then the reminder is on at 19:00 local (the default zone), by mail and push too
    assert answer.status == 200, answer
    data = answer.data
    assert {k: data[k] for k in ("streak_reminder", "reminder_time", "email", "push", "timezone")} == {
        "streak_reminder": True, "reminder_time": "19:00", "email": True, "push": True, "timezone": "Asia/Kolkata"}
    due = datetime.strptime(data["next_reminder_at"], "%Y-%m-%dT%H:%M:%SZ").replace(tzinfo=UTC)
    assert due.astimezone(reminders.calendar.zone("Asia/Kolkata")).time() == time(19, 0)


@pytest.mark.parametrize("reminder_time", ["7pm", "24:00", "19:5", "1900", "", "06:59", "21:46", "22:00", "23:30"])
def test_notification_preferences_refuse_malformed_and_quiet_hour_times(auth_fn: Any, notifications_fn: Any,
                                                                         reminder_time: str) -> None:
    # Given a student
    client, _ = _signed_in(auth_fn, notifications_fn)
    # When they ask for a reminder at a time that is not HH:MM or falls where the quiet hours would take it
    answer = client.put("/api/v1/notifications/preferences",
                        {"streak_reminder": True, "reminder_time": reminder_time, "email": True, "push": True})
    # Then it is refused on reminder_time, in the envelope
    assert answer.status == 422, answer
    assert answer.json["errors"][0]["code"] == "VALIDATION_ERROR"
    assert answer.json["errors"][0]["field"].endswith("reminder_time")


def test_notification_preferences_are_saved_and_a_reminder_turned_off_leaves_the_index(
        auth_fn: Any, profile_fn: Any, notifications_fn: Any) -> None:
    # Given a student in New York
    token, user_id = _set_profile(auth_fn, profile_fn, "America/New_York")
    client = HandlerClient(notifications_fn, token=token)
    # When they move the reminder to 07:00 and turn mail off
    early = client.put("/api/v1/notifications/preferences",
                       {"streak_reminder": True, "reminder_time": "07:00", "email": False, "push": True})
    # Then it is stored, at 07:00 New York time
    assert early.status == 200, early
    assert client.get("/api/v1/notifications/preferences").data == early.data
    assert (early.data["reminder_time"], early.data["email"], early.data["timezone"]) == (
        "07:00", False, "America/New_York")
    due = store.due_at_of(store.get_settings(user_id))  # type: ignore[arg-type]
    assert due is not None and due.astimezone(reminders.calendar.zone("America/New_York")).time() == time(7, 0)
    # When they turn the reminder off (the latest allowed time, 21:45, is accepted)
    off = client.put("/api/v1/notifications/preferences",
                     {"streak_reminder": False, "reminder_time": "21:45", "email": True, "push": False})
    # Then no reminder is scheduled: the item left the reminder index
    assert off.status == 200 and off.data["next_reminder_at"] is None
    item = store.get_settings(user_id)
    assert item is not None and item.remind_pk is None and item.remind_sk is None


def test_unknown_fields_and_wrong_types_in_preferences_are_refused(auth_fn: Any, notifications_fn: Any) -> None:
    client, _ = _signed_in(auth_fn, notifications_fn)
    for body in ({"streak_reminder": "yes", "reminder_time": "19:00", "email": True, "push": True},
                 {"streak_reminder": True, "reminder_time": "19:00", "email": True, "push": True, "sms": True},
                 {"streak_reminder": True, "email": True, "push": True}):
        # When the body is not the preferences' shape
        answer = client.put("/api/v1/notifications/preferences", body)
        # Then it is a 422 in the envelope
        assert answer.status == 422 and answer.json["success"] is False, (body, answer)


def test_a_device_token_registers_once_and_its_deletion_deletes_the_endpoint(auth_fn: Any,
                                                                             notifications_fn: Any) -> None:
    # Given a student
    client, user_id = _signed_in(auth_fn, notifications_fn)
    token = "fcm-token-" + user_id
    # When their app registers its FCM token twice (a reinstall, a retried request)
    first = client.post("/api/v1/notifications/devices", {"platform": "fcm", "token": token})
    again = client.post("/api/v1/notifications/devices", {"platform": "fcm", "token": token})
    # Then the first creates the device (201) and the second answers the same device (200)
    assert first.status == 201 and again.status == 200, (first, again)
    assert again.data == first.data and first.data["platform"] == "fcm"
    # And there is one SNS endpoint for it, enabled, on the FCM platform application
    devices = store.devices_of(store.get_settings(user_id))  # type: ignore[arg-type]
    assert list(devices) == [first.data["device_id"]]
    sns = boto3.client("sns")
    arn = devices[first.data["device_id"]]["endpoint_arn"]
    assert sns.get_endpoint_attributes(EndpointArn=arn)["Attributes"]["Enabled"] == "true"
    assert ":endpoint/GCM/" in arn
    # And another token is another device (an APNs one)
    other = client.post("/api/v1/notifications/devices", {"platform": "apns", "token": "apns-" + user_id})
    assert other.status == 201 and other.data["device_id"] != first.data["device_id"]
    # When the first device is deleted
    deleted = client.request("DELETE", f"/api/v1/notifications/devices/{first.data['device_id']}")
    # Then its endpoint is gone, the other device stays, and deleting it again is a 404
    assert deleted.status == 200 and deleted.data == {"device_id": first.data["device_id"], "deleted": True}
    with pytest.raises(sns.exceptions.NotFoundException):
        sns.get_endpoint_attributes(EndpointArn=arn)
    assert list(store.devices_of(store.get_settings(user_id))) == [other.data["device_id"]]  # type: ignore[arg-type]
    assert client.request("DELETE", f"/api/v1/notifications/devices/{first.data['device_id']}").status == 404


def test_a_phone_shared_by_two_accounts_keeps_the_latest_accounts_endpoint(auth_fn: Any,
                                                                           notifications_fn: Any) -> None:
    # Given one phone signed in to account A, then to account B: both register its token
    first, first_id = _signed_in(auth_fn, notifications_fn)
    second, second_id = _signed_in(auth_fn, notifications_fn)
    token = "fcm-shared-" + second_id
    a = first.post("/api/v1/notifications/devices", {"platform": "fcm", "token": token})
    b = second.post("/api/v1/notifications/devices", {"platform": "fcm", "token": token})
    assert a.status == b.status == 201
    arn = store.devices_of(store.get_settings(second_id))[b.data["device_id"]]["endpoint_arn"]  # type: ignore[arg-type]
    # Then the token is B's: A's account forgot the device (A's reminders must not reach B's phone),
    # so A deleting it is a 404 that leaves the endpoint alone
    assert store.devices_of(store.get_settings(first_id)) == {}  # type: ignore[arg-type]
    assert first.request("DELETE", f"/api/v1/notifications/devices/{a.data['device_id']}").status == 404
    # And the endpoint (SNS has one a token) is still there, B's
    sns = boto3.client("sns")
    attributes = sns.get_endpoint_attributes(EndpointArn=arn)["Attributes"]
    assert attributes["Enabled"] == "true" and attributes["CustomUserData"] == second_id
    # And B deleting it deletes it
    assert second.request("DELETE", f"/api/v1/notifications/devices/{b.data['device_id']}").status == 200
    with pytest.raises(sns.exceptions.NotFoundException):
        sns.get_endpoint_attributes(EndpointArn=arn)


def test_a_token_sns_disabled_is_enabled_again_when_the_app_registers_it(auth_fn: Any,
                                                                         notifications_fn: Any) -> None:
    # Given a device whose endpoint SNS disabled, forgotten since
    client, user_id = _signed_in(auth_fn, notifications_fn)
    token = "revived-" + user_id
    first = client.post("/api/v1/notifications/devices", {"platform": "fcm", "token": token})
    arn = store.devices_of(store.get_settings(user_id))[first.data["device_id"]]["endpoint_arn"]  # type: ignore[arg-type]
    sns = boto3.client("sns")
    sns.set_endpoint_attributes(EndpointArn=arn, Attributes={"Enabled": "false"})
    store.forget_device(user_id, first.data["device_id"])
    # When the app registers the same token again (the provider handed it out anew)
    again = client.post("/api/v1/notifications/devices", {"platform": "fcm", "token": token})
    # Then it is the same device and endpoint, delivering again
    assert again.status == 201 and again.data["device_id"] == first.data["device_id"]
    assert sns.get_endpoint_attributes(EndpointArn=arn)["Attributes"]["Enabled"] == "true"


@pytest.mark.parametrize("body", [{"platform": "sms", "token": "abc"}, {"platform": "fcm", "token": ""},
                                  {"platform": "fcm", "token": "has spaces"}, {"platform": "fcm"}])
def test_bad_device_registrations_are_refused(auth_fn: Any, notifications_fn: Any, body: dict[str, Any]) -> None:
    client, _ = _signed_in(auth_fn, notifications_fn)
    answer = client.post("/api/v1/notifications/devices", body)
    assert answer.status == 422 and answer.json["success"] is False, answer


def test_the_inbox_pages_newest_first_and_keeps_read_marks(auth_fn: Any, notifications_fn: Any) -> None:
    # Given five notifications in a student's inbox, a day apart
    client, user_id = _signed_in(auth_fn, notifications_fn)
    start = datetime(2030, 3, 1, 13, 30, tzinfo=UTC)
    ids = []
    for day in range(5):
        at = start + timedelta(days=day)
        ids.append(f"{at.strftime('%Y%m%dT%H%M%SZ')}-streak")
        assert store.add_to_inbox(user_id, ids[-1], "streak_reminder", f"Reminder {day}", "Keep going", at)
    # When they read it two at a time
    first = client.get("/api/v1/notifications", query={"limit": "2"})
    second = client.get("/api/v1/notifications", query={"limit": "2", "cursor": first.data["next_cursor"]})
    third = client.get("/api/v1/notifications", query={"limit": "2", "page": "3"})
    # Then the newest come first, every page continues the last, and the last says there is no more
    assert [n["notification_id"] for n in first.data["items"]] == ids[::-1][:2]
    assert [n["notification_id"] for n in second.data["items"]] == ids[::-1][2:4]
    assert [n["notification_id"] for n in third.data["items"]] == ids[:1] and third.data["has_more"] is False
    assert all(n["read"] is False and n["read_at"] is None for n in first.data["items"])
    # When one is marked read, twice
    marked = client.post(f"/api/v1/notifications/{ids[2]}/read")
    again = client.post(f"/api/v1/notifications/{ids[2]}/read")
    # Then it shows read, with the time of the first mark
    assert marked.status == 200 and marked.data["read"] is True and again.data["read_at"] == marked.data["read_at"]
    listed = client.get("/api/v1/notifications", query={"limit": "5"}).data["items"]
    assert [n["read"] for n in listed] == [False, False, True, False, False]
    # And a cursor of this inbox is refused on another student's
    other, _ = _signed_in(auth_fn, notifications_fn)
    refused = other.get("/api/v1/notifications", query={"limit": "2", "cursor": first.data["next_cursor"]})
    assert refused.status == 422 and refused.json["errors"][0]["field"] == "cursor"


def test_marking_a_notification_that_is_not_yours_is_not_found(auth_fn: Any, notifications_fn: Any) -> None:
    # Given a notification in one student's inbox
    owner, owner_id = _signed_in(auth_fn, notifications_fn)
    note = "20300301T133000Z-streak"
    store.add_to_inbox(owner_id, note, "streak_reminder", "Reminder", "Keep going", datetime(2030, 3, 1, tzinfo=UTC))
    stranger, _ = _signed_in(auth_fn, notifications_fn)
    # Then another student, an unknown id and a malformed one all get 404, and nothing is created
    for client, notification_id in ((stranger, note), (owner, "20300302T133000Z-streak"), (owner, "..%2F")):
        answer = client.post(f"/api/v1/notifications/{notification_id}/read")
        assert answer.status == 404 and answer.json["errors"][0]["code"] == "NOT_FOUND", answer
    assert len(store.inbox_page(owner_id, 10, None)[0]) == 1
    assert store.inbox_page(owner_id, 10, None)[0][0].read_at is None


def test_a_profile_zone_files_the_reminder_at_that_zones_local_time(auth_fn: Any, profile_fn: Any,
                                                                    notifications_fn: Any) -> None:
    # Given a student whose profile is in Auckland
    token, user_id = _set_profile(auth_fn, profile_fn, "Pacific/Auckland")
    # Then the default reminder was filed for 19:00 Auckland time, on a day not yet reminded
    item = store.get_settings(user_id)
    assert item is not None and str(item.timezone) == "Pacific/Auckland"
    due = store.due_at_of(item)
    assert due is not None and due > datetime.now(UTC)
    local = due.astimezone(reminders.calendar.zone("Pacific/Auckland"))
    assert local.time() == time(19, 0) and local.date() <= date.today() + timedelta(days=2)
    # And the API shows it
    shown = HandlerClient(notifications_fn, token=token).get("/api/v1/notifications/preferences")
    assert shown.data["timezone"] == "Pacific/Auckland" and shown.data["next_reminder_at"] == store.instant_text(due)
