"""Helpers shared by the tests: API Gateway events, a handler-backed client, account factories."""

from __future__ import annotations

import asyncio
import base64
import contextlib
import copy
import functools
import json
import os
import socket
import subprocess
import sys
import threading
import time
import uuid
from collections.abc import Callable, Iterator
from concurrent.futures import ThreadPoolExecutor
from functools import cache
from pathlib import Path
from typing import IO, Any, TypeVar
from urllib.parse import urlencode

EVENTS = Path(__file__).resolve().parent / "events"
PASSWORD = "Correct-horse-9"
T = TypeVar("T")


@cache
def _template(name: str) -> str:
    return (EVENTS / name).read_text()


def http_event(method: str, path: str, body: Any = None, headers: dict[str, str] | None = None,
               query: dict[str, str] | None = None, cookies: list[str] | None = None,
               source_ip: str = "203.0.113.10", raw_body: bytes | None = None) -> dict[str, Any]:
    """An API Gateway HTTP API (payload 2.0) event, from the one `sam local generate-event
    apigateway http-api-proxy` wrote to tests/events/http_api_proxy.json."""
    event = copy.deepcopy(json.loads(_template("http_api_proxy.json")))
    sent_headers = {"content-type": "application/json", "user-agent": "pytest"}
    sent_headers.update({k.lower(): v for k, v in (headers or {}).items()})
    payload = raw_body if raw_body is not None else (None if body is None else json.dumps(body).encode())
    event.update({
        "routeKey": f"{method} {path}",
        "rawPath": path,
        "rawQueryString": urlencode(query or {}),
        "headers": sent_headers,
        "queryStringParameters": query or None,
        "pathParameters": None,
        "stageVariables": None,
        "body": base64.b64encode(payload).decode() if payload is not None else None,
        "isBase64Encoded": payload is not None,
    })
    if cookies:
        event["cookies"] = cookies
    else:
        event.pop("cookies", None)
    context = event["requestContext"]
    context["http"].update({"method": method, "path": path, "sourceIp": source_ip, "userAgent": "pytest"})
    context["requestId"] = uuid.uuid4().hex
    context["routeKey"] = event["routeKey"]
    context.pop("authentication", None)
    context.pop("authorizer", None)
    return event


class LambdaContext:
    function_name = "test"
    function_version = "$LATEST"
    memory_limit_in_mb = 1024
    invoked_function_arn = "arn:aws:lambda:ap-south-1:123456789012:function:test"
    aws_request_id = "test-request"

    @staticmethod
    def get_remaining_time_in_millis() -> int:
        return 10_000


# --- invoking a handler as Lambda would: within its limits ---------------------------------------------

@cache
def _timeouts_by_folder() -> dict[str, float]:
    """Each function's Timeout (template.yaml) by its CodeUri folder, e.g. ``{"auth": 10.0, ...}``."""
    from infra import cfn
    from infra.router import function_timeouts

    template = cfn.load_template()
    timeouts = function_timeouts(template)
    return {Path(function.code_uri).name: timeouts[function.logical_id] for function in cfn.functions(template)}


def function_timeout(module: Any) -> float:
    """The template Timeout of the function whose handler module this is (Globals' for a test-made
    function that has no folder of its own)."""
    from infra import cfn
    from infra.router import LAMBDA_DEFAULT_TIMEOUT_SECONDS

    folder = Path(str(getattr(module, "__file__", "") or "")).parent.name
    timeouts = _timeouts_by_folder()
    if folder in timeouts:
        return timeouts[folder]
    globals_ = (cfn.load_template().get("Globals") or {}).get("Function") or {}
    return float(globals_.get("Timeout", LAMBDA_DEFAULT_TIMEOUT_SECONDS))


def _json_size(value: Any) -> int:
    return len(json.dumps(value, default=str).encode())


def invoke(handler: Any, event: Any, context: Any = None, *args: Any, timeout: float | None = None,
           name: str = "handler", **kwargs: Any) -> Any:
    """``handler(event, context)``, failing the test where Lambda would fail the invocation: an event
    over 6 MB (refused before the handler runs) or a response over 6 MB; and, when ``timeout`` is
    given, a run longer than it.

    The handler harness passes no timeout: how long a run takes on a loaded test machine (the
    concurrency tests queue 50 requests on a one-at-a-time emulator) says nothing of AWS, and tests
    never assert on wall-clock time. That every time budget of a request fits its function's Timeout,
    and the Timeout API Gateway's 30 s, is checked on the numbers (tests/integration/test_lambda_limits.py)."""
    import pytest

    from infra.router import LAMBDA_MAX_EVENT_BYTES, LAMBDA_MAX_RESPONSE_BYTES

    size = _json_size(event)
    if size > LAMBDA_MAX_EVENT_BYTES:
        pytest.fail(f"{name}: the event is {size} bytes of JSON; Lambda refuses invocations over "
                    f"{LAMBDA_MAX_EVENT_BYTES} bytes", pytrace=False)
    started = time.monotonic()
    result = handler(event, context if context is not None else LambdaContext(), *args, **kwargs)
    took = time.monotonic() - started
    if timeout is not None and took > timeout:
        pytest.fail(f"{name}: ran {took:.2f} s; Lambda stops it at its Timeout, {timeout:g} s (template.yaml)",
                    pytrace=False)
    size = _json_size(result)
    if size > LAMBDA_MAX_RESPONSE_BYTES:
        pytest.fail(f"{name}: the response is {size} bytes of JSON; Lambda fails responses over "
                    f"{LAMBDA_MAX_RESPONSE_BYTES} bytes", pytrace=False)
    return result


