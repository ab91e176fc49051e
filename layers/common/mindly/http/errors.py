"""Every exception becomes the envelope here, in one place.

Domain exceptions carry their own code and status (mindly.exceptions); the framework's own 404, 405
and validation errors are mapped to the same shape. A DynamoDB failure that means "busy, try again"
(throttling, a conflicting transaction, no answer; see mindly.store.errors.is_busy) that reaches the
HTTP layer, after botocore's and the services' own retries, is 503 SERVICE_UNAVAILABLE with a
Retry-After, never a 500. Unhandled exceptions are caught one level up, in mindly.http.middleware, so
that even they get the envelope and the platform headers.
"""

from __future__ import annotations

from typing import Any

from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from starlette.exceptions import HTTPException as StarletteHTTPException
from starlette.responses import JSONResponse

from mindly.exceptions import MindlyError, StoreBusy
from mindly.http.envelope import error_response
from mindly.observability import logger
from mindly.store.errors import STORE_FAILURES, is_busy, response_code

_STATUS_CODES = {
    400: ("VALIDATION_ERROR", "Malformed request"),
    401: ("AUTHENTICATION_ERROR", "Authentication required"),
    403: ("AUTHORIZATION_ERROR", "You are not allowed to do this"),
    404: ("NOT_FOUND", "Not found"),
    405: ("METHOD_NOT_ALLOWED", "Method not allowed"),
    409: ("CONFLICT", "Conflict"),
    413: ("VALIDATION_ERROR", "Request body too large"),
    415: ("VALIDATION_ERROR", "Unsupported media type"),
    422: ("VALIDATION_ERROR", "Validation failed"),
    429: ("RATE_LIMIT_EXCEEDED", "Too many requests"),
    503: ("SERVICE_UNAVAILABLE", "Service temporarily unavailable"),
}

# pydantic error types that mean the body could not be read at all, not that a field was wrong.
_MALFORMED_TYPES = {"json_invalid", "json_type", "string_unicode", "bytes_invalid_encoding"}


def _field_name(loc: tuple[Any, ...]) -> str | None:
    parts = [str(part) for part in loc if part not in ("body", "query", "path", "header", "cookie")]
    return ".".join(parts) or None


def validation_items(exc: RequestValidationError) -> tuple[int, list[dict[str, Any]]]:
    """The status and ``errors`` list for a request that failed validation.

    The offending input is never echoed back: it may be a password.
    """
    items = []
    status = 422
    for error in exc.errors():
        if error.get("type") in _MALFORMED_TYPES:
            status = 400
            items.append({"code": "VALIDATION_ERROR", "field": None,
                          "message": "Request body is not valid JSON"})
            continue
        message = str(error.get("msg", "invalid value"))
        if error.get("type") == "missing":
            message = "field required"
        elif error.get("type") == "extra_forbidden":
            message = "unknown field"
        items.append({"code": "VALIDATION_ERROR", "field": _field_name(tuple(error.get("loc", ()))),
                      "message": message})
    return status, items


async def _mindly_error(_: Request, exc: Exception) -> JSONResponse:
    assert isinstance(exc, MindlyError)
    return error_response(exc.status, exc.message, exc.error_items(), headers=exc.headers)


async def _store_failure(_: Request, exc: Exception) -> JSONResponse:
    if not is_busy(exc):
        raise exc  # a fault of ours: the middleware logs it and answers the generic 500
    logger.warning("dynamodb busy", extra={"error": type(exc).__name__, "code": response_code(exc)})
    busy = StoreBusy()
    return error_response(busy.status, busy.message, busy.error_items(), headers=busy.headers)


async def _http_error(_: Request, exc: Exception) -> JSONResponse:
    assert isinstance(exc, StarletteHTTPException)
    code, message = _STATUS_CODES.get(exc.status_code, ("INTERNAL_ERROR", "Request failed"))
    if exc.status_code >= 500:
        message = "Internal server error"
    elif isinstance(exc.detail, str) and exc.detail and exc.status_code not in (404, 405):
        message = exc.detail
    headers = dict(exc.headers or {})
    return error_response(exc.status_code, message, [{"code": code, "field": None, "message": message}],
                          headers=headers)


async def _validation_error(_: Request, exc: Exception) -> JSONResponse:
    assert isinstance(exc, RequestValidationError)
    status, items = validation_items(exc)
    message = "Malformed request" if status == 400 else "Validation failed"
    return error_response(status, message, items)


def install_error_handlers(app: FastAPI) -> None:
    """Register the mapping from exceptions to envelope answers on ``app``."""
    app.add_exception_handler(MindlyError, _mindly_error)
    for failure in STORE_FAILURES:
        app.add_exception_handler(failure, _store_failure)
    app.add_exception_handler(StarletteHTTPException, _http_error)
    app.add_exception_handler(RequestValidationError, _validation_error)
