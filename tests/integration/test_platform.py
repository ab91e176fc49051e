"""The HTTP platform every function shares (mindly.http): envelope, request id, security headers,
CORS, body cap, unhandled errors, request logs, rate limits, Redis outages and health.

Exercised through the auth and profile functions' real Lambda handlers.
"""

from __future__ import annotations

import json
import sys
import types
import uuid
from collections.abc import Callable
from typing import Any

import pytest
from mangum import Mangum
from support import PASSWORD, Answer, HandlerClient, LambdaContext, http_event, register, unique_email

API = "/api/v1"
ENVELOPE_KEYS = {"success", "data", "message", "errors"}
ALLOWED_ORIGIN = "https://app.mindly.test"
EVIL_ORIGIN = "https://evil.example"


def _ip() -> str:
    return f"192.0.2.{uuid.uuid4().int % 250 + 1}"


def _invoke(module: Any, event: dict[str, Any]) -> Answer:
    return Answer(module.handler(event, LambdaContext()))


def _account(auth_fn: Any) -> tuple[str, dict[str, Any]]:
    email = unique_email("platform")
    answer = register(auth_fn, email=email)
    assert answer.status == 201, answer
    return email, answer.data


@pytest.fixture
def boom_fn() -> Any:
    """A function whose routes raise unexpected exceptions, built on the same platform."""
    from mindly.http.app import create_app

    app = create_app("boom")

    @app.get(f"{API}/boom")
    def boom() -> None:
        raise RuntimeError("secret detail")

    @app.get(f"{API}/boom-async")
    async def boom_async() -> None:
        raise KeyError("another secret detail")

    return types.SimpleNamespace(handler=Mangum(app, lifespan="off"))


class _CurrentStdout:
    def write(self, text: str) -> int:
        return sys.stdout.write(text)

    def flush(self) -> None:
        sys.stdout.flush()


@pytest.fixture
def log_lines(capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch) -> Callable[[], list[dict]]:
    """The JSON log lines Powertools writes to stdout during the test.

    The Logger's handler keeps the stdout it found when ``mindly`` was first imported, so for the
    duration of the test it writes to whatever ``sys.stdout`` is at the time, which during the test
    is the one ``capsys`` captures.
    """
    from mindly.observability import logger

    monkeypatch.setattr(logger.registered_handler, "stream", _CurrentStdout())

    def read() -> list[dict]:
        lines = []
        for line in capsys.readouterr().out.splitlines():
            if line.startswith("{"):
                lines.append(json.loads(line))
        return lines

    return read


def _request_lines(lines: list[dict]) -> list[dict]:
    return [line for line in lines if line.get("message") == "request"]


# --- envelope and request id ---------------------------------------------------------------------

def _assert_platform_answer(answer: Answer, status: int) -> None:
    assert answer.status == status, answer
    assert set(answer.json) == ENVELOPE_KEYS, answer
    assert answer.json["success"] is (status < 400)
    assert isinstance(answer.json["errors"], list)
    assert isinstance(answer.json["message"], str)
    if status >= 400:
        assert answer.json["data"] is None or status == 503
        assert answer.json["errors"], answer
        assert all(set(e) == {"code", "field", "message"} for e in answer.json["errors"])
    assert answer.headers.get("x-request-id"), answer.headers
    if status in (423, 429, 503):  # each says when to come back
        assert int(answer.headers["retry-after"]) >= 1, answer.headers


