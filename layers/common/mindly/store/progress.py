"""A student's progress in the Study table: totals, days, weeks, badges and recorded activities.

Every activity of a student updates the PROGRESS item under a version condition, so a student's
activities are applied one at a time however many arrive at once; all the items one activity
changes are written in one transaction, so an activity is recorded entirely or not at all, and
its ``ACTIVITY#<key>`` item (written only if absent) makes a retried activity count once.

Two sparse GSIs serve the jobs:
- ``weekly_xp``: every WEEK item is in partition ``LB#<week>[#<exam>]#<shard>`` sorted by its XP,
  so a board can be rebuilt (all shards) or its top read (the top of each shard) without a Scan.
- ``active_by_day``: a PROGRESS item with a running streak is in partition
  ``ACTIVE#<UTC date>#<shard>`` with sort key ``<instant>#<user id>``, the instant being when its
  streak next needs settling (the end of the first day it does not cover, in the student's zone).
  The daily job asks each partition for the instants already past: it reads only streaks that
  just broke or need a freeze, never the students who are fine.
"""

from __future__ import annotations

import zlib
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, timedelta
from typing import Any, NamedTuple

from pynamodb.attributes import (
    BooleanAttribute,
    JSONAttribute,
    NumberAttribute,
    UnicodeAttribute,
    UnicodeSetAttribute,
    UTCDateTimeAttribute,
)
from pynamodb.exceptions import DoesNotExist, GetError, PutError, TransactWriteError
from pynamodb.transactions import TransactWrite

from mindly.store.errors import AlreadyExists, OutcomeUnknown, StaleWrite, response_code
from mindly.store.models import ContentTable, StudyTable, connection_of

ACTIVITY_TTL = timedelta(days=30)
ACTIVE_SHARDS = 8
LEADERBOARD_SHARDS = 8
INSTANT_FORMAT = "%Y-%m-%dT%H:%M:%SZ"


def student_key(user_id: str) -> str:
    return f"USER#{user_id}"


def shard_of(user_id: str, shards: int) -> int:
    """A stable shard for the user (the same in every process), spreading hot GSI partitions."""
    return zlib.crc32(user_id.encode()) % shards


def instant_text(at: datetime) -> str:
    """A fixed-width UTC timestamp that sorts as the instants do."""
    return at.astimezone(UTC).strftime(INSTANT_FORMAT)


class ProgressItem(StudyTable, discriminator="progress"):
    """``USER#<id> / PROGRESS``: totals, streak state, badges held; ``version`` orders writers."""

    user_id = UnicodeAttribute()
    version = NumberAttribute(default=0)
    xp_total = NumberAttribute(default=0)
    questions_answered = NumberAttribute(default=0)
    questions_correct = NumberAttribute(default=0)
    cards_reviewed = NumberAttribute(default=0)
    current_streak = NumberAttribute(default=0)
    longest_streak = NumberAttribute(default=0)
    streak_freezes = NumberAttribute(default=0)
    last_active_date = UnicodeAttribute(null=True)
    covered_through = UnicodeAttribute(null=True)
    streak_counted_until = UTCDateTimeAttribute(null=True)  # UTC end of the last day that grew the streak
    goal_paid_until = UTCDateTimeAttribute(null=True)  # UTC end of the last day that paid the goal bonus
    goal_streak = NumberAttribute(default=0)
    longest_goal_streak = NumberAttribute(default=0)
    last_goal_date = UnicodeAttribute(null=True)
    exam_stats = JSONAttribute(default=dict)  # {"GATE": {"answered": n, "correct": n}}
    badges = UnicodeSetAttribute(default=set)
    timezone = UnicodeAttribute(null=True)
    name = UnicodeAttribute(null=True)
    updated_at = UTCDateTimeAttribute(null=True)


