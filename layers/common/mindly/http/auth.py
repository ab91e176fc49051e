"""The authentication dependency: who is calling, checked against the blacklist and rate limit.

A route that needs a student declares ``user: CurrentUser``. Verifying the JWT costs no I/O; the
blacklist check and the per-user sliding window share one Redis round trip. If Redis cannot be
reached the request fails closed (503): a revoked token must never be accepted because the
blacklist was unreachable.
"""

from __future__ import annotations

import time
from typing import Annotated, NamedTuple

from fastapi import Depends, Request

from mindly.cache import revocation
from mindly.cache.client import get_redis
from mindly.cache.ratelimit import RateLimiter
from mindly.config import get_settings
from mindly.exceptions import AuthenticationFailed, Forbidden, RateLimitExceeded
from mindly.services import tokens


class AuthUser(NamedTuple):
    """The authenticated caller."""

    id: str
    role: str
    claims: tokens.Claims


def bearer_token(request: Request) -> str:
    header = request.headers.get("authorization", "")
    scheme, _, token = header.partition(" ")
    if scheme.lower() != "bearer" or not token.strip():
        raise AuthenticationFailed("Missing bearer token")
    return token.strip()


def current_user(request: Request) -> AuthUser:
    settings = get_settings()
    claims = tokens.decode(settings, bearer_token(request), "access")
    request.state.user_id = claims.user_id
    decision, revoked = RateLimiter(get_redis()).hit_unless_revoked(
        claims.user_id, settings.user_rate_limit_per_minute,
        [revocation.token_key(claims.jti), revocation.session_key(claims.session_id)],
    )
    request.state.rate_limit = decision.as_headers()
    if revoked:
        raise AuthenticationFailed("Token has been revoked")
    if not decision.allowed:
        raise RateLimitExceeded(headers={"Retry-After": str(decision.retry_after(time.time()))})
    return AuthUser(id=claims.user_id, role=claims.role, claims=claims)


CurrentUser = Annotated[AuthUser, Depends(current_user)]


def require_admin(user: CurrentUser) -> AuthUser:
    """An administrator: the token says so, and so does the account now (a demoted admin's tokens
    stop working for admin routes at once, not when they expire)."""
    from mindly.store import users

    if user.role != "admin":
        raise Forbidden("Administrators only")
    account = users.get_user(user.id)
    if account is None or account.role != "admin":
        raise Forbidden("Administrators only")
    return user


AdminUser = Annotated[AuthUser, Depends(require_admin)]
