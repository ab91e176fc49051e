"""Mailed links: email verification and password reset (API.md "Accounts and reminders").

A link carries a token ``<user_id>.<secret>``: the secret is ``secrets.token_urlsafe(32)`` (256
random bits) and only its SHA-256 is stored, at ``USER#<id> / TOKEN#<purpose>#<hash>`` with the
token's expiry as the item's TTL. The user id in front finds the item with one GetItem, no index and
no scan; it is not a secret (it is in every access token). A token is used with a conditional
transaction (mindly.store.users), so it works once, whatever the number of parallel uses, and never
after its expiry, whether or not DynamoDB's TTL has deleted it yet. Every refusal (malformed,
unknown, used, expired) is the same 422 on ``token``: a client learns nothing about which it was.

Links open the app's pages at ``APP_BASE_URL``: ``/verify-email?token=...`` and
``/reset-password?token=...``. The app's page sends the POST of the API route; the local stack
serves both pages itself (infra.account_pages).
"""

from __future__ import annotations

import hashlib
import re
import secrets
import time
from datetime import UTC, datetime
from typing import Any
from urllib.parse import quote

from mindly.config import Settings
from mindly.exceptions import AuthenticationFailed, ServiceUnavailable, ValidationFailed
from mindly.observability import logger
from mindly.services import auth, mail, passwords
from mindly.store import users
from mindly.store.models import UserItem

VERIFY = "verify"
RESET = "reset"
VERIFY_PAGE = "/verify-email"
RESET_PAGE = "/reset-password"
INVALID_LINK = "This link is invalid, has expired or was already used; ask for a new one"
# <32 hex user id>.<43 url-safe characters>: anything else is refused before any lookup.
_TOKEN = re.compile(r"^([0-9a-f]{32})\.([A-Za-z0-9_-]{43})$")


def _clock() -> float:
    """Now, in unix seconds (one place, so the tests can move it past a token's expiry)."""
    return time.time()


def _wait(seconds: float) -> None:
    """Hold the answer back (one place, so the tests can see the wait instead of sitting it out)."""
    time.sleep(seconds)


def _utc(ts: float) -> datetime:
    return datetime.fromtimestamp(ts, tz=UTC)


def _digest(secret: str) -> str:
    return hashlib.sha256(secret.encode("ascii")).hexdigest()


def _token_item(user_id: str, purpose: str, ttl_seconds: int) -> tuple[str, Any]:
    """A new single-use token of ``purpose`` and the item that stores its hash until it expires."""
    secret = secrets.token_urlsafe(32)
    now = _clock()
    item = users.link_token_item(user_id, purpose, _digest(secret), _utc(now), _utc(now + ttl_seconds))
    return f"{user_id}.{secret}", item


def _new_token(user_id: str, purpose: str, ttl_seconds: int) -> str:
    """A new single-use token of ``purpose``, stored hashed until it expires (one PutItem)."""
    token, item = _token_item(user_id, purpose, ttl_seconds)
    item.save()
    return token


def _parsed(token: str) -> tuple[str, str]:
    """The user id and the secret's hash of a well-formed token; the 422 otherwise."""
    found = _TOKEN.fullmatch(token)
    if found is None:
        raise ValidationFailed(INVALID_LINK, field="token")
    return found.group(1), _digest(found.group(2))


def link(settings: Settings, page: str, token: str) -> str:
    """The URL a mail carries: the app's page with the token as its query."""
    return f"{settings.app_base_url.rstrip('/')}{page}?token={quote(token, safe='')}"


