"""Questions and flashcards in the Content table.

``Q#<id> / QUESTION`` and ``FC#<id> / FLASHCARD``, ids derived from (source, external_id) so a
re-import addresses the same item. Two GSIs serve the practice filters with one Query per page:

- ``by_exam``: pk ``EXAM#<exam>`` (questions) or ``DECK#<exam>`` (flashcards), sk
  ``<subject>#<topic>#<id>`` (``<subject>#<topic>#P:<passage>#<id>`` for a passage's questions, which
  so come together): exam, exam+subject, exam+subject+topic (begins_with);
- ``by_difficulty`` (questions only): pk ``EXAM#<exam>#<difficulty>``, same sk: the same filters
  with a difficulty.

A retired question (``retired_at`` set) leaves both practice partitions: its ``by_exam`` key moves
to ``RETIRED#<exam>`` (same sort key, so the admin list of retired questions is one Query a page as
well) and its ``by_difficulty`` key is removed. It stays readable by id, so attempts, submits
already under way and reports keep working. Any later index of active questions (mock-test
assembly) keys retired questions out the same way.
"""

from __future__ import annotations

from datetime import datetime
from decimal import Decimal
from typing import Any, NamedTuple

from pynamodb.attributes import ListAttribute, MapAttribute, NumberAttribute, UnicodeAttribute, UTCDateTimeAttribute
from pynamodb.exceptions import DoesNotExist, PutError, UpdateError

from mindly.domain.content import Flashcard, MediaRef, NumericAnswer, Passage, Question, content_hash
from mindly.store.errors import AlreadyExists, response_code
from mindly.store.models import ContentTable, batch_read

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
    options: MapAttribute[str, str] = MapAttribute(null=True)  # letter -> option text (none: numeric)
    correct_option = UnicodeAttribute(null=True)  # single
    explanation = UnicodeAttribute(null=True)
    # Added with the question types; items written before them are single, text, version 1.
    question_type = UnicodeAttribute(null=True)
    correct_options = ListAttribute(of=UnicodeAttribute, null=True)  # multiple
    # numeric: exact decimals as strings ("low", "high", and "value"/"tolerance" when given so)
    answer: MapAttribute[str, str] = MapAttribute(null=True)
    text_format = UnicodeAttribute(null=True)
    passage_id = UnicodeAttribute(null=True)
    passage_external_id = UnicodeAttribute(null=True)
    media = ListAttribute(of=MapAttribute, null=True)  # [{media_id, alt}]
    year = NumberAttribute(null=True)
    paper = UnicodeAttribute(null=True)
    version = NumberAttribute(null=True)
    content_hash = UnicodeAttribute(null=True)
    retired_at = UTCDateTimeAttribute(null=True)  # set: out of practice (see the module docstring)
    # The adaptive model's question side (mindly.store.mastery.learned_difficulty): the sums of its
    # statistics shards' steps (millionths of a logit) and answers, copied here by the fold
    # (mindly.services.question_fold) so that a read of the question has its difficulty. Never part
    # of the content hash or the version: learning is not an edit.
    learned_steps = NumberAttribute(null=True)
    learned_answers = NumberAttribute(null=True)


class PassageItem(ContentTable, discriminator="passage"):
    """``PASSAGE#<id> / PASSAGE``: a reading passage, stored once for every question that uses it
    (read in one BatchGetItem with a page of them)."""

    passage_id = UnicodeAttribute()
    text = UnicodeAttribute()
    text_format = UnicodeAttribute()


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


def question_sort_key(subject: str, topic: str, question_id: str, passage_id: str | None) -> str:
    """A question's place in its exam's indexes: by subject and topic, then the questions of one
    passage together (``P:<passage>#<question>``), so a practice page shows a passage's questions
    one after another rather than scattered over the topic."""
    return _sort_key(subject, topic, f"P:{passage_id}{SEPARATOR}{question_id}" if passage_id else question_id)


def passage_key(passage_id: str) -> tuple[str, str]:
    return f"PASSAGE#{passage_id}", "PASSAGE"


def question_item(question: Question, version: int = 1, retired_at: datetime | None = None,
                  learned_from: QuestionItem | None = None) -> QuestionItem:
    """The item of a question at ``version``; retired (``retired_at``) it is keyed out of practice.
    ``learned_from``: the stored item a new version replaces, whose learned difficulty it keeps (a
    whole-item put would otherwise drop it until the question's next fold)."""
    pk, sk = question_key(question.question_id)
    sort_key = question_sort_key(question.subject, question.topic, question.question_id,
                                 question.passage.passage_id if question.passage else None)
    answer = None
    if question.answer is not None:
        answer = {"low": str(question.answer.low), "high": str(question.answer.high)}
        if question.answer.value is not None and question.answer.tolerance is not None:
            answer.update(value=str(question.answer.value), tolerance=str(question.answer.tolerance))
    passage = question.passage
    return QuestionItem(
        pk, sk, question_id=question.question_id, source=question.source, external_id=question.external_id,
        exam_type=question.exam_type, subject=question.subject, topic=question.topic,
        difficulty=question.difficulty, stem=question.stem, options=dict(question.options) or None,
        correct_option=question.correct_option, explanation=question.explanation,
        question_type=question.question_type, correct_options=list(question.correct_options) or None,
        answer=answer, text_format=question.text_format,
        passage_id=passage.passage_id if passage else None,
        passage_external_id=passage.external_id if passage else None,
        media=[{"media_id": ref.media_id, "alt": ref.alt} for ref in question.media] or None,
        year=question.year, paper=question.paper, version=version, content_hash=content_hash(question),
        retired_at=retired_at, gsi1_pk=bank_partition(question.exam_type, retired_at is not None), gsi1_sk=sort_key,
        gsi2_pk=None if retired_at else f"EXAM#{question.exam_type}#{question.difficulty}",
        gsi2_sk=None if retired_at else sort_key,
        learned_steps=learned_from.learned_steps if learned_from is not None else None,
        learned_answers=learned_from.learned_answers if learned_from is not None else None,
    )


