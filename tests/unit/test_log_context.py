"""mindly.observability on its own: an invocation's log keys and metrics are its own, in threads
too, and a metric recorded after its invocation ended is still printed."""

from __future__ import annotations

import contextvars
import json
import threading
import uuid
from typing import Any

import pytest

from mindly import observability


class Context:
    def __init__(self, function_name: str) -> None:
        self.function_name = function_name
        self.memory_limit_in_mb = 512
        self.invoked_function_arn = f"arn:aws:lambda:ap-south-1:123456789012:function:{function_name}"
        self.aws_request_id = uuid.uuid4().hex


def _blobs(capsys: pytest.CaptureFixture[str]) -> list[dict[str, Any]]:
    return [json.loads(line) for line in capsys.readouterr().out.splitlines()
            if line.startswith("{") and "_aws" in line]


def test_keys_bound_in_one_thread_are_invisible_to_another_and_gone_after_the_block() -> None:
    seen: dict[str, dict[str, Any]] = {}
    inside = threading.Barrier(2)

    def run(name: str) -> None:
        with observability.invocation(Context(name)), observability.log_keys(request_id=f"req-{name}"):
            inside.wait()  # both invocations are open at once
            seen[name] = dict(observability.logger.thread_safe_get_current_keys())
        seen[f"{name} after"] = dict(observability.logger.thread_safe_get_current_keys())

    threads = [threading.Thread(target=run, args=(name,)) for name in ("One", "Two")]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert (seen["One"]["function_name"], seen["One"]["request_id"]) == ("One", "req-One")
    assert (seen["Two"]["function_name"], seen["Two"]["request_id"]) == ("Two", "req-Two")
    assert seen["One"]["function_request_id"] != seen["Two"]["function_request_id"]
    assert "function_name" not in seen["One after"] and "request_id" not in seen["Two after"]


def test_an_invocation_inside_one_of_the_same_context_adds_nothing(capsys: pytest.CaptureFixture[str]) -> None:
    context = Context(f"Nested-{uuid.uuid4().hex[:6]}")
    with observability.invocation(context):
        with observability.invocation(context):  # the middleware under the handler's wrapper
            observability.count("FlashcardReviews")
        assert _blobs(capsys) == []  # not flushed by the inner one
        assert observability.logger.thread_safe_get_current_keys()["cold_start"] is True
    blobs = _blobs(capsys)
    assert len(blobs) == 1 and blobs[0]["FlashcardReviews"] == [1.0]


def test_a_metric_recorded_after_its_invocation_ended_is_printed_on_its_own(
        capsys: pytest.CaptureFixture[str]) -> None:
    # Given a thread started in the invocation's context (an explanation that outlives its request)
    with observability.invocation(Context("QuestionsFunction")):
        later = contextvars.copy_context()
    assert _blobs(capsys) == []
    # When it records after the invocation flushed
    later.run(observability.count, "GroqCalls", kind="explanation", outcome="ok")
    # Then the metric is printed at once rather than lost
    blob = _blobs(capsys)[0]
    assert (blob["GroqCalls"], blob["kind"], blob["outcome"], blob["service"]) == ([1.0], "explanation", "ok",
                                                                                  "mindly")
    assert blob["_aws"]["CloudWatchMetrics"][0]["Namespace"] == "Mindly"
