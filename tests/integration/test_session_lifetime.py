"""Sessions (issue 15, point 7) through the auth function's real Lambda handler: a session ends a
fixed time after its login whatever its refreshes; parallel refreshes of one token (a retrying
network) all get the same new pair inside the reuse window, while a replay after it, or of an older
token, still revokes; the cookie refresh refuses cross-site requests; and invalid tokens are rate
limited per client network, valid ones never.

Time is moved by editing the session item (its login or rotation made earlier), never by sleeping.
"""

from __future__ import annotations

import time
import uuid
from collections.abc import Callable
from datetime import UTC, datetime
from typing import Any

import jwt
import pytest
from support import Answer, HandlerClient, all_at_once, register

from mindly.store import users
from mindly.store.models import SessionItem

API = "/api/v1"
DAY = 24 * 3600
ALLOWED_ORIGIN = "https://app.mindly.test"  # tests/conftest.py's CORS_ORIGINS
EVIL_ORIGIN = "https://evil.example"


# --- helpers -------------------------------------------------------------------------------------

def _ip() -> str:
    return f"192.0.2.{uuid.uuid4().int % 250 + 1}"


def _client(fn: Any, token: str | None = None, source_ip: str | None = None) -> HandlerClient:
    return HandlerClient(fn, token=token, source_ip=source_ip or _ip())


def _refresh(auth_fn: Any, refresh_token: str, source_ip: str | None = None) -> Answer:
    return _client(auth_fn, source_ip=source_ip).post(f"{API}/auth/refresh", {"refresh_token": refresh_token})


def _cookie_refresh(auth_fn: Any, refresh_token: str, headers: dict[str, str]) -> Answer:
    return _client(auth_fn).post(f"{API}/auth/refresh", headers=headers, cookies=[f"refresh_token={refresh_token}"])


def _me(auth_fn: Any, access_token: str) -> Answer:
    return _client(auth_fn, token=access_token).get(f"{API}/auth/me")


def _claims(token: str) -> dict[str, Any]:
    return jwt.decode(token, options={"verify_signature": False})


def _session_of(token: str) -> SessionItem:
    claims = _claims(token)
    session = users.get_session(claims["sub"], claims["sid"])
    assert session is not None
    return session


def _move_login_back(token: str, seconds: int) -> int:
    """Make the session of ``token`` have begun ``seconds`` ago; its login time, unix seconds."""
    session = _session_of(token)
    created = int(time.time()) - seconds
    session.update(actions=[SessionItem.created_at.set(datetime.fromtimestamp(created, tz=UTC))])
    return created


def _move_rotation_back(token: str, seconds: int) -> None:
    session = _session_of(token)
    assert session.rotated_at is not None
    moved = session.rotated_at.timestamp() - seconds
    session.update(actions=[SessionItem.rotated_at.set(datetime.fromtimestamp(moved, tz=UTC))])


def _max_age(answer: Answer) -> int:
    cookie = next(c for c in answer.cookies if c.startswith("refresh_token="))
    attributes = dict(part.strip().partition("=")[::2] for part in cookie.split(";")[1:])
    return int({k.lower(): v for k, v in attributes.items()}["max-age"])


def _assert_error(answer: Answer, status: int, code: str) -> None:
    assert answer.status == status, answer
    assert answer.json["success"] is False and answer.json["data"] is None, answer
    assert [e["code"] for e in answer.json["errors"]] == [code], answer


def _in_threads(count: int, call: Callable[[], Answer]) -> list[Answer]:
    return all_at_once(count, lambda _index: call())


def _new_session(auth_fn: Any) -> Answer:
    answer = register(auth_fn)
    assert answer.status == 201, answer
    return answer


# --- the absolute lifetime -----------------------------------------------------------------------

def test_a_new_session_and_its_item_expire_with_its_first_refresh_token(auth_fn: Any, settings: Any) -> None:
    # Given / When a login (a registration)
    answer = _new_session(auth_fn)
    claims = _claims(answer.data["refresh_token"])
    # Then the refresh token lives 7 days, well inside the 30-day session, and the item's TTL is its exp
    assert claims["exp"] - claims["iat"] == settings.refresh_token_ttl_seconds
    assert settings.session_max_lifetime_seconds == 30 * DAY
    session = _session_of(answer.data["refresh_token"])
    assert session.expires_at is not None and int(session.expires_at.timestamp()) == claims["exp"]
    assert _max_age(answer) == settings.refresh_token_ttl_seconds