def bank_partition(exam: str, retired: bool) -> str:
    """The ``by_exam`` partition of an exam's active (practice) or retired questions."""
    return f"RETIRED#{exam}" if retired else f"EXAM#{exam}"


def passage_item(passage: Passage, text_format: str) -> PassageItem:
    return PassageItem(*passage_key(passage.passage_id), passage_id=passage.passage_id, text=passage.text,
                       text_format=text_format)


def question_of(item: QuestionItem, passage_text: str | None = None) -> Question:
    """The domain question an item holds (``passage_text``: its passage's, when it has one and it
    was read; the key never needs it)."""
    kind = item.question_type or "single"
    answer = None
    if item.answer is not None:
        raw = item.answer.as_dict()
        value, tolerance = raw.get("value"), raw.get("tolerance")
        answer = NumericAnswer(Decimal(raw["low"]), Decimal(raw["high"]),
                               Decimal(value) if value is not None else None,
                               Decimal(tolerance) if tolerance is not None else None)
    passage = None
    if item.passage_id:
        passage = Passage(item.passage_id, passage_text or "", item.passage_external_id or item.passage_id)
    media = tuple(MediaRef(str(ref["media_id"]), str(ref["alt"])) for ref in (_plain(m) for m in item.media or []))
    return Question(
        item.question_id, item.source, item.external_id, item.exam_type, item.subject, item.topic,
        item.difficulty, item.stem, dict(sorted(item.options.as_dict().items())) if item.options else {},
        item.correct_option, item.explanation, kind, tuple(str(letter) for letter in item.correct_options or ()),
        answer, item.text_format or "text", passage, media, int(item.year) if item.year is not None else None,
        item.paper)


def _plain(value: Any) -> dict[str, Any]:
    return value.as_dict() if isinstance(value, MapAttribute) else dict(value)


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
        return QuestionItem.get(*question_key(question_id), consistent_read=True)
    except DoesNotExist:
        return None


def replace_question(item: QuestionItem, previous_hash: str | None, retired: bool | None = None) -> bool:
    """Overwrite a stored question with a changed one, only while it still holds ``previous_hash``
    (another import or edit in between wins; False then) and, when ``retired`` is given, is still
    retired or active as read (a retirement in between wins too)."""
    condition = (QuestionItem.content_hash == previous_hash if previous_hash is not None
                 else QuestionItem.content_hash.does_not_exist()) & QuestionItem.pk.exists()
    if retired is not None:
        condition &= QuestionItem.retired_at.exists() if retired else QuestionItem.retired_at.does_not_exist()
    return _saved_if(item, condition)


def _saved_if(item: QuestionItem, condition: Any) -> bool:
    """Put ``item`` under ``condition``: False when the condition does not hold (nothing written)."""
    try:
        item.save(condition=condition)
    except PutError as exc:
        if response_code(exc) == "ConditionalCheckFailedException":
            return False
        raise
    return True


def save_passage(item: PassageItem) -> None:
    """Store a passage (a re-import with changed text replaces it for every question using it)."""
    item.save()


def passages(passage_ids: list[str]) -> dict[str, PassageItem]:
    """The passages of these ids, in one BatchGetItem (none asked: no call)."""
    if not passage_ids:
        return {}
    [found] = batch_read([(ContentTable, [passage_key(pid) for pid in dict.fromkeys(passage_ids)])],
                         consistent_read=False)
    return {item.passage_id: item for item in found if isinstance(item, PassageItem)}


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
    return index_page(list(results), limit, ("gsi2_pk", "gsi2_sk") if difficulty else ("gsi1_pk", "gsi1_sk"))


def range_bounds(subject: str | None, topic: str | None) -> tuple[str | None, str | None]:
    """The practice index's sort keys of these filters as a half-open range [low, high) (None: no
    bound): the same items as ``query_page``'s begins_with, as bounds a range can be cut at."""
    prefix = SEPARATOR.join(part for part in (subject, topic) if part)
    if not prefix:
        return None, None
    prefix += SEPARATOR
    return prefix, prefix[:-1] + chr(ord(SEPARATOR) + 1)


