"""The activity path: every answer and review a student makes goes through ``record_activity``.

One call applies every rule in one consistent step: XP (+10 correct answer, +5 review, +50 once a
day for the daily goal, with the fair-play rules of mindly.domain.xp), the day's counters, the
streak (in the student's own time zone), the weekly XP (overall and per exam) and badges. DynamoDB
is the source of truth (one read, one transaction); the Redis leaderboards mirror the weekly XP.

Fair-play facts that depend on the caller's own items (has this question been answered before,
was this card due) arrive on the Activity; the items they were read from are written in the same
transaction under a condition, so a stale fact cannot commit. Facts that depend on the student's
progress (the day's new cards, the last day paid or counted) are read here, in the snapshot the
transaction is conditional on.

Exactness under concurrency and retries: the transaction is conditional on the PROGRESS version the
read saw, so concurrent activities of one student are applied one after another (the loser reads
again and retries), and the ``activity_key`` record written in the same transaction makes a repeated
activity count once.
"""

from __future__ import annotations

import random
import time
from collections.abc import Callable
from datetime import UTC, date, datetime, timedelta
from typing import Any, NamedTuple

from mindly.config import get_settings
from mindly.domain import badges as badge_rules
from mindly.domain import calendar, streaks, syllabus, xp
from mindly.exceptions import NotFound, ServiceUnavailable, StoreBusy, ValidationFailed
from mindly.observability import logger
from mindly.services import badges as badge_catalog
from mindly.store import progress as store
from mindly.store import users
from mindly.store.errors import AlreadyExists, OutcomeUnknown, StaleWrite

MAX_ATTEMPTS = 60
BACKOFF_BASE_SECONDS = 0.01
BACKOFF_CAP_SECONDS = 1.0
GOAL_CHANGE = "goal"

# Called after a commit with (week, {exam or None: the student's new weekly XP}, user id).
Mirror = Callable[[str, dict[str | None, int], str], None]


class Student(NamedTuple):
    """Who the activity belongs to and the profile facts the rules need."""

    user_id: str
    timezone: str = "Asia/Kolkata"
    daily_goal: int = xp.DEFAULT_DAILY_GOAL
    name: str | None = None
    new_cards_per_day: int = 20  # new cards a day that earn review XP (the profile's limit)


class Activity(NamedTuple):
    """One answer or review. ``key`` is the client's idempotency key (attempt_id / review_id)."""

    key: str
    kind: str  # xp.ANSWER | xp.REVIEW
    at: datetime
    correct: bool | None = None
    exam: str | None = None
    subject: str | None = None
    details: dict[str, Any] | None = None  # the caller's facts, returned to a repeat of the same key
    first_review: bool = False  # a review that starts a new card (counted against the daily limit)
    seconds: int = 0  # time the student spent on it (the day's study time)
    answered_before: bool = False  # an answer to a question the student answered before: no XP
    counts_for_goal: bool = True  # False: an answer to a question already answered that local day
    due_on: date | None = None  # a review of a held card: its next review date before the review
    undoes: str | None = None  # an undo: the key of the recorded review it takes back
    # A mock test (kind xp.MOCK_TEST) records all its answers at once: how many it answered, how many
    # right, how many count toward the day's goal, and the XP the caller's fair-play rule gave them.
    answers: int = 1
    answers_correct: int = 0
    goal_answers: int | None = None
    earned_xp: int = 0


class Recorded(NamedTuple):
    """What an activity did; a repeat of the same key returns the first recording's figures."""

    xp_awarded: int
    duplicate: bool
    day: date
    current_streak: int
    badges_earned: list[str]
    details: dict[str, Any] | None = None
    xp_withheld: str | None = None  # why the activity earned none of its own XP (xp.WITHHELD_REASONS)


def streak_of(item: store.ProgressItem | None) -> streaks.Streak:
    """The domain streak held by a PROGRESS item."""
    if item is None:
        return streaks.Streak()
    return streaks.Streak(
        current=int(item.current_streak), longest=int(item.longest_streak),
        last_active=date.fromisoformat(item.last_active_date) if item.last_active_date else None,
        freezes=int(item.streak_freezes),
        covered_through=date.fromisoformat(item.covered_through) if item.covered_through else None,
        counted_until=item.streak_counted_until,
    )


