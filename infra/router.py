"""One local HTTP server for every endpoint group, routed like API Gateway routes them.

The routes are template.yaml's HttpApi events (``infra.cfn.http_routes``), and the choice among them
is ``infra.cfn``'s API Gateway precedence, so a function reachable locally is reachable in AWS by
the same method and path. CORS preflights (OPTIONS), which API Gateway answers itself, go to the
function owning the path, whose platform middleware answers them.
"""

from __future__ import annotations

import json
import uuid
from typing import Any

from starlette.types import ASGIApp, Receive, Scope, Send

from infra.cfn import Route


class GatewayRouter:
    """An ASGI app dispatching each request to the function app that owns its route."""

    def __init__(self, routes: list[tuple[Route, ASGIApp]]) -> None:
        self.routes = sorted(routes, key=lambda pair: pair[0].precedence)

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
        found = self._find(scope.get("method", "GET"), scope.get("path", ""))
        if found is None:
            await self._not_found(send)
            return
        await found[1](scope, receive, send)

    @staticmethod
    async def _not_found(send: Send) -> None:
        body = json.dumps({"success": False, "data": None, "message": "Not found", "errors": [
            {"code": "NOT_FOUND", "field": None, "message": "No route for this method and path"}]}).encode()
        headers: list[Any] = [(b"content-type", b"application/json"), (b"content-length", str(len(body)).encode()),
                              (b"x-request-id", uuid.uuid4().hex.encode())]
        await send({"type": "http.response.start", "status": 404, "headers": headers})
        await send({"type": "http.response.body", "body": body})
