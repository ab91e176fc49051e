"""Every answer an e2e test receives from a local stack is checked against the API's merged OpenAPI
document (issue 16, point 5): its status must be one the operation documents and its body must match
that status's schema, so the document cannot drift from what the server really sends.

The check wraps ``httpx.Client.send`` (which ``httpx.get`` and friends use too) for requests to
127.0.0.1 under /api/v1. Requests that are no API operation (a CORS preflight, an unrouted path, the
local-only document and UI) are not checked: the document does not describe them.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from typing import Any

import httpx
import pytest
from jsonschema import Draft202012Validator  # type: ignore[import-untyped]  # no stubs in the lock
from referencing import Registry, Resource
from referencing.jsonschema import DRAFT202012

from infra.openapi import DOCUMENT_ROUTE, build_document

_BASE = "urn:mindly:openapi"
_CHECKED: list[str] = []  # "METHOD path status" of every answer checked, for the run's summary
_METHODS = ("get", "put", "post", "delete", "patch")


def _pointer(*parts: str) -> str:
    return "/" + "/".join(part.replace("~", "~0").replace("/", "~1") for part in parts)


class AnswerChecker:
    """What is wrong with an answer by the document's operations (nothing for no operation)."""

    def __init__(self, document: dict[str, Any]) -> None:
        self.document = document
        self.registry: Registry[Any] = Registry().with_resource(
            _BASE, Resource.from_contents(document, default_specification=DRAFT202012))
        operations: list[tuple[int, str, str, re.Pattern[str]]] = []
        for path, item in document["paths"].items():
            pattern = re.compile("^" + re.sub(r"\\\{[^}/]+\\\}", "[^/]+", re.escape(path)) + "$")
            for method in _METHODS:
                if method in item:
                    operations.append((path.count("{"), path, method, pattern))
        self.operations = sorted(operations)  # literal paths first, as API Gateway picks them

    def operation(self, method: str, path: str) -> str | None:
        """The documented path template serving ``method path``."""
        for _params, template, documented_method, pattern in self.operations:
            if documented_method == method.lower() and pattern.match(path):
                return template
        return None

    def problems(self, method: str, path: str, status: int, content_type: str, body: bytes) -> list[str]:
        template = self.operation(method, path)
        if template is None:
            return []
        where = f"{method} {path} ({template}) answered {status}"
        responses = self.document["paths"][template][method.lower()]["responses"]
        key = next((key for key in (str(status), f"{str(status)[0]}XX", "default") if key in responses), None)
        if key is None:
            return [f"{where}, not a documented status (documented: {', '.join(sorted(responses))})"]
        pointer = _pointer("paths", template, method.lower(), "responses", key)
        response = responses[key]
        if "$ref" in response:
            pointer = response["$ref"].removeprefix("#")
            response = self.registry.resolver(_BASE).lookup(f"{_BASE}#{pointer}").contents
        if "application/json" not in response.get("content", {}):
            return []
        if not content_type.startswith("application/json"):
            return [f"{where} with {content_type!r}, not the documented application/json"]
        schema = {"$ref": f"{_BASE}#{pointer}{_pointer('content', 'application/json', 'schema')}"}
        validator = Draft202012Validator(schema, registry=self.registry)
        try:
            instance = httpx.Response(status, content=body).json()
        except ValueError:
            return [f"{where} with a body that is not JSON"]
        return [f"{where}: {error.message} at {error.json_path}" for error in validator.iter_errors(instance)]


@pytest.fixture(scope="session")
def answer_checker() -> AnswerChecker:
    return AnswerChecker(build_document())


@pytest.fixture(scope="session", autouse=True)
def answers_match_the_document(answer_checker: AnswerChecker) -> Iterator[list[str]]:
    """Check every answer from a local stack, failing the request that received a wrong one."""
    checked = _CHECKED
    send = httpx.Client.send

    def checked_send(client: httpx.Client, request: httpx.Request, **kwargs: Any) -> httpx.Response:
        response = send(client, request, **kwargs)
        path = request.url.path
        if request.url.host == "127.0.0.1" and path.startswith("/api/v1/") and path != DOCUMENT_ROUTE:
            response.read()
            problems = answer_checker.problems(request.method, path, response.status_code,
                                               response.headers.get("content-type", ""), response.content)
            assert not problems, "the answer does not match docs/openapi.json:\n" + "\n".join(problems)
            checked.append(f"{request.method} {path} {response.status_code}")
        return response

    with pytest.MonkeyPatch.context() as patch:
        patch.setattr(httpx.Client, "send", checked_send)
        yield checked


def pytest_terminal_summary(terminalreporter: pytest.TerminalReporter) -> None:
    if _CHECKED:
        operations = len({answer.rsplit(" ", 1)[0] for answer in _CHECKED})
        terminalreporter.write_line(f"{len(_CHECKED)} answers ({operations} method/path pairs) matched the "
                                    "merged OpenAPI document")