def enforce_lambda_limits(module: Any) -> Any:
    """Make ``module.handler`` fail the test where Lambda would fail the invocation (``invoke``);
    once per module (the module is shared by the session)."""
    handler = module.handler
    if getattr(handler, "_mindly_lambda_limits", False):
        return module
    name = f"{Path(str(getattr(module, '__file__', '') or '')).parent.name or 'function'} handler"

    @functools.wraps(handler)
    def limited(event: Any, context: Any = None, *args: Any, **kwargs: Any) -> Any:
        return invoke(handler, event, context, *args, name=name, **kwargs)

    limited._mindly_lambda_limits = True  # type: ignore[attr-defined]
    module.handler = limited
    return module


class Answer:
    """A Lambda proxy answer, decoded."""

    def __init__(self, raw: dict[str, Any]) -> None:
        self.raw = raw
        self.status = raw["statusCode"]
        self.headers = {k.lower(): v for k, v in raw.get("headers", {}).items()}
        self.cookies: list[str] = raw.get("cookies", [])
        body = raw.get("body") or ""
        if raw.get("isBase64Encoded"):
            body = base64.b64decode(body).decode()
        self.text = body
        self.json: Any = json.loads(body) if body else None

    @property
    def data(self) -> Any:
        return self.json["data"]

    def __repr__(self) -> str:
        return f"<Answer {self.status} {self.text[:300]}>"


class HandlerClient:
    """Calls a function's real Lambda ``handler`` (Mangum) with API Gateway events."""

    def __init__(self, module: Any, token: str | None = None, source_ip: str = "203.0.113.10") -> None:
        self.module = module
        self.token = token
        self.source_ip = source_ip

    def request(self, method: str, path: str, body: Any = None, headers: dict[str, str] | None = None,
                **kwargs: Any) -> Answer:
        sent = dict(headers or {})
        if self.token and "authorization" not in {k.lower() for k in sent}:
            sent["authorization"] = f"Bearer {self.token}"
        kwargs.setdefault("source_ip", self.source_ip)
        event = http_event(method, path, body, sent, **kwargs)
        handler = self.module.handler
        if getattr(handler, "_mindly_lambda_limits", False):
            return Answer(handler(event, LambdaContext()))
        return Answer(invoke(handler, event, LambdaContext()))

    def get(self, path: str, **kwargs: Any) -> Answer:
        return self.request("GET", path, **kwargs)

    def post(self, path: str, body: Any = None, **kwargs: Any) -> Answer:
        return self.request("POST", path, body, **kwargs)

    def put(self, path: str, body: Any = None, **kwargs: Any) -> Answer:
        return self.request("PUT", path, body, **kwargs)


def unique_email(tag: str = "student") -> str:
    return f"{tag}.{uuid.uuid4().hex[:12]}@example.com"


def register(auth_module: Any, email: str | None = None, password: str = PASSWORD,
             name: str = "Asha Verma") -> Answer:
    """Register through the auth handler; returns the answer (201 expected)."""
    client = HandlerClient(auth_module, source_ip=f"198.51.100.{uuid.uuid4().int % 250 + 1}")
    return client.post("/api/v1/auth/register", {"email": email or unique_email(), "password": password,
                                                 "name": name})


