"""Mock-test patterns as data: how each real paper is laid out and marked.

The bundled patterns live in exam_patterns.json beside this file (one reviewed file, API.md "Mock
tests"); ``parse_patterns`` turns that JSON into frozen values and refuses anything that does not
add up: subjects outside the exam's syllabus, a subject in two sections, counts that are not
positive, section clocks that do not sum to the paper's, duplicate ids, and totals that differ from
the ones the source notice publishes (``official_totals``).

Marks are exact fractions. Written in the JSON as integers or strings ("2.5", "-0.66", "-1/3"),
never as JSON floats, so GATE's -1/3 is a third and UPSC's -0.66 is sixty-six hundredths, and no
sum drifts. UPSC's notice deducts "one third (0.33)" of a question's marks: we write what that
gives on the published mark sheets, -0.66 for a 2-mark GS Paper I question and -0.83 for a
2.5-mark CSAT question (0.825 rounded, as API.md has it). Numbers are rounded only when shown:
``display`` rounds to 2 decimals, half away from zero (-2/3 shows as -0.67).
"""

from __future__ import annotations

import json
import math
import re
from collections.abc import Mapping, Sequence
from decimal import Decimal
from fractions import Fraction
from functools import cache
from pathlib import Path
from typing import Any, NamedTuple

from mindly.domain import syllabus
from mindly.domain.content import QUESTION_TYPES, json_number

PATTERN_ID = re.compile(r"^[a-z0-9]+(?:-[a-z0-9]+)*$")
DISPLAY_PLACES = 2
_PATTERN_FIELDS = {"pattern_id", "exam_type", "name", "duration_minutes", "source", "official_totals",
                   "sections", "notes"}
_SECTION_FIELDS = {"name", "subjects", "duration_minutes", "locked_order", "questions"}
_GROUP_FIELDS = {"type", "count", "marks_correct", "marks_wrong", "marks_unattempted", "partial_marks_per_option"}


class PatternError(ValueError):
    """A pattern the loader refuses; the message names the pattern and what is wrong."""


class QuestionGroup(NamedTuple):
    """``count`` questions of one type marked alike. ``partial_marks_per_option`` (multiple only)
    is the JEE Advanced style partial rule: that many marks per right option chosen when no wrong
    option is chosen and the set is not complete."""

    question_type: str
    count: int  # type: ignore[assignment]  # the field hides tuple.count, which nothing here calls
    marks_correct: Fraction
    marks_wrong: Fraction
    marks_unattempted: Fraction
    partial_marks_per_option: Fraction | None = None

    @property
    def max_score(self) -> Fraction:
        return self.count * self.marks_correct

    @property
    def min_score(self) -> Fraction:
        """The lowest total the group can give (partial marks are never below a wrong answer)."""
        return self.count * min(self.marks_wrong, self.marks_unattempted)


class Section(NamedTuple):
    """A part of the paper. ``duration_minutes`` is set when the section has its own clock;
    ``locked_order`` means it is sat in pattern order and closes for good when its clock ends."""

    name: str
    subjects: tuple[str, ...]
    groups: tuple[QuestionGroup, ...]
    duration_minutes: int | None = None
    locked_order: bool = False

    @property
    def question_count(self) -> int:
        return sum(group.count for group in self.groups)

    @property
    def max_score(self) -> Fraction:
        return sum((group.max_score for group in self.groups), Fraction(0))

    @property
    def min_score(self) -> Fraction:
        return sum((group.min_score for group in self.groups), Fraction(0))


class Source(NamedTuple):
    """Which official notice the numbers follow (a citation) and where it is published."""

    citation: str
    url: str


class ExamPattern(NamedTuple):
    pattern_id: str
    exam_type: str
    name: str
    duration_minutes: int
    source: Source
    sections: tuple[Section, ...]
    notes: str | None = None

    @property
    def question_count(self) -> int:
        return sum(section.question_count for section in self.sections)

    @property
    def max_score(self) -> Fraction:
        return sum((section.max_score for section in self.sections), Fraction(0))

    @property
    def min_score(self) -> Fraction:
        """The most negative total the paper allows (every question answered wrong)."""
        return sum((section.min_score for section in self.sections), Fraction(0))

    def section(self, name: str) -> Section:
        """The section called ``name``; KeyError when the pattern has none."""
        for section in self.sections:
            if section.name == name:
                return section
        raise KeyError(name)


