"""Auth endpoints (API.md "Auth") through the auth function's real Lambda handler.

Every test makes its own accounts (fresh emails), so DynamoDB state never leaks between tests;
Redis is flushed before each test by conftest.
"""

from __future__ import annotations

import base64
import json
import time
import uuid
from collections.abc import Callable
from typing import Any

import jwt
import pytest
from support import PASSWORD, Answer, HandlerClient, all_at_once, register, unique_email

API = "/api/v1"
ENVELOPE_KEYS = {"success", "data", "message", "errors"}
USER_KEYS = {"id", "email", "name", "role", "created_at"}


# --- helpers -------------------------------------------------------------------------------------

def _client(auth_fn: Any, token: str | None = None) -> HandlerClient:
    # A fresh source IP per client keeps the per-IP limiters out of the way of these tests.
    return HandlerClient(auth_fn, token=token, source_ip=f"192.0.2.{uuid.uuid4().int % 250 + 1}")


def _login(auth_fn: Any, email: str, password: str = PASSWORD) -> Answer:
    return _client(auth_fn).post(f"{API}/auth/login", {"email": email, "password": password})


def _refresh(auth_fn: Any, refresh_token: str) -> Answer:
    return _client(auth_fn).post(f"{API}/auth/refresh", {"refresh_token": refresh_token})


def _me(auth_fn: Any, access_token: str) -> Answer:
    return _client(auth_fn, token=access_token).get(f"{API}/auth/me")


def _new_account(auth_fn: Any) -> tuple[str, Answer]:
    email = unique_email("auth")
    answer = register(auth_fn, email=email)
    assert answer.status == 201, answer
    return email, answer


def _cookie_attributes(set_cookie: str) -> tuple[str, str, dict[str, str]]:
    """(name, value, {lower-cased attribute: value}) of one Set-Cookie string."""
    first, *rest = [part.strip() for part in set_cookie.split(";")]
    name, _, value = first.partition("=")
    attributes = {}
    for part in rest:
        key, _, attr_value = part.partition("=")
        attributes[key.strip().lower()] = attr_value.strip()
    return name, value, attributes


def _refresh_cookie(answer: Answer) -> tuple[str, dict[str, str]]:
    found = [_cookie_attributes(c) for c in answer.cookies if c.startswith("refresh_token=")]
    assert len(found) == 1, answer.cookies
    _, value, attributes = found[0]
    return value, attributes


def _assert_token_answer(answer: Answer, status: int) -> None:
    assert answer.status == status, answer
    assert set(answer.json) == ENVELOPE_KEYS
    assert answer.json["success"] is True
    data = answer.data
    assert set(data) == {"user", "access_token", "refresh_token", "token_type", "expires_in"}
    assert set(data["user"]) == USER_KEYS
    assert data["token_type"] == "bearer"
    assert data["expires_in"] == 900
    assert data["access_token"] and data["refresh_token"]
    assert data["access_token"] != data["refresh_token"]


def _assert_auth_error(answer: Answer) -> None:
    assert answer.status == 401, answer
    assert answer.json["success"] is False
    assert answer.json["data"] is None
    assert [e["code"] for e in answer.json["errors"]] == ["AUTHENTICATION_ERROR"]


def _unverified_claims(token: str) -> dict[str, Any]:
    return jwt.decode(token, options={"verify_signature": False})


def _b64url(raw: bytes) -> str:
    return base64.urlsafe_b64encode(raw).rstrip(b"=").decode()


def _in_threads(count: int, call: Callable[[], Answer]) -> list[Answer]:
    """Run ``call`` ``count`` times at once, as concurrent Lambda containers would."""
    return all_at_once(count, lambda _index: call())


# --- register ------------------------------------------------------------------------------------

