"""DynamoDB calls and Redis round trips per request, for every endpoint.

Runs the local stack in this process (moto + the local Upstash endpoint, as the dev server does),
sends each request through the same router the dev server uses, and counts what it cost: pynamodb
dispatches (one per DynamoDB API call, a transaction counting once; the writes among them counted
apart too) and upstash-redis HTTP requests (one per round trip, a pipeline counting once). A few
rows call a service directly (no HTTP, so no auth round trip), to measure the use case alone.

    .venv/bin/python -m bench.request_costs [--strict]
"""

from __future__ import annotations

import argparse
import os
import secrets
import sys
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

REPO = Path(__file__).resolve().parent.parent

# DynamoDB operations that write (a TransactWriteItems counts once, however many items it holds).
WRITE_OPERATIONS = frozenset({"TransactWriteItems", "PutItem", "UpdateItem", "DeleteItem", "BatchWriteItem"})


@dataclass
class Counter:
    dynamodb: int = 0
    writes: int = 0
    redis: int = 0

    def reset(self) -> None:
        self.dynamodb = self.writes = self.redis = 0

    # instrument() sends every call through these two, so a subclass can measure more of each call
    # (bench.cost_model: capacity units, Redis commands, time) without a second wrapper.
    def dynamodb_call(self, connection: Any, operation_name: str, operation_kwargs: dict[str, Any],
                      dispatch: Callable[..., Any]) -> Any:
        self.dynamodb += 1
        if operation_name in WRITE_OPERATIONS:
            self.writes += 1
        return dispatch(connection, operation_name, operation_kwargs)

    def redis_call(self, client: Any, args: tuple[Any, ...], kwargs: dict[str, Any],
                   execute: Callable[..., Any]) -> Any:
        self.redis += 1
        return execute(client, *args, **kwargs)

    def detail(self) -> dict[str, Any]:
        """What a subclass measured besides the counts, kept in the row (nothing here)."""
        return {}


@dataclass
class Row:
    endpoint: str
    status: str
    dynamodb: int
    writes: int
    redis: int
    target: str
    ok: bool | None  # None: no target checked (the row is for information)
    detail: dict[str, Any] = field(default_factory=dict)  # Counter.detail() of the request


Check = Callable[[Counter], bool]


def instrument(counter: Counter) -> None:
    """Count at the lowest shared point of each client: no request can bypass it."""
    from pynamodb.connection.base import Connection
    from upstash_redis.http import SyncHttpClient

    dispatch = Connection.dispatch
    execute = SyncHttpClient.execute

    def counted_dispatch(self: Any, operation_name: str, operation_kwargs: dict[str, Any]) -> Any:
        return counter.dynamodb_call(self, operation_name, operation_kwargs, dispatch)

    def counted_execute(self: Any, *args: Any, **kwargs: Any) -> Any:
        return counter.redis_call(self, args, kwargs, execute)

    Connection.dispatch = counted_dispatch  # type: ignore[method-assign]
    SyncHttpClient.execute = counted_execute  # type: ignore[method-assign]


def within(dynamodb: int = 99, redis: int = 99, writes: int = 99) -> Check:
    return lambda c: c.dynamodb <= dynamodb and c.redis <= redis and c.writes <= writes


def exactly(dynamodb: int, redis: int) -> Check:
    return lambda c: c.dynamodb == dynamodb and c.redis == redis


def measure(rows: list[Row], counter: Counter, endpoint: str, call: Callable[[], Any],
            target: str = "", check: Check | None = None) -> Any:
    """Run ``call`` and add its costs as a row. An HTTP response shows its status; a direct service
    call shows ``-``."""
    counter.reset()
    result = call()
    ok = check(counter) if check else None
    status = getattr(result, "status_code", None)
    rows.append(Row(endpoint, "-" if status is None else str(status), counter.dynamodb, counter.writes,
                    counter.redis, target, ok, counter.detail()))
    return result


AUTH = "Redis = 1 (auth + limit)"


MoreRows = Callable[[list[Row], Counter, Any], None]


