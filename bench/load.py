"""A bounded load test of the local stack: simulated students over HTTP, then an exact XP check.

    .venv/bin/python -m bench.load [--users 50 --duration 60 --spawn-rate 10 --think 0.5-1.5 --strict]
    .venv/bin/python -m bench.load --users 5 --duration 10      # a quick smoke run
    .venv/bin/python -m bench.load --keep-files                 # keep the logs, CSV stats, student records

What it does:

1. Starts the local stack as the README does (``python -m infra.dev_server``, moto, the local
   Upstash endpoint on fakeredis, the SQS pollers, the seeded sample content) on a free port of
   127.0.0.1, with a state file in a temporary directory. All simulated students share 127.0.0.1, so
   the per-IP and per-user rate limits (USER/LOGIN/LOGIN_IP/REGISTER/REFRESH/BAD_TOKEN_RATE_LIMIT_PER_MINUTE) are raised
   to 1,000,000 a minute for the run; BCRYPT_ROUNDS is 4 (password hashing is not what this
   measures); no Groq key is passed, so explanations and roadmaps come from the offline generators.
2. Runs locust headless in a subprocess (``bench/locustfile.py``; locust is never imported here):
   ``--users`` students spawned at ``--spawn-rate`` a second, for ``--duration`` seconds; a student
   busy when the time is up finishes its task (``--stop-timeout`` 30 s). Each student registers,
   sets a profile for one of the sample exams (GATE, JEE, NEET, UPSC, CAT in turn), logs in, reads
   the weekly leaderboard, then waits ``--think`` seconds (default 0.5-1.5, uniform) between tasks
   picked with these weights: answer a question 6 (a new ``attempt_id`` each, confidence 1-5; 20 %
   are sent a second time with the same ``attempt_id``, which must answer the same), practice page
   4, due flashcards and up to two reviews 3 (rating 1-5, a new ``review_id`` each, 15 % sent
   twice), GET /progress 2, the weekly leaderboard 2 (30 % of them the student's exam board),
   GET /analytics/calibration 1, and a roadmap 1 (POST /roadmaps, next time GET its job). A student
   adds up the ``xp_awarded`` of its first-time answers and reviews.
3. Checks, with the stack still up, each student over the API (a fresh login): an answer or review
   whose reply never came (a failure, or the run ending mid-request) is sent again with the same id
   and its ``xp_awarded`` added; then GET /progress ``xp_total`` must equal the student's sum. When
   the leaderboard week did not turn during the run, ``xp_this_week`` and the student's XP on the
   overall and on its exam's weekly board (``me.xp``) must equal it too.
4. Stops the stack and prints the table.

| column | meaning |
|---|---|
| endpoint | the request as locust named it; ``(retry)`` rows are the repeats with the same id |
| requests, failures | from locust's CSV stats; a failure: a transport error, an unexpected status, an |
| | envelope without ``success``, or a retry that answered differently from the first time |
| req/s | requests a second over the run |
| p50/p95/p99 ms | response-time percentiles (locust rounds them) |

Above the table: the machine's CPUs and its load average before and after the run. Below it: the
XP check (students checked, mismatches), the weekly-board check, the failures by message, locust's
exceptions, and the warnings and errors the stack logged (grouped by message).

Numbers depend on the machine: the local stack is one process (one uvicorn worker; moto, which
applies one DynamoDB request at a time, and the Redis emulator in it) sharing the CPUs with locust,
so the table shows where that process saturates, not what Lambda and DynamoDB would do. When it
saturates, DynamoDB calls wait past their read timeout and requests answer 503 (busy, try again),
which count as failures. ``--strict`` exits 1 on any failed request, locust exception, failed check
request or XP mismatch; 2 means the stack or locust could not run.
"""

from __future__ import annotations

import argparse
import csv
import json
import os
import secrets
import socket
import subprocess
import sys
import tempfile
import time
from collections import Counter
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

