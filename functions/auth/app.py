"""Auth function: accounts, tokens and sessions (API.md "Auth"), plus the health check."""

from __future__ import annotations

import hashlib
from datetime import datetime
from typing import Annotated, Literal

from fastapi import Body, Depends, Request
from pydantic import ConfigDict, Field

from mindly.config import get_settings
from mindly.exceptions import AuthenticationFailed, FeatureNotConfigured
from mindly.http.app import API_PREFIX, create_app, error_responses, lambda_handler
from mindly.http.auth import CurrentUser, bad_tokens_counted, refuse_cross_site
from mindly.http.envelope import Envelope
from mindly.http.limits import client_of, enforce, per_ip
from mindly.http.schemas import AnswerData, RequestBody, answers
from mindly.services import auth

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
    issued = auth.register(get_settings(), body.email, body.password, body.name)
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


@app.get(f"{API_PREFIX}/auth/me", operation_id="getMe")
@answers(Account)
def me(user: CurrentUser) -> Envelope:
    return Envelope(auth.me(user.id))


@app.get(f"{API_PREFIX}/auth/google", responses=error_responses(501), operation_id="signInWithGoogle")
def google() -> Envelope:
    raise FeatureNotConfigured("Google sign-in is not configured for this deployment yet; "
                               "use email and password")


handler = lambda_handler(app)
