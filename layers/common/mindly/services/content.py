"""The question bank and flashcard deck: importing records, idempotently by (source, external_id).

Every import path (the admin API, ``infra.cli import``, the local stack's sample content) comes
here. Each record is validated and stored on its own: one bad record is reported at its index and
never blocks the others. A question already in the bank is skipped when its content hash is the
one stored (re-running an import changes nothing) and updated, as a new version, when it changed;
flashcards already there are skipped. A question's passage is stored once, under an id derived
from (source, passage id), and its media must already be in the media bucket. A retired question
stays retired when its record is imported again (see ``_store_question``).
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from typing import Any

from mindly.domain import content
from mindly.domain.content_formats import RawRecord
from mindly.store import content as store
from mindly.store import media as media_store
from mindly.store.errors import AlreadyExists

KINDS = ("question", "flashcard")

# Called after each record with (records done, records in all).
Progress = Callable[[int, int], None]


def _external_id(record: Any) -> str | None:
    value = record.get("external_id") if isinstance(record, dict) else None
    return str(value)[:200] if value is not None else None


def import_records(kind: str, records: Iterable[RawRecord], progress: Progress | None = None) -> dict[str, Any]:
    """Validate and store ``records``; ``{imported, updated, skipped, errors: [{index, external_id, error}]}``."""
    if kind not in KINDS:
        raise ValueError(f"kind must be one of {KINDS}")
    pending = list(records)
    counts = {"imported": 0, "updated": 0, "skipped": 0}
    errors: list[dict[str, Any]] = []
    saved_passages: dict[str, str] = {}  # passage id -> text, written by this import already
    for done, record in enumerate(pending, start=1):
        if record.problem is not None:
            errors.append({"index": record.index, "external_id": None, "error": record.problem})
        else:
            try:
                if kind == "question":
                    outcome = _store_question(content.parse_question(record.data), saved_passages)
                else:
                    outcome = _store_flashcard(content.parse_flashcard(record.data))
                counts[outcome] += 1
            except content.ContentError as exc:
                errors.append({"index": record.index, "external_id": _external_id(record.data), "error": str(exc)})
        if progress is not None:
            progress(done, len(pending))
    return {**counts, "errors": errors}


def _store_flashcard(card: content.Flashcard) -> str:
    try:
        store.create(store.flashcard_item(card))
    except AlreadyExists:
        return "skipped"
    return "imported"


def check_media(question: content.Question) -> None:
    """ContentError unless every image the question names is in the media bucket."""
    if question.media:
        missing = media_store.missing([ref.media_id for ref in question.media])
        if missing:
            raise content.ContentError(f"media {', '.join(sorted(missing))} not uploaded (POST /admin/media first)")


def store_passage(question: content.Question, saved_passages: dict[str, str]) -> None:
    """Store the question's passage, unless this import stored that text already (``saved_passages``)."""
    passage = question.passage
    if passage is not None and saved_passages.get(passage.passage_id) != passage.text:
        store.save_passage(store.passage_item(passage, question.text_format))
        saved_passages[passage.passage_id] = passage.text


def _store_question(question: content.Question, saved_passages: dict[str, str]) -> str:
    """Store one question (and its passage): "imported", "updated" or "skipped".

    A retired question stays retired: a changed record updates its content (a new version) and
    leaves it out of practice; only ``POST /admin/questions/{id}/restore`` brings it back. An
    import is a bulk path that cannot tell a deliberate retirement from a stale file, so it never
    undoes one."""
    check_media(question)
    store_passage(question, saved_passages)
    item = store.question_item(question)
    try:
        store.create(item)
        return "imported"
    except AlreadyExists:
        pass
    stored = store.get_question(question.question_id)
    if stored is None:  # deleted in between: store it afresh
        store.create(item)
        return "imported"
    if stored.content_hash == item.content_hash:
        return "skipped"
    if not stored.content_hash and content.content_hash(store.question_of(stored)) == item.content_hash:
        return "skipped"  # stored before content hashes, unchanged since
    changed = store.question_item(question, version=int(stored.version or 1) + 1, retired_at=stored.retired_at,
                                  learned_from=stored)
    if not store.replace_question(changed, stored.content_hash, retired=stored.retired_at is not None):
        raise content.ContentError("the question changed while it was being imported; import it again")
    return "updated"


def import_objects(kind: str, objects: list[Any]) -> dict[str, Any]:
    """Import records already decoded from JSON (the admin API's body)."""
    return import_records(kind, [RawRecord(index, data) for index, data in enumerate(objects)])
