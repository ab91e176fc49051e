"""Choosing a student's next practice question (pure): which topic needs work most, which
question of it, and why (API.md "Adaptive practice").

Topic need. Every syllabus topic under the request's filters gets

    need = (1 - mastery) * sqrt(weightage / mean weightage) * (ROADMAP_BOOST if in this roadmap week)

mastery = sigmoid(theta - b_median) (mindly.domain.mastery), 0.5 for a topic never answered (the
prior theta = 0): a weak topic outranks a new one, a new one a strong one. weightage is the
topic's share of the exam's marks (mindly.domain.syllabus.chapter_weightage); the square root
lets a heavy chapter count without drowning mastery (GATE's General Aptitude chapters weigh 3.75
times a Compiler Design chapter, and rank as if 1.9 times). Topics named by the current week of
the student's latest roadmap are multiplied by ROADMAP_BOOST, 1.5. Ties keep syllabus order.

Question. Within the chosen topic, the question whose predicted chance of success
P = c + (1 - c) * sigmoid(theta - b) is nearest TARGET_CHANCE (0.75: hard enough to teach, easy
enough to keep a student going), never one answered recently: a question comes back once its last
answer's local day is more than RECENT_DAYS (7) days before today, so at least 7 whole days have
passed since it whatever the hour. Ties go to the smaller question id, so the choice is
deterministic.

Reason. ``mistake_due`` is decided before any topic (a due mistake card's question, not answered
recently); for a topic: ``roadmap_week`` when the current roadmap week names it, else ``new_topic``
when the student never answered it, ``weak_topic`` below MASTERED (0.8) mastery, and ``stretch``
for a topic already mastered (all that needed work more had nothing left to ask).

Read windows. A topic's candidates are read from a point that moves with every answer the student
gives in it (``window_point``), so a student who has answered the first questions of a big topic
is shown others next, and the same state always reads the same window.
"""

from __future__ import annotations

import hashlib
import math
from collections.abc import Iterable, Mapping, Sequence
from datetime import date
from typing import Any, NamedTuple

from mindly.domain import mastery, syllabus

TARGET_CHANCE = 0.75
RECENT_DAYS = 7
MASTERED = 0.8
ROADMAP_BOOST = 1.5
REASONS = ("mistake_due", "weak_topic", "new_topic", "roadmap_week", "stretch")


class TopicState(NamedTuple):
    """What the selection knows of one topic for one student."""

    subject: str
    topic: str
    ability: mastery.Ability
    weightage: float  # percent of the exam's marks
    in_roadmap_week: bool = False

    @property
    def mastery(self) -> float:
        return mastery.mastery(self.ability)


class Candidate(NamedTuple):
    """A question that may be asked, with its predicted chance of success for this student."""

    question_id: str
    subject: str
    topic: str
    p_correct: float


def topic_need(state: TopicState, mean_weightage: float) -> float:
    """How much a topic needs work: (1 - mastery) * sqrt(weightage / mean) * the roadmap boost."""
    weight = math.sqrt(state.weightage / mean_weightage) if mean_weightage > 0 else 1.0
    return (1.0 - state.mastery) * weight * (ROADMAP_BOOST if state.in_roadmap_week else 1.0)


def rank_topics(states: Sequence[TopicState], mean_weightage: float) -> list[TopicState]:
    """The topics, the one needing work most first (a stable sort: ties keep the given order)."""
    return sorted(states, key=lambda state: -topic_need(state, mean_weightage))


def mean_weightage(exam: str) -> float:
    """The mean chapter weightage of an exam (percent): the unit of ``topic_need``'s weight."""
    weights = [syllabus.chapter_weightage(exam, s.name, t) for s in syllabus.subjects(exam) for t in s.topics]
    return sum(weights) / len(weights)


def reason_for(state: TopicState) -> str:
    """Why a question of this topic is asked (see the module docstring)."""
    if state.in_roadmap_week:
        return "roadmap_week"
    if state.ability.answers == 0:
        return "new_topic"
    if state.mastery < MASTERED:
        return "weak_topic"
    return "stretch"


def answered_recently(last_day: date | None, today: date) -> bool:
    """Whether a question last answered on local day ``last_day`` is still too recent to ask again."""
    return last_day is not None and (today - last_day).days <= RECENT_DAYS


def nearest_target(candidates: Iterable[Candidate]) -> Candidate | None:
    """The candidate whose predicted chance is nearest TARGET_CHANCE (ties: the smaller id)."""
    return min(candidates, key=lambda c: (abs(c.p_correct - TARGET_CHANCE), c.question_id), default=None)


def choose(ranked: Sequence[TopicState], eligible: Mapping[tuple[str, str], Sequence[Candidate]]
           ) -> tuple[TopicState, Candidate] | None:
    """The first topic of ``ranked`` with an eligible candidate, and its candidate nearest the
    target; None when no ranked topic has one."""
    for state in ranked:
        best = nearest_target(eligible.get((state.subject, state.topic), ()))
        if best is not None:
            return state, best
    return None


def window_point(student_id: str, subject: str, topic: str, answers: int, day: date) -> str:
    """Where a topic's candidate window starts for this student: 8 hex digits (question ids are
    sha-256 hex, so this is a uniform point among them), from the student, the topic, the answers
    given in it and the day."""
    seed = "\x1f".join((student_id, subject, topic, str(answers), day.isoformat()))
    return hashlib.sha256(seed.encode()).hexdigest()[:8]


def roadmap_week_topics(roadmap: Mapping[str, Any] | None, exam: str, started: date | None, today: date
                        ) -> set[tuple[str, str]]:
    """The (subject, topic) pairs of the roadmap week ``today`` falls in, for a roadmap of ``exam``
    whose week 1 began on ``started``: the topics the week names that the syllabus knows (matched
    case-insensitively, in the week's focus subjects first), or every topic of its focus subjects
    when it names none (a revision week). Empty before week 1, after the last week, and for a
    roadmap of another exam."""
    if not roadmap or started is None or str(roadmap.get("exam_type", "")).upper() != exam:
        return set()
    number = (today - started).days // 7 + 1
    week = next((w for w in roadmap.get("weeks") or [] if isinstance(w, Mapping) and w.get("week") == number), None)
    if week is None or number < 1:
        return set()
    focus = [name for name in (syllabus.canonical_subject(exam, str(s)) for s in week.get("focus_subjects") or [])
             if name is not None]
    order = focus + [s.name for s in syllabus.subjects(exam) if s.name not in focus]
    found: set[tuple[str, str]] = set()
    for named in week.get("topics") or []:
        for subject in order:
            topic = syllabus.canonical_topic(exam, subject, str(named))
            if topic is not None:
                found.add((subject, topic))
                break
    if not found:
        found = {(s.name, t) for s in syllabus.subjects(exam) if s.name in focus for t in s.topics}
    return found