def test_register_answers_201_with_user_and_tokens_but_never_the_password(auth_fn: Any) -> None:
    # Given a new email
    email = unique_email("reg")
    # When the student registers
    answer = register(auth_fn, email=email, name="Asha Verma")
    # Then the answer is 201 with the user, a bearer access token (15 min) and a refresh token
    _assert_token_answer(answer, 201)
    user = answer.data["user"]
    assert user["email"] == email
    assert user["name"] == "Asha Verma"
    assert user["role"] == "student"
    assert user["created_at"].endswith("Z")
    # And neither the password nor its hash appears anywhere in the body
    from mindly.store import users

    stored = users.get_user(user["id"])
    assert stored is not None
    assert PASSWORD not in answer.text
    assert stored.password_hash not in answer.text
    assert "$2b$" not in answer.text
    assert "password" not in json.dumps(answer.data).lower()


def test_register_sets_the_refresh_token_as_a_strict_httponly_cookie(auth_fn: Any) -> None:
    # Given / When a registration
    answer = register(auth_fn)
    # Then the refresh token is also set as a cookie scoped to the auth routes
    value, attributes = _refresh_cookie(answer)
    assert value == answer.data["refresh_token"]
    assert "httponly" in attributes
    assert "secure" in attributes
    assert attributes.get("samesite", "").lower() == "strict"
    assert attributes.get("path") == "/api/v1/auth"


def test_register_normalizes_the_email_so_case_and_spaces_name_the_same_account(auth_fn: Any) -> None:
    # Given an email typed with capitals and surrounding spaces
    local = f"Mixed.Case.{uuid.uuid4().hex[:10]}"
    answer = register(auth_fn, email=f"  {local.upper()}@Example.COM  ")
    # Then it is stored lower-cased and trimmed
    assert answer.status == 201, answer
    assert answer.data["user"]["email"] == f"{local.lower()}@example.com"
    # When the same address registers again in another spelling
    again = register(auth_fn, email=f"{local.lower()}@example.com")
    # Then it is the same account: 409 CONFLICT on the email field
    assert again.status == 409, again
    assert again.json["success"] is False
    assert again.json["errors"][0]["code"] == "CONFLICT"
    assert again.json["errors"][0]["field"] == "email"
    # And logging in with yet another spelling finds the account
    login = _login(auth_fn, f"{local.title()}@EXAMPLE.com ")
    assert login.status == 200, login
    assert login.data["user"]["id"] == answer.data["user"]["id"]


def test_concurrent_registrations_of_one_email_create_exactly_one_account(auth_fn: Any) -> None:
    # Given one email
    email = unique_email("race")
    # When 8 registrations of it run at the same time
    answers = _in_threads(8, lambda: register(auth_fn, email=email))
    # Then exactly one wins and every other one is told the email is taken
    statuses = sorted(answer.status for answer in answers)
    assert statuses == [201] + [409] * 7, answers
    winner = next(answer for answer in answers if answer.status == 201)
    # And the account that exists is the winner's
    login = _login(auth_fn, email)
    assert login.status == 200, login
    assert login.data["user"]["id"] == winner.data["user"]["id"]


@pytest.mark.parametrize(("body_change", "field"), [
    ({"email": "not-an-email"}, "email"),
    ({"email": "two@@example.com"}, "email"),
    ({"email": "nobody@localhost"}, "email"),
    ({"password": "short7!"}, "password"),
    ({"password": "        "}, "password"),
    ({"password": "a" * 73}, "password"),
    ({"password": "é" * 40}, "password"),  # 40 characters, 80 bytes
    ({"password": "é" * 36 + "a"}, "password"),  # 73 bytes
    ({"name": "Ravi\u0000"}, "name"),  # NUL
    ({"name": "Ravi\u0007"}, "name"),  # BEL
    ({"name": "Ravi\nKumar"}, "name"),
    ({"name": "\u202eivaR"}, "name"),  # right-to-left override: "Ravi" shown reversed on the board
    ({"name": "Ravi\u2066x\u2069"}, "name"),  # an isolate
])
def test_register_rejects_bad_email_and_password_with_422(auth_fn: Any, body_change: dict[str, str],
                                                          field: str) -> None:
    # Given a registration with one bad value
    body = {"email": unique_email(), "password": PASSWORD, "name": "Ravi"} | body_change
    # When it is sent
    answer = _client(auth_fn).post(f"{API}/auth/register", body)
    # Then it is a 422 naming the field, never a 500
    assert answer.status == 422, answer
    assert answer.json["success"] is False
    assert [(e["code"], e["field"]) for e in answer.json["errors"]] == [("VALIDATION_ERROR", field)]


