"""Mock tests function: sitting a full mock test under an exam's pattern (API.md "Mock tests")."""

from __future__ import annotations

import uuid
from datetime import UTC, datetime
from typing import Annotated, Literal

from fastapi import Path, Query
from pydantic import ConfigDict, Field, RootModel

from mindly.http.app import API_PREFIX, create_app, error_responses, lambda_handler
from mindly.http.auth import CurrentUser
from mindly.http.envelope import Envelope
from mindly.http.question_models import Letter, NumericKey, PracticeQuestion
from mindly.http.schemas import AnswerData, PageOf, RequestBody, answers
from mindly.services import mock_tests

app = create_app("mock_tests")

TestId = Annotated[str, Path(min_length=1, max_length=64, pattern=r"^[A-Za-z0-9_-]+$")]
PageNumber = Annotated[int, Query(ge=1, le=50)]
Limit = Annotated[int, Query(ge=1, le=100)]
Cursor = Annotated[str | None, Query(max_length=2000)]
Instant = Annotated[str, Field(description="UTC instant, YYYY-MM-DDTHH:MM:SSZ")]
Marks = Annotated[float, Field(description="marks, exact to 2 decimals")]


class PatternGroup(AnswerData):
    type: Literal["single", "multiple", "numeric"]
    count: int
    marks_correct: Marks
    marks_wrong: Marks
    marks_unattempted: Marks


class PatternSection(AnswerData):
    name: str
    subjects: list[str]
    duration_minutes: int | None = Field(default=None, description="set when the section has its own clock")
    questions: list[PatternGroup]


class ExamPatternView(AnswerData):
    pattern_id: str
    exam_type: str
    name: str
    duration_minutes: int
    sections: list[PatternSection]
    max_score: Marks


class PatternList(RootModel[list[ExamPatternView]]):
    """Every exam pattern a mock test can follow (API.md: the list itself)."""

    model_config = ConfigDict(defer_build=True)


@app.get(f"{API_PREFIX}/mock-tests/patterns", operation_id="getExamPatterns")
@answers(PatternList)
def list_patterns() -> Envelope:
    return Envelope(mock_tests.patterns())


class StartRequest(RequestBody):
    pattern_id: str = Field(min_length=1, max_length=64)
    mock_test_id: str | None = Field(default=None, min_length=1, max_length=64, pattern=r"^[A-Za-z0-9_-]+$",
                                     description="the client's id (a uuid): the same id again answers the same paper")
    subjects: list[Annotated[str, Field(min_length=1, max_length=100)]] | None = Field(
        default=None, min_length=1, max_length=20, description="a sectional test on these subjects only")


class SavedAnswer(AnswerData):
    number: int
    answered: bool = Field(description="false: saved without an answer (or cleared)")
    selected_option: str | None = None
    selected_options: list[str] | None = None
    numeric_answer: float | None = None
    time_spent_seconds: int
    marked_for_review: bool
    confidence_rating: int | None
    saved_at: Instant


class PaperQuestion(AnswerData):
    number: int
    question: PracticeQuestion | None
    answer: SavedAnswer | None


class PaperSection(AnswerData):
    name: str
    starts_at: Instant | None = Field(default=None, description="a section with its own clock opens then")
    ends_at: Instant | None = Field(default=None, description="... and closes for good then")
    questions: list[PaperQuestion] = Field(description="empty until a clocked section opens")


class MockPaper(AnswerData):
    mock_test_id: str
    pattern_id: str
    exam_type: str
    status: Literal["in_progress"]
    started_at: Instant
    deadline: Instant
    sections: list[PaperSection]


@app.post(f"{API_PREFIX}/mock-tests", status_code=201,
          responses={200: {"description": "The paper of this mock_test_id, asked for again"},
                     **error_responses(409)}, operation_id="startMockTest")
@answers(MockPaper)
def start(user: CurrentUser, body: StartRequest) -> Envelope:
    status, paper = mock_tests.create(user.id, body.pattern_id, body.mock_test_id or str(uuid.uuid4()),
                                      body.subjects, datetime.now(UTC))
    return Envelope(paper, status_code=status)


