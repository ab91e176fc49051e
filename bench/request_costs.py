"""DynamoDB calls and Redis round trips per request, for every endpoint.

Runs the local stack in this process (moto + the local Upstash endpoint, as the dev server does),
sends each request through the same router the dev server uses, and counts what it cost: pynamodb
dispatches (one per DynamoDB API call, a transaction counting once; the writes among them counted
apart too), upstash-redis HTTP requests (one per round trip, a pipeline counting once) and S3 API
calls (botocore requests to S3; presigning a URL makes none). A few
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
from functools import partial
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
    s3: int = 0

    def reset(self) -> None:
        self.dynamodb = self.writes = self.redis = self.s3 = 0

    # instrument() sends every call through these, so a subclass can measure more of each call
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

    def s3_call(self, client: Any, operation_name: str, api_params: dict[str, Any],
                make_api_call: Callable[..., Any]) -> Any:
        self.s3 += 1
        return make_api_call(client, operation_name, api_params)

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
    s3: int = 0


Check = Callable[[Counter], bool]


def instrument(counter: Counter) -> None:
    """Count at the lowest shared point of each client: no request can bypass it. pynamodb also
    sends its calls through botocore's ``_make_api_call``, so only the S3 client's are counted
    there (as S3 calls); ``generate_presigned_url`` signs locally and never reaches it."""
    from botocore.client import BaseClient
    from pynamodb.connection.base import Connection
    from upstash_redis.http import SyncHttpClient

    dispatch = Connection.dispatch
    execute = SyncHttpClient.execute
    make_api_call = getattr(BaseClient, "_make_api_call")  # noqa: B009  (botocore's stubs do not declare it)

    def counted_dispatch(self: Any, operation_name: str, operation_kwargs: dict[str, Any]) -> Any:
        return counter.dynamodb_call(self, operation_name, operation_kwargs, dispatch)

    def counted_execute(self: Any, *args: Any, **kwargs: Any) -> Any:
        return counter.redis_call(self, args, kwargs, execute)

    def counted_api_call(self: Any, operation_name: str, api_params: dict[str, Any]) -> Any:
        if self.meta.service_model.service_name == "s3":
            return counter.s3_call(self, operation_name, api_params, make_api_call)
        return make_api_call(self, operation_name, api_params)

    Connection.dispatch = counted_dispatch  # type: ignore[method-assign]
    SyncHttpClient.execute = counted_execute  # type: ignore[method-assign]
    setattr(BaseClient, "_make_api_call", counted_api_call)  # noqa: B010


def within(dynamodb: int = 99, redis: int = 99, writes: int = 99) -> Check:
    return lambda c: c.dynamodb <= dynamodb and c.redis <= redis and c.writes <= writes


def exactly(dynamodb: int, redis: int, writes: int | None = None, s3: int = 0) -> Check:
    """Exactly these counts (``writes`` checked only when given); no S3 call unless ``s3`` says."""
    return lambda c: (c.dynamodb == dynamodb and c.redis == redis and c.s3 == s3
                      and (writes is None or c.writes == writes))


def measure(rows: list[Row], counter: Counter, endpoint: str, call: Callable[[], Any],
            target: str = "", check: Check | None = None) -> Any:
    """Run ``call`` and add its costs as a row. An HTTP response shows its status; a direct service
    call shows ``-``."""
    counter.reset()
    result = call()
    ok = check(counter) if check else None
    status = getattr(result, "status_code", None)
    rows.append(Row(endpoint, "-" if status is None else str(status), counter.dynamodb, counter.writes,
                    counter.redis, target, ok, counter.detail(), s3=counter.s3))
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
                             lambda: client.post("/api/v1/auth/register", json=body),
                             "DynamoDB = 1 TransactWriteItems (account, email guard, session, the link's token) "
                             "+ 1 SES send", within(1, writes=1))
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
    adaptive_rows(rows, counter, client, auth)
    content_rows(rows, counter, client, auth)


def adaptive_rows(rows: list[Row], counter: Counter, client: Any, auth: dict[str, str]) -> None:
    """The next question and the practice list's filters, for the student who answered one sample
    GATE question above (the sample bank has one question a topic, most topics none)."""
    next_target = ("DynamoDB <= 8 (mindly.services.adaptive): 1 BatchGetItem (profile, mastery, roadmap) "
                   "+ 1 due Query + 1-4 Queries + 1 BatchGetItem (markers) [+ 1 passage], " + AUTH)
    measure(rows, counter, "GET /practice/next", lambda: client.get("/api/v1/practice/next", headers=auth),
            next_target, within(dynamodb=8, redis=1, writes=0))
    measure(rows, counter, "  topic= (never answered)", lambda: client.get(
        "/api/v1/practice/next", params={"exam": "GATE", "topic": "Hashing"}, headers=auth),
        "DynamoDB = 1 BatchGetItem + 1 due Query + 1 Query + 1 BatchGetItem, " + AUTH, exactly(4, 1, writes=0))
    api = "/api/v1/questions"
    query = {"exam": "GATE", "limit": 5}
    measure(rows, counter, "GET /questions/practice?unanswered=true", lambda: client.get(
        f"{api}/practice", params={**query, "unanswered": "true"}, headers=auth),
        "DynamoDB = 1 Query + 1 BatchGetItem (markers), " + AUTH, exactly(2, 1))
    shuffled = measure(rows, counter, "GET /questions/practice?order=shuffled", lambda: client.get(
        f"{api}/practice", params={**query, "order": "shuffled"}, headers=auth),
        "DynamoDB = 1 Query (2 on the page that wraps), " + AUTH, within(dynamodb=2, redis=1, writes=0))
    cursor = shuffled.json()["data"]["next_cursor"]
    measure(rows, counter, "  next page (cursor)", lambda: client.get(
        f"{api}/practice", params={**query, "order": "shuffled", "cursor": cursor}, headers=auth),
        "DynamoDB = 1 Query (2 on the page that wraps)", within(dynamodb=2, redis=1, writes=0))


# A batch of the question types the bench imports through the admin API: two CSAT passages of three
# questions each, a multi-correct and a numeric JEE question (LaTeX). The UPSC and JEE exams keep
# them off the GATE pages the rows above and bench.cost_model measure.
BENCH_SOURCE = "bench-request-costs"
PASSAGES = {
    "rc-1": "Monsoon forecasts in India rest on sea-surface temperatures of two oceans. A warm Pacific "
            "(El Nino) tends to weaken the rains, while a positive Indian Ocean Dipole can offset it.",
    "rc-2": "Cities that plant trees along streets lower midday pavement temperatures by several degrees, "
            "but the benefit depends on watering through the first three dry seasons.",
}


def content_batches() -> tuple[list[dict[str, Any]], list[dict[str, Any]]]:
    """The two import batches: with passages (and the multiple and numeric questions), and the
    question records that name media (their ``media_id`` filled in once uploaded)."""
    base = {"source": BENCH_SOURCE, "difficulty": "medium", "explanation": None}
    with_passages: list[dict[str, Any]] = []
    for passage_id, text in PASSAGES.items():
        for n in range(3):
            with_passages.append({
                **base, "external_id": f"{passage_id}-q{n}", "exam_type": "UPSC", "subject": "CSAT",
                "topic": "Reading Comprehension", "stem": f"Question {n + 1} on the passage: which inference holds?",
                "options": {"A": "only the first claim", "B": "only the second claim", "C": "both claims",
                            "D": "neither claim"}, "correct_option": "ABCD"[n],
                "passage": {"passage_id": passage_id, "text": text}})
    with_passages.append({
        **base, "external_id": "jee-multiple", "exam_type": "JEE", "subject": "Mathematics",
        "topic": "Quadratic Equations", "type": "multiple", "format": "latex",
        "stem": "For which $k$ does $x^2 - kx + 4 = 0$ have a real root?",
        "options": {"A": "$k = 4$", "B": "$k = -5$", "C": "$k = 1$", "D": "$k = 3$"}, "correct_options": ["A", "B"]})
    with_passages.append({
        **base, "external_id": "jee-numeric", "exam_type": "JEE", "subject": "Physics", "topic": "Kinematics",
        "type": "numeric", "format": "latex", "stem": "A ball falls from rest for $2\\,\\mathrm{s}$ "
        "($g = 9.8\\,\\mathrm{m\\,s^{-2}}$). Distance in metres?", "answer": {"value": 19.6, "tolerance": 0.05}})
    with_media = [
        {**base, "external_id": f"figure-{n}", "exam_type": "JEE", "subject": "Physics", "topic": "Optics",
         "stem": f"Which ray in the figure is refracted ({n})?",
         "options": {"A": "ray 1", "B": "ray 2", "C": "ray 3", "D": "ray 4"}, "correct_option": "B"}
        for n in range(3)]
    return with_passages, with_media


def admin_auth(client: Any) -> dict[str, str]:
    """Register an account, make it an administrator and log in again (the role is in the new token)."""
    from mindly.store import users

    body = {"email": f"bench.admin.{secrets.token_hex(4)}@example.com", "password": "Bench-password-1",
            "name": "Bench Admin"}
    registered = client.post("/api/v1/auth/register", json=body).json()["data"]
    account = users.get_user(registered["user"]["id"])
    assert account is not None
    users.set_role(account, "admin")
    login = client.post("/api/v1/auth/login", json={"email": body["email"], "password": body["password"]})
    return {"Authorization": f"Bearer {login.json()['data']['access_token']}"}


def upload(client: Any, admin: dict[str, str], data: bytes) -> Any:
    """POST /admin/media for a PNG of ``data``'s size (the answer is returned; the caller PUTs)."""
    return client.post("/api/v1/admin/media", json={"content_type": "image/png", "bytes": len(data)}, headers=admin)


