"""The app factory every function uses: one FastAPI app with the platform installed."""

from __future__ import annotations

import types
import typing
from collections import Counter
from collections.abc import Callable, Sequence
from typing import Any, Literal

from fastapi import Depends, FastAPI, Request
from mangum import Mangum

from mindly import __version__, runtime_hooks
from mindly.cache.client import get_redis
from mindly.config import get_settings
from mindly.exceptions import ServiceUnavailable, ValidationFailed
from mindly.http.envelope import ENVELOPE_SCHEMAS, Envelope, error_response
from mindly.http.errors import install_error_handlers
from mindly.http.middleware import PlatformMiddleware
from mindly.http.schemas import AnswerData, answer_model, answers
from mindly.http.unrouted import DefaultRouteAnswer
from mindly.observability import lambda_entry, logger

API_PREFIX = "/api/v1"

# Every error status an operation may answer, with what it means and the envelope codes it carries.
_ERRORS: dict[int, tuple[str, tuple[str, ...]]] = {
    400: ("Malformed request: the body is not JSON or not UTF-8", ("VALIDATION_ERROR",)),
    401: ("Missing, invalid, expired or revoked token, or bad credentials", ("AUTHENTICATION_ERROR",)),
    403: ("The account may not do this", ("AUTHORIZATION_ERROR",)),
    404: ("Not found", ("NOT_FOUND",)),
    409: ("Conflicts with what is stored (or a mock test's time is over)", ("CONFLICT", "DEADLINE_PASSED")),
    413: ("Request body over 1 MB", ("VALIDATION_ERROR",)),
    422: ("Validation failed (or the bank cannot fill a mock test)",
          ("VALIDATION_ERROR", "INVALID_EXAM_TYPE", "INSUFFICIENT_CONTENT")),
    423: ("Account locked after repeated failed logins", ("ACCOUNT_LOCKED",)),
    429: ("Too many requests", ("RATE_LIMIT_EXCEEDED",)),
    501: ("Not available in this deployment", ("NOT_IMPLEMENTED",)),
    503: ("A backing service is busy or unreachable; try again", ("SERVICE_UNAVAILABLE",)),
}
# Headers an answer of that status always carries.
_REQUIRED_HEADERS: dict[int, tuple[str, ...]] = {401: ("WWW-Authenticate",), 423: ("Retry-After",),
                                                 429: ("Retry-After",), 503: ("Retry-After",)}


def error_responses(*statuses: int) -> dict[int | str, dict[str, Any]]:
    """``responses=`` for a route that answers these error statuses beyond the platform's own
    (create_app documents auth, rate limits, validation and body errors by itself)."""
    return {status: {"description": _ERRORS[status][0]} for status in statuses}


def _skip_pydantic_v1_probe() -> None:
    """Spare every cold start an import of pydantic.v1.

    For each route parameter FastAPI asks whether its type is a pydantic.v1 model, only to refuse
    one; asking imports pydantic.v1, about 5% of a function's cold start (bench/cold_start.py
    --instructions). Mindly has no v1 models (pydantic v2 only), so the answer is always no.
    """
    import fastapi.utils

    if hasattr(fastapi.utils, "annotation_is_pydantic_v1"):
        fastapi.utils.annotation_is_pydantic_v1 = lambda annotation: False


_skip_pydantic_v1_probe()
# SnapStart: drop network clients around the snapshot and re-seed `random` after each restore.
runtime_hooks.install()


def _check(probe: Any) -> str:
    try:
        probe()
    except Exception as exc:  # a health check reports every failure, whatever its type
        logger.warning("health check failed", extra={"probe": getattr(probe, "__name__", "?"),
                                                      "error": type(exc).__name__})
        return "error"
    return "ok"


class HealthChecks(AnswerData):
    dynamodb: Literal["ok", "error"]
    redis: Literal["ok", "error"]


class Health(AnswerData):
    status: Literal["ok", "degraded"]
    version: str
    checks: HealthChecks


