"""Live explanations of wrong answers (issue "Groq"): Groq through the real SDK against a fake
server on 127.0.0.1, kept per (question, option), within the submit's time budget."""

from __future__ import annotations

import time
import uuid
from typing import Any

import pytest
from support import HandlerClient, register

from infra.fake_groq import FakeGroq, ok, server_error, slow
from mindly.domain.content import content_id
from mindly.domain.content_formats import RawRecord
from mindly.services import content

API = "/api/v1"
SOURCE = f"live-{uuid.uuid4().hex[:8]}"
TEXT = "Because B follows from the definition, while D confuses the two ideas entirely."


def _questions(count: int) -> list[str]:
    records = [{"source": SOURCE, "external_id": f"q{uuid.uuid4().hex[:6]}-{n}", "exam_type": "UPSC",
                "subject": "Polity", "topic": "Judiciary", "difficulty": "medium", "stem": f"Judiciary {n}?",
                "options": {"A": "one", "B": "two", "C": "three", "D": "four"}, "correct_option": "B",
                "explanation": "Because two."} for n in range(count)]
    assert content.import_records("question", [RawRecord(i, r) for i, r in enumerate(records)])["errors"] == []
    return [content_id("question", SOURCE, r["external_id"]) for r in records]


@pytest.fixture
def student(auth_fn: Any, questions_fn: Any) -> HandlerClient:
    return HandlerClient(questions_fn, token=register(auth_fn).data["access_token"])


def _wrong(student: HandlerClient, qid: str, option: str = "D") -> Any:
    return student.post(f"{API}/questions/submit", {"question_id": qid, "selected_option": option,
                                                    "confidence_rating": 4, "time_taken_seconds": 30})


def test_a_wrong_answer_gets_a_groq_explanation_kept_per_question_and_option(groq_on: FakeGroq,
                                                                              student: HandlerClient) -> None:
    [qid] = _questions(1)
    groq_on.then(ok({"text": TEXT}))
    first = _wrong(student, qid)
    assert first.status == 200, first
    assert first.data["ai_explanation"] == {"text": TEXT, "source": "groq"}
    assert first.data["ai_explanation_status"] == "ok"
    prompt = groq_on.requests[0]["body"]["messages"][1]["content"]
    assert "Judiciary 0?" in prompt and "Correct option: B" in prompt and "The student chose: D" in prompt
    # The same pair again, even with the Redis cache gone, costs no call: it is kept in DynamoDB
    from mindly.cache.client import get_redis

    get_redis().flushall()
    again = _wrong(student, qid)
    assert again.data["ai_explanation"] == {"text": TEXT, "source": "cache"}
    assert len(groq_on.requests) == 1
    # Another wrong option is another pair
    _wrong(student, qid, "A")
    assert len(groq_on.requests) == 2


def test_wrong_answers_over_a_few_pairs_cost_one_call_per_pair(groq_on: FakeGroq, student: HandlerClient) -> None:
    qids = _questions(4)
    groq_on.then(ok({"text": TEXT}))
    for round_ in range(5):
        for qid in qids:
            assert _wrong(student, qid).data["ai_explanation_status"] == "ok", round_
    assert len(groq_on.requests) == 4


def test_a_slow_groq_leaves_the_explanation_unavailable_within_the_budget(groq_on: FakeGroq,
                                                                          student: HandlerClient,
                                                                          questions_fn: Any) -> None:
    [qid] = _questions(1)
    groq_on.then(slow(5, {"text": TEXT}))
    started = time.monotonic()
    answer = _wrong(student, qid)
    elapsed = time.monotonic() - started
    assert answer.status == 200
    assert (answer.data["ai_explanation"], answer.data["ai_explanation_status"]) == (None, "unavailable")
    assert elapsed < 5  # the submit did not wait for Groq (the bench measures the budget)
    # And the attempt was recorded
    attempts = student.get(f"{API}/questions/attempts").data["items"]
    assert [a["question_id"] for a in attempts] == [qid]
    # (let the abandoned Groq call end within its own deadline before the next test)
    time.sleep(max(0.0, 3.0 - (time.monotonic() - started)))


def test_groq_errors_leave_it_unavailable_and_an_open_breaker_falls_back_offline(groq_on: FakeGroq,
                                                                                 student: HandlerClient) -> None:
    qids = _questions(3)
    groq_on.then(server_error())
    assert _wrong(student, qids[0]).data["ai_explanation_status"] == "unavailable"
    assert _wrong(student, qids[1]).data["ai_explanation_status"] == "unavailable"
    # Six failed calls opened the breaker: Groq is known to be down, the offline generator answers
    third = _wrong(student, qids[2])
    assert third.data["ai_explanation_status"] == "ok" and third.data["ai_explanation"]["source"] == "offline"