def run(counter: Counter | None = None, more_rows: MoreRows | None = None) -> list[Row]:
    """Measure every row; ``counter`` may measure more than the counts, and ``more_rows(rows,
    counter, stack)`` adds rows of its own on the same running stack, after the question rows (both
    for bench.cost_model)."""
    sys.path[:0] = [str(REPO)]
    os.environ.setdefault("BCRYPT_ROUNDS", "4")
    os.environ.setdefault("JWT_SECRET", secrets.token_hex(32))
    os.environ.setdefault("CURSOR_SECRET", secrets.token_hex(32))
    from infra.dev_server import start_stack

    stack = start_stack(prefix="mindly-bench", seed=False)
    from fastapi.testclient import TestClient

    counter = Counter() if counter is None else counter
    instrument(counter)
    rows: list[Row] = []
    try:
        client = TestClient(stack.app)
        body = {"email": f"bench.{secrets.token_hex(4)}@example.com", "password": "Bench-password-1",
                "name": "Bench Student"}
        registered = measure(rows, counter, "POST /auth/register",
                             lambda: client.post("/api/v1/auth/register", json=body), "DynamoDB <= 1", within(1))
        measure(rows, counter, "POST /auth/login",
                lambda: client.post("/api/v1/auth/login", json={"email": body["email"], "password": body["password"]}),
                "DynamoDB <= 5", within(5))
        token = registered.json()["data"]["access_token"]
        refresh_token = registered.json()["data"]["refresh_token"]
        auth = {"Authorization": f"Bearer {token}"}
        me = measure(rows, counter, "GET /auth/me", lambda: client.get("/api/v1/auth/me", headers=auth),
                     AUTH, within(redis=1))
        profile = {"exam_type": "GATE", "level": "beginner", "study_hours_per_day": 3,
                   "target_date": "2030-01-01", "weak_subjects": ["Algorithms"]}
        measure(rows, counter, "PUT /profile", lambda: client.put("/api/v1/profile", json=profile, headers=auth),
                AUTH, within(redis=1))
        measure(rows, counter, "GET /profile", lambda: client.get("/api/v1/profile", headers=auth),
                AUTH, within(redis=1))
        measure(rows, counter, "GET /syllabus/{exam}", lambda: client.get("/api/v1/syllabus/JEE"),
                "no I/O", within(0, 0))
        progress_rows(rows, counter, client, auth, me.json()["data"]["id"], body["name"])
        question_rows(rows, counter, client, auth)
        if more_rows is not None:  # before the analytics rows store 500 attempts, which slow moto down
            more_rows(rows, counter, stack)
        analytics_rows(rows, counter, client, auth, me.json()["data"]["id"])
        refreshed = measure(rows, counter, "POST /auth/refresh",
                            lambda: client.post("/api/v1/auth/refresh", json={"refresh_token": refresh_token}))
        auth = {"Authorization": f"Bearer {refreshed.json()['data']['access_token']}"}
        measure(rows, counter, "POST /auth/logout", lambda: client.post("/api/v1/auth/logout", headers=auth),
                "auth part: Redis = 1 (+1 revocation)", within(redis=2))
        measure(rows, counter, "GET /health", lambda: client.get("/api/v1/health"))
    finally:
        stack.stop()
    return rows


def question_rows(rows: list[Row], counter: Counter, client: Any, auth: dict[str, str]) -> None:
    """Practice and submit, over the bundled sample bank (imported first, unmeasured)."""
    from infra.seed import seed_content

    seed_content()
    api = "/api/v1/questions"
    query = {"exam": "GATE", "limit": 5}
    first = measure(rows, counter, "GET /questions/practice", lambda: client.get(f"{api}/practice", params=query,
                                                                                  headers=auth),
                    "DynamoDB = 1 Query, " + AUTH, exactly(1, 1))
    cursor = first.json()["data"]["next_cursor"]
    measure(rows, counter, "  next page (cursor)", lambda: client.get(
        f"{api}/practice", params={**query, "cursor": cursor}, headers=auth), "DynamoDB = 1 Query", exactly(1, 1))
    measure(rows, counter, "  exam from profile", lambda: client.get(f"{api}/practice", params={"limit": 5},
                                                                      headers=auth),
            "info: + 1 GetItem for the profile's exam")
    question = first.json()["data"]["items"][0]
    from mindly.store import content as content_store

    stored = content_store.get_question(question["question_id"])
    assert stored is not None
    body = {"question_id": question["question_id"], "selected_option": stored.correct_option,
            "confidence_rating": 4, "time_taken_seconds": 30, "attempt_id": secrets.token_hex(8)}
    measure(rows, counter, "POST /questions/submit", lambda: client.post(f"{api}/submit", json=body, headers=auth),
            "DynamoDB <= 1 read + 1 write; Redis <= 1 (+1 auth)", within(dynamodb=2, writes=1, redis=2))
    measure(rows, counter, "  same attempt_id again", lambda: client.post(f"{api}/submit", json=body, headers=auth),
            "1 read, no write", within(dynamodb=1, writes=0, redis=2))
    measure(rows, counter, "GET /questions/attempts", lambda: client.get(f"{api}/attempts", headers=auth),
            "DynamoDB = 1 Query, " + AUTH, exactly(1, 1))