def store_streak(progress: store.ProgressItem, streak: streaks.Streak, zone: str) -> None:
    """Write a domain streak onto a PROGRESS item, and schedule its next settlement for the job."""
    progress.current_streak, progress.longest_streak = streak.current, streak.longest
    progress.streak_freezes = streak.freezes
    progress.last_active_date = streak.last_active.isoformat() if streak.last_active else None
    progress.covered_through = streak.covered_through.isoformat() if streak.covered_through else None
    progress.streak_counted_until = streak.counted_until
    due_day = streaks.next_settlement_day(streak)
    store.schedule_settlement(progress, str(progress.user_id),
                              calendar.day_starts_at(due_day, zone) if due_day else None)


def _tally_of(item: store.DayItem | None) -> xp.DayTally:
    if item is None:
        return xp.DayTally()
    return xp.DayTally(questions_answered=int(item.questions_answered), cards_reviewed=int(item.cards_reviewed),
                       xp=int(item.xp), goal_met=bool(item.goal_met),
                       goal_questions=None if item.goal_questions is None else int(item.goal_questions))


def _own_xp(snapshot: store.Snapshot, student: Student, activity: Activity, today: date) -> tuple[int, str | None]:
    """The activity's own XP (bonus aside) under the fair-play rules, and why it is 0 when one of
    them withheld it."""
    if activity.kind == xp.ANSWER:
        if activity.answered_before:
            return 0, xp.ANSWERED_BEFORE
        return xp.xp_for(xp.ANSWER, activity.correct), None
    if activity.kind == xp.MOCK_TEST:
        # Right answers to questions answered before (their keys were seen) earn nothing.
        withheld = xp.ANSWERED_BEFORE if activity.earned_xp == 0 and activity.answers_correct else None
        return activity.earned_xp, withheld
    if activity.kind == xp.REVIEW:
        started = int(snapshot.day.new_cards or 0) if snapshot.day else 0
        withheld = xp.review_withheld(activity.due_on, today, activity.first_review, started,
                                      student.new_cards_per_day)
        return (0, withheld) if withheld else (xp.CARD_REVIEW_XP, None)
    # An undo takes back what the review earned by itself (a review recorded before this rule: +5).
    undone = snapshot.undone
    if undone is None:
        return -xp.CARD_REVIEW_XP, None
    result: dict[str, Any] = undone.result or {}
    return -int(result.get("own_xp", undone.xp_awarded)), None


def leaderboard_week(at: datetime, zone: str) -> str:
    """The leaderboard's ISO week of an instant, in the leaderboard's zone."""
    return calendar.iso_week(calendar.local_date(at, zone))


def facts_of(progress: store.ProgressItem) -> dict[str, float]:
    """The metrics badge criteria are written against."""
    facts: dict[str, float] = {
        "current_streak": int(progress.current_streak),
        "longest_streak": int(progress.longest_streak),
        "questions_answered": int(progress.questions_answered),
        "questions_correct": int(progress.questions_correct),
        "cards_reviewed": int(progress.cards_reviewed),
        "xp_total": int(progress.xp_total),
        "goal_streak": int(progress.goal_streak),
        "longest_goal_streak": int(progress.longest_goal_streak),
    }
    for exam, stats in (progress.exam_stats or {}).items():
        answered, correct = int(stats.get("answered", 0)), int(stats.get("correct", 0))
        facts[f"exam.{exam}.answered"] = answered
        facts[f"exam.{exam}.correct"] = correct
        facts[f"exam.{exam}.accuracy"] = correct / answered if answered else 0.0
    return facts


