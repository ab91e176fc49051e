"""Questions function: MCQ practice, submitting answers and the student's attempts (API.md "Questions")."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Annotated, Literal

from fastapi import Path, Query
from pydantic import Field

from mindly.config import get_settings
from mindly.domain.content import MAX_REPORT_COMMENT
from mindly.http.app import API_PREFIX, create_app, error_responses, lambda_handler
from mindly.http.auth import CurrentUser
from mindly.http.envelope import Envelope
from mindly.http.question_models import Letter, NumericKey, PracticeQuestion, QuestionType
from mindly.http.schemas import AnswerData, PageOf, RequestBody, answers
from mindly.services import leaderboard, questions

app = create_app("questions")

Text = Annotated[str | None, Query(max_length=200)]
PageNumber = Annotated[int, Query(ge=1, le=50)]
Limit = Annotated[int, Query(ge=1, le=100)]
Cursor = Annotated[str | None, Query(max_length=2000)]


class SubmitRequest(RequestBody):
    """Exactly one answer field, the one of the question's type (another, none or several: 422)."""

    question_id: str = Field(min_length=1, max_length=64)
    selected_option: Letter | None = Field(default=None, description="single: the option letter")
    selected_options: list[Letter] | None = Field(default=None, min_length=1, max_length=5,
                                                  description="multiple: the options chosen (a set)")
    numeric_answer: float | None = Field(default=None, allow_inf_nan=False,
                                         description="numeric: the number (a finite JSON number)")
    confidence_rating: int = Field(ge=1, le=5)
    time_taken_seconds: int = Field(ge=0, le=3600)
    attempt_id: str | None = Field(default=None, min_length=1, max_length=128)


class PracticePage(PageOf):
    items: list[PracticeQuestion]


Unanswered = Annotated[bool, Query(description="true: leave out the questions the student has answered (a page "
                                               "may then hold fewer than limit items while next_cursor goes on)")]
Order = Annotated[Literal["bank", "shuffled"], Query(
    description="bank: subject, topic, id; shuffled: that order rotated to start at a point of the student's "
                "and the day's (India time), one Query a page")]


@app.get(f"{API_PREFIX}/questions/practice", operation_id="getPracticeQuestions")
@answers(PracticePage)
def practice(user: CurrentUser, exam: Text = None, subject: Text = None, topic: Text = None,
             difficulty: Text = None, page: PageNumber = 1, limit: Limit = 20, cursor: Cursor = None,
             unanswered: Unanswered = False, order: Order = "bank") -> Envelope:
    return Envelope(questions.practice(user.id, exam, subject, topic, difficulty, page, limit, cursor,
                                       unanswered=unanswered, order=order, now=datetime.now(UTC)))


class NextPractice(AnswerData):
    question: PracticeQuestion = Field(description="the question, as the practice list shows it")
    reason: Literal["mistake_due", "weak_topic", "new_topic", "roadmap_week", "stretch"]
    predicted_p_correct: float = Field(ge=0, le=1, description="the model's chance of a right answer")
    topic_mastery: float = Field(ge=0, le=1, description="the model's mastery of the question's topic")


@app.get(f"{API_PREFIX}/practice/next", responses=error_responses(404), operation_id="getNextPracticeQuestion")
@answers(NextPractice)
def next_practice_question(user: CurrentUser, exam: Text = None, subject: Text = None,
                           topic: Text = None) -> Envelope:
    # Imported on the first call: the selection (its model, the roadmap and due-card reads) is this
    # route's alone, and the function's every cold start would load it otherwise.
    from mindly.services import adaptive

    return Envelope(adaptive.next_question(user.id, exam, subject, topic, datetime.now(UTC)))


class AIExplanation(AnswerData):
    text: str
    source: str = Field(description="groq, cache or offline")


class SubmitAnswer(AnswerData):
    attempt_id: str
    is_correct: bool
    correct_option: str | None = Field(default=None, description="single")
    correct_options: list[str] | None = Field(default=None, description="multiple: the whole set")
    answer: NumericKey | None = Field(default=None, description="numeric")
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
    given = questions.Given(body.selected_option, body.selected_options, body.numeric_answer)
    return Envelope(questions.submit(
        user.id, name, body.question_id, given, body.confidence_rating, body.time_taken_seconds,
        body.attempt_id, get_settings().leaderboard_timezone, datetime.now(UTC),
        mirror=leaderboard.mirror_award(name)))


class QuestionAttempt(AnswerData):
    attempt_id: str
    question_id: str
    exam_type: str
    subject: str
    topic: str
    type: QuestionType
    selected_option: str | None = Field(default=None, description="single")
    correct_option: str | None = Field(default=None, description="single")
    selected_options: list[str] | None = Field(default=None, description="multiple")
    correct_options: list[str] | None = Field(default=None, description="multiple")
    numeric_answer: float | None = Field(default=None, description="numeric")
    answer: NumericKey | None = Field(default=None, description="numeric: the key it was graded against")
    is_correct: bool
    confidence_rating: int | None = Field(description="1..5; null for a mock test's answer the student did not rate")
    time_taken_seconds: int
    attempted_at: str = Field(description="UTC instant, YYYY-MM-DDTHH:MM:SSZ")
    question_version: int = Field(description="the version of the question answered")


class AttemptsPage(PageOf):
    items: list[QuestionAttempt]


@app.get(f"{API_PREFIX}/questions/attempts", operation_id="getAttempts")
@answers(AttemptsPage)
def attempts(user: CurrentUser, page: PageNumber = 1, limit: Limit = 20, cursor: Cursor = None) -> Envelope:
    return Envelope(questions.attempts(user.id, page, limit, cursor))


class ReportRequest(RequestBody):
    reason: Literal["wrong_answer", "unclear", "typo", "other"]
    comment: str | None = Field(default=None, max_length=MAX_REPORT_COMMENT)


class QuestionReport(AnswerData):
    """The student's open report of the question (a repeat while it is open answers the same one)."""

    report_id: str
    question_id: str
    reason: Literal["wrong_answer", "unclear", "typo", "other"]
    comment: str | None
    status: Literal["open", "resolved"]
    created_at: str = Field(description="UTC instant, YYYY-MM-DDTHH:MM:SSZ")


@app.post(f"{API_PREFIX}/questions/{{question_id}}/reports", status_code=201,
          responses={200: {"description": "The student's open report of this question, sent again"},
                     **error_responses(404)}, operation_id="reportQuestion")
@answers(QuestionReport)
def report_question(user: CurrentUser, question_id: Annotated[str, Path(min_length=1, max_length=64)],
                    body: ReportRequest) -> Envelope:
    # Imported on the first report: a rare route, whose store the function's cold start need not load.
    from mindly.services import reports

    reported = reports.report_question(user.id, question_id, body.reason, body.comment, datetime.now(UTC))
    return Envelope(reported.report, status_code=201 if reported.created else 200)


handler = lambda_handler(app)