def display(value: Fraction, places: int = DISPLAY_PLACES) -> Decimal:
    """``value`` rounded for showing: ``places`` decimals, half away from zero, computed on the
    exact fraction (no intermediate float or 28-digit Decimal)."""
    scale = 10 ** places
    quotient, remainder = divmod(abs(value.numerator) * scale, value.denominator)
    if 2 * remainder >= value.denominator:
        quotient += 1
    sign = -1 if value < 0 else 1
    return Decimal(sign * quotient).scaleb(-places)


def shown(value: Fraction, places: int = DISPLAY_PLACES) -> int | float:
    """``display`` as a JSON number (an int when whole)."""
    return json_number(display(value, places))


def section_windows(pattern: ExamPattern) -> tuple[tuple[int, int] | None, ...]:
    """Per section, its clock as (start, end) minutes from the start of the test when it has its
    own (sections with clocks run back to back in pattern order), else None."""
    windows: list[tuple[int, int] | None] = []
    start = 0
    for section in pattern.sections:
        if section.duration_minutes is None:
            windows.append(None)
            continue
        windows.append((start, start + section.duration_minutes))
        start += section.duration_minutes
    return tuple(windows)


def for_subjects(pattern: ExamPattern, subjects: Sequence[str]) -> ExamPattern:
    """The pattern sat on ``subjects`` only (a sectional mock): sections without any of them are
    dropped, the others keep their questions, drawn from the listed subjects they have. Sections
    with their own clocks keep them; the paper's time shrinks with the questions of the sections
    that share it (rounded up to the minute). ValueError for a subject no section has."""
    wanted = list(dict.fromkeys(subjects))
    known = {subject for section in pattern.sections for subject in section.subjects}
    stray = [subject for subject in wanted if subject not in known]
    if stray or not wanted:
        raise ValueError(f"not a subject of {pattern.pattern_id}: {', '.join(stray) or '(none given)'}")
    kept = tuple(section._replace(subjects=tuple(s for s in section.subjects if s in wanted))
                 for section in pattern.sections if any(s in wanted for s in section.subjects))
    if kept == pattern.sections:
        return pattern
    clocked = sum(section.duration_minutes or 0 for section in kept)
    shared_before = sum(section.question_count for section in pattern.sections if section.duration_minutes is None)
    shared_after = sum(section.question_count for section in kept if section.duration_minutes is None)
    shared_minutes = pattern.duration_minutes - sum(section.duration_minutes or 0 for section in pattern.sections)
    duration = clocked + (math.ceil(shared_minutes * shared_after / shared_before) if shared_before else 0)
    return pattern._replace(sections=kept, duration_minutes=duration)


def public_view(pattern: ExamPattern) -> dict[str, Any]:
    """The pattern as ``GET /mock-tests/patterns`` lists it (API.md), marks rounded by ``display``."""
    sections: list[dict[str, Any]] = []
    for section in pattern.sections:
        item: dict[str, Any] = {"name": section.name, "subjects": list(section.subjects)}
        if section.duration_minutes is not None:
            item["duration_minutes"] = section.duration_minutes
        item["questions"] = [{"type": group.question_type, "count": group.count,
                              "marks_correct": shown(group.marks_correct), "marks_wrong": shown(group.marks_wrong),
                              "marks_unattempted": shown(group.marks_unattempted)} for group in section.groups]
        sections.append(item)
    return {"pattern_id": pattern.pattern_id, "exam_type": pattern.exam_type, "name": pattern.name,
            "duration_minutes": pattern.duration_minutes, "sections": sections,
            "max_score": shown(pattern.max_score)}


# --- loading -------------------------------------------------------------------------------------


