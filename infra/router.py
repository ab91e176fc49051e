"""One local HTTP server for every endpoint group, routed like API Gateway routes them.

The routes are template.yaml's HttpApi events (``infra.cfn.http_routes``), and the choice among them
is ``infra.cfn``'s API Gateway precedence, so a function reachable locally is reachable in AWS by
the same method and path. CORS preflights (OPTIONS), which API Gateway answers itself, go to the
function owning the path, whose platform middleware answers them. A request no route takes goes to
the ``$default`` route, as in AWS; its event names the route (``aws.event``'s ``routeKey``), so the
function answers it as unrouted (mindly.http.unrouted: 404, or 405 with Allow).

The platform's limits are enforced as in AWS (``Limits``): API Gateway refuses a request line and
header values over 10240 bytes (431 here), a body over 10 MB (413) and gives up on an integration
after 30 s (503); Lambda refuses an event over 6 MB, stops a function at its template Timeout and
fails a response over 6 MB, which API Gateway answers with 500. To know the response's size the
router holds it until it is complete, as Lambda does. These answers are in the API's envelope here,
with the platform's security headers (and Retry-After on the 503); in AWS, API Gateway writes them
itself (``{"message": ...}``), without either.
"""

from __future__ import annotations

import asyncio
import base64
import json
import logging
import uuid
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from starlette.types import ASGIApp, Message, Receive, Scope, Send

from infra.cfn import Route
from infra.sqs_poller import LocalContext
from mindly.http.middleware import SECURITY_HEADERS

log = logging.getLogger(__name__)

# API Gateway HTTP API quotas (not adjustable): total combined size of request line and header values
# 10240 bytes, payload size 10 MB, integration timeout 30 s.
API_GATEWAY_MAX_HEADER_BYTES = 10240
API_GATEWAY_MAX_BODY_BYTES = 10 * 1024 * 1024  # "HTTP content length exceeded 10485760 bytes"
API_GATEWAY_TIMEOUT_SECONDS = 30.0
# What the router's 503 (no answer from the integration in time) tells the client to wait, in seconds.
GATEWAY_TIMEOUT_RETRY_AFTER_SECONDS = 5
# Lambda, synchronous invocation: 6 MB each way. Lambda's own messages: "Request must be smaller than
# 6291456 bytes for the InvokeFunction operation", "Response payload size exceeded maximum allowed
# payload size (6291556 bytes)".
LAMBDA_MAX_EVENT_BYTES = 6 * 1024 * 1024
LAMBDA_MAX_RESPONSE_BYTES = 6 * 1024 * 1024 + 100
LAMBDA_DEFAULT_TIMEOUT_SECONDS = 3.0  # when neither the function nor Globals say

# Mangum's text types: any other body travels base64-encoded in the event and in the response.
_TEXT_TYPES = ("text/", "application/json", "application/javascript", "application/xml",
               "application/vnd.api+json", "application/vnd.oai.openapi", "application/x-www-form-urlencoded")


@dataclass(frozen=True)
class Limits:
    """The platform limits the router enforces (tests lower them)."""

    max_header_bytes: int = API_GATEWAY_MAX_HEADER_BYTES
    max_body_bytes: int = API_GATEWAY_MAX_BODY_BYTES
    integration_timeout: float = API_GATEWAY_TIMEOUT_SECONDS
    max_event_bytes: int = LAMBDA_MAX_EVENT_BYTES
    max_response_bytes: int = LAMBDA_MAX_RESPONSE_BYTES


def function_timeouts(template: Mapping[str, Any]) -> dict[str, float]:
    """Each function's Timeout in seconds (its own, else Globals', else Lambda's 3 s), by logical id."""
    default = ((template.get("Globals") or {}).get("Function") or {}).get("Timeout", LAMBDA_DEFAULT_TIMEOUT_SECONDS)
    return {logical_id: float((resource.get("Properties") or {}).get("Timeout", default))
            for logical_id, resource in (template.get("Resources") or {}).items()
            if resource.get("Type") == "AWS::Serverless::Function"}


