"""mindly.domain.streaks: daily streaks with freezes, settled one local day at a time."""

from __future__ import annotations

from collections.abc import Iterable
from datetime import date, timedelta

from hypothesis import given, settings
from hypothesis import strategies as st

from mindly.domain import streaks
from mindly.domain.streaks import Change, Streak

D0 = date(2026, 1, 5)  # a Monday; the first day of every history below


def day(n: int) -> date:
    return D0 + timedelta(days=n)


def active_on(days: Iterable[int], start: Streak | None = None) -> Streak:
    """The streak after one activity on each of ``days`` (offsets from D0), in order."""
    streak = start or Streak()
    for n in sorted(days):
        streak, _ = streaks.record_activity(streak, day(n))
    return streak


# --- hand-computed sequences -------------------------------------------------------------------


def test_the_first_activity_starts_a_streak_of_one() -> None:
    # Given a new student
    # When they answer once on their first day
    streak, change = streaks.record_activity(Streak(), day(0))
    # Then a streak of one starts, covering that day
    assert change is Change.STARTED
    assert streak == Streak(current=1, longest=1, last_active=day(0), freezes=0, covered_through=day(0))


def test_consecutive_days_extend_the_streak_by_one_each() -> None:
    # Given a streak of 3 days
    streak = active_on(range(3))
    # When the student is active the next day
    extended, change = streaks.record_activity(streak, day(3))
    # Then it grows by exactly one
    assert change is Change.EXTENDED
    assert (extended.current, extended.longest, extended.freezes) == (4, 4, 0)


def test_the_7_day_milestone_earns_a_freeze() -> None:
    # Given six active days in a row: no freeze yet
    six = active_on(range(6))
    assert (six.current, six.freezes) == (6, 0)
    # When the seventh day is active
    seven, change = streaks.record_activity(six, day(6))
    # Then the milestone earns one freeze
    assert change is Change.EXTENDED
    assert (seven.current, seven.longest, seven.freezes) == (7, 7, 1)
    # And the days after it earn nothing more until the next milestone
    thirteen = active_on(range(7, 13), seven)
    assert (thirteen.current, thirteen.freezes) == (13, 1)
    fourteen = active_on([13], thirteen)
    assert (fourteen.current, fourteen.freezes) == (14, 2)


def test_freezes_are_capped_at_two() -> None:
    # Given 21 active days in a row (three milestones: 7, 14, 21)
    # When the third milestone is reached
    streak = active_on(range(21))
    # Then only two freezes are held
    assert (streak.current, streak.longest, streak.freezes) == (21, 21, 2)
    # And a fourth milestone still leaves two
    assert active_on(range(28)).freezes == 2


def test_a_missed_day_spends_a_freeze_and_keeps_the_streak() -> None:
    # Given a 7-day streak holding one freeze
    streak = active_on(range(7))
    assert streak.freezes == 1
    # When day 7 is missed and the next day is settled
    settlement = streaks.settle(streak, day(8))
    # Then the freeze is spent on the missed day and the streak survives, not growing for that day
    assert settlement.frozen_days == [day(7)]
    assert settlement.broken_on is None
    assert settlement.lost_streak == 0
    assert settlement.streak == Streak(current=7, longest=7, last_active=day(6), freezes=0, covered_through=day(7))
    # And activity on day 8 extends it to 8 (the frozen day did not count)
    after, change = streaks.record_activity(streak, day(8))
    assert change is Change.EXTENDED
    assert (after.current, after.longest, after.freezes) == (8, 8, 0)


def test_a_frozen_day_does_not_count_towards_the_next_milestone() -> None:
    # Given 7 active days (one freeze), a missed day (freeze spent), then 6 more active days
    streak = active_on([*range(7), *range(8, 14)])
    # Then the streak is 13 (active days only) and no new freeze has been earned
    assert (streak.current, streak.freezes) == (13, 0)
    # When the 14th active day comes
    streak = active_on([14], streak)
    # Then that is the milestone that earns the next freeze
    assert (streak.current, streak.freezes) == (14, 1)


def test_two_missed_days_spend_two_freezes() -> None:
    # Given a 14-day streak holding two freezes
    streak = active_on(range(14))
    assert streak.freezes == 2
    # When days 14 and 15 are missed
    settlement = streaks.settle(streak, day(16))
    # Then both freezes are spent and the streak survives
    assert settlement.frozen_days == [day(14), day(15)]
    assert settlement.broken_on is None
    assert (settlement.streak.current, settlement.streak.freezes) == (14, 0)
    assert settlement.streak.covered_through == day(15)
    # And activity on day 16 extends it
    after, change = streaks.record_activity(streak, day(16))
    assert change is Change.EXTENDED
    assert (after.current, after.longest, after.freezes) == (15, 15, 0)


