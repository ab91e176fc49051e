"""mindly.services.tokens: issuing and verifying the HS256 access and refresh tokens."""

from __future__ import annotations

import time

import jwt
import pytest

from mindly.config import Settings
from mindly.exceptions import AuthenticationFailed
from mindly.services import tokens

SECRET = "unit-test-signing-key-" + "k" * 50


def _settings(**changes: object) -> Settings:
    return Settings(jwt_secret=SECRET, **changes)


def test_an_issued_token_decodes_to_the_claims_it_was_issued_with() -> None:
    # Given settings and a moment
    settings, now = _settings(), int(time.time())
    # When an access token is issued and decoded
    token, issued = tokens.issue(settings, "access", "user-1", "student", "session-1", now)
    decoded = tokens.decode(settings, token, "access")
    # Then the claims survive the round trip
    assert decoded == issued
    assert decoded.user_id == "user-1"
    assert decoded.session_id == "session-1"
    assert decoded.role == "student"
    assert decoded.token_type == "access"
    assert decoded.issued_at == now


def test_access_tokens_live_15_minutes_and_refresh_tokens_7_days() -> None:
    settings, now = _settings(), int(time.time())
    _, access = tokens.issue(settings, "access", "u", "student", "s", now)
    _, refresh = tokens.issue(settings, "refresh", "u", "student", "s", now)
    assert access.expires_at - now == 15 * 60
    assert refresh.expires_at - now == 7 * 24 * 3600


def test_every_token_gets_its_own_jti() -> None:
    settings, now = _settings(), int(time.time())
    ids = {tokens.issue(settings, "access", "u", "student", "s", now)[1].jti for _ in range(20)}
    assert len(ids) == 20


def test_the_token_is_hs256_with_issuer_and_audience() -> None:
    settings = _settings()
    token, _ = tokens.issue(settings, "refresh", "u", "admin", "s", int(time.time()))
    assert jwt.get_unverified_header(token)["alg"] == "HS256"
    payload = jwt.decode(token, options={"verify_signature": False})
    assert payload["iss"] == "mindly"
    assert payload["aud"] == "mindly-api"
    assert payload["typ"] == "refresh"
    assert payload["role"] == "admin"


@pytest.mark.parametrize(("issued_as", "expected"), [("access", "refresh"), ("refresh", "access")])
def test_a_token_of_the_other_type_is_rejected(issued_as: str, expected: str) -> None:
    # Given a token of one type
    settings = _settings()
    token, _ = tokens.issue(settings, issued_as, "u", "student", "s", int(time.time()))  # type: ignore[arg-type]
    # When it is decoded as the other type
    # Then it is refused
    with pytest.raises(AuthenticationFailed) as caught:
        tokens.decode(settings, token, expected)  # type: ignore[arg-type]
    assert caught.value.status == 401


def test_an_expired_token_is_rejected_as_expired() -> None:
    # Given an access token issued long enough ago that it has expired
    settings = _settings()
    token, _ = tokens.issue(settings, "access", "u", "student", "s", int(time.time()) - 15 * 60 - 120)
    # When it is decoded
    # Then it is refused, saying it expired
    with pytest.raises(AuthenticationFailed, match="expired"):
        tokens.decode(settings, token, "access")


def test_a_token_just_inside_its_lifetime_is_accepted() -> None:
    settings = _settings()
    token, _ = tokens.issue(settings, "access", "u", "student", "s", int(time.time()) - 15 * 60 + 120)
    assert tokens.decode(settings, token, "access").user_id == "u"


@pytest.mark.parametrize("other", [{"jwt_audience": "another-api"}, {"jwt_issuer": "another-issuer"}])
def test_a_token_for_another_audience_or_issuer_is_rejected(other: dict[str, str]) -> None:
    # Given a token issued under other audience/issuer settings
    token, _ = tokens.issue(_settings(**other), "access", "u", "student", "s", int(time.time()))
    # When our settings decode it
    # Then it is refused
    with pytest.raises(AuthenticationFailed):
        tokens.decode(_settings(), token, "access")


def test_a_token_signed_with_another_key_is_rejected() -> None:
    token, _ = tokens.issue(Settings(jwt_secret="x" * 40), "access", "u", "student", "s", int(time.time()))
    with pytest.raises(AuthenticationFailed):
        tokens.decode(_settings(), token, "access")


def test_alg_none_and_other_algorithms_are_rejected() -> None:
    # Given valid claims re-encoded without a signature, and with HS512 under the right key
    settings = _settings()
    token, _ = tokens.issue(settings, "access", "u", "student", "s", int(time.time()))
    claims = jwt.decode(token, options={"verify_signature": False})
    unsigned = jwt.encode(claims, None, algorithm="none")
    hs512 = jwt.encode(claims, SECRET, algorithm="HS512")
    # Then both are refused
    for forged in (unsigned, hs512):
        with pytest.raises(AuthenticationFailed):
            tokens.decode(settings, forged, "access")


@pytest.mark.parametrize("missing", ["sid", "jti", "sub", "exp", "typ"])
def test_a_token_missing_a_required_claim_is_rejected(missing: str) -> None:
    settings = _settings()
    token, _ = tokens.issue(settings, "access", "u", "student", "s", int(time.time()))
    claims = jwt.decode(token, options={"verify_signature": False})
    del claims[missing]
    with pytest.raises(AuthenticationFailed):
        tokens.decode(settings, jwt.encode(claims, SECRET, algorithm="HS256"), "access")


@pytest.mark.parametrize("garbage", ["", "abc", "a.b.c", "Bearer x"])
def test_garbage_is_rejected_not_crashed_on(garbage: str) -> None:
    with pytest.raises(AuthenticationFailed):
        tokens.decode(_settings(), garbage, "access")


def test_issuing_without_a_configured_key_is_a_deployment_error() -> None:
    with pytest.raises(RuntimeError):
        tokens.issue(Settings(jwt_secret=None), "access", "u", "student", "s", int(time.time()))