def test_every_kind_of_answer_has_the_envelope_and_a_request_id(auth_fn: Any, profile_fn: Any) -> None:
    # Given a student
    email, account = _account(auth_fn)
    auth = HandlerClient(auth_fn, source_ip=_ip())
    signed_in = HandlerClient(profile_fn, token=account["access_token"], source_ip=_ip())
    cases = [
        (201, lambda: auth.post(f"{API}/auth/register", {"email": unique_email(), "password": PASSWORD,
                                                          "name": "Meera"})),
        (200, lambda: auth.post(f"{API}/auth/login", {"email": email, "password": PASSWORD})),
        (200, lambda: HandlerClient(profile_fn).get(f"{API}/syllabus/JEE")),
        (401, lambda: HandlerClient(profile_fn).get(f"{API}/profile")),
        (404, lambda: signed_in.get(f"{API}/profile")),
        (404, lambda: auth.get(f"{API}/no/such/path")),
        (404, lambda: HandlerClient(profile_fn).get(f"{API}/nothing-here")),
        (405, lambda: auth.get(f"{API}/auth/login")),
        (405, lambda: signed_in.request("DELETE", f"{API}/profile")),
        (422, lambda: auth.post(f"{API}/auth/register", {"email": "bad"})),
        (422, lambda: signed_in.put(f"{API}/profile", {"exam_type": "GATE"})),
        (400, lambda: auth.request("POST", f"{API}/auth/login", raw_body=b"{oops")),
        (501, lambda: auth.get(f"{API}/auth/google")),
    ]
    # When each is called
    for status, call in cases:
        # Then each answer is the envelope with a request id
        _assert_platform_answer(call(), status)


def test_a_valid_supplied_request_id_is_echoed(auth_fn: Any) -> None:
    # Given a client that sends its own request id
    supplied = "client-req_0123.abc"
    # When it calls (a success and a failure)
    ok = HandlerClient(auth_fn).get(f"{API}/health", headers={"X-Request-Id": supplied})
    failed = HandlerClient(auth_fn).get(f"{API}/auth/me", headers={"X-Request-Id": supplied})
    # Then that id comes back
    assert ok.headers["x-request-id"] == supplied
    assert failed.headers["x-request-id"] == supplied


@pytest.mark.parametrize("supplied", [None, "short", "has spaces in it", "x" * 65, "inject\r\nheader"])
def test_without_a_valid_request_id_the_gateway_request_id_is_used(auth_fn: Any, supplied: str | None) -> None:
    # Given an event whose request id header is absent or not acceptable
    headers = {} if supplied is None else {"x-request-id": supplied}
    event = http_event("GET", f"{API}/auth/me", headers=headers, source_ip=_ip())
    # When it is handled
    answer = _invoke(auth_fn, event)
    # Then API Gateway's requestContext.requestId is the request id
    assert answer.headers["x-request-id"] == event["requestContext"]["requestId"]


def test_an_unhandled_exception_is_a_generic_500_envelope(boom_fn: Any, log_lines: Callable) -> None:
    # Given routes that raise unexpected exceptions
    for path in (f"{API}/boom", f"{API}/boom-async"):
        # When they are called
        event = http_event("GET", path)
        answer = _invoke(boom_fn, event)
        # Then the client gets a 500 envelope with a generic message and nothing of the exception
        _assert_platform_answer(answer, 500)
        assert answer.json["message"] == "Internal server error"
        assert answer.json["errors"][0]["code"] == "INTERNAL_ERROR"
        for leak in ("secret detail", "Traceback", "RuntimeError", "KeyError", "app.py", 'File "'):
            assert leak not in answer.text
        # And the platform headers are still there
        assert answer.headers["x-request-id"] == event["requestContext"]["requestId"]
        assert answer.headers["x-content-type-options"] == "nosniff"
    # And each failure is logged with status 500
    statuses = [line["status"] for line in _request_lines(log_lines())]
    assert statuses == [500, 500]


# --- security headers, CORS ----------------------------------------------------------------------

@pytest.mark.parametrize("path", [f"{API}/health", f"{API}/auth/me", f"{API}/nowhere"])
def test_security_headers_are_on_every_answer(auth_fn: Any, path: str) -> None:
    # Given / When any route is called (success, 401 or 404)
    answer = HandlerClient(auth_fn).get(path)
    # Then the security headers are present
    headers = answer.headers
    assert headers["strict-transport-security"].startswith("max-age=")
    assert int(headers["strict-transport-security"].split("=")[1].split(";")[0]) >= 31536000
    assert headers["x-content-type-options"] == "nosniff"
    assert headers["x-frame-options"] == "DENY"
    assert headers["referrer-policy"]
    assert "default-src 'none'" in headers["content-security-policy"]