@answers(Health)
def health() -> Any:
    """GET /api/v1/health: are DynamoDB and Redis answering?"""
    from mindly.store import users

    checks = {"dynamodb": _check(users.ping), "redis": _check(lambda: get_redis().ping())}
    healthy = all(value == "ok" for value in checks.values())
    data = {"status": "ok" if healthy else "degraded", "version": __version__, "checks": checks}
    if healthy:
        return Envelope(data)
    return error_response(503, "degraded", [
        {"code": "SERVICE_UNAVAILABLE", "field": name, "message": f"{name} is not answering"}
        for name, value in checks.items() if value != "ok"
    ], headers={"Retry-After": str(ServiceUnavailable.retry_after_seconds)}, data=data)


def _takes_many(annotation: Any) -> bool:
    origin = typing.get_origin(annotation)
    if origin in (typing.Union, types.UnionType):
        return any(_takes_many(arg) for arg in typing.get_args(annotation))
    candidate = origin or annotation
    return isinstance(candidate, type) and issubclass(candidate, (list, tuple, set, frozenset, Sequence)) \
        and not issubclass(candidate, (str, bytes))


def one_value_per_query_parameter(request: Request) -> None:
    """A single-valued query parameter given twice (``?exam=UPSC&exam=GATE``) is a 422, not read as
    its last value: which one the client meant is anyone's guess."""
    route = request.scope.get("route")
    dependant = getattr(route, "dependant", None)
    if dependant is None:
        return
    repeated = {name for name, count in Counter(key for key, _ in request.query_params.multi_items()).items()
                if count > 1}
    for param in dependant.query_params:
        if param.alias in repeated and not _takes_many(param.field_info.annotation):
            raise ValidationFailed("must be given once", field=param.alias)


def _dependency_calls(dependant: Any) -> set[Any]:
    calls = set()
    for sub in dependant.dependencies:
        calls.add(sub.call)
        calls |= _dependency_calls(sub)
    return calls


def _platform_statuses(route: Any) -> set[int]:
    """The error statuses the platform itself may answer on ``route``: bad bodies, bad parameters,
    authentication and its rate limit, the per-IP limits, the admin check, a busy backend."""
    from mindly.http.auth import current_user, require_admin

    calls = _dependency_calls(route.dependant)
    statuses = set()
    if route.body_field is not None:
        statuses |= {400, 413, 422}
    if route.dependant.query_params or route.dependant.path_params:
        statuses.add(422)
    if current_user in calls:
        statuses |= {401, 429, 503}
    if require_admin in calls:
        statuses.add(403)
    if any(getattr(call, "__name__", "").startswith("limit_") for call in calls):  # mindly.http.limits
        statuses |= {429, 503}
    return statuses


def _headers(status: int) -> dict[str, Any]:
    names = ("X-Request-Id", *_REQUIRED_HEADERS.get(status, ()))
    return {name: {"required": True, "schema": {"type": "string", "minLength": 1}} for name in names}


def _error_response(status: int) -> dict[str, Any]:
    """The documented answer of an error status: the failure envelope with that status's codes."""
    description, codes = _ERRORS[status]
    schema = {"allOf": [{"$ref": "#/components/schemas/ErrorEnvelope"},
                        {"properties": {"errors": {"items": {"properties": {"code": {"enum": list(codes)}}}}}}]}
    return {"description": description, "headers": _headers(status),
            "content": {"application/json": {"schema": schema}}}


def _document_operation(operation: dict[str, Any], route: Any) -> None:
    documented = {int(key): value for key, value in operation.get("responses", {}).items()}
    platform = _platform_statuses(route)
    responses: dict[str, Any] = {}
    for status in sorted(documented.keys() | platform):
        if status < 400:
            responses[str(status)] = {"description": documented[status].get("description", "Success"),
                                      "headers": _headers(status),
                                      "content": {"application/json": {
                                          "schema": {"$ref": "#/components/schemas/Envelope"}}}}
        else:
            responses[str(status)] = {"$ref": f"#/components/responses/Error{status}"}
    operation["responses"] = responses
    if 401 in platform:  # the route needs a bearer token (login's 401 is about credentials)
        operation["security"] = [{"bearer": []}]
    else:
        operation["security"] = []  # public: no token (the document declares bearer by default)


