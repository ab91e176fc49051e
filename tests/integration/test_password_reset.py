"""Forgot and reset password (API.md "Accounts and reminders") through the auth function's real
handler, the reset link read back from the mail moto's SES accepted (``infra.local_aws.sent_mail``).
"""

from __future__ import annotations

import uuid
from typing import Any
from urllib.parse import parse_qs, urlsplit

import pytest
from support import PASSWORD, Answer, HandlerClient, all_at_once, register, unique_email

from infra import local_aws

API = "/api/v1"
NEW_PASSWORD = "a-new-Password-42"


def _address() -> str:
    return f"198.18.{uuid.uuid4().int % 250}.{uuid.uuid4().int % 250 + 1}"


def _client(auth_fn: Any, token: str | None = None, source_ip: str | None = None) -> HandlerClient:
    return HandlerClient(auth_fn, token=token, source_ip=source_ip or _address())


def reset_tokens(email: str) -> list[str]:
    """The tokens of the reset links mailed to ``email``, oldest first."""
    return [parse_qs(urlsplit(mail.link).query)["token"][0] for mail in local_aws.sent_mail(to=email)
            if mail.link and urlsplit(mail.link).path == "/reset-password"]


def _account(auth_fn: Any) -> tuple[str, Answer]:
    email = unique_email("reset")
    answer = register(auth_fn, email=email)
    assert answer.status == 201, answer
    return email, answer


def _forgot(auth_fn: Any, email: str, source_ip: str | None = None) -> Answer:
    return _client(auth_fn, source_ip=source_ip).post(f"{API}/auth/password/forgot", {"email": email})


def _reset(auth_fn: Any, token: str, password: str = NEW_PASSWORD) -> Answer:
    return _client(auth_fn).post(f"{API}/auth/password/reset", {"token": token, "new_password": password})


def _login(auth_fn: Any, email: str, password: str) -> Answer:
    return _client(auth_fn).post(f"{API}/auth/login", {"email": email, "password": password})


def _comparable(answer: Answer) -> tuple[int, Any, dict[str, str]]:
    # Everything a client sees but the request id and the rate-limit counters of its own buckets.
    headers = {k: v for k, v in answer.headers.items() if k != "x-request-id" and not k.startswith("x-ratelimit")}
    return answer.status, answer.json, headers


def test_forgot_answers_the_same_for_a_known_and_an_unknown_email(auth_fn: Any) -> None:
    # Given a registered email and one nobody registered
    known, _ = _account(auth_fn)
    unknown = unique_email("nobody")
    # When both ask for a reset link
    for_known, for_unknown = _forgot(auth_fn, known), _forgot(auth_fn, unknown)
    # Then the answers are the same 202, body and headers
    assert for_known.status == 202, for_known
    assert _comparable(for_known) == _comparable(for_unknown)
    # And only the registered address got a mail, with a link to the app's reset page
    assert len(reset_tokens(known)) == 1
    assert local_aws.sent_mail(to=unknown) == []


def test_forgot_takes_its_floor_in_both_branches(auth_fn: Any, settings: Any,
                                                 monkeypatch: pytest.MonkeyPatch) -> None:
    from mindly.services import account_links

    # Given a forgot-password floor of 0.4 s and a recorder of the waits the service makes
    monkeypatch.setattr(settings, "password_forgot_min_seconds", 0.4)
    waits: list[float] = []
    monkeypatch.setattr(account_links, "_wait", waits.append)
    known, _ = _account(auth_fn)
    # When a known and an unknown email ask
    _forgot(auth_fn, known)
    _forgot(auth_fn, unique_email("nobody"))
    # Then both answers waited out the rest of the floor (neither came back early)
    assert len(waits) == 2
    assert all(0 < wait <= 0.4 for wait in waits)


def test_a_reset_changes_the_password_and_revokes_every_session(auth_fn: Any) -> None:
    # Given a student signed in on two devices (an access and a refresh token each)
    email, first = _account(auth_fn)
    second = _login(auth_fn, email, PASSWORD)
    assert second.status == 200, second
    sessions = [first.data, second.data]
    # When they reset their password with the mailed link
    assert _forgot(auth_fn, email).status == 202
    [token] = reset_tokens(email)
    answer = _reset(auth_fn, token)
    # Then it is done and both sessions ended
    assert answer.status == 200, answer
    assert answer.data == {"sessions_revoked": 2}
    for tokens in sessions:
        # ... an old access token no longer works
        me = _client(auth_fn, tokens["access_token"]).get(f"{API}/auth/me")
        assert me.status == 401, me
        # ... nor an old refresh token
        refreshed = _client(auth_fn).post(f"{API}/auth/refresh", {"refresh_token": tokens["refresh_token"]})
        assert refreshed.status == 401, refreshed
    # And the old password fails while the new one signs in
    assert _login(auth_fn, email, PASSWORD).status == 401
    signed_in = _login(auth_fn, email, NEW_PASSWORD)
    assert signed_in.status == 200, signed_in
    # And having opened the mail proved the address: the email is verified
    assert _client(auth_fn, signed_in.data["access_token"]).get(f"{API}/auth/me").data["email_verified"] is True


