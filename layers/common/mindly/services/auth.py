"""Accounts and sessions: register, login, refresh-token rotation, logout.

A session is one login, ending a fixed time after it (``session_max_lifetime_seconds``). Its
refresh token is rotated on every use; the session remembers the current token's jti and the one
it replaced, so the replaced token presented again within a few seconds is a retry answered the same
new pair, and any older (already rotated) refresh token is a replay: the whole session is revoked.
Access tokens are checked against the Redis blacklist (token and session) by mindly.http.auth.
"""

from __future__ import annotations

import hashlib
import math
import re
import time
from collections.abc import Callable
from datetime import UTC, datetime
from typing import Any, NamedTuple, NoReturn

from mindly.cache import revocation
from mindly.cache.client import get_redis
from mindly.config import Settings
from mindly.domain import display_names
from mindly.exceptions import AccountLocked, AuthenticationFailed, Conflict, ValidationFailed
from mindly.services import passwords, tokens
from mindly.store import users
from mindly.store.errors import AlreadyExists, StaleWrite
from mindly.store.models import LoginGuardItem, SessionItem, UserItem

_EMAIL = re.compile(r"^[A-Za-z0-9.!#$%&'*+/=?^_`{|}~-]+@[A-Za-z0-9](?:[A-Za-z0-9-]{0,61}[A-Za-z0-9])?"
                    r"(?:\.[A-Za-z0-9](?:[A-Za-z0-9-]{0,61}[A-Za-z0-9])?)+$")
BAD_CREDENTIALS = "Invalid email or password"
MAX_KNOWN_CLIENTS = 10


class IssuedTokens(NamedTuple):
    user: UserItem
    access_token: str
    refresh_token: str
    expires_in: int  # seconds the access token lives
    refresh_expires_in: int  # seconds the refresh token lives (never past the session's end)


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
    refresh, refresh_claims = tokens.issue(settings, "refresh", user.user_id, user.role, family, now,
                                           not_after=now + settings.session_max_lifetime_seconds)
    session = SessionItem(
        users.user_key(user.user_id), f"SESSION#{family}", user_id=user.user_id, family=family,
        current_jti=refresh_claims.jti, created_at=_utc(now), expires_at=_utc(refresh_claims.expires_at),
    )
    return session, refresh


def _session_end(settings: Settings, session: SessionItem) -> int:
    """When the session ends whatever its refreshes: its login plus the absolute lifetime."""
    return int(session.created_at.timestamp()) + settings.session_max_lifetime_seconds


def _issued(settings: Settings, user: UserItem, session: SessionItem, refresh: str, now: int) -> IssuedTokens:
    """``refresh`` (the session's current token, whose exp is the session item's ``expires_at``) and
    a new access token of the session, neither living past the session's end."""
    access, access_claims = tokens.issue(settings, "access", user.user_id, user.role, session.family, now,
                                         name=user.name, not_after=_session_end(settings, session))
    refresh_expires_at = int(session.expires_at.timestamp()) if session.expires_at else now
    return IssuedTokens(user, access, refresh, access_claims.expires_at - now, max(0, refresh_expires_at - now))


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
        created_at=_utc(now),
    )


def register(settings: Settings, email: str, password: str, name: str, role: str = "student",
             welcome: Callable[[UserItem], list[Any]] | None = None) -> IssuedTokens:
    """Create an account and log it in: one DynamoDB transaction writes the account, its email guard,
    the first session and the items ``welcome(account)`` gives (its verification link's token), so an
    account never exists without the session its tokens name. Conflict when the email is taken."""
    now = int(time.time())
    user = _new_account(settings, email, password, name, role, now)
    session, refresh = _new_session(settings, user, now)
    try:
        users.create_user(user, session, welcome(user) if welcome else ())
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


def client_scope(client: str) -> str:
    """The login guard's name for a client network: a hash, so the table keeps no addresses."""
    return hashlib.sha256(f"login-client:{client}".encode()).hexdigest()[:24]