@pytest.mark.parametrize("name", ["अर्जुन", "শ্রেয়া", "क्\u200dष", "Priya 😀", "O'Neil-Smith Jr."])
def test_register_accepts_names_in_any_script_with_their_joiners(auth_fn: Any, name: str) -> None:
    # Given a name in an Indian script (zero-width joiners included) or with an emoji
    answer = register(auth_fn, name=name)
    # Then it is accepted as written
    assert answer.status == 201, answer
    assert answer.data["user"]["name"] == name


@pytest.mark.parametrize("password", ["a" * 72, "é" * 36, "Pässwörd-" + "x" * 20])
def test_register_accepts_passwords_up_to_exactly_72_bytes(auth_fn: Any, password: str) -> None:
    # Given a password of at most 72 UTF-8 bytes
    email = unique_email("pw72")
    # When the student registers with it
    answer = register(auth_fn, email=email, password=password)
    # Then it is accepted and logs in with exactly that password
    assert answer.status == 201, answer
    assert _login(auth_fn, email, password).status == 200


@pytest.mark.parametrize(("body", "fields"), [
    ({"email": "x@example.com", "password": PASSWORD, "name": "R", "role": "admin"}, {"role"}),
    ({"email": "x@example.com", "password": PASSWORD, "name": 123}, {"name"}),
    ({"email": ["x@example.com"], "password": PASSWORD, "name": "R"}, {"email"}),
    ({"email": "x@example.com", "password": 12345678, "name": "R"}, {"password"}),
    ({"email": "x@example.com", "password": PASSWORD, "name": "   "}, {"name"}),
    ({"email": "x@example.com", "password": PASSWORD}, {"name"}),
])
def test_register_rejects_unknown_fields_and_wrong_types_with_422(auth_fn: Any, body: dict[str, Any],
                                                                  fields: set[str]) -> None:
    # Given a body with an unknown field, a wrong type or a missing field
    # When it is sent
    answer = _client(auth_fn).post(f"{API}/auth/register", body)
    # Then the envelope lists a VALIDATION_ERROR for each offending field
    assert answer.status == 422, answer
    assert set(answer.json) == ENVELOPE_KEYS
    assert answer.json["success"] is False
    assert {e["field"] for e in answer.json["errors"]} == fields
    assert {e["code"] for e in answer.json["errors"]} == {"VALIDATION_ERROR"}
    # And the password is never echoed back
    assert PASSWORD not in answer.text


@pytest.mark.parametrize("raw_body", [
    b'{"email": "x@example.com", "password": ',
    b"not json at all",
    b'{"email": "x@example.com", "password": "\xff\xfe-invalid-utf8", "name": "R"}',
    b'{"email": "x@example.com", "password": "\\ud800abcdefgh", "name": "R"}',  # lone surrogate
])
def test_register_rejects_a_malformed_body_with_400(auth_fn: Any, raw_body: bytes) -> None:
    # Given a body that is not valid JSON text
    # When it is sent
    answer = _client(auth_fn).request("POST", f"{API}/auth/register", raw_body=raw_body)
    # Then it is a 400 envelope, not a 500
    assert answer.status == 400, answer
    assert set(answer.json) == ENVELOPE_KEYS
    assert answer.json["success"] is False
    assert answer.json["errors"][0]["code"] == "VALIDATION_ERROR"


# --- login ---------------------------------------------------------------------------------------

def test_login_answers_200_with_the_register_shape_and_cookie(auth_fn: Any) -> None:
    # Given a registered student
    email, registered = _new_account(auth_fn)
    # When they log in
    answer = _login(auth_fn, email)
    # Then the answer has the same shape as register's, for the same user, with new tokens
    _assert_token_answer(answer, 200)
    assert answer.data["user"] == registered.data["user"]
    assert answer.data["refresh_token"] != registered.data["refresh_token"]
    value, attributes = _refresh_cookie(answer)
    assert value == answer.data["refresh_token"]
    assert {"httponly", "secure"} <= set(attributes)
    assert PASSWORD not in answer.text


