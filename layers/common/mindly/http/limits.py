"""Per-IP limits for the public auth routes (login, register, refresh)."""

from __future__ import annotations

import time
from collections.abc import Callable
from typing import Any

from fastapi import Request

from mindly.cache.client import get_redis
from mindly.cache.ratelimit import RateLimiter
from mindly.config import Settings, get_settings
from mindly.exceptions import CacheError, RateLimitExceeded
from mindly.http.middleware import client_ip
from mindly.observability import logger


def per_ip(bucket: str, limit_of: Callable[[Settings], int]) -> Callable[[Request], None]:
    """A dependency counting the caller's IP against ``bucket``.

    If Redis is unreachable the request goes on (logged): these routes stay usable, and brute force
    is still bounded by the per-account lockout kept in DynamoDB.
    """

    def dependency(request: Request) -> None:
        limit = limit_of(get_settings())
        try:
            decision = RateLimiter(get_redis()).hit(bucket, client_ip(request.scope), limit)
        except CacheError:
            logger.warning("rate limit skipped: redis unavailable", extra={"bucket": bucket})
            return
        state: Any = request.state
        state.rate_limit = decision.as_headers()
        if not decision.allowed:
            raise RateLimitExceeded(f"Too many {bucket} attempts; slow down",
                                    headers={"Retry-After": str(decision.retry_after(time.time()))})

    dependency.__name__ = f"limit_{bucket}_per_ip"
    return dependency