def put_image(answer: Any, data: bytes) -> str:
    """PUT the image to the presigned URL (moto's S3 on 127.0.0.1); the media id it is stored under."""
    import httpx

    target = answer.json()["data"]
    httpx.put(target["upload_url"], content=data, headers={"Content-Type": "image/png"}).raise_for_status()
    return str(target["media_id"])


def content_rows(rows: list[Row], counter: Counter, client: Any, auth: dict[str, str]) -> None:
    """The routes of the question types: media uploads, imports with passages and with media, a
    practice page showing passages, and the submit of a multiple and of a numeric question."""
    from mindly.domain.content import content_id

    admin = admin_auth(client)
    image = b"\x89PNG\r\n\x1a\n" + secrets.token_bytes(64)
    first = measure(rows, counter, "POST /admin/media", lambda: upload(client, admin, image),
                    "DynamoDB = 1 (the admin's account), S3 = 0 (presigning is local), " + AUTH,
                    exactly(1, 1, writes=0))
    media_ids = [put_image(first, image), *(put_image(upload(client, admin, image), image) for _ in range(2))]
    with_passages, with_media = content_batches()
    imported = measure(
        rows, counter, f"POST /admin/questions/import ({len(with_passages)} q., {len(PASSAGES)} passages)",
        lambda: client.post("/api/v1/admin/questions/import", json=with_passages, headers=admin),
        "DynamoDB = 1 GetItem (admin) + 1 PutItem a passage + 1 a question, S3 = 0",
        exactly(1 + len(PASSAGES) + len(with_passages), 1, writes=len(PASSAGES) + len(with_passages)))
    assert imported.json()["data"]["imported"] == len(with_passages), imported.text[:300]
    # 4 media references over 3 questions (one names two images): one HeadObject each
    named = [[media_ids[0], media_ids[1]], [media_ids[0]], [media_ids[2]]]
    for record, ids in zip(with_media, named, strict=True):
        record["media"] = [{"media_id": media_id, "alt": "the ray diagram"} for media_id in ids]
    references = sum(len(ids) for ids in named)
    imported = measure(
        rows, counter, f"POST /admin/questions/import ({len(with_media)} q., {references} media)",
        lambda: client.post("/api/v1/admin/questions/import", json=with_media, headers=admin),
        "DynamoDB = 1 GetItem (admin) + 1 PutItem a question, S3 = 1 HeadObject a media reference",
        exactly(1 + len(with_media), 1, writes=len(with_media), s3=references))
    assert imported.json()["data"]["imported"] == len(with_media), imported.text[:300]

    api = "/api/v1/questions"
    query = {"exam": "UPSC", "subject": "CSAT", "topic": "Reading Comprehension", "limit": 10}
    page = measure(rows, counter, "GET /questions/practice (passages)",
                   lambda: client.get(f"{api}/practice", params=query, headers=auth),
                   "DynamoDB = 1 Query + 1 BatchGetItem (the page's passages), " + AUTH, exactly(2, 1))
    shown = {item["passage"]["text"] for item in page.json()["data"]["items"] if item["passage"]}
    assert shown == set(PASSAGES.values()), page.text[:300]
    for label, external_id, answer in (("multiple", "jee-multiple", {"selected_options": ["B", "A"]}),
                                       ("numeric", "jee-numeric", {"numeric_answer": 19.62})):
        body = {"question_id": content_id("question", BENCH_SOURCE, external_id), "confidence_rating": 4,
                "time_taken_seconds": 40, "attempt_id": secrets.token_hex(8), **answer}
        answered = measure(rows, counter, f"POST /questions/submit ({label})",
                           partial(client.post, f"{api}/submit", json=body, headers=auth),
                           "1 BatchGetItem + 1 TransactWriteItems; Redis: 1 mirror + 1 auth", exactly(2, 2, writes=1))
        assert answered.json()["data"]["is_correct"] is True, answered.text[:300]
    content_operation_rows(rows, counter, client, auth, admin)
    mock_test_rows(rows, counter, client, auth, admin)