def test_a_refresh_near_the_session_end_issues_tokens_that_expire_at_the_end(auth_fn: Any,
                                                                             settings: Any) -> None:
    # Given a session logged in 30 days less one hour ago (refreshed all along)
    registered = _new_session(auth_fn)
    login = _move_login_back(registered.data["refresh_token"], 30 * DAY - 3600)
    end = login + settings.session_max_lifetime_seconds
    # When it refreshes
    answer = _refresh(auth_fn, registered.data["refresh_token"])
    # Then the new refresh token expires at the session's end, not 7 days from now
    assert answer.status == 200, answer
    refreshed = _claims(answer.data["refresh_token"])
    assert refreshed["exp"] == end
    assert _max_age(answer) <= 3600
    # And the session item's TTL follows it
    session = _session_of(answer.data["refresh_token"])
    assert session.expires_at is not None and int(session.expires_at.timestamp()) == end
    # And the access token does not outlive the session either
    assert _claims(answer.data["access_token"])["exp"] <= end


def test_a_session_past_its_absolute_lifetime_cannot_refresh_even_with_a_valid_token(auth_fn: Any) -> None:
    # Given a session whose login was 30 days and a minute ago, holding a still-valid refresh token
    registered = _new_session(auth_fn)
    _move_login_back(registered.data["refresh_token"], 30 * DAY + 60)
    # When it refreshes
    answer = _refresh(auth_fn, registered.data["refresh_token"])
    # Then it is told to sign in again
    _assert_error(answer, 401, "AUTHENTICATION_ERROR")
    assert "sign in again" in answer.json["message"]


# --- the reuse window ----------------------------------------------------------------------------

def test_parallel_refreshes_of_one_token_all_get_the_same_new_pair(auth_fn: Any) -> None:
    # Given one refresh token
    registered = _new_session(auth_fn)
    token = registered.data["refresh_token"]
    # When a flaky network sends it 4 times at once
    answers = _in_threads(4, lambda: _refresh(auth_fn, token))
    # Then every one is answered, with the same new refresh token and access tokens of the same session
    assert [a.status for a in answers] == [200] * 4, answers
    assert len({a.data["refresh_token"] for a in answers}) == 1, answers
    new_refresh = answers[0].data["refresh_token"]
    assert new_refresh != token
    assert {_claims(a.data["access_token"])["sid"] for a in answers} == {_claims(token)["sid"]}
    # And the student is still signed in: each access token works, and the new refresh token rotates
    for answer in answers:
        assert _me(auth_fn, answer.data["access_token"]).status == 200
    assert _refresh(auth_fn, new_refresh).status == 200


def test_a_retried_refresh_within_the_window_answers_the_same_pair(auth_fn: Any) -> None:
    # Given a session refreshed once, whose answer the client never received
    registered = _new_session(auth_fn)
    old = registered.data["refresh_token"]
    first = _refresh(auth_fn, old)
    assert first.status == 200, first
    # When the client retries with the old token a moment later
    again = _refresh(auth_fn, old)
    # Then it gets the very same refresh token (and cookie) and a working access token of the session
    assert again.status == 200, again
    assert again.data["refresh_token"] == first.data["refresh_token"]
    assert _claims(again.data["access_token"])["sid"] == _claims(old)["sid"]
    assert _me(auth_fn, again.data["access_token"]).status == 200
    assert abs(_max_age(again) - _max_age(first)) <= 2  # the same expiry, seconds later
    # And the session goes on from that token
    assert _refresh(auth_fn, again.data["refresh_token"]).status == 200


def test_the_session_item_stores_no_usable_refresh_token(auth_fn: Any) -> None:
    # Given a session refreshed once (so it remembers the replaced token for the window)
    registered = _new_session(auth_fn)
    answer = _refresh(auth_fn, registered.data["refresh_token"])
    assert answer.status == 200, answer
    # Then what the table holds is jtis and times, never a token
    stored = str(_session_of(answer.data["refresh_token"]).serialize())
    for token in (registered.data["refresh_token"], answer.data["refresh_token"]):
        assert token not in stored
        assert token.split(".")[2] not in stored


def test_a_replaced_token_presented_after_the_window_still_revokes_the_session(auth_fn: Any,
                                                                               settings: Any) -> None:
    # Given a session refreshed once, the rotation now older than the reuse window
    registered = _new_session(auth_fn)
    old = registered.data["refresh_token"]
    rotated = _refresh(auth_fn, old)
    assert rotated.status == 200, rotated
    _move_rotation_back(old, settings.refresh_reuse_window_seconds + 1)
    # When the old token is presented again
    replay = _refresh(auth_fn, old)
    # Then it is a replay: refused, and the whole session is revoked
    _assert_error(replay, 401, "AUTHENTICATION_ERROR")
    assert "already been used" in replay.json["message"]
    _assert_error(_refresh(auth_fn, rotated.data["refresh_token"]), 401, "AUTHENTICATION_ERROR")
    _assert_error(_me(auth_fn, rotated.data["access_token"]), 401, "AUTHENTICATION_ERROR")


