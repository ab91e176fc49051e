"""Auth function: accounts, tokens and sessions (API.md "Auth"), plus the health check."""

from __future__ import annotations

import hashlib
from datetime import datetime
from typing import Annotated, Any, Literal

from fastapi import Body, Depends, Request
from pydantic import ConfigDict, Field

from mindly.config import get_settings
from mindly.exceptions import AuthenticationFailed, FeatureNotConfigured
from mindly.http.app import API_PREFIX, create_app, error_responses, lambda_handler
from mindly.http.auth import CurrentUser, bad_tokens_counted, refuse_cross_site
from mindly.http.envelope import Envelope
from mindly.http.limits import client_of, enforce, per_ip
from mindly.http.schemas import AnswerData, RequestBody, answers
from mindly.services import account, account_links, auth

REFRESH_COOKIE = "refresh_token"
COOKIE_PATH = f"{API_PREFIX}/auth"

app = create_app("auth", with_health=True)


class RegisterRequest(RequestBody):
    email: str = Field(max_length=254)
    password: str = Field(max_length=1024)
    name: str = Field(min_length=1, max_length=100, pattern=r"\S")


class LoginRequest(RequestBody):
    """Extra fields are ignored here, unlike elsewhere: sign-in forms commonly post the same body
    as sign-up (with ``name``), and refusing a login over an unused field helps nobody."""

    model_config = ConfigDict(extra="ignore")

    email: str = Field(max_length=254)
    password: str = Field(max_length=1024)


class RefreshRequest(RequestBody):
    refresh_token: str | None = Field(default=None, max_length=4096)


class Account(AnswerData):
    """The account as clients see it (never its password hash)."""

    id: str
    email: str = Field(description="lower-cased and trimmed")
    name: str
    role: Literal["student", "admin"]
    created_at: datetime = Field(description="UTC, to the second: YYYY-MM-DDTHH:MM:SSZ")


class AuthTokens(AnswerData):
    """A signed-in session: its access token and its current refresh token (also set as the
    ``refresh_token`` cookie, path /api/v1/auth)."""

    user: Account
    access_token: str
    refresh_token: str
    token_type: Literal["bearer"]
    expires_in: int = Field(description="seconds the access token lives")


def _token_answer(issued: auth.IssuedTokens, status_code: int) -> Envelope:
    response = Envelope({
        "user": auth.public_user(issued.user),
        "access_token": issued.access_token,
        "refresh_token": issued.refresh_token,
        "token_type": "bearer",
        "expires_in": issued.expires_in,
    }, status_code=status_code)
    response.set_cookie(REFRESH_COOKIE, issued.refresh_token, max_age=issued.refresh_expires_in,
                        path=COOKIE_PATH, secure=True, httponly=True, samesite="strict")
    return response


@app.post(f"{API_PREFIX}/auth/register", status_code=201, responses=error_responses(409),
          dependencies=[Depends(per_ip("register", lambda s: s.register_rate_limit_per_minute))],
          operation_id="register")
@answers(AuthTokens)
def register(body: RegisterRequest) -> Envelope:
    settings = get_settings()
    # The new account gets its verification link at once: the token is written with the account, and
    # a mail SES refuses does not undo the account.
    link = account_links.SignupLink(settings)
    issued = auth.register(settings, body.email, body.password, body.name, welcome=link.items)
    link.send(issued.user)
    return _token_answer(issued, 201)


@app.post(f"{API_PREFIX}/auth/login", responses=error_responses(401, 423),
          dependencies=[Depends(per_ip("login", lambda s: s.login_ip_rate_limit_per_minute))],
          operation_id="login")
@answers(AuthTokens)
def login(request: Request, body: LoginRequest) -> Envelope:
    settings = get_settings()
    client = client_of(request)
    account = hashlib.sha256(body.email.strip().lower().encode()).hexdigest()[:32]
    enforce(request, "login-account", f"{client}|{account}", settings.login_rate_limit_per_minute,
            "login attempts for this account")
    return _token_answer(auth.login(settings, body.email, body.password, client), 200)


