"""The local router sends each request to the function API Gateway would pick."""

from __future__ import annotations

import pytest

from infra.cfn import Route
from infra.router import GatewayRouter


def _route(method: str, path: str, function: str) -> tuple[Route, object]:
    return Route(function, f"functions/{function.lower()}/", "app.handler", method, path), object()


@pytest.fixture
def router() -> GatewayRouter:
    return GatewayRouter([  # type: ignore[arg-type]
        _route("ANY", "/api/v1/auth/{proxy+}", "Auth"),
        _route("GET", "/api/v1/health", "Health"),
        _route("GET", "/api/v1/syllabus/{exam}", "Profile"),
        _route("GET", "/api/v1/things/{id}", "Things"),
        _route("GET", "/api/v1/things/special", "Special"),
    ])


@pytest.mark.parametrize(("method", "path", "function"), [
    ("POST", "/api/v1/auth/login", "Auth"),
    ("GET", "/api/v1/auth/a/b/c", "Auth"),
    ("GET", "/api/v1/health", "Health"),
    ("GET", "/api/v1/syllabus/GATE", "Profile"),
    ("GET", "/api/v1/things/special", "Special"),
    ("GET", "/api/v1/things/42", "Things"),
    ("OPTIONS", "/api/v1/health", "Health"),
    ("OPTIONS", "/api/v1/auth/login", "Auth"),
])
def test_most_specific_route_wins(router: GatewayRouter, method: str, path: str, function: str) -> None:
    route = router.match(method, path)
    assert route is not None and route.function_logical_id == function


@pytest.mark.parametrize(("method", "path"), [
    ("POST", "/api/v1/health"),
    ("GET", "/api/v1/auth"),
    ("GET", "/api/v1/syllabus/GATE/extra"),
    ("GET", "/api/v1/syllabus/"),
])
def test_unrouted_requests_match_nothing(router: GatewayRouter, method: str, path: str) -> None:
    assert router.match(method, path) is None