class DayItem(StudyTable, discriminator="day"):
    """``USER#<id> / DAY#<local date>``: the day's counters and whether its goal bonus was paid."""

    day = UnicodeAttribute()
    questions_answered = NumberAttribute(default=0)
    cards_reviewed = NumberAttribute(default=0)
    xp = NumberAttribute(default=0)
    goal_met = BooleanAttribute(default=False)
    daily_goal = NumberAttribute(default=20)
    new_cards = NumberAttribute(default=0)  # cards reviewed for the first time that day
    questions_correct = NumberAttribute(default=0)
    study_seconds = NumberAttribute(default=0)  # time_taken of the day's answers and reviews
    # Distinct questions answered that day (what the goal counts); absent on days recorded before
    # the rule, when every answer counted.
    goal_questions = NumberAttribute(null=True)


class WeekItem(StudyTable, discriminator="week"):
    """``USER#<id> / WEEK#<iso week>[#<exam>]``: XP of a week, overall or in one exam."""

    week = UnicodeAttribute()
    exam = UnicodeAttribute(null=True)
    user_id = UnicodeAttribute()
    name = UnicodeAttribute(null=True)
    xp = NumberAttribute(default=0)


class ActivityItem(StudyTable, discriminator="activity"):
    """``USER#<id> / ACTIVITY#<key>``: one recorded activity and what it awarded (kept 30 days)."""

    activity_key = UnicodeAttribute()
    xp_awarded = NumberAttribute()
    recorded_at = UTCDateTimeAttribute()
    result = JSONAttribute(default=dict)


class BadgeItem(StudyTable, discriminator="badge"):
    """``USER#<id> / BADGE#<id>``: written only if absent, so a badge is earned once."""

    badge_id = UnicodeAttribute()
    earned_at = UTCDateTimeAttribute()


class WeekFinalItem(StudyTable, discriminator="week_final"):
    """``LEADERBOARD#<week>[#<exam>] / FINAL``: a finished week's top ten, stored once."""

    week = UnicodeAttribute()
    exam = UnicodeAttribute(null=True)
    top = JSONAttribute(default=list)  # [{rank, user_id, name, xp}]
    stored_at = UTCDateTimeAttribute()


class JobCursorItem(StudyTable, discriminator="job_cursor"):
    """``JOB#<name> / CURSOR``: the first UTC day whose settlement partitions a job has not
    finished (every earlier one is done)."""

    next_day = UnicodeAttribute()
    updated_at = UTCDateTimeAttribute()


def get_job_cursor(job: str) -> date | None:
    try:
        return date.fromisoformat(JobCursorItem.get(f"JOB#{job}", "CURSOR", consistent_read=True).next_day)
    except DoesNotExist:
        return None


def advance_job_cursor(job: str, next_day: date, at: datetime) -> None:
    """Move the cursor forward (never back: a late, slow run does not undo a newer one)."""
    item = JobCursorItem(f"JOB#{job}", "CURSOR", next_day=next_day.isoformat(), updated_at=at)
    try:
        item.save(condition=JobCursorItem.pk.does_not_exist() | (JobCursorItem.next_day < next_day.isoformat()))
    except PutError as exc:
        if response_code(exc) != "ConditionalCheckFailedException":
            raise


class BadgeDefinitionItem(ContentTable, discriminator="badge_definition"):
    """``BADGES / BADGE#<id>`` in the Content table: one badge of the catalog."""

    badge_id = UnicodeAttribute()
    name = UnicodeAttribute()
    description = UnicodeAttribute()
    criteria = JSONAttribute()
    position = NumberAttribute(default=0)


@dataclass
class Snapshot:
    """What recording an activity reads first (one BatchGetItem)."""

    progress: ProgressItem | None
    day: DayItem | None
    activity: ActivityItem | None
    weeks: dict[str, WeekItem]
    undone: ActivityItem | None = None  # the recorded activity an undo takes back


@dataclass
class ActivityWrite:
    """Everything one activity changes; written in one transaction by ``commit_activity``."""

    progress: ProgressItem
    expected_version: int | None  # None: the PROGRESS item must not exist yet
    day: DayItem
    activity: ActivityItem
    xp: int
    weeks: list[WeekItem] = field(default_factory=list)
    badges: list[BadgeItem] = field(default_factory=list)
    # The caller's own items (an attempt, a card, a review): an item, or (item, condition).
    extra: list[Any] = field(default_factory=list)


