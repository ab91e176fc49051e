"""Groq calls saved by caching, and the submit's time budget against a slow Groq.

    .venv/bin/python -m bench.groq [--strict]

Runs the local stack in-process with Groq pointed at a fake server on 127.0.0.1 (infra.fake_groq),
so the real SDK, the Redis cache, the DynamoDB copy of explanations and the single-flight lock are
all in the path, and counts the calls the fake receives:

1. 100 wrong answers spread over 10 (question, option) pairs, by 10 students (target: 10 calls);
2. 50 roadmap requests from 5 distinct profiles, each job handed to the real worker (target: 5);
3. 40 wrong answers while Groq takes 5 s to answer: submit latency p50/p99 (target p99 < 3 s, with
   the explanation "unavailable").
"""

from __future__ import annotations

import argparse
import json
import os
import secrets
import statistics
import sys
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any

REPO = Path(__file__).resolve().parent.parent


@dataclass
class Row:
    what: str
    measured: str
    target: str
    ok: bool


def _students(client: Any, count: int, exam: str = "GATE") -> list[dict[str, str]]:
    students = []
    for _ in range(count):
        email = f"groq.{secrets.token_hex(5)}@example.com"
        token = client.post("/api/v1/auth/register", json={"email": email, "password": "Bench-password-1",
                                                             "name": "Groq Bench"}).json()["data"]["access_token"]
        students.append({"Authorization": f"Bearer {token}"})
    return students


def _profile(client: Any, auth: dict[str, str], months: int, weak: list[str]) -> None:
    client.put("/api/v1/profile", headers=auth, json={
        "exam_type": "GATE", "level": "intermediate", "study_hours_per_day": 4, "target_date": "2035-01-01",
        "weak_subjects": weak}).raise_for_status()
    _ = months


def run() -> list[Row]:
    sys.path[:0] = [str(REPO)]
    os.environ.setdefault("BCRYPT_ROUNDS", "4")
    os.environ.setdefault("JWT_SECRET", secrets.token_hex(32))
    os.environ.setdefault("POWERTOOLS_LOG_LEVEL", "WARNING")
    for limit in ("USER", "REGISTER", "LOGIN", "LOGIN_IP"):  # a bench is one client doing the work of many
        os.environ.setdefault(f"{limit}_RATE_LIMIT_PER_MINUTE", "100000")
    from infra.fake_groq import FakeGroq, ok, slow

    fake = FakeGroq().start()
    os.environ["GROQ_API_KEY_1"] = "gsk_bench_1"
    os.environ["GROQ_API_KEY_2"] = "gsk_bench_2"
    os.environ["GROQ_BASE_URL"] = fake.url
    from infra.dev_server import start_stack

    stack = start_stack(prefix="mindly-bench-groq", seed=False)
    rows: list[Row] = []
    try:
        from fastapi.testclient import TestClient

        from infra.seed import seed_content
        from mindly.domain import roadmap as plans
        from mindly.services import roadmaps
        from mindly.store import content as content_store

        seed_content()
        client = TestClient(stack.app)
        for pollers in stack.pollers:  # the bench hands jobs to the worker itself, to count calls
            pollers.stop()
        students = _students(client, 10)
        for auth in students:
            _profile(client, auth, 6, [])
        page = client.get("/api/v1/questions/practice", headers=students[0], params={"limit": 10}).json()["data"]
        pairs = []
        for item in page["items"]:
            stored = content_store.get_question(item["question_id"])
            assert stored is not None
            wrong = next(letter for letter in item["options"] if letter != stored.correct_option)
            pairs.append((item["question_id"], wrong))

        # 1. 100 wrong answers over 10 pairs
        fake.then(ok({"text": "The correct option follows from the definition; the chosen one does not."}))
        for round_ in range(10):
            for question_id, option in pairs:
                client.post("/api/v1/questions/submit", headers=students[round_], json={
                    "question_id": question_id, "selected_option": option, "confidence_rating": 3,
                    "time_taken_seconds": 20})
        calls = len(fake.requests)
        rows.append(Row("100 wrong answers, 10 (question, option) pairs", f"{calls} Groq calls", "10 calls",
                        calls == 10))

        # 2. 50 roadmap requests from 5 profiles
        profiles = [(3, ["Algorithms"]), (6, ["Databases"]), (9, []), (12, ["Operating System"]), (4, [])]
        fake.then(ok({}))
        sent = calls = 0
        for index in range(50):
            months, weak = profiles[index % 5]
            auth = students[index % 10]
            _profile(client, auth, months, weak)
            plan = plans.offline_roadmap("GATE", "intermediate", months, weak, 4.0).model_dump()
            calls += len(fake.requests)  # then() starts a new count
            fake.then(ok(plan))
            answer = client.post("/api/v1/roadmaps", headers=auth, json={"months_available": months,
                                                                          "weak_subjects": weak})
            sent += 1
            if answer.status_code == 202:
                job = answer.json()["data"]["job_id"]
                user = client.get("/api/v1/auth/me", headers=auth).json()["data"]["id"]
                roadmaps.process_job({"job_id": job, "user_id": user}, 1)
        calls += len(fake.requests)
        rows.append(Row(f"{sent} roadmap requests, 5 distinct profiles", f"{calls} Groq calls", "5 calls",
                        calls == 5))

        # 3. submit latency with a Groq that takes 5 s
        fake.then(slow(5, {"text": "too late"}))
        latencies, statuses = [], set()
        for index in range(40):
            question_id, _option = pairs[index % len(pairs)]
            stored = content_store.get_question(question_id)
            assert stored is not None
            # an option not answered before, so nothing is kept for the pair yet
            letters = [ch for ch in "ABCD" if ch != stored.correct_option]
            option = letters[(index // len(pairs)) % len(letters)]
            if (question_id, option) in pairs:
                option = letters[(index // len(pairs) + 1) % len(letters)]
            started = time.perf_counter()
            answer = client.post("/api/v1/questions/submit", headers=students[index % 10], json={
                "question_id": question_id, "selected_option": option, "confidence_rating": 2,
                "time_taken_seconds": 15, "attempt_id": secrets.token_hex(8)})
            latencies.append(time.perf_counter() - started)
            statuses.add(answer.json()["data"]["ai_explanation_status"])
        latencies.sort()
        p50, p99 = statistics.median(latencies), latencies[max(0, int(len(latencies) * 0.99) - 1)]
        rows.append(Row("submit while Groq takes 5 s (40)", f"p50 {p50:.2f} s, p99 {p99:.2f} s, status "
                        f"{'/'.join(sorted(statuses))}", "p99 < 3 s, unavailable", p99 < 3.0))
        # ("ok" answers there are pairs whose late Groq answer was kept by then: served from DynamoDB)
    finally:
        stack.stop()
        fake.stop()
    return rows


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--strict", action="store_true", help="exit 1 when a target is missed")
    args = parser.parse_args(argv)
    rows = run()
    print(f"{'case':<48} {'measured':<50} {'target':<26}")
    for row in rows:
        print(f"{row.what:<48} {row.measured:<50} {row.target:<22} {'OK' if row.ok else 'OVER'}")
    json.dumps([row.__dict__ for row in rows])
    return 1 if args.strict and not all(row.ok for row in rows) else 0


if __name__ == "__main__":
    raise SystemExit(main())
