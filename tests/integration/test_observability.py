"""What operators see, through the functions' real handlers: every log line of an invocation carries
the request id and that invocation's own Lambda context (also with functions running side by side in
threads, as the local stack runs them), and the business metrics leave as CloudWatch EMF blobs on
stdout, once per invocation, without ever failing a request."""

from __future__ import annotations

import asyncio
import json
import sys
import threading
import uuid
import warnings
from collections.abc import Iterator
from typing import Any

import pytest
from fastapi.testclient import TestClient
from support import Answer, HandlerClient, http_event, register

from infra.cfn import Route
from infra.fake_groq import FakeGroq, ok, server_error
from infra.router import GatewayRouter
from mindly import observability
from mindly.domain import syllabus
from mindly.domain.content_formats import RawRecord
from mindly.services import content, questions

API = "/api/v1"
SOURCE = f"obs-{uuid.uuid4().hex[:8]}"


class Context:
    """A Lambda context naming ``function_name``, with a fresh request id."""

    def __init__(self, function_name: str) -> None:
        self.function_name = function_name
        self.function_version = "$LATEST"
        self.memory_limit_in_mb = 1024
        self.invoked_function_arn = f"arn:aws:lambda:ap-south-1:123456789012:function:{function_name}"
        self.aws_request_id = uuid.uuid4().hex

    @staticmethod
    def get_remaining_time_in_millis() -> int:
        return 10_000


class _CurrentStdout:
    """Powertools' handler keeps the stdout it found at import; this follows capsys's instead."""

    def write(self, text: str) -> int:
        return sys.stdout.write(text)

    def flush(self) -> None:
        sys.stdout.flush()


class Captured:
    """What the test wrote to stdout so far: JSON log lines and EMF metric blobs."""

    def __init__(self, capsys: pytest.CaptureFixture[str]) -> None:
        self.capsys = capsys
        self.logs: list[dict[str, Any]] = []
        self.blobs: list[dict[str, Any]] = []

    def read(self) -> Captured:
        for line in self.capsys.readouterr().out.splitlines():
            if line.startswith("{"):
                record = json.loads(line)
                (self.blobs if "_aws" in record else self.logs).append(record)
        return self

    def requests(self) -> list[dict[str, Any]]:
        return [line for line in self.read().logs if line.get("message") == "request"]

    def metric(self, name: str, **dimensions: str) -> float:
        """The sum of ``name`` over blobs whose dimension set is exactly service + ``dimensions``."""
        total = 0.0
        for blob in self.read().blobs:
            for directive in blob["_aws"]["CloudWatchMetrics"]:
                names = {m["Name"] for m in directive["Metrics"]}
                if name not in names or directive["Namespace"] != "Mindly":
                    continue
                wanted = {"service": "mindly", **dimensions}
                if set(directive["Dimensions"][0]) != set(wanted) or any(blob[k] != v for k, v in wanted.items()):
                    continue
                value = blob[name]
                total += sum(value) if isinstance(value, list) else value
        return total

    def metric_names(self) -> set[str]:
        return {m["Name"] for blob in self.read().blobs for d in blob["_aws"]["CloudWatchMetrics"]
                for m in d["Metrics"]}


@pytest.fixture
def out(capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch) -> Iterator[Captured]:
    monkeypatch.setattr(observability.logger.registered_handler, "stream", _CurrentStdout())
    capsys.readouterr()
    yield Captured(capsys)


def invoke(module: Any, function_name: str, method: str, path: str, body: Any = None,
           token: str | None = None, query: dict[str, str] | None = None) -> Answer:
    headers = {"authorization": f"Bearer {token}"} if token else None
    event = http_event(method, path, body, headers, query=query,
                       source_ip=f"198.51.100.{uuid.uuid4().int % 250 + 1}")
    return Answer(module.handler(event, Context(function_name)))


