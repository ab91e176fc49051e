"""Choosing a mock test's questions for a pattern from the bank's candidates (pure: the store
gathers the candidates, this decides).

Subjects. A section with one subject takes all its questions from it (JEE Main and NEET have a
section per subject). A section listing several (GATE's technical section, UPSC GS Paper I) splits
each question group over its subjects in proportion to the syllabus weightage
(``syllabus.subject_weightage``), by the Sainte-Lague (Webster) divisor method: one question at a
time to the subject with the highest weight / (2 * questions so far + 1), counted over the
section's groups in pattern order, ties to the subject listed first. Counting across groups keeps
the section's totals proportional even where a small group (5 GATE MSQs over 10 subjects) cannot
be; the method never takes a question back, so every group's share is whole and non-negative.

Difficulty. Each pool (section, subject, type) aims at 30% easy, 50% medium, 20% hard of what it
needs, rounded by the same method (a tie goes to medium). Unseen questions come first, before the
spread: a seen question is used only when no unseen one of any difficulty is left, since a
repeated question inflates a mock score more than a slightly different spread does. A level that
runs short is filled from the nearest level (medium, then easy, then hard). Within a pool, the
easier questions go to the group with the lower marks (GATE's 1-mark before its 2-mark MCQs).

Order and determinism. Candidates are ranked by sha-256 of (seed, question id), never by the order
the store returned them, so the same seed (the mock_test_id) and the same candidates give the same
paper. Questions are numbered 1..N through the sections and groups in pattern order, by subject
in the section's order within a group.

Shortfall. When a pool has fewer distinct candidates than it needs, nothing is chosen: the
exception lists every short pool ``{section, subject, type, needed, available}`` (API.md's 422
INSUFFICIENT_CONTENT), so a paper is never silently short.
"""

from __future__ import annotations

import hashlib
from collections.abc import Iterable, Mapping, Sequence
from fractions import Fraction
from typing import Any, NamedTuple

from mindly.domain import syllabus
from mindly.domain.content import DIFFICULTIES
from mindly.domain.exam_patterns import ExamPattern

DIFFICULTY_SPREAD: dict[str, int] = {"easy": 30, "medium": 50, "hard": 20}  # percent of each pool
_FALLBACK = ("medium", "easy", "hard")  # the nearest level first, whichever one ran short


class Candidate(NamedTuple):
    """A bank question that fits a pool, and whether the student has answered it before."""

    question_id: str
    seen: bool = False


class PaperQuestion(NamedTuple):
    number: int
    section: str
    group_index: int  # into the section's groups
    subject: str
    question_id: str
    difficulty: str


class Missing(NamedTuple):
    section: str
    subject: str
    question_type: str
    needed: int
    available: int

    def view(self) -> dict[str, Any]:
        """API.md's shape for one short pool."""
        return {"section": self.section, "subject": self.subject, "type": self.question_type,
                "needed": self.needed, "available": self.available}


class InsufficientContent(ValueError):
    """The bank cannot fill the pattern; ``missing`` lists every short pool in pattern order."""

    def __init__(self, missing: Sequence[Missing]) -> None:
        self.missing = tuple(missing)
        super().__init__("not enough questions: " + "; ".join(
            f"{m.section} / {m.subject} / {m.question_type}: {m.available} of {m.needed}" for m in self.missing))


class _Pick(NamedTuple):
    question_id: str
    difficulty: str
    seen: bool
    rank: str


PoolKey = tuple[str, str, str]  # (section, subject, question type)
CandidateKey = tuple[str, str, str, str]  # (section, subject, question type, difficulty)


def _deal(seats: int, weights: Sequence[Fraction], held: list[int]) -> list[int]:
    """``seats`` more seats by Sainte-Lague over ``weights``, after ``held`` (updated in place);
    returns this round's seats per party. Ties go to the earlier party."""
    new = [0] * len(weights)
    for _ in range(seats):
        best = max(range(len(weights)), key=lambda i: (weights[i] / (2 * held[i] + 1), -i))
        held[best] += 1
        new[best] += 1
    return new


def subject_split(pattern: ExamPattern) -> dict[tuple[str, int], dict[str, int]]:
    """Per (section name, group index), how many of the group's questions each subject gives."""
    split: dict[tuple[str, int], dict[str, int]] = {}
    for section in pattern.sections:
        weights = [Fraction(syllabus.subject_weightage(pattern.exam_type, subject)) for subject in section.subjects]
        held = [0] * len(weights)
        for index, group in enumerate(section.groups):
            split[(section.name, index)] = dict(zip(section.subjects, _deal(group.count, weights, held), strict=True))
    return split


def needs(pattern: ExamPattern) -> dict[PoolKey, int]:
    """How many questions each pool (section, subject, type) must supply, in pattern order; what
    the store has to gather candidates for."""
    needed: dict[PoolKey, int] = {}
    split = subject_split(pattern)
    for section in pattern.sections:
        for index, group in enumerate(section.groups):
            for subject, count in split[(section.name, index)].items():
                if count:
                    key = (section.name, subject, group.question_type)
                    needed[key] = needed.get(key, 0) + count
    return needed


