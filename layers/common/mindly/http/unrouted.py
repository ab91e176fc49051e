"""The answer to a request no route of the HTTP API takes: 405 with ``Allow`` when other methods
serve its path, else 404, both in the envelope with the platform's headers.

API Gateway gives such a request to the ``$default`` route (template.yaml: the Auth function's
``Unrouted`` event; the local router does the same), instead of answering its own bare
``{"message":"Not Found"}``. The event names the route (``routeKey``), and a request that came by
``$default`` gets only this answer, whatever the function's own app would serve at that path: the
function reached by ``$default`` serves its own routes only through their own route keys.

API Gateway does not tell a function which routes exist, so they are listed here (``API_ROUTES``);
tests/unit/test_router_fallbacks.py fails when this list and template.yaml's routes disagree.
"""

from __future__ import annotations

import re
from functools import cache

from starlette.responses import JSONResponse
from starlette.types import ASGIApp, Receive, Scope, Send

from mindly.http.envelope import error_response

DEFAULT_ROUTE_KEY = "$default"

# Every (method, path) route of template.yaml's HTTP API but $default; ANY routes are the function's
# own business (its app answers its unknown paths and methods), so they add nothing to ``Allow``.
# A conditional function's routes are not here: the docs function's (ServeApiDocs, off by default)
# are ANY routes answering their own methods when deployed; without them their paths are a 404.
API_ROUTES: tuple[tuple[str, str], ...] = (
    ("DELETE", "/api/v1/account"),
    ("GET", "/api/v1/account/export"),
    ("POST", "/api/v1/admin/flashcards/import"),
    ("POST", "/api/v1/admin/media"),
    ("GET", "/api/v1/admin/questions"),
    ("POST", "/api/v1/admin/questions/import"),
    ("PUT", "/api/v1/admin/questions/{question_id}"),
    ("POST", "/api/v1/admin/questions/{question_id}/restore"),
    ("POST", "/api/v1/admin/questions/{question_id}/retire"),
    ("GET", "/api/v1/admin/reports"),
    ("POST", "/api/v1/admin/reports/{report_id}/resolve"),
    ("GET", "/api/v1/analytics/calibration"),
    ("GET", "/api/v1/analytics/dashboard"),
    ("GET", "/api/v1/analytics/mastery"),
    ("GET", "/api/v1/analytics/subjects"),
    ("GET", "/api/v1/analytics/tests"),
    ("POST", "/api/v1/analytics/tests"),
    ("POST", "/api/v1/auth/password/forgot"),
    ("POST", "/api/v1/auth/verify-email/request"),
    ("ANY", "/api/v1/auth/{proxy+}"),
    ("GET", "/api/v1/flashcards"),
    ("GET", "/api/v1/flashcards/due"),
    ("GET", "/api/v1/flashcards/due/by-subject"),
    ("POST", "/api/v1/flashcards/review"),
    ("POST", "/api/v1/flashcards/review/undo"),
    ("GET", "/api/v1/health"),
    ("GET", "/api/v1/leaderboard/weekly"),
    ("GET", "/api/v1/mock-tests"),
    ("POST", "/api/v1/mock-tests"),
    ("GET", "/api/v1/mock-tests/patterns"),
    ("GET", "/api/v1/mock-tests/{mock_test_id}"),
    ("PUT", "/api/v1/mock-tests/{mock_test_id}/answers/{number}"),
    ("POST", "/api/v1/mock-tests/{mock_test_id}/submit"),
    ("GET", "/api/v1/notifications"),
    ("POST", "/api/v1/notifications/devices"),
    ("DELETE", "/api/v1/notifications/devices/{device_id}"),
    ("GET", "/api/v1/notifications/preferences"),
    ("PUT", "/api/v1/notifications/preferences"),
    ("POST", "/api/v1/notifications/{notification_id}/read"),
    ("GET", "/api/v1/practice/next"),
    ("GET", "/api/v1/profile"),
    ("PUT", "/api/v1/profile"),
    ("GET", "/api/v1/progress"),
    ("GET", "/api/v1/progress/badges"),
    ("PUT", "/api/v1/progress/daily-goal"),
    ("GET", "/api/v1/questions/attempts"),
    ("GET", "/api/v1/questions/practice"),
    ("POST", "/api/v1/questions/submit"),
    ("POST", "/api/v1/questions/{question_id}/reports"),
    ("POST", "/api/v1/roadmaps"),
    ("GET", "/api/v1/roadmaps/jobs/{job_id}"),
    ("GET", "/api/v1/roadmaps/latest"),
    ("GET", "/api/v1/syllabus/{exam}"),
)


@cache
def path_pattern(path: str) -> re.Pattern[str]:
    """A route path as API Gateway matches it: ``{name}`` is one path segment, a trailing
    ``{name+}`` the rest of the path."""
    pattern = ""
    for piece in re.split(r"(\{[^}]+\})", path):
        if piece.startswith("{") and piece.endswith("+}"):
            pattern += ".+"
        elif piece.startswith("{"):
            pattern += "[^/]+"
        else:
            pattern += re.escape(piece)
    return re.compile(pattern)


def allowed_methods(path: str, routes: tuple[tuple[str, str], ...] = API_ROUTES) -> list[str]:
    """The methods the API serves at ``path`` (its routes with a specific method), sorted."""
    return sorted({method for method, route_path in routes
                   if method != "ANY" and path_pattern(route_path).fullmatch(path)})


def unrouted_response(path: str) -> JSONResponse:
    """405 with Allow when the API serves ``path`` by other methods, else 404."""
    allowed = allowed_methods(path)
    if allowed:
        message = "Method not allowed"
        return error_response(405, message, [{"code": "METHOD_NOT_ALLOWED", "field": None, "message": message}],
                              headers={"Allow": ", ".join(allowed)})
    message = "Not found"
    return error_response(404, message, [{"code": "NOT_FOUND", "field": None, "message": message}])


def came_by_default_route(scope: Scope) -> bool:
    """Whether API Gateway (or the local router) picked the ``$default`` route for this request."""
    event = scope.get("aws.event") or {}
    return bool(event.get("routeKey") == DEFAULT_ROUTE_KEY)


class DefaultRouteAnswer:
    """ASGI middleware: a request that came by ``$default`` gets ``unrouted_response``."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] == "http" and came_by_default_route(scope):
            await unrouted_response(scope.get("path", ""))(scope, receive, send)
            return
        await self.app(scope, receive, send)
