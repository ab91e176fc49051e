"""mindly.services.passwords: the password rules and bcrypt hashing."""

from __future__ import annotations

import pytest

from mindly.exceptions import ValidationFailed
from mindly.services import passwords

ROUNDS = 4


@pytest.mark.parametrize("password", [
    "a" * 8,
    "a" * 72,  # exactly bcrypt's limit
    "é" * 36,  # 36 characters, exactly 72 bytes
    "€" * 24,  # 3-byte characters, exactly 72 bytes
    "ééééééé1",  # 8 characters but 15 bytes: the minimum counts characters
])
def test_passwords_within_the_rules_are_accepted(password: str) -> None:
    passwords.check_password_rules(password)


@pytest.mark.parametrize("password", [
    "a" * 73,  # one byte over
    "é" * 36 + "a",  # 73 bytes
    "é" * 40,  # 40 characters, 80 bytes
    "€" * 24 + "a",  # 73 bytes
    "😀" * 19,  # 19 characters, 76 bytes
])
def test_passwords_over_72_bytes_are_rejected(password: str) -> None:
    with pytest.raises(ValidationFailed) as caught:
        passwords.check_password_rules(password)
    assert caught.value.field == "password"
    assert caught.value.status == 422


@pytest.mark.parametrize("password", ["", "short", "a" * 7, " " * 8, "\t" * 10])
def test_short_or_blank_passwords_are_rejected(password: str) -> None:
    with pytest.raises(ValidationFailed) as caught:
        passwords.check_password_rules(password)
    assert caught.value.field == "password"


def test_a_hash_verifies_its_password_and_nothing_else() -> None:
    # Given a hashed password
    hashed = passwords.hash_password("Correct-horse-9", ROUNDS)
    # Then the hash is bcrypt at the asked cost and does not contain the password
    assert hashed.startswith("$2b$04$")
    assert "Correct-horse-9" not in hashed
    # And only the same password verifies
    assert passwords.verify_password("Correct-horse-9", hashed)
    assert not passwords.verify_password("correct-horse-9", hashed)
    assert not passwords.verify_password("Correct-horse-", hashed)


def test_the_same_password_hashes_differently_each_time() -> None:
    first = passwords.hash_password("Correct-horse-9", ROUNDS)
    second = passwords.hash_password("Correct-horse-9", ROUNDS)
    assert first != second
    assert passwords.verify_password("Correct-horse-9", first)
    assert passwords.verify_password("Correct-horse-9", second)


def test_multibyte_passwords_round_trip() -> None:
    password = "é" * 36
    hashed = passwords.hash_password(password, ROUNDS)
    assert passwords.verify_password(password, hashed)
    assert not passwords.verify_password("é" * 35 + "e", hashed)


def test_a_password_over_72_bytes_never_verifies_even_with_a_matching_prefix() -> None:
    # Given the hash of a 72-byte password
    hashed = passwords.hash_password("a" * 72, ROUNDS)
    # When a longer password with that prefix is checked (bcrypt alone would truncate it)
    # Then it does not verify, and nothing raises
    assert not passwords.verify_password("a" * 73, hashed)
    assert not passwords.verify_password("a" * 72 + "é", hashed)


@pytest.mark.parametrize("password", ["whatever-1", "a" * 200, "é" * 100, ""])
def test_burning_verification_time_accepts_any_password(password: str) -> None:
    # An unknown email at login must not crash whatever password was typed.
    passwords.burn_verification_time(password, ROUNDS)
