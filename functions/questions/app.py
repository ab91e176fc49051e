"""Questions function: MCQ practice, submitting answers and the student's attempts (API.md "Questions")."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Annotated, Literal

from fastapi import Query
from pydantic import Field

from mindly.config import get_settings
from mindly.http.app import API_PREFIX, create_app, error_responses, lambda_handler
from mindly.http.auth import CurrentUser
from mindly.http.envelope import Envelope
from mindly.http.schemas import AnswerData, PageOf, RequestBody, answers
from mindly.services import leaderboard, questions

app = create_app("questions")

Text = Annotated[str | None, Query(max_length=200)]
PageNumber = Annotated[int, Query(ge=1, le=50)]
Limit = Annotated[int, Query(ge=1, le=100)]
Cursor = Annotated[str | None, Query(max_length=2000)]


class SubmitRequest(RequestBody):
    question_id: str = Field(min_length=1, max_length=64)
    selected_option: str = Field(min_length=1, max_length=1, pattern=r"^[A-Ea-e]$")
    confidence_rating: int = Field(ge=1, le=5)
    time_taken_seconds: int = Field(ge=0, le=3600)
    attempt_id: str | None = Field(default=None, min_length=1, max_length=128)


class PracticeQuestion(AnswerData):
    question_id: str
    exam_type: str
    subject: str
    topic: str
    difficulty: Literal["easy", "medium", "hard"]
    stem: str
    options: dict[str, str] = Field(description="option letter (A..E) -> option text, in letter order")


class PracticePage(PageOf):
    items: list[PracticeQuestion]


@app.get(f"{API_PREFIX}/questions/practice", operation_id="getPracticeQuestions")
@answers(PracticePage)
def practice(user: CurrentUser, exam: Text = None, subject: Text = None, topic: Text = None,
             difficulty: Text = None, page: PageNumber = 1, limit: Limit = 20, cursor: Cursor = None) -> Envelope:
    return Envelope(questions.practice(user.id, exam, subject, topic, difficulty, page, limit, cursor))


class AIExplanation(AnswerData):
    text: str
    source: str = Field(description="groq, cache or offline")


class SubmitAnswer(AnswerData):
    attempt_id: str
    is_correct: bool
    correct_option: str
    explanation: str | None
    xp_awarded: int
    xp_withheld: str | None
    xp_recorded: int
    ai_explanation: AIExplanation | None
    ai_explanation_status: str


@app.post(f"{API_PREFIX}/questions/submit", responses=error_responses(404, 409), operation_id="submitAnswer")
@answers(SubmitAnswer)
def submit(user: CurrentUser, body: SubmitRequest) -> Envelope:
    name = user.claims.name or None
    return Envelope(questions.submit(
        user.id, name, body.question_id, body.selected_option, body.confidence_rating, body.time_taken_seconds,
        body.attempt_id, get_settings().leaderboard_timezone, datetime.now(UTC),
        mirror=leaderboard.mirror_award(name)))


class QuestionAttempt(AnswerData):
    attempt_id: str
    question_id: str
    exam_type: str
    subject: str
    topic: str
    selected_option: str
    correct_option: str
    is_correct: bool
    confidence_rating: int
    time_taken_seconds: int
    attempted_at: str = Field(description="UTC instant, YYYY-MM-DDTHH:MM:SSZ")


class AttemptsPage(PageOf):
    items: list[QuestionAttempt]


@app.get(f"{API_PREFIX}/questions/attempts", operation_id="getAttempts")
@answers(AttemptsPage)
def attempts(user: CurrentUser, page: PageNumber = 1, limit: Limit = 20, cursor: Cursor = None) -> Envelope:
    return Envelope(questions.attempts(user.id, page, limit, cursor))


handler = lambda_handler(app)
