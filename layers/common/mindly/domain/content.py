"""Questions and flashcards as plain values, and the rules a record must meet to enter the bank.

Records come from imports (JSON, JSON Lines, CSV, the AQuA-RAT mapping) and the admin API; every
path goes through ``parse_question`` / ``parse_flashcard``, which either return a clean record or
raise ContentError naming what is wrong. Ids are derived from (source, external_id), so importing
the same record twice addresses the same item.
"""

from __future__ import annotations

import hashlib
import json
import math
import re
from collections.abc import Mapping
from datetime import UTC, datetime
from decimal import Decimal, InvalidOperation
from typing import Any, NamedTuple

from mindly.domain import syllabus

OPTION_LETTERS = ("A", "B", "C", "D", "E")
MIN_OPTIONS = 4
DIFFICULTIES = ("easy", "medium", "hard")
MAX_TEXT = 5000
MAX_ID = 200

QUESTION_TYPES = ("single", "multiple", "numeric")
TEXT_FORMATS = ("text", "latex")
MAX_MEDIA = 5
MAX_PASSAGE = 20000
MAX_REPORT_COMMENT = 1000  # a student's report of a question, an admin's note resolving one
MEDIA_ID = re.compile(r"^[A-Za-z0-9_-]{8,64}$")
FIRST_YEAR = 1950  # no exam we cover set a paper before this; a year outside it is a typo
QUESTION_FIELDS = {"source", "external_id", "exam_type", "subject", "topic", "difficulty", "stem", "options",
                   "correct_option", "explanation", "type", "correct_options", "answer", "format", "passage",
                   "media", "year", "paper"}
FLASHCARD_FIELDS = {"source", "external_id", "exam_type", "subject", "topic", "question", "answer", "difficulty"}


class ContentError(ValueError):
    """A record that cannot enter the bank; the message says why (safe to show to an admin)."""


class NumericAnswer(NamedTuple):
    """A numeric question's key: right when ``low <= given <= high`` (exact decimals, no float
    rounding); ``tolerance`` is set when the record gave ``{value, tolerance}``, else it gave
    ``{min, max}``."""

    low: Decimal
    high: Decimal
    value: Decimal | None = None
    tolerance: Decimal | None = None

    def accepts(self, given: Decimal) -> bool:
        return self.low <= given <= self.high

    def record(self) -> dict[str, int | float]:
        """The import form (``{value, tolerance}`` or ``{min, max}``), numbers as JSON has them."""
        if self.value is not None and self.tolerance is not None:
            return {"value": json_number(self.value), "tolerance": json_number(self.tolerance)}
        return {"min": json_number(self.low), "max": json_number(self.high)}


class Passage(NamedTuple):
    """A reading passage several questions share, stored once under ``passage_id`` (derived from
    the source and the record's own ``external_id`` for it, like a question's id)."""

    passage_id: str
    text: str
    external_id: str


class MediaRef(NamedTuple):
    media_id: str
    alt: str


class Question(NamedTuple):
    question_id: str
    source: str
    external_id: str
    exam_type: str
    subject: str
    topic: str
    difficulty: str
    stem: str
    options: dict[str, str]  # empty for numeric questions
    correct_option: str | None  # single
    explanation: str | None
    question_type: str = "single"
    correct_options: tuple[str, ...] = ()  # multiple: the whole set, in letter order
    answer: NumericAnswer | None = None  # numeric
    text_format: str = "text"
    passage: Passage | None = None
    media: tuple[MediaRef, ...] = ()
    year: int | None = None
    paper: str | None = None

    @property
    def chance_options(self) -> int:
        """k for the calibration chance 1/k (API.md): the options offered, 0 for a numeric question."""
        return len(self.options)


class Flashcard(NamedTuple):
    flashcard_id: str
    source: str
    external_id: str
    exam_type: str
    subject: str
    topic: str
    question: str
    answer: str
    difficulty: int


def content_id(kind: str, source: str, external_id: str) -> str:
    """A stable id for (source, external_id): the same record always gets the same id."""
    digest = hashlib.sha256(f"{kind}\x1f{source}\x1f{external_id}".encode()).hexdigest()
    return digest[:32]


def _text(record: Mapping[str, Any], name: str, limit: int = MAX_TEXT, keep: bool = False) -> str:
    """Required text, trimmed unless ``keep`` (LaTeX is kept exactly as written)."""
    value = record.get(name)
    if not isinstance(value, str) or not value.strip():
        raise ContentError(f"{name} is required (non-empty text)")
    if len(value) > limit:
        raise ContentError(f"{name} is longer than {limit} characters")
    return value if keep else value.strip()