class Removal(NamedTuple):
    """One of the caller's items to delete in the activity's transaction (under ``condition``)."""

    item: Any
    condition: Any = None


class Increment(NamedTuple):
    """An UpdateItem in the activity's transaction: ``actions`` (pynamodb update actions, e.g.
    atomic ADDs of counters) on the item with ``item``'s keys, created when absent."""

    item: Any
    actions: list[Any]


class ExtraConflict(Exception):
    """A condition on one of the caller's own items failed (e.g. a card changed since it was
    read): the caller reads again and rebuilds its items."""


class BadgeAlreadyHeld(Exception):
    """The transaction found a badge item already written: the PROGRESS item did not list it."""

    def __init__(self, badge_id: str) -> None:
        super().__init__(badge_id)
        self.badge_id = badge_id


def week_sort_key(week: str, exam: str | None) -> str:
    return f"WEEK#{week}#{exam}" if exam else f"WEEK#{week}"


def board_partition(week: str, exam: str | None) -> str:
    return f"LB#{week}#{exam}" if exam else f"LB#{week}"


def place_on_board(item: WeekItem, user_id: str) -> None:
    """Put a WEEK item in its shard of the ``weekly_xp`` index, sorted by its XP."""
    item.lb_pk = f"{board_partition(item.week, item.exam)}#{shard_of(user_id, LEADERBOARD_SHARDS)}"
    item.lb_sk = int(item.xp)


def schedule_settlement(progress: ProgressItem, user_id: str, due_at: datetime | None) -> None:
    """Put the PROGRESS item in the ``active_by_day`` index at ``due_at`` (or take it out)."""
    if due_at is None:
        progress.active_pk = progress.active_sk = None
        return
    due = due_at.astimezone(UTC)
    progress.active_pk = f"ACTIVE#{due.date().isoformat()}#{shard_of(user_id, ACTIVE_SHARDS)}"
    progress.active_sk = f"{instant_text(due)}#{user_id}"


def snapshot_keys(user_id: str, day: date, activity_key: str | None, week_keys: list[str],
                  undone_key: str | None = None) -> list[tuple[str, str]]:
    """The Study-table keys recording an activity reads: PROGRESS, the DAY, the activity's own
    record (when a key is given), the WEEK items, and for an undo the record it takes back."""
    pk = student_key(user_id)
    keys = [(pk, "PROGRESS"), (pk, f"DAY#{day.isoformat()}")]
    for key in (activity_key, undone_key):
        if key:
            keys.append((pk, f"ACTIVITY#{key}"))
    return keys + [(pk, key) for key in week_keys]


def snapshot_of(items: list[Any], day: date, activity_key: str | None, week_keys: list[str],
                undone_key: str | None = None) -> Snapshot:
    """A Snapshot from the items read for ``snapshot_keys`` (other items are ignored)."""
    found: dict[str, Any] = {item.sk: item for item in items if isinstance(item, StudyTable)}
    day_key = f"DAY#{day.isoformat()}"
    activity = found.get(f"ACTIVITY#{activity_key}") if activity_key else None
    undone = found.get(f"ACTIVITY#{undone_key}") if undone_key else None
    return Snapshot(found.get("PROGRESS"), found.get(day_key), activity,
                    {key: found[key] for key in week_keys if key in found}, undone)


def read_snapshot(user_id: str, day: date, activity_key: str | None, week_keys: list[str],
                  undone_key: str | None = None) -> Snapshot:
    """What recording an activity reads, in one strongly consistent BatchGetItem.
    OutcomeUnknown when no answer came (a timeout): reading again is safe."""
    keys = snapshot_keys(user_id, day, activity_key, week_keys, undone_key)
    try:
        items = list(StudyTable.batch_get(keys, consistent_read=True))
    except GetError as exc:
        if response_code(exc) is None:
            raise OutcomeUnknown(user_id) from exc
        raise
    return snapshot_of(items, day, activity_key, week_keys, undone_key)