def login(settings: Settings, email: str, password: str, client: str = "unknown") -> IssuedTokens:
    """Check the credentials of a sign-in from the network ``client``.

    Unknown email and wrong password give the same answer, after the same bcrypt work. Each attempt
    first takes a slot of two login guards (``users.take_login_slot``), before bcrypt runs, so
    parallel guesses cannot test more passwords than there are slots:

    - the (account, client) guard: ``login_lockout_failures`` attempts in
      ``login_lockout_window_seconds``; the attempt that fails with the last slot answers 423, and so
      does every later one from that client until its oldest slot leaves the window, even with the
      right password. Another client (the student's own phone) is not affected.
    - the account guard: ``login_account_failures`` attempts in ``login_account_window_seconds``
      from all clients together, which bounds guessing spread over many addresses. When it is full,
      only clients that signed in to the account within ``login_known_client_days`` go on.

    A successful sign-in frees its own slots and the failures of its client it saw before it
    started; failures recorded since, or from other clients, stay. Four DynamoDB calls for a wrong
    password, five for a right one (the last a transaction: session and both guards).
    """
    try:
        normalized = normalize_email(email)
    except ValidationFailed:
        normalized = None
    user_id = users.find_user_id_by_email(normalized) if normalized else None
    mine_scope = client_scope(client)
    user, (everyone, mine) = users.read_login_state(user_id, (users.ACCOUNT_GUARD, mine_scope)) if user_id \
        else (None, [None, None])
    if user is None:
        passwords.burn_verification_time(password, settings.bcrypt_rounds)
        raise AuthenticationFailed(BAD_CREDENTIALS)
    user_id = user.user_id
    now_us = time.time_ns() // 1000
    now = now_us // 1_000_000
    client_window = settings.login_lockout_window_seconds * 1_000_000
    account_window = settings.login_account_window_seconds * 1_000_000
    client_expiry = _utc(now + settings.login_lockout_window_seconds + 60)
    # As read, before this attempt's own writes (which update the items in place).
    earlier = {i: int(v) for i, v in enumerate(mine.slots if mine else []) if int(v) >= now_us - client_window}
    known = _known_clients(settings, everyone, now)
    stored = everyone.known_clients.as_dict() if everyone is not None and everyone.known_clients else {}
    mine_slot = users.take_login_slot(user_id, mine_scope, mine, settings.login_lockout_failures,
                                      now_us - client_window, now_us, client_expiry)
    if mine_slot is None:
        raise _locked(users.get_login_guard(user_id, mine_scope), client_window, now_us)
    everyone_slot = users.take_login_slot(user_id, users.ACCOUNT_GUARD, everyone, settings.login_account_failures,
                                          now_us - account_window, now_us, None)
    if everyone_slot is None and mine_scope not in known:
        users.release_login_slots(user_id, mine_scope, {mine_slot: now_us})  # never tried: not a failure
        raise _locked(users.get_login_guard(user_id, users.ACCOUNT_GUARD), account_window, now_us,
                      "Too many failed logins to this account from elsewhere; try again later, or from a "
                      "device that has signed in before")
    if not passwords.verify_password(password, user.password_hash):
        if len(earlier) + 1 >= settings.login_lockout_failures:
            raise AccountLocked(_seconds_until_free([*earlier.values(), now_us], client_window, now_us))
        raise AuthenticationFailed(BAD_CREDENTIALS)
    newest = sorted({**known, mine_scope: now}.items(), key=lambda entry: entry[1], reverse=True)
    kept = dict(newest[:MAX_KNOWN_CLIENTS])
    forget = [name for name in stored if name not in kept]
    account_held = {everyone_slot: now_us} if everyone_slot is not None else {}
    session, refresh_token = _new_session(settings, user, now)
    if not users.finish_login(session, mine_scope, {mine_slot: now_us, **earlier}, account_held,
                              (mine_scope, now), forget):
        # One of the failures seen left the window and its slot was reused since: free only this
        # attempt's own slots, which nobody else can take.
        users.finish_login(session, mine_scope, {mine_slot: now_us}, account_held, (mine_scope, now), forget)
    return _issued(settings, user, session, refresh_token, now)

def _known_clients(settings: Settings, everyone: LoginGuardItem | None, now: int) -> dict[str, int]:
    """The client hashes that signed in to the account recently, with when they last did."""
    if everyone is None or everyone.known_clients is None:
        return {}
    since = now - settings.login_known_client_days * 86400
    return {name: int(at) for name, at in everyone.known_clients.as_dict().items() if int(at) >= since}


def _locked(guard: LoginGuardItem | None, window_us: int, now_us: int, message: str | None = None) -> AccountLocked:
    """The 423 for a full guard: Retry-After is when its oldest slot leaves the window."""
    held = [int(v) for v in (guard.slots if guard else []) if int(v) >= now_us - window_us]
    return AccountLocked(_seconds_until_free(held or [now_us], window_us, now_us), message)


