"""Docs function: the API's OpenAPI document and a Swagger UI on a deployed stack.

Deployed only when template.yaml's ``ServeApiDocs`` parameter is true (``sam deploy
--parameter-overrides ServeApiDocs=true``); the local stack serves the same pages itself
(infra.openapi.local_pages). The pages are the layer's (mindly.http.docs_pages). The document is
the committed docs/openapi.json, which its Makefile copies into the package next to this file,
with this stack's own address as its first server, so "try it" calls the API that served it.
The function reads no setting and no secret, and calls no AWS service.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from mangum import Mangum
from starlette.types import Scope

from mindly.http.docs_pages import DocsApp, docs_pages
from mindly.http.middleware import PlatformMiddleware
from mindly.observability import lambda_entry

_HERE = Path(__file__).resolve().parent
# In the Lambda package (functions/docs/Makefile) the document is beside this file; run from the
# repository (the tests), it is the committed one.
_PACKAGED = _HERE / "openapi.json"
DOCUMENT_FILE = _PACKAGED if _PACKAGED.is_file() else _HERE.parent.parent / "docs" / "openapi.json"

_read: dict[str, Any] = {}


def committed_document() -> dict[str, Any]:
    """docs/openapi.json as committed, read once per container."""
    if "document" not in _read:
        _read["document"] = json.loads(DOCUMENT_FILE.read_text(encoding="utf-8"))
    document: dict[str, Any] = _read["document"]
    return document


def deployed_document(document: dict[str, Any], host: str) -> dict[str, Any]:
    """``document`` with this stack's address, ``https://<host>``, as its first server (API
    Gateway's domain name for the request: the execute-api endpoint or a custom domain)."""
    here = {"url": f"https://{host}", "description": "This deployed stack"}
    return {**document, "servers": [here, *(server for server in document["servers"] if server != here)]}


def _request_host(scope: Scope) -> str:
    event = scope.get("aws.event") or {}
    domain = (event.get("requestContext") or {}).get("domainName")
    if domain:
        return str(domain)
    return next((value.decode("latin-1") for name, value in scope.get("headers", []) if name == b"host"), "localhost")


def document_body(scope: Scope) -> bytes:
    """The served document's JSON, for the host this request came to."""
    return json.dumps(deployed_document(committed_document(), _request_host(scope))).encode()


# The platform's outer layer as on every function (request id, security headers, one log line per
# request, the 500 envelope); the docs are same-origin, so no CORS origin is allowed. Not named `app`:
# that name is the API groups' FastAPI app (its routes, its own OpenAPI document), which this is not.
docs_app = PlatformMiddleware(DocsApp(docs_pages(document_body)), cors_origins=[])
handler = lambda_entry(Mangum(docs_app, lifespan="off"))
