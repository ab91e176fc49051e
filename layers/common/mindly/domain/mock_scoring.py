"""Scoring a finished mock test exactly by its pattern.

Every question of the paper comes with its section and its question group (the marks), and the
saved answer, if any. Each question has one outcome:

- ``correct``: the key exactly (``content.is_right``: the option, the whole set, or a number inside
  the numeric key's exact range); the group's ``marks_correct``;
- ``partial`` (only in a group with ``partial_marks_per_option``, JEE Advanced style): a multiple
  question answered with some, not all, of the right options and no wrong one; that many marks per
  right option chosen. It counts as attempted but as neither correct nor wrong: accuracy (correct /
  attempted) and the attempts fed to calibration stay all-or-nothing, while the marks reward it;
- ``wrong``: anything else answered; ``marks_wrong`` (the -2 of the partial rule too);
- ``unattempted``: no answer in the field of the question's type (never saved, or cleared);
  ``marks_unattempted``.

Totals are exact fractions (three UPSC GS wrong answers are -1.98, a wrong 2-mark GATE MCQ is -2/3),
negative totals included; ``result_view`` rounds only at the edge (exam_patterns.display).
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from fractions import Fraction
from typing import Any, NamedTuple

from mindly.domain.content import Question, Response, is_right
from mindly.domain.exam_patterns import ExamPattern, QuestionGroup, shown
from mindly.domain.mock_assembly import PaperQuestion

OUTCOMES = ("correct", "partial", "wrong", "unattempted")
ACCURACY_PLACES = 4


class MarkedQuestion(NamedTuple):
    """A question of the paper: its number, its section's name, the group that marks it."""

    number: int
    section: str
    group: QuestionGroup
    question: Question


class SavedAnswer(NamedTuple):
    """What the student left on a question: a response (None when cleared) and the seconds spent."""

    response: Response | None = None
    time_spent_seconds: int = 0


class QuestionScore(NamedTuple):
    number: int
    outcome: str
    marks: Fraction
    time_spent_seconds: int


class SectionScore(NamedTuple):
    name: str
    score: Fraction
    max_score: Fraction
    correct: int
    partial: int
    wrong: int
    unattempted: int
    time_spent_seconds: int


class MockResult(NamedTuple):
    score: Fraction
    max_score: Fraction
    sections: tuple[SectionScore, ...]
    questions: tuple[QuestionScore, ...]  # in question-number order

    def count(self, outcome: str) -> int:
        return sum(1 for question in self.questions if question.outcome == outcome)

    @property
    def attempted(self) -> int:
        return len(self.questions) - self.count("unattempted")

    @property
    def percent(self) -> Fraction:
        """Score as a percentage of max_score; below 0 when negative marking outweighs the rest."""
        return self.score * 100 / self.max_score

    @property
    def accuracy(self) -> Fraction | None:
        """correct / attempted (a partial answer is attempted, not correct); None with nothing attempted."""
        return Fraction(self.count("correct"), self.attempted) if self.attempted else None

    @property
    def time_spent_seconds(self) -> int:
        return sum(question.time_spent_seconds for question in self.questions)

    @property
    def time_per_question_seconds(self) -> Fraction | None:
        """All the time spent (skipped questions cost time too) per attempted question; None with
        nothing attempted."""
        return Fraction(self.time_spent_seconds, self.attempted) if self.attempted else None


def attempted(question: Question, response: Response | None) -> bool:
    """Whether ``response`` answers ``question`` in its type's field (other fields are ignored)."""
    if response is None:
        return False
    if question.question_type == "numeric":
        return response.number is not None
    if question.question_type == "multiple":
        return bool(response.options)
    return response.option is not None


def mark(group: QuestionGroup, question: Question, response: Response | None) -> tuple[str, Fraction]:
    """The outcome of one question and the marks it gives under ``group``."""
    if not attempted(question, response):
        return "unattempted", group.marks_unattempted
    assert response is not None  # attempted() said so
    if is_right(question, response):
        return "correct", group.marks_correct
    if group.partial_marks_per_option is not None and question.question_type == "multiple":
        chosen = set(response.options)
        if chosen <= set(question.correct_options):
            return "partial", len(chosen) * group.partial_marks_per_option
    return "wrong", group.marks_wrong


