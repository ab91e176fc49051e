"""mindly.config: settings from the environment, and secrets from SSM at cold start."""

from __future__ import annotations

from typing import Any

import boto3
import pytest
from moto import mock_aws
from pydantic import SecretStr, ValidationError

from mindly import config
from mindly.config import Settings

PREFIX = "/mindly/test"


def test_cors_origins_are_read_from_a_comma_separated_variable(monkeypatch: pytest.MonkeyPatch) -> None:
    # Given a comma list with spaces, a trailing slash and an empty entry
    monkeypatch.setenv("CORS_ORIGINS", " https://app.mindly.test/ ,https://admin.mindly.test,, ")
    # When the settings are read
    settings = Settings()
    # Then each origin is one clean entry
    assert settings.cors_origins == ["https://app.mindly.test", "https://admin.mindly.test"]


def test_no_cors_origins_means_none_allowed(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("CORS_ORIGINS", "")
    assert Settings().cors_origins == []
    monkeypatch.delenv("CORS_ORIGINS")
    assert Settings().cors_origins == []


def test_cors_origins_may_be_passed_as_a_list() -> None:
    assert Settings(cors_origins=["https://a.test"]).cors_origins == ["https://a.test"]


@pytest.mark.parametrize("rounds", [4, 12, 16])
def test_bcrypt_rounds_within_4_to_16_are_accepted(rounds: int) -> None:
    assert Settings(bcrypt_rounds=rounds).bcrypt_rounds == rounds


@pytest.mark.parametrize("rounds", ["3", "17", "0", "-1"])
def test_bcrypt_rounds_outside_4_to_16_are_refused(monkeypatch: pytest.MonkeyPatch, rounds: str) -> None:
    monkeypatch.setenv("BCRYPT_ROUNDS", rounds)
    with pytest.raises(ValidationError):
        Settings()


def test_the_leaderboard_zone_is_configurable_and_checked(monkeypatch: pytest.MonkeyPatch) -> None:
    assert Settings().leaderboard_timezone == "Asia/Kolkata"
    monkeypatch.setenv("LEADERBOARD_TIMEZONE", "Europe/London")
    assert Settings().leaderboard_timezone == "Europe/London"
    for wrong in ("Mars/Olympus_Mons", "", "../etc/passwd"):
        monkeypatch.setenv("LEADERBOARD_TIMEZONE", wrong)
        with pytest.raises(ValidationError):
            Settings()


def test_the_environment_is_read_case_insensitively_and_numbers_parsed(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("USER_RATE_LIMIT_PER_MINUTE", "42")
    monkeypatch.setenv("users_table", "custom-users")
    settings = Settings()
    assert settings.user_rate_limit_per_minute == 42
    assert settings.users_table == "custom-users"


@pytest.mark.parametrize("secret", [None, "", "x" * 31])
def test_a_missing_or_short_jwt_secret_is_a_deployment_error(secret: str | None) -> None:
    settings = Settings(jwt_secret=secret)
    with pytest.raises(RuntimeError, match="JWT_SECRET"):
        settings.require_jwt_secret()


def test_a_32_character_jwt_secret_is_used_and_hidden_from_repr() -> None:
    settings = Settings(jwt_secret="s" * 32)
    assert settings.require_jwt_secret() == "s" * 32
    assert "s" * 32 not in repr(settings)


def test_redis_keys_are_namespaced_by_environment() -> None:
    assert Settings(environment="prod").redis_key_prefix == "mindly:prod:"


# --- SSM -----------------------------------------------------------------------------------------

@pytest.fixture
def ssm(monkeypatch: pytest.MonkeyPatch) -> Any:
    """moto's SSM in process; no endpoint override may send the calls elsewhere."""
    for name in ("AWS_ENDPOINT_URL", "AWS_ENDPOINT_URL_SSM"):
        monkeypatch.delenv(name, raising=False)
    # reset/remove_data off: moto's backends are shared with the session's moto server, whose
    # tables a reset would wipe for every later test.
    mock = mock_aws()
    mock.start(reset=False)
    client = boto3.client("ssm", region_name="ap-south-1")
    try:
        yield client
    finally:
        pages = client.get_paginator("describe_parameters").paginate()
        names = [parameter["Name"] for page in pages for parameter in page["Parameters"]]
        for start in range(0, len(names), 10):
            client.delete_parameters(Names=names[start:start + 10])
        mock.stop(remove_data=False)


def _put(client: Any, name: str, value: str, kind: str = "SecureString") -> None:
    client.put_parameter(Name=name, Value=value, Type=kind, Overwrite=True)


def test_the_cursor_secret_comes_from_its_ssm_parameter(ssm: Any, monkeypatch: pytest.MonkeyPatch) -> None:
    # Given the parameter as the README tells an operator to create it, and no CURSOR_SECRET
    _put(ssm, "/mindly/cursor-test/cursor-secret", "from-ssm-" + "c" * 32)
    monkeypatch.delenv("CURSOR_SECRET", raising=False)
    monkeypatch.setenv("SSM_PREFIX", "/mindly/cursor-test/")
    # When a container's settings are built
    settings = config.get_settings.__wrapped__()
    # Then the key is the parameter's value, kept secret
    assert settings.require_cursor_secret() == "from-ssm-" + "c" * 32
    assert "from-ssm" not in repr(settings)


def test_ssm_secrets_below_the_prefix_map_to_settings_fields(ssm: Any) -> None:
    # Given every known secret and a few unrelated parameters (more than one page of results)
    known = {
        "jwt-secret": ("jwt_secret", "j" * 40),
        "upstash-redis-rest-url": ("upstash_redis_rest_url", "https://upstash.example"),
        "upstash-redis-rest-token": ("upstash_redis_rest_token", "upstash-token"),
        **{f"groq-api-key-{i}": (f"groq_api_key_{i}", f"gsk_{i}") for i in range(1, 6)},
    }
    for name, (_, value) in known.items():
        _put(ssm, f"{PREFIX}/{name}", value)
    for extra in ("unrelated", "other-secret", "jwt-secret-old", "groq-api-key-6"):
        _put(ssm, f"{PREFIX}/{extra}", "ignored")
    _put(ssm, f"{PREFIX}/nested/jwt-secret", "nested-is-ignored")
    _put(ssm, "/mindly/prod/jwt-secret", "another-environment")
    # When they are loaded for the prefix (with or without a trailing slash)
    for prefix in (PREFIX, PREFIX + "/"):
        found = config._load_ssm_secrets(Settings(ssm_prefix=prefix))
        # Then exactly the known ones come back, under their field names, decrypted
        assert found == {field: value for field, value in known.values()}


def test_ssm_with_nothing_below_the_prefix_gives_nothing(ssm: Any) -> None:
    _put(ssm, "/mindly/prod/jwt-secret", "p" * 40)
    assert config._load_ssm_secrets(Settings(ssm_prefix=PREFIX)) == {}


def test_get_settings_fills_only_missing_secrets_from_ssm(ssm: Any, monkeypatch: pytest.MonkeyPatch) -> None:
    # Given SSM holds the JWT key and the Upstash URL and token, and the environment sets only the token
    _put(ssm, f"{PREFIX}/jwt-secret", "from-ssm-" + "j" * 32)
    _put(ssm, f"{PREFIX}/upstash-redis-rest-url", "https://from-ssm.upstash.example")
    _put(ssm, f"{PREFIX}/upstash-redis-rest-token", "token-from-ssm")
    for name in ("JWT_SECRET", "UPSTASH_REDIS_REST_URL"):
        monkeypatch.delenv(name, raising=False)
    monkeypatch.setenv("UPSTASH_REDIS_REST_TOKEN", "token-from-env")
    monkeypatch.setenv("SSM_PREFIX", PREFIX)
    # When the container's settings are built (bypassing the per-container cache)
    settings = config.get_settings.__wrapped__()
    # Then the missing ones come from SSM, secrets stay secret, and the environment wins where set
    assert isinstance(settings.jwt_secret, SecretStr)
    assert settings.require_jwt_secret() == "from-ssm-" + "j" * 32
    assert settings.upstash_redis_rest_url == "https://from-ssm.upstash.example"
    assert isinstance(settings.upstash_redis_rest_token, SecretStr)
    assert settings.upstash_redis_rest_token.get_secret_value() == "token-from-env"


def test_get_settings_without_an_ssm_prefix_never_calls_ssm(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("SSM_PREFIX", raising=False)

    def explode(_: Settings) -> dict[str, str]:
        raise AssertionError("SSM must not be called without SSM_PREFIX")

    monkeypatch.setattr(config, "_load_ssm_secrets", explode)
    assert config.get_settings.__wrapped__().ssm_prefix is None