REPO = Path(__file__).resolve().parent.parent
LOCUSTFILE = REPO / "bench" / "locustfile.py"
API = "/api/v1"
RAISED_LIMIT = "1000000"
RATE_LIMITS = tuple(f"{kind}_RATE_LIMIT_PER_MINUTE"
                    for kind in ("USER", "LOGIN", "LOGIN_IP", "REGISTER", "REFRESH", "BAD_TOKEN"))
# What the stack must not inherit from the calling shell (or a test session): it runs its own.
NOT_INHERITED_PREFIXES = ("UPSTASH_", "AWS_ENDPOINT_URL", "GROQ_API_KEY", "AWS_PROFILE", *RATE_LIMITS)
NOT_INHERITED = ("JWT_SECRET", "ENVIRONMENT", "CORS_ORIGINS", "REDIS_URL", "SSM_PREFIX", "GROQ_BASE_URL")
STACK_START_SECONDS = 180
STOP_TIMEOUT_SECONDS = 30


@dataclass
class EndpointRow:
    name: str
    requests: int
    failures: int
    per_second: float
    p50: str
    p95: str
    p99: str


@dataclass
class LocustRun:
    exit_code: int
    rows: list[EndpointRow]
    total: EndpointRow | None
    failures: list[tuple[str, int]]  # (method name: message, occurrences)
    exceptions: list[tuple[str, int]]


@dataclass
class XpCheck:
    students: int = 0
    checked: int = 0
    mismatches: list[str] = field(default_factory=list)
    weekly_checked: int = 0
    weekly_skipped: int = 0
    weekly_mismatches: list[str] = field(default_factory=list)
    replayed: int = 0
    errors: list[str] = field(default_factory=list)  # check requests that failed, students never registered


def think_range(text: str) -> tuple[float, float]:
    low, _, high = text.partition("-")
    try:
        bounds = (float(low), float(high or low))
    except ValueError:
        raise argparse.ArgumentTypeError("expected MIN-MAX seconds, e.g. 0.5-1.5") from None
    if not 0 <= bounds[0] <= bounds[1]:
        raise argparse.ArgumentTypeError("expected 0 <= MIN <= MAX")
    return bounds


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


def stack_environment() -> dict[str, str]:
    """The dev server's environment: this one less what points elsewhere, with the load settings."""
    env = {name: value for name, value in os.environ.items()
           if not name.startswith(NOT_INHERITED_PREFIXES) and name not in NOT_INHERITED}
    env.update({name: RAISED_LIMIT for name in RATE_LIMITS})
    env.update({"BCRYPT_ROUNDS": "4", "POWERTOOLS_LOG_LEVEL": "WARNING", "PYTHONUNBUFFERED": "1",
                "MINDLY_DEMO_PASSWORD": secrets.token_urlsafe(12)})
    return env


def start_stack(workdir: Path, port: int) -> subprocess.Popen[str]:
    """``python -m infra.dev_server`` on 127.0.0.1:port, returned once /health answers 200."""
    import httpx

    log = (workdir / "stack.log").open("w")
    process = subprocess.Popen(
        [sys.executable, "-m", "infra.dev_server", "--host", "127.0.0.1", "--port", str(port),
         "--state-file", str(workdir / "stack.json")],
        cwd=REPO, env=stack_environment(), stdout=log, stderr=subprocess.STDOUT, text=True)
    deadline = time.monotonic() + STACK_START_SECONDS
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise RuntimeError(f"the dev server exited ({process.returncode}):\n{tail(workdir / 'stack.log')}")
        try:
            if httpx.get(f"http://127.0.0.1:{port}{API}/health", timeout=2).status_code == 200:
                return process
        except httpx.TransportError:
            pass
        time.sleep(0.3)
    stop(process)
    raise RuntimeError(f"the dev server was not healthy within {STACK_START_SECONDS} s:\n{tail(workdir / 'stack.log')}")