def test_an_allowed_origin_gets_cors_headers(auth_fn: Any) -> None:
    # Given a request from the web app's origin (success and failure)
    for path in (f"{API}/health", f"{API}/auth/me"):
        # When it is handled
        answer = HandlerClient(auth_fn).get(path, headers={"Origin": ALLOWED_ORIGIN})
        # Then that origin is allowed, with credentials
        assert answer.headers.get("access-control-allow-origin") == ALLOWED_ORIGIN
        assert answer.headers.get("access-control-allow-credentials") == "true"
        assert "origin" in answer.headers.get("vary", "").lower()


def test_a_foreign_origin_gets_no_cors_headers(auth_fn: Any) -> None:
    # Given / When a request comes from another site
    answer = HandlerClient(auth_fn).get(f"{API}/health", headers={"Origin": EVIL_ORIGIN})
    # Then no CORS permission is granted
    assert "access-control-allow-origin" not in answer.headers
    assert "access-control-allow-credentials" not in answer.headers


def test_preflight_from_an_allowed_origin_is_204_with_the_allowed_methods(auth_fn: Any) -> None:
    # Given / When the browser sends a preflight from the web app
    answer = HandlerClient(auth_fn).request("OPTIONS", f"{API}/auth/login", headers={
        "Origin": ALLOWED_ORIGIN,
        "Access-Control-Request-Method": "POST",
        "Access-Control-Request-Headers": "content-type, authorization",
    })
    # Then it is allowed
    assert answer.status == 204, answer
    assert "POST" in answer.headers["access-control-allow-methods"]
    assert "authorization" in answer.headers["access-control-allow-headers"].lower()
    assert answer.headers["access-control-allow-origin"] == ALLOWED_ORIGIN
    assert answer.headers.get("x-request-id")


def test_preflight_from_a_foreign_origin_is_403_envelope(auth_fn: Any) -> None:
    # Given / When another site sends a preflight
    answer = HandlerClient(auth_fn).request("OPTIONS", f"{API}/auth/login", headers={
        "Origin": EVIL_ORIGIN,
        "Access-Control-Request-Method": "POST",
    })
    # Then it is refused in the envelope and grants nothing
    _assert_platform_answer(answer, 403)
    assert answer.json["errors"][0]["code"] == "AUTHORIZATION_ERROR"
    assert "access-control-allow-origin" not in answer.headers
    assert "access-control-allow-methods" not in answer.headers


# --- body cap ------------------------------------------------------------------------------------

def _big_body() -> bytes:
    return json.dumps({"email": unique_email(), "password": PASSWORD,
                       "name": "x" * (1024 * 1024 + 100)}).encode()


def test_a_body_over_1mb_with_its_content_length_is_413(auth_fn: Any) -> None:
    # Given a body over 1 MB whose Content-Length says so (as API Gateway forwards it)
    body = _big_body()
    # When it is sent
    answer = HandlerClient(auth_fn, source_ip=_ip()).request(
        "POST", f"{API}/auth/register", raw_body=body, headers={"content-length": str(len(body))})
    # Then it is a 413 envelope, not a 500
    _assert_platform_answer(answer, 413)


def test_a_body_over_1mb_without_content_length_is_413(auth_fn: Any) -> None:
    # Given a body over 1 MB and no Content-Length header
    body = _big_body()
    # When it is sent
    answer = HandlerClient(auth_fn, source_ip=_ip()).request("POST", f"{API}/auth/register", raw_body=body)
    # Then the streaming guard refuses it with the same 413 envelope
    _assert_platform_answer(answer, 413)


def test_a_body_under_a_false_small_content_length_is_still_capped(auth_fn: Any) -> None:
    # Given a body over 1 MB whose Content-Length claims it is small
    body = _big_body()
    # When it is sent
    answer = HandlerClient(auth_fn, source_ip=_ip()).request(
        "POST", f"{API}/auth/register", raw_body=body, headers={"content-length": "10"})
    # Then it is refused with 413, never accepted or a 500
    _assert_platform_answer(answer, 413)


def test_a_body_of_exactly_1mb_is_read_and_validated(auth_fn: Any) -> None:
    # Given a body of exactly 1 MB (the cap is "over 1 MB")
    empty = json.dumps({"email": unique_email(), "password": PASSWORD, "name": ""}).encode()
    body = empty.replace(b'"name": ""', b'"name": "' + b"x" * (1024 * 1024 - len(empty)) + b'"')
    assert len(body) == 1024 * 1024
    # When it is sent
    answer = HandlerClient(auth_fn, source_ip=_ip()).request("POST", f"{API}/auth/register", raw_body=body)
    # Then it reaches validation (the name is far too long) instead of being refused for its size
    _assert_platform_answer(answer, 422)
    assert answer.json["errors"][0]["field"] == "name"


