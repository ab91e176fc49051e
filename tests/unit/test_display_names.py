"""mindly.domain.display_names: what a display name shown on the leaderboard may hold."""

from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st

from mindly.domain.display_names import BIDI_CONTROLS, unsafe_characters


@pytest.mark.parametrize(("name", "found"), [
    ("Ravi\x00", ["U+0000"]),
    ("\x07Ravi\x07", ["U+0007"]),
    ("Ra\nvi\t", ["U+000A", "U+0009"]),
    ("\u202eivaR", ["U+202E"]),
    ("a\u2066b\u2069\u200f", ["U+2066", "U+2069", "U+200F"]),
    ("\x7f", ["U+007F"]),
])
def test_control_and_direction_characters_are_named(name: str, found: list[str]) -> None:
    assert unsafe_characters(name) == found


@pytest.mark.parametrize("name", ["Asha Verma", "अर्जुन", "क्\u200dष", "ক্\u200cষ", "Priya 😀", "👩\u200d💻 Dev"])
def test_names_in_any_script_with_joiners_and_emoji_pass(name: str) -> None:
    assert unsafe_characters(name) == []


@given(st.text(alphabet=st.characters(blacklist_categories=("Cc", "Cs")), max_size=50))
def test_text_without_controls_passes_unless_it_holds_a_direction_control(name: str) -> None:
    assert (unsafe_characters(name) == []) == (not set(name) & BIDI_CONTROLS)
