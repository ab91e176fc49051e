"""Analytics function: the calibration report, subject accuracy, mock tests and the dashboard
(API.md "Analytics"; the additions are in the README's API notes)."""

from __future__ import annotations

from datetime import UTC, date, datetime
from typing import Annotated, Literal

from fastapi import Query
from pydantic import ConfigDict, Field, RootModel, Strict

from mindly.http.app import API_PREFIX, create_app, error_responses, lambda_handler
from mindly.http.auth import CurrentUser
from mindly.http.envelope import Envelope
from mindly.http.schemas import AnswerData, PageOf, RequestBody, answers
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

Ratio = Annotated[float | None, Field(description="0..1, rounded to 4 places; null with nothing to divide by")]
Instant = Annotated[str, Field(description="UTC instant, YYYY-MM-DDTHH:MM:SSZ")]
Day = Annotated[str, Field(description="YYYY-MM-DD")]
Week = Annotated[str, Field(description="ISO week, YYYY-Www")]
Score = Annotated[float, Field(description="a whole number is sent as an integer")]


class CalibrationPoint(AnswerData):
    confidence: int = Field(ge=1, le=5)
    probability: float = Field(description="the mean claimed probability p at this level, or the level's "
                                           "nominal p with no answers at it (4 places)")
    attempts: int
    accuracy: Ratio


class CalibrationTopic(AnswerData):
    """A topic with enough answers to judge (all its numbers rounded to 4 places)."""

    subject: str
    topic: str
    attempts: int
    accuracy: float
    mean_confidence: float
    bias: float
    wilson_low: float
    wilson_high: float


class ConfidentError(AnswerData):
    attempt_id: str
    question_id: str
    subject: str
    topic: str
    selected_option: str
    correct_option: str
    confidence_rating: int
    attempted_at: Instant


class CalibrationReport(AnswerData):
    week: Week
    timezone: str
    starts_at: Instant
    ends_at: Instant
    attempts: int
    accuracy: Ratio
    mean_confidence: Ratio = Field(description="the mean claimed probability p (4 places)")
    bias: float | None = Field(description="mean_confidence - accuracy (4 places)")
    brier: float | None
    calibration_score: float | None = Field(description="point-biserial r; null with too few answers")
    curve: list[CalibrationPoint]
    overconfident_topics: list[CalibrationTopic]
    underconfident_topics: list[CalibrationTopic]
    confident_errors: list[ConfidentError]
    confident_errors_total: int


class SubjectAccuracy(AnswerData):
    exam_type: str
    subject: str
    attempts: int
    correct: int
    accuracy: Ratio


class TopicAccuracy(AnswerData):
    exam_type: str
    subject: str
    topic: str
    attempts: int
    correct: int
    accuracy: Ratio


class AccuracyRows(RootModel[list[SubjectAccuracy] | list[TopicAccuracy]]):
    """One row a subject, or with ``subject=`` one row a topic of that subject."""

    model_config = ConfigDict(defer_build=True)


class RecordedChapter(AnswerData):
    subject: str
    chapter: str
    correct: int
    total: int


class MockTest(AnswerData):
    test_id: str
    test_name: str
    exam_type: str
    taken_on: Day
    total_questions: int
    correct: int
    wrong: int
    unattempted: int
    time_taken_minutes: int
    max_score: Score
    score: Score
    percent: float = Field(description="score / max_score x 100, rounded to 2 places")
    chapters: list[RecordedChapter]
    recorded_at: Instant


class MockTestsPage(PageOf):
    items: list[MockTest]


class TrendWeek(AnswerData):
    week: Week
    practice_answered: int
    practice_correct: int
    practice_accuracy: Ratio
    tests: int
    test_accuracy: Ratio
    accuracy: Ratio


class AccuracyTrend(AnswerData):
    weeks: list[TrendWeek]
    slope_per_week: float | None = Field(description="least-squares slope of accuracy a week (4 places)")
    weeks_with_data: int


class ScorePrediction(AnswerData):
    predicted_percent: float
    standard_error: float
    low: float
    high: float
    confidence_level: float
    tests_used: int
    slope_per_test: float
    intercept: float
    max_score: Score
    predicted_score: float = Field(description="rounded to 1 place")
    scores_percent: list[float]


class ScoreConsistency(AnswerData):
    score: int = Field(description="0..100")
    mean_percent: float
    sd_percent: float = Field(description="population standard deviation of the tests' percents")
    tests: int


