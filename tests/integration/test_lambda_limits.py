"""The tests' handler harness fails a test where Lambda would fail the invocation (support.invoke):
an event over 6 MB, a response over 6 MB; and the time budgets of a request fit its function's
Timeout and API Gateway's 30 s, checked on the numbers (never on a clock)."""

from __future__ import annotations

import time
import types
from typing import Any

import pytest
from support import HandlerClient, LambdaContext, enforce_lambda_limits, function_timeout, http_event, invoke

MB = 1024 * 1024


def test_every_function_fixture_runs_within_its_template_timeout(
        auth_fn: Any, admin_fn: Any, roadmap_worker_fn: Any, daily_streaks_fn: Any) -> None:
    assert [function_timeout(fn) for fn in (auth_fn, admin_fn, roadmap_worker_fn, daily_streaks_fn)] == [
        10, 29, 60, 300]
    assert all(getattr(fn.handler, "_mindly_lambda_limits", False)
               for fn in (auth_fn, admin_fn, roadmap_worker_fn, daily_streaks_fn))
    # wrapping again changes nothing
    handler = auth_fn.handler
    assert enforce_lambda_limits(auth_fn).handler is handler


def test_an_event_over_6_mb_fails_the_test_before_the_handler_runs(auth_fn: Any) -> None:
    ran = []
    fake = types.SimpleNamespace(handler=lambda event, context: ran.append(1) or {"statusCode": 200})
    with pytest.raises(pytest.fail.Exception, match="Lambda refuses invocations over 6291456 bytes"):
        HandlerClient(fake).post("/api/v1/auth/register", raw_body=b"\x00" * (5 * MB))  # 6.7 MB base64
    assert ran == []
    # the real function, through its fixture: the same
    with pytest.raises(pytest.fail.Exception, match="auth handler: the event is"):
        HandlerClient(auth_fn).post("/api/v1/auth/register", {"email": "a" * (7 * MB)})
    # and just under the limit the app answers (its own 1 MB cap)
    assert HandlerClient(auth_fn).post("/api/v1/auth/register", {"email": "a" * (2 * MB)}).status == 413


def test_a_response_over_6_mb_fails_the_test() -> None:
    fake = types.SimpleNamespace(handler=lambda event, context: {"statusCode": 200, "body": "x" * (6 * MB + 100)})
    with pytest.raises(pytest.fail.Exception, match="Lambda fails responses over 6291556 bytes"):
        HandlerClient(fake).get("/api/v1/health")


def test_a_handler_running_over_its_timeout_fails_the_test() -> None:
    def slow(event: Any, context: Any) -> dict[str, Any]:
        time.sleep(0.3)
        return {"statusCode": 200, "body": ""}

    with pytest.raises(pytest.fail.Exception, match=r"ran 0\.\d+ s; Lambda stops it at its Timeout, 0.1 s"):
        invoke(slow, http_event("GET", "/api/v1/health"), LambdaContext(), timeout=0.1)
    assert invoke(slow, http_event("GET", "/api/v1/health"), timeout=1)["statusCode"] == 200


API_GATEWAY_TIMEOUT_SECONDS = 30  # HTTP API's largest integration timeout (TimeoutInMillis 30000)


def test_every_time_budget_of_a_request_fits_its_function_and_the_gateway() -> None:
    from infra import cfn
    from infra.router import function_timeouts
    from mindly.config import Settings

    defaults = {name: field.default for name, field in Settings.model_fields.items()}
    template = cfn.load_template()
    timeouts = function_timeouts(template)
    api_functions = {route.function_logical_id for route in cfn.http_routes(template)}
    # Given what an answer or review may spend by its own budgets: its contended write retried for the
    # whole activity budget, plus the read under way when the budget ran out (the live explanation's
    # budget counts from the start of the submit, so it adds nothing once the write has taken longer)
    worst = defaults["activity_retry_budget_seconds"] + defaults["dynamodb_read_timeout_seconds"]
    # Then the answer is ours (a 503 in the envelope), not Lambda's timeout
    for function_id in ("QuestionsFunction", "FlashcardsFunction"):
        assert worst < timeouts[function_id], (function_id, worst)
    assert defaults["explanation_budget_seconds"] < timeouts["QuestionsFunction"]
    # And no function behind the API may run longer than API Gateway waits for it
    for function_id in api_functions:
        assert timeouts[function_id] < API_GATEWAY_TIMEOUT_SECONDS, function_id
    # And a roadmap's Groq call ends inside the worker's Timeout
    assert defaults["groq_timeout_seconds"] * 3 < timeouts["RoadmapWorkerFunction"]
