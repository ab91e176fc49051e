"""The question bank and flashcard deck: importing records, idempotently by (source, external_id).

Every import path (the admin API, ``infra.cli import``, the local stack's sample content) comes
here. Each record is validated and stored on its own: one bad record is reported at its index and
never blocks the others, and a record already in the bank is skipped, so re-running an import
changes nothing.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from typing import Any

from mindly.domain import content
from mindly.domain.content_formats import RawRecord
from mindly.store import content as store
from mindly.store.errors import AlreadyExists

KINDS = ("question", "flashcard")

# Called after each record with (records done, records in all).
Progress = Callable[[int, int], None]


def _external_id(record: Any) -> str | None:
    value = record.get("external_id") if isinstance(record, dict) else None
    return str(value)[:200] if value is not None else None


def import_records(kind: str, records: Iterable[RawRecord], progress: Progress | None = None) -> dict[str, Any]:
    """Validate and store ``records``; ``{imported, skipped, errors: [{index, external_id, error}]}``."""
    if kind not in KINDS:
        raise ValueError(f"kind must be one of {KINDS}")
    pending = list(records)
    imported = skipped = 0
    errors: list[dict[str, Any]] = []
    for done, record in enumerate(pending, start=1):
        if record.problem is not None:
            errors.append({"index": record.index, "external_id": None, "error": record.problem})
        else:
            try:
                item = (store.question_item(content.parse_question(record.data)) if kind == "question"
                        else store.flashcard_item(content.parse_flashcard(record.data)))
                store.create(item)
                imported += 1
            except content.ContentError as exc:
                errors.append({"index": record.index, "external_id": _external_id(record.data), "error": str(exc)})
            except AlreadyExists:
                skipped += 1
        if progress is not None:
            progress(done, len(pending))
    return {"imported": imported, "skipped": skipped, "errors": errors}


def import_objects(kind: str, objects: list[Any]) -> dict[str, Any]:
    """Import records already decoded from JSON (the admin API's body)."""
    return import_records(kind, [RawRecord(index, data) for index, data in enumerate(objects)])