def _placement(record: Mapping[str, Any]) -> tuple[str, str, str]:
    """The exam code and the syllabus spelling of subject and topic."""
    exam = syllabus.normalize_exam(_text(record, "exam_type", 20))
    if exam is None:
        raise ContentError(f"unknown exam_type {str(record.get('exam_type'))[:40]!r}; expected one of "
                           f"{', '.join(syllabus.EXAM_TYPES)}")
    subject = syllabus.canonical_subject(exam, _text(record, "subject", 200))
    if subject is None:
        raise ContentError(f"unknown subject {str(record.get('subject'))[:60]!r} for {exam}")
    topic = syllabus.canonical_topic(exam, subject, _text(record, "topic", 200))
    if topic is None:
        raise ContentError(f"unknown topic {str(record.get('topic'))[:60]!r} for {exam} {subject}")
    return exam, subject, topic


def _unknown_fields(record: Mapping[str, Any], allowed: set[str]) -> None:
    extra = sorted(str(name) for name in record if name not in allowed)
    if extra:
        raise ContentError(f"unknown field(s): {', '.join(extra)[:200]}")


def _options(raw: Any, keep: bool = False) -> dict[str, str]:
    if not isinstance(raw, Mapping):
        raise ContentError("options must be an object of letter -> text")
    letters = [str(letter).strip().upper() for letter in raw]
    if sorted(letters) != list(OPTION_LETTERS[:len(letters)]) or not MIN_OPTIONS <= len(letters) <= 5:
        raise ContentError("options must be A-D, or A-E for five-option banks")
    options: dict[str, str] = {}
    for letter, text in zip(letters, raw.values(), strict=True):
        if not isinstance(text, str) or not text.strip():
            raise ContentError(f"option {letter} is empty")
        if len(text) > MAX_TEXT:
            raise ContentError(f"option {letter} is too long")
        options[letter] = text if keep else text.strip()
    seen: dict[str, str] = {}
    for letter, text in options.items():
        folded = " ".join(text.casefold().split())
        if folded in seen:
            raise ContentError(f"options {seen[folded]} and {letter} have the same text")
        seen[folded] = letter
    return dict(sorted(options.items()))


def _identity(record: Any, kind: str, fields: set[str]) -> tuple[str, str, str, str, str]:
    """What every record has: source, external id, exam, subject and topic (checked)."""
    if not isinstance(record, Mapping):
        raise ContentError(f"a {kind} is an object")
    _unknown_fields(record, fields)
    source, external_id = _text(record, "source", MAX_ID), _text(record, "external_id", MAX_ID)
    return (source, external_id, *_placement(record))


def parse_question(record: Any) -> Question:
    """A valid question from a raw record, or ContentError (API.md "Question types, passages,
    formatting, media": ``type`` single, multiple or numeric, each with its own key field)."""
    source, external_id, exam, subject, topic = _identity(record, "question", QUESTION_FIELDS)
    difficulty = _text(record, "difficulty", 20).lower()
    if difficulty not in DIFFICULTIES:
        raise ContentError(f"difficulty must be one of {', '.join(DIFFICULTIES)}")
    kind = _choice(record, "type", QUESTION_TYPES, "single")
    text_format = _choice(record, "format", TEXT_FORMATS, "text")
    keep = text_format == "latex"
    options: dict[str, str] = {}
    correct: str | None = None
    correct_set: tuple[str, ...] = ()
    answer: NumericAnswer | None = None
    if kind == "numeric":
        for name in ("options", "correct_option", "correct_options"):
            if record.get(name) not in (None, {}, [], ""):
                raise ContentError(f"a numeric question has no {name}; its key is answer")
        answer = _numeric_answer(record.get("answer"))
    else:
        if record.get("answer") is not None:
            raise ContentError(f"answer is for numeric questions; a {kind} question's key is "
                               f"{'correct_option' if kind == 'single' else 'correct_options'}")
        options = _options(record.get("options"), keep)
        if kind == "single":
            if record.get("correct_options") not in (None, []):
                raise ContentError("correct_options is for type multiple; a single question has correct_option")
            correct = _text(record, "correct_option", 1).upper()
            if correct not in options:
                raise ContentError(f"correct_option {correct!r} is not one of the options ({', '.join(options)})")
        else:
            if record.get("correct_option") not in (None, ""):
                raise ContentError("correct_option is for type single; a multiple question has correct_options")
            correct_set = _letter_set(record.get("correct_options"), options)
    explanation = record.get("explanation")
    if explanation is None or (isinstance(explanation, str) and not explanation.strip()):
        explanation = None
    else:
        explanation = _text(record, "explanation", keep=keep)
    return Question(content_id("question", source, external_id), source, external_id, exam, subject, topic,
                    difficulty, _text(record, "stem", keep=keep), options, correct, explanation, kind, correct_set,
                    answer, text_format, _passage(record.get("passage"), source, keep), _media(record.get("media")),
                    _year(record.get("year")), _optional_text(record, "paper", 200))


