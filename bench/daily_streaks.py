"""What the daily-streak job reads: only the streaks that broke or need a freeze, never the rest.

Starts the local stack in this process (moto + the local Upstash endpoint, as bench.request_costs
does), writes ``--students`` PROGRESS items with a running streak straight into the Study table
(pynamodb batch writes), spread over several time zones, of which ``--broken`` must be settled at
the run's instant (most lose their streak, a quarter hold a freeze that is spent) and the rest were
active yesterday in their own time zone (so the job must not read them). Then it runs the job
(mindly.services.daily_streaks.run) twice with the same fixed ``now`` and counts, per run, every
DynamoDB call by operation and the items DynamoDB returned.

    .venv/bin/python -m bench.daily_streaks [--students 10000 --broken 100 --strict]
"""

from __future__ import annotations

import random
import sys
import time
from collections import Counter as Tally
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any

from bench.scheduled_jobs import ZONES, finish, measured_run, parse_arguments, prepare_process

# An hourly run: 00:30 in Kolkata (already tomorrow there), 14:00 in New York, 19:00 in London.
DEFAULT_NOW = "2026-11-23T19:00:00Z"
WRITE_OPERATIONS = frozenset({"TransactWriteItems", "PutItem", "UpdateItem", "DeleteItem", "BatchWriteItem"})
SETTLEMENT_INDEX = "active_by_day"


@dataclass
class Measured:
    """What one run cost, seen at pynamodb's Connection.dispatch."""

    calls: Tally[str] = field(default_factory=Tally)
    items_read: int = 0  # Query Count + items returned by GetItem / BatchGetItem
    streak_items_read: int = 0  # of which, from the settlement index
    partitions: set[str] = field(default_factory=set)  # settlement index partitions queried
    writes_accepted: int = 0
    writes_refused: int = 0  # conditional writes DynamoDB refused (they change nothing)


@dataclass
class Student:
    user_id: str
    zone: str
    broken: bool
    freezes: int


def instrument(holder: dict[str, Measured]) -> None:
    """Count every DynamoDB call and the items its answer holds, into ``holder["now"]``."""
    from pynamodb.connection.base import Connection

    dispatch = Connection.dispatch

    def counted_dispatch(self: Any, operation_name: str, operation_kwargs: dict[str, Any]) -> Any:
        measured = holder["now"]
        measured.calls[operation_name] += 1
        try:
            answer = dispatch(self, operation_name, operation_kwargs)
        except Exception:
            if operation_name in WRITE_OPERATIONS:
                measured.writes_refused += 1
            raise
        if operation_name in WRITE_OPERATIONS:
            measured.writes_accepted += 1
        elif operation_name in ("Query", "Scan"):
            measured.items_read += int(answer.get("Count", 0))
            if operation_kwargs.get("IndexName") == SETTLEMENT_INDEX:
                measured.streak_items_read += int(answer.get("Count", 0))
                measured.partitions.update(value["S"] for value in
                                           operation_kwargs.get("ExpressionAttributeValues", {}).values()
                                           if str(value.get("S", "")).startswith("ACTIVE#"))
        elif operation_name == "GetItem":
            measured.items_read += 1 if answer.get("Item") else 0
        elif operation_name == "BatchGetItem":
            measured.items_read += sum(len(items) for items in answer.get("Responses", {}).values())
        return answer

    Connection.dispatch = counted_dispatch  # type: ignore[method-assign]