def test_a_reset_token_works_once_even_in_parallel(auth_fn: Any) -> None:
    # Given a mailed reset token
    email, _ = _account(auth_fn)
    _forgot(auth_fn, email)
    [token] = reset_tokens(email)
    # When six clients reset with it at the same moment, each with its own password
    answers = all_at_once(6, lambda i: _reset(auth_fn, token, f"{NEW_PASSWORD}-{i}"))
    # Then exactly one reset happened, and its password is the one that signs in
    assert sorted(a.status for a in answers) == [200] + [422] * 5, answers
    winner = next(i for i, a in enumerate(answers) if a.status == 200)
    assert _login(auth_fn, email, f"{NEW_PASSWORD}-{winner}").status == 200
    # And the token is refused afterwards
    assert _reset(auth_fn, token).status == 422


def test_a_reset_token_is_refused_after_its_30_minutes(auth_fn: Any, monkeypatch: pytest.MonkeyPatch) -> None:
    from mindly.services import account_links

    # Given two mailed reset tokens
    email, _ = _account(auth_fn)
    _forgot(auth_fn, email, _address())
    _forgot(auth_fn, email, _address())
    late, in_time = reset_tokens(email)
    real_clock = account_links._clock
    # When the first is used 30 minutes and a second after it was mailed
    monkeypatch.setattr(account_links, "_clock", lambda: real_clock() + 30 * 60 + 1)
    refused = _reset(auth_fn, late)
    # Then it is refused like any bad link, and the password is unchanged
    assert refused.status == 422, refused
    assert refused.json["errors"][0]["field"] == "token"
    assert _login(auth_fn, email, PASSWORD).status == 200
    # And the second, used at 29 minutes, still works
    monkeypatch.setattr(account_links, "_clock", lambda: real_clock() + 29 * 60)
    assert _reset(auth_fn, in_time).status == 200


def test_the_new_password_follows_the_registration_rules_and_keeps_the_token(auth_fn: Any) -> None:
    # Given a mailed reset token
    email, _ = _account(auth_fn)
    _forgot(auth_fn, email)
    [token] = reset_tokens(email)
    # When the new password is too short
    short = _reset(auth_fn, token, "short")
    # Then it is 422 on new_password, and the token still works with a good one
    assert short.status == 422, short
    assert short.json["errors"][0]["field"] == "new_password"
    assert _reset(auth_fn, token).status == 200


def test_forgot_is_limited_per_email(auth_fn: Any, settings: Any, monkeypatch: pytest.MonkeyPatch) -> None:
    # Given 2 reset requests an hour per email
    monkeypatch.setattr(settings, "password_forgot_per_email_per_hour", 2)
    monkeypatch.setattr(settings, "password_forgot_min_seconds", 0.0)
    email, _ = _account(auth_fn)
    unknown = unique_email("nobody")
    # When each email is asked for three times, from three networks
    known_answers = [_forgot(auth_fn, email, _address()) for _ in range(3)]
    unknown_answers = [_forgot(auth_fn, unknown, _address()) for _ in range(3)]
    # Then the third is 429 with Retry-After, for the known and the unknown email alike
    assert [a.status for a in known_answers] == [202, 202, 429], known_answers
    assert [a.status for a in unknown_answers] == [202, 202, 429], unknown_answers
    assert int(known_answers[2].headers["retry-after"]) >= 1
    assert _comparable(known_answers[2])[1] == _comparable(unknown_answers[2])[1]
    # And only two mails went out
    assert len(reset_tokens(email)) == 2


def test_forgot_is_limited_per_client_network(auth_fn: Any, settings: Any, monkeypatch: pytest.MonkeyPatch) -> None:
    # Given 3 reset requests a minute per network
    monkeypatch.setattr(settings, "password_forgot_rate_limit_per_minute", 3)
    monkeypatch.setattr(settings, "password_forgot_min_seconds", 0.0)
    network = _address()
    # When one network asks for four different emails
    answers = [_forgot(auth_fn, unique_email("spray"), network) for _ in range(4)]
    # Then the fourth is 429 with Retry-After, while another network still may
    assert [a.status for a in answers] == [202, 202, 202, 429], answers
    assert answers[3].json["errors"][0]["code"] == "RATE_LIMIT_EXCEEDED"
    assert int(answers[3].headers["retry-after"]) >= 1
    assert _forgot(auth_fn, unique_email("spray")).status == 202


def test_a_reset_frees_the_login_guard_of_the_resetting_network(auth_fn: Any, settings: Any,
                                                               monkeypatch: pytest.MonkeyPatch) -> None:
    # Given a student locked out of one network after repeated wrong passwords
    email, _ = _account(auth_fn)
    network = _address()
    wrong = [_client(auth_fn, source_ip=network).post(f"{API}/auth/login", {"email": email, "password": f"nope-{i}"})
             for i in range(settings.login_lockout_failures)]
    assert wrong[-1].status == 423, wrong
    # When they reset their password from that network
    _forgot(auth_fn, email, network)
    [token] = reset_tokens(email)
    reset = _client(auth_fn, source_ip=network).post(f"{API}/auth/password/reset",
                                                     {"token": token, "new_password": NEW_PASSWORD})
    assert reset.status == 200, reset
    # Then the new password signs in from it at once
    login = _client(auth_fn, source_ip=network).post(f"{API}/auth/login", {"email": email, "password": NEW_PASSWORD})
    assert login.status == 200, login
