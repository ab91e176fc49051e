"""mindly.cache against both Redis backends (fakeredis, and a real redis-server when installed).

The rate limiter and the revocation blacklist are what authentication relies on; they must behave
the same on the real server as on the fake one the other tests use.
"""

from __future__ import annotations

import time
import uuid
from collections.abc import Iterator

import pytest
from upstash_redis import Redis

from infra.upstash_local import LocalUpstash
from mindly.cache import revocation
from mindly.cache.ratelimit import RateLimiter
from mindly.exceptions import CacheError

TOKEN = "contract-test-token"


@pytest.fixture
def redis(endpoint: LocalUpstash) -> Iterator[Redis]:
    endpoint.set_down(False)
    endpoint.flushall()
    client = Redis(url=endpoint.url, token=TOKEN, allow_telemetry=False, rest_retries=0)
    yield client
    client.close()


def test_sliding_window_allows_the_limit_then_refuses(redis: Redis) -> None:
    limiter = RateLimiter(redis)
    ip = f"203.0.113.{uuid.uuid4().int % 250}"
    # Given a limit of 3 a minute, when 4 requests come from one IP
    decisions = [limiter.hit("login", ip, 3) for _ in range(4)]
    # Then 3 pass with a falling remaining count and the 4th is refused until the window resets
    assert [d.allowed for d in decisions] == [True, True, True, False]
    assert [d.remaining for d in decisions[:3]] == [2, 1, 0]
    assert decisions[3].retry_after(time.time()) >= 1
    # And another IP is not affected
    assert limiter.hit("login", "198.51.100.7", 3).allowed


def test_auth_gate_counts_and_sees_revocations_in_one_call(redis: Redis) -> None:
    limiter = RateLimiter(redis)
    user, jti, session = uuid.uuid4().hex, uuid.uuid4().hex, uuid.uuid4().hex
    keys = [revocation.token_key(jti), revocation.session_key(session)]
    # Given nothing is revoked, the request counts and passes
    decision, revoked = limiter.hit_unless_revoked(user, 100, keys)
    assert decision.allowed and decision.remaining == 99 and not revoked
    # When the session is revoked, then the next request sees it
    revocation.revoke(redis, {revocation.session_key(session): 60})
    _, revoked = limiter.hit_unless_revoked(user, 100, keys)
    assert revoked
    # And the revocation carries the TTL it was given
    assert 0 < redis.ttl(revocation.session_key(session)) <= 60


def test_an_unreachable_redis_is_a_cache_error(endpoint: LocalUpstash, redis: Redis) -> None:
    endpoint.set_down(True)
    try:
        with pytest.raises(CacheError):
            RateLimiter(redis).hit_unless_revoked("u", 10, [revocation.token_key("j")])
        with pytest.raises(CacheError):
            revocation.revoke(redis, {revocation.token_key("j"): 10})
    finally:
        endpoint.set_down(False)