def parse_patterns(raw: Any) -> tuple[ExamPattern, ...]:
    """Patterns from their JSON form (``{"patterns": [...]}``, an ``about`` text allowed), each
    checked; PatternError on the first problem, naming the pattern."""
    if not isinstance(raw, Mapping) or not isinstance(raw.get("patterns"), list) or not raw["patterns"]:
        raise PatternError("the pattern file is an object with a non-empty 'patterns' list")
    stray = sorted(str(name) for name in raw if name not in ("about", "patterns"))
    if stray:
        raise PatternError(f"unknown top-level field(s): {', '.join(stray)}")
    patterns: list[ExamPattern] = []
    seen: set[str] = set()
    for index, entry in enumerate(raw["patterns"]):
        label = entry.get("pattern_id") if isinstance(entry, Mapping) else None
        try:
            pattern = _pattern(entry)
        except PatternError as exc:
            raise PatternError(f"pattern #{index} ({label!r}): {exc}") from exc
        if pattern.pattern_id in seen:
            raise PatternError(f"pattern #{index}: duplicate pattern_id {pattern.pattern_id!r}")
        seen.add(pattern.pattern_id)
        patterns.append(pattern)
    return tuple(patterns)


@cache
def bundled_patterns() -> tuple[ExamPattern, ...]:
    """The patterns shipped with the code (exam_patterns.json), in file order."""
    raw = json.loads(Path(__file__).with_name("exam_patterns.json").read_text(encoding="utf-8"))
    return parse_patterns(raw)


def find_pattern(pattern_id: str) -> ExamPattern | None:
    """The bundled pattern with this id, or None."""
    return next((pattern for pattern in bundled_patterns() if pattern.pattern_id == pattern_id), None)


def _pattern(entry: Any) -> ExamPattern:
    record = _object(entry, "a pattern", _PATTERN_FIELDS)
    pattern_id = _string(record, "pattern_id")
    if not PATTERN_ID.match(pattern_id):
        raise PatternError("pattern_id is lower-case words joined by '-'")
    exam = _string(record, "exam_type")
    if exam not in syllabus.EXAM_TYPES:
        raise PatternError(f"exam_type {exam!r} is none of {', '.join(syllabus.EXAM_TYPES)}")
    source = _object(record.get("source"), "source", {"citation", "url"})
    url = _string(source, "url")
    if not url.startswith("https://"):
        raise PatternError("source.url must be an https address")
    notes = record.get("notes")
    if notes is not None and (not isinstance(notes, str) or not notes.strip()):
        raise PatternError("notes, when given, is non-empty text")
    raw_sections = record.get("sections")
    if not isinstance(raw_sections, list) or not raw_sections:
        raise PatternError("sections is a non-empty list")
    sections = tuple(_section(raw, exam) for raw in raw_sections)
    pattern = ExamPattern(pattern_id, exam, _string(record, "name"), _positive(record, "duration_minutes"),
                          Source(_string(source, "citation"), url), sections, notes)
    _check_layout(pattern)
    _check_totals(pattern, record.get("official_totals"))
    return pattern


def _section(raw: Any, exam: str) -> Section:
    record = _object(raw, "a section", _SECTION_FIELDS)
    name = _string(record, "name")
    subjects = record.get("subjects")
    if not isinstance(subjects, list) or not subjects or not all(isinstance(s, str) for s in subjects):
        raise PatternError(f"section {name!r}: subjects is a non-empty list of names")
    for subject in subjects:
        # The syllabus spelling exactly: the bank's items carry it, and assembly matches on it.
        if syllabus.canonical_subject(exam, subject) != subject:
            raise PatternError(f"section {name!r}: {subject!r} is not a {exam} subject of the syllabus")
    if len(set(subjects)) != len(subjects):
        raise PatternError(f"section {name!r}: a subject is listed twice")
    groups = record.get("questions")
    if not isinstance(groups, list) or not groups:
        raise PatternError(f"section {name!r}: questions is a non-empty list of groups")
    duration = _positive(record, "duration_minutes") if record.get("duration_minutes") is not None else None
    locked = record.get("locked_order", False)
    if not isinstance(locked, bool):
        raise PatternError(f"section {name!r}: locked_order is true or false")
    if locked and duration is None:
        raise PatternError(f"section {name!r}: a locked section needs its own duration_minutes")
    try:
        parsed = tuple(_group(group) for group in groups)
    except PatternError as exc:
        raise PatternError(f"section {name!r}: {exc}") from exc
    marking = {(g.question_type, g.marks_correct, g.marks_wrong, g.marks_unattempted, g.partial_marks_per_option)
               for g in parsed}
    if len(marking) != len(parsed):
        # Two groups marked alike are one group; keeping them apart would make a question's group ambiguous.
        raise PatternError(f"section {name!r}: two question groups have the same type and marks")
    return Section(name, tuple(subjects), parsed, duration, locked)


