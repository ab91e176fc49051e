"""The local stack serves the API's merged OpenAPI document and a browsable UI (issue 16, point 3):
the real functions behind the local router, as infra.dev_server builds it."""

from __future__ import annotations

import re
from typing import Any

import pytest
from starlette.testclient import TestClient

from infra import cfn
from infra.functions import load_function
from infra.openapi import DOCS_ROUTE, DOCUMENT_ROUTE, build_document, local_pages
from infra.router import GatewayRouter, function_timeouts
from mindly.http.middleware import SECURITY_HEADERS


@pytest.fixture(scope="module")
def gateway() -> TestClient:
    template = cfn.load_template()
    routes = [(route, load_function(route.code_uri, route.handler).app) for route in cfn.http_routes(template)]
    return TestClient(GatewayRouter(routes, function_timeouts(template), pages=local_pages(routes)))


def test_the_merged_document_is_served_as_raw_json(gateway: TestClient) -> None:
    # When a client developer fetches the document from the local stack
    answer = gateway.get(DOCUMENT_ROUTE)
    # Then it is the merged document itself (not in the envelope), with the platform's headers
    assert answer.status_code == 200 and answer.headers["content-type"] == "application/json"
    served: dict[str, Any] = answer.json()
    expected = build_document()
    assert served["paths"] == expected["paths"] and served["components"] == expected["components"]
    # and "try it" goes to the stack it was served by, on whatever port that is
    assert served["servers"] == [{"url": "/", "description": "This local stack"}, *expected["servers"]]
    assert answer.headers["x-request-id"]
    for name, value in SECURITY_HEADERS.items():
        assert answer.headers[name] == value


def test_the_document_is_only_read(gateway: TestClient) -> None:
    answer = gateway.post(DOCUMENT_ROUTE, json={})
    assert answer.status_code == 405 and answer.headers["allow"] == "GET, HEAD"
    assert answer.json()["errors"][0]["code"] == "METHOD_NOT_ALLOWED"
    assert gateway.head(DOCUMENT_ROUTE).status_code == 200


def test_the_ui_page_loads_only_its_own_scripts_which_are_served(gateway: TestClient) -> None:
    page = gateway.get(DOCS_ROUTE)
    assert page.status_code == 200 and page.headers["content-type"].startswith("text/html")
    csp = page.headers["content-security-policy"]
    assert "script-src 'self'" in csp and "frame-ancestors 'none'" in csp and "connect-src 'self'" in csp
    assert "<script>" not in page.text  # no inline script: the CSP forbids them
    assets = re.findall(r'(?:src|href)="([^"]+)"', page.text)
    assert {"/docs/swagger-ui-bundle.js", "/docs/mindly-docs.js", "/docs/swagger-ui.css"} <= set(assets)
    for asset in assets:
        answer = gateway.get(asset)
        assert answer.status_code == 200 and answer.content, asset
        if asset.endswith(".js"):
            assert answer.headers["content-type"].startswith("text/javascript")
    assert DOCUMENT_ROUTE in gateway.get("/docs/mindly-docs.js").text


def test_the_api_keeps_answering_beside_them(gateway: TestClient) -> None:
    assert gateway.get("/api/v1/health").status_code in (200, 503)
    assert gateway.get("/api/v1/openapi/auth.json").status_code == 404  # no function's own document


def test_the_deployed_api_routes_neither() -> None:
    # template.yaml has no route for them: in AWS they reach $default, the auth function's 404
    routes = [route for route in cfn.http_routes(cfn.load_template()) if route.path != "$default"]
    for path in (DOCUMENT_ROUTE, DOCS_ROUTE):
        assert cfn.match_route(routes, "GET", path) is None
