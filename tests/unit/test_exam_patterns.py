"""mindly.domain.exam_patterns: the bundled mock-test patterns, their checks on load, the public view."""

from __future__ import annotations

import copy
import json
from decimal import Decimal
from fractions import Fraction
from pathlib import Path
from typing import Any

import pytest

from mindly.domain import exam_patterns
from mindly.domain.exam_patterns import PatternError

PATTERN_FILE = Path(exam_patterns.__file__).with_name("exam_patterns.json")

# The totals the official notices publish, written here by hand rather than read from the file.
OFFICIAL = {
    "jee-main-paper-1": (75, 300, 180),
    "neet-ug": (180, 720, 180),
    "gate-cs": (65, 100, 180),
    "cat": (68, 204, 120),
    "upsc-gs1": (100, 200, 120),
    "upsc-csat": (80, 200, 120),
}


def raw_file() -> dict[str, Any]:
    data: dict[str, Any] = json.loads(PATTERN_FILE.read_text(encoding="utf-8"))
    return data


def one_pattern(pattern_id: str) -> dict[str, Any]:
    """A deep copy of one bundled pattern's JSON, as the only entry of a file."""
    entry = next(p for p in raw_file()["patterns"] if p["pattern_id"] == pattern_id)
    return {"patterns": [copy.deepcopy(entry)]}


@pytest.mark.parametrize(("pattern_id", "questions", "max_score", "minutes"),
                         [(key, *value) for key, value in OFFICIAL.items()])
def test_bundled_pattern_matches_official_question_count_marks_and_time(
        pattern_id: str, questions: int, max_score: int, minutes: int) -> None:
    # Given the bundled pattern file
    # When a pattern is looked up by id
    pattern = exam_patterns.find_pattern(pattern_id)
    # Then its sections add up to the notice's question count and total, in its time
    assert pattern is not None
    assert pattern.question_count == questions
    assert pattern.max_score == max_score
    assert pattern.duration_minutes == minutes
    assert pattern.source.url.startswith("https://") and pattern.source.citation


def test_bundle_holds_exactly_the_six_patterns_in_file_order() -> None:
    # Given / When the bundle is loaded
    # Then it has the six required patterns, each once
    assert [p.pattern_id for p in exam_patterns.bundled_patterns()] == list(OFFICIAL)
    assert exam_patterns.find_pattern("jee-advanced") is None


def test_jee_main_has_20_single_and_5_numeric_per_subject_all_plus4_minus1() -> None:
    # Given JEE Main Paper 1
    pattern = exam_patterns.find_pattern("jee-main-paper-1")
    assert pattern is not None
    # Then each subject is its own section of 20 single-correct and 5 numeric, +4/-1/0 both (NTA 2025)
    assert [s.name for s in pattern.sections] == ["Physics", "Chemistry", "Mathematics"]
    for section in pattern.sections:
        assert section.subjects == (section.name,)
        assert [(g.question_type, g.count, g.marks_correct, g.marks_wrong, g.marks_unattempted)
                for g in section.groups] == [("single", 20, 4, -1, 0), ("numeric", 5, 4, -1, 0)]


def test_neet_has_45_single_correct_in_each_of_four_subjects() -> None:
    pattern = exam_patterns.find_pattern("neet-ug")
    assert pattern is not None
    assert [(s.subjects, s.question_count) for s in pattern.sections] == [
        (("Physics",), 45), (("Chemistry",), 45), (("Botany",), 45), (("Zoology",), 45)]
    assert {(g.question_type, g.marks_correct, g.marks_wrong) for s in pattern.sections for g in s.groups} == {
        ("single", 4, -1)}


def test_gate_marks_are_exact_thirds_and_general_aptitude_is_15_of_100() -> None:
    # Given GATE CS
    pattern = exam_patterns.find_pattern("gate-cs")
    assert pattern is not None
    general, technical = pattern.sections
    # Then General Aptitude is 10 questions for 15 marks, the rest 55 for 85
    assert (general.question_count, general.max_score) == (10, 15)
    assert (technical.question_count, technical.max_score) == (55, 85)
    assert "Engineering Mathematics" in technical.subjects
    # And MCQ penalties are exactly a third of the marks; MSQ and NAT lose nothing
    for group in general.groups + technical.groups:
        expected = -group.marks_correct / 3 if group.question_type == "single" else Fraction(0)
        assert group.marks_wrong == expected
        assert group.partial_marks_per_option is None  # GATE gives no partial marks for MSQ
    assert {g.marks_correct for g in technical.groups if g.question_type == "single"} == {1, 2}