def mock_test_rows(rows: list[Row], counter: Counter, client: Any, auth: dict[str, str],
                   admin: dict[str, str]) -> None:
    """A sectional CAT mock test (Quantitative Aptitude: 14 single-correct and 8 numeric questions)
    from a bank of twice that, imported first: assembly, a save, resuming, the submit and its repeat."""
    subject, topic = "Quantitative Aptitude", "Algebra"
    records = [{"source": BENCH_SOURCE, "external_id": f"cat-qa-{n}", "exam_type": "CAT", "subject": subject,
                "topic": topic, "difficulty": ("easy", "medium", "hard")[n % 3], "stem": f"x + {n} = {2 * n}; x?",
                "explanation": None,
                **({"type": "numeric", "answer": {"value": n, "tolerance": 0}} if n % 3 == 0 else
                   {"options": {"A": str(n), "B": str(n + 1), "C": str(n + 2), "D": str(n + 3)},
                    "correct_option": "A"})} for n in range(66)]
    assert client.post("/api/v1/admin/questions/import", json=records, headers=admin).json()["data"]["errors"] == []
    api = "/api/v1/mock-tests"
    measure(rows, counter, "GET /mock-tests/patterns", lambda: client.get(f"{api}/patterns"), "no I/O",
            exactly(0, 0))
    started = measure(rows, counter, "POST /mock-tests (CAT, QA only: 22 q.)", lambda: client.post(
        api, json={"pattern_id": "cat", "subjects": [subject]}, headers=auth),
        "DynamoDB = 1 Query (id) + 1 Query (seen) + 1 Query a subject + 1 TransactWriteItems, " + AUTH,
        exactly(4, 1, writes=1))
    paper = started.json()["data"]
    test_id = paper["mock_test_id"]
    first = paper["sections"][0]["questions"][0]
    answer = ({"numeric_answer": 1} if first["question"]["type"] == "numeric" else {"selected_option": "A"})
    measure(rows, counter, "PUT /mock-tests/{id}/answers/{n}", lambda: client.put(
        f"{api}/{test_id}/answers/{first['number']}", json={**answer, "time_spent_seconds": 40}, headers=auth),
        "DynamoDB = 1 Query (paper) + 1 TransactWriteItems (check + put), " + AUTH, exactly(2, 1, writes=1))
    measure(rows, counter, "GET /mock-tests/{id} (in progress)", lambda: client.get(f"{api}/{test_id}",
                                                                                      headers=auth),
            "DynamoDB = 1 Query + 1 BatchGetItem a 100 questions, " + AUTH, exactly(2, 1, writes=0))
    chunks = 2  # 22 questions, 15 a chunk
    measure(rows, counter, "POST /mock-tests/{id}/submit (22 q.)", lambda: client.post(
        f"{api}/{test_id}/submit", headers=auth),
        "DynamoDB = 3 Queries (paper) + 1 UpdateItem (close) + 1 BatchGetItem (questions) + 1 GetItem (profile) "
        "+ 1 BatchGetItem (markers) + 1 UpdateItem (plan) + per chunk of 15 q. 1 BatchGetItem (cards) + 1 "
        "TransactWriteItems + 1 BatchGetItem (markers) + the activity's 1 BatchGetItem + 1 TransactWriteItems "
        "(the BatchGetItems: one a 100 questions); Redis: 1 mirror + 1 auth",
        exactly(11 + 2 * chunks, 2, writes=3 + chunks))
    measure(rows, counter, "  submit again", lambda: client.post(f"{api}/{test_id}/submit", headers=auth),
            "DynamoDB = 1 Query (the finished paper), " + AUTH, exactly(1, 1, writes=0))
    measure(rows, counter, "GET /mock-tests/{id} (review)", lambda: client.get(f"{api}/{test_id}", headers=auth),
            "DynamoDB = 1 Query + 1 BatchGetItem a 100 questions, " + AUTH, exactly(2, 1, writes=0))
    measure(rows, counter, "GET /mock-tests", lambda: client.get(api, headers=auth), "DynamoDB = 1 Query, " + AUTH,
            exactly(1, 1))