def stop(process: subprocess.Popen[str]) -> None:
    process.terminate()
    try:
        process.wait(timeout=20)
    except subprocess.TimeoutExpired:
        process.kill()
        process.wait()


def tail(path: Path, chars: int = 3000) -> str:
    return path.read_text(errors="replace")[-chars:] if path.exists() else ""


def run_locust(base_url: str, users: int, spawn_rate: float, duration: int, think: tuple[float, float],
               workdir: Path) -> LocustRun:
    """locust headless in a subprocess (it monkeypatches with gevent, so never in this process)."""
    prefix = workdir / "locust"
    env = {**os.environ, "MINDLY_LOAD_STUDENTS": str(workdir / "students.jsonl"), "PYTHONUNBUFFERED": "1",
           "MINDLY_LOAD_THINK_SECONDS": f"{think[0]},{think[1]}"}
    command = [sys.executable, "-m", "locust", "-f", str(LOCUSTFILE), "--headless", "-u", str(users),
               "-r", str(spawn_rate), "-t", f"{duration}s", "--stop-timeout", str(STOP_TIMEOUT_SECONDS),
               "--host", base_url, "--csv", str(prefix), "--only-summary"]
    with (workdir / "locust.log").open("w") as log:
        done = subprocess.run(command, cwd=REPO, env=env, stdout=log, stderr=subprocess.STDOUT, text=True,
                              timeout=duration + STOP_TIMEOUT_SECONDS + 120, check=False)
    stats = Path(f"{prefix}_stats.csv")
    if not stats.exists():
        raise RuntimeError(f"locust wrote no stats (exit {done.returncode}):\n{tail(workdir / 'locust.log')}")
    rows, total = read_stats(stats)
    failures = [(f"{row['Name']}: {row['Error']}", int(row["Occurrences"]))  # a Name holds its method
                for row in read_csv(Path(f"{prefix}_failures.csv"))]
    exceptions = [(row["Message"], int(row["Count"])) for row in read_csv(Path(f"{prefix}_exceptions.csv"))]
    return LocustRun(done.returncode, rows, total, failures, exceptions)


def read_csv(path: Path) -> list[dict[str, str]]:
    if not path.exists():
        return []
    with path.open(newline="") as source:
        return list(csv.DictReader(source))


def read_stats(path: Path) -> tuple[list[EndpointRow], EndpointRow | None]:
    """Locust's ``*_stats.csv``: one row per request name, then the ``Aggregated`` row."""
    rows: list[EndpointRow] = []
    total = None
    for row in read_csv(path):
        entry = EndpointRow(name=row["Name"],  # the locustfile names each request "METHOD /path"
                            requests=int(row["Request Count"]), failures=int(row["Failure Count"]),
                            per_second=float(row["Requests/s"]), p50=row["50%"], p95=row["95%"], p99=row["99%"])
        if row["Name"] == "Aggregated":
            total = entry
        else:
            rows.append(entry)
    # A student's flow reads best grouped by path.
    rows.sort(key=lambda r: (r.name.partition(" ")[2], r.name))
    return rows, total


def check_students(base_url: str, students_file: Path) -> XpCheck:
    """Each student's XP as the server holds it against the sum the student was told (module docstring)."""
    import httpx

    check = XpCheck()
    if not students_file.exists():
        check.errors.append("locust wrote no student records")
        return check
    students = [json.loads(line) for line in students_file.read_text().splitlines() if line.strip()]
    check.students = len(students)
    with httpx.Client(base_url=f"{base_url}{API}", timeout=60) as client:
        for student in students:
            if student["user_id"] is None:
                check.errors.append(f"{student['email']}: never registered")
                continue
            try:
                check_student(client, student, check)
            except (httpx.HTTPError, KeyError, ValueError) as exc:
                check.errors.append(f"{student['email']}: {type(exc).__name__}: {str(exc)[:200]}")
    return check


def _data(answer: Any, what: str) -> Any:
    if answer.status_code != 200 or not answer.json().get("success"):
        raise ValueError(f"{what} answered {answer.status_code}: {answer.text[:200]}")
    return answer.json()["data"]