def marked_paper(pattern: ExamPattern, paper: Iterable[PaperQuestion],
                 questions: Mapping[str, Question]) -> list[MarkedQuestion]:
    """The assembled paper with each question and the group that marks it; KeyError for a question
    id missing from ``questions``."""
    return [MarkedQuestion(item.number, item.section, pattern.section(item.section).groups[item.group_index],
                           questions[item.question_id]) for item in paper]


def score_paper(pattern: ExamPattern, paper: Iterable[MarkedQuestion],
                answers: Mapping[int, SavedAnswer]) -> MockResult:
    """The result of a finished paper. ``paper`` must hold exactly the pattern's questions (per
    section and group, by type and count) and ``answers`` only numbers of the paper; a question
    without an entry is unattempted with no time. ValueError otherwise: a paper that does not fit
    its pattern is a bug upstream, never something to score quietly."""
    items = sorted(paper, key=lambda item: item.number)
    _check_fit(pattern, items, answers)
    scores: list[QuestionScore] = []
    by_section: dict[str, list[QuestionScore]] = {section.name: [] for section in pattern.sections}
    for item in items:
        saved = answers.get(item.number, SavedAnswer())
        if saved.time_spent_seconds < 0:
            raise ValueError(f"question {item.number}: time spent is negative")
        outcome, marks = mark(item.group, item.question, saved.response)
        scored = QuestionScore(item.number, outcome, marks, saved.time_spent_seconds)
        scores.append(scored)
        by_section[item.section].append(scored)
    sections = tuple(_section_score(section.name, section.max_score, by_section[section.name])
                     for section in pattern.sections)
    total = sum((section.score for section in sections), Fraction(0))
    return MockResult(total, pattern.max_score, sections, tuple(scores))


def _section_score(name: str, max_score: Fraction, scores: list[QuestionScore]) -> SectionScore:
    tally = {outcome: sum(1 for score in scores if score.outcome == outcome) for outcome in OUTCOMES}
    return SectionScore(name, sum((score.marks for score in scores), Fraction(0)), max_score, tally["correct"],
                        tally["partial"], tally["wrong"], tally["unattempted"],
                        sum(score.time_spent_seconds for score in scores))


def _check_fit(pattern: ExamPattern, items: list[MarkedQuestion], answers: Mapping[int, SavedAnswer]) -> None:
    numbers = [item.number for item in items]
    if len(set(numbers)) != len(numbers):
        raise ValueError("a question number appears twice in the paper")
    stray = sorted(set(answers) - set(numbers))
    if stray:
        raise ValueError(f"answers for question(s) not in the paper: {stray[:5]}")
    wanted = {(section.name, index): group.count for section in pattern.sections
              for index, group in enumerate(section.groups)}
    held: dict[tuple[str, int], int] = {}
    for item in items:
        if item.question.question_type != item.group.question_type:
            raise ValueError(f"question {item.number} is {item.question.question_type}, its group "
                             f"{item.group.question_type}")
        try:
            index = pattern.section(item.section).groups.index(item.group)
        except (KeyError, ValueError) as exc:
            raise ValueError(f"question {item.number}: no such section and group in {pattern.pattern_id}") from exc
        held[(item.section, index)] = held.get((item.section, index), 0) + 1
    if held != wanted:
        raise ValueError(f"the paper does not hold {pattern.pattern_id}'s questions by section and group")


def result_view(result: MockResult) -> dict[str, Any]:
    """The scoring part of API.md's result: marks and percent to 2 decimals, accuracy (0..1) to 4,
    time per question to 2 (null for both with nothing attempted). Sections also carry ``partial``;
    correct + partial + wrong + unattempted is the section's question count."""
    accuracy, pace = result.accuracy, result.time_per_question_seconds
    return {
        "score": shown(result.score), "max_score": shown(result.max_score), "percent": shown(result.percent),
        "sections": [{"name": section.name, "score": shown(section.score), "max_score": shown(section.max_score),
                      "correct": section.correct, "partial": section.partial, "wrong": section.wrong,
                      "unattempted": section.unattempted, "time_spent_seconds": section.time_spent_seconds}
                     for section in result.sections],
        "accuracy": None if accuracy is None else shown(accuracy, ACCURACY_PLACES),
        "attempted": result.attempted,
        "time_per_question_seconds": None if pace is None else shown(pace),
    }
