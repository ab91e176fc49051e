"""The live explanation of a wrong answer, within the submit's time budget.

In order: the explanation kept for this (question, option) pair in DynamoDB (read with the submit's
own batch, so it costs nothing more); without Groq keys, or while Groq is known to be down (the
circuit breaker is open), the offline generator; otherwise Groq, given whatever is left of the
budget. A Groq answer is kept in DynamoDB for good. When Groq fails or the budget runs out, the
answer is "unavailable" and the submit goes on without it.
"""

from __future__ import annotations

import contextvars
import time
from concurrent.futures import ThreadPoolExecutor
from concurrent.futures import TimeoutError as FutureTimeout
from typing import Any

from mindly.domain.content import Question
from mindly.exceptions import GroqRateLimitError
from mindly.llm import explanations as texts
from mindly.llm.client import GroqError, GroqUnavailable, groq_client
from mindly.observability import logger
from mindly.services.question_views import NUMERIC_SLOT
from mindly.store import content as content_store

CACHE_TTL_SECONDS = 3600  # the Redis copy; DynamoDB keeps it for good
_pool = ThreadPoolExecutor(max_workers=8, thread_name_prefix="explain")


def explain(question: Question, chosen: str, kept: content_store.ExplanationItem | None,
            deadline: float) -> tuple[dict[str, Any] | None, str]:
    """``(ai_explanation, ai_explanation_status)`` for the wrong answer ``chosen`` (its
    ``explanation_slot``); ``deadline`` is a ``time.monotonic()`` value the explanation must be ready by."""
    if kept is not None:
        return texts.response(kept.text, "cache"), "ok"
    parts = (question, chosen)
    client = groq_client()
    if client is None:
        return texts.response(texts.offline(*parts), "offline"), "ok"
    remaining = deadline - time.monotonic()
    if remaining <= 0.05:
        return None, "unavailable"
    # In the request's context, so the call's log lines and metrics belong to this invocation.
    future = _pool.submit(contextvars.copy_context().run, client.complete_json, texts.SYSTEM,
                          texts.prompt(*parts), texts.Explanation, CACHE_TTL_SECONDS, remaining, kind="explanation")
    try:
        answer = future.result(timeout=remaining)
    except GroqUnavailable:
        return texts.response(texts.offline(*parts), "offline"), "ok"
    except (FutureTimeout, GroqError, GroqRateLimitError) as exc:
        logger.warning("live explanation unavailable", extra={"reason": type(exc).__name__})
        return None, "unavailable"
    try:
        content_store.save_explanation(question.question_id, explanation_slot(question.question_type, chosen),
                                       answer.value.text, client.model)
    except Exception:  # keeping it is an optimisation; the student still gets the answer
        logger.warning("explanation not kept", extra={"question_id": question.question_id})
    return texts.response(answer.value.text, answer.source), "ok"




def explanation_slot(question_type: str, chosen: str) -> str:
    """Which kept explanation a wrong answer reads: one per wrong option or option set, and one for
    every wrong number of a numeric question (so the kept texts per question stay bounded)."""
    return NUMERIC_SLOT if question_type == "numeric" else chosen.replace(",", "")
