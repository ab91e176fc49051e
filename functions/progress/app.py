"""Progress function: XP, streaks, daily goal, badges and the weekly leaderboard
(API.md "Progress and gamification")."""

from __future__ import annotations

from datetime import UTC, date, datetime
from typing import Literal

from fastapi import Query
from pydantic import Field

from mindly.config import get_settings
from mindly.http.app import API_PREFIX, create_app, error_responses, lambda_handler
from mindly.http.auth import CurrentUser
from mindly.http.envelope import Envelope
from mindly.http.schemas import AnswerData, RequestBody, answers
from mindly.services import leaderboard, profile
from mindly.services import progress as progress_service

app = create_app("progress")


class DailyGoalRequest(RequestBody):
    target_questions: int = Field(ge=1, le=500)


def _now() -> datetime:
    return datetime.now(UTC)


class ProgressToday(AnswerData):
    """The student's local today."""

    date: date
    questions_answered: int
    goal_questions: int = Field(description="the answers the goal counts: distinct questions of the day")
    cards_reviewed: int
    xp: int
    daily_goal: int
    goal_met: bool


class ProgressView(AnswerData):
    """XP, the streak as of the student's today, and today's counters."""

    xp_total: int
    xp_this_week: int = Field(description="this leaderboard week's XP, all exams")
    current_streak: int
    longest_streak: int
    last_active_date: date | None
    streak_freezes: int
    today: ProgressToday


class BadgeComparison(AnswerData):
    """A metric compared with a number."""

    metric: str
    op: Literal[">=", ">", "<=", "<", "=="]
    value: float


class BadgeAllOf(AnswerData):
    """Met when every part is met."""

    all: list[BadgeCriterion] = Field(min_length=1)


class BadgeAnyOf(AnswerData):
    """Met when one part is met."""

    any: list[BadgeCriterion] = Field(min_length=1)


BadgeCriterion = BadgeComparison | BadgeAllOf | BadgeAnyOf


class EarnedBadge(AnswerData):
    badge_id: str
    name: str
    description: str
    earned_at: datetime = Field(description="UTC, to the second: YYYY-MM-DDTHH:MM:SSZ")


class AvailableBadge(AnswerData):
    badge_id: str
    name: str
    description: str
    criteria: BadgeCriterion


class BadgesView(AnswerData):
    """The catalog split into what the student holds and what is still to earn, in catalog order."""

    earned: list[EarnedBadge]
    available: list[AvailableBadge]


class LeaderboardStanding(AnswerData):
    rank: int = Field(description="1 for the most XP; equal XP is ordered by user id")
    user_id: str
    name: str = Field(description="display name, empty when unknown")
    xp: int


class LeaderboardMe(AnswerData):
    rank: int | None = Field(description="null until the student earns XP this week")
    xp: int


class WeeklyLeaderboard(AnswerData):
    """The week's top ten and the caller's own place."""

    week: str = Field(description="ISO week in the leaderboard's time zone, e.g. 2031-W19")
    top: list[LeaderboardStanding]
    me: LeaderboardMe


@app.get(f"{API_PREFIX}/progress", operation_id="getProgress")
@answers(ProgressView)
def get_progress(user: CurrentUser) -> Envelope:
    student = progress_service.student_of(user.id, user.claims.name)
    return Envelope(progress_service.progress_view(student, get_settings().leaderboard_timezone, _now()))


@app.put(f"{API_PREFIX}/progress/daily-goal", responses=error_responses(404), operation_id="setDailyGoal")
@answers(ProgressToday)
def put_daily_goal(user: CurrentUser, body: DailyGoalRequest) -> Envelope:
    return Envelope(progress_service.change_daily_goal(
        user.id, user.claims.name, body.target_questions, get_settings().leaderboard_timezone, _now(),
        mirror=leaderboard.mirror_award(user.claims.name)))


@app.get(f"{API_PREFIX}/progress/badges", operation_id="getBadges")
@answers(BadgesView)
def get_badges(user: CurrentUser) -> Envelope:
    return Envelope(progress_service.badges_view(user.id))


@app.get(f"{API_PREFIX}/leaderboard/weekly", operation_id="getWeeklyLeaderboard")
@answers(WeeklyLeaderboard)
def get_weekly_leaderboard(user: CurrentUser, exam: str | None = Query(default=None, max_length=20)) -> Envelope:
    code = profile.exam_code(exam) if exam else None
    week = progress_service.leaderboard_week(_now(), get_settings().leaderboard_timezone)
    return Envelope(leaderboard.weekly(user.id, week, code))


handler = lambda_handler(app)