# --- logs ----------------------------------------------------------------------------------------

def test_one_structured_log_line_per_request(auth_fn: Any, profile_fn: Any, log_lines: Callable) -> None:
    # Given a student (registration logs are discarded)
    _, account = _account(auth_fn)
    log_lines()
    # When they make an authenticated request and an anonymous one
    event = http_event("GET", f"{API}/auth/me", headers={"authorization": f"Bearer {account['access_token']}"})
    assert _invoke(auth_fn, event).status == 200
    anonymous = http_event("GET", f"{API}/profile")
    assert _invoke(profile_fn, anonymous).status == 401
    # Then each request wrote exactly one line with method, path, status, duration, user and request id
    lines = _request_lines(log_lines())
    assert len(lines) == 2, lines
    authenticated, unauthenticated = lines
    assert authenticated["method"] == "GET"
    assert authenticated["path"] == f"{API}/auth/me"
    assert authenticated["status"] == 200
    assert isinstance(authenticated["duration_ms"], int | float) and authenticated["duration_ms"] >= 0
    assert authenticated["user_id"] == account["user"]["id"]
    assert authenticated["request_id"] == event["requestContext"]["requestId"]
    assert unauthenticated["path"] == f"{API}/profile"
    assert unauthenticated["status"] == 401
    assert unauthenticated.get("user_id") is None
    assert unauthenticated["request_id"] == anonymous["requestContext"]["requestId"]


def test_no_log_line_or_answer_holds_the_password_its_hash_or_the_refresh_token(
        auth_fn: Any, log_lines: Callable, capsys: pytest.CaptureFixture[str]) -> None:
    # Given a student going through register, a failed and a good login, a refresh (body and
    # cookie), a validation failure and a logout
    from mindly.store import users

    email = unique_email("secrets")
    client = HandlerClient(auth_fn, source_ip=_ip())
    registered = client.post(f"{API}/auth/register", {"email": email, "password": PASSWORD, "name": "Leak"})
    assert registered.status == 201, registered
    answers = [
        client.post(f"{API}/auth/login", {"email": email, "password": PASSWORD + "x"}),
        client.post(f"{API}/auth/login", {"email": email, "password": PASSWORD}),
        client.post(f"{API}/auth/register", {"email": email, "password": PASSWORD, "name": "Leak", "extra": 1}),
        client.post(f"{API}/auth/register", {"email": "bad", "password": PASSWORD, "name": "Leak"}),
    ]
    first_refresh = registered.data["refresh_token"]
    rotated = client.post(f"{API}/auth/refresh", {"refresh_token": first_refresh})
    by_cookie = client.post(f"{API}/auth/refresh", cookies=[f"refresh_token={rotated.data['refresh_token']}"])
    logout = HandlerClient(auth_fn, token=by_cookie.data["access_token"]).post(f"{API}/auth/logout")
    answers += [logout]
    password_hash = users.get_user(registered.data["user"]["id"]).password_hash
    # When the logs are read
    logged = json.dumps(log_lines()) + capsys.readouterr().err
    # Then none of the secrets is in them
    for secret in (PASSWORD, password_hash, first_refresh, rotated.data["refresh_token"]):
        assert secret not in logged
    assert "$2b$" not in logged
    # And no answer but the token answers carries a refresh token; none carries the password or hash
    for answer in answers:
        assert PASSWORD not in answer.text
        assert password_hash not in answer.text
        assert first_refresh not in answer.text


# --- rate limits ---------------------------------------------------------------------------------