def _count_activity(progress: store.ProgressItem, activity: Activity) -> None:
    if activity.kind == xp.ANSWER:
        progress.questions_answered = int(progress.questions_answered or 0) + 1
        progress.questions_correct = int(progress.questions_correct or 0) + (1 if activity.correct else 0)
        if activity.exam:
            stats = dict(progress.exam_stats or {})
            exam = dict(stats.get(activity.exam, {"answered": 0, "correct": 0}))
            exam["answered"] += 1
            exam["correct"] += 1 if activity.correct else 0
            stats[activity.exam] = exam
            progress.exam_stats = stats
    elif activity.kind == xp.MOCK_TEST:
        progress.questions_answered = int(progress.questions_answered or 0) + activity.answers
        progress.questions_correct = int(progress.questions_correct or 0) + activity.answers_correct
        if activity.exam:
            stats = dict(progress.exam_stats or {})
            exam = dict(stats.get(activity.exam, {"answered": 0, "correct": 0}))
            exam["answered"] += activity.answers
            exam["correct"] += activity.answers_correct
            stats[activity.exam] = exam
            progress.exam_stats = stats
    elif activity.kind == xp.REVIEW:
        progress.cards_reviewed = int(progress.cards_reviewed or 0) + 1
    elif activity.kind == xp.UNDO_REVIEW:
        progress.cards_reviewed = max(0, int(progress.cards_reviewed or 0) - 1)


def _count_goal_met(progress: store.ProgressItem, today: date) -> None:
    consecutive = progress.last_goal_date == (today - timedelta(days=1)).isoformat()
    progress.goal_streak = int(progress.goal_streak or 0) + 1 if consecutive else 1
    progress.longest_goal_streak = max(int(progress.longest_goal_streak or 0), int(progress.goal_streak))
    progress.last_goal_date = today.isoformat()


def _week_items(snapshot: store.Snapshot, student: Student, week: str, exam: str | None,
                awarded: int) -> list[store.WeekItem]:
    items = []
    for board in [None, *([exam] if exam else [])]:
        sort_key = store.week_sort_key(week, board)
        item = snapshot.weeks.get(sort_key) or store.WeekItem(
            store.student_key(student.user_id), sort_key, week=week, exam=board, user_id=student.user_id)
        item.xp = int(item.xp or 0) + awarded
        item.name = student.name or item.name
        store.place_on_board(item, student.user_id)
        items.append(item)
    return items


