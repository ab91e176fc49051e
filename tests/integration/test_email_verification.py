"""Email verification (API.md "Accounts and reminders") through the auth function's real handler.

The link is read back from the mail moto's SES accepted (``infra.local_aws.sent_mail``), as a student
reads it from their inbox: the tests never ask the code for a token.
"""

from __future__ import annotations

import uuid
from typing import Any
from urllib.parse import parse_qs, urlsplit

import pytest
from support import Answer, HandlerClient, all_at_once, register, unique_email

from infra import local_aws

API = "/api/v1"


def _client(auth_fn: Any, token: str | None = None) -> HandlerClient:
    return HandlerClient(auth_fn, token=token, source_ip=f"192.0.2.{uuid.uuid4().int % 250 + 1}")


def verification_tokens(email: str) -> list[str]:
    """The tokens of the verification links mailed to ``email``, oldest first."""
    found = []
    for mail in local_aws.sent_mail(to=email):
        if mail.link and urlsplit(mail.link).path == "/verify-email":
            found.append(parse_qs(urlsplit(mail.link).query)["token"][0])
    return found


def _signed_up(auth_fn: Any) -> tuple[str, str]:
    email = unique_email("verify")
    answer = register(auth_fn, email=email)
    assert answer.status == 201, answer
    return email, str(answer.data["access_token"])


def _verify(auth_fn: Any, token: str) -> Answer:
    return _client(auth_fn).post(f"{API}/auth/verify-email", {"token": token})


def test_the_mailed_link_verifies_the_email_and_me_shows_it(auth_fn: Any, settings: Any) -> None:
    # Given a new account: registering mailed it a link to the app's verify page, from the stack's address
    email, access = _signed_up(auth_fn)
    [mail] = local_aws.sent_mail(to=email)
    assert mail.sender == settings.mail_from and mail.sender.startswith("no-reply@")
    assert mail.link is not None and mail.link.startswith(f"{settings.app_base_url}/verify-email?token=")
    # And /auth/me says the email is not verified yet
    assert _client(auth_fn, access).get(f"{API}/auth/me").data["email_verified"] is False
    # When the token of the link is posted
    answer = _verify(auth_fn, verification_tokens(email)[0])
    # Then the email is verified, and /auth/me shows it
    assert answer.status == 200, answer
    assert answer.data == {"email_verified": True}
    assert _client(auth_fn, access).get(f"{API}/auth/me").data["email_verified"] is True


def test_asking_again_mails_a_new_link_until_verified_then_sends_nothing(auth_fn: Any) -> None:
    # Given a new account (one mail so far)
    email, access = _signed_up(auth_fn)
    # When it asks for another verification link
    asked = _client(auth_fn, access).post(f"{API}/auth/verify-email/request")
    # Then it is 202 and a second link arrives; either works
    assert asked.status == 202, asked
    assert asked.data == {"email_verified": False, "mail_sent": True}
    first, second = verification_tokens(email)
    assert first != second
    assert _verify(auth_fn, second).status == 200
    # And once verified, asking is still 202 but no mail is sent
    again = _client(auth_fn, access).post(f"{API}/auth/verify-email/request")
    assert again.status == 202, again
    assert again.data == {"email_verified": True, "mail_sent": False}
    assert len(verification_tokens(email)) == 2


def test_a_verification_token_works_once_even_when_used_in_parallel(auth_fn: Any) -> None:
    # Given a mailed verification token
    email, _access = _signed_up(auth_fn)
    [token] = verification_tokens(email)
    # When eight clients post it at the same moment
    answers = all_at_once(8, lambda _i: _verify(auth_fn, token))
    # Then exactly one succeeds and the others get the one refusal for a bad link
    assert sorted(a.status for a in answers) == [200] + [422] * 7, answers
    refused = [a for a in answers if a.status == 422]
    assert {(a.json["errors"][0]["code"], a.json["errors"][0]["field"]) for a in refused} == {
        ("VALIDATION_ERROR", "token")}
    # And it is refused later too
    assert _verify(auth_fn, token).status == 422


def test_an_expired_verification_token_is_refused(auth_fn: Any, monkeypatch: pytest.MonkeyPatch) -> None:
    from mindly.services import account_links

    # Given a mailed verification token (24 hours) and a clock a day and a second later
    email, access = _signed_up(auth_fn)
    [token] = verification_tokens(email)
    real_clock = account_links._clock
    monkeypatch.setattr(account_links, "_clock", lambda: real_clock() + 24 * 3600 + 1)
    # When it is used
    answer = _verify(auth_fn, token)
    # Then it is refused like any bad link, and the email stays unverified
    assert answer.status == 422, answer
    assert answer.json["errors"][0]["field"] == "token"
    monkeypatch.setattr(account_links, "_clock", real_clock)
    assert _client(auth_fn, access).get(f"{API}/auth/me").data["email_verified"] is False


@pytest.mark.parametrize("token", [
    "", "garbage", "0" * 32 + "." + "A" * 43,  # well formed, but no such token
    "../../etc", "0" * 32 + "." + "A" * 42 + "=",
])
def test_a_malformed_or_unknown_token_is_the_same_refusal(auth_fn: Any, token: str) -> None:
    # When a token that was never mailed is posted
    answer = _verify(auth_fn, token)
    # Then it is the one refusal, in the envelope
    assert answer.status == 422, answer
    assert answer.json["success"] is False
    assert answer.json["errors"][0]["field"] == "token"


def test_a_token_of_one_account_does_not_verify_another(auth_fn: Any) -> None:
    # Given two accounts, each with its own mailed token
    first_email, _ = _signed_up(auth_fn)
    _second_email, second_access = _signed_up(auth_fn)
    [first_token] = verification_tokens(first_email)
    # When the first account's secret is sent with the second account's id in front
    second_id = _client(auth_fn, second_access).get(f"{API}/auth/me").data["id"]
    forged = f"{second_id}.{first_token.partition('.')[2]}"
    # Then it is refused: the secret belongs to the first account only
    assert _verify(auth_fn, forged).status == 422
    assert _client(auth_fn, second_access).get(f"{API}/auth/me").data["email_verified"] is False


def test_verification_requests_are_limited_per_account(auth_fn: Any, settings: Any,
                                                       monkeypatch: pytest.MonkeyPatch) -> None:
    # Given 2 verification mails an hour per account
    monkeypatch.setattr(settings, "verify_email_requests_per_hour", 2)
    _email, access = _signed_up(auth_fn)
    # When the account asks three times (from three networks)
    answers = [_client(auth_fn, access).post(f"{API}/auth/verify-email/request") for _ in range(3)]
    # Then the third is 429 with Retry-After
    assert [a.status for a in answers] == [202, 202, 429], answers
    assert int(answers[2].headers["retry-after"]) >= 1


def test_asking_for_a_link_needs_a_signed_in_student(auth_fn: Any) -> None:
    # When nobody signed in asks for a verification link
    answer = _client(auth_fn).post(f"{API}/auth/verify-email/request")
    # Then it is 401
    assert answer.status == 401, answer
