"""mindly.domain.content: the record rules of the question types, passages, LaTeX and media
(API.md "Question types, passages, formatting, media"), and exact grading."""

from __future__ import annotations

from decimal import Decimal
from typing import Any

import pytest
from hypothesis import given
from hypothesis import strategies as st

from mindly.domain.content import (
    ContentError,
    Response,
    content_hash,
    is_right,
    key_text,
    parse_question,
    question_record,
)

BASE: dict[str, Any] = {"source": "unit", "external_id": "t-1", "exam_type": "JEE", "subject": "Physics",
                        "topic": "Optics", "difficulty": "hard", "stem": "Pick the true statements.",
                        "explanation": None}
OPTIONS = {"A": "one", "B": "two", "C": "three", "D": "four"}


def record(**changes: Any) -> dict[str, Any]:
    merged = {**BASE, **changes}
    return {k: v for k, v in merged.items() if v is not ...}


def test_a_record_without_type_is_single_as_before() -> None:
    parsed = parse_question(record(options=OPTIONS, correct_option="b", explanation="Because."))
    assert (parsed.question_type, parsed.correct_option, parsed.correct_options, parsed.answer) == (
        "single", "B", (), None)
    assert parsed.text_format == "text" and parsed.chance_options == 4


def test_multiple_takes_a_list_or_a_string_of_letters_as_a_set() -> None:
    as_list = parse_question(record(type="multiple", options=OPTIONS, correct_options=["d", "A", "D"]))
    as_text = parse_question(record(type="multiple", options=OPTIONS, correct_options="A,D"))
    assert as_list.correct_options == as_text.correct_options == ("A", "D")
    assert parse_question(record(type="multiple", options=OPTIONS, correct_options="AD")).correct_options == ("A", "D")


def test_numeric_keeps_exact_decimals_from_either_form() -> None:
    tolerance = parse_question(record(type="numeric", answer={"value": 0.1, "tolerance": 0.02}))
    bounds = parse_question(record(type="numeric", answer={"min": "2.5", "max": 3}))
    assert (tolerance.answer.low, tolerance.answer.high) == (Decimal("0.08"), Decimal("0.12"))  # type: ignore[union-attr]
    assert (bounds.answer.low, bounds.answer.high) == (Decimal("2.5"), Decimal(3))  # type: ignore[union-attr]
    assert tolerance.options == {} and tolerance.chance_options == 0


@pytest.mark.parametrize(("changes", "message"), [
    ({"type": "essay", "options": OPTIONS, "correct_option": "A"}, "type must be one of"),
    ({"format": "markdown", "options": OPTIONS, "correct_option": "A"}, "format must be one of"),
    ({"type": "numeric", "answer": {"value": 1, "tolerance": -0.1}}, "tolerance a number >= 0"),
    ({"type": "numeric", "answer": {"value": float("nan"), "tolerance": 0}}, "finite number"),
    ({"type": "numeric", "answer": {"value": float("inf"), "tolerance": 0}}, "finite number"),
    ({"type": "numeric", "answer": {"min": 3, "max": 2}}, "min <= max"),
    ({"type": "numeric", "answer": {"value": 1}}, r"\{value, tolerance\} or \{min, max\}"),
    ({"type": "numeric", "answer": {"value": True, "tolerance": 0}}, "finite number"),
    ({"type": "numeric", "answer": {"value": 1, "tolerance": 0}, "options": OPTIONS}, "has no options"),
    ({"type": "numeric"}, r"\{value, tolerance\}"),
    ({"type": "multiple", "options": OPTIONS, "correct_options": ["A", "F"]}, "F not among"),
    ({"type": "multiple", "options": OPTIONS, "correct_options": []}, "non-empty list"),
    ({"type": "multiple", "options": OPTIONS, "correct_option": "A"}, "correct_option is for type single"),
    ({"options": OPTIONS, "correct_option": "A", "correct_options": ["A"]}, "correct_options is for type multiple"),
    ({"options": OPTIONS, "correct_option": "A", "answer": {"value": 1, "tolerance": 0}}, "answer is for numeric"),
    ({"options": OPTIONS, "correct_option": "A", "year": 1000}, "year must be"),
    ({"options": OPTIONS, "correct_option": "A", "year": 2999}, "year must be"),
    ({"options": OPTIONS, "correct_option": "A", "year": "19x5"}, "year must be"),
    ({"options": OPTIONS, "correct_option": "A", "passage": {"text": "t"}}, "passage must be"),
    ({"options": OPTIONS, "correct_option": "A", "passage": {"passage_id": "p", "text": " "}}, "text is required"),
    ({"options": OPTIONS, "correct_option": "A", "media": [{"media_id": "../etc", "alt": "x"}]}, "media_id must"),
    ({"options": OPTIONS, "correct_option": "A", "media": [{"media_id": "abcdefgh"}]}, "media_id, alt"),
    ({"options": OPTIONS, "correct_option": "A",
      "media": [{"media_id": "abcdefgh", "alt": "x"}, {"media_id": "abcdefgh", "alt": "y"}]}, "twice"),
])
def test_records_that_break_a_type_rule_are_refused_with_the_reason(changes: dict[str, Any], message: str) -> None:
    with pytest.raises(ContentError, match=message):
        parse_question(record(**changes))


