"""The API's one OpenAPI document (issue 16, point 2): committed at docs/openapi.json, the same as
the code's, valid OpenAPI 3.1, merged by rules a client generator can rely on."""

from __future__ import annotations

from typing import Any

import pytest

from infra import cfn
from infra.openapi import (
    DOCUMENT_PATH,
    REGENERATE,
    DocumentClash,
    FunctionDocument,
    build_document,
    drift,
    merge,
    render,
)

_METHODS = {"get", "put", "post", "delete", "patch"}


@pytest.fixture(scope="module")
def document() -> dict[str, Any]:
    return build_document()


def _operations(document: dict[str, Any]) -> list[tuple[str, str, dict[str, Any]]]:
    return [(method, path, operation) for path, item in document["paths"].items()
            for method, operation in item.items() if method in _METHODS]


def test_the_committed_document_is_the_codes(document: dict[str, Any]) -> None:
    # Given the document the code builds, when it is compared with the committed one, then they match
    committed = DOCUMENT_PATH.read_text(encoding="utf-8") if DOCUMENT_PATH.exists() else ""
    report = drift(committed, render(document))
    assert not report, report


def test_a_drift_report_says_how_to_regenerate() -> None:
    report = drift('{\n  "a": 1\n}\n', '{\n  "a": 2\n}\n')
    assert REGENERATE in report and "+1 -1" in report


def test_the_document_is_valid_openapi_3_1(document: dict[str, Any]) -> None:
    from openapi_spec_validator import OpenAPIV31SpecValidator, validate

    validate(document, cls=OpenAPIV31SpecValidator)


def test_every_templated_route_is_documented_by_its_function(document: dict[str, Any]) -> None:
    # Given template.yaml's routes with a method and no greedy path, then each is one operation
    documented = {(method.upper(), path) for method, path, _operation in _operations(document)}
    for route in cfn.http_routes(cfn.load_template()):
        if route.method != "ANY" and "+}" not in route.path:
            assert (route.method, route.path) in documented


def test_every_operation_has_an_id_and_exactly_one_tag(document: dict[str, Any]) -> None:
    ids = [operation.get("operationId") for _method, _path, operation in _operations(document)]
    assert all(ids) and len(set(ids)) == len(ids)
    tags = {tag["name"] for tag in document["tags"]}
    for method, path, operation in _operations(document):
        assert len(operation.get("tags", [])) == 1 and operation["tags"][0] in tags, (method, path)


def test_public_routes_have_no_security_and_the_others_a_bearer(document: dict[str, Any]) -> None:
    public = {("POST", "/api/v1/auth/login"), ("POST", "/api/v1/auth/register"), ("GET", "/api/v1/health")}
    assert document["components"]["securitySchemes"]["bearer"] == {"type": "http", "scheme": "bearer",
                                                                   "bearerFormat": "JWT"}
    for method, path, operation in _operations(document):
        if (method.upper(), path) in public:
            assert operation["security"] == []
        else:
            assert operation["security"] in ([], [{"bearer": []}]), (method, path)
    assert document["paths"]["/api/v1/auth/me"]["get"]["security"] == [{"bearer": []}]


def test_servers_are_local_and_deployed(document: dict[str, Any]) -> None:
    urls = [server["url"] for server in document["servers"]]
    assert urls[0] == "http://127.0.0.1:8000"
    assert set(document["servers"][1]["variables"]) == {"apiId", "region"}


def test_no_function_serves_its_own_document_in_it(document: dict[str, Any]) -> None:
    assert not [path for path in document["paths"] if "openapi" in path]


# --- the merge rules, on small documents -------------------------------------------------------------

def _doc(paths: dict[str, Any], schemas: dict[str, Any] | None = None) -> dict[str, Any]:
    return {"openapi": "3.1.0", "info": {"title": "t", "version": "1"}, "paths": paths,
            "components": {"schemas": schemas or {}}}


def _op(operation_id: str, tag: str) -> dict[str, Any]:
    return {"operationId": operation_id, "tags": [tag], "security": [], "responses": {}}


_ROUTES = [cfn.Route("AFunction", "functions/a/", "app.handler", "GET", "/api/v1/a"),
           cfn.Route("AFunction", "functions/a/", "app.handler", "GET", "/api/v1/openapi/a.json"),
           cfn.Route("BFunction", "functions/b/", "app.handler", "ANY", "/api/v1/b/{proxy+}"),
           cfn.Route("BFunction", "functions/b/", "app.handler", "ANY", "$default")]


def test_identical_schemas_are_merged_once() -> None:
    shared = {"Thing": {"type": "object"}}
    merged = merge([FunctionDocument("AFunction", _doc({"/api/v1/a": {"get": _op("getA", "a")}}, shared)),
                    FunctionDocument("BFunction", _doc({"/api/v1/b/{id}": {"get": _op("getB", "b")}}, shared))],
                   _ROUTES)
    assert merged["components"]["schemas"] == shared
    assert [tag["name"] for tag in merged["tags"]] == ["a", "b"]
    assert set(merged["paths"]) == {"/api/v1/a", "/api/v1/b/{id}"}


def test_two_schemas_with_one_name_are_an_error_naming_both_functions() -> None:
    with pytest.raises(DocumentClash, match=r"'Thing'.*AFunction and BFunction"):
        merge([FunctionDocument("AFunction", _doc({}, {"Thing": {"type": "object"}})),
               FunctionDocument("BFunction", _doc({}, {"Thing": {"type": "string"}}))], _ROUTES)


def test_one_operation_id_in_two_functions_is_an_error() -> None:
    with pytest.raises(DocumentClash, match=r"'getA'.*AFunction and BFunction"):
        merge([FunctionDocument("AFunction", _doc({"/api/v1/a": {"get": _op("getA", "a")}})),
               FunctionDocument("BFunction", _doc({"/api/v1/b/x": {"get": _op("getA", "b")}}))], _ROUTES)


def test_operations_the_gateway_does_not_route_to_the_function_are_left_out() -> None:
    # Given B documents a path only A's route takes, and A its own document's self-route
    merged = merge([FunctionDocument("AFunction", _doc({"/api/v1/openapi/a.json": {"get": _op("doc", "a")}})),
                    FunctionDocument("BFunction", _doc({"/api/v1/a": {"get": _op("getA", "b")},
                                                        "/api/v1/elsewhere": {"get": _op("other", "b")}}))],
                   _ROUTES)
    # Then neither is in the merged document ($default does not count as serving a path)
    assert merged["paths"] == {}