def free_port() -> int:
    """A TCP port free on 127.0.0.1 right now."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def admin_token(auth_module: Any, name: str = "Content Admin") -> str:
    """Register an account, make it an admin and log in again (the role is in the new token)."""
    from mindly.store import users

    answer = register(auth_module, name=name)
    user = users.get_user(answer.data["user"]["id"])
    assert user is not None
    users.set_role(user, "admin")
    login = HandlerClient(auth_module).post("/api/v1/auth/login", {"email": user.email, "password": PASSWORD})
    assert login.status == 200, login
    return str(login.data["access_token"])


def deliver_to_worker(sqs: Any, queue_url: str, worker: Any) -> dict[str, Any]:
    """What the SQS event source mapping does: receive what is on the queue, hand it to the worker's
    handler as one batch, delete what it processed and release its reported failures at once."""
    received = sqs.receive_message(QueueUrl=queue_url, MaxNumberOfMessages=10, AttributeNames=["All"],
                                   WaitTimeSeconds=0).get("Messages", [])
    if not received:
        return {"received": 0, "failed": set()}
    records = [{"messageId": m["MessageId"], "receiptHandle": m["ReceiptHandle"], "body": m["Body"],
                "attributes": m.get("Attributes", {}), "messageAttributes": {}, "md5OfBody": m["MD5OfBody"],
                "eventSource": "aws:sqs", "eventSourceARN": "arn:aws:sqs:ap-south-1:123456789012:q",
                "awsRegion": "ap-south-1"} for m in received]
    failed = {f["itemIdentifier"] for f in worker.handler({"Records": records}, LambdaContext())["batchItemFailures"]}
    for message in received:
        if message["MessageId"] in failed:
            sqs.change_message_visibility(QueueUrl=queue_url, ReceiptHandle=message["ReceiptHandle"],
                                          VisibilityTimeout=0)
        else:
            sqs.delete_message(QueueUrl=queue_url, ReceiptHandle=message["ReceiptHandle"])
    return {"received": len(received), "failed": failed}


def point_groq_at(settings: Any, monkeypatch: Any, url: str, *keys: str) -> None:
    """Give the live settings these Groq keys (GROQ_API_KEY_1, _2, ...) and a fake server's URL, and
    drop the cached client so the next call builds one with them. Call ``groq_client.cache_clear()``
    again after the test, so later tests do not keep this client."""
    from pydantic import SecretStr

    from mindly.llm import client as llm_client

    for number, key in enumerate(keys, start=1):
        monkeypatch.setattr(settings, f"groq_api_key_{number}", SecretStr(key))
    monkeypatch.setattr(settings, "groq_base_url", url)
    llm_client.groq_client.cache_clear()


def all_at_once(count: int, call: Callable[[int], T]) -> list[T]:
    """``call(i)`` for i in range(count) on ``count`` threads released together by a barrier, as
    concurrent Lambda containers would be; the results in order of i. Mangum drives the app on the
    thread's event loop, so each thread gets its own."""
    barrier = threading.Barrier(count)

    def worker(index: int) -> T:
        loop = asyncio.new_event_loop()
        asyncio.set_event_loop(loop)
        try:
            barrier.wait()
            return call(index)
        finally:
            asyncio.set_event_loop(None)
            loop.close()

    with ThreadPoolExecutor(max_workers=count) as pool:
        return list(pool.map(worker, range(count)))


def practice_item(student: HandlerClient, query: dict[str, str], question_id: str) -> dict[str, Any]:
    """A question's item in ``GET /questions/practice`` with these filters, following the cursors
    (other tests' or the real banks' questions may share its topic); fails when it is not listed."""
    cursor: str | None = None
    while True:
        page = student.get("/api/v1/questions/practice",
                           query={**query, "limit": "100", **({"cursor": cursor} if cursor else {})})
        assert page.status == 200, page
        found = [item for item in page.data["items"] if item["question_id"] == question_id]
        if found:
            return dict(found[0])
        cursor = page.data["next_cursor"]
        assert cursor is not None, f"{question_id} is not in practice {query}"


# --- the dev server as a developer starts it (e2e) ------------------------------------------------------

# A developer's terminal has none of the suite's emulator endpoints, rate limits or secrets: the
# dev server must start from nothing, as the README says.
DEV_SERVER_UNSET_PREFIXES = ("UPSTASH_", "AWS_ENDPOINT_URL", "USER_RATE", "LOGIN_RATE", "REGISTER_RATE",
                             "REFRESH_RATE")
DEV_SERVER_UNSET = ("JWT_SECRET", "ENVIRONMENT", "CORS_ORIGINS")
DEV_SERVER_START_SECONDS = 120


@contextlib.contextmanager
def dev_server(args: list[str], console: IO[str], unset: tuple[str, ...] = (),
               **env: str) -> Iterator[str]:
    """``python -m infra.dev_server --port <free port> *args`` from the repository root, its stderr
    written to ``console``; yields the base URL once /api/v1/health answers 200, and stops it after.
    ``unset`` names more variables to leave out of its environment; ``env`` adds some."""
    import httpx
    import pytest

    repo = Path(__file__).resolve().parents[1]
    port = free_port()
    environment = {k: v for k, v in os.environ.items()
                   if not k.startswith(DEV_SERVER_UNSET_PREFIXES) and k not in (*DEV_SERVER_UNSET, *unset)}
    environment.update({"BCRYPT_ROUNDS": "4", "PYTHONUNBUFFERED": "1", **env})
    process = subprocess.Popen([sys.executable, "-m", "infra.dev_server", "--port", str(port), *args],
                               cwd=repo, env=environment, stdout=subprocess.DEVNULL, stderr=console, text=True)
    base = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + DEV_SERVER_START_SECONDS
        while time.monotonic() < deadline:
            if process.poll() is not None:
                console.flush()
                console.seek(0)
                pytest.fail(f"dev server exited: {console.read()[-3000:]}")
            try:
                if httpx.get(f"{base}/api/v1/health", timeout=1).status_code == 200:
                    break
            except httpx.TransportError:
                time.sleep(0.2)
        else:
            pytest.fail(f"dev server did not become healthy in {DEV_SERVER_START_SECONDS} s")
        yield base
    finally:
        process.terminate()
        try:
            process.wait(timeout=15)
        except subprocess.TimeoutExpired:
            process.kill()