def difficulty_targets(needed: int) -> dict[str, int]:
    """How many easy, medium and hard questions a pool of ``needed`` aims at (DIFFICULTY_SPREAD)."""
    # Dealt in _FALLBACK order so that a tie (5 questions: 1.5 easy, 2.5 medium) goes to medium.
    shares = _deal(needed, [Fraction(DIFFICULTY_SPREAD[level]) for level in _FALLBACK], [0] * len(_FALLBACK))
    return {level: dict(zip(_FALLBACK, shares, strict=True))[level] for level in DIFFICULTIES}


def assemble_paper(pattern: ExamPattern, candidates: Mapping[CandidateKey, Iterable[Candidate]],
                   seed: str) -> tuple[PaperQuestion, ...]:
    """The paper for ``pattern`` from ``candidates`` keyed by (section, subject, type, difficulty).

    InsufficientContent when any pool is short; ValueError for a difficulty that is not one of
    ours or a question offered to two pools."""
    pools = _pools(candidates, seed)
    needed = needs(pattern)
    missing = [Missing(section, subject, kind, count, len(pools.get((section, subject, kind), [])))
               for (section, subject, kind), count in needed.items()
               if len(pools.get((section, subject, kind), [])) < count]
    if missing:
        raise InsufficientContent(missing)
    dealt: dict[tuple[str, int, str], list[_Pick]] = {}
    split = subject_split(pattern)
    for (section_name, subject, kind), count in needed.items():
        chosen = sorted(_choose(pools[(section_name, subject, kind)], count),
                        key=lambda pick: (DIFFICULTIES.index(pick.difficulty), pick.rank))
        section = pattern.section(section_name)
        groups = sorted((index for index, group in enumerate(section.groups) if group.question_type == kind),
                        key=lambda index: (section.groups[index].marks_correct, index))
        for index in groups:
            share = split[(section_name, index)][subject]
            dealt[(section_name, index, subject)], chosen = chosen[:share], chosen[share:]
    return _number(pattern, dealt)


def _pools(candidates: Mapping[CandidateKey, Iterable[Candidate]], seed: str) -> dict[PoolKey, list[_Pick]]:
    """Candidates per pool, each question once (its first difficulty in easy, medium, hard order),
    ranked by the seed."""
    pools: dict[PoolKey, dict[str, _Pick]] = {}
    owner: dict[str, PoolKey] = {}
    for (section, subject, kind, difficulty) in sorted(candidates, key=lambda key: (key[:3], _level(key[3]))):
        pool = pools.setdefault((section, subject, kind), {})
        for candidate in candidates[(section, subject, kind, difficulty)]:
            first = owner.setdefault(candidate.question_id, (section, subject, kind))
            if first != (section, subject, kind):
                raise ValueError(f"question {candidate.question_id} is offered to two pools")
            rank = _rank(seed, candidate.question_id)
            pool.setdefault(candidate.question_id, _Pick(candidate.question_id, difficulty, candidate.seen, rank))
    return {key: sorted(pool.values(), key=lambda pick: (pick.rank, pick.question_id)) for key, pool in pools.items()}


def _level(difficulty: str) -> int:
    if difficulty not in DIFFICULTIES:
        raise ValueError(f"difficulty {difficulty!r} is none of {', '.join(DIFFICULTIES)}")
    return DIFFICULTIES.index(difficulty)


def _rank(seed: str, question_id: str) -> str:
    return hashlib.sha256(f"{seed}\x1f{question_id}".encode()).hexdigest()


def _choose(pool: list[_Pick], needed: int) -> list[_Pick]:
    """``needed`` picks from a ranked pool: unseen before seen; within each, the difficulty targets
    first, then the nearest levels."""
    targets = difficulty_targets(needed)
    chosen: list[_Pick] = []
    taken: set[str] = set()

    def take(picks: Iterable[_Pick], limit: int) -> None:
        for pick in picks:
            if limit <= 0:
                return
            if pick.question_id not in taken:
                chosen.append(pick)
                taken.add(pick.question_id)
                limit -= 1

    for seen in (False, True):
        batch = [pick for pick in pool if pick.seen is seen]
        for level in DIFFICULTIES:
            have = sum(1 for pick in chosen if pick.difficulty == level)
            take((pick for pick in batch if pick.difficulty == level), min(targets[level] - have, needed - len(chosen)))
        take(sorted(batch, key=lambda pick: _FALLBACK.index(pick.difficulty)), needed - len(chosen))
    return chosen


def _number(pattern: ExamPattern, dealt: Mapping[tuple[str, int, str], list[_Pick]]) -> tuple[PaperQuestion, ...]:
    paper: list[PaperQuestion] = []
    for section in pattern.sections:
        for index in range(len(section.groups)):
            for subject in section.subjects:
                for pick in sorted(dealt.get((section.name, index, subject), []), key=lambda p: p.rank):
                    paper.append(PaperQuestion(len(paper) + 1, section.name, index, subject, pick.question_id,
                                               pick.difficulty))
    return tuple(paper)
