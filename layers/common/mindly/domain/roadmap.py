"""Study roadmaps: the schema every roadmap must fit (Groq's or the offline generator's) and the
offline generator itself.

The offline generator plans week by week from the bundled syllabus: each subject gets weeks in
proportion to its weight (weak subjects count double; beginners spend longer on every subject, so
fewer topics a week), topics are taken in syllabus order, and the last weeks before the exam are
revision weeks (about one in six, at least one when the plan is three weeks or longer).
"""

from __future__ import annotations

import math
from typing import Any

from pydantic import BaseModel, Field, model_validator

from mindly.domain import syllabus

MAX_WEEKS = 36 * 5  # 36 months


class RoadmapWeek(BaseModel):
    week: int = Field(ge=1)
    focus_subjects: list[str] = Field(min_length=1, max_length=6)
    topics: list[str] = Field(max_length=20)
    hours_per_day: float = Field(gt=0, le=16)
    goals: list[str] = Field(min_length=1, max_length=10)
    revision: bool = False


class Roadmap(BaseModel):
    exam_type: str
    level: str
    total_weeks: int = Field(ge=1, le=MAX_WEEKS)
    source: str = "offline"
    weeks: list[RoadmapWeek]

    @model_validator(mode="after")
    def _consistent(self) -> Roadmap:
        if [w.week for w in self.weeks] != list(range(1, self.total_weeks + 1)):
            raise ValueError("weeks must be numbered 1..total_weeks, one entry per week")
        code = syllabus.normalize_exam(self.exam_type)
        if code is None:
            raise ValueError("unknown exam")
        known = {s.name for s in syllabus.subjects(code)}
        for week in self.weeks:
            unknown = [s for s in week.focus_subjects if s not in known]
            if unknown:
                raise ValueError(f"week {week.week}: not subjects of {code}: {unknown[:3]}")
        return self


def weeks_for(months: int) -> int:
    """Whole weeks in ``months`` months (at least one)."""
    return max(1, math.floor(months * 52 / 12))


def offline_roadmap(exam: str, level: str, months: int, weak_subjects: list[str], hours_per_day: float) -> Roadmap:
    """A week-by-week plan built without Groq (see the module docstring)."""
    subjects = syllabus.subjects(exam)
    total = min(MAX_WEEKS, weeks_for(months))
    revision = 0 if total < 3 else max(1, round(total / 6))
    study_weeks = total - revision
    weak = set(weak_subjects)
    weights = {s.name: (2.0 if s.name in weak else 1.0) * (1 + len(s.topics) / 10) for s in subjects}
    share = {name: weight / sum(weights.values()) for name, weight in weights.items()}
    # Every subject gets at least one week when there are weeks enough; the rest go by share.
    allotted = {name: (1 if study_weeks >= len(subjects) else 0) for name in share}
    spare = study_weeks - sum(allotted.values())
    for name in sorted(share, key=lambda n: (-share[n], n)):
        extra = math.floor(share[name] * spare)
        allotted[name] += extra
    leftover = study_weeks - sum(allotted.values())
    for name in sorted(share, key=lambda n: (-share[n], n))[:max(0, leftover)]:
        allotted[name] += 1
    per_week_factor = {"beginner": 0.75, "intermediate": 1.0, "advanced": 1.25}.get(level, 1.0)
    weeks: list[RoadmapWeek] = []
    for subject in subjects:
        count = allotted[subject.name]
        if count == 0:
            continue
        per_week = max(1, math.ceil(len(subject.topics) * per_week_factor / count))
        for index in range(count):
            chunk = list(subject.topics[index * per_week:(index + 1) * per_week]) or list(subject.topics[-1:])
            weeks.append(RoadmapWeek(
                week=len(weeks) + 1, focus_subjects=[subject.name], topics=chunk, hours_per_day=hours_per_day,
                goals=[f"Study {', '.join(chunk)}", f"Practise 20 {subject.name} questions a day",
                       "Review the day's flashcards"], revision=False))
    # Subjects left without a week (very short plans) share the first weeks as extra focus.
    unplaced = [s.name for s in subjects if allotted[s.name] == 0]
    for offset, name in enumerate(unplaced):
        if weeks:
            target = weeks[offset % len(weeks)]
            if len(target.focus_subjects) < 6:
                target.focus_subjects.append(name)
    order = sorted(subjects, key=lambda s: (s.name not in weak, s.name))
    for index in range(revision):
        focus = [s.name for s in order[index * 3 % len(order):][:3]] or [order[0].name]
        weeks.append(RoadmapWeek(
            week=len(weeks) + 1, focus_subjects=focus, topics=[], hours_per_day=hours_per_day,
            goals=["Revise weak topics and your mistake cards", "Take one full-length mock test",
                   "Clear every flashcard due"], revision=True))
    if not weeks:  # a one- or two-week plan with more subjects than weeks
        weeks.append(RoadmapWeek(week=1, focus_subjects=[s.name for s in order[:6]], topics=[],
                                 hours_per_day=hours_per_day, goals=["Revise the syllabus"], revision=True))
    while len(weeks) < total:  # rounding left a week over: one more revision week
        weeks.append(RoadmapWeek(week=len(weeks) + 1, focus_subjects=[order[0].name], topics=[],
                                 hours_per_day=hours_per_day, goals=["Revise weak topics"], revision=True))
    return Roadmap(exam_type=exam, level=level, total_weeks=total, source="offline", weeks=weeks[:total])


def profile_fingerprint(exam: str, level: str, months: int, weak_subjects: list[str], hours: float) -> dict[str, Any]:
    """What makes two roadmap requests identical."""
    return {"exam": exam, "level": level, "months": months, "weak": sorted(weak_subjects), "hours": hours}