def is_text(content_type: str | None) -> bool:
    return bool(content_type) and str(content_type).lower().startswith(_TEXT_TYPES)


def _headers_and_cookies(raw: Any, cookie_header: str) -> tuple[dict[str, str], list[str]]:
    """ASGI headers as API Gateway and Mangum shape them: repeated headers joined with commas, and
    cookies apart (a request's ``cookie`` header split at ``;``, each ``set-cookie`` of an answer)."""
    headers: dict[str, str] = {}
    cookies: list[str] = []
    for raw_name, raw_value in raw:
        name, value = raw_name.decode("latin-1").lower(), raw_value.decode("latin-1")
        if name != cookie_header:
            headers[name] = f"{headers[name]},{value}" if name in headers else value
        elif name == "cookie":
            cookies.extend(part.strip() for part in value.split(";") if part.strip())
        else:
            cookies.append(value)
    return headers, cookies


def request_head_size(scope: Scope) -> int:
    """What API Gateway's header quota counts of a request, in bytes: its request line
    (``GET /path?query HTTP/1.1``) and its header values."""
    target = scope.get("raw_path") or scope.get("path", "/").encode("utf-8")
    query = scope.get("query_string", b"")
    line = (f"{scope.get('method', 'GET')} ".encode() + target + (b"?" + query if query else b"")
            + f" HTTP/{scope.get('http_version', '1.1')}".encode())
    return len(line) + sum(len(value) for _name, value in scope.get("headers", []))


def event_size(scope: Scope, body: bytes) -> int:
    """The size of the API Gateway HTTP API (payload 2.0) event this request becomes, in bytes of JSON."""
    headers, cookies = _headers_and_cookies(scope.get("headers", []), "cookie")
    method, path = scope.get("method", "GET"), scope.get("path", "/")
    query = scope.get("query_string", b"").decode("latin-1")
    encoded = not is_text(headers.get("content-type"))
    if body and not encoded:
        try:
            text: str | None = body.decode("utf-8")
        except UnicodeDecodeError:
            encoded, text = True, None
    shell = {
        "version": "2.0", "routeKey": f"{method} {path}", "rawPath": path, "rawQueryString": query,
        "cookies": cookies, "headers": headers, "queryStringParameters": {}, "pathParameters": {},
        "requestContext": {"accountId": "123456789012", "apiId": "api-id", "domainName": headers.get("host", ""),
                           "domainPrefix": "id", "http": {"method": method, "path": path, "protocol": "HTTP/1.1",
                                                          "sourceIp": "127.0.0.1",
                                                          "userAgent": headers.get("user-agent", "")},
                           "requestId": "x" * 16, "routeKey": f"{method} {path}", "stage": "$default",
                           "time": "01/Jan/2026:00:00:00 +0000", "timeEpoch": 1767225600000},
        "body": "", "isBase64Encoded": encoded,
    }
    size = len(json.dumps(shell).encode())
    if body:
        size += (len(base64.b64encode(body)) if encoded or text is None
                 else len(json.dumps(text).encode()) - 2)
    return size


def response_size(start: Message, body: bytes) -> int:
    """The size of the Lambda proxy response Mangum would return for this answer, in bytes of JSON."""
    headers, cookies = _headers_and_cookies(start.get("headers", []), "set-cookie")
    encoded = bool(body) and not is_text(headers.get("content-type"))
    payload = {"statusCode": start.get("status", 200), "headers": headers, "cookies": cookies,
               "isBase64Encoded": encoded, "body": ""}
    size = len(json.dumps(payload).encode())
    if body:
        if encoded:
            size += len(base64.b64encode(body))
        else:
            size += len(json.dumps(body.decode("utf-8", "replace")).encode()) - 2
    return size


