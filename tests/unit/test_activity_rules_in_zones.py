"""The activity path's rules (mindly.services.progress._apply, the step record_activity commits)
over random activity histories in random time zones, checked against a reference computed
straight from the rules. No DynamoDB: each step's items are kept in memory and fed back as the
next step's snapshot, as the store would.
"""

from __future__ import annotations

from collections import defaultdict
from datetime import UTC, date, datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from mindly.domain import badges as badge_rules
from mindly.domain import streaks
from mindly.services import badges as badge_catalog
from mindly.services import progress as engine
from mindly.store import progress as store

ZONES = ["Asia/Kolkata", "America/New_York", "Europe/London", "Asia/Kathmandu", "Pacific/Kiritimati",
         "Pacific/Pago_Pago", "America/Santiago", "Australia/Lord_Howe"]
START = datetime(2026, 3, 1, tzinfo=UTC)  # spans the northern spring-forward and several ISO weeks
BOARD_ZONE = "Asia/Kolkata"


@pytest.fixture(autouse=True)
def _bundled_catalog(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(badge_catalog, "catalog", lambda now=None: badge_rules.bundled_catalog())


def replay(zone: str, goal: int, history: list[tuple[int, str, bool]]) -> tuple[store.ProgressItem, dict[str, Any],
                                                                                    dict[str, int]]:
    """Apply ``history`` ((minutes after START, kind, correct), in time order) as record_activity
    would, keeping the items in memory. Returns PROGRESS, the DAY items and weekly XP."""
    student = engine.Student(user_id="u1", timezone=zone, daily_goal=goal)
    progress: store.ProgressItem | None = None
    days: dict[str, store.DayItem] = {}
    weeks: dict[str, store.WeekItem] = {}
    for index, (minutes, kind, correct) in enumerate(sorted(history)):
        at = START + timedelta(minutes=minutes)
        today = at.astimezone(ZoneInfo(zone)).date()
        week = engine.leaderboard_week(at, BOARD_ZONE)
        key = store.week_sort_key(week, None)
        snapshot = store.Snapshot(progress, days.get(today.isoformat()), None,
                                  {key: weeks[key]} if key in weeks else {})
        activity = engine.Activity(key=f"a{index}", kind=kind, at=at, correct=correct)
        write, _ = engine._apply(snapshot, student, activity, today, week, at)
        progress, days[today.isoformat()] = write.progress, write.day
        weeks.update({item.sk: item for item in write.weeks})
    assert progress is not None
    return progress, days, {item.week: int(item.xp) for item in weeks.values()}


def expected_totals(zone: str, goal: int, history: list[tuple[int, str, bool]]) -> tuple[int, dict[str, int],
                                                                                         dict[date, int]]:
    """XP total, XP per leaderboard week and XP per local day, straight from the rules."""
    per_day: dict[date, int] = defaultdict(int)
    answered: dict[date, int] = defaultdict(int)
    per_week: dict[str, int] = defaultdict(int)
    for minutes, kind, correct in sorted(history):
        at = START + timedelta(minutes=minutes)
        today = at.astimezone(ZoneInfo(zone)).date()
        earned = (10 if correct else 0) if kind == "answer" else 5
        if kind == "answer":
            answered[today] += 1
            if answered[today] == goal:
                earned += 50
        per_day[today] += earned
        year, number, _ = at.astimezone(ZoneInfo(BOARD_ZONE)).date().isocalendar()
        per_week[f"{year}-W{number:02d}"] += earned
    return sum(per_day.values()), dict(per_week), dict(per_day)


def expected_streak(zone: str, history: list[tuple[int, str, bool]], now: datetime) -> tuple[int, int, int]:
    """(current, longest, freezes) on the local day of ``now``, simulated day by day."""
    active = {(START + timedelta(minutes=m)).astimezone(ZoneInfo(zone)).date() for m, _k, _c in history}
    today = now.astimezone(ZoneInfo(zone)).date()
    current = longest = freezes = 0
    day = min(active)
    while day <= today:
        if day in active:
            current += 1
            if current % 7 == 0:
                freezes = min(2, freezes + 1)
            longest = max(longest, current)
        elif day < today and current > 0:
            if freezes:
                freezes -= 1
            else:
                current = 0
        day += timedelta(days=1)
    return current, longest, freezes


def _runs(runs: list[tuple[int, int, int]]) -> list[tuple[int, str, bool]]:
    """Runs of consecutive days with one activity each at a fixed minute of the day, then a gap:
    these reach the 7-, 14- and 21-day milestones and spend freezes far more often than
    scattered activities do."""
    history, day = [], 0
    for active_days, gap, minute in runs:
        history += [((day + d) * 24 * 60 + minute, "answer" if d % 3 else "review", d % 2 == 0)
                    for d in range(active_days)]
        day += active_days + gap
    return history


activities = st.one_of(
    st.lists(st.tuples(st.integers(0, 40 * 24 * 60), st.sampled_from(["answer", "review"]), st.booleans()),
             min_size=1, max_size=60),
    st.lists(st.tuples(st.integers(1, 24), st.integers(0, 4), st.integers(0, 24 * 60 - 1)), min_size=1,
             max_size=5).map(_runs),
)


@settings(max_examples=120, deadline=None)
@given(zone=st.sampled_from(ZONES), goal=st.integers(1, 6), history=activities,
       read_after_minutes=st.integers(0, 5 * 24 * 60))
def test_xp_days_weeks_and_streak_follow_the_rules_in_any_zone(zone: str, goal: int,
                                                                history: list[tuple[int, str, bool]],
                                                                read_after_minutes: int) -> None:
    # Given a random history of answers and reviews by a student in a random zone
    progress, days, weeks = replay(zone, goal, history)
    total, per_week, per_day = expected_totals(zone, goal, history)
    # Then XP, each local day's XP and goal flag, and each leaderboard week's XP are exact
    assert int(progress.xp_total) == total
    assert weeks == {week: xp for week, xp in per_week.items() if xp}
    assert {date.fromisoformat(k): int(v.xp) for k, v in days.items()} == per_day
    for key, item in days.items():
        answered = sum(1 for m, kind, _c in history if kind == "answer"
                       and (START + timedelta(minutes=m)).astimezone(ZoneInfo(zone)).date().isoformat() == key)
        assert bool(item.goal_met) == (answered >= goal)
    # And the streak read some time after the last activity is what the day-by-day rules give
    now = START + timedelta(minutes=max(m for m, _k, _c in history) + read_after_minutes)
    today = now.astimezone(ZoneInfo(zone)).date()
    shown = streaks.view(engine.streak_of(progress), today)
    assert (shown.current, shown.longest, shown.freezes) == expected_streak(zone, history, now)
    # And a running streak is filed for the job at the start of the day after its first uncovered day
    if progress.covered_through:
        due_day = date.fromisoformat(progress.covered_through) + timedelta(days=2)
        due = datetime.combine(due_day, datetime.min.time(), tzinfo=ZoneInfo(zone)).astimezone(UTC)
        assert progress.active_sk == f"{due.strftime('%Y-%m-%dT%H:%M:%SZ')}#u1"
