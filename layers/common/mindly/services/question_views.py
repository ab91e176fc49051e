"""How a question is shown to a student: as practice shows it (never the key) and its key in the
fields of its type. Shared by practice (mindly.services.questions), the next question
(mindly.services.adaptive) and mock tests (mindly.services.mock_tests), which must not load the
submit's machinery (progress, explanations, the model) to show a paper."""

from __future__ import annotations

from typing import Any

from mindly.domain import content
from mindly.store import content as content_store
from mindly.store import media as media_store

# The slot a numeric question's kept explanation is stored under, whatever number was given
# (mindly.services.explanations: its prompt does not carry the number).
NUMERIC_SLOT = "NUMERIC"

# The answer field of each question type (a submit's, a mock test save's).
ANSWER_FIELDS = {"single": "selected_option", "multiple": "selected_options", "numeric": "numeric_answer"}


def practice_view(item: content_store.QuestionItem, passages: dict[str, content_store.PassageItem] | None = None,
                  ) -> dict[str, Any]:
    """A question as practice shows it: never the answer or the explanation. ``passages`` holds
    the page's passages by id; media come with short-lived signed GET URLs (no AWS call)."""
    kind = item.question_type or "single"
    view: dict[str, Any] = {
        "question_id": item.question_id, "exam_type": item.exam_type, "subject": item.subject, "topic": item.topic,
        "difficulty": item.difficulty, "type": kind, "format": item.text_format or "text", "stem": item.stem,
        "passage": None, "media": [], "year": int(item.year) if item.year is not None else None, "paper": item.paper}
    if kind != "numeric":
        view["options"] = dict(sorted(item.options.as_dict().items())) if item.options else {}
    if item.passage_id:
        passage = (passages or {}).get(item.passage_id)
        if passage is not None:
            view["passage"] = {"passage_id": passage.passage_id, "text": passage.text}
    for ref in content_store.question_of(item).media:
        view["media"].append({"media_id": ref.media_id, "alt": ref.alt, "url": media_store.view_url(ref.media_id)})
    return view


def key_fields(question: content.Question) -> dict[str, Any]:
    """The key, in the field of the question's type (API.md: correct_option, correct_options or answer)."""
    if question.question_type == "numeric" and question.answer is not None:
        return {"answer": question.answer.record()}
    if question.question_type == "multiple":
        return {"correct_options": list(question.correct_options)}
    return {"correct_option": question.correct_option}
