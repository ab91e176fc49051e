"""Settings: the only module that reads the environment.

Values come from environment variables: a field ``foo_bar`` is read from ``FOO_BAR`` (any case), a
few from the names in ``_ENV_NAMES``; keyword arguments win over the environment. In AWS the secrets
(JWT signing key, page-cursor key, Upstash URL and token, Groq keys) are not in the environment at all: the function
gets ``SSM_PREFIX`` and the SecureString parameters below it are read once per container, at cold
start, with botocore (already imported by pynamodb, so it costs no extra import time).

This is a plain pydantic model rather than pydantic-settings: every API function imports it at cold
start, and pydantic-settings (with python-dotenv and argparse behind it) cost ~4 % of the cold-start
floor for a feature we use one line of (bench/cold_start.py measures it).
"""

from __future__ import annotations

import os
from functools import lru_cache
from typing import Any

from pydantic import BaseModel, ConfigDict, Field, SecretStr, field_validator, model_validator

# SSM parameter name (below SSM_PREFIX) -> settings field.
_SSM_SECRETS = {
    "jwt-secret": "jwt_secret",
    "cursor-secret": "cursor_secret",
    "upstash-redis-rest-url": "upstash_redis_rest_url",
    "upstash-redis-rest-token": "upstash_redis_rest_token",
    **{f"groq-api-key-{i}": f"groq_api_key_{i}" for i in range(1, 6)},
}


# Fields whose variables are not their own names (first one set wins).
_ENV_NAMES = {
    "aws_region": ("AWS_REGION", "AWS_DEFAULT_REGION"),
    "dynamodb_endpoint_url": ("AWS_ENDPOINT_URL_DYNAMODB",),
    "sqs_endpoint_url": ("AWS_ENDPOINT_URL_SQS",),
    "events_endpoint_url": ("AWS_ENDPOINT_URL_EVENTBRIDGE",),
    "s3_endpoint_url": ("AWS_ENDPOINT_URL_S3",),
    "sesv2_endpoint_url": ("AWS_ENDPOINT_URL_SESV2",),
    "sns_endpoint_url": ("AWS_ENDPOINT_URL_SNS",),
}


