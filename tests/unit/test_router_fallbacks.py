"""The local router's own answers (no route, an oversized head, an integration timeout) are the API's:
the envelope, the security headers, Allow on a 405 and Retry-After on a 503; and the $default route
loses to every other route, as in API Gateway."""

from __future__ import annotations

import asyncio
from typing import Any

import pytest
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import Route as StarletteRoute
from starlette.testclient import TestClient

from infra import cfn
from infra.router import API_GATEWAY_MAX_HEADER_BYTES, GatewayRouter, Limits, request_head_size
from mindly.http.middleware import SECURITY_HEADERS
from mindly.http.unrouted import API_ROUTES, allowed_methods


async def where(request: Request) -> Response:
    return JSONResponse({"app": request.app.state.name, "route_key": request.scope["aws.event"]["routeKey"]})


async def slow(request: Request) -> Response:
    await asyncio.sleep(5)
    return JSONResponse({})


def _app(name: str) -> Starlette:
    app = Starlette(routes=[StarletteRoute("/slow", slow),
                            StarletteRoute("/{path:path}", where, methods=["GET", "POST", "PUT", "DELETE"])])
    app.state.name = name
    return app


def _route(method: str, path: str, function: str) -> tuple[cfn.Route, Any]:
    return cfn.Route(function, f"functions/{function.lower()}/", "app.handler", method, path), _app(function)


def _has_the_platform_headers(answer: Any) -> None:
    for name, value in SECURITY_HEADERS.items():
        assert answer.headers.get(name) == value, (name, dict(answer.headers))
    assert answer.headers["x-request-id"]


def test_the_unrouted_answer_knows_every_route_of_the_template() -> None:
    # Given the routes the $default function answers 405 for, and the template's routes
    template_routes = {(route.method, route.path) for route in cfn.http_routes(cfn.load_template())
                       if route.path != "$default"}
    # Then they are the same (a route added to template.yaml goes into mindly.http.unrouted.API_ROUTES)
    assert set(API_ROUTES) == template_routes
    # And the methods allowed at a path are its specific routes' (an ANY route answers for itself)
    assert allowed_methods("/api/v1/profile") == ["GET", "PUT"]
    assert allowed_methods("/api/v1/syllabus/GATE") == ["GET"]
    assert allowed_methods("/api/v1/syllabus/GATE/extra") == []
    assert allowed_methods("/api/v1/auth/login") == []


def test_the_default_route_loses_to_every_other_route() -> None:
    # Given a router with specific, parameter, greedy and $default routes
    client = TestClient(GatewayRouter([
        _route("ANY", "$default", "Catchall"),
        _route("ANY", "/api/v1/auth/{proxy+}", "Auth"),
        _route("GET", "/api/v1/things/{id}", "Things"),
        _route("GET", "/api/v1/health", "Health"),
    ], timeouts={"Catchall": 5, "Auth": 5, "Things": 5, "Health": 5}))
    # Then each request reaches the most specific route, and the event names the route picked
    picked = {(method, path): client.request(method, path).json()
              for method, path in [("GET", "/api/v1/health"), ("POST", "/api/v1/auth/x/y"),
                                   ("GET", "/api/v1/things/7"), ("DELETE", "/api/v1/health"),
                                   ("GET", "/api/v1/things/7/more"), ("GET", "/")]}
    assert picked == {
        ("GET", "/api/v1/health"): {"app": "Health", "route_key": "GET /api/v1/health"},
        ("POST", "/api/v1/auth/x/y"): {"app": "Auth", "route_key": "ANY /api/v1/auth/{proxy+}"},
        ("GET", "/api/v1/things/7"): {"app": "Things", "route_key": "GET /api/v1/things/{id}"},
        ("DELETE", "/api/v1/health"): {"app": "Catchall", "route_key": "$default"},
        ("GET", "/api/v1/things/7/more"): {"app": "Catchall", "route_key": "$default"},
        ("GET", "/"): {"app": "Catchall", "route_key": "$default"},
    }


def test_without_a_default_route_the_router_answers_404_and_405_with_the_platform_headers() -> None:
    # Given a router without a $default route
    client = TestClient(GatewayRouter([_route("GET", "/api/v1/health", "Health"),
                                       _route("PUT", "/api/v1/profile", "Profile"),
                                       _route("GET", "/api/v1/profile", "Profile")]))
    # When a path nothing serves is asked for
    missing = client.get("/api/v1/nothing-here")
    # Then it is a 404 in the envelope with the security headers
    assert missing.status_code == 404
    assert missing.json()["errors"][0]["code"] == "NOT_FOUND" and missing.json()["success"] is False
    _has_the_platform_headers(missing)
    # And a method a known path does not serve is a 405 naming the methods it does serve
    wrong = client.delete("/api/v1/profile")
    assert wrong.status_code == 405 and wrong.headers["allow"] == "GET, PUT"
    assert wrong.json()["errors"][0]["code"] == "METHOD_NOT_ALLOWED"
    _has_the_platform_headers(wrong)


def test_a_head_over_api_gateways_quota_is_431_before_any_function_runs() -> None:
    client = TestClient(GatewayRouter([_route("ANY", "$default", "Catchall")], timeouts={"Catchall": 5}))
    # Given API Gateway's quota on the request line and header values
    assert API_GATEWAY_MAX_HEADER_BYTES == 10240
    # When a header brings the head over it
    answer = client.get("/api/v1/health", headers={"x-big": "a" * API_GATEWAY_MAX_HEADER_BYTES})
    # Then it is a 431 in the envelope with the security headers
    assert answer.status_code == 431, answer.text[:300]
    assert (answer.json()["message"], answer.json()["errors"][0]["code"]) == ("Request Header Fields Too Large",
                                                                              "VALIDATION_ERROR")
    _has_the_platform_headers(answer)
    # And a head just under it goes through
    assert client.get("/", headers={"x-big": "a" * 9000}).json()["app"] == "Catchall"


def test_the_head_size_counts_the_request_line_and_the_header_values() -> None:
    scope = {"type": "http", "method": "GET", "raw_path": b"/api/v1/x", "query_string": b"a=1", "http_version": "1.1",
             "headers": [(b"host", b"example.com"), (b"x-big", b"abc")]}
    assert request_head_size(scope) == len(b"GET /api/v1/x?a=1 HTTP/1.1") + len(b"example.com") + len(b"abc")


def test_the_routers_integration_timeout_503_says_when_to_retry() -> None:
    # Given a function allowed longer than the gateway waits
    client = TestClient(GatewayRouter([_route("ANY", "$default", "Slow")], timeouts={"Slow": 60},
                                      limits=Limits(integration_timeout=0.2)))
    # When it does not answer in time
    answer = client.get("/slow")
    # Then the 503 carries Retry-After and the platform headers
    assert answer.status_code == 503
    assert int(answer.headers["retry-after"]) >= 1
    _has_the_platform_headers(answer)


@pytest.mark.parametrize("path", ["/api/v1/health", "/api/v1/profile"])
def test_a_request_routed_to_a_specific_route_is_not_told_it_came_by_default(path: str) -> None:
    client = TestClient(GatewayRouter([_route("GET", path, "Specific"), _route("ANY", "$default", "Catchall")]))
    assert client.get(path).json() == {"app": "Specific", "route_key": f"GET {path}"}