def test_a_third_missed_day_breaks_the_streak() -> None:
    # Given a 14-day streak holding two freezes
    streak = active_on(range(14))
    # When days 14, 15 and 16 are all missed
    settlement = streaks.settle(streak, day(17))
    # Then two freezes are spent and the third missed day ends the streak
    assert settlement.frozen_days == [day(14), day(15)]
    assert settlement.broken_on == day(16)
    assert settlement.lost_streak == 14
    assert (settlement.streak.current, settlement.streak.longest, settlement.streak.freezes) == (0, 14, 0)
    assert settlement.streak.covered_through is None
    # And the next activity starts over at 1
    after, change = streaks.record_activity(streak, day(17))
    assert change is Change.STARTED
    assert (after.current, after.longest, after.freezes) == (1, 14, 0)


def test_a_break_restarts_the_streak_at_one() -> None:
    # Given a 3-day streak without freezes
    streak = active_on(range(3))
    # When day 3 is missed and the student is active on day 4
    settlement = streaks.settle(streak, day(4))
    after, change = streaks.record_activity(streak, day(4))
    # Then the missed day broke the streak and it restarts at 1
    assert settlement.broken_on == day(3)
    assert settlement.lost_streak == 3
    assert settlement.frozen_days == []
    assert change is Change.STARTED
    assert (after.current, after.longest) == (1, 3)


def test_the_same_day_twice_changes_nothing() -> None:
    # Given a streak extended today
    streak = active_on(range(4))
    # When the student is active again the same day
    again, change = streaks.record_activity(streak, day(3))
    # Then nothing changes
    assert change is Change.UNCHANGED
    assert again == streak


def test_an_earlier_local_date_after_a_time_zone_change_changes_nothing() -> None:
    # Given a streak that covers day 3
    streak = active_on(range(4))
    # When an activity lands on day 2 (the student moved west across the date line)
    again, change = streaks.record_activity(streak, day(2))
    # Then nothing changes
    assert change is Change.UNCHANGED
    assert again == streak


def test_longest_is_kept_after_a_break() -> None:
    # Given a 10-day streak, then a missed day, then 3 active days
    # (the 10-day run earned one freeze at day 7, so breaking takes two missed days)
    streak = active_on([*range(10), *range(12, 15)])
    # Then the current streak is 3 but the longest is still 10
    assert (streak.current, streak.longest) == (3, 10)
    # And the longest only moves again once the new streak passes it
    streak = active_on(range(15, 22), streak)
    assert (streak.current, streak.longest) == (10, 10)
    streak = active_on([22], streak)
    assert (streak.current, streak.longest) == (11, 11)


def test_view_of_a_day_still_covered_is_the_stored_streak() -> None:
    # Given a streak last active on day 4
    streak = active_on(range(5))
    # When it is viewed on day 4 and on day 5 (day 5 is not over yet, so not missed)
    # Then it shows as stored
    assert streaks.view(streak, day(4)) == streak
    assert streaks.view(streak, day(5)) == streak
    # And on day 6 (day 5 missed, no freeze) it shows as broken, longest kept
    broken = streaks.view(streak, day(6))
    assert (broken.current, broken.longest, broken.covered_through) == (0, 5, None)


def test_view_and_settle_of_a_new_student() -> None:
    # Given a student who never studied
    # When their streak is viewed any day
    # Then it is empty and needs no settling
    assert streaks.view(Streak(), day(100)) == Streak()
    assert streaks.settle(Streak(), day(100)).frozen_days == []
    assert streaks.next_settlement_day(Streak()) is None


def test_next_settlement_day_is_the_day_after_the_first_uncovered_day() -> None:
    # Given a 7-day streak ending on day 6, with one freeze
    streak = active_on(range(7))
    # Then it next needs settling at the start of day 8 (day 7 then has ended unvisited)
    assert streaks.next_settlement_day(streak) == day(8)
    # When that settling spends the freeze on day 7
    frozen = streaks.settle(streak, day(8)).streak
    # Then the next settling is due a day later
    assert streaks.next_settlement_day(frozen) == day(9)
    # And once the streak breaks, nothing is due
    assert streaks.next_settlement_day(streaks.settle(frozen, day(9)).streak) is None


# --- property tests over random activity histories ---------------------------------------------

HORIZON = 70


def _runs_to_days(runs: list[tuple[int, int]]) -> frozenset[int]:
    days: set[int] = set()
    n = 0
    for active, gap in runs:
        days.update(range(n, n + active))
        n += active + gap
    return frozenset(d for d in days if d < HORIZON)


# Histories: either scattered days, or runs of activity separated by short gaps (which reach the
# milestones and exercise freezes much more often than uniformly random days do).
histories = st.one_of(
    st.frozensets(st.integers(0, HORIZON - 1), max_size=HORIZON),
    st.lists(st.tuples(st.integers(1, 24), st.integers(0, 4)), max_size=8).map(_runs_to_days),
)


def reference(active: frozenset[int], today: int) -> tuple[int, int, int]:
    """(current, longest, freezes) as the rules describe them, simulated day by day up to ``today``.

    A day that is over and had no activity is missed: it spends a freeze if one is held, else it
    ends the streak. Today is not over, so it can only count, never be missed.
    """
    current = longest = freezes = 0
    for n in range(today + 1):
        if n in active:
            current += 1  # the first day of a streak, or one more after a counted (or frozen) day
            if current % 7 == 0:
                freezes = min(2, freezes + 1)
            longest = max(longest, current)
        elif n < today and current > 0:
            if freezes > 0:
                freezes -= 1
            else:
                current = 0
    return current, longest, freezes