def _choice(record: Mapping[str, Any], name: str, allowed: tuple[str, ...], default: str) -> str:
    value = record.get(name)
    if value is None or (isinstance(value, str) and not value.strip()):
        return default
    if not isinstance(value, str) or value.strip().lower() not in allowed:
        raise ContentError(f"{name} must be one of {', '.join(allowed)}")
    return value.strip().lower()


def _optional_text(record: Mapping[str, Any], name: str, limit: int) -> str | None:
    value = record.get(name)
    if value is None or (isinstance(value, str) and not value.strip()):
        return None
    return _text(record, name, limit)


def _letter_set(raw: Any, options: Mapping[str, str]) -> tuple[str, ...]:
    """A multiple question's key: letters as a list, or a string ("AC", "A,C")."""
    if isinstance(raw, str):
        raw = [letter for letter in re.split(r"[\s,;]*", raw.strip()) if letter]
    if not isinstance(raw, list) or not raw or not all(isinstance(letter, str) for letter in raw):
        raise ContentError("correct_options must be a non-empty list of option letters")
    letters = sorted({letter.strip().upper() for letter in raw})
    stray = [letter for letter in letters if letter not in options]
    if stray:
        raise ContentError(f"correct_options {', '.join(stray)} not among the options ({', '.join(options)})")
    return tuple(letters)


def decimal_of(value: Any) -> Decimal | None:
    """A finite number as an exact decimal (a float by its shortest repr: 0.1 is 0.1), or None."""
    if isinstance(value, bool):
        return None
    if isinstance(value, float):
        return Decimal(repr(value)) if math.isfinite(value) else None
    if isinstance(value, int):
        return Decimal(value)
    if isinstance(value, str):
        try:
            number = Decimal(value.strip())
        except InvalidOperation:
            return None
        return number if number.is_finite() else None
    if isinstance(value, Decimal):
        return value if value.is_finite() else None
    return None


def json_number(value: Decimal) -> int | float:
    """A decimal for a JSON body: an int when whole, else the float of its digits."""
    return int(value) if value == value.to_integral_value() else float(value)


def _numeric_answer(raw: Any) -> NumericAnswer:
    if not isinstance(raw, Mapping):
        raise ContentError("answer must be {value, tolerance} or {min, max}")
    names = set(raw)
    if names == {"value", "tolerance"}:
        value, tolerance = decimal_of(raw["value"]), decimal_of(raw["tolerance"])
        if value is None or tolerance is None or tolerance < 0:
            raise ContentError("answer.value must be a finite number and answer.tolerance a number >= 0")
        return NumericAnswer(value - tolerance, value + tolerance, value, tolerance)
    if names == {"min", "max"}:
        low, high = decimal_of(raw["min"]), decimal_of(raw["max"])
        if low is None or high is None or low > high:
            raise ContentError("answer.min and answer.max must be finite numbers with min <= max")
        return NumericAnswer(low, high)
    raise ContentError("answer must be {value, tolerance} or {min, max}")


def _passage(raw: Any, source: str, keep: bool) -> Passage | None:
    if raw is None:
        return None
    if not isinstance(raw, Mapping) or set(raw) != {"passage_id", "text"}:
        raise ContentError("passage must be {passage_id, text}")
    given = _text(raw, "passage_id", MAX_ID)
    return Passage(content_id("passage", source, given), _text(raw, "text", MAX_PASSAGE, keep=keep), given)


def _media(raw: Any) -> tuple[MediaRef, ...]:
    if raw is None:
        return ()
    if not isinstance(raw, list) or len(raw) > MAX_MEDIA:
        raise ContentError(f"media must be a list of at most {MAX_MEDIA} {{media_id, alt}}")
    refs = []
    for entry in raw:
        if not isinstance(entry, Mapping) or set(entry) != {"media_id", "alt"}:
            raise ContentError("each media entry is {media_id, alt}")
        media_id = entry["media_id"]
        if not isinstance(media_id, str) or not MEDIA_ID.match(media_id):
            raise ContentError("media_id must be 8..64 letters, digits, - or _")
        refs.append(MediaRef(media_id, _text(entry, "alt", 500)))
    if len({ref.media_id for ref in refs}) != len(refs):
        raise ContentError("a media id appears twice")
    return tuple(refs)