def test_unknown_email_and_wrong_password_get_the_identical_401(auth_fn: Any) -> None:
    # Given a registered student
    email, _ = _new_account(auth_fn)
    # When someone logs in with an unknown email, with a wrong password, and with a non-email
    unknown = _login(auth_fn, unique_email("ghost"))
    wrong = _login(auth_fn, email, "Wrong-password-1")
    malformed = _login(auth_fn, "not-an-email", "Wrong-password-1")
    # Then all three answers are the same 401: nothing tells which emails exist
    for answer in (unknown, wrong, malformed):
        _assert_auth_error(answer)
    assert unknown.json == wrong.json == malformed.json


def test_five_failed_logins_lock_the_account_for_that_client_even_for_the_right_password(auth_fn: Any) -> None:
    # Given a fresh account and one client (network) trying it
    email, _ = _new_account(auth_fn)
    client = _client(auth_fn)

    def login(password: str) -> Answer:
        return client.post(f"{API}/auth/login", {"email": email, "password": password})

    # When the wrong password is tried five times
    statuses = [login(f"Wrong-password-{i}") for i in range(5)]
    # Then the first four are plain 401s and the fifth locks the account (423 with Retry-After)
    assert [a.status for a in statuses[:4]] == [401] * 4, statuses
    locked = statuses[4]
    assert locked.status == 423, locked
    assert locked.json["errors"][0]["code"] == "ACCOUNT_LOCKED"
    assert 0 < int(locked.headers["retry-after"]) <= 15 * 60
    # And then even the right password is refused from that client while the lock lasts
    right = login(PASSWORD)
    assert right.status == 423, right
    assert right.json["errors"][0]["code"] == "ACCOUNT_LOCKED"
    assert "access_token" not in right.text


def test_a_successful_login_clears_earlier_failures(auth_fn: Any) -> None:
    # Given four failed logins then a successful one, from one client
    email, _ = _new_account(auth_fn)
    client = _client(auth_fn)

    def login(password: str) -> Answer:
        return client.post(f"{API}/auth/login", {"email": email, "password": password})

    for i in range(4):
        assert login(f"Wrong-password-{i}").status == 401
    assert login(PASSWORD).status == 200
    # When the password is mistyped once more
    answer = login("Wrong-password-x")
    # Then it is an ordinary 401, not a lockout
    assert answer.status == 401, answer


# --- refresh -------------------------------------------------------------------------------------

def test_refresh_with_the_body_token_rotates_both_tokens(auth_fn: Any) -> None:
    # Given a session
    _, registered = _new_account(auth_fn)
    old_refresh = registered.data["refresh_token"]
    # When its refresh token is presented in the body
    answer = _refresh(auth_fn, old_refresh)
    # Then a new access token and a new refresh token come back, and the cookie follows
    _assert_token_answer(answer, 200)
    assert answer.data["refresh_token"] != old_refresh
    assert answer.data["access_token"] != registered.data["access_token"]
    assert _refresh_cookie(answer)[0] == answer.data["refresh_token"]
    # And the new access token works
    assert _me(auth_fn, answer.data["access_token"]).status == 200


def test_refresh_with_only_the_cookie_works(auth_fn: Any) -> None:
    # Given a session whose refresh token the browser holds as a cookie
    _, registered = _new_account(auth_fn)
    old_refresh = registered.data["refresh_token"]
    # When refresh is called with no body, only the cookie
    answer = _client(auth_fn).post(f"{API}/auth/refresh", cookies=[f"refresh_token={old_refresh}"])
    # Then it rotates like the body form
    _assert_token_answer(answer, 200)
    assert answer.data["refresh_token"] != old_refresh


def test_refresh_with_an_empty_body_falls_back_to_the_cookie(auth_fn: Any) -> None:
    # Given a refresh token in the cookie and an empty JSON object as body
    _, registered = _new_account(auth_fn)
    # When refresh is called
    answer = _client(auth_fn).post(f"{API}/auth/refresh", {},
                                   cookies=[f"refresh_token={registered.data['refresh_token']}"])
    # Then the cookie is used
    _assert_token_answer(answer, 200)


