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


# The set of a student's cache keys outlives every key in it (the longest cache lives 7 days).
OWNED_KEYS_TTL_SECONDS = 8 * 24 * 3600


def owned_keys_key(user_id: str) -> str:
    """The set listing the cache keys that hold a student's data, so deleting the account finds
    them without a SCAN (mindly.services.account)."""
    return key("owned", user_id)


def set_json(name: str, value: Any, ttl_seconds: int, owner: str | None = None) -> None:
    """Cache a JSON value for ``ttl_seconds``; skipped (and logged) when Redis cannot be reached.
    A value holding a student's data names them as ``owner``: the key joins their owned set in
    the same round trip."""
    try:
        text = json.dumps(value, separators=(",", ":"))
        if owner is None:
            get_redis().set(name, text, ex=ttl_seconds)
            return
        pipeline = get_redis().pipeline()
        pipeline.set(name, text, ex=ttl_seconds)
        pipeline.sadd(owned_keys_key(owner), name)
        pipeline.expire(owned_keys_key(owner), OWNED_KEYS_TTL_SECONDS)
        pipeline.exec()
    except Exception:
        logger.warning("cache write skipped: redis unavailable", extra={"cache_key": name})
