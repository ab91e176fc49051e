"""The app factory every function uses: one FastAPI app with the platform installed."""

from __future__ import annotations

from typing import Any

from fastapi import FastAPI

from mindly import __version__, runtime_hooks
from mindly.cache.client import get_redis
from mindly.config import get_settings
from mindly.http.envelope import Envelope, error_response
from mindly.http.errors import install_error_handlers
from mindly.http.middleware import PlatformMiddleware
from mindly.observability import logger

API_PREFIX = "/api/v1"


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
    ], data=data)


def create_app(group: str, *, with_health: bool = False) -> FastAPI:
    """A FastAPI app for one endpoint group with the envelope, errors and middleware installed.

    Interactive docs are off: the CSP forbids the scripts they need, and clients use API.md.
    """
    settings = get_settings()
    app = FastAPI(title=f"Mindly {group}", version=__version__, docs_url=None, redoc_url=None,
                  openapi_url=f"{API_PREFIX}/openapi/{group}.json")
    install_error_handlers(app)
    app.add_middleware(PlatformMiddleware, cors_origins=settings.cors_origins)
    if with_health:
        app.add_api_route(f"{API_PREFIX}/health", health, methods=["GET"], tags=["health"])
    return app
