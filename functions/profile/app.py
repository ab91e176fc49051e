"""Profile function: the student's study profile and the public syllabus (API.md "Profile")."""

from __future__ import annotations

from datetime import date
from typing import Annotated, Literal

from pydantic import Field, Strict

from mindly.http.app import API_PREFIX, create_app, error_responses, lambda_handler
from mindly.http.auth import CurrentUser
from mindly.http.envelope import Envelope
from mindly.http.schemas import AnswerData, RequestBody, answers
from mindly.services import profile

app = create_app("profile")


class ProfileRequest(RequestBody):
    exam_type: str = Field(max_length=20)
    level: str = Field(max_length=20)
    study_hours_per_day: float = Field(ge=0.5, le=16)
    target_date: Annotated[date, Strict(False)]
    weak_subjects: list[Annotated[str, Field(max_length=100)]] = Field(max_length=20)
    daily_goal: int | None = Field(default=None, ge=1, le=500)
    timezone: str | None = Field(default=None, max_length=64)
    new_cards_per_day: int | None = Field(default=None, ge=0, le=200)
    scheduler: Literal["sm2", "fsrs"] | None = None


# The exams Mindly prepares for (mindly.domain.syllabus.EXAM_TYPES; a test keeps the two equal).
ExamType = Literal["UPSC", "GATE", "JEE", "CAT", "NEET"]


class ProfileView(AnswerData):
    """The student's study profile, every field filled (omitted ones took their defaults)."""

    exam_type: ExamType
    level: Literal["beginner", "intermediate", "advanced"]
    study_hours_per_day: float
    target_date: date
    weak_subjects: list[str] = Field(description="canonical subject names of the exam, no repeats")
    daily_goal: int = Field(description="questions a day")
    timezone: str = Field(description="IANA time zone the student's days are counted in")
    new_cards_per_day: int
    scheduler: Literal["sm2", "fsrs"]


class SyllabusSubject(AnswerData):
    subject: str
    topics: list[str]


class Syllabus(AnswerData):
    """An exam's subjects and their topics, in syllabus order."""

    exam_type: ExamType
    name: str
    subjects: list[SyllabusSubject]


@app.get(f"{API_PREFIX}/profile", responses=error_responses(404), operation_id="getProfile")
@answers(ProfileView)
def get_profile(user: CurrentUser) -> Envelope:
    return Envelope(profile.get_profile(user.id))


@app.put(f"{API_PREFIX}/profile", operation_id="updateProfile")
@answers(ProfileView)
def put_profile(user: CurrentUser, body: ProfileRequest) -> Envelope:
    return Envelope(profile.put_profile(
        user.id, body.exam_type, body.level, body.study_hours_per_day, body.target_date,
        body.weak_subjects, body.daily_goal, body.timezone, new_cards_per_day=body.new_cards_per_day,
        scheduler=body.scheduler,
    ))


@app.get(f"{API_PREFIX}/syllabus/{{exam}}", operation_id="getSyllabus")
@answers(Syllabus)
def get_syllabus(exam: str) -> Envelope:
    return Envelope(profile.syllabus_of(exam))


handler = lambda_handler(app)