def _apply(snapshot: store.Snapshot, student: Student, activity: Activity, today: date, week: str,
           now: datetime, held_extra: frozenset[str] = frozenset(),
           new_goal: int | None = None, extra: list[Any] | None = None) -> tuple[store.ActivityWrite, Recorded]:
    """The items one activity writes, computed from what was read.

    ``kind == GOAL_CHANGE`` is a change of today's goal to ``new_goal``: not study, so the streak
    and counters stay, but it may pay the day's bonus.
    """
    pk = store.student_key(student.user_id)
    previous = snapshot.progress
    expected_version = None if previous is None else int(previous.version)
    progress = previous or store.ProgressItem(pk, "PROGRESS", user_id=student.user_id)
    before = _tally_of(snapshot.day)
    day_starts_at = calendar.day_starts_at(today, student.timezone)
    day_ends_at = calendar.day_starts_at(today + timedelta(days=1), student.timezone)
    may_pay_bonus = xp.bonus_open(day_starts_at, previous.goal_paid_until if previous else None)
    own_xp, withheld = 0, None
    if activity.kind == GOAL_CHANGE:
        assert new_goal is not None
        streak, daily_goal = streak_of(previous), new_goal
        tally, awarded = xp.goal_reached_after_change(before, new_goal, may_pay_bonus)
    else:
        # Undoing a review takes back its XP and count, not the day it made active.
        streak = (streak_of(previous) if activity.kind == xp.UNDO_REVIEW
                  else streaks.record_activity(streak_of(previous), today, day_starts_at, day_ends_at)[0])
        daily_goal = int(snapshot.day.daily_goal) if snapshot.day else student.daily_goal
        own_xp, withheld = _own_xp(snapshot, student, activity, today)
        tally, awarded = xp.apply_to_day(before, activity.kind, activity.correct, daily_goal, earned=own_xp,
                                         counts_for_goal=activity.counts_for_goal, may_pay_bonus=may_pay_bonus,
                                         answers=activity.answers, goal_answers=activity.goal_answers)

    progress.version = (expected_version or 0) + 1
    progress.xp_total = int(progress.xp_total or 0) + awarded
    progress.timezone, progress.updated_at = student.timezone, now
    progress.name = student.name or progress.name
    store_streak(progress, streak, student.timezone)
    _count_activity(progress, activity)
    if tally.goal_met and not before.goal_met:
        _count_goal_met(progress, today)
        progress.goal_paid_until = day_ends_at

    held = set(progress.badges or set()) | set(held_extra)
    new_badges = [b.badge_id for b in badge_rules.earned(badge_catalog.catalog(), facts_of(progress), held)]
    if new_badges or held_extra:
        progress.badges = held | set(new_badges)

    new_cards = int(snapshot.day.new_cards or 0) if snapshot.day else 0
    day = store.DayItem(pk, f"DAY#{today.isoformat()}", day=today.isoformat(),
                        questions_answered=tally.questions_answered, cards_reviewed=tally.cards_reviewed,
                        xp=tally.xp, goal_met=tally.goal_met, daily_goal=daily_goal,
                        new_cards=max(0, new_cards + (0 if not activity.first_review
                                                      else -1 if activity.kind == xp.UNDO_REVIEW else 1)),
                        questions_correct=int(snapshot.day.questions_correct or 0) if snapshot.day else 0,
                        study_seconds=int(snapshot.day.study_seconds or 0) if snapshot.day else 0,
                        goal_questions=tally.goal_questions)
    if activity.kind == xp.ANSWER:
        day.questions_correct = int(day.questions_correct) + (1 if activity.correct else 0)
    elif activity.kind == xp.MOCK_TEST:
        day.questions_correct = int(day.questions_correct) + activity.answers_correct
    if activity.kind in (xp.ANSWER, xp.REVIEW, xp.MOCK_TEST):
        day.study_seconds = int(day.study_seconds) + max(0, activity.seconds)
    weeks = _week_items(snapshot, student, week, activity.exam, awarded) if awarded else []
    record = store.ActivityItem(pk, f"ACTIVITY#{activity.key}", activity_key=activity.key, xp_awarded=awarded,
                                recorded_at=now, expires_at=now + store.ACTIVITY_TTL,
                                result={"day": today.isoformat(), "current_streak": streak.current,
                                        "badges_earned": new_badges, "details": activity.details,
                                        "own_xp": own_xp, "xp_withheld": withheld})
    badge_items = [store.BadgeItem(pk, f"BADGE#{badge_id}", badge_id=badge_id, earned_at=now)
                   for badge_id in new_badges]
    write = store.ActivityWrite(progress=progress, expected_version=expected_version, day=day, activity=record,
                                xp=awarded, weeks=weeks, badges=badge_items, extra=list(extra or []))
    return write, Recorded(xp_awarded=awarded, duplicate=False, day=today, current_streak=streak.current,
                           badges_earned=new_badges, details=activity.details, xp_withheld=withheld)


def _as_duplicate(item: store.ActivityItem) -> Recorded:
    result: dict[str, Any] = item.result or {}
    return Recorded(xp_awarded=int(item.xp_awarded), duplicate=True,
                    day=date.fromisoformat(result.get("day", item.recorded_at.date().isoformat())),
                    current_streak=int(result.get("current_streak", 0)), badges_earned=[],
                    details=result.get("details"), xp_withheld=result.get("xp_withheld"))


def validate_activity(activity: Activity) -> None:
    if activity.kind not in xp.ACTIVITY_KINDS:
        raise ValidationFailed("unknown activity kind", field="kind")
    if not activity.key or len(activity.key) > 128 or not activity.key.isprintable():
        raise ValidationFailed("activity key must be 1..128 printable characters", field="activity_key")
    if activity.at.tzinfo is None:
        raise ValidationFailed("activity time must carry a time zone", field="at")


def prefetch_keys(user_id: str, activity_key: str, at: datetime, leaderboard_zone: str,
                  undoes: str | None = None) -> list[tuple[str, str]]:
    """Every Study key recording an activity at ``at`` may read, whatever the student's zone and
    the activity's exam: so a caller that does not know them yet (before reading the profile and
    the question) can read them in the same batch as its own items, and pass them as
    ``prefetched``. A local date is always within a day of the UTC date."""
    week = leaderboard_week(at, leaderboard_zone)
    week_keys = [store.week_sort_key(week, board) for board in [None, *syllabus.EXAM_TYPES]]
    utc_day = at.astimezone(UTC).date()
    keys: list[tuple[str, str]] = []
    for offset in (-1, 0, 1):
        keys += store.snapshot_keys(user_id, utc_day + timedelta(days=offset), activity_key, week_keys, undoes)
    return list(dict.fromkeys(keys))