def get_activity(user_id: str, activity_key: str) -> ActivityItem | None:
    try:
        return ActivityItem.get(student_key(user_id), f"ACTIVITY#{activity_key}", consistent_read=True)
    except DoesNotExist:
        return None


def _reason_codes(exc: TransactWriteError) -> list[str | None]:
    return [reason.code if reason is not None else None
            for reason in (getattr(exc, "cancellation_reasons", None) or [])]


def commit_activity(write: ActivityWrite) -> None:
    """One TransactWriteItems for the whole activity.

    AlreadyExists: this activity key was recorded first by someone else (a retry raced us).
    StaleWrite: another writer changed the student's PROGRESS since the snapshot; read again.
    BadgeAlreadyHeld: a badge item exists that PROGRESS did not list.
    ExtraConflict: a condition on one of the caller's items failed.
    OutcomeUnknown: no answer came (timeout); the transaction may have been applied.
    """
    progress = write.progress
    condition = (ProgressItem.pk.does_not_exist() if write.expected_version is None
                 else ProgressItem.version == write.expected_version)
    # pynamodb sends a transaction's deletes first, then its puts, then its updates; DynamoDB
    # answers a cancellation with one reason per item in that order.
    roles: dict[str, list[str]] = {"delete": [], "put": [], "update": []}
    try:
        with TransactWrite(connection=connection_of(StudyTable)) as transaction:
            transaction.save(write.activity, condition=ActivityItem.pk.does_not_exist())
            transaction.save(progress, condition=condition)
            transaction.save(write.day)
            roles["put"] += ["activity", "progress", "day"]
            for week in write.weeks:
                transaction.save(week)
                roles["put"].append("week")
            for badge in write.badges:
                transaction.save(badge, condition=BadgeItem.pk.does_not_exist())
                roles["put"].append(f"badge:{badge.badge_id}")
            for extra in write.extra:
                if isinstance(extra, Removal):
                    transaction.delete(extra.item, condition=extra.condition)
                    roles["delete"].append("extra")
                elif isinstance(extra, Increment):
                    transaction.update(extra.item, actions=extra.actions)
                    roles["update"].append("extra")
                else:
                    item, item_condition = extra if isinstance(extra, tuple) else (extra, None)
                    transaction.save(item, condition=item_condition)
                    roles["put"].append("extra")
    except TransactWriteError as exc:
        if response_code(exc) is None:
            raise OutcomeUnknown(progress.user_id) from exc
        failed = [role for role, code in zip(roles["delete"] + roles["put"] + roles["update"], _reason_codes(exc),
                                             strict=False) if code == "ConditionalCheckFailed"]
        if "activity" in failed:
            raise AlreadyExists(write.activity.activity_key) from exc
        for role in failed:
            if role.startswith("badge:"):
                raise BadgeAlreadyHeld(role.removeprefix("badge:")) from exc
        if "extra" in failed:
            raise ExtraConflict(progress.user_id) from exc
        if failed or "TransactionConflict" in _reason_codes(exc) \
                or response_code(exc) == "TransactionConflictException":
            raise StaleWrite(progress.user_id) from exc
        raise


def get_progress(user_id: str) -> ProgressItem | None:
    try:
        return ProgressItem.get(student_key(user_id), "PROGRESS", consistent_read=True)
    except DoesNotExist:
        return None


def save_settled_progress(progress: ProgressItem, expected_version: int) -> None:
    """Write a PROGRESS item the daily job settled; StaleWrite when the student's own activity
    (or another run) changed it since it was read."""
    try:
        progress.save(condition=ProgressItem.version == expected_version)
    except PutError as exc:
        if response_code(exc) == "ConditionalCheckFailedException":
            raise StaleWrite(progress.user_id) from exc
        raise


def due_settlements(due_day: date, shard: int, until: datetime) -> list[ProgressItem]:
    """PROGRESS items of one ``active_by_day`` partition whose settlement instant is at or before
    ``until`` (one Query, paginated as DynamoDB requires)."""
    return list(ProgressItem.active_by_day.query(
        f"ACTIVE#{due_day.isoformat()}#{shard}",
        ProgressItem.active_sk <= f"{instant_text(until)}#~",
    ))


