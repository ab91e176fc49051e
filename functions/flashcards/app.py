"""Flashcards function: the due queue, reviews (SM-2 or FSRS) and the catalog (API.md "Flashcards")."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Annotated, Literal

from fastapi import Body, Query
from pydantic import Field

from mindly.config import get_settings
from mindly.http.app import API_PREFIX, create_app, error_responses, lambda_handler
from mindly.http.auth import CurrentUser
from mindly.http.envelope import Envelope
from mindly.http.schemas import AnswerData, PageOf, RequestBody, answers
from mindly.services import flashcards, leaderboard

app = create_app("flashcards")

Text = Annotated[str | None, Query(max_length=200)]
PageNumber = Annotated[int, Query(ge=1, le=50)]
Limit = Annotated[int, Query(ge=1, le=100)]


class ReviewRequest(RequestBody):
    flashcard_id: str = Field(min_length=1, max_length=100)
    rating: int = Field(ge=1, le=5)
    review_id: str | None = Field(default=None, min_length=1, max_length=128)
    time_taken_seconds: int | None = Field(default=None, ge=0, le=3600)


class UndoRequest(RequestBody):
    review_id: str | None = Field(default=None, min_length=1, max_length=128)


def _now() -> datetime:
    return datetime.now(UTC)


CardState = Literal["new", "learning", "review", "relearning"]
WithheldReason = Literal["answered_before", "not_due", "new_card_limit", "duplicate"]


class CatalogFlashcard(AnswerData):
    flashcard_id: str
    exam_type: str
    subject: str
    topic: str
    question: str
    answer: str
    difficulty: int


class DueCard(CatalogFlashcard):
    state: CardState
    ease_factor: float
    interval: int = Field(description="days")
    repetitions: int
    next_review_date: str = Field(description="YYYY-MM-DD in the student's zone")


class DueCards(AnswerData):
    date: str = Field(description="the student's local today, YYYY-MM-DD")
    total_due: int = Field(description="cards held and due (new cards not counted)")
    new_cards: int = Field(description="new cards from the deck offered today")
    by_subject: dict[str, int] = Field(description="due held cards by subject")
    cards: list[DueCard] = Field(description="the due cards, then the new ones, at most `limit`")


class DueCardsBySubject(AnswerData):
    date: str = Field(description="the student's local today, YYYY-MM-DD")
    subjects: dict[str, list[DueCard]]


class CardReview(AnswerData):
    flashcard_id: str
    ease_factor: float
    interval: int = Field(description="days")
    repetitions: int
    next_review_date: str = Field(description="YYYY-MM-DD in the student's zone")
    xp_awarded: int
    xp_withheld: WithheldReason | None
    xp_recorded: int


class UndoneReview(AnswerData):
    review_id: str
    flashcard_id: str
    undone: bool
    already_undone: bool
    ease_factor: float
    interval: int = Field(description="days")
    repetitions: int
    next_review_date: str | None = Field(description="YYYY-MM-DD; null for a card that was new")
    xp_awarded: int = Field(description="XP taken back by this call (0 or negative)")


class FlashcardCatalogPage(PageOf):
    items: list[CatalogFlashcard]


@app.get(f"{API_PREFIX}/flashcards/due", operation_id="getDueCards")
@answers(DueCards)
def due(user: CurrentUser, subject: Text = None, limit: Limit = 50) -> Envelope:
    return Envelope(flashcards.due(user.id, subject, limit, _now()))


@app.get(f"{API_PREFIX}/flashcards/due/by-subject", operation_id="getDueCardsBySubject")
@answers(DueCardsBySubject)
def due_by_subject(user: CurrentUser) -> Envelope:
    return Envelope(flashcards.due_by_subject(user.id, _now()))


@app.post(f"{API_PREFIX}/flashcards/review", responses=error_responses(404), operation_id="reviewCard")
@answers(CardReview)
def review(user: CurrentUser, body: ReviewRequest) -> Envelope:
    name = user.claims.name or None
    return Envelope(flashcards.review(user.id, name, body.flashcard_id, body.rating, body.review_id,
                                      body.time_taken_seconds, get_settings().leaderboard_timezone, _now(),
                                      mirror=leaderboard.mirror_award(name)))


@app.post(f"{API_PREFIX}/flashcards/review/undo", responses=error_responses(404, 409), operation_id="undoReview")
@answers(UndoneReview)
def undo_review(user: CurrentUser, body: Annotated[UndoRequest | None, Body()] = None) -> Envelope:
    return Envelope(flashcards.undo_review(user.id, user.claims.name or None, body.review_id if body else None,
                                           get_settings().leaderboard_timezone, _now()))


@app.get(f"{API_PREFIX}/flashcards", operation_id="getFlashcards")
@answers(FlashcardCatalogPage)
def catalog(user: CurrentUser, exam: Text = None, subject: Text = None, topic: Text = None,
            page: PageNumber = 1, limit: Limit = 20, cursor: Annotated[str | None, Query(max_length=2000)] = None
            ) -> Envelope:
    return Envelope(flashcards.catalog(user.id, exam, subject, topic, page, limit, cursor))


handler = lambda_handler(app)
