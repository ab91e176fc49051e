"""DynamoDB calls and Redis round trips per request, for every endpoint.

Runs the local stack in this process (moto + the local Upstash endpoint, as the dev server does),
sends each request through the same router the dev server uses, and counts what it cost: pynamodb
dispatches (one per DynamoDB API call, a transaction counting once) and upstash-redis HTTP requests
(one per round trip, a pipeline counting once).

    .venv/bin/python -m bench.request_costs [--strict]
"""

from __future__ import annotations

import argparse
import os
import secrets
import sys
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

REPO = Path(__file__).resolve().parent.parent


@dataclass
class Counter:
    dynamodb: int = 0
    redis: int = 0


@dataclass
class Row:
    endpoint: str
    status: int
    dynamodb: int
    redis: int
    target: str
    ok: bool


def instrument(counter: Counter) -> None:
    """Count at the lowest shared point of each client: no request can bypass it."""
    from pynamodb.connection.base import Connection
    from upstash_redis.http import SyncHttpClient

    dispatch = Connection.dispatch
    execute = SyncHttpClient.execute

    def counted_dispatch(self: Any, operation_name: str, operation_kwargs: dict[str, Any]) -> Any:
        counter.dynamodb += 1
        return dispatch(self, operation_name, operation_kwargs)

    def counted_execute(self: Any, *args: Any, **kwargs: Any) -> Any:
        counter.redis += 1
        return execute(self, *args, **kwargs)

    Connection.dispatch = counted_dispatch  # type: ignore[method-assign]
    SyncHttpClient.execute = counted_execute  # type: ignore[method-assign]


def measure(rows: list[Row], counter: Counter, endpoint: str, call: Callable[[], Any],
            target: str = "", check: Callable[[int, int], bool] | None = None) -> Any:
    counter.dynamodb = counter.redis = 0
    response = call()
    ok = check(counter.dynamodb, counter.redis) if check else True
    rows.append(Row(endpoint, response.status_code, counter.dynamodb, counter.redis, target, ok))
    return response


def run() -> list[Row]:
    sys.path[:0] = [str(REPO)]
    os.environ.setdefault("BCRYPT_ROUNDS", "4")
    os.environ.setdefault("JWT_SECRET", secrets.token_hex(32))
    from infra.dev_server import start_stack

    stack = start_stack(prefix="mindly-bench", seed=False)
    from fastapi.testclient import TestClient

    counter = Counter()
    instrument(counter)
    rows: list[Row] = []
    within = lambda dynamo, redis: (lambda d, r: d <= dynamo and r <= redis)  # noqa: E731
    try:
        client = TestClient(stack.app)
        body = {"email": f"bench.{secrets.token_hex(4)}@example.com", "password": "Bench-password-1",
                "name": "Bench Student"}
        registered = measure(rows, counter, "POST /auth/register",
                             lambda: client.post("/api/v1/auth/register", json=body), "DynamoDB <= 3", within(3, 99))
        measure(rows, counter, "POST /auth/login",
                lambda: client.post("/api/v1/auth/login", json={"email": body["email"], "password": body["password"]}),
                "DynamoDB <= 3", within(3, 99))
        token = registered.json()["data"]["access_token"]
        refresh_token = registered.json()["data"]["refresh_token"]
        auth = {"Authorization": f"Bearer {token}"}
        measure(rows, counter, "GET /auth/me", lambda: client.get("/api/v1/auth/me", headers=auth),
                "Redis = 1 (auth + limit)", within(99, 1))
        profile = {"exam_type": "GATE", "level": "beginner", "study_hours_per_day": 3,
                   "target_date": "2030-01-01", "weak_subjects": ["Algorithms"]}
        measure(rows, counter, "PUT /profile", lambda: client.put("/api/v1/profile", json=profile, headers=auth),
                "Redis = 1 (auth + limit)", within(99, 1))
        measure(rows, counter, "GET /profile", lambda: client.get("/api/v1/profile", headers=auth),
                "Redis = 1 (auth + limit)", within(99, 1))
        measure(rows, counter, "GET /syllabus/{exam}", lambda: client.get("/api/v1/syllabus/JEE"),
                "no I/O", within(0, 0))
        refreshed = measure(rows, counter, "POST /auth/refresh",
                            lambda: client.post("/api/v1/auth/refresh", json={"refresh_token": refresh_token}))
        auth = {"Authorization": f"Bearer {refreshed.json()['data']['access_token']}"}
        measure(rows, counter, "POST /auth/logout", lambda: client.post("/api/v1/auth/logout", headers=auth),
                "auth part: Redis = 1")
        measure(rows, counter, "GET /health", lambda: client.get("/api/v1/health"))
    finally:
        stack.stop()
    return rows


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--strict", action="store_true", help="exit 1 when a target is missed")
    args = parser.parse_args(argv)
    rows = run()
    print(f"{'endpoint':<24} {'status':>6} {'DynamoDB calls':>15} {'Redis round trips':>18}  target")
    for row in rows:
        verdict = "" if not row.target else ("OK" if row.ok else "OVER")
        print(f"{row.endpoint:<24} {row.status:>6} {row.dynamodb:>15} {row.redis:>18}  {row.target} {verdict}")
    return 1 if args.strict and not all(row.ok for row in rows) else 0


if __name__ == "__main__":
    raise SystemExit(main())