def week_entries(week: str, exam: str | None) -> list[tuple[str, int, str | None]]:
    """Every student's XP on a week's board, from the sharded ``weekly_xp`` GSI (one Query per
    shard): what the Redis board is rebuilt from."""
    entries = []
    for shard in range(LEADERBOARD_SHARDS):
        for item in WeekItem.weekly_xp.query(f"{board_partition(week, exam)}#{shard}"):
            entries.append((str(item.user_id), int(item.xp), item.name))
    return entries


def week_top(week: str, exam: str | None, count: int) -> list[tuple[str, int, str | None]]:
    """The candidates for a week's top ``count``: from each shard, its best ``count`` plus any
    tied with the last of them (ties are broken by user id, which the index does not sort by).
    Reads about ``count`` x shards items, however many students the week had."""
    entries = []
    for shard in range(LEADERBOARD_SHARDS):
        floor: int | None = None
        for taken, item in enumerate(WeekItem.weekly_xp.query(f"{board_partition(week, exam)}#{shard}",
                                                              scan_index_forward=False, page_size=count + 1)):
            xp = int(item.xp)
            if floor is not None and xp < floor:
                break
            entries.append((str(item.user_id), xp, item.name))
            if taken + 1 == count:
                floor = xp
    return entries


def get_week_finals(week: str, exams: list[str | None]) -> dict[str | None, WeekFinalItem]:
    """The stored finals of a week's boards (one BatchGetItem)."""
    keys = {_final_key(week, exam): exam for exam in exams}
    found = {}
    for item in WeekFinalItem.batch_get([(pk, "FINAL") for pk in keys]):
        found[keys[item.pk]] = item
    return found


def _final_key(week: str, exam: str | None) -> str:
    return f"LEADERBOARD#{week}#{exam}" if exam else f"LEADERBOARD#{week}"


def store_week_final(week: str, exam: str | None, top: list[dict[str, Any]], at: datetime) -> bool:
    """Store a finished week's top ten once; False when it was stored already."""
    item = WeekFinalItem(_final_key(week, exam), "FINAL", week=week, exam=exam, top=top, stored_at=at)
    try:
        item.save(condition=WeekFinalItem.pk.does_not_exist())
    except PutError as exc:
        if response_code(exc) == "ConditionalCheckFailedException":
            return False
        raise
    return True


def get_day(user_id: str, day: date) -> DayItem | None:
    try:
        return DayItem.get(student_key(user_id), f"DAY#{day.isoformat()}", consistent_read=True)
    except DoesNotExist:
        return None


def earned_badges(user_id: str) -> list[BadgeItem]:
    """The student's badges (one Query)."""
    return list(BadgeItem.query(student_key(user_id), BadgeItem.sk.startswith("BADGE#")))


# --- the badge catalog (Content table) -------------------------------------------------------------

BADGE_CATALOG_KEY = "BADGES"


def badge_definitions() -> list[BadgeDefinitionItem]:
    """The stored catalog, in catalog order (one Query)."""
    items = list(BadgeDefinitionItem.query(BADGE_CATALOG_KEY, BadgeDefinitionItem.sk.startswith("BADGE#")))
    return sorted(items, key=lambda item: (int(item.position), item.badge_id))


def save_badge_definition(badge_id: str, name: str, description: str, criteria: dict[str, Any],
                          position: int) -> bool:
    """Store or update one badge of the catalog; False when it was stored already, unchanged."""
    item = BadgeDefinitionItem(BADGE_CATALOG_KEY, f"BADGE#{badge_id}", badge_id=badge_id, name=name,
                               description=description, criteria=criteria, position=position)
    try:
        existing = BadgeDefinitionItem.get(BADGE_CATALOG_KEY, f"BADGE#{badge_id}")
    except DoesNotExist:
        existing = None
    if existing is not None and (existing.name, existing.description, existing.criteria, int(existing.position)) \
            == (name, description, criteria, position):
        return False
    item.save()
    return True

