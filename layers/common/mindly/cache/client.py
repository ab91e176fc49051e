"""The Upstash Redis client of this container, created once."""

from __future__ import annotations

from functools import lru_cache

import httpx
from upstash_redis import Redis

from mindly.config import get_settings
from mindly.exceptions import CacheError


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
