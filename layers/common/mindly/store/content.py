"""Questions and flashcards in the Content table.

``Q#<id> / QUESTION`` and ``FC#<id> / FLASHCARD``, ids derived from (source, external_id) so a
re-import addresses the same item. Two GSIs serve the practice filters with one Query per page:

- ``by_exam``: pk ``EXAM#<exam>`` (questions) or ``DECK#<exam>`` (flashcards), sk
  ``<subject>#<topic>#<id>``: exam, exam+subject, exam+subject+topic (begins_with);
- ``by_difficulty`` (questions only): pk ``EXAM#<exam>#<difficulty>``, same sk: the same filters
  with a difficulty.
"""

from __future__ import annotations

from typing import Any, NamedTuple

from pynamodb.attributes import MapAttribute, NumberAttribute, UnicodeAttribute
from pynamodb.exceptions import DoesNotExist, PutError

from mindly.domain.content import Flashcard, Question
from mindly.store.errors import AlreadyExists, response_code
from mindly.store.models import ContentTable

SEPARATOR = "#"


class QuestionItem(ContentTable, discriminator="question"):
    question_id = UnicodeAttribute()
    source = UnicodeAttribute()
    external_id = UnicodeAttribute()
    exam_type = UnicodeAttribute()
    subject = UnicodeAttribute()
    topic = UnicodeAttribute()
    difficulty = UnicodeAttribute()
    stem = UnicodeAttribute()
    options: MapAttribute[str, str] = MapAttribute()  # letter -> option text
    correct_option = UnicodeAttribute()
    explanation = UnicodeAttribute()


class FlashcardItem(ContentTable, discriminator="flashcard"):
    flashcard_id = UnicodeAttribute()
    source = UnicodeAttribute()
    external_id = UnicodeAttribute()
    exam_type = UnicodeAttribute()
    subject = UnicodeAttribute()
    topic = UnicodeAttribute()
    question = UnicodeAttribute()
    answer = UnicodeAttribute()
    difficulty = NumberAttribute()


class ExplanationItem(ContentTable, discriminator="explanation"):
    """``Q#<id> / EXPLAIN#<option>``: the AI explanation of choosing that wrong option, kept for
    good, so each (question, option) pair costs at most one Groq call."""

    question_id = UnicodeAttribute()
    option = UnicodeAttribute()
    text = UnicodeAttribute()
    model = UnicodeAttribute()


def explanation_key(question_id: str, option: str) -> tuple[str, str]:
    return f"Q#{question_id}", f"EXPLAIN#{option}"


def save_explanation(question_id: str, option: str, text: str, model: str) -> None:
    """Keep an explanation (the first one written stays)."""
    item = ExplanationItem(*explanation_key(question_id, option), question_id=question_id, option=option,
                           text=text, model=model)
    try:
        item.save(condition=ContentTable.pk.does_not_exist())
    except PutError as exc:
        if response_code(exc) != "ConditionalCheckFailedException":
            raise


def question_key(question_id: str) -> tuple[str, str]:
    return f"Q#{question_id}", "QUESTION"


def flashcard_key(flashcard_id: str) -> tuple[str, str]:
    return f"FC#{flashcard_id}", "FLASHCARD"


def _sort_key(subject: str, topic: str, item_id: str) -> str:
    return SEPARATOR.join((subject, topic, item_id))


def question_item(question: Question) -> QuestionItem:
    pk, sk = question_key(question.question_id)
    sort_key = _sort_key(question.subject, question.topic, question.question_id)
    return QuestionItem(
        pk, sk, question_id=question.question_id, source=question.source, external_id=question.external_id,
        exam_type=question.exam_type, subject=question.subject, topic=question.topic,
        difficulty=question.difficulty, stem=question.stem, options=dict(question.options),
        correct_option=question.correct_option, explanation=question.explanation,
        gsi1_pk=f"EXAM#{question.exam_type}", gsi1_sk=sort_key,
        gsi2_pk=f"EXAM#{question.exam_type}#{question.difficulty}", gsi2_sk=sort_key,
    )


