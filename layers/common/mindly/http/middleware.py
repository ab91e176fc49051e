"""The outermost layer of every function's app (a pure ASGI middleware).

It owns what must hold for every response, including ones the framework or an unhandled error
produce: the request id, security headers, CORS for the configured origins only, the body-size
guard, the generic 500 envelope (no stack trace leaves the server), one structured log line per
request, the request id and the Lambda context on every log line of the request
(mindly.observability), and the count of 503 answers (metric ``ServiceUnavailableAnswers`` by
function): every 503 leaves through here, whoever raised it.
"""

from __future__ import annotations

import ipaddress
import re
import time
import uuid
from typing import Any

from starlette.datastructures import Headers, MutableHeaders
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from mindly.exceptions import PayloadTooLarge
from mindly.http.envelope import error_body
from mindly.observability import count, current_function, invocation, log_keys, logger

MAX_BODY_BYTES = 1024 * 1024
_REQUEST_ID = re.compile(r"^[A-Za-z0-9._-]{8,64}$")
# Public: the local router and dev server put them on the answers they write themselves.
SECURITY_HEADERS = {
    "strict-transport-security": "max-age=63072000; includeSubDomains",
    "x-content-type-options": "nosniff",
    "x-frame-options": "DENY",
    "referrer-policy": "no-referrer",
    # A JSON API renders nothing: forbid every kind of content and framing.
    "content-security-policy": "default-src 'none'; frame-ancestors 'none'; base-uri 'none'",
    "cross-origin-opener-policy": "same-origin",
}
_CORS_METHODS = "GET, POST, PUT, PATCH, DELETE, OPTIONS"
_CORS_HEADERS = {"authorization", "content-type", "x-request-id", "idempotency-key"}
_CORS_EXPOSE = "X-Request-Id, Retry-After, X-RateLimit-Limit, X-RateLimit-Remaining, X-RateLimit-Reset"


def client_ip(scope: Scope) -> str:
    """The caller's address: API Gateway's sourceIp in AWS, the socket peer locally.

    X-Forwarded-For is not trusted: a client could set it to dodge per-IP limits.
    """
    event = scope.get("aws.event") or {}
    source = (event.get("requestContext") or {}).get("http", {}).get("sourceIp")
    if source:
        return str(source)
    client = scope.get("client")
    return str(client[0]) if client else "unknown"


def client_network(address: str) -> str:
    """The unit per-IP limits count: an IPv4 address as it is, an IPv6 address by its /64.

    One IPv6 subscriber (a phone on Jio, a home router) is handed a whole /64 and may pick any
    address in it, so counting single IPv6 addresses would give one client 2**64 fresh buckets. An
    IPv4-mapped IPv6 address counts as its IPv4 address. Anything that does not parse is kept
    as given (it still names one bucket).
    """
    try:
        parsed = ipaddress.ip_address(address.strip().split("%", 1)[0])
    except ValueError:
        return address
    if isinstance(parsed, ipaddress.IPv6Address):
        if parsed.ipv4_mapped is not None:
            return str(parsed.ipv4_mapped)
        return str(ipaddress.IPv6Network((parsed, 64), strict=False))
    return str(parsed)


def _declared_length(headers: Headers) -> int:
    value = headers.get("content-length", "")
    return int(value) if value.isdigit() else 0


def _request_id(headers: Headers, scope: Scope) -> str:
    supplied = headers.get("x-request-id", "")
    if _REQUEST_ID.match(supplied):
        return supplied
    event = scope.get("aws.event") or {}
    gateway_id = (event.get("requestContext") or {}).get("requestId")
    return str(gateway_id) if gateway_id else uuid.uuid4().hex


