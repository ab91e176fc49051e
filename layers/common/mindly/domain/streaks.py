"""Daily streaks with freezes, as plain values (API.md "Progress and gamification").

A local day counts when the student answered or reviewed at least once that day. The streak grows
by one on the first activity of a day that follows a counted day, restarts at 1 after a missed day,
and never changes twice in one day. A freeze is earned at every 7-day milestone (at most 2 held);
when a day is missed and a freeze is held, the freeze is spent on that day and the streak survives
(it does not grow for the frozen day). ``longest`` never decreases.

Days are settled one at a time, as each one ends, so settling is the same whenever it happens:
settling up to day A and later up to day B gives what settling straight to B gives. That is what
lets a read (before the daily job has run) and the daily job agree.

A day counts once in real time, too: ``counted_until`` is the UTC instant the last day that
grew the streak ends. A local day that begins before that instant (seen from another time zone:
the student changed zone) is the same stretch of time, so activity on it covers it without growing
the streak; switching zones back and forth cannot make an instant count as a new day, and a
traveller's streak is never broken by the dates a move skips.
"""

from __future__ import annotations

from datetime import date, datetime, timedelta
from enum import Enum
from typing import NamedTuple

FREEZE_EVERY_DAYS = 7
MAX_FREEZES = 2
ONE_DAY = timedelta(days=1)


class Streak(NamedTuple):
    """A student's streak state.

    ``covered_through`` is the last day the streak accounts for: the last active day, or a later
    day a freeze was spent on. None when there is no running streak.
    """

    current: int = 0
    longest: int = 0
    last_active: date | None = None
    freezes: int = 0
    covered_through: date | None = None
    counted_until: datetime | None = None  # UTC end of the last local day that grew the streak


class Change(Enum):
    """What an activity did to the streak."""

    STARTED = "started"  # first streak day (a new student, or after a break)
    EXTENDED = "extended"
    UNCHANGED = "unchanged"  # already counted today


class Settlement(NamedTuple):
    """The streak after the days before ``today`` are accounted for, and what that took."""

    streak: Streak
    frozen_days: list[date]  # the days a freeze was spent on, oldest first
    broken_on: date | None = None  # the missed day that ended a running streak
    lost_streak: int = 0  # how long the streak was when it broke


def settle(streak: Streak, today: date) -> Settlement:
    """Account for every day before ``today`` that the streak does not cover yet.

    Each missed day spends a freeze while one is held; the first missed day without one ends the
    streak (current 0). Days are taken in order, so the result does not depend on how often, or
    how late, settling runs.
    """
    if streak.current <= 0 or streak.covered_through is None:
        return Settlement(streak._replace(current=0, covered_through=None), [])
    covered, freezes = streak.covered_through, streak.freezes
    frozen: list[date] = []
    day = covered + ONE_DAY
    while day < today:
        if freezes == 0:
            ended = streak._replace(current=0, covered_through=None, freezes=0)
            return Settlement(ended, frozen, broken_on=day, lost_streak=streak.current)
        freezes -= 1
        frozen.append(day)
        covered = day
        day += ONE_DAY
    return Settlement(streak._replace(freezes=freezes, covered_through=covered), frozen)


def overlaps_counted_day(streak: Streak, day_starts_at: datetime | None) -> bool:
    """Whether a local day beginning at ``day_starts_at`` began before the last counted day ended:
    the same stretch of time, seen from another zone (never true in one zone, where a later day
    starts when the counted one ends)."""
    return (streak.current > 0 and streak.covered_through is not None and streak.counted_until is not None
            and day_starts_at is not None and day_starts_at < streak.counted_until)


def record_activity(streak: Streak, today: date, day_starts_at: datetime | None = None,
                    day_ends_at: datetime | None = None) -> tuple[Streak, Change]:
    """The streak after an activity on local day ``today``, which spans [``day_starts_at``,
    ``day_ends_at``) in UTC (the caller's zone; omitted, days are compared by date alone).

    An activity on a day the streak already covers (the same day, or an earlier local date after
    a change of time zone) changes nothing; neither does one on a later local date that began
    before the last counted day ended (``overlaps_counted_day``), which only extends the cover.
    """
    if overlaps_counted_day(streak, day_starts_at):
        assert streak.covered_through is not None
        if today <= streak.covered_through:
            return streak, Change.UNCHANGED
        last = streak.last_active
        return streak._replace(covered_through=today,
                               last_active=today if last is None or today > last else last), Change.UNCHANGED
    settled = settle(streak, today).streak
    if settled.covered_through is not None and today <= settled.covered_through:
        return settled, Change.UNCHANGED
    if settled.last_active is not None and today <= settled.last_active:
        return settled, Change.UNCHANGED
    if settled.current > 0:  # covered_through is the day before today
        current, change = settled.current + 1, Change.EXTENDED
    else:
        current, change = 1, Change.STARTED
    freezes = settled.freezes
    if current % FREEZE_EVERY_DAYS == 0:
        freezes = min(MAX_FREEZES, freezes + 1)
    return Streak(current=current, longest=max(settled.longest, current), last_active=today,
                  freezes=freezes, covered_through=today, counted_until=day_ends_at), change


def view(streak: Streak, today: date, day_starts_at: datetime | None = None) -> Streak:
    """The streak as a student should see it on ``today``, whether or not the daily job has run
    (a today overlapping the last counted day, after a change of zone, misses nothing)."""
    if overlaps_counted_day(streak, day_starts_at):
        return streak
    return settle(streak, today).streak


def next_settlement_day(streak: Streak) -> date | None:
    """The local day at whose start this streak next needs settling (a freeze or a break), or None
    when no streak is running: the day after the first day it does not cover yet."""
    if streak.current <= 0 or streak.covered_through is None:
        return None
    return streak.covered_through + 2 * ONE_DAY
