"""mindly.services.cursors: page cursors sealed for their scope (issue 15 point 4), and their key."""

from __future__ import annotations

import base64
import binascii
import json
import re

import pytest
from hypothesis import given
from hypothesis import strategies as st

from infra import cfn
from mindly.config import Settings
from mindly.exceptions import ValidationFailed
from mindly.services import cursors
from mindly.services.cursors import Scope

SECRET = "c" * 64
# A practice page's last key as the content store answers it (index GSI1 of the content table).
KEY = {"pk": "QUESTION#0f9c2b6e4d6a4c8e9a1b2c3d4e5f6a7b", "sk": "QUESTION",
       "gsi1_pk": "EXAM#NEET", "gsi1_sk": "Physics#Kinematics#0f9c2b6e4d6a4c8e9a1b2c3d4e5f6a7b"}
SCOPE = Scope("questions/practice", "student-a",
              {"exam": "NEET", "subject": "Physics", "topic": "Kinematics", "difficulty": None})


def _refused(cursor: str, scope: Scope = SCOPE, secret: str = SECRET) -> None:
    with pytest.raises(ValidationFailed) as raised:
        cursors.unseal(cursor, scope, secret)
    assert raised.value.field == "cursor" and raised.value.status == 422


def _raw(cursor: str) -> bytes:
    return base64.urlsafe_b64decode(cursor + "=" * (-len(cursor) % 4))


def _cursor(raw: bytes) -> str:
    return base64.urlsafe_b64encode(raw).decode().rstrip("=")


def test_a_sealed_cursor_opens_to_its_key_for_the_same_scope() -> None:
    # Given a cursor sealed for a scope
    cursor = cursors.seal(KEY, SCOPE, SECRET)
    # Then the same scope (filters given in any order) opens it to the key, and sealing is deterministic
    reordered = Scope(SCOPE.list_name, SCOPE.student_id, dict(reversed(list(SCOPE.filters.items()))))
    assert cursors.unseal(cursor, reordered, SECRET) == KEY
    assert cursors.seal(KEY, SCOPE, SECRET) == cursor


@pytest.mark.parametrize("other", [
    Scope("questions/practice", "student-b", SCOPE.filters),  # another student
    Scope("flashcards", "student-a", SCOPE.filters),  # another list
    Scope("questions/practice", "student-a", {**SCOPE.filters, "subject": "Chemistry"}),
    Scope("questions/practice", "student-a", {**SCOPE.filters, "topic": "Laws of Motion"}),
    Scope("questions/practice", "student-a", {**SCOPE.filters, "difficulty": "hard"}),
    Scope("questions/practice", "student-a", {**SCOPE.filters, "exam": "JEE"}),
    Scope("questions/practice", "student-a", {**SCOPE.filters, "topic": None}),  # a filter dropped
    Scope("questions/practice", "student-a", {"exam": "NEET", "subject": "Physics", "topic": "Kinematics"}),
    Scope("questions/practice", "student-a", {**SCOPE.filters, "extra": "x"}),  # a filter added
])
def test_a_cursor_is_refused_for_any_other_student_list_or_filter(other: Scope) -> None:
    _refused(cursors.seal(KEY, SCOPE, SECRET), other)


def test_parts_of_a_scope_cannot_be_shifted_between_fields() -> None:
    # Given scopes whose parts concatenate to the same text
    one = Scope("a", "bc", {"x": "y"})
    two = Scope("ab", "c", {"x": "y"})
    # Then a cursor of one is not one of the other
    _refused(cursors.seal(KEY, one, SECRET), two)


def test_a_cursor_sealed_with_another_secret_is_refused() -> None:
    _refused(cursors.seal(KEY, SCOPE, "d" * 64))


@given(position=st.integers(min_value=0), bit=st.integers(min_value=0, max_value=7))
def test_changing_any_bit_of_a_cursor_is_refused(position: int, bit: int) -> None:
    raw = bytearray(_raw(cursors.seal(KEY, SCOPE, SECRET)))
    raw[position % len(raw)] ^= 1 << bit
    _refused(_cursor(bytes(raw)))


def test_changing_any_character_of_a_cursor_is_refused() -> None:
    # Even the last one, whose low bits base64 decoding would otherwise ignore
    cursor = cursors.seal(KEY, SCOPE, SECRET)
    alphabet = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_"
    for position, character in enumerate(cursor):
        others = alphabet if position == len(cursor) - 1 else "AQgw_"
        for other in set(others) - {character}:
            _refused(cursor[:position] + other + cursor[position + 1:])


@pytest.mark.parametrize("cut", [1, 17, 30, -1])
def test_a_truncated_or_extended_cursor_is_refused(cut: int) -> None:
    raw = _raw(cursors.seal(KEY, SCOPE, SECRET))
    _refused(_cursor(raw[:cut]))
    _refused(_cursor(raw + b"\x00"))


