"""What the streak-reminder job reads: only the students whose reminder is due, never the rest.

Starts moto in this process (DynamoDB, SES v2, SNS with the local platform applications:
``infra.local_aws.bootstrap``), writes ``--students`` students straight into the tables (pynamodb
batch writes: an account, a PROGRESS item with a streak and notification settings each, spread
over eight time zones), of which ``--due`` have their reminder due in the run's UTC hour: four in
five of those have a streak and have not studied today (reminded, each with one push device), one
in ten studied today and one in ten has no streak (both skipped). The others are due at other hours.
Then it runs the job's real code (``mindly.services.reminders.run`` with SES v2 mail and SNS push)
twice with the same ``now`` and counts, per run, every AWS call by service and operation and the
DynamoDB items the answers held.

    .venv/bin/python -m bench.reminders [--students 10000 --due 300 --strict]
"""

from __future__ import annotations

import os
import random
import sys
import time
from collections import Counter as Tally
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any

from bench.scheduled_jobs import ZONES, finish, measured_run, parse_arguments, prepare_process

# Zones where the default run's hour is daytime (no reminder goes out in the quiet hours): the due
# students live there; 19:00 in Kolkata, 19:15 in Kathmandu, 13:30 in London, 08:30 in New York.
DUE_ZONES = ("Asia/Kolkata", "Asia/Kathmandu", "Europe/London", "America/New_York")
# 13:30 UTC: 19:00 in Kolkata, the evening peak.
DEFAULT_NOW = "2026-12-02T13:30:00Z"
REMINDER_INDEX = "reminder_due"


@dataclass
class Measured:
    """What one run cost, seen at botocore's one entry point for API calls."""

    calls: Tally[str] = field(default_factory=Tally)  # "dynamodb:Query", "sesv2:SendEmail", ...
    items_read: int = 0  # Query Count + items returned by GetItem / BatchGetItem
    index_items: int = 0  # of which, from the reminder index
    partitions: set[str] = field(default_factory=set)


@dataclass
class Student:
    user_id: str
    zone: str
    kind: str  # "remind" | "studied" | "no_streak" | "later"


def instrument(holder: dict[str, Measured]) -> None:
    """Count every AWS call (and the DynamoDB items its answer holds) into ``holder["now"]``."""
    from botocore.client import BaseClient

    original = BaseClient._make_api_call

    def counted(client: Any, operation_name: str, api_params: dict[str, Any]) -> Any:
        measured = holder["now"]
        service = client.meta.service_model.service_name
        measured.calls[f"{service}:{operation_name}"] += 1
        answer = original(client, operation_name, api_params)
        if service != "dynamodb":
            return answer
        if operation_name == "Query":
            measured.items_read += int(answer.get("Count", 0))
            if api_params.get("IndexName") == REMINDER_INDEX:
                measured.index_items += int(answer.get("Count", 0))
                measured.partitions.update(value["S"] for value in api_params.get("ExpressionAttributeValues", {})
                                           .values() if str(value.get("S", "")).startswith("REMIND#"))
        elif operation_name == "GetItem":
            measured.items_read += 1 if answer.get("Item") else 0
        elif operation_name == "BatchGetItem":
            measured.items_read += sum(len(items) for items in answer.get("Responses", {}).values())
        return answer

    BaseClient._make_api_call = counted  # type: ignore[method-assign]


def plan(count: int, due: int, seed: int) -> list[Student]:
    rng = random.Random(seed)
    students = []
    for i in range(count):
        kind = "later"
        if i < due:
            kind = {1: "studied", 2: "no_streak"}.get(i % 10, "remind")
        zones = ZONES if kind == "later" else DUE_ZONES
        students.append(Student(f"{rng.getrandbits(128):032x}", zones[i % len(zones)], kind))
    rng.shuffle(students)
    return students


def write_students(students: list[Student], now: datetime) -> None:
    """Account, PROGRESS and notification settings of each student (BatchWriteItem, 25 a call);
    one SNS endpoint per student to remind."""
    from mindly.domain import calendar, streaks
    from mindly.services import push
    from mindly.services.progress import store_streak
    from mindly.store import notifications as store
    from mindly.store import progress as progress_store
    from mindly.store.models import UserItem

    started = time.monotonic()
    with UserItem.batch_write() as accounts, progress_store.ProgressItem.batch_write() as progress, \
            store.NotificationSettingsItem.batch_write() as settings:
        for done, student in enumerate(students, 1):
            uid, zone = student.user_id, student.zone
            today = calendar.local_date(now, zone)
            accounts.save(UserItem(f"USER#{uid}", "ACCOUNT", user_id=uid, email=f"{uid[:12]}@example.com",
                                   name="Bench Student", password_hash="-", created_at=now - timedelta(days=30)))
            # Studied today; or last active yesterday (a streak of 1 or more); or five days ago (none).
            last = today - timedelta(days={"studied": 0, "no_streak": 5}.get(student.kind, 1))
            current = 0 if student.kind == "no_streak" else 1 + done % 40
            streak = streaks.Streak(current=current, longest=current, last_active=last, freezes=0,
                                    covered_through=last if current else None)
            item = progress_store.ProgressItem(progress_store.student_key(uid), "PROGRESS", user_id=uid, version=1,
                                               timezone=zone, updated_at=now - timedelta(days=1))
            store_streak(item, streak, zone)
            progress.save(item)
            prefs = store.new_settings(uid, zone, now - timedelta(days=1))
            # Due ones: within the last quarter hour; the others at a later hour of the coming day.
            due_at = now - timedelta(minutes=done % 15) if student.kind != "later" else \
                now + timedelta(hours=1 + done % 23, minutes=done % 60)
            prefs.reminder_time = due_at.astimezone(calendar.zone(zone)).strftime("%H:%M")
            if student.kind == "remind":
                arn = push.create_endpoint("fcm", f"bench-{uid}")
                store.set_devices(prefs, {uid[:32]: {"platform": "fcm", "endpoint_arn": arn,
                                                     "created_at": store.instant_text(now)}})
            store.schedule(prefs, due_at)
            settings.save(prefs)
            if done % 2000 == 0 or done == len(students):
                print(f"  wrote {done}/{len(students)} students ({time.monotonic() - started:.0f} s)",
                      file=sys.stderr, flush=True)