class PlatformMiddleware:
    """See the module docstring."""

    def __init__(self, app: ASGIApp, cors_origins: list[str]) -> None:
        self.app = app
        self.cors_origins = set(cors_origins)

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        headers = Headers(scope=scope)
        request_id = _request_id(headers, scope)
        # Mangum puts the Lambda context in the scope, and so does the local router: under the
        # handler's own wrapper this binds only the request id; called bare, the whole invocation.
        with invocation(scope.get("aws.context")), log_keys(request_id=request_id):
            await self._serve(scope, receive, send, headers, request_id)

    async def _serve(self, scope: Scope, receive: Receive, send: Send, headers: Headers,
                     request_id: str) -> None:
        started = time.perf_counter()
        state: dict[str, Any] = scope.setdefault("state", {})
        state["request_id"] = request_id
        origin = headers.get("origin")
        response = {"status": 500, "started": False}

        async def send_with_headers(message: Message) -> None:
            if message["type"] == "http.response.start":
                response["status"] = message["status"]
                response["started"] = True
                self._decorate(MutableHeaders(scope=message), scope, state, origin)
            await send(message)

        try:
            if scope["method"] == "OPTIONS" and origin and "access-control-request-method" in headers:
                await self._preflight(origin, headers, send_with_headers)
            elif _declared_length(headers) > MAX_BODY_BYTES:
                await self._too_large(send_with_headers)
            else:
                replay = await self._buffered_body(receive)
                if replay is None:
                    await self._too_large(send_with_headers)
                else:
                    await self.app(scope, replay, send_with_headers)
        except Exception:
            logger.exception("unhandled error", extra={"request_id": request_id,
                                                       "path": scope.get("path")})
            if not response["started"]:
                await self._send_error(send_with_headers, 500, "INTERNAL_ERROR", "Internal server error")
        finally:
            if response["status"] == 503:
                count("ServiceUnavailableAnswers", function=current_function())
            logger.info("request", extra={
                "method": scope["method"],
                "path": scope.get("path"),
                "status": response["status"],
                "duration_ms": round((time.perf_counter() - started) * 1000, 2),
                "user_id": state.get("user_id"),
                "request_id": request_id,
            })

    @staticmethod
    async def _buffered_body(receive: Receive) -> Receive | None:
        """Read the body up front, at most MAX_BODY_BYTES of it (a missing or false Content-Length is
        no way around the cap); None when it is larger. Returns a receive that replays it."""
        messages: list[Message] = []
        size = 0
        while True:
            message = await receive()
            messages.append(message)
            if message["type"] != "http.request":
                break
            size += len(message.get("body", b""))
            if size > MAX_BODY_BYTES:
                return None
            if not message.get("more_body", False):
                break

        async def replay() -> Message:
            return messages.pop(0) if messages else await receive()

        return replay

    async def _too_large(self, send: Send) -> None:
        await self._send_error(send, PayloadTooLarge.status, PayloadTooLarge.code, PayloadTooLarge.default_message)

    def _decorate(self, out: MutableHeaders, scope: Scope, state: dict[str, Any],
                  origin: str | None) -> None:
        out["x-request-id"] = state["request_id"]
        for name, value in SECURITY_HEADERS.items():
            out.setdefault(name, value)
        path = scope.get("path", "")
        if "/auth/" in path or any(name == b"authorization" for name, _ in scope.get("headers", [])):
            out["cache-control"] = "no-store"
            out["pragma"] = "no-cache"
        limit = state.get("rate_limit")
        if limit is not None:
            out["x-ratelimit-limit"] = str(limit["limit"])
            out["x-ratelimit-remaining"] = str(limit["remaining"])
            out["x-ratelimit-reset"] = str(limit["reset"])
        if origin and origin in self.cors_origins:
            out["access-control-allow-origin"] = origin
            out["access-control-allow-credentials"] = "true"
            out["access-control-expose-headers"] = _CORS_EXPOSE
            out.add_vary_header("Origin")

    async def _preflight(self, origin: str, headers: Headers, send: Send) -> None:
        if origin not in self.cors_origins:
            await self._send_error(send, 403, "AUTHORIZATION_ERROR", "Origin not allowed")
            return
        requested = {h.strip().lower() for h in headers.get("access-control-request-headers", "").split(",")
                     if h.strip()}
        if not requested <= _CORS_HEADERS:
            await self._send_error(send, 403, "AUTHORIZATION_ERROR", "Request header not allowed")
            return
        await send({"type": "http.response.start", "status": 204, "headers": [
            (b"access-control-allow-methods", _CORS_METHODS.encode()),
            (b"access-control-allow-headers", ", ".join(sorted(_CORS_HEADERS)).encode()),
            (b"access-control-max-age", b"600"),
        ]})
        await send({"type": "http.response.body", "body": b""})

    @staticmethod
    async def _send_error(send: Send, status: int, code: str, message: str) -> None:
        body = error_body(status, message, [{"code": code, "field": None, "message": message}])
        await send({"type": "http.response.start", "status": status, "headers": [
            (b"content-type", b"application/json"),
            (b"content-length", str(len(body)).encode()),
        ]})
        await send({"type": "http.response.body", "body": body})