def _typed_answers(document: dict[str, Any], app: FastAPI) -> None:
    """Type each operation's 2xx envelope with the data model its endpoint declared
    (mindly.http.schemas.answers): ``<Model>Envelope``, the success envelope whose ``data`` is
    the model. The models' JSON Schemas (serialization mode) go into the components."""
    from fastapi.routing import APIRoute
    from pydantic.json_schema import models_json_schema

    routes = [route for route in app.routes if isinstance(route, APIRoute) and route.include_in_schema]
    declared = {route.endpoint: model for route in routes if (model := answer_model(route.endpoint)) is not None}
    if not declared:
        return
    keys, definitions = models_json_schema([(model, "serialization") for model in dict.fromkeys(declared.values())],
                                           ref_template="#/components/schemas/{model}")
    schemas = document["components"]["schemas"]
    schemas.update(definitions.get("$defs", {}))
    for route in routes:
        model = declared.get(route.endpoint)
        if model is None:
            continue
        name = f"{model.__name__}Envelope"
        schemas[name] = {**ENVELOPE_SCHEMAS["Envelope"], "properties": {
            **ENVELOPE_SCHEMAS["Envelope"]["properties"], "data": keys[(model, "serialization")]}}
        for method in route.methods or ():
            operation = document["paths"].get(route.path_format, {}).get(method.lower())
            for status, response in (operation or {}).get("responses", {}).items():
                if int(status) < 400:
                    response["content"]["application/json"]["schema"] = {"$ref": f"#/components/schemas/{name}"}


def _with_envelope(app: FastAPI) -> dict[str, Any]:
    """The app's OpenAPI document saying what the platform really answers: the envelope on every
    status (not FastAPI's ``HTTPValidationError``), and every error status an operation can give."""
    from fastapi.routing import APIRoute

    document = FastAPI.openapi(app)
    components = document.setdefault("components", {})
    schemas = components.setdefault("schemas", {})
    for unused in ("HTTPValidationError", "ValidationError"):
        schemas.pop(unused, None)
    schemas.update(ENVELOPE_SCHEMAS)
    components["responses"] = {f"Error{status}": _error_response(status) for status in _ERRORS}
    components["securitySchemes"] = {"bearer": {"type": "http", "scheme": "bearer", "bearerFormat": "JWT"}}
    for route in app.routes:
        if isinstance(route, APIRoute) and route.include_in_schema:
            for method in route.methods or ():  # typed optional by fastapi; an APIRoute always has them
                operation = document["paths"].get(route.path_format, {}).get(method.lower())
                if operation is not None:
                    _document_operation(operation, route)
                    operation["tags"] = operation.get("tags") or [group_of(app)]
    _typed_answers(document, app)
    return document


def group_of(app: FastAPI) -> str:
    """The endpoint group (function) an app serves: its documents' tag."""
    return str(app.title).removeprefix("Mindly ")


def create_app(group: str, *, with_health: bool = False) -> FastAPI:
    """A FastAPI app for one endpoint group with the envelope, errors and middleware installed.

    Interactive docs are off: the CSP forbids the scripts they need, and clients use API.md.
    """
    settings = get_settings()
    app = FastAPI(title=f"Mindly {group}", version=__version__, docs_url=None, redoc_url=None,
                  openapi_url=f"{API_PREFIX}/openapi/{group}.json",
                  dependencies=[Depends(one_value_per_query_parameter)])
    install_error_handlers(app)
    # Inside the platform middleware (added last, so outermost): a $default answer gets its headers too.
    app.add_middleware(DefaultRouteAnswer)
    app.add_middleware(PlatformMiddleware, cors_origins=settings.cors_origins)
    if with_health:
        app.add_api_route(f"{API_PREFIX}/health", health, methods=["GET"],
                          responses=error_responses(503), operation_id="getHealth")

    def openapi() -> dict[str, Any]:
        if app.openapi_schema is None:
            app.openapi_schema = _with_envelope(app)
        return app.openapi_schema

    app.openapi = openapi  # type: ignore[method-assign]  # FastAPI's documented way to extend the OpenAPI document
    return app


LambdaHandler = Callable[[dict[str, Any], Any], dict[str, Any]]


def lambda_handler(app: FastAPI) -> LambdaHandler:
    """The Lambda entry point of an API function: Mangum driving ``app`` inside one observed
    invocation (mindly.observability: the Lambda context on every log line, the invocation's
    metrics flushed once at its end)."""
    return lambda_entry(Mangum(app, lifespan="off"))