@pytest.fixture(scope="module")
def question_ids() -> dict[str, str]:
    """Two UPSC questions of this module's own: {question id: correct option}."""
    subject = syllabus.subjects("UPSC")[0]
    records = [{"source": SOURCE, "external_id": f"q{n}", "exam_type": "UPSC", "subject": subject.name,
                "topic": subject.topics[0], "difficulty": "easy", "stem": f"{SOURCE} question {n}?",
                "options": {"A": f"one {n}", "B": f"two {n}", "C": f"three {n}", "D": f"four {n}"},
                "correct_option": "B", "explanation": f"Because {n}."} for n in range(2)]
    assert content.import_records("question", [RawRecord(i, r) for i, r in enumerate(records)])["errors"] == []
    found: dict[str, str] = {}
    cursor = None
    while len(found) < 2:
        page = questions.practice("nobody", "UPSC", subject.name, subject.topics[0], None, 1, 50, cursor)
        found.update({item["question_id"]: "B" for item in page["items"] if item["stem"].startswith(SOURCE)})
        cursor = page.get("next_cursor")
        if not cursor:
            break
    assert len(found) == 2
    return found


@pytest.fixture
def student(auth_fn: Any, profile_fn: Any) -> str:
    token = str(register(auth_fn, name="Meera").data["access_token"])
    profile = {"exam_type": "UPSC", "level": "beginner", "study_hours_per_day": 2, "target_date": "2035-05-01",
               "weak_subjects": []}
    assert HandlerClient(profile_fn, token=token).put(f"{API}/profile", profile).status == 200
    return token


def _submit(questions_fn: Any, token: str, question_id: str, option: str,
            attempt_id: str | None = None) -> Answer:
    body = {"question_id": question_id, "selected_option": option, "confidence_rating": 3,
            "time_taken_seconds": 12, "attempt_id": attempt_id or uuid.uuid4().hex}
    return invoke(questions_fn, "QuestionsFunction", "POST", f"{API}/questions/submit", body, token)


# --- logs ----------------------------------------------------------------------------------------------

def test_every_log_line_of_a_request_carries_the_lambda_context_and_the_request_id(
        auth_fn: Any, upstash: Any, out: Captured) -> None:
    # Given a function never invoked before in this process, and Redis down (its health check logs)
    name = f"AuthFunction-{uuid.uuid4().hex[:6]}"
    upstash.set_down(True)
    # When it is invoked twice
    first = invoke(auth_fn, name, "GET", f"{API}/health")
    upstash.set_down(False)
    invoke(auth_fn, name, "GET", f"{API}/health")
    # Then the request lines carry the Lambda context: cold the first time only
    lines = out.requests()
    assert [line["cold_start"] for line in lines] == [True, False]
    assert all(line["function_name"] == name and line["function_arn"].endswith(name) for line in lines)
    assert len({line["function_request_id"] for line in lines}) == 2
    assert lines[0]["request_id"] == first.headers["x-request-id"]
    # And so does a line written inside the route (a sync route runs in a worker thread)
    warning = next(line for line in out.logs if line.get("message") == "health check failed")
    assert {k: warning[k] for k in ("function_name", "function_request_id", "request_id")} == {
        k: lines[0][k] for k in ("function_name", "function_request_id", "request_id")}
    # And nothing of the invocation stays on a line written after it
    observability.logger.info("between invocations")
    after = next(line for line in out.read().logs if line["message"] == "between invocations")
    assert not {"function_name", "function_request_id", "cold_start", "request_id"} & after.keys()


def test_functions_invoked_concurrently_in_threads_keep_their_own_context(
        auth_fn: Any, profile_fn: Any, out: Captured) -> None:
    # Given two functions invoked side by side from threads, as the local stack runs them
    start = threading.Barrier(2)

    def run(module: Any, name: str, path: str) -> None:
        asyncio.set_event_loop(asyncio.new_event_loop())  # Mangum drives the app on the thread's loop
        start.wait()
        for _ in range(10):
            assert invoke(module, name, "GET", path).status == 200

    threads = [threading.Thread(target=run, args=(auth_fn, "AuthFunction", f"{API}/health")),
               threading.Thread(target=run, args=(profile_fn, "ProfileFunction", f"{API}/syllabus/GATE"))]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    # Then every request line names the function that served it, with its own request ids
    lines = out.requests()
    assert len(lines) == 20
    owner = {f"{API}/health": "AuthFunction", f"{API}/syllabus/GATE": "ProfileFunction"}
    assert all(line["function_name"] == owner[line["path"]] for line in lines)
    assert len({line["function_request_id"] for line in lines}) == 20