def _seconds_until_free(held: list[int], window_us: int, now_us: int) -> int:
    """Whole seconds until the oldest held slot leaves the window, never more than the window.

    A parallel attempt may have stamped its slot a few microseconds after this one read the clock,
    so the oldest slot can be younger than ``now_us``: the wait is capped at the window itself.
    """
    wait = math.ceil((min(held) + window_us - now_us) / 1_000_000)
    return max(1, min(window_us // 1_000_000, wait))


def refresh(settings: Settings, refresh_token: str) -> IssuedTokens:
    """Rotate a session's refresh token (three DynamoDB calls: session, account, rotation).

    A session ends ``session_max_lifetime_seconds`` after its login whatever its refreshes: no token
    it issues expires later. The token the last rotation replaced, presented again within
    ``refresh_reuse_window_seconds`` of it, is a retry (two refreshes of one token in flight, or an
    answer lost on the way): it gets the same new refresh token, re-issued from the claims the
    session stores, and an access token of the session. Any other token of the session that is
    valid but not current has been used before: the session is revoked so a stolen token cannot
    outlive its owner's next refresh.
    """
    claims = tokens.decode(settings, refresh_token, "refresh")
    now = int(time.time())
    session = _live_session(settings, claims, now)
    if session.current_jti != claims.jti:
        return _answer_retry(settings, session, claims, now)
    user = _account_of(claims)
    new_refresh, new_claims = tokens.issue(settings, "refresh", user.user_id, user.role, session.family, now,
                                           not_after=_session_end(settings, session))
    try:
        users.rotate_session(session, claims.jti, new_claims.jti, _utc(now), _utc(new_claims.expires_at))
    except StaleWrite:
        # Another refresh with this same token got there first: a retry if it did so just now.
        return _answer_retry(settings, _live_session(settings, claims, now), claims, now, user)
    return _issued(settings, user, session, new_refresh, now)


def _live_session(settings: Settings, claims: tokens.Claims, now: int) -> SessionItem:
    """The session a refresh token names, if it is neither revoked nor past its absolute end."""
    session = users.get_session(claims.user_id, claims.session_id)
    if session is None or session.revoked:
        raise AuthenticationFailed("Session is no longer valid")
    if now >= _session_end(settings, session):
        # Tokens issued before the absolute lifetime existed may outlive it; the session does not.
        raise AuthenticationFailed("Session has ended; sign in again")
    return session


def _account_of(claims: tokens.Claims) -> UserItem:
    user = users.get_user(claims.user_id)
    if user is None:
        raise AuthenticationFailed("Session is no longer valid")
    return user


def _answer_retry(settings: Settings, session: SessionItem, claims: tokens.Claims, now: int,
                  user: UserItem | None = None) -> IssuedTokens:
    """The answer to a token that is not the session's current one: the current pair again when it
    is the token just replaced and the rotation is less than ``refresh_reuse_window_seconds`` old
    (0: no retry is recognised), else the session is revoked (reuse)."""
    rotated_at = int(session.rotated_at.timestamp()) if session.rotated_at else None
    if (session.previous_jti != claims.jti or rotated_at is None or session.expires_at is None
            or now - rotated_at >= settings.refresh_reuse_window_seconds):
        _revoke_after_reuse(settings, session)
    user = user or _account_of(claims)
    # The current token is re-issued from what the rotation stored (its jti, iat = rotated_at and
    # exp = expires_at), byte for byte the one the first refresh answered; the table holds no token.
    current, _ = tokens.issue(settings, "refresh", user.user_id, user.role, session.family, rotated_at,
                              jti=session.current_jti, not_after=int(session.expires_at.timestamp()))
    return _issued(settings, user, session, current, now)


def _revoke_after_reuse(settings: Settings, session: SessionItem) -> NoReturn:
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
    return revoke_every_session(settings, claims.user_id, "logout-all", also=claims.session_id)


def revoke_every_session(settings: Settings, user_id: str, reason: str, also: str | None = None) -> int:
    """End every open session of the student: each session's access tokens are blacklisted first
    (Redis, failing loudly), then its refresh token stops (the session item is marked revoked).
    ``also`` names a session to blacklist even if the query no longer lists it. How many were open."""
    sessions = users.active_sessions(user_id)
    entries = {revocation.session_key(s.family): settings.access_token_ttl_seconds for s in sessions}
    if also is not None:
        entries[revocation.session_key(also)] = settings.access_token_ttl_seconds
    if entries:
        revocation.revoke(get_redis(), entries)
    for session in sessions:
        users.revoke_session(session, reason)
    return len(sessions)


def me(user_id: str) -> dict[str, Any]:
    """The signed-in student's account, with whether its email is verified."""
    user = users.get_user(user_id)
    if user is None:
        raise AuthenticationFailed("Account no longer exists")
    return {**public_user(user), "email_verified": bool(user.email_verified)}