def test_the_fourth_authenticated_request_over_a_limit_of_3_is_429(auth_fn: Any, settings: Any,
                                                                    monkeypatch: pytest.MonkeyPatch) -> None:
    # Given a per-user limit of 3 requests a minute
    monkeypatch.setattr(settings, "user_rate_limit_per_minute", 3)
    _, account = _account(auth_fn)
    client = HandlerClient(auth_fn, token=account["access_token"], source_ip=_ip())
    # When the student makes 4 requests
    answers = [client.get(f"{API}/auth/me") for _ in range(4)]
    # Then the first 3 pass, counting down the remaining budget
    assert [a.status for a in answers[:3]] == [200, 200, 200], answers
    assert [a.headers["x-ratelimit-remaining"] for a in answers[:3]] == ["2", "1", "0"]
    assert all(a.headers["x-ratelimit-limit"] == "3" for a in answers)
    # And the 4th is 429 RATE_LIMIT_EXCEEDED with Retry-After and the limit headers
    limited = answers[3]
    _assert_platform_answer(limited, 429)
    assert limited.json["errors"][0]["code"] == "RATE_LIMIT_EXCEEDED"
    assert 1 <= int(limited.headers["retry-after"]) <= 60
    assert limited.headers["x-ratelimit-remaining"] == "0"
    assert int(limited.headers["x-ratelimit-reset"]) > 0


def test_the_user_limit_is_per_student(auth_fn: Any, settings: Any, monkeypatch: pytest.MonkeyPatch) -> None:
    # Given a per-user limit of 3, used up by one student
    monkeypatch.setattr(settings, "user_rate_limit_per_minute", 3)
    _, first = _account(auth_fn)
    _, second = _account(auth_fn)
    ip = _ip()
    for _ in range(3):
        HandlerClient(auth_fn, token=first["access_token"], source_ip=ip).get(f"{API}/auth/me")
    assert HandlerClient(auth_fn, token=first["access_token"], source_ip=ip).get(f"{API}/auth/me").status == 429
    # When another student calls from the same address
    answer = HandlerClient(auth_fn, token=second["access_token"], source_ip=ip).get(f"{API}/auth/me")
    # Then they are not limited
    assert answer.status == 200, answer


def test_login_is_limited_per_source_ip(auth_fn: Any, settings: Any, monkeypatch: pytest.MonkeyPatch) -> None:
    # Given a login limit of 3 a minute per IP
    monkeypatch.setattr(settings, "login_rate_limit_per_minute", 3)
    email, _ = _account(auth_fn)
    body = {"email": email, "password": PASSWORD}
    client = HandlerClient(auth_fn, source_ip="192.0.2.77")
    # When 4 logins come from one address
    answers = [client.post(f"{API}/auth/login", body) for _ in range(4)]
    # Then the 4th is 429 with Retry-After
    assert [a.status for a in answers[:3]] == [200, 200, 200], answers
    _assert_platform_answer(answers[3], 429)
    assert answers[3].json["errors"][0]["code"] == "RATE_LIMIT_EXCEEDED"
    assert int(answers[3].headers["retry-after"]) >= 1
    # And another address can still log in
    assert HandlerClient(auth_fn, source_ip="192.0.2.78").post(f"{API}/auth/login", body).status == 200


def test_x_forwarded_for_does_not_dodge_the_per_ip_limit(auth_fn: Any, settings: Any,
                                                         monkeypatch: pytest.MonkeyPatch) -> None:
    # Given a login limit of 1 used up from one address
    monkeypatch.setattr(settings, "login_rate_limit_per_minute", 1)
    email, _ = _account(auth_fn)
    body = {"email": email, "password": PASSWORD}
    client = HandlerClient(auth_fn, source_ip="192.0.2.79")
    assert client.post(f"{API}/auth/login", body).status == 200
    # When the same address claims another one in X-Forwarded-For
    answer = client.post(f"{API}/auth/login", body, headers={"X-Forwarded-For": "10.9.8.7"})
    # Then it is still limited
    assert answer.status == 429, answer


def test_register_is_limited_per_source_ip(auth_fn: Any, settings: Any, monkeypatch: pytest.MonkeyPatch) -> None:
    # Given a register limit of 2 a minute per IP
    monkeypatch.setattr(settings, "register_rate_limit_per_minute", 2)
    client = HandlerClient(auth_fn, source_ip="192.0.2.80")

    def sign_up() -> Answer:
        return client.post(f"{API}/auth/register", {"email": unique_email(), "password": PASSWORD, "name": "N"})

    # When 3 registrations come from one address
    answers = [sign_up() for _ in range(3)]
    # Then the 3rd is 429
    assert [a.status for a in answers] == [201, 201, 429], answers
    assert answers[2].json["errors"][0]["code"] == "RATE_LIMIT_EXCEEDED"
    assert "retry-after" in answers[2].headers


