"""The response envelope ``{success, data, message, errors}`` of API.md."""

from __future__ import annotations

import json
from typing import Any

from fastapi.encoders import jsonable_encoder
from starlette.responses import JSONResponse


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