def test_refresh_without_any_token_is_401(auth_fn: Any) -> None:
    # Given / When refresh is called with neither body token nor cookie
    answer = _client(auth_fn).post(f"{API}/auth/refresh")
    # Then it is refused
    _assert_auth_error(answer)


def test_replaying_a_rotated_refresh_token_revokes_the_whole_session(auth_fn: Any, settings: Any,
                                                                     monkeypatch: pytest.MonkeyPatch) -> None:
    # (No reuse window: every presentation of a replaced token is a replay; the window is
    # tests/integration/test_session_lifetime.py's)
    monkeypatch.setattr(settings, "refresh_reuse_window_seconds", 0)
    # Given a session refreshed once
    _, registered = _new_account(auth_fn)
    old_refresh = registered.data["refresh_token"]
    rotated = _refresh(auth_fn, old_refresh)
    assert rotated.status == 200, rotated
    # When the old (already rotated) refresh token is presented again
    replay = _refresh(auth_fn, old_refresh)
    # Then it is refused
    _assert_auth_error(replay)
    # And the newest refresh token of that session is refused too: the session is revoked
    _assert_auth_error(_refresh(auth_fn, rotated.data["refresh_token"]))
    # And so is that session's newest access token
    _assert_auth_error(_me(auth_fn, rotated.data["access_token"]))


def test_replay_does_not_touch_the_students_other_sessions(auth_fn: Any, settings: Any,
                                                           monkeypatch: pytest.MonkeyPatch) -> None:
    # (No reuse window: every presentation of a replaced token is a replay; the window is
    # tests/integration/test_session_lifetime.py's)
    monkeypatch.setattr(settings, "refresh_reuse_window_seconds", 0)
    # Given two sessions of one student, the first of which is replayed
    email, registered = _new_account(auth_fn)
    other = _login(auth_fn, email)
    assert _refresh(auth_fn, registered.data["refresh_token"]).status == 200
    assert _refresh(auth_fn, registered.data["refresh_token"]).status == 401
    # When the other session is used
    # Then it still works
    assert _me(auth_fn, other.data["access_token"]).status == 200
    assert _refresh(auth_fn, other.data["refresh_token"]).status == 200


def test_concurrent_use_of_one_refresh_token_never_yields_two_live_sessions(auth_fn: Any, settings: Any,
                                                                            monkeypatch: pytest.MonkeyPatch) -> None:
    # (No reuse window: every presentation of a replaced token is a replay; the window is
    # tests/integration/test_session_lifetime.py's)
    monkeypatch.setattr(settings, "refresh_reuse_window_seconds", 0)
    # Given one refresh token
    _, registered = _new_account(auth_fn)
    token = registered.data["refresh_token"]
    # When it is presented by 4 clients at the same time
    answers = _in_threads(4, lambda: _refresh(auth_fn, token))
    # Then at most one of them gets new tokens and every other one is a 401
    statuses = [answer.status for answer in answers]
    assert statuses.count(200) <= 1, answers
    assert all(status in (200, 401) for status in statuses), answers
    # And the reuse revoked the session: whatever was issued no longer refreshes
    for answer in answers:
        if answer.status == 200:
            _assert_auth_error(_refresh(auth_fn, answer.data["refresh_token"]))


def test_an_access_token_is_not_accepted_as_a_refresh_token(auth_fn: Any) -> None:
    # Given a session
    _, registered = _new_account(auth_fn)
    # When its access token is presented to /auth/refresh
    answer = _refresh(auth_fn, registered.data["access_token"])
    # Then it is refused
    _assert_auth_error(answer)


def test_a_refresh_token_is_not_accepted_as_an_access_token(auth_fn: Any) -> None:
    # Given a session
    _, registered = _new_account(auth_fn)
    # When its refresh token is sent as the bearer token
    answer = _me(auth_fn, registered.data["refresh_token"])
    # Then it is refused
    _assert_auth_error(answer)


# --- logout --------------------------------------------------------------------------------------