def check_student(client: Any, student: dict[str, Any], check: XpCheck) -> None:
    login = _data(client.post("/auth/login", json={"email": student["email"], "password": student["password"]}),
                  "POST /auth/login")
    auth = {"Authorization": f"Bearer {login['access_token']}"}
    expected = int(student["xp_awarded"])
    for pending in student["unresolved"]:  # the same id again: applied once, whenever it first arrived
        # xp_recorded: what the activity earned when it was recorded, by this replay or before it
        expected += int(_data(client.post(f"{pending['path']}", json=pending["body"], headers=auth),
                              f"replay POST {pending['path']}")["xp_recorded"])
        check.replayed += 1
    progress = _data(client.get("/progress", headers=auth), "GET /progress")
    check.checked += 1
    who = f"{student['name']} ({student['exam']}, {student['user_id']})"
    if progress["xp_total"] != expected:
        check.mismatches.append(f"{who}: xp_total {progress['xp_total']}, awarded {expected}")
    board = _data(client.get("/leaderboard/weekly", headers=auth), "GET /leaderboard/weekly")
    exam_board = _data(client.get("/leaderboard/weekly", params={"exam": student["exam"]}, headers=auth),
                       "GET /leaderboard/weekly?exam=")
    if student["week"] not in (None, board["week"]):
        check.weekly_skipped += 1  # the week turned during the run: this week's XP is not the run's
        return
    check.weekly_checked += 1
    weekly = {"xp_this_week": progress["xp_this_week"], "board": board["me"]["xp"],
              f"{student['exam']} board": exam_board["me"]["xp"]}
    if any(value != expected for value in weekly.values()):
        check.weekly_mismatches.append(f"{who}: awarded {expected}, {weekly}")


def stack_log_summary(path: Path) -> list[tuple[str, int]]:
    """Warnings and errors the stack logged, counted by level and message."""
    counts: Counter[str] = Counter()
    lines = path.read_text(errors="replace").splitlines() if path.exists() else []
    for index, line in enumerate(lines):
        try:
            entry = json.loads(line)
        except ValueError:
            if line.startswith("Traceback"):  # printed by a library, not logged: name what it raised
                raised = next((later for later in lines[index + 1:] if later and not later[0].isspace()), "?")
                counts[f"traceback: {raised}"[:160]] += 1
            continue
        if isinstance(entry, dict) and str(entry.get("level", "")).upper() in ("WARNING", "ERROR", "CRITICAL"):
            counts[f"{entry['level']}: {entry.get('message', '')}"[:160]] += 1
    return counts.most_common()