def test_a_token_older_than_the_replaced_one_revokes_even_inside_the_window(auth_fn: Any) -> None:
    # Given a session rotated twice in quick succession (first -> second -> third)
    registered = _new_session(auth_fn)
    first = registered.data["refresh_token"]
    second = _refresh(auth_fn, first)
    third = _refresh(auth_fn, second.data["refresh_token"])
    assert third.status == 200, third
    # When the first token is presented again, still within seconds
    replay = _refresh(auth_fn, first)
    # Then it is reuse, not a retry: the session is revoked, newest tokens included
    _assert_error(replay, 401, "AUTHENTICATION_ERROR")
    _assert_error(_refresh(auth_fn, third.data["refresh_token"]), 401, "AUTHENTICATION_ERROR")
    _assert_error(_me(auth_fn, third.data["access_token"]), 401, "AUTHENTICATION_ERROR")


# --- the cookie refresh and cross-site requests --------------------------------------------------

@pytest.mark.parametrize("headers", [
    {"Origin": EVIL_ORIGIN},
    {"Origin": "null"},
    {"Sec-Fetch-Site": "cross-site"},
    {"Origin": ALLOWED_ORIGIN, "Sec-Fetch-Site": "cross-site"},
], ids=["foreign origin", "opaque origin", "sec-fetch-site cross-site", "allowed origin but cross-site"])
def test_a_cross_site_cookie_refresh_is_403_and_leaves_the_token_alone(auth_fn: Any,
                                                                       headers: dict[str, str]) -> None:
    # Given a browser holding the refresh cookie
    registered = _new_session(auth_fn)
    token = registered.data["refresh_token"]
    # When another site makes it POST /auth/refresh with only the cookie
    answer = _cookie_refresh(auth_fn, token, headers)
    # Then it is refused in the envelope, with no token in it
    _assert_error(answer, 403, "AUTHORIZATION_ERROR")
    assert token not in answer.text and not [c for c in answer.cookies if c.startswith("refresh_token=")]
    # And the token was not rotated: the web app itself can still refresh with it
    assert _cookie_refresh(auth_fn, token, {"Origin": ALLOWED_ORIGIN}).status == 200


@pytest.mark.parametrize("headers", [
    {"Origin": ALLOWED_ORIGIN, "Sec-Fetch-Site": "same-site"},
    {"Origin": ALLOWED_ORIGIN + "/"},
    {"Sec-Fetch-Site": "same-origin"},
    {},
], ids=["web app", "web app with slash", "same origin", "no browser headers"])
def test_a_cookie_refresh_from_the_web_app_or_a_non_browser_client_works(auth_fn: Any,
                                                                          headers: dict[str, str]) -> None:
    # Given / When the cookie refresh comes from a configured origin, or from a client with no
    # browser headers at all (a mobile app's HTTP stack, curl)
    answer = _cookie_refresh(auth_fn, _new_session(auth_fn).data["refresh_token"], headers)
    # Then it rotates
    assert answer.status == 200, answer


def test_a_body_token_refresh_is_not_subject_to_the_origin_check(auth_fn: Any) -> None:
    # Given a refresh token the client holds itself (no ambient cookie to abuse)
    token = _new_session(auth_fn).data["refresh_token"]
    # When it is sent in the body from any origin
    answer = _client(auth_fn).post(f"{API}/auth/refresh", {"refresh_token": token},
                                   headers={"Origin": EVIL_ORIGIN, "Sec-Fetch-Site": "cross-site"})
    # Then it rotates as usual
    assert answer.status == 200, answer


# --- invalid tokens, per client network ----------------------------------------------------------

def _expired_access_token(settings: Any, real: str) -> str:
    now = int(time.time())
    claims = _claims(real) | {"iat": now - 3600, "exp": now - 60}
    return jwt.encode(claims, settings.jwt_secret.get_secret_value(), algorithm="HS256")