def _group(raw: Any) -> QuestionGroup:
    record = _object(raw, "a question group", _GROUP_FIELDS)
    kind = _string(record, "type")
    if kind not in QUESTION_TYPES:
        raise PatternError(f"type {kind!r} is none of {', '.join(QUESTION_TYPES)}")
    correct, wrong = _marks(record, "marks_correct"), _marks(record, "marks_wrong")
    unattempted = _marks(record, "marks_unattempted")
    if not wrong <= unattempted <= 0 < correct:
        raise PatternError("marks must satisfy marks_wrong <= marks_unattempted <= 0 < marks_correct")
    partial = None
    if record.get("partial_marks_per_option") is not None:
        if kind != "multiple":
            raise PatternError("partial_marks_per_option is for type multiple only")
        partial = _marks(record, "partial_marks_per_option")
        if not 0 < partial < correct:
            raise PatternError("partial_marks_per_option is above 0 and below marks_correct")
    return QuestionGroup(kind, _positive(record, "count"), correct, wrong, unattempted, partial)


def _check_layout(pattern: ExamPattern) -> None:
    names = [section.name for section in pattern.sections]
    if len(set(names)) != len(names):
        raise PatternError("two sections have the same name")
    subjects = [subject for section in pattern.sections for subject in section.subjects]
    if len(set(subjects)) != len(subjects):
        # One section per subject keeps the bank's pools (section, subject, type) disjoint.
        raise PatternError("a subject appears in two sections")
    clocks = [section.duration_minutes for section in pattern.sections]
    timed = [minutes for minutes in clocks if minutes is not None]
    if timed and len(timed) != len(clocks):
        raise PatternError("either every section has its own duration_minutes or none has")
    if timed and sum(timed) != pattern.duration_minutes:
        raise PatternError(f"section durations add up to {sum(timed)} minutes, the paper is "
                           f"{pattern.duration_minutes}")


def _check_totals(pattern: ExamPattern, raw: Any) -> None:
    totals = _object(raw, "official_totals", {"questions", "max_score"})
    questions, max_score = _positive(totals, "questions"), _marks(totals, "max_score")
    if pattern.question_count != questions:
        raise PatternError(f"the sections hold {pattern.question_count} questions, the notice {questions}")
    if pattern.max_score != max_score:
        raise PatternError(f"the sections give {display(pattern.max_score)} marks, the notice "
                           f"{display(max_score)}")


def _object(raw: Any, what: str, fields: set[str]) -> Mapping[str, Any]:
    if not isinstance(raw, Mapping):
        raise PatternError(f"{what} is an object")
    stray = sorted(str(name) for name in raw if name not in fields)
    if stray:
        raise PatternError(f"{what} has unknown field(s): {', '.join(stray)}")
    return raw


def _string(record: Mapping[str, Any], name: str) -> str:
    value = record.get(name)
    if not isinstance(value, str) or not value.strip() or value != value.strip():
        raise PatternError(f"{name} is non-empty text without surrounding spaces")
    return value


def _positive(record: Mapping[str, Any], name: str) -> int:
    value = record.get(name)
    if isinstance(value, bool) or not isinstance(value, int) or value <= 0:
        raise PatternError(f"{name} is a whole number above 0")
    return value


def _marks(record: Mapping[str, Any], name: str) -> Fraction:
    """An exact mark: an integer, or a string of a decimal or a fraction. JSON floats are refused,
    so what the file says is exactly what is scored."""
    value = record.get(name)
    if isinstance(value, bool) or not isinstance(value, int | str):
        raise PatternError(f"{name} is an integer or a string such as \"-0.66\" or \"-1/3\"")
    if isinstance(value, int):
        return Fraction(value)
    try:
        return Fraction(value.strip())
    except (ValueError, ZeroDivisionError) as exc:
        raise PatternError(f"{name} {value[:20]!r} is not a number") from exc