def print_report(args: argparse.Namespace, port: int, load: tuple[float, float], run: LocustRun, check: XpCheck,
                 stack_log: list[tuple[str, int]]) -> None:
    print(f"Load test: {args.users} students for {args.duration} s (spawned {args.spawn_rate:g}/s, "
          f"{args.think[0]:g}-{args.think[1]:g} s between tasks) against python -m infra.dev_server on "
          f"127.0.0.1:{port} (moto, local Upstash on fakeredis, seeded)")
    print(f"Machine: {os.cpu_count()} CPUs, load average {load[0]:.1f} before the run, {load[1]:.1f} after "
          "(the stack and locust share them with whatever else runs)")
    print(f"Rate limits raised to {RAISED_LIMIT}/min for the run (every student shares 127.0.0.1): "
          f"{', '.join(RATE_LIMITS)}")
    print("BCRYPT_ROUNDS=4 (hashing is not measured); Groq off (offline explanations and roadmaps)")
    print()
    rows = [*run.rows, *([run.total] if run.total else [])]
    width = max([len("endpoint"), *(len(row.name) for row in rows)])
    print(f"{'endpoint':<{width}} {'requests':>9} {'failures':>9} {'req/s':>7} {'p50 ms':>7} {'p95 ms':>7} "
          f"{'p99 ms':>7}")
    for row in rows:
        name = "total" if row is run.total else row.name
        print(f"{name:<{width}} {row.requests:>9} {row.failures:>9} {row.per_second:>7.1f} {row.p50:>7} "
              f"{row.p95:>7} {row.p99:>7}")
    print()
    print(f"XP check: {check.checked} of {check.students} students checked, {len(check.mismatches)} mismatches "
          f"(GET /progress xp_total == the sum of xp_awarded the student was told; {check.replayed} unanswered "
          "activities sent again with their id)")
    print(f"Weekly XP: {check.weekly_checked} students checked, {len(check.weekly_mismatches)} mismatches "
          f"(xp_this_week and me.xp on the overall and the exam's weekly board == that sum)"
          + (f"; {check.weekly_skipped} skipped, the week turned during the run" if check.weekly_skipped else ""))
    for line in [*check.mismatches, *check.weekly_mismatches][:20]:
        print(f"  MISMATCH {line}")
    failed = run.total.failures if run.total else 0
    print(f"Errors: {failed} failed requests, {sum(n for _, n in run.exceptions)} locust exceptions, "
          f"{len(check.errors)} failed checks; locust exit code {run.exit_code}")
    for message, count in run.failures[:15]:
        print(f"  FAILED x{count}: {message[:300]}")
    for message, count in run.exceptions[:10]:
        print(f"  EXCEPTION x{count}: {message[:300]}")
    for message in check.errors[:10]:
        print(f"  CHECK FAILED: {message}")
    print("Stack log: " + ("no warnings or errors" if not stack_log else
                           f"{sum(n for _, n in stack_log)} warnings/errors"))
    for message, count in stack_log[:10]:
        print(f"  x{count} {message}")


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--users", type=int, default=50, help="simulated students (default 50)")
    parser.add_argument("--duration", type=int, default=60, help="seconds of load (default 60)")
    parser.add_argument("--spawn-rate", type=float, default=10, help="students started a second (default 10)")
    parser.add_argument("--think", type=think_range, default=(0.5, 1.5), metavar="MIN-MAX",
                        help="seconds a student waits between tasks, drawn uniformly (default 0.5-1.5)")
    parser.add_argument("--strict", action="store_true",
                        help="exit 1 on any failed request, locust exception, failed check or XP mismatch")
    parser.add_argument("--keep-files", action="store_true",
                        help="keep the temporary directory (stack and locust logs, CSV stats, student records)")
    args = parser.parse_args(argv)
    if args.users < 1 or args.duration < 1 or args.spawn_rate <= 0:
        parser.error("--users, --duration and --spawn-rate must be positive")

    load_before = os.getloadavg()[0]
    workdir = Path(tempfile.mkdtemp(prefix="mindly-load-"))
    port = free_port()
    try:
        try:
            stack = start_stack(workdir, port)
        except RuntimeError as exc:
            print(f"ERROR: {exc}", file=sys.stderr)
            return 2
        try:
            base_url = f"http://127.0.0.1:{port}"
            run = run_locust(base_url, args.users, args.spawn_rate, args.duration, args.think, workdir)
            check = check_students(base_url, workdir / "students.jsonl")
        except (RuntimeError, subprocess.TimeoutExpired) as exc:
            print(f"ERROR: {exc}", file=sys.stderr)
            return 2
        finally:
            stop(stack)
        print_report(args, port, (load_before, os.getloadavg()[0]), run, check,
                     stack_log_summary(workdir / "stack.log"))
    finally:
        if args.keep_files:
            print(f"Files kept in {workdir}", file=sys.stderr)
        else:
            import shutil

            shutil.rmtree(workdir, ignore_errors=True)
    broken = (run.total.failures if run.total else 1) + sum(n for _, n in run.exceptions) + len(check.errors)
    return 1 if args.strict and (broken or check.mismatches or check.weekly_mismatches) else 0


if __name__ == "__main__":
    raise SystemExit(main())
