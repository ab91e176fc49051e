"""The daily-streak job: settles streaks that broke or need a freeze, and closes finished weeks.

It runs every hour (every time zone's midnight falls in some hour) and reads only what needs doing:
each PROGRESS item with a running streak sits in the ``active_by_day`` index at the instant its
streak next needs settling (mindly.store.progress), so a run asks each shard of the partitions
for the UTC days since the last finished one (a cursor item) for instants already past. Reading a student settles every
day up to their local today, the same way a read of GET /progress does (mindly.domain.streaks), and
writes it back under the PROGRESS version, so a student's own activity racing the job is never
overwritten, and a second run finds nothing left to do.

Events (for notifications) go out after the write: ``StreakSaved`` when freezes were spent,
``StreakLost`` when a streak ended. On the first run after a leaderboard week ends, the week's final
top ten (overall and per exam) is stored once. Last, each run folds the hours of answers that
ended since the previous one into the questions' learned difficulties (mindly.services.question_fold).
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, timedelta
from typing import Any

from mindly.domain import calendar, ranking, streaks, syllabus
from mindly.observability import logger
from mindly.services import question_fold
from mindly.services.progress import store_streak, streak_of
from mindly.store import progress as store
from mindly.store.errors import StaleWrite

EVENT_SOURCE = "mindly.streaks"
JOB_NAME = "daily_streaks"
# A run never reaches back further than this (nor does the first run, which has no cursor). A
# streak left unsettled by a longer outage is settled by the student's next activity, and every
# read shows it right meanwhile.
MAX_CATCH_UP_DAYS = 31
# A week is closed this long after it ended, so that activities in flight at midnight are in.
WEEK_CLOSE_GRACE = timedelta(minutes=5)
MAX_CONFLICT_RETRIES = 5
FINAL_TOP = 10

# Receives the events of a run (a list of {detail_type, detail}); raises when they could not be sent.
Publisher = Callable[[list[dict[str, Any]]], None]


@dataclass
class RunReport:
    """What one run did (also returned by the Lambda handler)."""

    now: str
    partitions_queried: int = 0
    items_read: int = 0
    streaks_lost: int = 0
    streaks_saved: int = 0
    unchanged: int = 0
    conflicts_retried: int = 0
    events_published: int = 0
    weeks_closed: list[str] = field(default_factory=list)
    fold: dict[str, Any] = field(default_factory=dict)  # what the question fold did (question_fold.FoldReport)

    def as_dict(self) -> dict[str, Any]:
        return dict(self.__dict__)


def _event(progress: store.ProgressItem, settlement: streaks.Settlement, today: date) -> dict[str, Any]:
    """The notification for a settlement. ``event_id`` is the same however often the same
    settlement is published, so consumers can drop repeats."""
    detail: dict[str, Any] = {"user_id": progress.user_id, "date": today.isoformat(),
                              "timezone": progress.timezone}
    if settlement.lost_streak:
        broken_on = settlement.broken_on.isoformat() if settlement.broken_on else today.isoformat()
        detail.update(event_id=f"{progress.user_id}:lost:{broken_on}", lost_streak=settlement.lost_streak,
                      broken_on=broken_on)
        return {"detail_type": "StreakLost", "detail": detail}
    last_frozen = settlement.frozen_days[-1].isoformat()
    detail.update(event_id=f"{progress.user_id}:saved:{last_frozen}", current_streak=settlement.streak.current,
                  freezes_left=settlement.streak.freezes, frozen_days=[d.isoformat() for d in settlement.frozen_days])
    return {"detail_type": "StreakSaved", "detail": detail}


@dataclass
class _Pending:
    progress: store.ProgressItem
    expected_version: int
    event: dict[str, Any] | None


def _settled(progress: store.ProgressItem, now: datetime, default_zone: str) -> _Pending:
    """The item settled as of ``now`` (not written yet) and its event, if anything changed.

    When nothing needs settling (the index entry predates a change of time zone, say), the item is
    only filed again at its right instant, so it is not read again before then.
    """
    zone = progress.timezone or default_zone
    today = calendar.local_date(now, zone)
    expected = int(progress.version)
    before = streak_of(progress)
    settlement = streaks.settle(before, today)
    store_streak(progress, settlement.streak, zone)
    progress.version = expected + 1
    progress.updated_at = now
    event = None if settlement.streak == before else _event(progress, settlement, today)
    return _Pending(progress, expected, event)


def _count(report: RunReport, event: dict[str, Any] | None) -> None:
    if event is None:
        report.unchanged += 1
    elif event["detail_type"] == "StreakLost":
        report.streaks_lost += 1
    else:
        report.streaks_saved += 1


def _write(pending: _Pending, now: datetime, default_zone: str, report: RunReport,
           publish: Publisher | None, published: set[str]) -> None:
    """Write a settled item; on a version conflict (the student was active meanwhile) read it again
    and settle what is there now, publishing any event not published yet."""
    for _ in range(MAX_CONFLICT_RETRIES):
        try:
            store.save_settled_progress(pending.progress, pending.expected_version)
        except StaleWrite:
            report.conflicts_retried += 1
            fresh = store.get_progress(str(pending.progress.user_id))
            if fresh is None:
                return
            pending = _settled(fresh, now, default_zone)
            _publish(publish, [pending.event] if pending.event else [], published, report)
            continue
        _count(report, pending.event)
        return
    logger.warning("streak not settled: the student kept changing", extra={"user_id": pending.progress.user_id})


def _publish(publish: Publisher | None, events: list[dict[str, Any]], published: set[str],
             report: RunReport) -> None:
    fresh = [event for event in events if event["detail"]["event_id"] not in published]
    if not fresh or publish is None:
        return
    publish(fresh)
    published.update(event["detail"]["event_id"] for event in fresh)
    report.events_published += len(fresh)


def settle_streaks(now: datetime, default_zone: str, report: RunReport, publish: Publisher | None) -> None:
    """Settle every streak due at ``now``, one index partition at a time.

    A partition's events are published before its items are written: if publishing fails the run
    fails with nothing of that partition written, and the next run settles and publishes it again
    (at least once; ``event_id`` tells repeats apart). Writing afterwards cannot fail for lack of
    a notification.
    """
    published: set[str] = set()
    today_utc = now.astimezone(UTC).date()
    oldest = today_utc - timedelta(days=MAX_CATCH_UP_DAYS)
    cursor = store.get_job_cursor(JOB_NAME) or oldest
    first = max(min(cursor, today_utc), oldest)
    for offset in range((today_utc - first).days + 1):
        due_day = first + timedelta(days=offset)
        for shard in range(store.ACTIVE_SHARDS):
            report.partitions_queried += 1
            items = store.due_settlements(due_day, shard, now)
            report.items_read += len(items)
            pending = [_settled(item, now, default_zone) for item in items]
            _publish(publish, [p.event for p in pending if p.event], published, report)
            for one in pending:
                _write(one, now, default_zone, report, publish, published)
    # Every partition before today's UTC day is finished (all its instants are past).
    store.advance_job_cursor(JOB_NAME, today_utc, now)


def close_finished_week(now: datetime, leaderboard_zone: str, report: RunReport) -> None:
    """Store the final top ten of the week that ended last (overall and per exam), once."""
    local_today = calendar.local_date(now - WEEK_CLOSE_GRACE, leaderboard_zone)
    week = calendar.previous_iso_week(local_today)
    boards: list[str | None] = [None, *syllabus.EXAM_TYPES]
    stored = store.get_week_finals(week, boards)
    for exam in boards:
        if exam in stored:
            continue
        top = ranking.standings(store.week_top(week, exam, FINAL_TOP), FINAL_TOP)
        if store.store_week_final(week, exam, top, now):
            report.weeks_closed.append(f"{week}#{exam}" if exam else week)


def run(now: datetime, default_zone: str, leaderboard_zone: str, publish: Publisher | None) -> RunReport:
    """One run of the job (see the module docstring)."""
    report = RunReport(now=store.instant_text(now))
    settle_streaks(now, default_zone, report, publish)
    close_finished_week(now, leaderboard_zone, report)
    report.fold = question_fold.fold(now).as_dict()
    logger.info("daily streak run", extra=report.as_dict())
    return report


def eventbridge_publisher(bus_name: str, region: str, endpoint_url: str | None = None) -> Publisher:
    """Publish to an EventBridge bus, ten entries a call (the PutEvents limit); raises when any
    entry was refused, which fails the run before the streaks it concerns are written."""
    import json

    import botocore.session

    # botocore makes a client's operations at run time (and the lock has no EventBridge stubs).
    client: Any = botocore.session.get_session().create_client("events", region_name=region,
                                                               endpoint_url=endpoint_url)

    def publish(events: list[dict[str, Any]]) -> None:
        for start in range(0, len(events), 10):
            entries = [{"Source": EVENT_SOURCE, "DetailType": event["detail_type"],
                        "Detail": json.dumps(event["detail"]), "EventBusName": bus_name}
                       for event in events[start:start + 10]]
            answer = client.put_events(Entries=entries)
            if answer.get("FailedEntryCount"):
                raise RuntimeError(f"{answer['FailedEntryCount']} streak event(s) were not accepted")

    return publish