@app.post(f"{API_PREFIX}/auth/refresh", responses=error_responses(401, 403),
          dependencies=[Depends(per_ip("refresh", lambda s: s.refresh_rate_limit_per_minute))],
          operation_id="refreshTokens")
@answers(AuthTokens)
def refresh(request: Request, body: Annotated[RefreshRequest | None, Body()] = None) -> Envelope:
    token = body.refresh_token if body else None
    if not token:
        token = request.cookies.get(REFRESH_COOKIE)
        if not token:
            raise AuthenticationFailed("A refresh token is required (body or cookie)")
        refuse_cross_site(request)  # the cookie comes with any request the browser makes
    with bad_tokens_counted(request):
        issued = auth.refresh(get_settings(), token)
    return _token_answer(issued, 200)


def _signed_out(message: str) -> Envelope:
    response = Envelope(None, message=message)
    response.delete_cookie(REFRESH_COOKIE, path=COOKIE_PATH, secure=True, httponly=True, samesite="strict")
    return response


@app.post(f"{API_PREFIX}/auth/logout", operation_id="logout")
def logout(user: CurrentUser) -> Envelope:
    auth.logout(get_settings(), user.claims)
    return _signed_out("logged out")


@app.post(f"{API_PREFIX}/auth/logout-all", operation_id="logoutAll")
def logout_all(user: CurrentUser) -> Envelope:
    count = auth.logout_all(get_settings(), user.claims)
    return _signed_out(f"logged out of {count} session(s)")


class SignedInAccount(Account):
    """The signed-in student's account."""

    email_verified: bool = Field(description="whether a verification link was opened; false for accounts "
                                             "made before verification existed")


@app.get(f"{API_PREFIX}/auth/me", operation_id="getMe")
@answers(SignedInAccount)
def me(user: CurrentUser) -> Envelope:
    return Envelope(auth.me(user.id))


# --- mailed links: email verification and password reset (mindly.services.account_links) ----------

class TokenRequest(RequestBody):
    token: str = Field(max_length=200, description="the token of the mailed link (its `token` query)")


class ForgotPasswordRequest(RequestBody):
    email: str = Field(max_length=254)


class ResetPasswordRequest(RequestBody):
    token: str = Field(max_length=200, description="the token of the mailed link (its `token` query)")
    new_password: str = Field(max_length=1024, description="the rules of registration: 8 characters to 72 bytes")


class VerificationRequested(AnswerData):
    """What became of a request for a verification link."""

    email_verified: bool = Field(description="true: already verified, and no mail was sent")
    mail_sent: bool


class EmailVerified(AnswerData):
    email_verified: Literal[True]


class PasswordWasReset(AnswerData):
    sessions_revoked: int = Field(description="how many signed-in sessions the reset ended")


def _per_email(request: Request, bucket: str, email: str, limit: int, window_seconds: int, what: str) -> None:
    # Counted by a hash of the address: Redis keeps no emails.
    digest = hashlib.sha256(email.encode()).hexdigest()[:32]
    enforce(request, bucket, digest, limit, what, window_seconds=window_seconds)


@app.post(f"{API_PREFIX}/auth/verify-email/request", status_code=202, responses=error_responses(503),
          operation_id="requestEmailVerification")
@answers(VerificationRequested)
def request_email_verification(request: Request, user: CurrentUser) -> Envelope:
    settings = get_settings()
    enforce(request, "verify-email-request", user.id, settings.verify_email_requests_per_hour,
            "verification mails for this account", window_seconds=3600)
    sent = account_links.request_verification(settings, user.id)
    return Envelope({"email_verified": not sent, "mail_sent": sent}, status_code=202,
                    message="verification mail sent" if sent else "email already verified")


@app.post(f"{API_PREFIX}/auth/verify-email",
          dependencies=[Depends(per_ip("email-link", lambda s: s.email_link_rate_limit_per_minute))],
          operation_id="verifyEmail")
