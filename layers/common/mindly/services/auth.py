"""Accounts and sessions: register, login, refresh-token rotation, logout.

A session is one login. Its refresh token is rotated on every use; the session remembers only the
current token's jti, so presenting an older (already rotated) refresh token is a replay, and the
whole session is revoked. Access tokens are checked against the Redis blacklist (token and session)
by mindly.http.auth.
"""

from __future__ import annotations

import re
import time
from datetime import UTC, datetime
from typing import NamedTuple

from mindly.cache import revocation
from mindly.cache.client import get_redis
from mindly.config import Settings
from mindly.domain import display_names
from mindly.exceptions import AccountLocked, AuthenticationFailed, Conflict, ValidationFailed
from mindly.services import passwords, tokens
from mindly.store import users
from mindly.store.errors import AlreadyExists, StaleWrite
from mindly.store.models import SessionItem, UserItem

_EMAIL = re.compile(r"^[A-Za-z0-9.!#$%&'*+/=?^_`{|}~-]+@[A-Za-z0-9](?:[A-Za-z0-9-]{0,61}[A-Za-z0-9])?"
                    r"(?:\.[A-Za-z0-9](?:[A-Za-z0-9-]{0,61}[A-Za-z0-9])?)+$")
BAD_CREDENTIALS = "Invalid email or password"


class IssuedTokens(NamedTuple):
    user: UserItem
    access_token: str
    refresh_token: str
    expires_in: int


def normalize_email(email: str) -> str:
    """Emails are unique case-insensitively: compare and store them lower-cased and trimmed."""
    normalized = email.strip().lower()
    if len(normalized) > 254 or not _EMAIL.match(normalized):
        raise ValidationFailed("not a valid email", field="email")
    return normalized


def public_user(user: UserItem) -> dict[str, str]:
    """The account as clients see it: never the password hash."""
    return {"id": user.user_id, "email": user.email, "name": user.name, "role": user.role,
            "created_at": user.created_at.strftime("%Y-%m-%dT%H:%M:%SZ")}


def _utc(ts: int) -> datetime:
    return datetime.fromtimestamp(ts, tz=UTC)


def _new_session(settings: Settings, user: UserItem, now: int) -> tuple[SessionItem, str]:
    """A new session (token family) of ``user`` and its first refresh token; nothing is written."""
    family = tokens.new_id()
    refresh, refresh_claims = tokens.issue(settings, "refresh", user.user_id, user.role, family, now)
    session = SessionItem(
        users.user_key(user.user_id), f"SESSION#{family}", user_id=user.user_id, family=family,
        current_jti=refresh_claims.jti, created_at=_utc(now), expires_at=_utc(refresh_claims.expires_at),
    )
    return session, refresh


def _issued(settings: Settings, user: UserItem, session: SessionItem, refresh: str, now: int) -> IssuedTokens:
    access, _ = tokens.issue(settings, "access", user.user_id, user.role, session.family, now, name=user.name)
    return IssuedTokens(user, access, refresh, settings.access_token_ttl_seconds)


def _start_session(settings: Settings, user: UserItem, now: int) -> IssuedTokens:
    session, refresh = _new_session(settings, user, now)
    users.save_session(session)
    return _issued(settings, user, session, refresh, now)


def _new_account(settings: Settings, email: str, password: str, name: str, role: str, now: int) -> UserItem:
    """A new account, checked (email, password rules, display name) and not yet stored."""
    normalized = normalize_email(email)
    passwords.check_password_rules(password)
    unsafe = display_names.unsafe_characters(name)
    if unsafe:
        raise ValidationFailed(f"name may not contain control or text-direction characters ({', '.join(unsafe)})",
                               field="name")
    user_id = tokens.new_id()
    return UserItem(
        users.user_key(user_id), "ACCOUNT", user_id=user_id, email=normalized, name=name.strip(),
        role=role, password_hash=passwords.hash_password(password, settings.bcrypt_rounds),
        created_at=_utc(now), failed_logins=[],
    )


def register(settings: Settings, email: str, password: str, name: str, role: str = "student") -> IssuedTokens:
    """Create an account and log it in: one DynamoDB transaction writes the account, its email guard
    and the first session, so an account never exists without the session its tokens name. Conflict
    when the email is taken."""
    now = int(time.time())
    user = _new_account(settings, email, password, name, role, now)
    session, refresh = _new_session(settings, user, now)
    try:
        users.create_user(user, session)
    except AlreadyExists as exc:
        raise Conflict("An account with this email already exists", field="email") from exc
    return _issued(settings, user, session, refresh, now)