class GatewayRouter:
    """An ASGI app dispatching each request to the function app that owns its route, within the
    platform's limits (``Limits``; ``timeouts``: each function's Timeout by logical id)."""

    def __init__(self, routes: list[tuple[Route, ASGIApp]], timeouts: Mapping[str, float] | None = None,
                 limits: Limits | None = None, pages: Mapping[str, ASGIApp] | None = None) -> None:
        self.routes = sorted(routes, key=lambda pair: pair[0].precedence)
        self.timeouts = dict(timeouts or {})
        self.limits = limits or Limits()
        # Paths only the local stack answers, before any route (infra.openapi.local_pages: the API's
        # document and its browsable UI); template.yaml routes none of them, so AWS does not serve them.
        self.pages = dict(pages or {})

    def match(self, method: str, path: str) -> Route | None:
        route_and_app = self._find(method, path)
        return route_and_app[0] if route_and_app else None

    def _find(self, method: str, path: str) -> tuple[Route, ASGIApp] | None:
        for route, app in self.routes:
            wanted = (route.method if route.method != "ANY" else "GET") if method == "OPTIONS" else method
            if route.match(wanted, path) is not None:
                return route, app
        return None

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] == "lifespan":
            message = await receive()
            while message["type"] != "lifespan.shutdown":
                await send({"type": message["type"] + ".complete"})
                message = await receive()
            await send({"type": "lifespan.shutdown.complete"})
            return
        if scope["type"] == "http" and request_head_size(scope) > self.limits.max_header_bytes:
            await _error(send, 431, "VALIDATION_ERROR", f"The request line and headers are over "
                         f"{self.limits.max_header_bytes} bytes", "Request Header Fields Too Large")
            return
        page = self.pages.get(scope.get("path", "")) if scope["type"] == "http" else None
        if page is not None:
            await page(scope, receive, send)
            return
        found = self._find(scope.get("method", "GET"), scope.get("path", ""))
        if found is None:
            await self._unrouted(scope, send)
            return
        if scope["type"] != "http":
            await found[1](scope, receive, send)
            return
        await self._invoke(found[0], found[1], scope, receive, send)

    async def _unrouted(self, scope: Scope, send: Send) -> None:
        """No route and no ``$default`` route: 405 with Allow when other methods serve the path, else 404."""
        path = scope.get("path", "")
        allowed = sorted({route.method for route, _app in self.routes
                          if route.method != "ANY" and route.path != "$default"
                          and route.match(route.method, path) is not None})
        if allowed:
            await _error(send, 405, "METHOD_NOT_ALLOWED", "Method not allowed", "Method not allowed",
                         {"allow": ", ".join(allowed)})
        else:
            await _error(send, 404, "NOT_FOUND", "No route for this method and path", "Not found")

    async def _invoke(self, route: Route, app: ASGIApp, scope: Scope, receive: Receive, send: Send) -> None:
        limits = self.limits
        # API Gateway: the request body (10 MB).
        declared = next((value for name, value in scope.get("headers", []) if name.lower() == b"content-length"), None)
        if declared is not None and declared.isdigit() and int(declared) > limits.max_body_bytes:
            await _error(send, 413, "VALIDATION_ERROR", "Request Entity Too Large", "Request Entity Too Large")
            return
        body = bytearray()
        while True:
            message = await receive()
            if message["type"] == "http.disconnect":
                return
            body += message.get("body", b"")
            if len(body) > limits.max_body_bytes:
                await _error(send, 413, "VALIDATION_ERROR", "Request Entity Too Large", "Request Entity Too Large")
                return
            if not message.get("more_body", False):
                break
        # Lambda: the invocation payload, i.e. the event (6 MB).
        if event_size(scope, bytes(body)) > limits.max_event_bytes:
            log.warning("%s: event over %d bytes, Lambda would refuse the invocation", route.function_logical_id,
                        limits.max_event_bytes)
            await _internal_error(send)
            return
        delivered = False

        async def replay() -> Message:
            nonlocal delivered
            if not delivered:
                delivered = True
                return {"type": "http.request", "body": bytes(body), "more_body": False}
            return await receive()

        start: dict[str, Message] = {}
        chunks: list[bytes] = []
        done = asyncio.Event()

        async def hold(message: Message) -> None:
            if message["type"] == "http.response.start":
                start["message"] = message
            elif message["type"] == "http.response.body":
                chunks.append(message.get("body", b""))
                if not message.get("more_body", False):
                    done.set()

        function_timeout = self.timeouts.get(route.function_logical_id, LAMBDA_DEFAULT_TIMEOUT_SECONDS)
        wait = min(function_timeout, limits.integration_timeout)
        try:
            # As Lambda does, each invocation gets a context naming its own function (Mangum puts it
            # in the scope there): the function's log lines and metrics say which function ran.
            # And the event names the route API Gateway picked (``routeKey``: ``$default`` for a catch-all).
            invoked = {**scope, "aws.context": LocalContext(route.function_logical_id, int(function_timeout * 1000)),
                       "aws.event": {"version": "2.0", "routeKey": route.key}}
            await asyncio.wait_for(app(invoked, replay, hold), timeout=wait)
        except TimeoutError:
            if limits.integration_timeout <= function_timeout:
                log.warning("%s: no answer in %.3g s, API Gateway gives up (503)", route.function_logical_id, wait)
                await _error(send, 503, "SERVICE_UNAVAILABLE", "Service Unavailable", "Service Unavailable",
                             {"retry-after": str(GATEWAY_TIMEOUT_RETRY_AFTER_SECONDS)})
            else:
                log.warning("%s: task timed out after %.3g s (the function's Timeout)", route.function_logical_id,
                            wait)
                await _internal_error(send)
            return
        except Exception:
            if not done.is_set():
                log.exception("%s: the function failed", route.function_logical_id)
                await _internal_error(send)
                return
            log.exception("%s: the function failed after answering", route.function_logical_id)
        if "message" not in start or not done.is_set():
            log.error("%s: the function returned no complete answer", route.function_logical_id)
            await _internal_error(send)
            return
        answer = b"".join(chunks)
        # Lambda: the response (6 MB).
        if response_size(start["message"], answer) > limits.max_response_bytes:
            log.warning("%s: response over %d bytes, Lambda fails the invocation", route.function_logical_id,
                        limits.max_response_bytes)
            await _internal_error(send)
            return
        await send(start["message"])
        await send({"type": "http.response.body", "body": answer})


