"""Progress function: XP, streaks, daily goal, badges and the weekly leaderboard
(API.md "Progress and gamification")."""

from __future__ import annotations

from datetime import UTC, datetime

from fastapi import Query
from pydantic import Field

from mindly.config import get_settings
from mindly.http.app import API_PREFIX, create_app, error_responses, lambda_handler
from mindly.http.auth import CurrentUser
from mindly.http.envelope import Envelope
from mindly.http.schemas import RequestBody
from mindly.services import leaderboard, profile
from mindly.services import progress as progress_service

app = create_app("progress")


class DailyGoalRequest(RequestBody):
    target_questions: int = Field(ge=1, le=500)


def _now() -> datetime:
    return datetime.now(UTC)


@app.get(f"{API_PREFIX}/progress")
def get_progress(user: CurrentUser) -> Envelope:
    student = progress_service.student_of(user.id, user.claims.name)
    return Envelope(progress_service.progress_view(student, get_settings().leaderboard_timezone, _now()))


@app.put(f"{API_PREFIX}/progress/daily-goal", responses=error_responses(404))
def put_daily_goal(user: CurrentUser, body: DailyGoalRequest) -> Envelope:
    return Envelope(progress_service.change_daily_goal(
        user.id, user.claims.name, body.target_questions, get_settings().leaderboard_timezone, _now(),
        mirror=leaderboard.mirror_award(user.claims.name)))


@app.get(f"{API_PREFIX}/progress/badges")
def get_badges(user: CurrentUser) -> Envelope:
    return Envelope(progress_service.badges_view(user.id))


@app.get(f"{API_PREFIX}/leaderboard/weekly")
def get_weekly_leaderboard(user: CurrentUser, exam: str | None = Query(default=None, max_length=20)) -> Envelope:
    code = profile.exam_code(exam) if exam else None
    week = progress_service.leaderboard_week(_now(), get_settings().leaderboard_timezone)
    return Envelope(leaderboard.weekly(user.id, week, code))


handler = lambda_handler(app)
