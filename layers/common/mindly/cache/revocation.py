"""The access-token blacklist: revoked token ids and revoked sessions, each kept for as long as an
access token that names them could still be presented."""

from __future__ import annotations

from upstash_redis import Redis

from mindly.cache.client import key
from mindly.exceptions import CacheError


def token_key(jti: str) -> str:
    return key("revoked", "jti", jti)


def session_key(family: str) -> str:
    return key("revoked", "session", family)


def revoke(redis: Redis, entries: dict[str, int]) -> None:
    """Blacklist each key for its TTL in seconds (one pipeline). Fails loudly: a logout that did
    not reach the blacklist must not be reported as done."""
    pipeline = redis.pipeline()
    for name, ttl in entries.items():
        pipeline.set(name, "1", ex=max(1, ttl))
    try:
        pipeline.exec()
    except Exception as exc:
        raise CacheError("Could not revoke the token; try again") from exc
