"""A student's flashcards in the Study table: schedule state and the append-only review log.

- ``USER#<id> / CARD#<flashcard id>``: the student's copy of a card (its text, so the due list needs
  no Content read) with its SM-2 state, its FSRS state, a ``version`` for optimistic locking, and,
  only while it is scheduled, the sparse ``due`` GSI keys (pk ``USER#<id>``, sk
  ``<next review date>#<flashcard id>``): the day's due cards are one Query of ``sk <= today``.
- ``USER#<id> / REVIEW#<time>#<flashcard id>``: one review, with the state before and after it.
"""

from __future__ import annotations

from datetime import date, datetime
from typing import Any

from pynamodb.attributes import JSONAttribute, NumberAttribute, UnicodeAttribute, UTCDateTimeAttribute
from pynamodb.exceptions import DoesNotExist

from mindly.store.models import StudyTable
from mindly.store.progress import student_key

CARD_PREFIX = "CARD#"
REVIEW_PREFIX = "REVIEW#"
MISTAKE_PREFIX = "mistake-"


class CardItem(StudyTable, discriminator="card"):
    flashcard_id = UnicodeAttribute()
    origin = UnicodeAttribute(default="deck")  # "deck" or "mistake" (a question answered wrong)
    exam_type = UnicodeAttribute()
    subject = UnicodeAttribute()
    topic = UnicodeAttribute()
    question = UnicodeAttribute()
    answer = UnicodeAttribute()
    difficulty = NumberAttribute(default=3)
    deck_sort_key = UnicodeAttribute(null=True)  # the card's place in its exam deck
    ease_factor = NumberAttribute(default=2.5)
    interval = NumberAttribute(default=0)
    repetitions = NumberAttribute(default=0)
    state = UnicodeAttribute(default="new")
    lapses = NumberAttribute(default=0)
    next_review_date = UnicodeAttribute(null=True)
    last_reviewed_at = UTCDateTimeAttribute(null=True)
    fsrs = JSONAttribute(null=True)
    version = NumberAttribute(default=0)


class ReviewItem(StudyTable, discriminator="review"):
    review_id = UnicodeAttribute()
    flashcard_id = UnicodeAttribute()
    rating = NumberAttribute()
    scheduler = UnicodeAttribute()
    reviewed_at = UTCDateTimeAttribute()
    time_taken_seconds = NumberAttribute(null=True)
    before = JSONAttribute()
    after = JSONAttribute()
    undone_at = UTCDateTimeAttribute(null=True)


def card_key(user_id: str, flashcard_id: str) -> tuple[str, str]:
    return student_key(user_id), f"{CARD_PREFIX}{flashcard_id}"


def schedule(card: CardItem, user_id: str, next_review: date | None) -> None:
    """Set the card's next review and its place in the sparse ``due`` index."""
    card.next_review_date = next_review.isoformat() if next_review else None
    if next_review is None:
        card.due_pk = card.due_sk = None
    else:
        card.due_pk = student_key(user_id)
        card.due_sk = f"{next_review.isoformat()}#{card.flashcard_id}"


def due_cards(user_id: str, today: date, subject: str | None = None) -> list[CardItem]:
    """Every card due on or before ``today``, most overdue first: one Query on the sparse ``due``
    index, which holds only scheduled cards, read up to today's key (a subject is a filter on
    those same items, so it reads no more)."""
    condition = CardItem.subject == subject if subject else None
    return list(CardItem.due.query(student_key(user_id), CardItem.due_sk <= f"{today.isoformat()}#~",
                                   filter_condition=condition))


def due_mistakes(user_id: str, today: date, exam: str, subject: str | None, topic: str | None,
                 limit: int) -> list[CardItem]:
    """At most ``limit`` of the student's mistake cards of ``exam`` (and ``subject``, ``topic``)
    due on or before ``today``, most overdue first: one Query on the sparse ``due`` index (the
    filter is applied to the due cards it reads; pynamodb asks for a further page only past 1 MB
    of due cards with fewer than ``limit`` mistakes among them)."""
    condition = (CardItem.origin == "mistake") & (CardItem.exam_type == exam)
    if subject:
        condition &= CardItem.subject == subject
    if topic:
        condition &= CardItem.topic == topic
    return list(CardItem.due.query(student_key(user_id), CardItem.due_sk <= f"{today.isoformat()}#~",
                                   filter_condition=condition, limit=limit))


def review_sort_key(at: datetime, flashcard_id: str) -> str:
    return f"{REVIEW_PREFIX}{at.strftime('%Y-%m-%dT%H:%M:%S.%fZ')}#{flashcard_id}"


def card_state(card: CardItem) -> dict[str, Any]:
    """The schedule part of a card, as the review log keeps it."""
    return {"ease_factor": float(card.ease_factor), "interval": int(card.interval),
            "repetitions": int(card.repetitions), "state": card.state, "lapses": int(card.lapses),
            "next_review_date": card.next_review_date, "fsrs": card.fsrs, "version": int(card.version),
            "last_reviewed_at": card.last_reviewed_at.isoformat() if card.last_reviewed_at else None}


def held_cards(user_id: str, flashcard_ids: list[str]) -> set[str]:
    """Which of ``flashcard_ids`` the student already has (one BatchGetItem)."""
    if not flashcard_ids:
        return set()
    keys = [card_key(user_id, fc) for fc in flashcard_ids]
    return {item.flashcard_id for item in CardItem.batch_get(keys, attributes_to_get=["pk", "sk", "flashcard_id",
                                                                                        "kind"])}


def recent_reviews(user_id: str, count: int = 10) -> list[ReviewItem]:
    """The student's latest reviews, newest first (one Query)."""
    return list(ReviewItem.query(student_key(user_id), ReviewItem.sk.startswith(REVIEW_PREFIX),
                                 scan_index_forward=False, limit=count, page_size=count))


def undone_at(user_id: str, review: ReviewItem) -> datetime | None:
    """When ``review`` was undone, read again strongly consistent (a Query of the recent reviews
    may be a moment behind); None while it is not."""
    try:
        return ReviewItem.get(student_key(user_id), review.sk, consistent_read=True).undone_at
    except DoesNotExist:
        return None


def get_card(user_id: str, flashcard_id: str) -> CardItem | None:
    try:
        return CardItem.get(*card_key(user_id, flashcard_id), consistent_read=True)
    except DoesNotExist:
        return None


def restore(card: CardItem, user_id: str, state: dict[str, Any], version: int) -> None:
    """Put a card back to a state the review log kept (``card_state``), at a new ``version``."""
    card.ease_factor, card.interval = state["ease_factor"], state["interval"]
    card.repetitions, card.state, card.lapses = state["repetitions"], state["state"], state["lapses"]
    card.fsrs = state.get("fsrs")
    last = state.get("last_reviewed_at")
    card.last_reviewed_at = datetime.fromisoformat(last) if last else None
    card.version = version
    schedule(card, user_id, date.fromisoformat(state["next_review_date"]) if state.get("next_review_date") else None)