def test_cat_has_three_40_minute_sections_locked_in_order() -> None:
    # Given CAT
    pattern = exam_patterns.find_pattern("cat")
    assert pattern is not None
    # Then VARC, DILR and QA each run on their own 40-minute clock, back to back
    assert [(s.name, s.question_count, s.duration_minutes, s.locked_order) for s in pattern.sections] == [
        ("VARC", 24, 40, True), ("DILR", 22, 40, True), ("QA", 22, 40, True)]
    assert exam_patterns.section_windows(pattern) == ((0, 40), (40, 80), (80, 120))
    # And MCQs are +3/-1, type-in answers +3/0
    marks = {(g.question_type, g.marks_correct, g.marks_wrong) for s in pattern.sections for g in s.groups}
    assert marks == {("single", 3, -1), ("numeric", 3, 0)}


def test_untimed_sections_have_no_window() -> None:
    pattern = exam_patterns.find_pattern("gate-cs")
    assert pattern is not None
    assert exam_patterns.section_windows(pattern) == (None, None)


def test_upsc_penalties_are_written_as_published_exactly() -> None:
    # Given the two UPSC prelims papers
    gs1, csat = exam_patterns.find_pattern("upsc-gs1"), exam_patterns.find_pattern("upsc-csat")
    assert gs1 is not None and csat is not None
    # Then GS Paper I is +2/-0.66 over 7 GS subjects and CSAT +2.5/-0.83, both exact decimals
    (gs_group,) = gs1.sections[0].groups
    (csat_group,) = csat.sections[0].groups
    assert (gs_group.count, gs_group.marks_correct, gs_group.marks_wrong) == (100, 2, Fraction("-0.66"))
    assert (csat_group.count, csat_group.marks_correct, csat_group.marks_wrong) == (
        80, Fraction("2.5"), Fraction("-0.83"))
    assert "Ethics" not in gs1.sections[0].subjects and "CSAT" not in gs1.sections[0].subjects
    assert csat.sections[0].subjects == ("CSAT",)


@pytest.mark.parametrize(("pattern_id", "lowest"), [
    ("neet-ug", Fraction(-180)), ("jee-main-paper-1", Fraction(-75)), ("upsc-gs1", Fraction(-66)),
    ("upsc-csat", Fraction("-66.4")), ("cat", Fraction(-48)),
    ("gate-cs", Fraction(-5, 3) - Fraction(10, 3) - Fraction(13, 3) - Fraction(34, 3)),
])
def test_min_score_is_every_question_wrong(pattern_id: str, lowest: Fraction) -> None:
    # Given a pattern / When every question is answered wrong / Then its total is the lowest possible
    pattern = exam_patterns.find_pattern(pattern_id)
    assert pattern is not None
    assert pattern.min_score == lowest


def test_public_view_for_cat_is_exactly_the_api_item() -> None:
    # Given CAT / When it is listed
    pattern = exam_patterns.find_pattern("cat")
    assert pattern is not None
    view = exam_patterns.public_view(pattern)
    # Then the item has API.md's keys and no others, and the sections carry their clocks
    assert view == {
        "pattern_id": "cat", "exam_type": "CAT", "name": "Common Admission Test (CAT)", "duration_minutes": 120,
        "max_score": 204,
        "sections": [
            {"name": "VARC", "subjects": ["Verbal Ability and Reading Comprehension"], "duration_minutes": 40,
             "questions": [{"type": "single", "count": 22, "marks_correct": 3, "marks_wrong": -1,
                            "marks_unattempted": 0},
                           {"type": "numeric", "count": 2, "marks_correct": 3, "marks_wrong": 0,
                            "marks_unattempted": 0}]},
            {"name": "DILR", "subjects": ["Data Interpretation and Logical Reasoning"], "duration_minutes": 40,
             "questions": [{"type": "single", "count": 12, "marks_correct": 3, "marks_wrong": -1,
                            "marks_unattempted": 0},
                           {"type": "numeric", "count": 10, "marks_correct": 3, "marks_wrong": 0,
                            "marks_unattempted": 0}]},
            {"name": "QA", "subjects": ["Quantitative Aptitude"], "duration_minutes": 40,
             "questions": [{"type": "single", "count": 14, "marks_correct": 3, "marks_wrong": -1,
                            "marks_unattempted": 0},
                           {"type": "numeric", "count": 8, "marks_correct": 3, "marks_wrong": 0,
                            "marks_unattempted": 0}]}]}