@answers(EmailVerified)
def verify_email(body: TokenRequest) -> Envelope:
    account_links.verify_email(body.token)
    return Envelope({"email_verified": True}, message="email verified")


@app.post(f"{API_PREFIX}/auth/password/forgot", status_code=202,
          dependencies=[Depends(per_ip("password-forgot", lambda s: s.password_forgot_rate_limit_per_minute))],
          operation_id="forgotPassword")
def forgot_password(request: Request, body: ForgotPasswordRequest) -> Envelope:
    settings = get_settings()
    email = auth.normalize_email(body.email)
    _per_email(request, "password-forgot-email", email, settings.password_forgot_per_email_per_hour, 3600,
               "password reset requests for this email")
    account_links.forgot_password(settings, email)
    # The same answer whether or not the email has an account (and as late: account_links).
    return Envelope(None, status_code=202,
                    message="If an account uses this email, a link to reset its password is on its way")


@app.post(f"{API_PREFIX}/auth/password/reset",
          dependencies=[Depends(per_ip("email-link", lambda s: s.email_link_rate_limit_per_minute))],
          operation_id="resetPassword")
@answers(PasswordWasReset)
def reset_password(request: Request, body: ResetPasswordRequest) -> Envelope:
    ended = account_links.reset_password(get_settings(), body.token, body.new_password, client_of(request))
    return Envelope({"sessions_revoked": ended}, message="password changed; sign in with the new password")


@app.get(f"{API_PREFIX}/auth/google", responses=error_responses(501), operation_id="signInWithGoogle")
def google() -> Envelope:
    raise FeatureNotConfigured("Google sign-in is not configured for this deployment yet; "
                               "use email and password")


handler = lambda_handler(app)


# --- the student's data: export and deletion (mindly.services.account) ------------------------------

class AccountExport(AnswerData):
    """Everything stored about the student (API.md "Accounts and reminders"). Each item is its
    stored attributes (``sk`` its sort key, ``kind`` its kind) less the withheld ones."""

    model_config = ConfigDict(extra="allow")

    user: dict[str, Any] | None
    profile: dict[str, Any] | None
    progress: list[dict[str, Any]] = Field(description="totals, days, weeks, activities, subject and topic counters")
    attempts: list[dict[str, Any]]
    reviews: list[dict[str, Any]]
    cards: list[dict[str, Any]]
    mock_tests: list[dict[str, Any]]
    roadmaps: list[dict[str, Any]]
    badges: list[dict[str, Any]]
    reports: list[dict[str, Any]]
    notifications: list[dict[str, Any]] = Field(description="notification preferences and the inbox")
    sessions: list[dict[str, Any]]
    security: list[dict[str, Any]] = Field(description="login guards and mailed tokens (without their hashes)")
    other: list[dict[str, Any]] = Field(description="kinds of item not yet given a section, with their table")
    withheld: list[dict[str, str]] = Field(description="attributes left out, each with why")


class DeleteAccountRequest(RequestBody):
    password: str = Field(max_length=1024)


@app.get(f"{API_PREFIX}/account/export", responses=error_responses(413), operation_id="exportAccount")
@answers(AccountExport)
def export_account(user: CurrentUser) -> Envelope:
    return Envelope(account.export(user.id))


@app.delete(f"{API_PREFIX}/account", status_code=202, responses=error_responses(401, 423),
            operation_id="deleteAccount")
def delete_account(request: Request, user: CurrentUser, body: DeleteAccountRequest) -> Envelope:
    account.request_deletion(get_settings(), user.id, body.password, client_of(request), account.sqs_enqueue,
                             account.utc_now())
    response = Envelope(None, status_code=202, message="account deletion started; every session has ended")
    response.delete_cookie(REFRESH_COOKIE, path=COOKIE_PATH, secure=True, httponly=True, samesite="strict")
    return response
