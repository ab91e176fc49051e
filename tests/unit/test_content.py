"""mindly.domain.content (what may enter the bank) and mindly.domain.content_formats (import files)."""

from __future__ import annotations

import json
from typing import Any

import pytest

from mindly.domain import content_formats as formats
from mindly.domain.content import ContentError, content_id, parse_flashcard, parse_question


def question(**changes: Any) -> dict[str, Any]:
    record: dict[str, Any] = {
        "source": "test", "external_id": "q-1", "exam_type": "GATE", "subject": "Algorithms",
        "topic": "Hashing", "difficulty": "medium", "stem": "Which probe sequence suffers primary clustering?",
        "options": {"A": "Linear probing", "B": "Quadratic probing", "C": "Double hashing", "D": "Chaining"},
        "correct_option": "A", "explanation": "Linear probing fills runs of adjacent slots.",
    }
    record.update(changes)
    return {k: v for k, v in record.items() if v is not ...}


def flashcard(**changes: Any) -> dict[str, Any]:
    record: dict[str, Any] = {"source": "test", "external_id": "fc-1", "exam_type": "JEE", "subject": "Physics",
                              "topic": "Kinematics", "question": "v for uniform acceleration?",
                              "answer": "v = u + at", "difficulty": 2}
    record.update(changes)
    return record


def test_a_valid_question_is_normalised_and_gets_a_stable_id() -> None:
    parsed = parse_question(question(exam_type="gate", subject="algorithms", topic="HASHING", difficulty="Medium",
                                     correct_option="a"))
    assert (parsed.exam_type, parsed.subject, parsed.topic, parsed.difficulty) == ("GATE", "Algorithms", "Hashing",
                                                                                  "medium")
    assert parsed.correct_option == "A"
    assert parsed.question_id == content_id("question", "test", "q-1") == parse_question(question()).question_id
    assert parsed.question_id != parse_question(question(source="other")).question_id


def test_five_option_banks_are_accepted() -> None:
    parsed = parse_question(question(options={"A": "1", "B": "2", "C": "3", "D": "4", "E": "5"}, correct_option="E"))
    assert list(parsed.options) == ["A", "B", "C", "D", "E"]


@pytest.mark.parametrize(("changes", "message"), [
    ({"correct_option": "E"}, "not one of the options"),
    ({"correct_option": "AB"}, "longer than 1"),
    ({"options": {"A": "x", "B": "", "C": "y", "D": "z"}}, "option B is empty"),
    ({"options": {"A": "x", "B": "  ", "C": "y", "D": "z"}}, "option B is empty"),
    ({"options": {"A": "Same", "B": "y", "C": "same ", "D": "z"}}, "same text"),
    ({"options": {"A": "x", "B": "y", "C": "z"}}, "A-D"),
    ({"options": {"A": "x", "B": "y", "C": "z", "F": "w"}}, "A-D"),
    ({"options": ["x", "y", "z", "w"]}, "letter -> text"),
    ({"exam_type": "MBA"}, "unknown exam_type"),
    ({"subject": "Astrology"}, "unknown subject"),
    ({"topic": "Tides"}, "unknown topic"),
    ({"difficulty": "brutal"}, "difficulty"),
    ({"stem": ""}, "stem is required"),
    ({"explanation": 5}, "explanation is required"),  # null is allowed (API.md), a number is not
    ({"external_id": ...}, "external_id is required"),
    ({"answer_key": "A"}, "unknown field"),
    ({"stem": "x" * 5001}, "longer than"),
])
def test_invalid_questions_are_refused_with_the_reason(changes: dict[str, Any], message: str) -> None:
    with pytest.raises(ContentError, match=message):
        parse_question(question(**changes))


