"""Every answer at the edge is ours (issue 15, points 2, 3 and 8): the real functions behind the
local router, and the local stack over HTTP as the dev server serves it (infra.dev_server.server_config).

- a request no route takes reaches the $default route (the auth function) and is a 404, or a 405
  with Allow, in the envelope with the security headers, locally and through the Lambda handler;
- a request head over API Gateway's quota is a 431 in the envelope, not uvicorn's bare 400 or a reset;
- the client's address is the socket peer: X-Forwarded-For opens no fresh rate-limit bucket;
- every 503 says when to retry (Retry-After), the submit's "too many simultaneous updates" too.
"""

from __future__ import annotations

import socket
import threading
import time
import uuid
from collections.abc import Iterator
from typing import Any

import httpx
import pytest
import uvicorn
from starlette.testclient import TestClient
from support import PASSWORD, Answer, HandlerClient, LambdaContext, admin_token, http_event, register, unique_email

from infra import cfn
from infra.dev_server import SERVER_MAX_HEAD_BYTES, bind_port, server_config
from infra.functions import load_function
from infra.router import GatewayRouter, function_timeouts
from mindly.http.middleware import SECURITY_HEADERS

API = "/api/v1"


def _router() -> GatewayRouter:
    template = cfn.load_template()
    routes = [(route, load_function(route.code_uri, route.handler).app) for route in cfn.http_routes(template)]
    return GatewayRouter(routes, function_timeouts(template))


@pytest.fixture(scope="module")
def gateway() -> TestClient:
    """The real functions behind the router, as the dev server runs them."""
    return TestClient(_router())


@pytest.fixture(scope="module")
def stack_url() -> Iterator[str]:
    """The router served over HTTP on 127.0.0.1 by uvicorn, configured as the dev server configures it."""
    sock = bind_port("127.0.0.1", 0)
    server = uvicorn.Server(server_config(_router(), "127.0.0.1", int(sock.getsockname()[1])))
    thread = threading.Thread(target=server.run, kwargs={"sockets": [sock]}, daemon=True)
    thread.start()
    deadline = time.monotonic() + 30
    while not server.started:
        assert time.monotonic() < deadline and thread.is_alive(), "the local server did not start"
        time.sleep(0.05)
    try:
        yield f"http://127.0.0.1:{sock.getsockname()[1]}"
    finally:
        server.should_exit = True
        thread.join(timeout=10)
        sock.close()


def _is_ours(answer: Any, status: int, code: str) -> dict[str, Any]:
    """The answer is ``status`` in the envelope with ``code``, with the platform's headers."""
    assert answer.status_code == status, answer.text[:300]
    body: dict[str, Any] = answer.json()
    assert (body["success"], body["data"]) == (False, None) and body["errors"][0]["code"] == code, body
    for name, value in SECURITY_HEADERS.items():
        assert answer.headers.get(name) == value, (name, dict(answer.headers))
    assert answer.headers["x-request-id"]
    return body


# --- unknown paths and methods --------------------------------------------------------------------------

@pytest.mark.parametrize(("method", "path"), [
    ("GET", f"{API}/no-such-route"),
    ("GET", "/"),
    ("POST", "/wp-login.php"),
    ("GET", f"{API}/syllabus/GATE/extra"),
    # The auth function's own documents and routes are not served through $default
    ("GET", f"{API}/openapi/auth.json"),
    ("GET", f"{API}/health/"),
])
def test_an_unknown_path_is_a_404_in_the_envelope_with_the_security_headers(gateway: TestClient, method: str,
                                                                           path: str) -> None:
    # When a client asks for a path no route serves
    answer = gateway.request(method, path)
    # Then the API itself answers 404 in its envelope, with the security headers
    _is_ours(answer, 404, "NOT_FOUND")


@pytest.mark.parametrize(("method", "path", "allow"), [
    ("DELETE", f"{API}/profile", "GET, PUT"),
    ("POST", f"{API}/syllabus/GATE", "GET"),
    ("PUT", f"{API}/flashcards/review", "POST"),
    ("PATCH", f"{API}/leaderboard/weekly", "GET"),
    ("HEAD", f"{API}/profile", "GET, PUT"),
])
def test_an_unknown_method_on_a_known_path_is_a_405_with_allow(gateway: TestClient, method: str, path: str,
                                                               allow: str) -> None:
    # When a client uses a method the path does not serve (outside /auth, where it used to be 404)
    answer = gateway.request(method, path)
    # Then it is a 405 naming the methods that path serves
    assert answer.status_code == 405, answer.text[:300]
    assert answer.headers["allow"] == allow
    if method != "HEAD":
        _is_ours(answer, 405, "METHOD_NOT_ALLOWED")


def test_an_unknown_method_under_auth_is_still_a_405_with_allow(gateway: TestClient) -> None:
    answer = gateway.delete(f"{API}/auth/me")
    _is_ours(answer, 405, "METHOD_NOT_ALLOWED")
    assert "GET" in answer.headers["allow"]