def query_range(exam: str, difficulty: str | None, low: str | None, high: str | None, limit: int,
                start: dict[str, str] | None) -> Page:
    """One page of the active questions whose practice sort key is in [low, high) (None: no bound),
    in one Query of ``limit`` + 1 items, in key order (the rotated practice list, and the
    candidate windows of the next question, cut a filter's range at a point with it)."""
    index: Any = QuestionItem.by_difficulty if difficulty else QuestionItem.by_exam
    sort_attr: Any = QuestionItem.gsi2_sk if difficulty else QuestionItem.gsi1_sk
    if low is not None and high is not None:
        condition = sort_attr.between(low, high)  # inclusive: a key equal to ``high`` is dropped below
    elif low is not None:
        condition = sort_attr >= low
    elif high is not None:
        condition = sort_attr < high
    else:
        condition = None
    exclusive_start = {name: {"S": value} for name, value in start.items()} if start else None
    results = index.query(f"EXAM#{exam}#{difficulty}" if difficulty else f"EXAM#{exam}", condition,
                          limit=limit + 1, page_size=limit + 1, last_evaluated_key=exclusive_start)
    keys = ("gsi2_pk", "gsi2_sk") if difficulty else ("gsi1_pk", "gsi1_sk")
    items = [item for item in results if high is None or getattr(item, keys[1]) < high]
    return index_page(items, limit, keys)


def index_page(items: list[Any], limit: int, index_keys: tuple[str, str] = ("gsi1_pk", "gsi1_sk")) -> Page:
    """A page from an index Query that asked for ``limit`` + 1 items: the first ``limit``, and the
    key the next page resumes after (the table's and the index's keys of the last one) when the
    extra item says more follow."""
    if len(items) <= limit:
        return Page(items, None)
    items = items[:limit]
    last = items[-1]
    return Page(items, {"pk": last.pk, "sk": last.sk, **{name: getattr(last, name) for name in index_keys}})


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


# --- content operations: edits at a version, retirement, the admin list ------------------------------

def _at_version(version: int | None) -> Any:
    """The condition that a stored question is still at the version read (None: written before
    versions, read as 1)."""
    return QuestionItem.version == version if version is not None else QuestionItem.version.does_not_exist()


def save_question_version(item: QuestionItem, read_version: int | None, retired: bool) -> bool:
    """Store an edited question (``item`` carries its new version) only while the stored one is at
    ``read_version`` and retired or active as read: of two edits from one version, one wins (False
    for the other)."""
    condition = QuestionItem.pk.exists() & _at_version(read_version)
    condition &= QuestionItem.retired_at.exists() if retired else QuestionItem.retired_at.does_not_exist()
    return _saved_if(item, condition)


def _update_at_version(item: QuestionItem, actions: list[Any], retired: bool) -> bool:
    version = int(item.version) if item.version is not None else None
    condition = QuestionItem.pk.exists() & _at_version(version)
    condition &= QuestionItem.retired_at.exists() if retired else QuestionItem.retired_at.does_not_exist()
    try:
        item.update(actions=actions, condition=condition)
    except UpdateError as exc:
        if response_code(exc) == "ConditionalCheckFailedException":
            return False
        raise
    return True


def retire_question(item: QuestionItem, now: datetime) -> bool:
    """Take an active question out of practice (one UpdateItem), only while it is as read (active,
    same version, so its index keys are the ones computed here); False when it changed."""
    return _update_at_version(item, [QuestionItem.retired_at.set(now),
                                     QuestionItem.gsi1_pk.set(bank_partition(item.exam_type, True)),
                                     QuestionItem.gsi2_pk.remove(), QuestionItem.gsi2_sk.remove()], retired=False)


def restore_question(item: QuestionItem) -> bool:
    """Put a retired question back into practice (one UpdateItem), only while it is as read."""
    sort_key = question_sort_key(item.subject, item.topic, item.question_id, item.passage_id)
    return _update_at_version(item, [QuestionItem.retired_at.remove(),
                                     QuestionItem.gsi1_pk.set(bank_partition(item.exam_type, False)),
                                     QuestionItem.gsi2_pk.set(f"EXAM#{item.exam_type}#{item.difficulty}"),
                                     QuestionItem.gsi2_sk.set(sort_key)], retired=True)


def bank_page(exam: str, subject: str | None, topic: str | None, retired: bool, limit: int,
              start: dict[str, str] | None) -> Page:
    """One page of an exam's active or retired questions in bank order (subject, topic, id), in
    one Query of ``limit`` + 1 items on ``by_exam``."""
    prefix = SEPARATOR.join(part for part in (subject, topic) if part)
    condition = QuestionItem.gsi1_sk.startswith(prefix + SEPARATOR) if prefix else None
    exclusive_start = {name: {"S": value} for name, value in start.items()} if start else None
    items = list(QuestionItem.by_exam.query(bank_partition(exam, retired), condition, limit=limit + 1,
                                            page_size=limit + 1, last_evaluated_key=exclusive_start))
    return index_page(items, limit)
