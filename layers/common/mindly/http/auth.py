"""The authentication dependency: who is calling, checked against the blacklist and rate limit.

A route that needs a student declares ``user: CurrentUser``. Verifying the JWT costs no I/O; the
blacklist check and the per-user sliding window share one Redis round trip. If Redis cannot be
reached the request fails closed (503): a revoked token must never be accepted because the
blacklist was unreachable.

Invalid tokens (forged, expired, garbage, revoked; bearer or refresh) are counted per client
network, and only they are: a valid token costs nothing more. Over ``bad_token_rate_limit_per_minute``
the answer is 429 with Retry-After instead of 401, whatever the token; a valid token from the same
network still works, so one prober behind a carrier-grade NAT address cannot lock out the
thousands of students sharing it.
"""

from __future__ import annotations

import time
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Annotated, NamedTuple

from fastapi import Depends, Request

from mindly.cache import revocation
from mindly.cache.client import get_redis
from mindly.cache.ratelimit import RateLimiter
from mindly.config import Settings, get_settings
from mindly.exceptions import AuthenticationFailed, Forbidden, RateLimitExceeded
from mindly.http.limits import client_of, enforce
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


@contextmanager
def bad_tokens_counted(request: Request) -> Iterator[None]:
    """Count an AuthenticationFailed raised inside against the caller's network (one Redis round
    trip, on failure only); over the limit it becomes a 429 with Retry-After. If Redis cannot be
    reached the 401 stands (as for the other per-IP limits)."""
    try:
        yield
    except AuthenticationFailed:
        enforce(request, "bad-token", client_of(request), get_settings().bad_token_rate_limit_per_minute,
                "requests with invalid tokens")
        raise


def current_user(request: Request) -> AuthUser:
    settings = get_settings()
    if not request.headers.get("authorization", "").strip():
        # No token is not a bad token: a client that has not signed in yet is told so, uncounted.
        raise AuthenticationFailed("Missing bearer token")
    with bad_tokens_counted(request):
        return _checked_user(request, settings)


def _checked_user(request: Request, settings: Settings) -> AuthUser:
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


def refuse_cross_site(request: Request) -> None:
    """403 for a request a browser sent on another site's behalf: an ``Origin`` that is not one of
    the configured CORS origins, or ``Sec-Fetch-Site: cross-site``. For the routes a cookie alone
    authorises (the cookie refresh): SameSite=Strict is the first guard, this the second. A request
    with neither header is let through: browsers send at least one of them on every cross-site
    POST, and non-browser clients (mobile apps, curl) send neither and have no ambient cookie to
    abuse."""
    origin = request.headers.get("origin")
    if origin is not None and origin.rstrip("/") not in get_settings().cors_origins:
        raise Forbidden("Cross-site requests may not use the refresh cookie")
    if request.headers.get("sec-fetch-site", "").strip().lower() == "cross-site":
        raise Forbidden("Cross-site requests may not use the refresh cookie")


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