async def _internal_error(send: Send) -> None:
    """What API Gateway answers when the Lambda invocation fails."""
    await _error(send, 500, "INTERNAL_ERROR", "Internal Server Error", "Internal Server Error")


def gateway_answer(code: str, detail: str, message: str,
                   extra_headers: Mapping[str, str] | None = None) -> tuple[list[tuple[bytes, bytes]], bytes]:
    """The headers and body of an answer the gateway writes itself: the envelope, a request id, the
    platform's security headers (mindly.http.middleware) and ``extra_headers``."""
    body = json.dumps({"success": False, "data": None, "message": message, "errors": [
        {"code": code, "field": None, "message": detail}]}).encode()
    fields = {"content-type": "application/json", "content-length": str(len(body)), "x-request-id": uuid.uuid4().hex,
              **SECURITY_HEADERS, **(extra_headers or {})}
    return [(name.encode("latin-1"), value.encode("latin-1")) for name, value in fields.items()], body


async def _error(send: Send, status: int, code: str, detail: str, message: str,
                 extra_headers: Mapping[str, str] | None = None) -> None:
    headers, body = gateway_answer(code, detail, message, extra_headers)
    await send({"type": "http.response.start", "status": status, "headers": headers})
    await send({"type": "http.response.body", "body": body})