def create_account(settings: Settings, email: str, password: str, name: str, role: str) -> str:
    """Create an account without signing it in (an operator making an administrator: no session, no
    token, so no signing key is needed); its user id. Conflict when the email is taken."""
    user = _new_account(settings, email, password, name, role, int(time.time()))
    try:
        users.create_user(user)
    except AlreadyExists as exc:
        raise Conflict("An account with this email already exists", field="email") from exc
    return str(user.user_id)


def login(settings: Settings, email: str, password: str) -> IssuedTokens:
    """Check the credentials (three DynamoDB calls when they are right).

    Unknown email and wrong password give the same answer, after the same bcrypt work. After
    ``login_lockout_failures`` failures within the window the account answers 423 until the oldest
    of them leaves the window, even to the right password.
    """
    try:
        normalized = normalize_email(email)
    except ValidationFailed:
        normalized = None
    now = int(time.time())
    user_id = users.find_user_id_by_email(normalized) if normalized else None
    user = users.get_user(user_id) if user_id else None
    if user is None:
        passwords.burn_verification_time(password, settings.bcrypt_rounds)
        raise AuthenticationFailed(BAD_CREDENTIALS)
    window_start = now - settings.login_lockout_window_seconds
    recent = sorted(int(t) for t in user.failed_logins if int(t) > window_start)
    _raise_if_locked(settings, recent, now)
    if not passwords.verify_password(password, user.password_hash):
        recent = sorted(users.record_failed_login(user, now, window_start))
        _raise_if_locked(settings, recent, now)
        raise AuthenticationFailed(BAD_CREDENTIALS)
    if user.failed_logins:
        users.clear_failed_logins(user)
    return _start_session(settings, user, now)


def _raise_if_locked(settings: Settings, recent_failures: list[int], now: int) -> None:
    limit = settings.login_lockout_failures
    if len(recent_failures) >= limit:
        unlock_at = recent_failures[-limit] + settings.login_lockout_window_seconds
        raise AccountLocked(unlock_at - now)


def refresh(settings: Settings, refresh_token: str) -> IssuedTokens:
    """Rotate a session's refresh token (two DynamoDB calls, three with the account read).

    A token that is valid but not the session's current one has been used before: the session is
    revoked so a stolen token cannot outlive its owner's next refresh.
    """
    claims = tokens.decode(settings, refresh_token, "refresh")
    session = users.get_session(claims.user_id, claims.session_id)
    if session is None or session.revoked:
        raise AuthenticationFailed("Session is no longer valid")
    if session.current_jti != claims.jti:
        _revoke_after_reuse(settings, session)
    user = users.get_user(claims.user_id)
    if user is None:
        raise AuthenticationFailed("Session is no longer valid")
    now = int(time.time())
    new_refresh, new_claims = tokens.issue(settings, "refresh", user.user_id, user.role, session.family, now)
    try:
        users.rotate_session(session, claims.jti, new_claims.jti, _utc(now), _utc(new_claims.expires_at))
    except StaleWrite:
        # Another refresh with this same token won the race: it was presented twice.
        _revoke_after_reuse(settings, session)
    access, _ = tokens.issue(settings, "access", user.user_id, user.role, session.family, now, name=user.name)
    return IssuedTokens(user, access, new_refresh, settings.access_token_ttl_seconds)


def _revoke_after_reuse(settings: Settings, session: SessionItem) -> None:
    users.revoke_session(session, "refresh token reuse")
    revocation.revoke(get_redis(), {revocation.session_key(session.family): settings.access_token_ttl_seconds})
    raise AuthenticationFailed("Refresh token has already been used; the session is revoked")


def logout(settings: Settings, claims: tokens.Claims) -> None:
    """End the caller's session: this access token and the session's refresh token stop at once."""
    now = int(time.time())
    revocation.revoke(get_redis(), {
        revocation.token_key(claims.jti): claims.expires_at - now,
        revocation.session_key(claims.session_id): settings.access_token_ttl_seconds,
    })
    session = users.get_session(claims.user_id, claims.session_id)
    if session is not None and not session.revoked:
        users.revoke_session(session, "logout")


def logout_all(settings: Settings, claims: tokens.Claims) -> int:
    """End every session of the user; returns how many were open."""
    sessions = users.active_sessions(claims.user_id)
    entries = {revocation.session_key(s.family): settings.access_token_ttl_seconds for s in sessions}
    entries[revocation.session_key(claims.session_id)] = settings.access_token_ttl_seconds
    revocation.revoke(get_redis(), entries)
    for session in sessions:
        users.revoke_session(session, "logout-all")
    return len(sessions)


def me(user_id: str) -> dict[str, str]:
    user = users.get_user(user_id)
    if user is None:
        raise AuthenticationFailed("Account no longer exists")
    return public_user(user)