class Settings(BaseModel):
    """Everything configurable about a running Mindly function."""

    model_config = ConfigDict(extra="ignore")

    environment: str = "local"
    aws_region: str = "ap-south-1"
    dynamodb_endpoint_url: str | None = None
    sqs_endpoint_url: str | None = None
    events_endpoint_url: str | None = None
    ssm_prefix: str | None = None
    # DynamoDB answers in milliseconds; a read still unanswered after 2 s is retried (or becomes a
    # 503) rather than held: the activity budget plus one read in flight must end inside the 10 s Timeout.
    dynamodb_read_timeout_seconds: float = 2.0
    # How long an activity keeps retrying a contended write before answering 503: inside the
    # functions' 10 s timeout, so the client gets our envelope, not API Gateway's timeout.
    activity_retry_budget_seconds: float = Field(default=6.0, gt=0, le=900)

    users_table: str = "mindly-local-users"
    content_table: str = "mindly-local-content"
    study_table: str = "mindly-local-study"
    roadmap_queue_url: str | None = None
    # Account deletion (mindly.services.account): the sweep's queue, and how many batches of 25
    # items one worker message sweeps before it queues its continuation (40 x ~4 calls stay well
    # inside the worker's 60 s timeout, whatever the student's size).
    account_deletion_queue_url: str | None = None
    account_deletion_batches_per_message: int = Field(default=40, ge=1, le=200)
    streak_event_bus: str | None = None  # EventBridge bus for streak notifications

    # Question images (mindly.store.media): the stack's bucket, objects under media/<media_id>.
    media_bucket: str | None = None
    s3_endpoint_url: str | None = None
    # An upload URL lives long enough for an admin's browser to send 2 MB on a slow link; a view URL
    # only as long as a practice page is on screen, so a URL copied out of a page soon stops working.
    media_upload_expiry_seconds: int = Field(default=600, ge=60, le=3600)
    media_view_expiry_seconds: int = Field(default=300, ge=30, le=3600)
    # A question names at most this many images: checking them at import is one HeadObject each.
    media_per_question_max: int = Field(default=8, ge=1, le=50)

    # Mail (mindly.services.mail): the From address, at the stack's SES identity; links in mails
    # open pages of the app at APP_BASE_URL (the local stack serves its own, infra.account_pages).
    mail_from: str | None = None
    sesv2_endpoint_url: str | None = None
    app_base_url: str = "http://127.0.0.1:8000"
    # Verification and reset tokens (mindly.services.account_links): how long a mailed link works.
    email_verification_ttl_seconds: int = Field(default=24 * 3600, ge=60)
    password_reset_ttl_seconds: int = Field(default=30 * 60, ge=60)
    # Mails a student may ask for: verification links per account, reset links per email address
    # (each an hour), and forgot-password requests per client network a minute (sized for a
    # carrier-grade NAT address, like register's).
    verify_email_requests_per_hour: int = Field(default=5, ge=1)
    password_forgot_per_email_per_hour: int = Field(default=5, ge=1)
    password_forgot_rate_limit_per_minute: int = Field(default=20, ge=1)
    # Uses of mailed links (verify, reset) per client network a minute: a class verifying together.
    email_link_rate_limit_per_minute: int = Field(default=60, ge=1)
    # Forgot-password answers no sooner than this after it began, whether it mailed or not, so the
    # answer's timing does not tell a registered email from an unknown one (an SES send is ~0.1 s).
    password_forgot_min_seconds: float = Field(default=0.4, ge=0, le=5)

    # Push (mindly.services.push): the SNS platform application of each provider, made outside the
    # stack with its credentials; a provider without one takes no devices.
    fcm_platform_application_arn: str | None = None
    apns_platform_application_arn: str | None = None
    sns_endpoint_url: str | None = None

    upstash_redis_rest_url: str | None = None
    upstash_redis_rest_token: SecretStr | None = None
    redis_timeout_seconds: float = 2.0

    jwt_secret: SecretStr | None = None
    jwt_issuer: str = "mindly"
    jwt_audience: str = "mindly-api"
    access_token_ttl_seconds: int = 15 * 60
    refresh_token_ttl_seconds: int = 7 * 24 * 3600
    # A session (one login) ends this long after the login whatever its refreshes: a stolen refresh
    # token rotated by the thief cannot live for ever, and a student signs in again once a month.
    session_max_lifetime_seconds: int = Field(default=30 * 24 * 3600, gt=0)
    # How long after a rotation the token it replaced still answers the same new pair (a flaky
    # network retrying a refresh whose answer was lost) instead of being taken for a replay.
    refresh_reuse_window_seconds: int = Field(default=30, ge=0, le=300)
    # Seals page cursors (mindly.services.cursors); its own secret, so rotating it (which only
    # restarts every client's paging at page 1) never logs a student out, and rotating the JWT key
    # never breaks a cursor.
    cursor_secret: SecretStr | None = None
    bcrypt_rounds: int = Field(default=12, ge=4, le=16)

    cors_origins: list[str] = []
    user_rate_limit_per_minute: int = 100
    # Per client network (IPv4 address or IPv6 /64), sized for carrier-grade NAT: one mobile IPv4
    # address or a coaching centre's Wi-Fi carries thousands of students (README "Security").
    login_rate_limit_per_minute: int = 10  # per (network, account)
    login_ip_rate_limit_per_minute: int = 120  # per network, every account together
    register_rate_limit_per_minute: int = 30
    refresh_rate_limit_per_minute: int = 300
    # Answers to invalid tokens (bearer or refresh) per client network a minute; valid tokens never count.
    bad_token_rate_limit_per_minute: int = 60
    # New roadmap jobs a student may start per day (each may be a Groq call); identical requests count once.
    roadmap_jobs_per_day: int = Field(default=10, ge=1)
    # The login guards (mindly.services.auth.login): per (account, client network), and per account.
    login_lockout_failures: int = Field(default=5, ge=1, le=50)
    login_lockout_window_seconds: int = 15 * 60
    login_account_failures: int = Field(default=30, ge=1, le=200)
    login_account_window_seconds: int = 60 * 60
    login_known_client_days: int = 30

    groq_api_key_1: SecretStr | None = None
    groq_api_key_2: SecretStr | None = None
    groq_api_key_3: SecretStr | None = None
    groq_api_key_4: SecretStr | None = None
    groq_api_key_5: SecretStr | None = None

    groq_model: str = "llama-3.3-70b-versatile"
    groq_base_url: str | None = None  # tests and the local stack may point the SDK elsewhere
    groq_timeout_seconds: float = 10.0
    explanation_budget_seconds: float = 2.2  # of a submit's 3 s, what the live explanation may take

    default_timezone: str = "Asia/Kolkata"
    leaderboard_timezone: str = "Asia/Kolkata"  # weekly leaderboards use ISO weeks in this zone

    @model_validator(mode="before")
    @classmethod
    def _from_environment(cls, given: Any) -> Any:
        """Fill every field not given as an argument from its environment variable."""
        if not isinstance(given, dict):
            return given
        environment = {name.lower(): value for name, value in os.environ.items()}
        values = dict(given)
        for field in cls.model_fields:
            if field in values:
                continue
            for name in _ENV_NAMES.get(field, (field,)):
                if name.lower() in environment:
                    values[field] = environment[name.lower()]
                    break
        return values

    @field_validator("default_timezone", "leaderboard_timezone")
    @classmethod
    def _known_zone(cls, value: str) -> str:
        # A wrong zone is a deployment error: refuse to start rather than fail every request.
        from zoneinfo import ZoneInfo

        try:
            ZoneInfo(value)
        except (ValueError, OSError, KeyError) as exc:  # ZoneInfoNotFoundError is a KeyError
            raise ValueError(f"unknown IANA time zone {value!r}") from exc
        return value

    @field_validator("cors_origins", mode="before")
    @classmethod
    def _split_origins(cls, value: Any) -> Any:
        if isinstance(value, str):
            return [origin.strip().rstrip("/") for origin in value.split(",") if origin.strip()]
        return value

    def groq_api_keys(self) -> list[str]:
        """The configured Groq keys, in order (GROQ_API_KEY_1..5, or their SSM parameters)."""
        keys = [self.groq_api_key_1, self.groq_api_key_2, self.groq_api_key_3, self.groq_api_key_4,
                self.groq_api_key_5]
        return [key.get_secret_value() for key in keys if key is not None and key.get_secret_value()]

    @property
    def redis_key_prefix(self) -> str:
        """Every Redis key starts with this, so environments can share one Upstash database."""
        return f"mindly:{self.environment}:"

    def require_jwt_secret(self) -> str:
        """The signing key; a missing or short key is a deployment error, never a silent default."""
        if self.jwt_secret is None or len(self.jwt_secret.get_secret_value()) < 32:
            raise RuntimeError("JWT_SECRET is not configured (at least 32 characters)")
        return self.jwt_secret.get_secret_value()

    def require_cursor_secret(self) -> str:
        """The page-cursor key; a missing or short key is a deployment error, never a silent default."""
        if self.cursor_secret is None or len(self.cursor_secret.get_secret_value()) < 32:
            raise RuntimeError("CURSOR_SECRET is not configured (at least 32 characters)")
        return self.cursor_secret.get_secret_value()


