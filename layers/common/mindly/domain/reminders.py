"""When a student's streak reminder is due: pure rules on local times, no I/O.

A reminder goes out once per local day at the student's ``reminder_time``, never in the quiet hours
(22:00 to 07:00 local). The job runs every ``RUN_EVERY`` and sends what fell due since the last
run, so a reminder is at most that late; a time after ``LATEST_REMINDER`` would then land in the
quiet hours and is refused when the student sets it. Every zone's UTC offset is a whole number of
quarter hours, so a reminder set on a quarter hour goes out exactly on time.
"""

from __future__ import annotations

import re
from datetime import UTC, date, datetime, time, timedelta

from mindly.domain import calendar

QUIET_STARTS = time(22, 0)
QUIET_ENDS = time(7, 0)
RUN_EVERY = timedelta(minutes=15)
EARLIEST_REMINDER = QUIET_ENDS
LATEST_REMINDER = time(21, 45)  # QUIET_STARTS - RUN_EVERY: the last run before the quiet hours sends it
DEFAULT_REMINDER = time(19, 0)
# A reminder found later than this after its time (the job was down) is not sent that day: a
# reminder for the evening arriving past midnight helps no one.
MAX_LATENESS = timedelta(hours=1)

_HH_MM = re.compile(r"([01]\d|2[0-3]):([0-5]\d)")


def parse_time(text: str) -> time:
    """``"19:30"`` as a time; ValueError unless it is a 24-hour ``HH:MM``."""
    found = _HH_MM.fullmatch(text)
    if found is None:
        raise ValueError("reminder_time must be HH:MM (24-hour)")
    return time(int(found.group(1)), int(found.group(2)))


def time_text(at: time) -> str:
    return at.strftime("%H:%M")


def allowed_time(at: time) -> bool:
    """Whether a reminder may be set at ``at``: from 07:00 to 21:45 local."""
    return EARLIEST_REMINDER <= at <= LATEST_REMINDER


def in_quiet_hours(local: time) -> bool:
    """Whether a local wall-clock time lies in the quiet hours (22:00 included, 07:00 not)."""
    return local >= QUIET_STARTS or local < QUIET_ENDS


def reminder_instant(day: date, at: time, zone_name: str) -> datetime:
    """The UTC instant of ``at`` on ``day`` in the zone. Allowed times are never in a DST gap or
    fold (those happen at night), so the wall time names exactly one instant."""
    return datetime.combine(day, at, tzinfo=calendar.zone(zone_name)).astimezone(UTC)


def next_reminder(now: datetime, zone_name: str, at: time, reminded_through: date | None) -> datetime:
    """When the next reminder is due: ``at`` on the first local day, today or later, that has not
    had its reminder (``reminded_through``: the last local day that did, in whatever zone it was
    then) and whose reminder time is still ahead of ``now``."""
    day = calendar.local_date(now, zone_name)
    while True:
        instant = reminder_instant(day, at, zone_name)
        if (reminded_through is None or day > reminded_through) and instant > now:
            return instant
        day += timedelta(days=1)


def may_send(now: datetime, due_at: datetime, zone_name: str) -> bool:
    """Whether a reminder due at ``due_at`` may still go out at ``now``: not in the student's quiet
    hours (a late run, or a zone changed meanwhile) and not more than MAX_LATENESS late."""
    local = now.astimezone(calendar.zone(zone_name)).time()
    return not in_quiet_hours(local) and now - due_at <= MAX_LATENESS