def test_logout_ends_this_session_only(auth_fn: Any) -> None:
    # Given two sessions of one student
    email, first = _new_account(auth_fn)
    second = _login(auth_fn, email)
    assert second.status == 200, second
    # When the first session logs out
    answer = _client(auth_fn, first.data["access_token"]).post(f"{API}/auth/logout")
    assert answer.status == 200, answer
    assert answer.json["success"] is True
    # Then its access token and its refresh token stop working at once
    _assert_auth_error(_me(auth_fn, first.data["access_token"]))
    _assert_auth_error(_refresh(auth_fn, first.data["refresh_token"]))
    # And the second session still works
    assert _me(auth_fn, second.data["access_token"]).status == 200
    assert _refresh(auth_fn, second.data["refresh_token"]).status == 200


def test_logout_clears_the_refresh_cookie(auth_fn: Any) -> None:
    # Given a session
    _, registered = _new_account(auth_fn)
    # When it logs out
    answer = _client(auth_fn, registered.data["access_token"]).post(f"{API}/auth/logout")
    # Then the refresh cookie is expired on the auth path
    value, attributes = _refresh_cookie(answer)
    assert value in ("", '""')
    assert attributes.get("max-age") == "0"
    assert attributes.get("path") == "/api/v1/auth"


def test_logout_all_ends_every_session_of_the_student(auth_fn: Any) -> None:
    # Given three sessions of one student, one of them already refreshed
    email, first = _new_account(auth_fn)
    second = _login(auth_fn, email)
    third = _refresh(auth_fn, _login(auth_fn, email).data["refresh_token"])
    sessions = [first, second, third]
    assert all(s.status in (200, 201) for s in sessions), sessions
    # When the second session logs out of everything
    answer = _client(auth_fn, second.data["access_token"]).post(f"{API}/auth/logout-all")
    assert answer.status == 200, answer
    # Then every session's access token and refresh token stop working
    for session in sessions:
        _assert_auth_error(_me(auth_fn, session.data["access_token"]))
        _assert_auth_error(_refresh(auth_fn, session.data["refresh_token"]))
    # And the student can still log in again afterwards
    fresh = _login(auth_fn, email)
    assert fresh.status == 200, fresh
    assert _me(auth_fn, fresh.data["access_token"]).status == 200


def test_logout_all_leaves_other_students_alone(auth_fn: Any) -> None:
    # Given two students
    _, alice = _new_account(auth_fn)
    _, bob = _new_account(auth_fn)
    # When one logs out of everything
    assert _client(auth_fn, alice.data["access_token"]).post(f"{API}/auth/logout-all").status == 200
    # Then the other is still signed in
    assert _me(auth_fn, bob.data["access_token"]).status == 200


# --- me ------------------------------------------------------------------------------------------

def test_me_returns_the_public_account(auth_fn: Any) -> None:
    # Given a registered student
    email, registered = _new_account(auth_fn)
    # When they ask who they are
    answer = _me(auth_fn, registered.data["access_token"])
    # Then they get exactly id, email, name, role and created_at, and whether the email is verified
    assert answer.status == 200, answer
    assert answer.data == {**registered.data["user"], "email_verified": False}
    assert set(answer.data) == USER_KEYS | {"email_verified"}
    assert answer.data["email"] == email
    assert "$2b$" not in answer.text


# --- tokens --------------------------------------------------------------------------------------

def test_a_token_with_alg_none_is_rejected(auth_fn: Any) -> None:
    # Given a real token's claims re-encoded with no signature
    _, registered = _new_account(auth_fn)
    claims = _unverified_claims(registered.data["access_token"])
    forged = jwt.encode(claims, None, algorithm="none")
    # When it is used
    # Then it is a 401 AUTHENTICATION_ERROR
    _assert_auth_error(_me(auth_fn, forged))


def test_a_token_signed_with_another_secret_is_rejected(auth_fn: Any) -> None:
    # Given a real token's claims signed with some other key
    _, registered = _new_account(auth_fn)
    claims = _unverified_claims(registered.data["access_token"])
    forged = jwt.encode(claims, "another-secret-" + "x" * 40, algorithm="HS256")
    # Then it is refused
    _assert_auth_error(_me(auth_fn, forged))