CALIBRATION_ATTEMPTS = 500


def analytics_rows(rows: list[Row], counter: Counter, client: Any, auth: dict[str, str], user_id: str) -> None:
    """Analytics: the calibration report of a week holding 500 attempts (stored first, unmeasured,
    spread over last week in the student's zone), its cached repeat, and the other reports."""
    import random
    from datetime import timedelta

    from mindly.domain import calendar
    from mindly.store.attempts import AttemptItem, attempt_sort_key
    from mindly.store.progress import student_key

    today = calendar.local_date(datetime.now(UTC), "Asia/Kolkata")
    monday = today - timedelta(days=today.weekday() + 7)
    start = calendar.day_starts_at(monday, "Asia/Kolkata")
    chooser = random.Random(7)
    with AttemptItem.batch_write() as batch:
        for n in range(CALIBRATION_ATTEMPTS):
            at = start + timedelta(seconds=n * 7 * 86400 // CALIBRATION_ATTEMPTS + 1)
            confidence = chooser.randint(1, 5)
            batch.save(AttemptItem(
                student_key(user_id), attempt_sort_key(at, f"bench-{n}"), attempt_id=f"bench-{n}",
                question_id=f"q-{n % 40}", exam_type="GATE", subject="Algorithms", topic=f"Topic {n % 8}",
                selected_option="A", correct_option="A" if chooser.random() < 0.2 + 0.15 * confidence else "B",
                is_correct=False, confidence_rating=confidence, time_taken_seconds=45, attempted_at=at,
                option_count=4))
    week = calendar.iso_week(monday)
    api = "/api/v1/analytics"
    report = measure(rows, counter, f"GET /analytics/calibration ({CALIBRATION_ATTEMPTS} attempts)",
                     lambda: client.get(f"{api}/calibration", params={"week": week}, headers=auth),
                     "1 BatchGetItem + 1 Query (pages: 1 per MB)", within(dynamodb=2))
    assert report.json()["data"]["attempts"] == CALIBRATION_ATTEMPTS, report.text[:300]
    measure(rows, counter, "  same report again (Redis)", lambda: client.get(
        f"{api}/calibration", params={"week": week}, headers=auth), "1 BatchGetItem, Redis 1 (+1 auth)",
        within(dynamodb=1, redis=2))
    measure(rows, counter, "GET /analytics/subjects", lambda: client.get(f"{api}/subjects", headers=auth),
            "DynamoDB = 1 Query (1 item a subject), " + AUTH, exactly(1, 1))
    test = {"test_name": "Bench mock", "exam_type": "GATE", "taken_on": today.isoformat(), "total_questions": 65,
            "correct": 40, "wrong": 15, "time_taken_minutes": 180, "max_score": 100, "score": 55,
            "chapters": [{"subject": "Algorithms", "chapter": "Greedy", "correct": 2, "total": 5}]}
    measure(rows, counter, "POST /analytics/tests", lambda: client.post(f"{api}/tests", json=test, headers=auth),
            "1 read + 1 write", within(dynamodb=2, writes=1, redis=1))
    measure(rows, counter, "GET /analytics/dashboard", lambda: client.get(f"{api}/dashboard", headers=auth),
            "1 BatchGetItem + 3 Queries (days, tests, topics)", within(dynamodb=4))
    measure(rows, counter, "  dashboard again (Redis)", lambda: client.get(f"{api}/dashboard", headers=auth),
            "1 BatchGetItem, Redis 1 (+1 auth)", within(dynamodb=1, redis=2))


def progress_rows(rows: list[Row], counter: Counter, client: Any, auth: dict[str, str], user_id: str,
                  name: str) -> None:
    """The progress engine: recording activities, the progress endpoints and the weekly leaderboard.

    The student is registered and has a profile (the rows above). The badge catalog is read once per
    container and then cached for 5 minutes (mindly.services.badges), so it is stored and read first,
    unmeasured, as a warm Lambda container has it.
    """
    from mindly.cache import leaderboard as boards
    from mindly.cache.client import get_redis
    from mindly.config import get_settings
    from mindly.services import badges as badge_catalog
    from mindly.services import leaderboard
    from mindly.services import progress as progress_service

    badge_catalog.seed()
    badge_catalog.catalog()  # warm container: the catalog is cached after its first read
    zone = get_settings().leaderboard_timezone
    student = progress_service.student_of(user_id, name)
    mirror = leaderboard.mirror_award(student.name)
    week = progress_service.leaderboard_week(datetime.now(UTC), zone)

    def answer(key: str) -> Callable[[], Any]:
        activity = progress_service.Activity(key=key, kind="answer", at=datetime.now(UTC), correct=True,
                                             exam="GATE", subject="Algorithms")
        return lambda: progress_service.record_activity(student, activity, zone, mirror)

    record_target = "DynamoDB writes <= 1, Redis <= 1 (warm badge catalog)"
    first = measure(rows, counter, "record activity (1st, no board)", answer(f"bench-{secrets.token_hex(4)}"),
                    record_target, within(redis=1, writes=1))
    assert first.xp_awarded > 0, "the measured activity must award XP (so the mirror runs)"

    boards.forget(get_redis(), week, None)  # Redis lost the board: the next read rebuilds it
    shards = leaderboard.store.LEADERBOARD_SHARDS
    measure(rows, counter, "GET /leaderboard/weekly (cold, rebuild)",
            lambda: client.get("/api/v1/leaderboard/weekly", headers=auth),
            f"info: 1 Query per shard ({shards}); Redis: auth, read, building marker, load")
    measure(rows, counter, "GET /leaderboard/weekly (warm)",
            lambda: client.get("/api/v1/leaderboard/weekly", headers=auth),
            "board: Redis = 1 (+1 auth), DynamoDB = 0", exactly(0, 2))
    measure(rows, counter, "leaderboard.weekly() (warm)", lambda: leaderboard.weekly(user_id, week, None),
            "Redis = 1, DynamoDB = 0", exactly(0, 1))
    # The board is ready now, so this activity's mirror really writes the new total into it.
    second = measure(rows, counter, "record activity (board warm)", answer(f"bench-{secrets.token_hex(4)}"),
                     record_target, within(redis=1, writes=1))
    assert second.xp_awarded > 0
    board = leaderboard.weekly(user_id, week, None)
    assert board["me"]["xp"] == first.xp_awarded + second.xp_awarded, board
    badge_catalog.forget_cached_catalog()  # a cold container reads the catalog once (then caches it)
    measure(rows, counter, "record activity (cold badge catalog)", answer(f"bench-{secrets.token_hex(4)}"),
            "info: + 1 Query for the catalog, once per container")

    measure(rows, counter, "GET /progress", lambda: client.get("/api/v1/progress", headers=auth),
            AUTH, within(redis=1))
    measure(rows, counter, "PUT /progress/daily-goal",
            lambda: client.put("/api/v1/progress/daily-goal", json={"target_questions": 30}, headers=auth),
            f"{AUTH}; no bonus paid", within(redis=1))
    measure(rows, counter, "GET /progress/badges", lambda: client.get("/api/v1/progress/badges", headers=auth),
            AUTH, within(redis=1))


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--strict", action="store_true", help="exit 1 when a target is missed")
    args = parser.parse_args(argv)
    rows = run()
    width = max(len(row.endpoint) for row in rows)
    print(f"{'endpoint':<{width}} {'status':>6} {'DynamoDB calls':>15} {'writes':>7} {'Redis round trips':>18}  target")
    for row in rows:
        verdict = "" if row.ok is None else ("OK" if row.ok else "OVER")
        print(f"{row.endpoint:<{width}} {row.status:>6} {row.dynamodb:>15} {row.writes:>7} {row.redis:>18}  "
              f"{row.target} {verdict}".rstrip())
    return 1 if args.strict and any(row.ok is False for row in rows) else 0


if __name__ == "__main__":
    raise SystemExit(main())
