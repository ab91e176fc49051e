"""Questions function: MCQ practice, submitting answers and the student's attempts (API.md "Questions")."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Annotated

from fastapi import Query
from pydantic import Field

from mindly.config import get_settings
from mindly.http.app import API_PREFIX, create_app, error_responses, lambda_handler
from mindly.http.auth import CurrentUser
from mindly.http.envelope import Envelope
from mindly.http.schemas import RequestBody
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


@app.get(f"{API_PREFIX}/questions/practice")
def practice(user: CurrentUser, exam: Text = None, subject: Text = None, topic: Text = None,
             difficulty: Text = None, page: PageNumber = 1, limit: Limit = 20, cursor: Cursor = None) -> Envelope:
    return Envelope(questions.practice(user.id, exam, subject, topic, difficulty, page, limit, cursor))


@app.post(f"{API_PREFIX}/questions/submit", responses=error_responses(404, 409))
def submit(user: CurrentUser, body: SubmitRequest) -> Envelope:
    name = user.claims.name or None
    return Envelope(questions.submit(
        user.id, name, body.question_id, body.selected_option, body.confidence_rating, body.time_taken_seconds,
        body.attempt_id, get_settings().leaderboard_timezone, datetime.now(UTC),
        mirror=leaderboard.mirror_award(name)))


@app.get(f"{API_PREFIX}/questions/attempts")
def attempts(user: CurrentUser, page: PageNumber = 1, limit: Limit = 20, cursor: Cursor = None) -> Envelope:
    return Envelope(questions.attempts(user.id, page, limit, cursor))


handler = lambda_handler(app)