def _by_default_route(handler_module: Any, method: str, path: str) -> Answer:
    """What the auth Lambda answers to an event API Gateway sent through the $default route."""
    event = http_event(method, path)
    event["routeKey"] = event["requestContext"]["routeKey"] = "$default"
    return Answer(handler_module.handler(event, LambdaContext()))


@pytest.mark.parametrize(("method", "path", "status", "code", "allow"), [
    ("DELETE", f"{API}/profile", 405, "METHOD_NOT_ALLOWED", "GET, PUT"),
    ("GET", f"{API}/roadmaps/jobs/abc/extra", 404, "NOT_FOUND", None),
    ("GET", f"{API}/openapi/auth.json", 404, "NOT_FOUND", None),
    ("POST", f"{API}/health", 405, "METHOD_NOT_ALLOWED", "GET"),
])
def test_in_aws_the_default_route_answers_in_the_envelope(auth_fn: Any, method: str, path: str, status: int,
                                                         code: str, allow: str | None) -> None:
    # Given the event API Gateway sends the $default route (template.yaml: AuthFunction's Unrouted)
    # When the auth function's Lambda handler gets it
    answer = _by_default_route(auth_fn, method, path)
    # Then it answers as the API, whatever the auth app itself serves at that path
    assert answer.status == status, answer
    assert answer.json["success"] is False and answer.json["errors"][0]["code"] == code
    assert answer.headers.get("allow") == allow
    for name, value in SECURITY_HEADERS.items():
        assert answer.headers.get(name) == value, name
    # And the $default route is an HttpApi event of the auth function in the template
    routes = {(route.function_logical_id, route.key) for route in cfn.http_routes(cfn.load_template())}
    assert ("AuthFunction", "$default") in routes


def test_unknown_paths_and_methods_over_http_are_ours(stack_url: str) -> None:
    _is_ours(httpx.get(f"{stack_url}{API}/no-such-route"), 404, "NOT_FOUND")
    wrong = httpx.delete(f"{stack_url}{API}/profile")
    _is_ours(wrong, 405, "METHOD_NOT_ALLOWED")
    assert wrong.headers["allow"] == "GET, PUT"


# --- oversized request heads ------------------------------------------------------------------------------

@pytest.mark.parametrize("header", ["X-Big", "Cookie"])
def test_a_300_kb_header_is_a_431_in_the_envelope(stack_url: str, header: str) -> None:
    # When a client sends a 300 KB header (a stuffed Cookie, a junk X-Big)
    answer = httpx.get(f"{stack_url}{API}/health", headers={header: "a" * 300_000}, timeout=30)
    # Then the local stack answers 431 as API Gateway's quota would, in the envelope with the headers
    body = _is_ours(answer, 431, "VALIDATION_ERROR")
    assert body["message"] == "Request Header Fields Too Large"
    # And the server is still there for the next request
    assert httpx.get(f"{stack_url}{API}/health").status_code == 200


def _raw_exchange(url: str, request: bytes) -> bytes:
    host, port = url.removeprefix("http://").split(":")
    with socket.create_connection((host, int(port)), timeout=30) as conn:
        conn.sendall(request)  # all of it: a server that closed early would reset the connection here
        received = b""
        while chunk := conn.recv(65536):
            received += chunk
    return received


def test_a_head_larger_than_the_server_reads_is_still_a_431_in_the_envelope(stack_url: str) -> None:
    # When a head outgrows what the server buffers at all (so the router never sees the request), by
    # far: the client is still sending when the server has refused it
    head = b"GET /api/v1/health HTTP/1.1\r\nHost: x\r\nX-Big: " + b"a" * (3 * SERVER_MAX_HEAD_BYTES) + b"\r\n\r\n"
    received = _raw_exchange(stack_url, head)
    # Then the server itself answers 431 in the envelope with the security headers, and closes
    # without resetting the connection (the client reads the whole answer)
    status_line, _, rest = received.partition(b"\r\n")
    assert status_line == b"HTTP/1.1 431 Request Header Fields Too Large", received[:300]
    headers, _, body = rest.partition(b"\r\n\r\n")
    lowered = headers.lower()
    assert b"content-type: application/json" in lowered and b"x-content-type-options: nosniff" in lowered
    assert b'"code": "VALIDATION_ERROR"' in body and b'"success": false' in body


def test_a_malformed_request_is_a_400_in_the_envelope(stack_url: str) -> None:
    received = _raw_exchange(stack_url, b"GET /api/v1/health HTTP/1.1\r\nHost: x\r\nno colon here\r\n\r\n")
    status_line, _, rest = received.partition(b"\r\n")
    assert status_line == b"HTTP/1.1 400 Bad Request", received[:300]
    assert b"x-frame-options: DENY" in rest and b'"message": "Malformed request"' in rest