@pytest.mark.parametrize(("changes", "message"), [
    ({"difficulty": 0}, "1 to 5"), ({"difficulty": 6}, "1 to 5"), ({"difficulty": True}, "1 to 5"),
    ({"difficulty": "hard"}, "1 to 5"), ({"answer": " "}, "answer is required"),
    ({"subject": "Biology"}, "unknown subject"),
])
def test_invalid_flashcards_are_refused(changes: dict[str, Any], message: str) -> None:
    with pytest.raises(ContentError, match=message):
        parse_flashcard(flashcard(**changes))


def test_a_flashcard_difficulty_may_come_as_csv_text() -> None:
    assert parse_flashcard(flashcard(difficulty="4")).difficulty == 4


def test_json_lines_report_a_bad_line_and_keep_the_others() -> None:
    text = json.dumps(question()) + "\n\n{not json\n" + json.dumps(question(external_id="q-2")) + "\n"
    records = formats.read_records(text, "jsonl", "question")
    assert [(r.index, r.problem is None) for r in records] == [(0, True), (1, False), (2, True)]
    assert records[1].problem is not None and "not valid JSON" in records[1].problem


def test_a_json_file_must_be_an_array() -> None:
    with pytest.raises(formats.FormatError):
        formats.read_records(json.dumps(question()), "json", "question")
    with pytest.raises(formats.FormatError):
        formats.read_records("[", "json", "question")


def test_csv_questions_take_their_options_from_option_columns() -> None:
    text = ("source,external_id,exam_type,subject,topic,difficulty,stem,option_a,option_b,option_c,option_d,"
            "option_e,correct_option,explanation\n"
            'test,c-1,CAT,Quantitative Aptitude,Interest,easy,"Simple interest on 100 at 10% for 2 years?",'
            "10,20,30,40,,B,100 x 0.1 x 2 = 20\n"
            "test,c-2,CAT,Quantitative Aptitude,Interest,easy,stem,1,2,3,4,5,E,five options\n"
            "test,c-3,CAT,too,many,cells,here,1,2,3,4,5,E,x,extra\n")
    records = formats.read_records(text, "csv", "question")
    first = parse_question(records[0].data)
    assert first.options == {"A": "10", "B": "20", "C": "30", "D": "40"} and first.correct_option == "B"
    assert list(parse_question(records[1].data).options) == ["A", "B", "C", "D", "E"]
    assert records[2].problem == "the row has more cells than the header"


def test_aqua_lines_map_to_cat_questions_without_changing_their_text() -> None:
    line = {"question": "A train 120 m long passes a pole in 6 seconds. Its speed in km/h is",
            "options": ["A)60", "B)72", "C)80", "D)90", "E)None of these"],
            "rationale": "120/6 = 20 m/s = 72 km/h\nAnswer: B", "correct": "B"}
    [record] = formats.read_records(json.dumps(line) + "\n", "aqua", "question")
    parsed = parse_question(record.data)
    assert (parsed.source, parsed.external_id, parsed.exam_type, parsed.subject) == (
        "aqua-rat", "line-1", "CAT", "Quantitative Aptitude")
    assert parsed.topic == "Time, Speed and Distance" and parsed.difficulty == "medium"
    assert parsed.stem == line["question"] and parsed.explanation == line["rationale"]
    assert parsed.options == {"A": "60", "B": "72", "C": "80", "D": "90", "E": "None of these"}
    assert parsed.correct_option == "B"


def test_an_aqua_line_with_malformed_options_is_reported() -> None:
    bad = {"question": "q", "options": ["A)1", "B 2"], "rationale": "r", "correct": "A"}
    [record] = formats.read_records(json.dumps(bad), "aqua", "question")
    assert record.problem is not None and "A)text" in record.problem


@pytest.mark.parametrize(("name", "expected"), [("a.json", "json"), ("b.JSONL", "jsonl"), ("c.ndjson", "jsonl"),
                                                ("d.csv", "csv")])
def test_the_format_is_guessed_from_the_file_name(name: str, expected: str) -> None:
    assert formats.guess_format(name) == expected


def test_an_unknown_extension_needs_a_format() -> None:
    with pytest.raises(formats.FormatError):
        formats.guess_format("questions.txt")
