"""mindly.domain.calendar: local dates, ISO weeks and local midnights in a student's own zone."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta
from zoneinfo import ZoneInfo

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from mindly.domain import calendar

KOLKATA = "Asia/Kolkata"  # UTC+05:30, no daylight saving
NEW_YORK = "America/New_York"  # UTC-05:00 / -04:00

ZONES = [
    "UTC", KOLKATA, NEW_YORK, "Asia/Kathmandu", "Pacific/Kiritimati", "Pacific/Pago_Pago",
    "America/Santiago", "Europe/London", "Australia/Lord_Howe", "Pacific/Chatham", "America/St_Johns",
    "Asia/Tehran", "Africa/Casablanca", "America/Havana", "Asia/Tokyo", "Pacific/Auckland",
]


def utc(*args: int) -> datetime:
    return datetime(*args, tzinfo=UTC)


# --- local dates around each zone's own midnight ------------------------------------------------


def test_kolkata_rolls_over_at_its_own_midnight() -> None:
    # Given Kolkata's midnight starting 2026-03-11, which is 18:30 UTC the day before
    # When the instants either side of it are read in Kolkata
    # Then the date changes exactly there
    assert calendar.local_date(utc(2026, 3, 10, 18, 29, 59), KOLKATA) == date(2026, 3, 10)
    assert calendar.local_date(utc(2026, 3, 10, 18, 30), KOLKATA) == date(2026, 3, 11)
    assert calendar.day_starts_at(date(2026, 3, 11), KOLKATA) == utc(2026, 3, 10, 18, 30)


def test_new_york_rolls_over_at_its_own_midnight() -> None:
    # Given New York's midnight starting 2026-03-11 (EDT, UTC-4), which is 04:00 UTC that day
    # When the instants either side of it are read in New York
    # Then the date changes exactly there
    assert calendar.local_date(utc(2026, 3, 11, 3, 59, 59), NEW_YORK) == date(2026, 3, 10)
    assert calendar.local_date(utc(2026, 3, 11, 4, 0), NEW_YORK) == date(2026, 3, 11)
    assert calendar.day_starts_at(date(2026, 3, 11), NEW_YORK) == utc(2026, 3, 11, 4, 0)
    # And in winter (EST, UTC-5) an hour later in UTC
    assert calendar.day_starts_at(date(2026, 1, 15), NEW_YORK) == utc(2026, 1, 15, 5, 0)


@pytest.mark.parametrize(("instant", "in_kolkata", "in_new_york"), [
    (utc(2026, 3, 10, 20, 0), date(2026, 3, 11), date(2026, 3, 10)),  # after Kolkata's midnight, evening in NY
    (utc(2026, 3, 11, 3, 0), date(2026, 3, 11), date(2026, 3, 10)),  # NY still before its midnight
    (utc(2026, 3, 11, 5, 0), date(2026, 3, 11), date(2026, 3, 11)),  # both past their midnights
    (utc(2026, 3, 11, 18, 0), date(2026, 3, 11), date(2026, 3, 11)),  # Kolkata 23:30, NY 14:00
])
def test_the_same_instant_can_be_different_local_dates(instant: datetime, in_kolkata: date,
                                                       in_new_york: date) -> None:
    # Given one UTC instant
    # When it is read in Kolkata and in New York
    # Then each zone gives its own calendar date
    assert calendar.local_date(instant, KOLKATA) == in_kolkata
    assert calendar.local_date(instant, NEW_YORK) == in_new_york


def test_local_date_accepts_any_aware_instant_and_rejects_naive_ones() -> None:
    # Given the same instant expressed in UTC and in Tokyo time
    in_tokyo = utc(2026, 3, 10, 20, 0).astimezone(ZoneInfo("Asia/Tokyo"))
    # Then both read as the same local date anywhere
    assert calendar.local_date(in_tokyo, NEW_YORK) == calendar.local_date(utc(2026, 3, 10, 20, 0), NEW_YORK)
    # And a naive datetime is refused rather than guessed at
    with pytest.raises(ValueError, match="timezone-aware"):
        calendar.local_date(datetime(2026, 3, 10, 20, 0), NEW_YORK)


def test_the_same_instant_can_be_in_different_iso_weeks() -> None:
    # Given Sunday afternoon 2027-01-03 in New York, which is already Monday 2027-01-04 in Kolkata
    instant = utc(2027, 1, 3, 20, 0)
    ny_day, kolkata_day = calendar.local_date(instant, NEW_YORK), calendar.local_date(instant, KOLKATA)
    assert (ny_day, kolkata_day) == (date(2027, 1, 3), date(2027, 1, 4))
    assert tuple(ny_day.isocalendar())[:2] == (2026, 53)
    assert tuple(kolkata_day.isocalendar())[:2] == (2027, 1)
    # When each student's week is taken
    # Then New York is still in the last week of 2026 and Kolkata in the first of 2027
    assert calendar.iso_week(ny_day) == "2026-W53"
    assert calendar.iso_week(kolkata_day) == "2027-W01"


# --- daylight saving ----------------------------------------------------------------------------


def day_length(day: date, zone_name: str) -> timedelta:
    return calendar.day_starts_at(day + timedelta(days=1), zone_name) - calendar.day_starts_at(day, zone_name)


@pytest.mark.parametrize(("zone_name", "day", "hours"), [
    (NEW_YORK, date(2026, 3, 8), 23),  # spring forward at 02:00
    (NEW_YORK, date(2026, 3, 9), 24),
    (NEW_YORK, date(2026, 11, 1), 25),  # fall back at 02:00
    (NEW_YORK, date(2026, 11, 2), 24),
    ("Europe/London", date(2026, 3, 29), 23),
    ("Europe/London", date(2026, 10, 25), 25),
    ("America/Santiago", date(2026, 9, 6), 23),  # springs forward at local midnight
    ("America/Santiago", date(2026, 4, 4), 25),  # falls back at the midnight ending this day
    ("Australia/Lord_Howe", date(2026, 10, 4), 23.5),  # half-hour daylight saving
    ("Australia/Lord_Howe", date(2026, 4, 5), 24.5),
    (KOLKATA, date(2026, 3, 8), 24),
    (KOLKATA, date(2026, 11, 1), 24),
])
def test_daylight_saving_days_are_23_or_25_hours_long(zone_name: str, day: date, hours: float) -> None:
    # Given a day on which the zone's clocks change (or, for Kolkata, do not)
    # When the day's length is taken from one local midnight to the next
    # Then it is as long as the wall clock makes it
    assert day_length(day, zone_name) == timedelta(hours=hours)


def test_new_york_dst_days_start_at_local_midnight() -> None:
    # Given New York's two 2026 clock-change days
    # Then each begins at local midnight, in the offset in force at that midnight
    assert calendar.day_starts_at(date(2026, 3, 8), NEW_YORK) == utc(2026, 3, 8, 5, 0)  # EST
    assert calendar.day_starts_at(date(2026, 3, 9), NEW_YORK) == utc(2026, 3, 9, 4, 0)  # EDT
    assert calendar.day_starts_at(date(2026, 11, 1), NEW_YORK) == utc(2026, 11, 1, 4, 0)  # EDT
    assert calendar.day_starts_at(date(2026, 11, 2), NEW_YORK) == utc(2026, 11, 2, 5, 0)  # EST


def test_a_day_with_no_local_midnight_starts_at_the_jump() -> None:
    # Given America/Santiago, whose clocks jump from 00:00 to 01:00 on 2026-09-06 (at 04:00 UTC)
    start = calendar.day_starts_at(date(2026, 9, 6), "America/Santiago")
    # Then the day starts at the instant of the jump
    assert start == utc(2026, 9, 6, 4, 0)
    local = start.astimezone(ZoneInfo("America/Santiago"))
    assert (local.date(), local.hour, local.minute) == (date(2026, 9, 6), 1, 0)
    # And the instant just before it is still the previous day, the instant itself the new one
    assert calendar.local_date(start - timedelta(microseconds=1), "America/Santiago") == date(2026, 9, 5)
    assert calendar.local_date(start, "America/Santiago") == date(2026, 9, 6)


def test_a_midnight_that_the_clock_falls_back_across_starts_the_day_once() -> None:
    # Given America/Santiago, whose clocks go back from 00:00 on 2026-04-05 to 23:00 on 2026-04-04
    start = calendar.day_starts_at(date(2026, 4, 5), "America/Santiago")
    # Then 2026-04-05 starts when its midnight is reached for good (04:00 UTC), and the repeated
    # hour before it still belongs to 2026-04-04
    assert start == utc(2026, 4, 5, 4, 0)
    assert calendar.local_date(utc(2026, 4, 5, 3, 30), "America/Santiago") == date(2026, 4, 4)
    assert calendar.local_date(start, "America/Santiago") == date(2026, 4, 5)


def test_day_starts_at_returns_a_utc_instant() -> None:
    start = calendar.day_starts_at(date(2026, 6, 1), "Asia/Kathmandu")
    assert start.utcoffset() == timedelta(0)
    assert start == utc(2026, 5, 31, 18, 15)  # UTC+05:45


# --- ISO weeks ----------------------------------------------------------------------------------


@pytest.mark.parametrize(("day", "week"), [
    (date(2026, 12, 28), "2026-W53"),
    (date(2026, 12, 31), "2026-W53"),
    (date(2027, 1, 1), "2026-W53"),  # a calendar-2027 day in the week-numbering year 2026
    (date(2027, 1, 3), "2026-W53"),
    (date(2027, 1, 4), "2027-W01"),
    (date(2026, 1, 1), "2026-W01"),
    (date(2025, 12, 29), "2026-W01"),  # a calendar-2025 day in week 1 of 2026
    (date(2026, 3, 2), "2026-W10"),  # zero-padded week numbers
])
def test_iso_week_uses_the_week_numbering_year(day: date, week: str) -> None:
    # Given a date, whose ISO week the standard library agrees on
    year, number, _ = day.isocalendar()
    assert f"{year}-W{number:02d}" == week
    # When its week is named
    # Then it is the ISO week, named with the week-numbering year
    assert calendar.iso_week(day) == week


@pytest.mark.parametrize(("day", "previous"), [
    (date(2027, 1, 4), "2026-W53"),
    (date(2027, 1, 10), "2026-W53"),
    (date(2027, 1, 11), "2027-W01"),
    (date(2026, 1, 5), "2026-W01"),
    (date(2026, 1, 1), "2025-W52"),
    (date(2021, 1, 4), "2020-W53"),
])
def test_previous_iso_week_crosses_year_boundaries(day: date, previous: str) -> None:
    # Given a date, when the week before its own is named, then it is the previous ISO week
    assert calendar.previous_iso_week(day) == previous


def _monday_of(week: str) -> date:
    year, number = week.split("-W")
    return date.fromisocalendar(int(year), int(number), 1)


@settings(max_examples=200, deadline=None)
@given(day=st.dates(min_value=date(1970, 1, 1), max_value=date(2099, 12, 31)))
def test_iso_weeks_agree_with_the_standard_library_and_follow_each_other(day: date) -> None:
    # Given any date
    week, previous = calendar.iso_week(day), calendar.previous_iso_week(day)
    # Then its week names the Monday-to-Sunday week it is in
    monday = _monday_of(week)
    assert monday <= day < monday + timedelta(days=7)
    assert monday.isocalendar()[:2] == day.isocalendar()[:2]
    # And the previous week is the one just before it
    assert _monday_of(previous) == monday - timedelta(days=7)
    # And every day of the same week gives the same names
    assert calendar.iso_week(monday + timedelta(days=6)) == week
    assert calendar.previous_iso_week(monday + timedelta(days=6)) == previous


# --- local midnights round-trip -----------------------------------------------------------------

# Modern dates only: some zones have historical days that never existed locally
# (Pacific/Kiritimati skipped 1994-12-31 outright when it moved across the date line).
modern_dates = st.dates(min_value=date(2000, 1, 1), max_value=date(2099, 12, 31))


@settings(max_examples=200, deadline=None)
@given(day=modern_dates, zone_name=st.sampled_from(ZONES))
def test_a_day_starts_on_itself_and_not_earlier(day: date, zone_name: str) -> None:
    # Given a random date and a real IANA zone
    # When the instant the day starts at is read back in that zone
    start = calendar.day_starts_at(day, zone_name)
    # Then it is that date, and the instant just before it is the day before
    assert calendar.local_date(start, zone_name) == day
    assert calendar.local_date(start - timedelta(microseconds=1), zone_name) == day - timedelta(days=1)
    # And days follow each other, each between 22 and 26 hours long (DST shifts are at most 2h)
    assert timedelta(hours=22) <= day_length(day, zone_name) <= timedelta(hours=26)


@pytest.mark.parametrize("zone_name", ["Asia/Kathmandu", "Pacific/Kiritimati", "Pacific/Pago_Pago",
                                       "America/Santiago", "Europe/London", "Australia/Lord_Howe"])
def test_zones_at_the_extremes_roll_over_at_their_own_midnight(zone_name: str) -> None:
    # Given a day in a zone with an unusual offset
    day = date(2026, 7, 1)
    start = calendar.day_starts_at(day, zone_name)
    # Then the wall clock there reads midnight at the start of the day
    local = start.astimezone(ZoneInfo(zone_name))
    assert (local.date(), local.hour, local.minute, local.second) == (day, 0, 0, 0)


def test_kiritimati_and_pago_pago_are_a_day_apart_at_the_same_instant() -> None:
    # Given the same instant in UTC+14 and UTC-11
    instant = utc(2026, 7, 1, 12, 0)
    # Then their local dates differ by a full day (25 hours apart on the clock)
    assert calendar.local_date(instant, "Pacific/Kiritimati") == date(2026, 7, 2)
    assert calendar.local_date(instant, "Pacific/Pago_Pago") == date(2026, 7, 1)


def test_zone_is_cached() -> None:
    assert calendar.zone(KOLKATA) is calendar.zone(KOLKATA)
    assert calendar.zone(KOLKATA) == ZoneInfo(KOLKATA)


@pytest.mark.parametrize("zone_name", ZONES)
def test_every_day_of_2026_round_trips(zone_name: str) -> None:
    # Given every day of 2026, clock-change days included (random dates rarely land on them)
    day = date(2026, 1, 1)
    while day.year == 2026:
        # When the day's start is read back in the zone
        start = calendar.day_starts_at(day, zone_name)
        # Then it is that day, and the instant before it the day before
        assert calendar.local_date(start, zone_name) == day
        assert calendar.local_date(start - timedelta(microseconds=1), zone_name) == day - timedelta(days=1)
        day += timedelta(days=1)