# --- the client's address ---------------------------------------------------------------------------------

def test_x_forwarded_for_does_not_open_a_fresh_register_bucket(stack_url: str, settings: Any,
                                                               monkeypatch: pytest.MonkeyPatch) -> None:
    # Given a register limit of 2 a minute per client
    monkeypatch.setattr(settings, "register_rate_limit_per_minute", 2)

    def sign_up(headers: dict[str, str] | None = None) -> httpx.Response:
        return httpx.post(f"{stack_url}{API}/auth/register", headers=headers, timeout=30,
                          json={"email": unique_email("edge"), "password": PASSWORD, "name": "Meera Iyer"})

    # When this client has used it up
    assert [sign_up().status_code for _ in range(2)] == [201, 201]
    # Then claiming another address in X-Forwarded-For (or X-Real-IP, Forwarded) does not reset it
    for spoof in ({"X-Forwarded-For": "203.0.113.77"}, {"X-Forwarded-For": "198.51.100.9, 127.0.0.1"},
                  {"X-Real-IP": "203.0.113.78"}, {"Forwarded": "for=203.0.113.79"}):
        answer = sign_up(spoof)
        _is_ours(answer, 429, "RATE_LIMIT_EXCEEDED")
        assert int(answer.headers["retry-after"]) >= 1


def test_x_forwarded_for_does_not_open_a_fresh_login_bucket(stack_url: str, auth_fn: Any, settings: Any,
                                                            monkeypatch: pytest.MonkeyPatch) -> None:
    # Given an account, and login limits of 2 a minute (per client, and per client and account)
    email = unique_email("edge-login")
    assert register(auth_fn, email=email).status == 201
    for name in ("login_rate_limit_per_minute", "login_ip_rate_limit_per_minute"):
        if hasattr(settings, name):
            monkeypatch.setattr(settings, name, 2)

    def log_in(headers: dict[str, str] | None = None) -> httpx.Response:
        return httpx.post(f"{stack_url}{API}/auth/login", headers=headers, timeout=30,
                          json={"email": email, "password": PASSWORD})

    # When this client has used them up
    assert [log_in().status_code for _ in range(2)] == [200, 200]
    # Then a spoofed X-Forwarded-For is still this client, and still limited
    answer = log_in({"X-Forwarded-For": f"203.0.113.{uuid.uuid4().int % 250 + 1}"})
    _is_ours(answer, 429, "RATE_LIMIT_EXCEEDED")
    assert int(answer.headers["retry-after"]) >= 1


# --- Retry-After on every 503 -----------------------------------------------------------------------------

def test_the_submits_too_many_simultaneous_updates_503_says_when_to_retry(auth_fn: Any, admin_fn: Any,
                                                                         questions_fn: Any,
                                                                         monkeypatch: pytest.MonkeyPatch) -> None:
    from mindly.services import progress as progress_service
    from mindly.store import progress as progress_store
    from mindly.store.errors import StaleWrite

    # Given a question of this module's own (GATE Compiler Design, Runtime Environments)
    source = f"edge-{uuid.uuid4().hex[:8]}"
    record = {"source": source, "external_id": "q1", "exam_type": "GATE", "subject": "Compiler Design",
              "topic": "Runtime Environments", "difficulty": "easy", "stem": f"Edge question {source}?",
              "options": {"A": "an activation record", "B": "a token", "C": "a parse tree", "D": "a DFA"},
              "correct_option": "A", "explanation": "Each call gets its own frame."}
    admin = HandlerClient(admin_fn, token=admin_token(auth_fn))
    assert admin.post(f"{API}/admin/questions/import", [record]).status == 200
    student = HandlerClient(questions_fn, token=register(auth_fn).data["access_token"])
    page = student.get(f"{API}/questions/practice", query={"exam": "GATE", "subject": "Compiler Design",
                                                            "topic": "Runtime Environments", "limit": "100"})
    assert page.status == 200, page
    question_id = next(q["question_id"] for q in page.data["items"] if q["stem"] == record["stem"])

    # And every commit of the answer's activity losing to another writer, without end
    def always_stale(write: Any) -> None:
        raise StaleWrite("another update of this student came first")

    monkeypatch.setattr(progress_store, "commit_activity", always_stale)
    monkeypatch.setattr(progress_service, "MAX_ATTEMPTS", 3)
    monkeypatch.setattr(progress_service, "back_off", lambda attempt: None)
    # When the student submits an answer
    answer = student.post(f"{API}/questions/submit", {"question_id": question_id, "selected_option": "A",
                                                     "confidence_rating": 4, "time_taken_seconds": 20})
    # Then it is a 503 that says when to try again
    assert answer.status == 503, answer
    assert answer.json["errors"][0]["code"] == "SERVICE_UNAVAILABLE"
    assert answer.json["message"] == "Too many simultaneous updates; try again"
    assert int(answer.headers["retry-after"]) >= 1