def _year(raw: Any) -> int | None:
    if raw is None or (isinstance(raw, str) and not raw.strip()):
        return None
    if isinstance(raw, str) and raw.strip().isdigit():
        raw = int(raw.strip())
    last = datetime.now(UTC).year
    if isinstance(raw, bool) or not isinstance(raw, int) or not FIRST_YEAR <= raw <= last:
        raise ContentError(f"year must be a whole number from {FIRST_YEAR} to {last}")
    return raw


def content_hash(question: Question) -> str:
    """A digest of everything a student or a grader sees of the question, so a re-import can tell a
    changed record from an unchanged one."""
    canonical = json.dumps(question_record(question), sort_keys=True, ensure_ascii=False, separators=(",", ":"))
    return hashlib.sha256(canonical.encode()).hexdigest()


def key_text(question: Question) -> str:
    """The key in words, for a mistake card and an explanation ("B) text", "A) x; C) y", "12.5 (± 0.1)")."""
    kind = question.question_type
    answer = question.answer
    if kind == "numeric" and answer is not None:
        if answer.value is not None and answer.tolerance is not None:
            return f"{answer.value}" + (f" (± {answer.tolerance})" if answer.tolerance else "")
        return f"between {answer.low} and {answer.high}"
    options = dict(question.options)
    letters = question.correct_options if kind == "multiple" else (str(question.correct_option),)
    return "; ".join(f"{letter}) {options[letter]}" for letter in letters)


def parse_flashcard(record: Any) -> Flashcard:
    """A valid flashcard from a raw record, or ContentError."""
    source, external_id, exam, subject, topic = _identity(record, "flashcard", FLASHCARD_FIELDS)
    difficulty = record.get("difficulty")
    if isinstance(difficulty, str) and difficulty.strip().isdigit():
        difficulty = int(difficulty.strip())
    if isinstance(difficulty, bool) or not isinstance(difficulty, int) or not 1 <= difficulty <= 5:
        raise ContentError("difficulty must be a whole number from 1 to 5")
    return Flashcard(content_id("flashcard", source, external_id), source, external_id, exam, subject, topic,
                     _text(record, "question"), _text(record, "answer"), difficulty)


def question_record(question: Question) -> dict[str, Any]:
    """A question in its import form (the inverse of ``parse_question``)."""
    record: dict[str, Any] = {
        "source": question.source, "external_id": question.external_id, "exam_type": question.exam_type,
        "subject": question.subject, "topic": question.topic, "difficulty": question.difficulty,
        "type": question.question_type, "format": question.text_format, "stem": question.stem,
        "explanation": question.explanation}
    if question.question_type == "numeric" and question.answer is not None:
        record["answer"] = question.answer.record()
    else:
        record["options"] = dict(question.options)
        if question.question_type == "multiple":
            record["correct_options"] = list(question.correct_options)
        else:
            record["correct_option"] = question.correct_option
    if question.passage is not None:
        record["passage"] = {"passage_id": question.passage.external_id, "text": question.passage.text}
    if question.media:
        record["media"] = [{"media_id": ref.media_id, "alt": ref.alt} for ref in question.media]
    for name in ("year", "paper"):
        if getattr(question, name) is not None:
            record[name] = getattr(question, name)
    return record


class Response(NamedTuple):
    """A student's answer, in the field of its question's type."""

    option: str | None = None  # single
    options: tuple[str, ...] = ()  # multiple: the set, in letter order
    number: Decimal | None = None  # numeric

    def key(self) -> str:
        """The answer as one string (the explanation kept for it, the activity's record)."""
        if self.number is not None:
            return str(self.number)
        return self.option if self.option is not None else ",".join(self.options)


def is_right(question: Question, response: Response) -> bool:
    """Exact grading: the option, the whole set (all or nothing), or a number within the key's range."""
    if question.question_type == "numeric":
        return question.answer is not None and response.number is not None and question.answer.accepts(response.number)
    if question.question_type == "multiple":
        return bool(response.options) and tuple(sorted(set(response.options))) == question.correct_options
    return response.option is not None and response.option == question.correct_option