def test_refresh_is_limited_per_source_ip(auth_fn: Any, settings: Any, monkeypatch: pytest.MonkeyPatch) -> None:
    # Given a refresh limit of 2 a minute per IP
    monkeypatch.setattr(settings, "refresh_rate_limit_per_minute", 2)
    _, account = _account(auth_fn)
    client = HandlerClient(auth_fn, source_ip="192.0.2.81")
    token = account["refresh_token"]
    # When 3 refreshes come from one address, each with the newest token
    statuses = []
    for _ in range(3):
        answer = client.post(f"{API}/auth/refresh", {"refresh_token": token})
        statuses.append(answer.status)
        if answer.status == 200:
            token = answer.data["refresh_token"]
    # Then the 3rd is 429
    assert statuses == [200, 200, 429], statuses
    assert "retry-after" in answer.headers
    # And the limited attempt did not consume the token: it works from another address
    assert HandlerClient(auth_fn, source_ip="192.0.2.82").post(
        f"{API}/auth/refresh", {"refresh_token": token}).status == 200


# --- Redis outage, health ------------------------------------------------------------------------

def test_with_redis_down_authenticated_requests_fail_closed(auth_fn: Any, profile_fn: Any, upstash: Any) -> None:
    # Given a student, then Redis goes down
    _, account = _account(auth_fn)
    upstash.set_down(True)
    # When they make authenticated requests
    answers = [
        HandlerClient(auth_fn, token=account["access_token"]).get(f"{API}/auth/me"),
        HandlerClient(profile_fn, token=account["access_token"]).get(f"{API}/profile"),
    ]
    # Then they are refused with 503 SERVICE_UNAVAILABLE rather than let through unchecked
    for answer in answers:
        _assert_platform_answer(answer, 503)
        assert answer.json["errors"][0]["code"] == "SERVICE_UNAVAILABLE"


def test_with_redis_down_login_and_register_still_work(auth_fn: Any, upstash: Any) -> None:
    # Given a registered student, then Redis goes down
    email, _ = _account(auth_fn)
    upstash.set_down(True)
    client = HandlerClient(auth_fn, source_ip=_ip())
    # When someone registers and the student logs in
    registered = client.post(f"{API}/auth/register", {"email": unique_email(), "password": PASSWORD, "name": "N"})
    login = client.post(f"{API}/auth/login", {"email": email, "password": PASSWORD})
    # Then both work (the per-IP limiter fails open)
    assert registered.status == 201, registered
    assert login.status == 200, login


def test_health_with_redis_down_is_503_naming_redis(auth_fn: Any, upstash: Any) -> None:
    # Given Redis is down
    upstash.set_down(True)
    # When health is asked
    answer = HandlerClient(auth_fn).get(f"{API}/health")
    # Then it is 503 and says which dependency failed
    _assert_platform_answer(answer, 503)
    assert answer.json["data"]["checks"] == {"dynamodb": "ok", "redis": "error"}
    assert answer.json["data"]["status"] != "ok"


def test_health_when_all_is_up_is_200_ok(auth_fn: Any) -> None:
    # Given / When health is asked (no token needed)
    answer = HandlerClient(auth_fn).get(f"{API}/health")
    # Then everything answers
    _assert_platform_answer(answer, 200)
    from mindly import __version__

    assert answer.data == {"status": "ok", "version": __version__, "checks": {"dynamodb": "ok", "redis": "ok"}}


def test_redis_recovers_after_an_outage(auth_fn: Any, upstash: Any) -> None:
    # Given a student and a Redis outage that ends
    _, account = _account(auth_fn)
    upstash.set_down(True)
    assert HandlerClient(auth_fn, token=account["access_token"]).get(f"{API}/auth/me").status == 503
    upstash.set_down(False)
    # When they call again
    answer = HandlerClient(auth_fn, token=account["access_token"]).get(f"{API}/auth/me")
    # Then the request goes through (the client is not left broken)
    assert answer.status == 200, answer