def test_public_view_rounds_thirds_and_omits_clocks_sections_do_not_have() -> None:
    # Given GATE and CSAT / When listed
    gate, csat = exam_patterns.find_pattern("gate-cs"), exam_patterns.find_pattern("upsc-csat")
    assert gate is not None and csat is not None
    gate_view, csat_view = exam_patterns.public_view(gate), exam_patterns.public_view(csat)
    # Then -1/3 and -2/3 show as -0.33 and -0.67, 2.5 stays 2.5, and no section has a duration
    assert [q["marks_wrong"] for q in gate_view["sections"][0]["questions"]] == [-0.33, -0.67]
    assert all("duration_minutes" not in s for s in gate_view["sections"])
    assert csat_view["sections"][0]["questions"][0] == {
        "type": "single", "count": 80, "marks_correct": 2.5, "marks_wrong": -0.83, "marks_unattempted": 0}
    assert csat_view["max_score"] == 200 and isinstance(csat_view["max_score"], int)
    json.dumps([exam_patterns.public_view(p) for p in exam_patterns.bundled_patterns()])  # JSON-ready


@pytest.mark.parametrize(("value", "shown"), [
    (Fraction(-2, 3), "-0.67"), (Fraction(1, 3), "0.33"), (Fraction(-1, 3), "-0.33"), (Fraction("-1.98"), "-1.98"),
    (Fraction("0.125"), "0.13"), (Fraction("-0.125"), "-0.13"), (Fraction("0.005"), "0.01"), (Fraction(0), "0.00"),
    (Fraction(200), "200.00"), (Fraction(-1, 200), "-0.01"), (Fraction(-1, 201), "0.00"),  # no negative zero
])
def test_display_rounds_half_away_from_zero_to_two_places(value: Fraction, shown: str) -> None:
    # Given an exact value / When rounded for display / Then two decimals, ties away from zero
    assert exam_patterns.display(value) == Decimal(shown)
    assert str(exam_patterns.display(value)) == shown


def test_display_takes_other_precisions() -> None:
    assert exam_patterns.display(Fraction(2, 3), 4) == Decimal("0.6667")
    assert exam_patterns.shown(Fraction(7, 2)) == 3.5 and exam_patterns.shown(Fraction(4)) == 4


def test_pattern_file_sits_beside_the_module_and_parses_as_bundled() -> None:
    # Given the JSON beside the module (the layer build copies the whole mindly folder with it)
    # When parsed directly / Then it gives the bundled patterns
    assert exam_patterns.parse_patterns(raw_file()) == exam_patterns.bundled_patterns()


def _set(path: list[Any], value: Any) -> Any:
    def change(data: dict[str, Any]) -> None:
        target: Any = data["patterns"][0]
        for step in path[:-1]:
            target = target[step]
        if value is _DELETE:
            del target[path[-1]]
        else:
            target[path[-1]] = value
    return change


_DELETE = object()