def content_operation_rows(rows: list[Row], counter: Counter, client: Any, auth: dict[str, str],
                           admin: dict[str, str]) -> None:
    """The admin's content operations and a student's report, on the questions ``content_rows``
    imported (every admin route also reads the admin's account: 1 GetItem)."""
    from mindly.domain.content import content_id

    question_id = content_id("question", BENCH_SOURCE, "jee-numeric")
    filters = {"exam": "JEE", "subject": "Physics", "topic": "Kinematics", "limit": 5}
    listed = measure(rows, counter, "GET /admin/questions (5 a page)",
                     lambda: client.get("/api/v1/admin/questions", params=filters, headers=admin),
                     "DynamoDB = 1 GetItem (admin) + 1 Query + 1 BatchGetItem (16 statistics shards a question)",
                     exactly(3, 1, writes=0))
    record = next(item["record"] for item in listed.json()["data"]["items"] if item["question_id"] == question_id)
    record["stem"] += " (edited)"
    measure(rows, counter, "PUT /admin/questions/{id} (a new version)",
            lambda: client.put(f"/api/v1/admin/questions/{question_id}", json=record, headers=admin),
            "DynamoDB = 1 GetItem (admin) + 1 GetItem + 1 conditional PutItem + 1 BatchGetItem (its statistics)",
            exactly(4, 1, writes=1))
    for action in ("retire", "restore"):
        measure(rows, counter, f"POST /admin/questions/{{id}}/{action}",
                partial(client.post, f"/api/v1/admin/questions/{question_id}/{action}", headers=admin),
                "DynamoDB = 1 GetItem (admin) + 1 GetItem + 1 UpdateItem + 1 BatchGetItem (its statistics)",
                exactly(4, 1, writes=1))
    reported = measure(rows, counter, "POST /questions/{id}/reports",
                       lambda: client.post(f"/api/v1/questions/{question_id}/reports", json={"reason": "unclear"},
                                           headers=auth),
                       "1 BatchGetItem + 1 TransactWriteItems (report, guard, open count), " + AUTH,
                       exactly(2, 1, writes=1))
    measure(rows, counter, "POST /questions/{id}/reports (repeat)",
            lambda: client.post(f"/api/v1/questions/{question_id}/reports", json={"reason": "unclear"}, headers=auth),
            "1 BatchGetItem (the open report answers), " + AUTH, exactly(1, 1, writes=0))
    measure(rows, counter, "GET /admin/reports",
            lambda: client.get("/api/v1/admin/reports", params={"status": "open"}, headers=admin),
            "DynamoDB = 1 GetItem (admin) + 1 Query", exactly(2, 1, writes=0))
    report_id = reported.json()["data"]["report_id"]
    measure(rows, counter, "POST /admin/reports/{id}/resolve",
            lambda: client.post(f"/api/v1/admin/reports/{report_id}/resolve", json={"action": "fixed"}, headers=admin),
            "DynamoDB = 1 GetItem (admin) + 1 GetItem + 1 TransactWriteItems", exactly(3, 1, writes=1))


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
    measure(rows, counter, "GET /analytics/mastery", lambda: client.get(f"{api}/mastery", params={"exam": "GATE"},
                                                                         headers=auth),
            "DynamoDB = 1 BatchGetItem (the exam's mastery item), " + AUTH, exactly(1, 1))
    measure(rows, counter, "  exam from profile", lambda: client.get(f"{api}/mastery", headers=auth),
            "DynamoDB = 1 BatchGetItem (profile + every exam's item), " + AUTH, exactly(1, 1))
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
    print_rows(rows)
    return 1 if args.strict and any(row.ok is False for row in rows) else 0


def print_rows(rows: list[Row]) -> None:
    """The table: one line a row, its counts, its target and OK or OVER when checked."""
    width = max(len(row.endpoint) for row in rows)
    print(f"{'endpoint':<{width}} {'status':>6} {'DynamoDB calls':>15} {'writes':>7} {'Redis round trips':>18} "
          f"{'S3 calls':>9}  target")
    for row in rows:
        verdict = "" if row.ok is None else ("OK" if row.ok else "OVER")
        print(f"{row.endpoint:<{width}} {row.status:>6} {row.dynamodb:>15} {row.writes:>7} {row.redis:>18} "
              f"{row.s3:>9}  {row.target} {verdict}".rstrip())


if __name__ == "__main__":
    raise SystemExit(main())