@dataclass
class Row:
    run: str
    students: int
    due: int
    partitions: int
    items_read: int
    index_items: int
    target: str
    reminded: int
    skipped: int
    dynamodb_calls: int
    mails: int
    pushes: int
    verdict: str
    calls: dict[str, int]
    report: dict[str, Any]


def run_job(holder: dict[str, Measured], now: datetime) -> tuple[Measured, Any]:
    from mindly.services import reminders

    return measured_run(holder, Measured, lambda: reminders.run(now, reminders.default_channels()))


def _row(name: str, measured: Measured, report: Any, students: int, due: int, target: str, ok: bool) -> Row:
    dynamodb = sum(n for call, n in measured.calls.items() if call.startswith("dynamodb:"))
    skipped = report.skipped_studied + report.skipped_no_streak + report.skipped_late
    return Row(name, students, due, len(measured.partitions), measured.items_read, measured.index_items, target,
               report.reminded, skipped, dynamodb, measured.calls["sesv2:SendEmail"], measured.calls["sns:Publish"],
               "OK" if ok else "OVER", dict(measured.calls), report.as_dict())


def run(count: int, due: int, now: datetime, seed: int) -> tuple[list[Row], list[str]]:
    prepare_process()
    # moto answers an index Query by reading the whole table (20,000 Users items here): seconds, not
    # DynamoDB's milliseconds. The count of items and calls is what this bench measures, not time.
    os.environ.setdefault("DYNAMODB_READ_TIMEOUT_SECONDS", "120")
    import logging

    from infra import local_aws

    logging.getLogger("werkzeug").setLevel(logging.WARNING)  # moto's server logs every request
    aws = local_aws.bootstrap(prefix="mindly-bench-reminders")
    problems: list[str] = []
    rows: list[Row] = []
    try:
        from mindly.store import notifications as store

        students = plan(count, due, seed)
        print(f"writing {count} students ({due} due this hour) ...", file=sys.stderr, flush=True)
        write_students(students, now)
        # As after the run a quarter of an hour earlier: every hour before this one is done.
        store.advance_cursor(now.replace(minute=0, second=0, microsecond=0), now - timedelta(minutes=15))
        holder = {"now": Measured()}
        instrument(holder)
        expected = Tally(s.kind for s in students if s.kind != "later")
        first, report = run_job(holder, now)
        budget = 3 * due + 1  # settings, PROGRESS and account of each due student, and the cursor
        if (report.reminded, report.skipped_studied, report.skipped_no_streak) != (
                expected["remind"], expected["studied"], expected["no_streak"]):
            problems.append(f"run 1 reminded {report.reminded}, skipped {report.skipped_studied} studied and "
                            f"{report.skipped_no_streak} without a streak; expected {dict(expected)}")
        if (first.calls["sesv2:SendEmail"], first.calls["sns:Publish"]) != (expected["remind"],) * 2:
            problems.append(f"run 1 sent {first.calls['sesv2:SendEmail']} mails and {first.calls['sns:Publish']} "
                            f"pushes, expected {expected['remind']} each")
        if report.partitions_queried != len(first.partitions):
            problems.append(f"the job reported {report.partitions_queried} partitions, DynamoDB saw "
                            f"{len(first.partitions)}")
        rows.append(_row("1st run", first, report, count, due, f"<= {budget} (3 x due + cursor)",
                         first.items_read <= budget))
        second, report2 = run_job(holder, now)
        idle = (second.index_items == 0 and report2.reminded == 0 and second.calls["sesv2:SendEmail"] == 0
                and second.calls["sns:Publish"] == 0)
        rows.append(_row("2nd run, same now", second, report2, count, due, "0 index items, nothing sent",
                         idle))
        # Tomorrow's reminders are filed at tomorrow's instants: none is due again in this hour.
        tomorrow = [item for shard in range(store.REMIND_SHARDS)
                    for item in store.due_reminders(now, shard, now + timedelta(hours=1))]
        if tomorrow:
            problems.append(f"{len(tomorrow)} students are still filed in this hour after the run")
    finally:
        aws.stop()
    return rows, problems


COLUMNS = (("run", "run", "<"), ("students", "students", ">"), ("due", "due", ">"),
           ("partitions queried", "partitions", ">"), ("items read", "items_read", ">"),
           ("index items", "index_items", ">"), ("target", "target", "<"), ("reminded", "reminded", ">"),
           ("skipped", "skipped", ">"), ("DynamoDB calls", "dynamodb_calls", ">"), ("mails", "mails", ">"),
           ("pushes", "pushes", ">"), ("", "verdict", "<"))


def main(argv: list[str] | None = None) -> int:
    args, now = parse_arguments(__doc__.splitlines()[0], argv, DEFAULT_NOW, "students with notification settings",
                                ("--due", 300, "of which due for a reminder at the run"))
    rows, problems = run(args.students, args.due, now, args.seed)
    return finish(rows, problems, COLUMNS, lambda row, calls: f"{row.run}: AWS calls {sum(row.calls.values())} "
                  f"({calls})", args.strict)


if __name__ == "__main__":
    raise SystemExit(main())