def plan(count: int, broken: int, now: datetime, seed: int) -> list[Student]:
    """Who the students are: ``broken`` of them due for settling, every 4th of those holding a
    freeze (1 or 2), the others active yesterday in their own zone."""
    rng = random.Random(seed)
    students = []
    for i in range(count):
        user_id = f"{rng.getrandbits(128):032x}"
        is_broken = i < broken
        freezes = (1 + (i // 4) % 2) if is_broken and i % 4 == 0 else 0
        students.append(Student(user_id, ZONES[i % len(ZONES)], is_broken, freezes))
    rng.shuffle(students)
    return students


def write_students(students: list[Student], now: datetime) -> None:
    """One PROGRESS item per student, written with BatchWriteItem (25 a call)."""
    from mindly.domain import calendar, streaks
    from mindly.services.progress import store_streak
    from mindly.store import progress as store

    started = time.monotonic()
    with store.ProgressItem.batch_write() as batch:
        for done, student in enumerate(students, 1):
            today = calendar.local_date(now, student.zone)
            if student.broken:
                # Last covered the day before yesterday: yesterday was missed, settling is due at the
                # start of today (already past).
                covered = today - timedelta(days=2)
                current = 7 + done % 24 if student.freezes else 1 + done % 30
            else:
                covered = today - timedelta(days=1)  # active yesterday: due at the start of tomorrow
                current = 1 + done % 60
            streak = streaks.Streak(current=current, longest=current + done % 5, last_active=covered,
                                    freezes=student.freezes, covered_through=covered)
            progress = store.ProgressItem(store.student_key(student.user_id), "PROGRESS", user_id=student.user_id,
                                          version=1, timezone=student.zone, updated_at=now - timedelta(days=1),
                                          xp_total=10 * current)
            store_streak(progress, streak, student.zone)
            assert progress.active_pk is not None
            batch.save(progress)
            if done % 1000 == 0 or done == len(students):
                print(f"  wrote {done}/{len(students)} PROGRESS items ({time.monotonic() - started:.0f} s)",
                      file=sys.stderr, flush=True)


@dataclass
class Row:
    run: str
    students: int
    broken: int
    shards: int
    partitions_queried: int
    items_read: int
    streak_items: int
    target: str
    lost: int
    saved: int
    events: int
    writes: int
    verdict: str
    refused: int
    calls: dict[str, int]
    report: dict[str, Any]


def run_job(holder: dict[str, Measured], now: datetime, events: list[dict[str, Any]]) -> tuple[Measured, Any]:
    from mindly.config import get_settings
    from mindly.services import daily_streaks

    settings = get_settings()
    return measured_run(holder, Measured, lambda: daily_streaks.run(
        now, settings.default_timezone, settings.leaderboard_timezone, events.extend))


def check_items(students: list[Student]) -> list[str]:
    """Read every broken student back (unmeasured) and say what is not as the rules want."""
    from mindly.store import progress as store

    wrong = []
    broken = {s.user_id: s for s in students if s.broken}
    keys = [(store.student_key(uid), "PROGRESS") for uid in broken]
    for item in store.ProgressItem.batch_get(keys, consistent_read=True):
        student = broken[str(item.user_id)]
        if student.freezes:
            if int(item.current_streak) == 0 or int(item.streak_freezes) != student.freezes - 1 \
                    or item.active_pk is None:
                wrong.append(f"{item.user_id}: freeze not spent as expected")
        elif int(item.current_streak) != 0 or item.active_pk is not None:
            wrong.append(f"{item.user_id}: streak not ended")
    return wrong


def run(students_count: int, broken: int, now: datetime, seed: int) -> tuple[list[Row], list[str]]:
    prepare_process()
    from infra.dev_server import start_stack

    stack = start_stack(prefix="mindly-bench-streaks", seed=False)
    problems: list[str] = []
    rows: list[Row] = []
    try:
        from mindly.store import progress as store

        students = plan(students_count, broken, now, seed)
        print(f"writing {students_count} students ({broken} due for settling) ...", file=sys.stderr, flush=True)
        write_students(students, now)
        holder = {"now": Measured()}
        instrument(holder)
        shards = store.ACTIVE_SHARDS
        expected_saved = sum(1 for s in students if s.broken and s.freezes)
        expected_lost = broken - expected_saved

        # The job runs hourly: its cursor says the days before yesterday are done, as in production
        # (a first-ever run, with no cursor, would query 31 days of partitions once).
        from mindly.services import daily_streaks

        store.advance_job_cursor(daily_streaks.JOB_NAME, now.date() - timedelta(days=1), now)
        events: list[dict[str, Any]] = []
        first, report = run_job(holder, now, events)
        kinds = Tally(event["detail_type"] for event in events)
        evented = {event["detail"]["user_id"] for event in events}
        broken_ids = {s.user_id for s in students if s.broken}
        budget = 2 * broken + shards
        verdict = "OK" if first.items_read <= budget else "OVER"
        if (report.streaks_lost, report.streaks_saved) != (expected_lost, expected_saved):
            problems.append(f"run 1 settled {report.streaks_lost} lost / {report.streaks_saved} saved, "
                            f"expected {expected_lost} / {expected_saved}")
        if kinds != Tally({"StreakLost": expected_lost, "StreakSaved": expected_saved}) or evented != broken_ids:
            problems.append(f"run 1 events {dict(kinds)} do not match the broken students one to one")
        if report.items_read != first.streak_items_read:
            problems.append(f"the job reported {report.items_read} items read, DynamoDB returned "
                            f"{first.streak_items_read} from the settlement index")
        if report.partitions_queried != len(first.partitions):
            problems.append(f"the job reported {report.partitions_queried} partitions queried, DynamoDB saw "
                            f"{len(first.partitions)}")
        problems += check_items(students)
        rows.append(Row("1st run", students_count, broken, shards, len(first.partitions), first.items_read,
                        first.streak_items_read, f"<= {budget} (2 x broken + shards)", report.streaks_lost,
                        report.streaks_saved, len(events), first.writes_accepted, verdict,
                        first.writes_refused, dict(first.calls), report.as_dict()))

        again: list[dict[str, Any]] = []
        second, report2 = run_job(holder, now, again)
        idle = (second.streak_items_read == 0 and second.writes_accepted == 0 and not again
                and report2.streaks_lost == report2.streaks_saved == report2.unchanged == 0)
        rows.append(Row("2nd run, same now", students_count, broken, shards, len(second.partitions),
                        second.items_read, second.streak_items_read, "0 streak items, 0 writes, 0 events",
                        report2.streaks_lost, report2.streaks_saved, len(again), second.writes_accepted,
                        "OK" if idle else "OVER", second.writes_refused, dict(second.calls), report2.as_dict()))
    finally:
        stack.stop()
    return rows, problems


COLUMNS = (("run", "run", "<"), ("students", "students", ">"), ("broken", "broken", ">"),
           ("shards", "shards", ">"), ("partitions queried", "partitions_queried", ">"),
           ("items read", "items_read", ">"), ("streak items", "streak_items", ">"), ("target", "target", "<"),
           ("streaks lost", "lost", ">"), ("streaks saved", "saved", ">"), ("events published", "events", ">"),
           ("writes accepted", "writes", ">"), ("", "verdict", "<"))


def _calls_line(row: Row, calls: str) -> str:
    return (f"{row.run}: DynamoDB calls {sum(row.calls.values())} ({calls}); writes accepted {row.writes}, "
            f"refused by their condition {row.refused}")


def main(argv: list[str] | None = None) -> int:
    args, now = parse_arguments(__doc__.splitlines()[0], argv, DEFAULT_NOW, "PROGRESS items with a running streak",
                                ("--broken", 100, "of which due for settling at the run"))
    rows, problems = run(args.students, args.broken, now, args.seed)
    return finish(rows, problems, COLUMNS, _calls_line, args.strict)


if __name__ == "__main__":
    raise SystemExit(main())