@pytest.mark.parametrize("cursor", ["", "!!!", "a", "a b", "eyJwayI6IngifQ==", "+/+/", "A" * 2001, "é"])
def test_a_cursor_that_is_not_ours_is_refused(cursor: str) -> None:
    _refused(cursor)


def test_an_old_style_cursor_of_the_plain_key_is_refused() -> None:
    # Given a cursor as they were before sealing: the key, base64 JSON
    plain = base64.urlsafe_b64encode(json.dumps(KEY).encode()).decode().rstrip("=")
    # Then it is refused, and so is one that carries our version byte before it
    _refused(plain)
    _refused(_cursor(cursors.VERSION + json.dumps(KEY).encode()))


def test_a_decoded_cursor_shows_nothing_of_the_key() -> None:
    # Given a cursor
    cursor = cursors.seal(KEY, SCOPE, SECRET)
    # When a client base64-decodes it
    raw = _raw(cursor)
    # Then neither the attribute names nor any value, nor any part of them, is in it
    text = raw.decode("latin-1")
    for part in ['"pk"', '"sk"', "gsi", "EXAM", "QUESTION", "NEET", "Physics", "Kinematics", "0f9c2b6e"]:
        assert part not in text, part
    # And it is not JSON in any encoding
    with pytest.raises((ValueError, UnicodeDecodeError)):
        json.loads(raw)


def test_cursors_of_keys_one_character_apart_differ_everywhere_after_the_version() -> None:
    # A stream cipher with a fixed IV would leave equal prefixes; the SIV tag changes the whole stream.
    first = _raw(cursors.seal(KEY, SCOPE, SECRET))
    second = _raw(cursors.seal({**KEY, "gsi1_sk": KEY["gsi1_sk"][:-1] + "c"}, SCOPE, SECRET))
    assert first[:1] == second[:1] == cursors.VERSION
    assert sum(a == b for a, b in zip(first[1:], second[1:], strict=False)) < len(first) // 8


def test_the_longest_key_a_list_makes_fits_a_url() -> None:
    # Given the longest names the syllabus has and a difficulty index key
    topic = "Context-Free Languages and Pushdown Automata" * 2
    key = {"pk": "QUESTION#" + "f" * 32, "sk": "QUESTION", "gsi2_pk": "EXAM#GATE#medium",
           "gsi2_sk": f"Computer Organization and Architecture#{topic}#{'f' * 32}"}
    scope = Scope("questions/practice", "u" * 36, {"exam": "GATE", "subject": "x" * 60, "topic": topic,
                                                  "difficulty": "medium"})
    cursor = cursors.seal(key, scope, SECRET)
    # Then its cursor is URL-safe and well inside the routes' 2000 characters
    assert re.fullmatch(r"[A-Za-z0-9_-]+", cursor) and len(cursor) < 600
    assert cursors.unseal(cursor, scope, SECRET) == key


# --- the key --------------------------------------------------------------------------------------

@pytest.mark.parametrize("secret", [None, "", "s" * 31])
def test_a_missing_or_short_cursor_secret_is_a_deployment_error(secret: str | None) -> None:
    with pytest.raises(RuntimeError, match="CURSOR_SECRET"):
        Settings(cursor_secret=secret).require_cursor_secret()


def test_the_cursor_secret_is_read_from_the_environment_and_hidden_from_repr(monkeypatch: pytest.MonkeyPatch
                                                                            ) -> None:
    monkeypatch.setenv("CURSOR_SECRET", "k" * 32)
    settings = Settings()
    assert settings.require_cursor_secret() == "k" * 32
    assert "k" * 32 not in repr(settings)


def test_the_template_names_the_cursor_secret_only_as_an_ssm_parameter() -> None:
    text = (cfn.REPO_ROOT / "template.yaml").read_text(encoding="utf-8")
    template = cfn.load_template()
    # Given every environment variable a function gets (Globals applied)
    variables = {name for function in cfn.functions(template) for name in function.environment}
    # Then none is the cursor secret, and the template names it only below /mindly/<env>/
    assert "CURSOR_SECRET" not in variables and "CURSOR_SECRET" not in text
    found = [match.start() for match in re.finditer("cursor-secret", text)]
    assert found and all(re.search(r"/mindly/[^/\s]+/$", text[:start]) for start in found)


def test_base64_errors_of_an_odd_length_are_refused_not_raised() -> None:
    # A base64 text of 4n+1 characters decodes to nothing; it must be a 422, never a binascii.Error
    with pytest.raises(binascii.Error):
        base64.urlsafe_b64decode("AAAAA")
    _refused("AAAAA")