def test_latex_text_is_not_trimmed_but_plain_text_is() -> None:
    stem = "  $$\\int_0^1 x\\,dx$$\n"
    latex = parse_question(record(format="latex", stem=stem, options={**OPTIONS, "A": " $a$ "}, correct_option="A",
                                  explanation=" $\\frac12$ "))
    plain = parse_question(record(stem=stem, options=OPTIONS, correct_option="A"))
    assert (latex.stem, latex.options["A"], latex.explanation) == (stem, " $a$ ", " $\\frac12$ ")
    assert plain.stem == stem.strip()


@pytest.mark.parametrize("changes", [
    {"options": OPTIONS, "correct_option": "C", "explanation": "Because.", "year": 2019, "paper": "Paper 1",
     "passage": {"passage_id": "p-1", "text": "A passage."}, "media": [{"media_id": "figure-0001", "alt": "a"}]},
    {"type": "multiple", "format": "latex", "options": OPTIONS, "correct_options": ["A", "C"]},
    {"type": "numeric", "answer": {"value": 2.5, "tolerance": 0.05}},
    {"type": "numeric", "answer": {"min": -1, "max": 1.5}},
])
def test_question_record_is_the_inverse_of_parse_for_every_type(changes: dict[str, Any]) -> None:
    parsed = parse_question(record(**changes))
    assert parse_question(question_record(parsed)) == parsed


def test_the_content_hash_changes_with_the_key_and_not_with_spelling_of_the_same_record() -> None:
    first = parse_question(record(type="numeric", answer={"value": 0.5, "tolerance": 0.01}))
    same = parse_question(record(type="NUMERIC", answer={"value": "0.5", "tolerance": "0.01"}))
    wider = parse_question(record(type="numeric", answer={"value": 0.5, "tolerance": 0.02}))
    assert content_hash(first) == content_hash(same) != content_hash(wider)


def test_grading_is_exact_for_each_type() -> None:
    multi = parse_question(record(type="multiple", options=OPTIONS, correct_options=["A", "C"]))
    number = parse_question(record(type="numeric", answer={"value": 0.5, "tolerance": 0.01}))
    assert is_right(multi, Response(options=("A", "C")))
    assert not is_right(multi, Response(options=("A",)))
    assert not is_right(multi, Response(options=("A", "B", "C")))
    assert not is_right(multi, Response(option="A"))
    assert is_right(number, Response(number=Decimal("0.51")))
    assert not is_right(number, Response(number=Decimal("0.5101")))
    assert key_text(multi) == "A) one; C) three" and key_text(number) == "0.5 (± 0.01)"


@given(value=st.decimals(-1000, 1000, places=3), tolerance=st.decimals(0, 10, places=3),
       offset=st.decimals(-20, 20, places=3))
def test_a_numeric_key_accepts_exactly_the_closed_interval(value: Decimal, tolerance: Decimal, offset: Decimal) -> None:
    question = parse_question(record(type="numeric", answer={"value": str(value), "tolerance": str(tolerance)}))
    assert is_right(question, Response(number=value + offset)) is (abs(offset) <= tolerance)
