"""The local router refuses what API Gateway and Lambda refuse in AWS (infra.router.Limits): a body
over 10 MB (413), an event over 6 MB, a response over 6 MB and a function over its Timeout (500), an
integration over 30 s (503); the app's own 1 MB body cap still answers first below those."""

from __future__ import annotations

import asyncio
import json
import time
from typing import Any

import pytest
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import Route as StarletteRoute
from starlette.testclient import TestClient

from infra import cfn
from infra.router import (
    API_GATEWAY_MAX_BODY_BYTES,
    LAMBDA_MAX_EVENT_BYTES,
    LAMBDA_MAX_RESPONSE_BYTES,
    GatewayRouter,
    Limits,
    function_timeouts,
)

MB = 1024 * 1024
calls: list[str] = []


async def echo(request: Request) -> Response:
    body = await request.body()
    calls.append(request.url.path)
    return JSONResponse({"received": len(body)})


async def big(request: Request) -> Response:
    size = int(request.query_params["bytes"])
    media = request.query_params.get("type", "application/json")
    return Response(b"x" * size, media_type=media)


async def slow(request: Request) -> Response:
    await asyncio.sleep(float(request.query_params["seconds"]))
    return JSONResponse({"slept": True})


def _client(timeouts: dict[str, float] | None = None, limits: Limits | None = None) -> TestClient:
    app = Starlette(routes=[StarletteRoute("/api/v1/echo", echo, methods=["POST"]),
                            StarletteRoute("/api/v1/big", big), StarletteRoute("/api/v1/slow", slow)])
    routes = [(cfn.Route("FakeFunction", "functions/fake/", "app.handler", "ANY", "/api/v1/{proxy+}"), app)]
    return TestClient(GatewayRouter(routes, timeouts or {"FakeFunction": 10.0}, limits))


def _refused(answer: Any, status: int, message: str) -> None:
    assert answer.status_code == status, answer.text[:300]
    body = answer.json()
    assert (body["success"], body["data"], body["message"]) == (False, None, message)
    assert answer.headers["x-request-id"]


def test_the_limits_are_aws_own() -> None:
    assert API_GATEWAY_MAX_BODY_BYTES == 10_485_760
    assert (LAMBDA_MAX_EVENT_BYTES, LAMBDA_MAX_RESPONSE_BYTES) == (6_291_456, 6_291_556)
    assert Limits().integration_timeout == 30
    timeouts = function_timeouts(cfn.load_template())
    assert timeouts["AuthFunction"] == 10 and timeouts["AdminFunction"] == 29  # Globals, and its own


def test_a_body_over_10_mb_is_refused_by_the_gateway_before_any_function_runs() -> None:
    calls.clear()
    answer = _client().post("/api/v1/echo", content=b"{" + b" " * (10 * MB) + b"}",
                            headers={"content-type": "application/json"})
    _refused(answer, 413, "Request Entity Too Large")
    assert calls == []


def test_an_event_over_6_mb_is_refused_by_lambda() -> None:
    calls.clear()
    client = _client()
    # 7 MB of JSON text: under the gateway's 10 MB, over Lambda's 6 MB event
    _refused(client.post("/api/v1/echo", content=b'"' + b"a" * (7 * MB) + b'"',
                         headers={"content-type": "application/json"}), 500, "Internal Server Error")
    # 5 MB of binary travels base64-encoded in the event: 6.7 MB, refused too
    _refused(client.post("/api/v1/echo", content=b"\x00" * (5 * MB),
                         headers={"content-type": "application/octet-stream"}), 500, "Internal Server Error")
    assert calls == []
    # while 5 MB of JSON text fits and reaches the function
    fits = client.post("/api/v1/echo", content=b'"' + b"a" * (5 * MB) + b'"',
                       headers={"content-type": "application/json"})
    assert fits.status_code == 200 and fits.json() == {"received": 5 * MB + 2}


def test_a_response_over_6_mb_fails_the_invocation() -> None:
    client = _client()
    _refused(client.get("/api/v1/big", params={"bytes": 7 * MB}), 500, "Internal Server Error")
    # a binary answer is base64 in Lambda's response: 5 MB becomes 6.7 MB
    _refused(client.get("/api/v1/big", params={"bytes": 5 * MB, "type": "application/octet-stream"}), 500,
             "Internal Server Error")
    fits = client.get("/api/v1/big", params={"bytes": 5 * MB})
    assert fits.status_code == 200 and len(fits.content) == 5 * MB


def test_a_function_running_over_its_timeout_is_stopped() -> None:
    client = _client(timeouts={"FakeFunction": 0.3})
    started = time.monotonic()
    _refused(client.get("/api/v1/slow", params={"seconds": 5}), 500, "Internal Server Error")
    assert time.monotonic() - started < 3
    assert client.get("/api/v1/slow", params={"seconds": 0}).json() == {"slept": True}


def test_the_gateway_gives_up_on_an_integration_after_its_timeout() -> None:
    # A function allowed longer than the gateway waits (Timeout 60 s, the gateway's 30 s scaled down)
    client = _client(timeouts={"FakeFunction": 60.0}, limits=Limits(integration_timeout=0.3))
    started = time.monotonic()
    _refused(client.get("/api/v1/slow", params={"seconds": 5}), 503, "Service Unavailable")
    assert time.monotonic() - started < 3


@pytest.fixture(scope="module")
def gateway() -> TestClient:
    """The real functions behind the router, as the dev server runs them."""
    from infra.functions import load_function

    template = cfn.load_template()
    routes = [(route, load_function(route.code_uri, route.handler).app) for route in cfn.http_routes(template)]
    return TestClient(GatewayRouter(routes, function_timeouts(template)))


def test_the_apps_own_1_mb_cap_still_answers_below_the_platform_limits(gateway: TestClient) -> None:
    body = json.dumps({"email": "a@example.com", "password": "x" * (2 * MB), "name": "A"}).encode()
    answer = gateway.post("/api/v1/auth/register", content=body, headers={"content-type": "application/json"})
    assert answer.status_code == 413, answer.text[:300]
    assert answer.json()["errors"][0]["code"] == "VALIDATION_ERROR"
    assert gateway.get("/api/v1/syllabus/neet").json()["data"]["exam_type"] == "NEET"
    # and over 6 MB, Lambda refuses the event before the app sees it, as in AWS
    huge = b'{"email": "' + b"a" * (7 * MB) + b'"}'
    _refused(gateway.post("/api/v1/auth/register", content=huge, headers={"content-type": "application/json"}),
             500, "Internal Server Error")
