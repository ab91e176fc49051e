"""Password hashing with bcrypt."""

from __future__ import annotations

from functools import lru_cache

import bcrypt

from mindly.exceptions import ValidationFailed

MIN_LENGTH = 8
MAX_BYTES = 72  # bcrypt reads at most 72 bytes; a longer password would be silently truncated


def check_password_rules(password: str) -> None:
    """Reject passwords bcrypt cannot hash faithfully, or too short to be worth hashing."""
    if len(password) < MIN_LENGTH:
        raise ValidationFailed(f"password must be at least {MIN_LENGTH} characters", field="password")
    if len(password.encode("utf-8")) > MAX_BYTES:
        raise ValidationFailed(f"password must be at most {MAX_BYTES} bytes", field="password")
    if not password.strip():
        raise ValidationFailed("password must not be blank", field="password")


def hash_password(password: str, rounds: int) -> str:
    return bcrypt.hashpw(password.encode("utf-8"), bcrypt.gensalt(rounds=rounds)).decode("ascii")


def verify_password(password: str, password_hash: str) -> bool:
    encoded = password.encode("utf-8")
    if len(encoded) > MAX_BYTES:
        return False
    return bcrypt.checkpw(encoded, password_hash.encode("ascii"))


@lru_cache(maxsize=4)
def _dummy_hash(rounds: int) -> str:
    return hash_password("not-a-real-password", rounds)


def burn_verification_time(password: str, rounds: int) -> None:
    """Spend what a real check costs, so an unknown email answers as slowly as a wrong password."""
    verify_password(password[:MAX_BYTES], _dummy_hash(rounds))
