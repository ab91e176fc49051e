"""The reminder timing rules (mindly.domain.reminders): local times, zones, quiet hours."""

from __future__ import annotations

from datetime import UTC, date, datetime, time, timedelta

import pytest

from mindly.domain import reminders


def _utc(text: str) -> datetime:
    return datetime.fromisoformat(text).replace(tzinfo=UTC)


@pytest.mark.parametrize(("zone", "expected"), [
    ("Asia/Kolkata", "2026-12-02T13:30:00"),      # +05:30
    ("Asia/Kathmandu", "2026-12-02T13:15:00"),    # +05:45
    ("America/New_York", "2026-12-03T00:00:00"),  # -05:00: 19:00 there is tomorrow in UTC
    ("Pacific/Auckland", "2026-12-02T06:00:00"),  # +13:00 (daylight time in December)
])
def test_next_reminder_is_the_local_time_today_when_it_is_still_ahead(zone: str, expected: str) -> None:
    # Given 05:00 UTC on 2 December (the morning or the night before, depending on the zone)
    now = _utc("2026-12-02T05:00:00")
    # When the next 19:00 reminder is found for a student never reminded
    due = reminders.next_reminder(now, zone, time(19, 0), None)
    # Then it is 19:00 local on the first local day whose 19:00 is still ahead
    assert due == _utc(expected) and due > now


def test_a_day_already_reminded_is_skipped_even_after_a_zone_change() -> None:
    # Given a student reminded on 2 December in Kolkata who moved to New York the same morning (UTC)
    now = _utc("2026-12-02T14:00:00")  # 09:00 in New York, still 2 December
    # When the next reminder is found in New York
    due = reminders.next_reminder(now, "America/New_York", time(19, 0), date(2026, 12, 2))
    # Then it is 19:00 New York time on 3 December, not again on the 2nd
    assert due == _utc("2026-12-04T00:00:00")


def test_a_reminder_keeps_its_wall_time_across_a_daylight_saving_change() -> None:
    # Given a New York student reminded at 19:00 on the Saturday before the clocks go back (1 Nov 2026)
    after = reminders.reminder_instant(date(2026, 10, 31), time(19, 0), "America/New_York") + timedelta(minutes=1)
    # When the next reminder is found
    due = reminders.next_reminder(after, "America/New_York", time(19, 0), date(2026, 10, 31))
    # Then it is 19:00 EST on Sunday: 00:00 UTC, an hour later in UTC than the day before
    assert due == _utc("2026-11-02T00:00:00")


@pytest.mark.parametrize(("local", "quiet"), [(time(21, 59), False), (time(22, 0), True), (time(3, 0), True),
                                               (time(6, 59), True), (time(7, 0), False), (time(12, 0), False)])
def test_quiet_hours_run_from_22_to_07_local(local: time, quiet: bool) -> None:
    assert reminders.in_quiet_hours(local) is quiet


@pytest.mark.parametrize(("text", "allowed"), [("07:00", True), ("19:30", True), ("21:45", True), ("21:46", False),
                                               ("06:59", False), ("23:00", False)])
def test_reminder_times_are_allowed_from_07_00_to_21_45(text: str, allowed: bool) -> None:
    assert reminders.allowed_time(reminders.parse_time(text)) is allowed


@pytest.mark.parametrize("text", ["7:00", "24:00", "19:60", "19-00", " 19:00", "19:00:00", ""])
def test_a_reminder_time_must_be_hh_mm(text: str) -> None:
    with pytest.raises(ValueError, match="HH:MM"):
        reminders.parse_time(text)


def test_a_reminder_may_not_go_out_in_the_quiet_hours_or_over_an_hour_late() -> None:
    due = reminders.reminder_instant(date(2026, 12, 2), time(21, 45), "Asia/Kolkata")
    # On time, and a quarter of an hour late but before 22:00: yes
    assert reminders.may_send(due, due, "Asia/Kolkata")
    assert reminders.may_send(due + timedelta(minutes=14), due, "Asia/Kolkata")
    # At 22:00 local: no (quiet hours)
    assert not reminders.may_send(due + timedelta(minutes=15), due, "Asia/Kolkata")
    # A 10:00 reminder found at 11:01: no (over an hour late)
    morning = reminders.reminder_instant(date(2026, 12, 2), time(10, 0), "Asia/Kolkata")
    assert not reminders.may_send(morning + timedelta(hours=1, minutes=1), morning, "Asia/Kolkata")
