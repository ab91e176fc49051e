"""The API's browsable documentation as ASGI answers: its OpenAPI document and a Swagger UI.

Two stacks serve them with this one code: the local stack (infra.openapi.local_pages, the document
built from the code on its first request) and, when template.yaml's ``ServeApiDocs`` parameter is
true, a deployed stack's docs function (functions/docs, the committed docs/openapi.json). Swagger
UI's files come from the swagger-ui-py package, never from a CDN, and the page loads nothing else
(``DOCS_CSP``). Every answer carries the platform's security headers; a method other than GET or
HEAD is a 405 and an unknown path below the docs a 404, both in the envelope.

Nothing here imports swagger-ui-py: its files are read from the package's folder, found without
running the package (whose ``__init__`` imports jinja2 and web-framework glue no page needs).
"""

from __future__ import annotations

import importlib.util
import uuid
from collections.abc import Callable, Mapping
from pathlib import Path

from starlette.types import ASGIApp, Receive, Scope, Send

from mindly.http.envelope import error_body
from mindly.http.middleware import SECURITY_HEADERS

DOCUMENT_ROUTE = "/api/v1/openapi.json"
DOCS_ROUTE = "/docs"
READ_METHODS = ("GET", "HEAD")
# The UI page loads only its own files: scripts from this origin, no inline script; Swagger UI sets
# inline styles and draws icons from data: URLs; "try it" calls this same origin.
DOCS_CSP = ("default-src 'none'; script-src 'self'; style-src 'self' 'unsafe-inline'; img-src 'self' data:; "
            "connect-src 'self'; frame-ancestors 'none'; base-uri 'none'; form-action 'none'")
_DOCS_PAGE = """<!doctype html>
<html lang="en">
<head><meta charset="utf-8"><title>Mindly API</title>
<link rel="stylesheet" href="/docs/swagger-ui.css"><link rel="icon" href="/docs/favicon-32x32.png"></head>
<body><div id="swagger-ui"></div>
<script src="/docs/swagger-ui-bundle.js"></script><script src="/docs/mindly-docs.js"></script></body>
</html>
"""
_DOCS_SCRIPT = f"""window.ui = SwaggerUIBundle({{url: "{DOCUMENT_ROUTE}", dom_id: "#swagger-ui",
  deepLinking: true, persistAuthorization: true, tryItOutEnabled: true}});
"""
# Swagger UI's own files the page uses, from swagger-ui-py's static folder, with their content types.
ASSETS = {"swagger-ui.css": "text/css; charset=utf-8", "swagger-ui-bundle.js": "text/javascript; charset=utf-8",
          "favicon-32x32.png": "image/png"}

# A page's body, from the request it answers (the deployed document names the host it was asked on).
Body = Callable[[Scope], bytes]


def swagger_ui_static() -> Path:
    """The folder of Swagger UI's files in the installed swagger-ui-py package."""
    spec = importlib.util.find_spec("swagger_ui")
    if spec is None or not spec.submodule_search_locations:
        raise ModuleNotFoundError("swagger-ui-py is not installed: its files are the docs' assets")
    return Path(next(iter(spec.submodule_search_locations))) / "static"


def _headers(fields: Mapping[str, str]) -> list[tuple[bytes, bytes]]:
    return [(name.encode("latin-1"), value.encode("latin-1")) for name, value in fields.items()]


async def _refuse(send: Send, status: int, code: str, message: str, extra: Mapping[str, str]) -> None:
    body = error_body(status, message, [{"code": code, "field": None, "message": message}])
    fields = {"content-type": "application/json", "content-length": str(len(body)),
              "x-request-id": uuid.uuid4().hex, **SECURITY_HEADERS, **extra}
    await send({"type": "http.response.start", "status": status, "headers": _headers(fields)})
    await send({"type": "http.response.body", "body": body})


def page(content_type: str, body: Body, csp: str | None = None) -> ASGIApp:
    """One read-only page: ``body`` for GET (headers only for HEAD), 405 with Allow otherwise."""

    async def answer(scope: Scope, receive: Receive, send: Send) -> None:
        if scope.get("method") not in READ_METHODS:
            await _refuse(send, 405, "METHOD_NOT_ALLOWED", "Method not allowed", {"allow": ", ".join(READ_METHODS)})
            return
        content = body(scope)
        fields = {"content-type": content_type, "content-length": str(len(content)),
                  "x-request-id": uuid.uuid4().hex, "cache-control": "no-cache", **SECURITY_HEADERS}
        if csp is not None:
            fields["content-security-policy"] = csp
        await send({"type": "http.response.start", "status": 200, "headers": _headers(fields)})
        await send({"type": "http.response.body", "body": b"" if scope["method"] == "HEAD" else content})

    return answer


def docs_pages(document: Body, static: Callable[[], Path] = swagger_ui_static) -> dict[str, ASGIApp]:
    """The answers by path: ``document`` (the OpenAPI document's JSON) at ``DOCUMENT_ROUTE``, the
    Swagger UI page at ``DOCS_ROUTE`` and its files below it. Each file is read from ``static``'s
    folder on its first request and kept."""
    read: dict[str, bytes] = {}

    def asset(name: str) -> Body:
        def body(_scope: Scope) -> bytes:
            if name not in read:
                read[name] = (static() / name).read_bytes()
            return read[name]

        return body

    pages = {DOCUMENT_ROUTE: page("application/json", document),
             DOCS_ROUTE: page("text/html; charset=utf-8", lambda _scope: _DOCS_PAGE.encode(), DOCS_CSP),
             f"{DOCS_ROUTE}/mindly-docs.js": page("text/javascript; charset=utf-8",
                                                  lambda _scope: _DOCS_SCRIPT.encode(), DOCS_CSP)}
    for name, content_type in ASSETS.items():
        pages[f"{DOCS_ROUTE}/{name}"] = page(content_type, asset(name), DOCS_CSP)
    return pages


class DocsApp:
    """An ASGI app serving ``pages`` by exact path; any other path is a 404 in the envelope."""

    def __init__(self, pages: Mapping[str, ASGIApp]) -> None:
        self.pages = dict(pages)

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            return
        found = self.pages.get(scope.get("path", ""))
        if found is None:
            await _refuse(send, 404, "NOT_FOUND", "Not found", {})
            return
        await found(scope, receive, send)