def flashcard_item(card: Flashcard) -> FlashcardItem:
    pk, sk = flashcard_key(card.flashcard_id)
    return FlashcardItem(
        pk, sk, flashcard_id=card.flashcard_id, source=card.source, external_id=card.external_id,
        exam_type=card.exam_type, subject=card.subject, topic=card.topic, question=card.question,
        answer=card.answer, difficulty=card.difficulty,
        gsi1_pk=f"DECK#{card.exam_type}", gsi1_sk=_sort_key(card.subject, card.topic, card.flashcard_id),
    )


def create(item: QuestionItem | FlashcardItem) -> None:
    """Store a new question or flashcard; AlreadyExists when its id is taken (a re-import)."""
    try:
        item.save(condition=ContentTable.pk.does_not_exist())
    except PutError as exc:
        if response_code(exc) == "ConditionalCheckFailedException":
            raise AlreadyExists(item.pk) from exc
        raise


def get_question(question_id: str) -> QuestionItem | None:
    try:
        return QuestionItem.get(*question_key(question_id))
    except DoesNotExist:
        return None


class Page(NamedTuple):
    items: list[Any]
    last_key: dict[str, str] | None  # where the next page starts (None: this was the last)


def query_page(kind: str, exam: str, subject: str | None, topic: str | None, difficulty: str | None,
               limit: int, start: dict[str, str] | None) -> Page:
    """One page of questions (``kind`` "question") or flashcards ("flashcard") matching the filters,
    in one Query: ``limit`` + 1 items are asked for, the extra one only says whether more follow."""
    model: Any = QuestionItem if kind == "question" else FlashcardItem
    if difficulty:
        index, hash_key, sort_attr = model.by_difficulty, f"EXAM#{exam}#{difficulty}", model.gsi2_sk
    else:
        index = model.by_exam
        hash_key = f"EXAM#{exam}" if kind == "question" else f"DECK#{exam}"
        sort_attr = model.gsi1_sk
    prefix = SEPARATOR.join(part for part in (subject, topic) if part)
    condition = sort_attr.startswith(prefix + SEPARATOR) if prefix else None
    exclusive_start = {name: {"S": value} for name, value in start.items()} if start else None
    results = index.query(hash_key, condition, limit=limit + 1, page_size=limit + 1,
                          last_evaluated_key=exclusive_start)
    items = list(results)
    if len(items) <= limit:
        return Page(items, None)
    items = items[:limit]
    last = items[-1]
    key = {"pk": last.pk, "sk": last.sk}
    if difficulty:
        key.update(gsi2_pk=last.gsi2_pk, gsi2_sk=last.gsi2_sk)
    else:
        key.update(gsi1_pk=last.gsi1_pk, gsi1_sk=last.gsi1_sk)
    return Page(items, key)


def deck_start_key(exam: str, deck_sort_key: str) -> dict[str, str]:
    """The key a deck Query resumes after (the card at ``deck_sort_key`` of ``exam``'s deck)."""
    flashcard_id = deck_sort_key.rsplit(SEPARATOR, 1)[-1]
    pk, sk = flashcard_key(flashcard_id)
    return {"pk": pk, "sk": sk, "gsi1_pk": f"DECK#{exam}", "gsi1_sk": deck_sort_key}


def deck_key_before(exam: str, deck_sort_key: str) -> str | None:
    """The deck sort key of the card just before ``deck_sort_key`` in ``exam``'s deck, or None when
    it is the first card (one Query of one item, read backwards)."""
    results = FlashcardItem.by_exam.query(f"DECK#{exam}", FlashcardItem.gsi1_sk < deck_sort_key,
                                          scan_index_forward=False, limit=1, page_size=1)
    return next((str(item.gsi1_sk) for item in results), None)


def index_hash_key(kind: str, exam: str, difficulty: str | None) -> tuple[str, str]:
    """The index partition attribute and value a page of these filters reads (to check cursors)."""
    if difficulty:
        return "gsi2_pk", f"EXAM#{exam}#{difficulty}"
    return "gsi1_pk", f"EXAM#{exam}" if kind == "question" else f"DECK#{exam}"
