"""Sliding-window rate limits (upstash-ratelimit's algorithm) and the per-request auth gate.

An authenticated request must check the token blacklist and the per-user limit. Doing both with
``Ratelimit.limit`` plus a separate EXISTS would cost two round trips to Upstash; instead the
limiter's command is sent in one pipeline with the blacklist check. upstash-ratelimit's limiters
describe their Redis command as a generator (yield the command, receive its result, yield the
decision), which is what lets us batch it without re-implementing the algorithm.
"""

from __future__ import annotations

import math
from typing import Any, NamedTuple, cast

from upstash_ratelimit import SlidingWindow
from upstash_redis import Redis

from mindly.cache.client import key
from mindly.exceptions import CacheError


class Decision(NamedTuple):
    """The outcome of one counted request."""

    allowed: bool
    limit: int
    remaining: int
    reset: float  # unix seconds when the current window ends

    def retry_after(self, now: float) -> int:
        """Seconds a refused client should wait."""
        return max(1, math.ceil(self.reset - now))

    def as_headers(self) -> dict[str, Any]:
        return {"limit": self.limit, "remaining": self.remaining, "reset": math.ceil(self.reset)}


def _to_decision(response: Any) -> Decision:
    return Decision(allowed=response.allowed, limit=response.limit, remaining=response.remaining,
                    reset=float(response.reset))


class RateLimiter:
    """Per-identifier sliding windows over one Redis client."""

    def __init__(self, redis: Redis) -> None:
        self.redis = redis

    def hit(self, bucket: str, identifier: str, max_requests: int, window_seconds: int = 60) -> Decision:
        """Count one request of ``identifier`` against ``bucket``; one round trip."""
        decision, _ = self._run(bucket, identifier, max_requests, window_seconds, extra=None)
        return decision

    def hit_unless_revoked(self, identifier: str, max_requests: int,
                           revocation_keys: list[str]) -> tuple[Decision, bool]:
        """Count a user's request and tell whether any of ``revocation_keys`` exists; one round trip."""
        return self._run("user", identifier, max_requests, 60, extra=revocation_keys)

    def _run(self, bucket: str, identifier: str, max_requests: int, window_seconds: int,
             extra: list[str] | None) -> tuple[Decision, bool]:
        limiter = SlidingWindow(max_requests=max_requests, window=window_seconds, unit="s")
        steps = limiter._limit(key("rl", bucket, identifier), 1)
        command, args = next(steps)
        try:
            if extra is None:
                result = getattr(self.redis, command)(*args)
                revoked = False
            else:
                pipeline = self.redis.pipeline()
                pipeline.exists(*extra)
                getattr(pipeline, command)(*args)
                exists_count, result = pipeline.exec()
                revoked = int(cast(int, exists_count or 0)) > 0  # EXISTS answers an integer
        except Exception as exc:  # httpx errors, UpstashError: the SDK has no common base
            raise CacheError("Rate limiting is temporarily unavailable") from exc
        return _to_decision(steps.send(result)), revoked