def simulate(active: frozenset[int], today: int, job_days: frozenset[int] = frozenset()) -> Streak:
    """The stored streak on ``today``: a daily job settles at the start of each of ``job_days``,
    and every active day records one activity."""
    streak = Streak()
    for n in range(today + 1):
        if n in job_days:
            streak = streaks.settle(streak, day(n)).streak
        if n in active:
            streak, _ = streaks.record_activity(streak, day(n))
    return streak


@settings(max_examples=200, deadline=None)
@given(active=histories, today=st.integers(0, HORIZON + 5), job_days=st.frozensets(st.integers(0, HORIZON + 5)))
def test_the_streak_matches_a_day_by_day_reference_model(
        active: frozenset[int], today: int, job_days: frozenset[int]) -> None:
    # Given a random history of active days, and a daily job that ran on some days
    # When the streak is viewed on ``today``
    expected = reference(active, today)
    without_job = streaks.view(simulate(active, today), day(today))
    with_job = streaks.view(simulate(active, today, job_days), day(today))
    # Then it matches the reference model, whether or not (and whenever) the daily job ran
    assert (without_job.current, without_job.longest, without_job.freezes) == expected
    assert with_job == without_job


@settings(max_examples=150, deadline=None)
@given(active=histories)
def test_longest_never_decreases_and_freezes_stay_within_bounds(active: frozenset[int]) -> None:
    # Given a random history
    streak = Streak()
    previous_longest = 0
    for n in range(HORIZON + 3):
        # When each day starts (the streak is viewed) and then, if active, an activity is recorded
        seen = streaks.view(streak, day(n))
        if n in active:
            streak, _ = streaks.record_activity(streak, day(n))
        for state in (seen, streak):
            # Then longest never goes down and is at least current, and freezes stay in 0..2
            assert state.longest >= previous_longest
            assert state.longest >= state.current >= 0
            assert 0 <= state.freezes <= streaks.MAX_FREEZES
            previous_longest = state.longest


@settings(max_examples=150, deadline=None)
@given(active=histories)
def test_the_streak_never_changes_twice_in_one_day(active: frozenset[int]) -> None:
    # Given a random history
    streak = Streak()
    for n in sorted(active):
        before = streaks.view(streak, day(n))
        # When the student is active several times the same day
        first, change = streaks.record_activity(streak, day(n))
        second, second_change = streaks.record_activity(first, day(n))
        third, third_change = streaks.record_activity(second, day(n))
        # Then only the first activity moves the streak, by exactly one step
        assert second_change is third_change is Change.UNCHANGED
        assert first == second == third
        assert streaks.view(first, day(n)) == first
        if change is Change.EXTENDED:
            assert before.current > 0
            assert first.current == before.current + 1
        else:
            assert change is Change.STARTED
            assert before.current == 0
            assert first.current == 1
        streak = first


@settings(max_examples=200, deadline=None)
@given(active=histories, a=st.integers(0, HORIZON + 10), b=st.integers(0, HORIZON + 10),
       stop=st.integers(0, HORIZON - 1))
def test_settling_is_idempotent_and_composes(active: frozenset[int], a: int, b: int, stop: int) -> None:
    # Given a streak as stored after a random history up to ``stop``
    streak = simulate(active, stop)
    a, b = min(a, b), max(a, b)
    # When it is settled to day a and then to day b, or straight to b, or to b twice
    first = streaks.settle(streak, day(a))
    then = streaks.settle(first.streak, day(b))
    straight = streaks.settle(streak, day(b))
    twice = streaks.settle(straight.streak, day(b))
    # Then the outcome is the same however settling was split up
    assert then.streak == straight.streak
    assert first.frozen_days + then.frozen_days == straight.frozen_days
    assert (first.broken_on or then.broken_on) == straight.broken_on
    assert max(first.lost_streak, then.lost_streak) == straight.lost_streak
    assert twice.streak == straight.streak
    assert twice.frozen_days == [] and twice.broken_on is None
    # And view is settle's streak
    assert streaks.view(streak, day(b)) == straight.streak


@settings(max_examples=150, deadline=None)
@given(active=histories, stop=st.integers(0, HORIZON - 1))
def test_next_settlement_day_is_exactly_when_settling_changes_something(
        active: frozenset[int], stop: int) -> None:
    # Given a streak as stored after a random history
    streak = simulate(active, stop)
    # When its next settlement day is asked for
    due = streaks.next_settlement_day(streak)
    # Then there is none exactly when no streak is running, and otherwise settling changes nothing
    # the day before it and something on it (a freeze spent or a break)
    if due is None:
        assert streaks.view(streak, day(stop + 30)).current == 0
        return
    assert streak.current > 0
    assert streaks.settle(streak, due - timedelta(days=1)).streak == streak
    settled = streaks.settle(streak, due)
    assert settled.streak != streak
    assert len(settled.frozen_days) + (settled.broken_on is not None) == 1