def send_verification(settings: Settings, user: UserItem, token: str | None = None) -> None:
    """Mail ``user`` a verification link (24 h by default): ``token``'s, else a new one's;
    ServiceUnavailable when SES does not take it."""
    token = token or _new_token(user.user_id, VERIFY, settings.email_verification_ttl_seconds)
    hours = max(1, settings.email_verification_ttl_seconds // 3600)
    mail.send_mail(user.email, "Confirm your email for Mindly",
                   f"Hi {user.name},\n\nOpen this link to confirm that this is your email address. "
                   f"It works once, within {hours} hour(s).", link(settings, VERIFY_PAGE, token))


class SignupLink:
    """The verification link a new account gets: its token is written in the registration's own
    transaction (``items``, auth.register's ``welcome``), so registering stays one write, and the mail
    goes once the account exists (``send``)."""

    def __init__(self, settings: Settings) -> None:
        self.settings = settings
        self.token: str | None = None

    def items(self, user: UserItem) -> list[Any]:
        self.token, item = _token_item(user.user_id, VERIFY, self.settings.email_verification_ttl_seconds)
        return [item]

    def send(self, user: UserItem) -> bool:
        """Mail the link; the account exists whatever happens to the mail, so a refused send is logged
        and the student can ask again. Whether it was sent."""
        try:
            send_verification(self.settings, user, self.token)
        except Exception:  # SES refused or is down: never the signup
            logger.warning("verification mail not sent at registration", extra={"user_id": user.user_id},
                           exc_info=True)
            return False
        return True


def request_verification(settings: Settings, user_id: str) -> bool:
    """Mail the signed-in student a verification link; False (nothing sent) when the email is
    already verified."""
    user = users.get_user(user_id)
    if user is None:
        raise AuthenticationFailed("Account no longer exists")
    if user.email_verified:
        return False
    send_verification(settings, user)
    return True


def verify_email(token: str) -> None:
    """Use a verification token: the account's email is verified (one transaction)."""
    user_id, secret_hash = _parsed(token)
    if not users.spend_verification_token(user_id, secret_hash, _utc(_clock())):
        raise ValidationFailed(INVALID_LINK, field="token")


def forgot_password(settings: Settings, email: str) -> None:
    """Mail a reset link (30 min by default) when ``email`` belongs to an account; do nothing
    visible otherwise. ``email`` is already normalized (auth.normalize_email).

    Both outcomes answer the same and no sooner than ``password_forgot_min_seconds`` after the call
    began: a known email costs two more DynamoDB calls and an SES send, which that floor covers. A
    send SES refuses is logged, never raised, since a 503 only known emails could cause would
    tell them apart.
    """
    started = time.monotonic()
    try:
        user_id = users.find_user_id_by_email(email)
        user = users.get_user(user_id) if user_id else None
        if user is not None:
            _mail_reset_link(settings, user)
    finally:
        remaining = started + settings.password_forgot_min_seconds - time.monotonic()
        if remaining > 0:
            _wait(remaining)


def _mail_reset_link(settings: Settings, user: UserItem) -> None:
    token = _new_token(user.user_id, RESET, settings.password_reset_ttl_seconds)
    minutes = max(1, settings.password_reset_ttl_seconds // 60)
    try:
        mail.send_mail(user.email, "Reset your Mindly password",
                       f"Hi {user.name},\n\nSomeone (we hope you) asked to reset the password of this "
                       f"account. Open this link to choose a new one; it works once, within {minutes} "
                       "minutes. If it was not you, ignore this mail: your password stays as it is.",
                       link(settings, RESET_PAGE, token))
    except ServiceUnavailable:
        logger.warning("password reset mail not sent", extra={"user_id": user.user_id})


def reset_password(settings: Settings, token: str, new_password: str, client: str) -> int:
    """Use a reset token: the new password replaces the old one, every session of the student ends
    (refresh tokens and access tokens alike), and the login guards' slots of the account and of
    the resetting network are freed, so the new password signs in at once. How many sessions ended.

    The password rules are checked and the token looked up before bcrypt runs, so a bad token or
    password costs no hashing; spending the token is still conditional (a parallel use loses).
    """
    user_id, secret_hash = _parsed(token)
    try:
        passwords.check_password_rules(new_password)
    except ValidationFailed as exc:
        raise ValidationFailed(exc.message, field="new_password") from exc
    if not users.link_token_usable(user_id, RESET, secret_hash, _utc(_clock())):
        raise ValidationFailed(INVALID_LINK, field="token")
    password_hash = passwords.hash_password(new_password, settings.bcrypt_rounds)
    if not users.spend_reset_token(user_id, secret_hash, _utc(_clock()), password_hash):
        raise ValidationFailed(INVALID_LINK, field="token")
    ended = auth.revoke_every_session(settings, user_id, "password reset")
    users.clear_login_guards(user_id, [users.ACCOUNT_GUARD, auth.client_scope(client)])
    return ended