def _load_ssm_secrets(settings: Settings) -> dict[str, str]:
    """Read the SecureString secrets below ``settings.ssm_prefix`` (one paginated call)."""
    if settings.ssm_prefix is None:
        return {}  # get_settings asks only when there is a prefix
    import botocore.session

    client = botocore.session.get_session().create_client("ssm", region_name=settings.aws_region)
    prefix = settings.ssm_prefix.rstrip("/") + "/"
    found: dict[str, str] = {}
    paginator = client.get_paginator("get_parameters_by_path")
    for page in paginator.paginate(Path=prefix, WithDecryption=True, Recursive=False):
        for parameter in page["Parameters"]:
            field = _SSM_SECRETS.get(parameter["Name"][len(prefix):])
            if field:
                found[field] = parameter["Value"]
    return found


@lru_cache(maxsize=1)
def get_settings() -> Settings:
    """The settings of this container, read once."""
    settings = Settings()
    if settings.ssm_prefix:
        missing = {
            field: value
            for field, value in _load_ssm_secrets(settings).items()
            if getattr(settings, field) is None
        }
        if missing:
            settings = settings.model_copy(
                update={
                    field: (value if field == "upstash_redis_rest_url" else SecretStr(value))
                    for field, value in missing.items()
                }
            )
    return settings

