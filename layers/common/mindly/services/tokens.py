"""JWTs: HS256 access (15 min) and refresh (7 days, never past the session's end) tokens, each
with its own jti.

A token names its session (``sid``, the refresh-token family), so logging out can revoke every
access token of that session at once.
"""

from __future__ import annotations

import uuid
from typing import Literal, NamedTuple

import jwt

from mindly.config import Settings
from mindly.exceptions import AuthenticationFailed

TokenType = Literal["access", "refresh"]
_REQUIRED = ["exp", "iat", "sub", "jti", "typ", "sid", "iss", "aud"]


class Claims(NamedTuple):
    user_id: str
    token_type: str
    jti: str
    session_id: str
    role: str
    issued_at: int
    expires_at: int
    name: str = ""  # display name, carried so leaderboards need no account read


def new_id() -> str:
    return uuid.uuid4().hex


def issue(settings: Settings, token_type: TokenType, user_id: str, role: str, session_id: str,
          now: int, jti: str | None = None, name: str = "", not_after: int | None = None) -> tuple[str, Claims]:
    """A signed token and the claims it carries; its ``exp`` is never later than ``not_after`` (the
    session's absolute end).

    The same arguments give the same token, byte for byte (HS256 is deterministic and the claims are
    written in a fixed order): a refresh answered again within the reuse window is re-issued from
    the session's stored claims, so no usable token is ever stored.
    """
    ttl = settings.access_token_ttl_seconds if token_type == "access" else settings.refresh_token_ttl_seconds
    expires_at = now + ttl if not_after is None else min(now + ttl, not_after)
    claims = Claims(user_id=user_id, token_type=token_type, jti=jti or new_id(), session_id=session_id,
                    role=role, issued_at=now, expires_at=expires_at, name=name)
    payload = {
        "sub": user_id, "typ": token_type, "jti": claims.jti, "sid": session_id, "role": role, "name": name,
        "iat": now, "exp": claims.expires_at, "iss": settings.jwt_issuer, "aud": settings.jwt_audience,
    }
    return jwt.encode(payload, settings.require_jwt_secret(), algorithm="HS256"), claims


def decode(settings: Settings, token: str, expected_type: TokenType) -> Claims:
    """Verified claims of ``token``; AuthenticationFailed for anything not a valid token of that type.

    Only HS256 is accepted, so ``alg: none`` and algorithm-confusion tokens fail signature checks.
    """
    try:
        payload = jwt.decode(
            token, settings.require_jwt_secret(), algorithms=["HS256"], audience=settings.jwt_audience,
            issuer=settings.jwt_issuer, options={"require": _REQUIRED},
        )
    except jwt.ExpiredSignatureError as exc:
        raise AuthenticationFailed("Token has expired") from exc
    except jwt.PyJWTError as exc:
        raise AuthenticationFailed("Invalid token") from exc
    if payload.get("typ") != expected_type:
        raise AuthenticationFailed(f"An {expected_type} token is required" if expected_type == "access"
                                   else "A refresh token is required")
    try:
        return Claims(user_id=str(payload["sub"]), token_type=expected_type, jti=str(payload["jti"]),
                      session_id=str(payload["sid"]), role=str(payload.get("role", "student")),
                      issued_at=int(payload["iat"]), expires_at=int(payload["exp"]),
                      name=str(payload.get("name", "")))
    except (TypeError, ValueError) as exc:
        raise AuthenticationFailed("Invalid token") from exc
