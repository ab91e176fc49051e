"""Questions and flashcards as plain values, and the rules a record must meet to enter the bank.

Records come from imports (JSON, JSON Lines, CSV, the AQuA-RAT mapping) and the admin API; every
path goes through ``parse_question`` / ``parse_flashcard``, which either return a clean record or
raise ContentError naming what is wrong. Ids are derived from (source, external_id), so importing
the same record twice addresses the same item.
"""

from __future__ import annotations

import hashlib
from collections.abc import Mapping
from typing import Any, NamedTuple

from mindly.domain import syllabus

OPTION_LETTERS = ("A", "B", "C", "D", "E")
MIN_OPTIONS = 4
DIFFICULTIES = ("easy", "medium", "hard")
MAX_TEXT = 5000
MAX_ID = 200

QUESTION_FIELDS = {"source", "external_id", "exam_type", "subject", "topic", "difficulty", "stem", "options",
                   "correct_option", "explanation"}
FLASHCARD_FIELDS = {"source", "external_id", "exam_type", "subject", "topic", "question", "answer", "difficulty"}


class ContentError(ValueError):
    """A record that cannot enter the bank; the message says why (safe to show to an admin)."""


class Question(NamedTuple):
    question_id: str
    source: str
    external_id: str
    exam_type: str
    subject: str
    topic: str
    difficulty: str
    stem: str
    options: dict[str, str]
    correct_option: str
    explanation: str


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


def _text(record: Mapping[str, Any], name: str, limit: int = MAX_TEXT) -> str:
    value = record.get(name)
    if not isinstance(value, str) or not value.strip():
        raise ContentError(f"{name} is required (non-empty text)")
    if len(value) > limit:
        raise ContentError(f"{name} is longer than {limit} characters")
    return value.strip()


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


def _options(raw: Any) -> dict[str, str]:
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
        options[letter] = text.strip()
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
    """A valid question from a raw record, or ContentError."""
    source, external_id, exam, subject, topic = _identity(record, "question", QUESTION_FIELDS)
    difficulty = _text(record, "difficulty", 20).lower()
    if difficulty not in DIFFICULTIES:
        raise ContentError(f"difficulty must be one of {', '.join(DIFFICULTIES)}")
    options = _options(record.get("options"))
    correct = _text(record, "correct_option", 1).upper()
    if correct not in options:
        raise ContentError(f"correct_option {correct!r} is not one of the options ({', '.join(options)})")
    return Question(content_id("question", source, external_id), source, external_id, exam, subject, topic,
                    difficulty, _text(record, "stem"), options, correct, _text(record, "explanation"))


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
    return {"source": question.source, "external_id": question.external_id, "exam_type": question.exam_type,
            "subject": question.subject, "topic": question.topic, "difficulty": question.difficulty,
            "stem": question.stem, "options": dict(question.options), "correct_option": question.correct_option,
            "explanation": question.explanation}
