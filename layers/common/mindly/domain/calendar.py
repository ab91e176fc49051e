"""Calendar rules in a student's own time zone: local dates, ISO weeks, local midnights."""

from __future__ import annotations

from datetime import UTC, date, datetime, time, timedelta
from functools import lru_cache
from zoneinfo import ZoneInfo


@lru_cache(maxsize=256)
def zone(name: str) -> ZoneInfo:
    """The IANA zone ``name`` (cached: every request asks for the same few)."""
    return ZoneInfo(name)


def local_date(at: datetime, zone_name: str) -> date:
    """The calendar date an instant falls on in ``zone_name``. ``at`` must be timezone-aware."""
    if at.tzinfo is None:
        raise ValueError("instant must be timezone-aware")
    return at.astimezone(zone(zone_name)).date()


def iso_week(day: date) -> str:
    """``2026-W47``: the ISO 8601 week a date belongs to (week-numbering year, not calendar year)."""
    year, week, _ = day.isocalendar()
    return f"{year}-W{week:02d}"


def previous_iso_week(day: date) -> str:
    """The ISO week before the one ``day`` is in."""
    return iso_week(day - timedelta(days=7))


def day_starts_at(day: date, zone_name: str) -> datetime:
    """The UTC instant at which ``day`` begins in ``zone_name``.

    Where local midnight does not exist (a zone that springs forward at 00:00), zoneinfo reads the
    missing wall time with the offset in force before the gap (PEP 495, fold=0), which is exactly
    the instant of the jump: the first moment of ``day``.
    """
    return datetime.combine(day, time(0, 0), tzinfo=zone(zone_name)).astimezone(UTC)


def week_monday(week: str) -> date:
    """The Monday an ISO week ``YYYY-Www`` starts on; ValueError when it is not one (also for a
    week 53 in a year that has only 52)."""
    if len(week) != 8 or week[4:6] != "-W" or not (week[:4].isdigit() and week[6:].isdigit()):
        raise ValueError(f"{week!r} is not an ISO week like 2026-W47")
    return date.fromisocalendar(int(week[:4]), int(week[6:]), 1)