def test_the_worker_context_does_not_stick_to_the_next_request(
        roadmap_worker_fn: Any, flashcards_fn: Any, out: Captured) -> None:
    # Given the roadmap worker has run (a message it cannot use: reported as a failure)
    event = {"Records": [{"messageId": "m-1", "receiptHandle": "r", "body": "{}", "attributes": {},
                          "messageAttributes": {}, "md5OfBody": "", "eventSource": "aws:sqs",
                          "eventSourceARN": "arn:aws:sqs:ap-south-1:123456789012:q", "awsRegion": "ap-south-1"}]}
    failed = roadmap_worker_fn.handler(event, Context("RoadmapWorkerFunction"))
    assert failed["batchItemFailures"] == [{"itemIdentifier": "m-1"}]
    # When the flashcards function answers a request, in AWS and through the local router
    invoke(flashcards_fn, "FlashcardsFunction", "GET", f"{API}/flashcards/due")
    route = Route("FlashcardsFunction", "functions/flashcards/", "app.handler", "ANY", "/api/v1/flashcards/{proxy+}")
    router = GatewayRouter([(route, flashcards_fn.app)], timeouts={"FlashcardsFunction": 10})
    with TestClient(router) as client:
        assert client.post(f"{API}/flashcards/review", json={}).status_code == 401
    # Then both request lines name the flashcards function, not the worker
    lines = out.requests()
    assert [(line["path"], line["function_name"]) for line in lines] == [
        (f"{API}/flashcards/due", "FlashcardsFunction"), (f"{API}/flashcards/review", "FlashcardsFunction")]
    assert all(line["function_request_id"] and "cold_start" in line for line in lines)


# --- metrics -------------------------------------------------------------------------------------------

def test_answers_are_counted_right_and_wrong_once_each(
        questions_fn: Any, student: str, question_ids: dict[str, str], out: Captured) -> None:
    right_id, wrong_id = list(question_ids)
    # When a student answers one question right and one wrong (no Groq: explained offline), then
    # retries the wrong one with the same attempt id
    attempt = uuid.uuid4().hex
    assert _submit(questions_fn, student, right_id, "B").data["is_correct"] is True
    assert _submit(questions_fn, student, wrong_id, "C", attempt).data["is_correct"] is False
    assert _submit(questions_fn, student, wrong_id, "C", attempt).status == 200
    # Then one right and one wrong answer are counted, and no Groq call
    assert out.metric("AnswersSubmitted", outcome="correct") == 1
    assert out.metric("AnswersSubmitted", outcome="wrong") == 1
    assert "GroqCalls" not in out.metric_names()
    # And each invocation printed at most one blob per dimension set
    assert len(out.blobs) == 2


def test_flashcard_reviews_are_counted(auth_fn: Any, profile_fn: Any, flashcards_fn: Any, out: Captured) -> None:
    # Given a student with a due card of their own (a wrong answer's mistake card has no deck to set up)
    token = str(register(auth_fn, name="Ravi").data["access_token"])
    profile = {"exam_type": "JEE", "level": "beginner", "study_hours_per_day": 2, "target_date": "2035-05-01",
               "weak_subjects": []}
    assert HandlerClient(profile_fn, token=token).put(f"{API}/profile", profile).status == 200
    records = [{"source": SOURCE, "external_id": "fc-1", "exam_type": "JEE", "subject": "Physics",
                "topic": "Kinematics", "question": f"{SOURCE} card?", "answer": "yes", "difficulty": 2}]
    assert content.import_records("flashcard", [RawRecord(0, r) for r in records])["errors"] == []
    due = invoke(flashcards_fn, "FlashcardsFunction", "GET", f"{API}/flashcards/due", token=token,
                 query={"limit": "100"})
    card = next(c for c in due.data["cards"] if c["question"] == f"{SOURCE} card?")
    out.read()
    # When it is reviewed
    body = {"flashcard_id": card["flashcard_id"], "rating": 4}
    answer = invoke(flashcards_fn, "FlashcardsFunction", "POST", f"{API}/flashcards/review", body, token)
    assert answer.status == 200, answer
    # Then one review is counted
    assert out.metric("FlashcardReviews") == 1


