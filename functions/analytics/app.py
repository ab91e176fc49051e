"""Analytics function: the calibration report, subject accuracy, mock tests and the dashboard
(API.md "Analytics"; the additions are in the README's API notes)."""

from __future__ import annotations

from datetime import UTC, date, datetime
from typing import Annotated

from fastapi import Query
from pydantic import Field, Strict

from mindly.http.app import API_PREFIX, create_app, error_responses, lambda_handler
from mindly.http.auth import CurrentUser
from mindly.http.envelope import Envelope
from mindly.http.schemas import RequestBody
from mindly.services import analytics

app = create_app("analytics")

Text = Annotated[str | None, Query(max_length=200)]
PageNumber = Annotated[int, Query(ge=1, le=50)]
Limit = Annotated[int, Query(ge=1, le=100)]
Cursor = Annotated[str | None, Query(max_length=2000)]
Count = Annotated[int, Field(ge=0, le=1000)]
Name = Annotated[str, Field(min_length=1, max_length=120)]


class ChapterResult(RequestBody):
    subject: Name
    chapter: Name
    correct: Count
    total: Annotated[int, Field(ge=1, le=1000)]


class MockTestRequest(RequestBody):
    test_id: str | None = Field(default=None, min_length=1, max_length=64, pattern=r"^[A-Za-z0-9_.:-]+$")
    test_name: Name
    exam_type: str = Field(min_length=1, max_length=20)
    taken_on: Annotated[date, Strict(False)]
    total_questions: Annotated[int, Field(ge=1, le=1000)]
    correct: Count
    wrong: Count
    time_taken_minutes: Annotated[int, Field(ge=1, le=1440)]
    max_score: Annotated[float, Field(gt=0, le=10_000)]
    score: Annotated[float, Field(ge=-10_000, le=10_000)]
    chapters: list[ChapterResult] = Field(default_factory=list, max_length=200)


@app.get(f"{API_PREFIX}/analytics/calibration")
def calibration(user: CurrentUser, week: Annotated[str | None, Query(max_length=8)] = None) -> Envelope:
    return Envelope(analytics.calibration_report(user.id, week, datetime.now(UTC)))


@app.get(f"{API_PREFIX}/analytics/subjects")
def subjects(user: CurrentUser, exam: Text = None, subject: Text = None) -> Envelope:
    return Envelope(analytics.subject_accuracy(user.id, exam, subject))


@app.post(f"{API_PREFIX}/analytics/tests", status_code=201,
          responses={200: {"description": "The same test again (a retry): recorded once"}, **error_responses(409)})
def record_test(user: CurrentUser, body: MockTestRequest) -> Envelope:
    status, answer = analytics.record_mock_test(user.id, body.model_dump(), datetime.now(UTC))
    return Envelope(answer, status_code=status)


@app.get(f"{API_PREFIX}/analytics/tests")
def tests(user: CurrentUser, page: PageNumber = 1, limit: Limit = 20, cursor: Cursor = None) -> Envelope:
    return Envelope(analytics.mock_tests(user.id, page, limit, cursor))


@app.get(f"{API_PREFIX}/analytics/dashboard", responses=error_responses(404))
def dashboard(user: CurrentUser, exam: Text = None) -> Envelope:
    return Envelope(analytics.dashboard(user.id, exam, datetime.now(UTC)))


handler = lambda_handler(app)
