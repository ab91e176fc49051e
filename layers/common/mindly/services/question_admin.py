"""Content operations on the question bank, for administrators: the list with keys and statistics,
edits (each a new version), retiring a question and bringing it back.

A question's admin view carries ``record``, its import form exactly as ``PUT
/admin/questions/{id}`` takes it (so an edit is: take the record, change it, send it back), beside
its id, version, status and statistics (mindly.domain.question_stats). Attempts never change
with an edit: each stores the version it answered and the key it was graded against.
"""

from __future__ import annotations

from collections.abc import Mapping
from datetime import datetime
from typing import Any

from mindly.domain import content, question_stats, syllabus
from mindly.exceptions import Conflict, InvalidExamType, NotFound, ValidationFailed
from mindly.services import content as importing
from mindly.services import pages
from mindly.store import content as store
from mindly.store import question_stats as stats_store

ACTIVE, RETIRED = "active", "retired"


def _utc(at: datetime | None) -> str | None:
    return at.strftime("%Y-%m-%dT%H:%M:%SZ") if at is not None else None


def admin_view(item: store.QuestionItem, passages: Mapping[str, str],
               stats: question_stats.QuestionStats) -> dict[str, Any]:
    """A question as an admin sees it: its import form (key included, of any type), version,
    status and statistics. ``passages``: passage id -> text, for the questions that have one."""
    question = store.question_of(item, passages.get(str(item.passage_id)) if item.passage_id else None)
    return {"question_id": item.question_id, "version": int(item.version or 1),
            "status": RETIRED if item.retired_at is not None else ACTIVE, "retired_at": _utc(item.retired_at),
            "record": content.question_record(question), "stats": stats.view()}


def _views(items: list[store.QuestionItem]) -> list[dict[str, Any]]:
    """Admin views of a page of questions: their shards and passages in one batched read."""
    question_ids = [str(item.question_id) for item in items]
    passage_ids = [str(item.passage_id) for item in items if item.passage_id]
    found = stats_store.read_content([*stats_store.shard_keys(question_ids),
                                      *(store.passage_key(pid) for pid in dict.fromkeys(passage_ids))])
    texts = {str(p.passage_id): str(p.text) for p in found if isinstance(p, store.PassageItem)}
    stats = stats_store.stats_from(found, question_ids)
    return [admin_view(item, texts, stats[str(item.question_id)]) for item in items]


def _placement(exam: str, subject: str | None, topic: str | None) -> tuple[str | None, str | None]:
    """Subject and topic filters in syllabus spelling (matched case-insensitively); a topic needs
    its subject. 422 on the field otherwise."""
    canonical_subject = canonical_topic = None
    if subject:
        canonical_subject = syllabus.canonical_subject(exam, subject)
        if canonical_subject is None:
            raise ValidationFailed(f"'{subject[:60]}' is not a subject of {exam}", field="subject")
    if topic:
        if canonical_subject is None:
            raise ValidationFailed("topic needs subject", field="topic")
        canonical_topic = syllabus.canonical_topic(exam, canonical_subject, topic)
        if canonical_topic is None:
            raise ValidationFailed(f"'{topic[:60]}' is not a topic of {canonical_subject}", field="topic")
    return canonical_subject, canonical_topic


def list_questions(admin_id: str, exam: str, subject: str | None, topic: str | None, status: str, page: int,
                   limit: int, cursor: str | None) -> dict[str, Any]:
    """GET /admin/questions: one Query a page on the exam's active or retired partition, then the
    answered page's statistics and passages in one batched read (ceil(16 x items / 100)
    BatchGetItems: 16 shards a question, 100 keys a request)."""
    code = syllabus.normalize_exam(exam)
    if code is None:
        raise InvalidExamType(f"Unknown exam type '{exam[:40]}'; expected one of {', '.join(syllabus.EXAM_TYPES)}",
                              field="exam")
    subject, topic = _placement(code, subject, topic)
    retired = status == RETIRED
    last_page: list[store.QuestionItem] = []
    views: dict[int, dict[str, Any]] = {}

    def fetch(start: pages.Key | None) -> tuple[list[Any], pages.Key | None]:
        found = store.bank_page(code, subject, topic, retired, limit, start)
        last_page[:] = found.items
        return found.items, found.last_key

    def render(item: store.QuestionItem) -> dict[str, Any]:
        # Only the page answered is rendered (a page number walks the pages before it, unread).
        if not views:
            views.update(zip((id(listed) for listed in last_page), _views(last_page), strict=True))
        return views[id(item)]

    scope = pages.Scope("admin/questions", admin_id, {"exam": code, "subject": subject, "topic": topic,
                                                       "status": status})
    return pages.paginate(fetch, page, limit, cursor, scope, {"gsi1_pk": store.bank_partition(code, retired)},
                          render)


def _stored(question_id: str) -> store.QuestionItem:
    item = store.get_question(question_id)
    if item is None:
        raise NotFound("No such question")
    return item


def question_view(item: store.QuestionItem) -> dict[str, Any]:
    """One question's admin view (its shards and passage in one BatchGetItem)."""
    [view] = _views([item])
    return view


def edit_question(question_id: str, record: Any, expected_version: int | None) -> dict[str, Any]:
    """PUT /admin/questions/{id}: the record (import form) replaces the question as a new version,
    conditional on the version read (two edits from one version: one wins, the other is 409).
    ``expected_version``, when given, must be the stored version (409 otherwise): an admin editing
    what they saw cannot overwrite an edit made since. The record's source and external_id may be
    left out; given, they must be the question's own."""
    stored = _stored(question_id)
    if not isinstance(record, dict):
        raise ValidationFailed("a question record is a JSON object")
    read_version = int(stored.version) if stored.version is not None else None
    if expected_version is not None and expected_version != (read_version or 1):
        raise Conflict(f"the question is at version {read_version or 1}, not {expected_version}", field="version")
    for name in ("source", "external_id"):
        given = record.get(name)
        if given is not None and given != getattr(stored, name):
            raise ValidationFailed(f"{name} is the question's identity and cannot change", field=name)
    try:
        question = content.parse_question({**record, "source": stored.source, "external_id": stored.external_id})
        importing.check_media(question)
    except content.ContentError as exc:
        raise ValidationFailed(str(exc)) from exc
    item = store.question_item(question, version=(read_version or 1) + 1, retired_at=stored.retired_at,
                               learned_from=stored)
    if stored.content_hash == item.content_hash:
        return question_view(stored)  # nothing changed: no new version
    if not store.save_question_version(item, read_version, retired=stored.retired_at is not None):
        raise Conflict("the question was changed by someone else meanwhile; read it again")
    # The passage after the question: an edit that lost changes no passage other questions share.
    importing.store_passage(question, {})
    return question_view(item)


def retire(question_id: str, now: datetime) -> dict[str, Any]:
    """POST /admin/questions/{id}/retire: out of practice (and of any new mock test), readable by
    id, attempts kept. Retiring a retired question changes nothing."""
    return _set_retired(question_id, now)


def restore(question_id: str) -> dict[str, Any]:
    """POST /admin/questions/{id}/restore: a retired question back into practice (an active one
    stays as it is)."""
    return _set_retired(question_id, None)


def _set_retired(question_id: str, now: datetime | None) -> dict[str, Any]:
    for _ in range(3):  # an edit landing between the read and the update: read again
        item = _stored(question_id)
        if (item.retired_at is not None) == (now is not None):
            return question_view(item)
        done = store.retire_question(item, now) if now is not None else store.restore_question(item)
        if done:
            return question_view(item)
    raise Conflict("the question kept changing; try again")
