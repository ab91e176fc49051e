"""What the benches of the scheduled jobs share (bench.daily_streaks, bench.reminders): the process
set-up, the students' time zones, a measured run, the command line and the printed table.

Each of those benches writes many students, runs its job twice with the same ``now`` and prints one
row per run; a row is a dataclass with at least ``run``, ``verdict``, ``calls`` and ``report``.
"""

from __future__ import annotations

import argparse
import os
import secrets
import sys
from collections.abc import Callable, Sequence
from datetime import UTC, datetime
from pathlib import Path
from typing import Any, TypeVar

REPO = Path(__file__).resolve().parent.parent

# East and west of UTC, whole, half and quarter hours, so local dates differ from the UTC date.
ZONES = ("Asia/Kolkata", "America/New_York", "Europe/London", "Asia/Kathmandu", "Pacific/Auckland",
         "America/Los_Angeles", "Australia/Adelaide", "Asia/Tokyo")

# A column of the printed table: (title, the row's attribute, "<" or ">" alignment).
Column = tuple[str, str, str]
M = TypeVar("M")
R = TypeVar("R")


def prepare_process() -> None:
    """Make the repository and the layer importable and give the job what it needs to start."""
    sys.path[:0] = [str(REPO), str(REPO / "layers" / "common")]
    os.environ.setdefault("JWT_SECRET", secrets.token_hex(32))
    os.environ.setdefault("POWERTOOLS_LOG_LEVEL", "WARNING")  # the job logs its report; we print it


def measured_run(holder: dict[str, M], fresh: Callable[[], M], job: Callable[[], R]) -> tuple[M, R]:
    """Run ``job`` with a fresh tally in ``holder["now"]`` (where the instrumented client counts),
    then put another there, so the checks after the run are not counted; the tally and the job's report."""
    holder["now"] = measured = fresh()
    report = job()
    holder["now"] = fresh()
    return measured, report


def parse_arguments(description: str, argv: list[str] | None, default_now: str, students_help: str,
                    subset: tuple[str, int, str]) -> tuple[argparse.Namespace, datetime]:
    """The benches' command line: ``--students``, the subset the job must act on (``subset``: its
    flag, default and help), ``--now``, ``--seed``, ``--strict``; the arguments and ``now`` in UTC."""
    flag, default, subset_help = subset
    parser = argparse.ArgumentParser(description=description)
    parser.add_argument("--students", type=int, default=10_000, help=students_help)
    parser.add_argument(flag, type=int, default=default, help=subset_help)
    parser.add_argument("--now", default=default_now, help="the run's instant (ISO 8601, with offset or Z)")
    parser.add_argument("--seed", type=int, default=7, help="random seed for user ids and the mix")
    parser.add_argument("--strict", action="store_true", help="exit 1 when a target is missed or a result is wrong")
    args = parser.parse_args(argv)
    if not 0 <= getattr(args, flag.lstrip("-")) <= args.students:
        parser.error(f"{flag} must be between 0 and --students")
    now = datetime.fromisoformat(args.now.replace("Z", "+00:00"))
    if now.tzinfo is None:
        parser.error("--now needs a time zone offset")
    return args, now.astimezone(UTC)


def print_table(rows: Sequence[Any], columns: Sequence[Column], calls_line: Callable[[Any, str], str]) -> None:
    """The rows as a table, then each run's calls (``calls_line(row, "Query 3, ...")``) and report."""
    widths = [max(len(title), *(len(str(getattr(row, name))) for row in rows)) for title, name, _ in columns]
    print("  ".join(f"{title:{align}{width}}"
                    for (title, _, align), width in zip(columns, widths, strict=True)).rstrip())
    for row in rows:
        print("  ".join(f"{getattr(row, name)!s:{align}{width}}"
                        for (_, name, align), width in zip(columns, widths, strict=True)).rstrip())
    print()
    for row in rows:
        calls = ", ".join(f"{operation} {count}" for operation, count in sorted(row.calls.items()))
        print(calls_line(row, calls))
        print(f"{row.run}: job report {row.report}")


def finish(rows: Sequence[Any], problems: list[str], columns: Sequence[Column],
           calls_line: Callable[[Any, str], str], strict: bool) -> int:
    """Print the table and every wrong result; the exit status (1 only with ``strict`` and a miss)."""
    print_table(rows, columns, calls_line)
    for problem in problems:
        print(f"WRONG: {problem}")
    failed = problems or any(row.verdict != "OK" for row in rows)
    return 1 if strict and failed else 0
