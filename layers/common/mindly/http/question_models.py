"""Answer models of a question as students see it, shared by the functions that show questions
(practice in `questions`, papers and reviews in `mock_tests`): one schema per shape in the OpenAPI
document, whichever function answers it."""

from __future__ import annotations

from typing import Annotated, Literal

from pydantic import Field

from mindly.http.schemas import AnswerData

Letter = Annotated[str, Field(min_length=1, max_length=1, pattern=r"^[A-Ea-e]$")]
QuestionType = Literal["single", "multiple", "numeric"]


class PracticePassage(AnswerData):
    passage_id: str
    text: str


class PracticeMedia(AnswerData):
    media_id: str
    alt: str
    url: str = Field(description="a short-lived signed GET URL of the image")


class PracticeQuestion(AnswerData):
    question_id: str
    exam_type: str
    subject: str
    topic: str
    difficulty: Literal["easy", "medium", "hard"]
    type: QuestionType
    format: Literal["text", "latex"] = Field(description="latex: stem, options and passage hold $...$ TeX")
    stem: str
    options: dict[str, str] | None = Field(
        default=None, description="option letter (A..E) -> option text, in letter order; absent for numeric")
    passage: PracticePassage | None = Field(description="the reading passage this question shares, or null")
    media: list[PracticeMedia]
    year: int | None
    paper: str | None


class NumericKey(AnswerData):
    """``{value, tolerance}`` or ``{min, max}``: right when the number is within it."""

    value: float | None = None
    tolerance: float | None = None
    min: float | None = None
    max: float | None = None