def record_activity(student: Student, activity: Activity, leaderboard_zone: str, mirror: Mirror | None = None,
                    extra: list[Any] | None = None, prefetched: list[Any] | None = None) -> Recorded:
    """Record one activity exactly once (see the module docstring).

    ``mirror`` receives the student's new weekly totals after the commit to update the Redis
    leaderboards; DynamoDB already holds the truth, so a failing mirror is logged, not raised.
    ``extra`` items are written in the same transaction (the caller's record of the activity, so
    it exists exactly when the activity counted). ``prefetched``: the items of ``prefetch_keys``,
    already read by the caller (then the first attempt reads nothing more).
    """
    validate_activity(activity)
    today = calendar.local_date(activity.at, student.timezone)
    week = leaderboard_week(activity.at, leaderboard_zone)
    week_keys = _week_keys(week, activity.exam)
    first = (store.snapshot_of(prefetched, today, activity.key, week_keys, activity.undoes)
             if prefetched is not None else None)
    return _commit_with_retries(student, activity, today, week, mirror, extra=extra, first_snapshot=first)[0]


def _commit_with_retries(student: Student, activity: Activity, today: date, week: str, mirror: Mirror | None,
                         new_goal: int | None = None, extra: list[Any] | None = None,
                         first_snapshot: store.Snapshot | None = None) -> tuple[Recorded, store.DayItem | None]:
    """Read, apply and commit until the commit wins; the result and the day as written (None for
    a repeated activity, which wrote nothing)."""
    week_keys = _week_keys(week, activity.exam)
    held_extra: set[str] = set()
    deadline = time.monotonic() + get_settings().activity_retry_budget_seconds
    for attempt in range(MAX_ATTEMPTS):
        if attempt > 0 and time.monotonic() > deadline:
            break  # out of time: a clear 503 before the function's own timeout
        if attempt == 0 and first_snapshot is not None:
            snapshot = first_snapshot
        else:
            try:
                snapshot = store.read_snapshot(student.user_id, today, activity.key, week_keys, activity.undoes)
            except OutcomeUnknown:  # a read that timed out: back off and read again
                back_off(attempt)
                continue
        if snapshot.activity is not None:
            return _repeated(snapshot.activity, list(snapshot.weeks.values()), mirror, week, student.user_id), None
        write, result = _apply(snapshot, student, activity, today, week, _now(),
                               frozenset(held_extra), new_goal, extra)
        try:
            store.commit_activity(write)
        except AlreadyExists:
            continue  # recorded first by a retry (perhaps the SDK's retry of this very commit): read again
        except store.BadgeAlreadyHeld as held:
            held_extra.add(held.badge_id)
            continue
        except OutcomeUnknown:
            # No answer: the transaction may have been applied. Reading again tells (the activity
            # record exists exactly when it was), so nothing is counted twice or lost.
            logger.warning("activity write outcome unknown; reading again", extra={"user_id": student.user_id})
            back_off(attempt)
            continue
        except StaleWrite:
            # Another activity of this student committed first: back off and read again.
            back_off(attempt)
            continue
        _mirror(mirror, week, write.weeks, student.user_id)
        return result, write.day
    raise ServiceUnavailable("Too many simultaneous updates; try again")


def back_off(attempt: int) -> None:
    """Full jitter: spreads contending writers out, so a burst settles in a few rounds."""
    time.sleep(random.uniform(0, min(BACKOFF_CAP_SECONDS, BACKOFF_BASE_SECONDS * 2 ** min(attempt, 10))))


def _week_keys(week: str, exam: str | None) -> list[str]:
    return [store.week_sort_key(week, None)] + ([store.week_sort_key(week, exam)] if exam else [])


def _now() -> datetime:
    return datetime.now(UTC)