class WeakChapter(AnswerData):
    subject: str
    chapter: str
    weightage: float
    questions: int
    correct: int
    from_practice: int
    from_tests: int
    accuracy: float
    weakness: float
    scoring_potential: float
    priority: float


class HeatmapCell(AnswerData):
    chapter: str
    questions: int
    correct: int
    accuracy: Ratio
    band: Literal["strong", "fair", "weak", "unseen"]


class HeatmapSubject(AnswerData):
    subject: str
    weightage: float
    chapters: list[HeatmapCell]


class HeatmapBand(AnswerData):
    band: Literal["strong", "fair", "weak"]
    min_accuracy: float


class Heatmap(AnswerData):
    bands: list[HeatmapBand]
    subjects: list[HeatmapSubject]


class StudyLoadDay(AnswerData):
    date: Day
    minutes: float
    answered: int
    correct: int
    accuracy: Ratio


class StudyLoad(AnswerData):
    days: list[StudyLoadDay]
    minutes_recent: float
    minutes_earlier: float
    accuracy_recent: Ratio
    accuracy_earlier: Ratio
    minutes_trend_per_day: float
    signal: Literal["ease_off", "steady", "not_enough_data"]
    message: str


class TopicMastery(AnswerData):
    subject: str
    topic: str
    mastery: float = Field(ge=0, le=1, description="the model's predicted chance on a median-difficulty question "
                                                   "of the topic, without guessing (4 places); 0.5 unanswered")
    answered: int = Field(description="the answers the topic's ability learned from")
    last_answered_at: Instant | None


class MasteryReport(AnswerData):
    exam_type: str
    topics: list[TopicMastery] = Field(description="every topic of the exam's syllabus, in syllabus order")


class AnalyticsDashboard(AnswerData):
    exam_type: str
    today: Day
    tests_recorded: int
    accuracy_trend: AccuracyTrend
    predicted_next_score: ScorePrediction | None = Field(description="null with fewer than 3 tests")
    consistency: ScoreConsistency | None = Field(description="null with fewer than 2 tests")
    weak_chapters: list[WeakChapter]
    heatmap: Heatmap
    study_load: StudyLoad


@app.get(f"{API_PREFIX}/analytics/calibration", operation_id="getCalibrationReport")
@answers(CalibrationReport)
def calibration(user: CurrentUser, week: Annotated[str | None, Query(max_length=8)] = None) -> Envelope:
    return Envelope(analytics.calibration_report(user.id, week, datetime.now(UTC)))


@app.get(f"{API_PREFIX}/analytics/subjects", operation_id="getSubjectAccuracy")
@answers(AccuracyRows)
def subjects(user: CurrentUser, exam: Text = None, subject: Text = None) -> Envelope:
    return Envelope(analytics.subject_accuracy(user.id, exam, subject))


@app.post(f"{API_PREFIX}/analytics/tests", status_code=201,
          responses={200: {"description": "The same test again (a retry): recorded once"}, **error_responses(409)},
          operation_id="recordMockTest")
@answers(MockTest)
def record_test(user: CurrentUser, body: MockTestRequest) -> Envelope:
    status, answer = analytics.record_mock_test(user.id, body.model_dump(), datetime.now(UTC))
    return Envelope(answer, status_code=status)


@app.get(f"{API_PREFIX}/analytics/tests", operation_id="getMockTests")
@answers(MockTestsPage)
def tests(user: CurrentUser, page: PageNumber = 1, limit: Limit = 20, cursor: Cursor = None) -> Envelope:
    return Envelope(analytics.mock_tests(user.id, page, limit, cursor))


@app.get(f"{API_PREFIX}/analytics/dashboard", responses=error_responses(404), operation_id="getDashboard")
@answers(AnalyticsDashboard)
def dashboard(user: CurrentUser, exam: Text = None) -> Envelope:
    return Envelope(analytics.dashboard(user.id, exam, datetime.now(UTC)))


@app.get(f"{API_PREFIX}/analytics/mastery", responses=error_responses(404), operation_id="getTopicMastery")
@answers(MasteryReport)
def topic_mastery(user: CurrentUser, exam: Text = None) -> Envelope:
    return Envelope(analytics.topic_mastery(user.id, exam))


handler = lambda_handler(app)
