"""Every domain exception maps to its API status, code and headers in one place."""

from __future__ import annotations

from typing import Any

import pytest
from fastapi.testclient import TestClient

from mindly.exceptions import (
    AccountLocked,
    CacheError,
    Conflict,
    DeadlinePassed,
    FeatureNotConfigured,
    Forbidden,
    GroqRateLimitError,
    InsufficientContent,
    InvalidExamType,
    MindlyError,
    NotFound,
    ServiceUnavailable,
)
from mindly.http.app import create_app

CASES: list[tuple[MindlyError, int, str, dict[str, str]]] = [
    (InvalidExamType("Unknown exam type 'SAT'", field="exam_type"), 422, "INVALID_EXAM_TYPE", {}),
    (CacheError(), 503, "SERVICE_UNAVAILABLE", {}),
    (ServiceUnavailable(), 503, "SERVICE_UNAVAILABLE", {}),
    (GroqRateLimitError(retry_after_seconds=17), 429, "RATE_LIMIT_EXCEEDED", {"retry-after": "17"}),
    (AccountLocked(retry_after_seconds=120), 423, "ACCOUNT_LOCKED", {"retry-after": "120"}),
    (Conflict("taken"), 409, "CONFLICT", {}),
    (DeadlinePassed(), 409, "DEADLINE_PASSED", {}),
    (InsufficientContent(), 422, "INSUFFICIENT_CONTENT", {}),
    (NotFound(), 404, "NOT_FOUND", {}),
    (Forbidden(), 403, "AUTHORIZATION_ERROR", {}),
    (FeatureNotConfigured("later"), 501, "NOT_IMPLEMENTED", {}),
]


def _raiser(error: MindlyError) -> Any:
    def route() -> Any:
        raise error

    return route


@pytest.fixture(scope="module")
def client() -> TestClient:
    app = create_app("errors")
    for index, (error, *_rest) in enumerate(CASES):
        app.add_api_route(f"/case/{index}", _raiser(error), methods=["GET"])
    return TestClient(app)


@pytest.mark.parametrize("index", range(len(CASES)), ids=[type(c[0]).__name__ for c in CASES])
def test_exception_becomes_its_envelope(client: TestClient, index: int) -> None:
    error, status, code, headers = CASES[index]
    # When a route raises the exception
    answer = client.get(f"/case/{index}")
    # Then the answer has its status, code, message and headers, in the envelope
    assert answer.status_code == status
    body = answer.json()
    assert body["success"] is False and body["data"] is None
    assert body["message"] == error.message
    assert body["errors"][0]["code"] == code
    for name, value in headers.items():
        assert answer.headers[name] == value


def _subclasses(cls: type) -> list[type]:
    return [cls, *(grand for sub in cls.__subclasses__() for grand in _subclasses(sub))]


def test_every_503_says_when_to_try_again(client: TestClient) -> None:
    from mindly.exceptions import ServiceUnavailable

    # Given every kind of 503 the services raise, made the way they raise it
    for kind in _subclasses(ServiceUnavailable):
        error = kind(1) if "retry_after_seconds" in kind.__init__.__code__.co_varnames else kind("busy")
        # Then it carries Retry-After (a client backs off instead of retrying at once)
        assert int(error.headers["Retry-After"]) >= 1, kind.__name__
    # And a headers argument of its own keeps it
    assert ServiceUnavailable("x", headers={"X-Other": "1"}).headers == {"Retry-After": "1", "X-Other": "1"}