def test_groq_calls_and_cache_hits_are_counted_by_kind_and_outcome(
        questions_fn: Any, student: str, question_ids: dict[str, str], groq_on: FakeGroq, settings: Any,
        monkeypatch: pytest.MonkeyPatch, out: Captured) -> None:
    monkeypatch.setattr(settings, "explanation_budget_seconds", 30.0)  # a loaded machine stays on time
    groq_on.then(ok({"text": "C misreads the question; B follows from it."}))
    # When a wrong answer is explained by Groq
    answer = _submit(questions_fn, student, list(question_ids)[1], "D")
    assert answer.data["ai_explanation"]["source"] == "groq", answer
    # Then one explanation call is counted, in the submit's own invocation
    assert out.metric("GroqCalls", kind="explanation", outcome="ok") == 1
    assert out.metric("AnswersSubmitted", outcome="wrong") == 1
    # And the client counts cache hits, failures and the breaker opening (same invocation, in a job)
    from mindly.cache.client import get_redis
    from mindly.llm.client import GroqClient, GroqError, GroqUnavailable
    from mindly.llm.explanations import Explanation

    client = GroqClient(get_redis(), ["gsk_a"], base_url=groq_on.url, timeout_seconds=2, sleep=lambda _s: None)
    with observability.invocation(Context("RoadmapWorkerFunction")):
        groq_on.then(ok({"text": "A roadmap answer long enough to validate."}))
        for _ in range(2):
            client.complete_json("s", "the same prompt", Explanation, 60, kind="roadmap")
        groq_on.then(server_error())
        for _ in range(2):  # three failed tries each: the fifth failure opens the breaker
            with pytest.raises(GroqError):
                client.complete_json("s", f"fails {uuid.uuid4()}", Explanation, 60, kind="roadmap")
        with pytest.raises(GroqUnavailable):
            client.complete_json("s", f"fails {uuid.uuid4()}", Explanation, 60, kind="roadmap")
    assert out.metric("GroqCalls", kind="roadmap", outcome="ok") == 1
    assert out.metric("GroqCacheHits", kind="roadmap") == 1
    assert out.metric("GroqCalls", kind="roadmap", outcome="error") == 2
    assert out.metric("GroqCalls", kind="roadmap", outcome="breaker_open") == 1
    assert out.metric("CircuitBreakerOpens") == 1


def test_503_answers_are_counted_by_function(auth_fn: Any, upstash: Any, out: Captured) -> None:
    # When the health check answers 503 (Redis down), once
    upstash.set_down(True)
    assert invoke(auth_fn, "AuthFunction", "GET", f"{API}/health").status == 503
    upstash.set_down(False)
    assert invoke(auth_fn, "AuthFunction", "GET", f"{API}/health").status == 200
    # Then one SERVICE_UNAVAILABLE answer is counted for that function
    assert out.metric("ServiceUnavailableAnswers", function="AuthFunction") == 1


def test_an_invocation_without_metrics_prints_none_and_warns_nothing(auth_fn: Any, out: Captured) -> None:
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        assert invoke(auth_fn, "AuthFunction", "GET", f"{API}/health").status == 200
    assert out.read().blobs == []
    assert [str(w.message) for w in caught] == []


@pytest.mark.parametrize("broken", ["add_metric", "flush_metrics"])
def test_a_failing_metric_never_fails_the_request(questions_fn: Any, student: str, question_ids: dict[str, str],
                                                   monkeypatch: pytest.MonkeyPatch, broken: str,
                                                   out: Captured) -> None:
    # Given the metrics library failing
    def fail(*_args: Any, **_kwargs: Any) -> None:
        raise RuntimeError("metrics down")

    monkeypatch.setattr(observability.EphemeralMetrics, broken, fail)
    # When a student answers
    answer = _submit(questions_fn, student, next(iter(question_ids)), "B")
    # Then the answer is recorded all the same, and the failure is logged
    assert answer.status == 200, answer
    assert any(line["message"] in ("metric not recorded", "metrics not flushed") for line in out.read().logs)


def test_outside_an_invocation_nothing_is_recorded(out: Captured) -> None:
    observability.count("AnswersSubmitted", outcome="correct")
    assert out.read().blobs == []