REFUSALS = [
    ("unknown subject", "gate-cs", _set(["sections", 1, "subjects", 0], "Quantum Computing"), "not a GATE subject"),
    ("another exam's subject", "jee-main-paper-1", _set(["sections", 0, "subjects"], ["Botany"]), "not a JEE subject"),
    ("subject not in syllabus spelling", "neet-ug", _set(["sections", 0, "subjects"], ["physics"]), "not a NEET"),
    ("zero count", "neet-ug", _set(["sections", 0, "questions", 0, "count"], 0), "count is a whole number"),
    ("negative count", "cat", _set(["sections", 0, "questions", 1, "count"], -2), "count is a whole number"),
    ("fractional count", "cat", _set(["sections", 0, "questions", 1, "count"], 2.5), "count is a whole number"),
    ("clocks not summing", "cat", _set(["sections", 2, "duration_minutes"], 30), "add up to 110 minutes"),
    ("some sections timed", "gate-cs", _set(["sections", 0, "duration_minutes"], 60), "every section"),
    ("lock without clock", "gate-cs", _set(["sections", 0, "locked_order"], True), "needs its own duration"),
    ("lock not boolean", "cat", _set(["sections", 0, "locked_order"], "yes"), "true or false"),
    ("duplicate section", "neet-ug", _set(["sections", 1, "name"], "Physics"), "same name"),
    ("subject twice", "neet-ug", _set(["sections", 1, "subjects"], ["Physics"]), "two sections"),
    ("subject listed twice", "neet-ug", _set(["sections", 0, "subjects"], ["Physics", "Physics"]), "listed twice"),
    ("float marks", "upsc-gs1", _set(["sections", 0, "questions", 0, "marks_wrong"], -0.66), "integer or a string"),
    ("unparsable marks", "upsc-gs1", _set(["sections", 0, "questions", 0, "marks_wrong"], "-two"), "not a number"),
    ("positive penalty", "neet-ug", _set(["sections", 0, "questions", 0, "marks_wrong"], 1), "marks_wrong <="),
    ("zero reward", "neet-ug", _set(["sections", 0, "questions", 0, "marks_correct"], 0), "0 < marks_correct"),
    ("partial on single", "neet-ug", _set(["sections", 0, "questions", 0, "partial_marks_per_option"], 1),
     "multiple only"),
    ("partial too big", "gate-cs", _set(["sections", 1, "questions", 1, "partial_marks_per_option"], 1),
     "below marks_correct"),
    ("unknown type", "neet-ug", _set(["sections", 0, "questions", 0, "type"], "essay"), "none of single"),
    ("unknown group field", "neet-ug", _set(["sections", 0, "questions", 0, "negative"], True), "unknown field"),
    ("unknown pattern field", "neet-ug", _set(["shuffle"], True), "unknown field"),
    ("wrong official total", "cat", _set(["official_totals", "max_score"], 198), "204.00 marks, the notice 198.00"),
    ("wrong official count", "cat", _set(["official_totals", "questions"], 66), "68 questions, the notice 66"),
    ("no official totals", "cat", _set(["official_totals"], _DELETE), "official_totals is an object"),
    ("unknown exam", "cat", _set(["exam_type"], "GMAT"), "exam_type 'GMAT'"),
    ("bad id", "cat", _set(["pattern_id"], "CAT 2024"), "lower-case words"),
    ("http source", "cat", _set(["source", "url"], "http://iimcat.ac.in"), "https"),
    ("no citation", "cat", _set(["source", "citation"], " "), "citation is non-empty"),
    ("no sections", "cat", _set(["sections"], []), "sections is a non-empty list"),
    ("no groups", "cat", _set(["sections", 0, "questions"], []), "non-empty list of groups"),
    ("zero duration", "cat", _set(["duration_minutes"], 0), "duration_minutes is a whole number"),
    ("same marking twice", "neet-ug",
     _set(["sections", 0, "questions"], [{"type": "single", "count": 20, "marks_correct": 4, "marks_wrong": -1,
                                          "marks_unattempted": 0},
                                         {"type": "single", "count": 25, "marks_correct": 4, "marks_wrong": -1,
                                          "marks_unattempted": 0}]), "same type and marks"),
]


@pytest.mark.parametrize(("pattern_id", "change", "message"), [(p, c, m) for _, p, c, m in REFUSALS],
                         ids=[label for label, *_ in REFUSALS])
def test_loader_refuses_a_pattern_that_does_not_add_up(pattern_id: str, change: Any, message: str) -> None:
    # Given a bundled pattern with one thing wrong
    data = one_pattern(pattern_id)
    exam_patterns.parse_patterns(data)  # valid as bundled
    change(data)
    # When it is loaded / Then it is refused, saying which pattern and what
    with pytest.raises(PatternError) as refused:
        exam_patterns.parse_patterns(data)
    assert message in str(refused.value)
    assert str(refused.value).startswith("pattern #0 (")


def test_loader_refuses_a_duplicate_pattern_id() -> None:
    # Given two copies of the same pattern / When loaded / Then the second is refused
    data = one_pattern("cat")
    data["patterns"].append(copy.deepcopy(data["patterns"][0]))
    with pytest.raises(PatternError, match="duplicate pattern_id 'cat'"):
        exam_patterns.parse_patterns(data)


@pytest.mark.parametrize("raw", [[], {}, {"patterns": []}, {"patterns": "cat"}, {"patterns": [1], "x": 1}])
def test_loader_refuses_a_malformed_file(raw: Any) -> None:
    with pytest.raises(PatternError):
        exam_patterns.parse_patterns(raw)


def test_a_valid_partial_rule_is_kept_exactly() -> None:
    # Given a multiple-correct group with JEE Advanced's partial rule (+4 / +1 per option / -2)
    data = one_pattern("gate-cs")
    group = data["patterns"][0]["sections"][1]["questions"][4]
    group.update({"marks_correct": 4, "marks_wrong": -2, "partial_marks_per_option": 1})
    data["patterns"][0]["official_totals"]["max_score"] = 110
    # When loaded / Then the rule is on the group, exact
    (pattern,) = exam_patterns.parse_patterns(data)
    loaded = pattern.sections[1].groups[4]
    assert (loaded.marks_correct, loaded.marks_wrong, loaded.partial_marks_per_option) == (4, -2, 1)