def _repeated(activity: store.ActivityItem, weeks: list[store.WeekItem], mirror: Mirror | None, week: str,
              user_id: str) -> Recorded:
    """An activity found recorded already: the first recording's figures. The student's weekly
    totals are mirrored again, because the commit that recorded it may have lost its mirror: a
    transaction DynamoDB applied whose answer timed out, or whose retry by botocore was refused
    (the activity being there), is found here on the re-read. Totals are absolute (``ZADD GT``),
    so mirroring them again is harmless."""
    recorded = _as_duplicate(activity)
    if recorded.xp_awarded:
        _mirror(mirror, week, weeks, user_id)
    return recorded


def _mirror(mirror: Mirror | None, week: str, weeks: list[store.WeekItem], user_id: str) -> None:
    if mirror is None or not weeks:
        return
    try:
        mirror(week, {item.exam: int(item.xp) for item in weeks}, user_id)
    except Exception:  # the mirror is a cache; DynamoDB has the truth and rebuilds it
        logger.warning("leaderboard mirror failed", extra={"user_id": user_id, "week": week})


def student_of(user_id: str, name: str | None = None) -> Student:
    """The student's clock and goal from their profile (defaults when they have none yet)."""
    profile = users.get_profile(user_id)
    if profile is None:
        return Student(user_id=user_id, name=name or None)
    return Student(user_id=user_id, timezone=profile.timezone, daily_goal=int(profile.daily_goal),
                   name=name or None)


def _today_view(day: date, item: store.DayItem | None, daily_goal: int) -> dict[str, Any]:
    tally = _tally_of(item)
    return {"date": day.isoformat(), "questions_answered": tally.questions_answered,
            "goal_questions": tally.toward_goal, "cards_reviewed": tally.cards_reviewed, "xp": tally.xp,
            "daily_goal": int(item.daily_goal) if item else daily_goal, "goal_met": tally.goal_met}


def progress_view(student: Student, leaderboard_zone: str, now: datetime) -> dict[str, Any]:
    """GET /progress (one BatchGetItem). The streak is shown as of the student's today, so it is
    right even before the daily job has settled the days since the last activity."""
    today = calendar.local_date(now, student.timezone)
    week_key = store.week_sort_key(leaderboard_week(now, leaderboard_zone), None)
    try:
        snapshot = store.read_snapshot(student.user_id, today, None, [week_key])
    except OutcomeUnknown as exc:  # DynamoDB gave no answer: busy (503), not a fault of ours (500)
        raise StoreBusy() from exc
    streak = streaks.view(streak_of(snapshot.progress), today, calendar.day_starts_at(today, student.timezone))
    item = snapshot.progress
    week_item = snapshot.weeks.get(week_key)
    return {
        "xp_total": int(item.xp_total) if item else 0,
        "xp_this_week": int(week_item.xp) if week_item else 0,
        "current_streak": streak.current,
        "longest_streak": streak.longest,
        "last_active_date": streak.last_active.isoformat() if streak.last_active else None,
        "streak_freezes": streak.freezes,
        "today": _today_view(today, snapshot.day, student.daily_goal),
    }


def change_daily_goal(user_id: str, name: str | None, target: int, leaderboard_zone: str, now: datetime,
                      mirror: Mirror | None = None) -> dict[str, Any]:
    """PUT /progress/daily-goal: store the goal in the profile and apply it to today (one profile
    read and write, then one snapshot read and one transaction).

    Lowering today's goal to what the student already answered pays the day's bonus then (once);
    a day whose bonus was paid is never paid again, whatever the goal becomes.
    """
    if not xp.valid_goal(target):
        raise ValidationFailed("target_questions must be between 1 and 500", field="target_questions")
    profile = users.get_profile(user_id)
    if profile is None:
        raise NotFound("Profile not set yet; PUT /api/v1/profile first")
    profile.daily_goal = target
    users.save_profile(profile)
    student = Student(user_id=user_id, timezone=profile.timezone, daily_goal=target, name=name or None)
    today = calendar.local_date(now, student.timezone)
    week = leaderboard_week(now, leaderboard_zone)
    change = Activity(key=f"goal-{today.isoformat()}-{time.time_ns()}", kind=GOAL_CHANGE, at=now)
    _, day = _commit_with_retries(student, change, today, week, mirror, new_goal=target)
    return _today_view(today, day, target)


def badges_view(user_id: str) -> dict[str, Any]:
    """GET /progress/badges."""
    return badge_catalog.badges_view(user_id)
