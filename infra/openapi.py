"""One OpenAPI 3.1 document for the whole API, merged from every API function's own document.

Each function's FastAPI app documents its own routes (mindly.http.app: the envelope, the error
statuses, the security of each operation, the typed answers). A client developer wants one document:
``merged_document`` keeps, of each function's document, the operations API Gateway really routes to
that function (template.yaml's HttpApi events, ``infra.cfn``) and merges the components, where one
name must mean one schema (``DocumentClash`` names both functions otherwise).

The committed copy is ``docs/openapi.json``; ``python -m infra.openapi --write`` regenerates it and
``--check`` fails when it differs from the code (tests/unit/test_openapi_document.py runs the check).
Key order is the code's (models' field order, routes' order), with paths, components and tags sorted,
so the file changes only when the API does.
"""

from __future__ import annotations

import argparse
import difflib
import json
import re
import sys
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from infra import cfn
from infra.functions import REPO, load_function

DOCUMENT_PATH = REPO / "docs" / "openapi.json"
REGENERATE = ".venv/bin/python -m infra.openapi --write"
TITLE = "Mindly API"
LOCAL_SERVER = "http://127.0.0.1:8000"
# The deployed HTTP API's default endpoint (template.yaml's ApiUrl output); its id is in the stack's
# outputs after `sam deploy`.
DEPLOYED_SERVER: dict[str, Any] = {
    "url": "https://{apiId}.execute-api.{region}.amazonaws.com",
    "description": "Deployed stack: the ApiUrl output of the mindly-<env> CloudFormation stack",
    "variables": {
        "apiId": {"default": "your-api-id", "description": "The HttpApi's id (ApiUrl output of the stack)"},
        "region": {"default": "ap-south-1", "description": "The stack's region (samconfig.toml)"},
    },
}
_METHODS = ("get", "put", "post", "delete", "options", "head", "patch", "trace")
# Each function app serves its own document there (mindly.http.app.create_app); not part of the API.
_SELF_ROUTE = re.compile(r"^/api/v1/openapi(/[^/]+)?\.json$")


class DocumentClash(ValueError):
    """Two functions document one name (a component, an operation, an operation id) differently."""


@dataclass(frozen=True)
class FunctionDocument:
    """One API function's own OpenAPI document, by the function's logical id in template.yaml."""

    function: str
    document: Mapping[str, Any]


def function_documents(routed_apps: Sequence[tuple[cfn.Route, Any]]) -> list[FunctionDocument]:
    """Each function's document once, in template order, from its routes and their apps."""
    documents: dict[str, FunctionDocument] = {}
    for route, app in routed_apps:
        if route.function_logical_id not in documents:
            documents[route.function_logical_id] = FunctionDocument(route.function_logical_id, app.openapi())
    return list(documents.values())


def _served_by(routes: Sequence[cfn.Route], method: str, path: str) -> str | None:
    """The function API Gateway sends ``method path`` (a documented path template) to, not counting
    the ``$default`` route, which takes everything no other route takes."""
    sample = re.sub(r"\{[^}/]+\}", "x", path)
    found = cfn.match_route([route for route in routes if route.path != "$default"], method.upper(), sample)
    return found[0].function_logical_id if found else None


def _merge_named(merged: dict[str, Any], owners: dict[str, str], kind: str, items: Mapping[str, Any],
                 function: str) -> None:
    for name, value in items.items():
        if name in merged and merged[name] != value:
            raise DocumentClash(f"{kind} {name!r} differs between {owners[name]} and {function}")
        merged.setdefault(name, value)
        owners.setdefault(name, function)


def merge(documents: Sequence[FunctionDocument], routes: Sequence[cfn.Route]) -> dict[str, Any]:
    """The API's one document: the operations each function serves per ``routes``, the components
    of all (each name once), one tag per function, the servers and the bearer scheme."""
    paths: dict[str, dict[str, Any]] = {}
    components: dict[str, dict[str, Any]] = {}
    owners: dict[tuple[str, str], str] = {}  # (path, method): function
    component_owners: dict[str, dict[str, str]] = {}  # kind: {name: the first function documenting it}
    operation_ids: dict[str, str] = {}
    tags: dict[str, str] = {}
    versions = {str(document.document["info"]["version"]) for document in documents}
    for entry in documents:
        for path, item in entry.document.get("paths", {}).items():
            if _SELF_ROUTE.match(path):
                continue
            for method, operation in item.items():
                if method not in _METHODS or _served_by(routes, method, path) != entry.function:
                    continue
                if method in paths.get(path, {}):
                    raise DocumentClash(f"{method.upper()} {path} is documented by {owners[(path, method)]} "
                                        f"and {entry.function}")
                operation_id = operation.get("operationId")
                if operation_id in operation_ids:
                    raise DocumentClash(f"operationId {operation_id!r} is used by {operation_ids[operation_id]} "
                                        f"and {entry.function}")
                operation_ids[str(operation_id)] = entry.function
                owners[(path, method)] = entry.function
                paths.setdefault(path, {})[method] = operation
                for tag in operation.get("tags", []):
                    tags.setdefault(tag, entry.function)
        for kind, items in entry.document.get("components", {}).items():
            _merge_named(components.setdefault(kind, {}), component_owners.setdefault(kind, {}),
                         f"components.{kind}", items, entry.function)
    if len(versions) > 1:
        raise DocumentClash(f"the functions document different versions: {sorted(versions)}")
    components.setdefault("securitySchemes", {}).setdefault(
        "bearer", {"type": "http", "scheme": "bearer", "bearerFormat": "JWT"})
    return {
        "openapi": "3.1.0",
        "info": {"title": TITLE, "version": versions.pop() if versions else "0",
                 "description": "Every answer is the envelope {success, data, message, errors}. Operations "
                                "with a bearer security need an access token from /api/v1/auth/login."},
        "servers": [{"url": LOCAL_SERVER, "description": "Local stack (python -m infra.dev_server)"},
                    DEPLOYED_SERVER],
        "security": [{"bearer": []}],
        "tags": [{"name": tag, "description": f"Served by {function}"} for tag, function in sorted(tags.items())],
        "paths": dict(sorted(paths.items())),
        "components": {kind: dict(sorted(items.items())) for kind, items in sorted(components.items())},
    }


