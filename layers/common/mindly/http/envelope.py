"""The response envelope ``{success, data, message, errors}`` of API.md."""

from __future__ import annotations

import json
from typing import Any

from fastapi.encoders import jsonable_encoder
from starlette.responses import JSONResponse

# The error codes of API.md (with its December additions), plus the two the README adds (405 and 501).
ERROR_CODES = ("VALIDATION_ERROR", "AUTHENTICATION_ERROR", "AUTHORIZATION_ERROR", "NOT_FOUND", "METHOD_NOT_ALLOWED",
               "CONFLICT", "ACCOUNT_LOCKED", "RATE_LIMIT_EXCEEDED", "INVALID_EXAM_TYPE", "NOT_IMPLEMENTED",
               "SERVICE_UNAVAILABLE", "INTERNAL_ERROR", "DEADLINE_PASSED", "INSUFFICIENT_CONTENT")

# The envelope as JSON Schema, for the OpenAPI documents (mindly.http.app): a success carries no
# errors; a failure carries at least one, each with a code, the field it is about (or null) and a
# message.
ENVELOPE_SCHEMAS: dict[str, dict[str, Any]] = {
    "ErrorItem": {
        "type": "object",
        "required": ["code", "field", "message"],
        "properties": {
            "code": {"type": "string", "enum": list(ERROR_CODES)},
            "field": {"type": ["string", "null"]},
            "message": {"type": "string", "minLength": 1},
        },
    },
    "Envelope": {
        "type": "object",
        "required": ["success", "data", "message", "errors"],
        "additionalProperties": False,
        "properties": {
            "success": {"const": True},
            "data": {},
            "message": {"type": "string"},
            "errors": {"type": "array", "maxItems": 0},
        },
    },
    "ErrorEnvelope": {
        "type": "object",
        "required": ["success", "data", "message", "errors"],
        "additionalProperties": False,
        "properties": {
            "success": {"const": False},
            "data": {},
            "message": {"type": "string", "minLength": 1},
            "errors": {"type": "array", "minItems": 1, "items": {"$ref": "#/components/schemas/ErrorItem"}},
        },
    },
}


def envelope(data: Any = None, message: str = "ok", errors: list[dict[str, Any]] | None = None,
             success: bool = True) -> dict[str, Any]:
    """The envelope as a plain dict."""
    return {"success": success, "data": data, "message": message, "errors": errors or []}


class Envelope(JSONResponse):
    """A JSON response whose body is the envelope around ``data``."""

    def __init__(self, data: Any = None, status_code: int = 200, message: str = "ok",
                 headers: dict[str, str] | None = None) -> None:
        super().__init__(envelope(jsonable_encoder(data), message), status_code=status_code,
                         headers=headers)


def error_body(status: int, message: str, errors: list[dict[str, Any]],
               data: Any = None) -> bytes:
    """The encoded envelope of a failed request."""
    return json.dumps(envelope(data, message, errors, success=False), separators=(",", ":")).encode()


def error_response(status: int, message: str, errors: list[dict[str, Any]],
                   headers: dict[str, str] | None = None, data: Any = None) -> JSONResponse:
    """A failed request's response, envelope included."""
    return JSONResponse(envelope(data, message, errors, success=False), status_code=status,
                        headers=headers)
