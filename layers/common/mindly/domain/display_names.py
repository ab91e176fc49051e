"""What a display name may hold. Names are shown to other students (the weekly leaderboard), so a
name must not carry characters that change how the text around it is shown."""

from __future__ import annotations

import unicodedata

# Bidirectional embeddings, overrides and isolates (U+202A..U+202E, U+2066..U+2069) and the marks
# U+200E, U+200F, U+061C: one of them in a name can reverse or reorder the text after it on a
# leaderboard ("Trojan Source"). Zero-width (non-)joiners U+200C/U+200D stay allowed: Devanagari,
# Bengali and emoji sequences need them.
BIDI_CONTROLS = frozenset("\u202a\u202b\u202c\u202d\u202e\u2066\u2067\u2068\u2069\u200e\u200f\u061c")


def unsafe_characters(name: str) -> list[str]:
    """The characters of ``name`` a display name may not hold, as codes such as ``U+202E``, in order of first
    appearance: control characters (NUL, BEL, newlines, ...) and bidirectional controls."""
    found: list[str] = []
    for char in name:
        if char in BIDI_CONTROLS or unicodedata.category(char) == "Cc":
            code = f"U+{ord(char):04X}"
            if code not in found:
                found.append(code)
    return found