def merged_document(routed_apps: Sequence[tuple[cfn.Route, Any]]) -> dict[str, Any]:
    """The merged document of the apps behind these routes (the local router's pairs)."""
    return merge(function_documents(routed_apps), [route for route, _app in routed_apps])


def build_document(template: Mapping[str, Any] | None = None) -> dict[str, Any]:
    """The merged document of template.yaml's API functions, loaded as the local stack loads them."""
    routes = cfn.http_routes(template if template is not None else cfn.load_template())
    return merged_document([(route, load_function(route.code_uri, route.handler).app) for route in routes])


def render(document: Mapping[str, Any]) -> str:
    """The committed form: indent 2, non-ASCII kept, a trailing newline."""
    return json.dumps(document, indent=2, ensure_ascii=False) + "\n"


def drift(committed: str, current: str, *, context_lines: int = 40) -> str:
    """What differs between the committed document and the code's, for a developer: empty when
    nothing does, else a summary and the start of a unified diff."""
    if committed == current:
        return ""
    diff = list(difflib.unified_diff(committed.splitlines(), current.splitlines(), "docs/openapi.json (committed)",
                                     "docs/openapi.json (from the code)", lineterm=""))
    added = sum(1 for line in diff if line.startswith("+") and not line.startswith("+++"))
    removed = sum(1 for line in diff if line.startswith("-") and not line.startswith("---"))
    shown = "\n".join(diff[:context_lines]) + ("\n..." if len(diff) > context_lines else "")
    return (f"docs/openapi.json is out of date with the code (+{added} -{removed} lines); regenerate it with "
            f"`{REGENERATE}` and commit it.\n{shown}")


# --- served by the local stack ------------------------------------------------------------------------

# The pages themselves are the layer's (mindly.http.docs_pages), shared with a deployed stack's docs
# function (functions/docs, deployed when template.yaml's ServeApiDocs is true). Their paths, here for
# the local tooling that runs before the layer is on sys.path; tests/unit/test_template_docs.py keeps
# the two the same.
DOCUMENT_ROUTE = "/api/v1/openapi.json"
DOCS_ROUTE = "/docs"


def served_document(document: Mapping[str, Any]) -> dict[str, Any]:
    """The document as the local stack serves it: its first server is the stack it came from (a
    relative URL), so "try it" works on any port."""
    return {**document, "servers": [{"url": "/", "description": "This local stack"}, *document["servers"]]}


def local_pages(routed_apps: Sequence[tuple[cfn.Route, Any]]) -> dict[str, Any]:
    """The ASGI answers the local router gives itself, by path (``GatewayRouter(pages=...)``): the
    merged document of these apps at ``DOCUMENT_ROUTE`` (built on its first request) and Swagger UI
    at ``DOCS_ROUTE`` (mindly.http.docs_pages: the platform's security headers, the UI a CSP letting
    it run)."""
    from mindly.http import docs_pages

    built: dict[str, bytes] = {}

    def document_body(_scope: Any) -> bytes:
        if "document" not in built:
            built["document"] = json.dumps(served_document(merged_document(routed_apps))).encode()
        return built["document"]

    return docs_pages.docs_pages(document_body)


def _ensure_environment() -> None:
    """The function modules read their settings on import; the document depends on none of them."""
    import os
    import secrets

    for name in ("JWT_SECRET", "CURSOR_SECRET"):
        os.environ.setdefault(name, secrets.token_hex(32))


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description="Build the API's merged OpenAPI document (docs/openapi.json).")
    action = parser.add_mutually_exclusive_group(required=True)
    action.add_argument("--write", action="store_true", help="write docs/openapi.json")
    action.add_argument("--check", action="store_true", help="exit 1 when docs/openapi.json differs from the code")
    action.add_argument("--print", action="store_true", help="print the document")
    parser.add_argument("--path", type=Path, default=DOCUMENT_PATH, help="the document's file")
    args = parser.parse_args(argv)
    _ensure_environment()
    current = render(build_document())
    if args.print:
        sys.stdout.write(current)
    elif args.write:
        args.path.parent.mkdir(parents=True, exist_ok=True)
        args.path.write_text(current, encoding="utf-8")
        print(f"wrote {args.path}", file=sys.stderr)
    else:
        committed = args.path.read_text(encoding="utf-8") if args.path.exists() else ""
        report = drift(committed, current)
        if report:
            print(report, file=sys.stderr)
            return 1
        print(f"{args.path} matches the code", file=sys.stderr)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