def test_invalid_bearer_tokens_from_one_network_turn_into_429_after_the_limit(
        auth_fn: Any, profile_fn: Any, settings: Any, monkeypatch: pytest.MonkeyPatch) -> None:
    # Given a limit of 4 invalid tokens a minute and a real session
    monkeypatch.setattr(settings, "bad_token_rate_limit_per_minute", 4)
    registered = _new_session(auth_fn)
    ip = _ip()
    bad = ["garbage", "a.b.c", _expired_access_token(settings, registered.data["access_token"]),
           registered.data["refresh_token"]]  # a refresh token is no access token
    # When one network sends 4 bad tokens (to two functions), then a fifth
    answers = [_client(fn, token=token, source_ip=ip).get(path) for fn, path, token in
               zip([auth_fn, profile_fn] * 2, [f"{API}/auth/me", f"{API}/profile"] * 2, bad, strict=True)]
    over = _client(profile_fn, token="garbage", source_ip=ip).get(f"{API}/profile")
    # Then the 4 are 401 and the fifth is 429 with Retry-After, in the envelope
    assert [a.status for a in answers] == [401] * 4, answers
    _assert_error(over, 429, "RATE_LIMIT_EXCEEDED")
    assert 1 <= int(over.headers["retry-after"]) <= 60
    # And so is an expired token now: the answer no longer says anything about the token
    expired = _client(auth_fn, token=bad[2], source_ip=ip).get(f"{API}/auth/me")
    _assert_error(expired, 429, "RATE_LIMIT_EXCEEDED")
    # And a valid token from that same network still works (a shared NAT address is not shut out)
    assert _client(auth_fn, token=registered.data["access_token"], source_ip=ip).get(f"{API}/auth/me").status == 200
    # And another network's bad token is still an ordinary 401
    _assert_error(_client(auth_fn, token="garbage").get(f"{API}/auth/me"), 401, "AUTHENTICATION_ERROR")


def test_valid_tokens_and_missing_tokens_do_not_count_as_invalid(auth_fn: Any, settings: Any,
                                                                 monkeypatch: pytest.MonkeyPatch) -> None:
    # Given a limit of 2 invalid tokens a minute
    monkeypatch.setattr(settings, "bad_token_rate_limit_per_minute", 2)
    registered = _new_session(auth_fn)
    ip = _ip()
    # When one network makes many valid calls and many calls with no token at all
    for _ in range(5):
        assert _client(auth_fn, token=registered.data["access_token"], source_ip=ip).get(f"{API}/auth/me").status == 200
        _assert_error(_client(auth_fn, source_ip=ip).get(f"{API}/auth/me"), 401, "AUTHENTICATION_ERROR")
    # Then its invalid-token budget is untouched: two bad tokens are still plain 401s
    for _ in range(2):
        _assert_error(_client(auth_fn, token="garbage", source_ip=ip).get(f"{API}/auth/me"), 401,
                      "AUTHENTICATION_ERROR")


def test_bad_refresh_tokens_count_against_the_same_network_budget(auth_fn: Any, settings: Any,
                                                                  monkeypatch: pytest.MonkeyPatch) -> None:
    # Given a limit of 3 invalid tokens a minute and a session that was logged out
    monkeypatch.setattr(settings, "bad_token_rate_limit_per_minute", 3)
    registered = _new_session(auth_fn)
    assert _client(auth_fn, token=registered.data["access_token"]).post(f"{API}/auth/logout").status == 200
    ip = _ip()
    # When one network presents a forged refresh token, the revoked session's, and a garbage bearer token
    forged = jwt.encode(_claims(registered.data["refresh_token"]), "x" * 40, algorithm="HS256")
    first = [_refresh(auth_fn, forged, ip), _refresh(auth_fn, registered.data["refresh_token"], ip),
             _client(auth_fn, token="garbage", source_ip=ip).get(f"{API}/auth/me")]
    # Then they are 401s, and the next bad refresh token is 429 with Retry-After
    assert [a.status for a in first] == [401] * 3, first
    over = _refresh(auth_fn, forged, ip)
    _assert_error(over, 429, "RATE_LIMIT_EXCEEDED")
    assert int(over.headers["retry-after"]) >= 1
    # And a good refresh token from that network still rotates
    assert _refresh(auth_fn, _new_session(auth_fn).data["refresh_token"], ip).status == 200


def test_with_redis_down_an_invalid_token_is_still_a_plain_401(auth_fn: Any, upstash: Any) -> None:
    # Given Redis unreachable
    upstash.set_down(True)
    # When a garbage token is sent
    answer = _client(auth_fn, token="garbage").get(f"{API}/auth/me")
    # Then the answer is the 401 it would be without the limit (the limit is skipped, as per-IP ones are)
    _assert_error(answer, 401, "AUTHENTICATION_ERROR")
