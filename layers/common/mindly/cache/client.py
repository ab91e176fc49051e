"""The Upstash Redis client of this container, created once."""

from __future__ import annotations

import json
from functools import lru_cache
from typing import Any

import httpx
from upstash_redis import Redis

from mindly.config import get_settings
from mindly.exceptions import CacheError
from mindly.observability import logger


@lru_cache(maxsize=1)
def get_redis() -> Redis:
    """The shared client. Raises CacheError when Upstash is not configured."""
    settings = get_settings()
    if not settings.upstash_redis_rest_url or settings.upstash_redis_rest_token is None:
        raise CacheError("Redis is not configured")
    client = Redis(
        url=settings.upstash_redis_rest_url,
        token=settings.upstash_redis_rest_token.get_secret_value(),
        rest_retries=0,
        allow_telemetry=False,
    )
    # The SDK's HTTP client waits forever by default; a Lambda cannot. The SDK has no setting for
    # it, so its httpx client is replaced by one with a timeout (same class, same behaviour).
    timeout = settings.redis_timeout_seconds
    client._http._client = httpx.Client(timeout=httpx.Timeout(timeout, connect=min(timeout, 1.0)))
    return client


def key(*parts: str) -> str:
    """A namespaced Redis key: ``mindly:<env>:<part>:<part>...``."""
    return get_settings().redis_key_prefix + ":".join(parts)


def get_json(name: str) -> Any:
    """A cached JSON value, or None when absent or when Redis cannot be reached (a cache outage
    costs the caller a recomputation, never an answer)."""
    try:
        raw = get_redis().get(name)
    except Exception:
        logger.warning("cache read skipped: redis unavailable", extra={"cache_key": name})
        return None
    if raw is None:
        return None
    try:
        return json.loads(raw)
    except ValueError:
        return None


def set_json(name: str, value: Any, ttl_seconds: int) -> None:
    """Cache a JSON value for ``ttl_seconds``; skipped (and logged) when Redis cannot be reached."""
    try:
        get_redis().set(name, json.dumps(value, separators=(",", ":")), ex=ttl_seconds)
    except Exception:
        logger.warning("cache write skipped: redis unavailable", extra={"cache_key": name})
