"""The docs function of a deployed stack (ServeApiDocs=true): the committed OpenAPI document and a
Swagger UI, through its real Lambda handler with API Gateway HTTP API (payload 2.0) events."""

from __future__ import annotations

import base64
import json
import re
from typing import Any

import pytest
from support import Answer, HandlerClient, enforce_lambda_limits, http_event, invoke

from infra.functions import REPO
from mindly.http.docs_pages import DOCS_CSP, DOCS_ROUTE, DOCUMENT_ROUTE, swagger_ui_static
from mindly.http.middleware import SECURITY_HEADERS

COMMITTED = json.loads((REPO / "docs" / "openapi.json").read_text(encoding="utf-8"))


@pytest.fixture(scope="module")
def docs_fn() -> Any:
    import aws_permissions

    # Its calls are attributed to DocsFunction (whose policy grants nothing), within Lambda's limits
    return enforce_lambda_limits(aws_permissions.load_function("docs"))


@pytest.fixture
def client(docs_fn: Any) -> HandlerClient:
    return HandlerClient(docs_fn)


class Page:
    """A Lambda proxy answer whose body is not JSON (``support.Answer`` decodes JSON)."""

    def __init__(self, raw: dict[str, Any]) -> None:
        self.status = raw["statusCode"]
        self.headers = {k.lower(): v for k, v in raw.get("headers", {}).items()}
        body = raw.get("body") or ""
        self.content = base64.b64decode(body) if raw.get("isBase64Encoded") else body.encode()
        self.text = self.content.decode("utf-8", "replace")


def _page(client: HandlerClient, method: str, path: str) -> Page:
    return Page(invoke(client.module.handler, http_event(method, path)))


def _has_the_platform_headers(answer: Answer | Page) -> None:
    for name, value in SECURITY_HEADERS.items():
        if name != "content-security-policy":
            assert answer.headers.get(name) == value, name
    assert answer.headers["x-request-id"]


def test_the_document_is_the_committed_one_with_this_stack_as_its_first_server(docs_fn: Any) -> None:
    # Given the event API Gateway sends for GET /api/v1/openapi.json on the stack's endpoint
    event = http_event("GET", DOCUMENT_ROUTE)
    host = event["requestContext"]["domainName"]
    # When the docs function's handler gets it
    answer = Answer(docs_fn.handler(event, None))
    # Then it is docs/openapi.json as committed, raw JSON (not in the envelope), but for its servers
    assert answer.status == 200 and answer.headers["content-type"] == "application/json"
    served = answer.json
    assert {k: v for k, v in served.items() if k != "servers"} == {k: v for k, v in COMMITTED.items() if k != "servers"}
    # whose first is the stack that served it (so "try it" calls this API), then the committed ones
    assert served["servers"] == [{"url": f"https://{host}", "description": "This deployed stack"},
                                 *COMMITTED["servers"]]
    # And it carries the platform's headers, the JSON API's CSP among them, and API Gateway's request id
    _has_the_platform_headers(answer)
    assert answer.headers["content-security-policy"] == SECURITY_HEADERS["content-security-policy"]
    assert answer.headers["x-request-id"] == event["requestContext"]["requestId"]


def test_a_custom_domain_is_the_server_it_names(docs_fn: Any) -> None:
    event = http_event("GET", DOCUMENT_ROUTE)
    event["requestContext"]["domainName"] = "api.mindly.example"
    served = Answer(docs_fn.handler(event, None)).json
    assert served["servers"][0]["url"] == "https://api.mindly.example"


def test_the_ui_page_and_every_file_it_loads_are_served_under_the_docs_csp(client: HandlerClient) -> None:
    # When a browser opens /docs
    page = _page(client, "GET", DOCS_ROUTE)
    # Then it is the Swagger UI page, allowed to run only its own scripts
    assert page.status == 200 and page.headers["content-type"].startswith("text/html")
    assert page.headers["content-security-policy"] == DOCS_CSP
    assert "<script>" not in page.text
    _has_the_platform_headers(page)
    # And each file it names is served, Swagger UI's byte for byte from swagger-ui-py
    assets = re.findall(r'(?:src|href)="([^"]+)"', page.text)
    assert {"/docs/swagger-ui.css", "/docs/swagger-ui-bundle.js", "/docs/mindly-docs.js",
            "/docs/favicon-32x32.png"} == set(assets)
    for asset in assets:
        served = _page(client, "GET", asset)
        assert served.status == 200 and served.headers["content-security-policy"] == DOCS_CSP, asset
        name = asset.rsplit("/", 1)[1]
        if name != "mindly-docs.js":
            assert served.content == (swagger_ui_static() / name).read_bytes(), asset
    # And the page's own script loads the document from this same origin
    assert f'url: "{DOCUMENT_ROUTE}"' in _page(client, "GET", "/docs/mindly-docs.js").text


def test_the_pages_are_only_read(client: HandlerClient) -> None:
    # When a page is asked for its headers only, or written to
    head = _page(client, "HEAD", DOCS_ROUTE)
    written = client.post(DOCUMENT_ROUTE, {"openapi": "3.1.0"})
    # Then HEAD is the page's answer without its body, and a write is a 405 naming the methods served
    assert head.status == 200 and head.text == "" and head.headers["content-type"].startswith("text/html")
    assert written.status == 405 and written.headers["allow"] == "GET, HEAD"
    assert written.json["success"] is False and written.json["errors"][0]["code"] == "METHOD_NOT_ALLOWED"
    _has_the_platform_headers(written)


@pytest.mark.parametrize("path", ["/docs/swagger-editor.js", "/docs/.env", "/docs/index.css"])
def test_no_other_file_of_the_package_is_served(client: HandlerClient, path: str) -> None:
    # A path of the /docs/{asset} route that is not one of the page's files is a 404 in the envelope
    answer = client.get(path)
    assert answer.status == 404 and answer.json["errors"][0]["code"] == "NOT_FOUND"
    _has_the_platform_headers(answer)


@pytest.mark.parametrize(("method", "path"), [("GET", DOCS_ROUTE), ("HEAD", DOCUMENT_ROUTE), ("POST", "/docs/x.js")])
def test_with_the_parameter_off_the_docs_paths_are_the_default_routes_404(auth_fn: Any, method: str,
                                                                          path: str) -> None:
    # Given a stack deployed without the docs: API Gateway gives their paths to $default (the auth function)
    event = http_event(method, path)
    event["routeKey"] = event["requestContext"]["routeKey"] = "$default"
    # When the auth function's handler answers it
    answer = Answer(auth_fn.handler(event, None))
    # Then it is a plain 404 in the envelope: no Allow that would promise a route this stack does not have
    assert answer.status == 404 and "allow" not in answer.headers
    assert answer.json["errors"][0]["code"] == "NOT_FOUND"
