"""Per-client limits for the public auth routes (login, register, refresh).

A client is its network (``client_network``: the IPv4 address, or the IPv6 /64) as API Gateway saw
it, never what a header claims. Login is also counted per (network, account), so a carrier-grade NAT
address shared by thousands of students gets a generous per-address budget while one account
behind it still gets only a few tries a minute.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from typing import Any

from fastapi import Request

from mindly.cache.client import get_redis
from mindly.cache.ratelimit import RateLimiter
from mindly.config import Settings, get_settings
from mindly.exceptions import CacheError, RateLimitExceeded
from mindly.http.middleware import client_ip, client_network
from mindly.observability import logger


def client_of(request: Request) -> str:
    """The network a request comes from, as the limits and the login guard count it."""
    return client_network(client_ip(request.scope))


def enforce(request: Request, bucket: str, identifier: str, limit: int, what: str,
            window_seconds: int = 60) -> None:
    """Count one request of ``identifier`` against ``bucket`` (``limit`` per ``window_seconds``, a
    minute unless given); 429 with Retry-After over it.

    If Redis is unreachable the request goes on (logged): these routes stay usable, and password
    guessing is still bounded by the login guard kept in DynamoDB.
    """
    try:
        decision = RateLimiter(get_redis()).hit(bucket, identifier, limit, window_seconds)
    except CacheError:
        logger.warning("rate limit skipped: redis unavailable", extra={"bucket": bucket})
        return
    state: Any = request.state
    state.rate_limit = decision.as_headers()
    if not decision.allowed:
        raise RateLimitExceeded(f"Too many {what}; slow down",
                                headers={"Retry-After": str(decision.retry_after(time.time()))})


def per_ip(bucket: str, limit_of: Callable[[Settings], int]) -> Callable[[Request], None]:
    """A dependency counting the caller's network against ``bucket``."""

    def dependency(request: Request) -> None:
        enforce(request, bucket, client_of(request), limit_of(get_settings()), f"{bucket} attempts")

    dependency.__name__ = f"limit_{bucket}_per_ip"
    return dependency