class AnswerRequest(RequestBody):
    """The question as the student leaves it now: at most one answer field (none, or ``clear``:
    no answer)."""

    selected_option: Letter | None = Field(default=None, description="single")
    selected_options: list[Letter] | None = Field(default=None, min_length=1, max_length=5, description="multiple")
    numeric_answer: float | None = Field(default=None, allow_inf_nan=False, description="numeric")
    clear: Literal[True] | None = Field(default=None, description="true: take the answer back")
    time_spent_seconds: int = Field(ge=0, le=36_000, description="the time spent on this question so far")
    marked_for_review: bool = False
    confidence_rating: int | None = Field(default=None, ge=1, le=5,
                                          description="optional; answers with one count for calibration")


@app.put(f"{API_PREFIX}/mock-tests/{{mock_test_id}}/answers/{{number}}", responses=error_responses(404, 409),
         operation_id="saveMockTestAnswer")
@answers(SavedAnswer)
def save(user: CurrentUser, mock_test_id: TestId, number: Annotated[int, Path(ge=1, le=500)],
         body: AnswerRequest) -> Envelope:
    given = mock_tests.Given(body.selected_option, body.selected_options, body.numeric_answer, bool(body.clear))
    return Envelope(mock_tests.save_answer(user.id, mock_test_id, number, given, body.time_spent_seconds,
                                           body.marked_for_review, body.confidence_rating, datetime.now(UTC)))


class SectionResult(AnswerData):
    name: str
    score: Marks
    max_score: Marks
    correct: int
    partial: int = Field(description="multiple-correct answers given partial marks")
    wrong: int
    unattempted: int
    time_spent_seconds: int


class MockResult(AnswerData):
    mock_test_id: str
    pattern_id: str
    exam_type: str
    status: Literal["finished"]
    started_at: Instant
    finished_at: Instant
    score: Marks
    max_score: Marks
    percent: float
    sections: list[SectionResult]
    accuracy: float | None = Field(description="correct / attempted, 0..1; null with nothing attempted")
    attempted: int
    time_per_question_seconds: float | None
    auto_submitted: bool = Field(description="finished at the deadline with the answers saved, not submitted")
    xp_awarded: int = Field(description="+10 for each right answer to a question never answered before")


@app.post(f"{API_PREFIX}/mock-tests/{{mock_test_id}}/submit", responses=error_responses(404),
          operation_id="submitMockTest")
@answers(MockResult)
def submit(user: CurrentUser, mock_test_id: TestId) -> Envelope:
    return Envelope(mock_tests.submit(user.id, user.claims.name or None, mock_test_id, datetime.now(UTC)))


class ReviewQuestion(AnswerData):
    number: int
    question: PracticeQuestion | None
    answer: SavedAnswer | None
    outcome: Literal["correct", "partial", "wrong", "unattempted"]
    marks: Marks
    correct_option: str | None = Field(default=None, description="single")
    correct_options: list[str] | None = Field(default=None, description="multiple")
    answer_key: NumericKey | None = Field(default=None, description="numeric: the key it was marked against")
    explanation: str | None


class ReviewSection(AnswerData):
    name: str
    starts_at: Instant | None = None
    ends_at: Instant | None = None
    questions: list[ReviewQuestion]


class FinishedMockTest(MockResult):
    review: list[ReviewSection]


class MockTestState(RootModel[MockPaper | FinishedMockTest]):
    """In progress: the paper with the saved answers (never the key); finished: the result and the review."""

    model_config = ConfigDict(defer_build=True)


@app.get(f"{API_PREFIX}/mock-tests/{{mock_test_id}}", responses={
    200: {"description": "In progress: MockPaper (no key). Finished: FinishedMockTest."}, **error_responses(404)},
    operation_id="getMockTest")
@answers(MockTestState)
def get_test(user: CurrentUser, mock_test_id: TestId) -> Envelope:
    return Envelope(mock_tests.get(user.id, mock_test_id, datetime.now(UTC)))


class MockTestLine(AnswerData):
    mock_test_id: str
    pattern_id: str
    exam_type: str
    status: Literal["in_progress", "closing", "finished"]
    started_at: Instant
    deadline: Instant
    finished_at: Instant | None
    score: Marks | None
    max_score: Marks
    percent: float | None
    auto_submitted: bool | None


class MockTestLines(PageOf):
    items: list[MockTestLine]


@app.get(f"{API_PREFIX}/mock-tests", operation_id="getMyMockTests")
@answers(MockTestLines)
def my_tests(user: CurrentUser, page: PageNumber = 1, limit: Limit = 20, cursor: Cursor = None) -> Envelope:
    return Envelope(mock_tests.tests(user.id, page, limit, cursor))


handler = lambda_handler(app)