def test_an_expired_token_is_rejected(auth_fn: Any, settings: Any) -> None:
    # Given a correctly signed access token whose exp has passed
    _, registered = _new_account(auth_fn)
    claims = _unverified_claims(registered.data["access_token"])
    now = int(time.time())
    claims.update({"iat": now - 3600, "exp": now - 60})
    expired = jwt.encode(claims, settings.jwt_secret.get_secret_value(), algorithm="HS256")
    # Then it is refused, saying why
    answer = _me(auth_fn, expired)
    _assert_auth_error(answer)
    assert "expired" in answer.json["message"].lower()


def test_a_tampered_payload_is_rejected(auth_fn: Any) -> None:
    # Given a real token whose payload is swapped for one claiming the admin role
    _, registered = _new_account(auth_fn)
    header, _, signature = registered.data["access_token"].split(".")
    claims = _unverified_claims(registered.data["access_token"]) | {"role": "admin"}
    tampered = ".".join([header, _b64url(json.dumps(claims).encode()), signature])
    # Then it is refused
    _assert_auth_error(_me(auth_fn, tampered))


@pytest.mark.parametrize("change", [
    {"aud": "someone-else"},
    {"iss": "someone-else"},
    {"sid": None},
])
def test_a_correctly_signed_token_with_wrong_claims_is_rejected(auth_fn: Any, settings: Any,
                                                                change: dict[str, Any]) -> None:
    # Given a token signed with the real key but for another audience/issuer, or without a session
    _, registered = _new_account(auth_fn)
    claims = _unverified_claims(registered.data["access_token"]) | change
    claims = {k: v for k, v in claims.items() if v is not None}
    token = jwt.encode(claims, settings.jwt_secret.get_secret_value(), algorithm="HS256")
    # Then it is refused
    _assert_auth_error(_me(auth_fn, token))


@pytest.mark.parametrize("headers", [
    {},
    {"authorization": ""},
    {"authorization": "Bearer "},
    {"authorization": "Basic dXNlcjpwYXNz"},
    {"authorization": "Bearer not.a.jwt"},
])
def test_a_missing_or_malformed_authorization_header_is_401(auth_fn: Any, headers: dict[str, str]) -> None:
    # Given / When /auth/me is called without a usable bearer token
    answer = _client(auth_fn).get(f"{API}/auth/me", headers=headers)
    # Then it is a 401 inviting a bearer token
    _assert_auth_error(answer)
    assert answer.headers.get("www-authenticate", "").lower().startswith("bearer")


# --- google, headers -----------------------------------------------------------------------------

def test_google_sign_in_answers_501_with_a_clear_message(auth_fn: Any) -> None:
    # Given / When the Google sign-in route is called
    answer = _client(auth_fn).get(f"{API}/auth/google")
    # Then it is a 501 envelope saying Google sign-in is not available
    assert answer.status == 501, answer
    assert set(answer.json) == ENVELOPE_KEYS
    assert answer.json["success"] is False
    assert "google" in answer.json["message"].lower()
    assert answer.json["errors"]


def test_auth_answers_are_never_cached(auth_fn: Any) -> None:
    # Given a registration, a login, a me and a failed me
    email, registered = _new_account(auth_fn)
    answers = [
        registered,
        _login(auth_fn, email),
        _me(auth_fn, registered.data["access_token"]),
        _me(auth_fn, "garbage"),
        _refresh(auth_fn, registered.data["refresh_token"]),
    ]
    # Then every one of them forbids caching
    for answer in answers:
        assert answer.headers.get("cache-control") == "no-store", answer.headers


def test_login_ignores_fields_it_does_not_use(auth_fn: Any) -> None:
    # Given a client that posts its sign-up body (with name) to login
    email = unique_email()
    assert register(auth_fn, email).status == 201
    answer = HandlerClient(auth_fn).post("/api/v1/auth/login",
                                         {"email": email, "password": PASSWORD, "name": "Asha Verma"})
    # Then the extra field does not stand in the way
    assert answer.status == 200, answer
