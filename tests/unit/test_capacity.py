"""template.yaml's throttles and reserved concurrency against bench.capacity's arithmetic (offline, fast).

The traffic is the cost model's session mix for 1M daily students at the evening peak (bench/capacity.py
states the peak factors and the p95 durations); the template must let it through with the stated
headroom, and the reservations must fit the account concurrency quota the README says to request.
"""

from __future__ import annotations

import math
from typing import Any

import pytest

from bench import capacity
from bench import cost_model as cm
from infra import cfn


@pytest.fixture(scope="module")
def template() -> dict[str, Any]:
    return cfn.load_template()


@pytest.fixture(scope="module")
def reqs(template: dict[str, Any]) -> list[capacity.Request]:
    return capacity.requests(template)


def test_peak_rate_is_the_days_requests_in_the_busiest_minute_of_the_evening_hour() -> None:
    # Given one request a student-day for 1M students, 15 % of them in the peak hour, x2 in its busiest minute
    rps = capacity.peak_rps(1, 1_000_000)
    # Then the rate is 1M x 0.15 / 3600 x 2
    assert rps == pytest.approx(1_000_000 * 0.15 / 3600 * 2)
    assert capacity.STUDENTS == 1_000_000
    # And it scales with the students
    assert capacity.peak_rps(30, 10_000) == pytest.approx(30 * capacity.peak_rps(1, 10_000))


def test_littles_law_concurrency_is_rate_times_duration() -> None:
    r = capacity.Request("POST /x", "F", "POST /api/v1/x", 1, p95_ms=250, peak_rps=400)
    assert r.concurrency == pytest.approx(100)
    need = capacity.FunctionNeed("F", 400, 100)
    assert need.reserved == math.ceil(100 * capacity.CONCURRENCY_HEADROOM)
    assert capacity.FunctionNeed("F", 0, 0.1).reserved == capacity.MIN_RESERVED


def test_every_mix_row_is_served_by_a_template_route_and_has_a_duration(reqs: list[capacity.Request]) -> None:
    # Given the cost model's mix (imported, not copied)
    rows = {r.row for r in reqs}
    # Then every row is placed, with its stated p95, on the function the cost model says serves it
    assert {item.row for item in cm.MIX} <= rows
    assert set(capacity.P95_MS) == {item.row for item in cm.MIX}
    for r in reqs:
        if r.row in capacity.P95_MS:
            assert r.function == cm.function_of(r.row), r.row
    # And the API rows have a route of template.yaml, the worker none
    by_row = {r.row: r for r in reqs}
    assert by_row["POST /questions/submit (correct)"].route_key == "POST /api/v1/questions/submit"
    assert by_row["POST /auth/refresh"].route_key == "ANY /api/v1/auth/{proxy+}"
    assert by_row["GET /roadmaps/jobs/{job_id}"].route_key == "GET /api/v1/roadmaps/jobs/{job_id}"
    assert by_row["roadmap worker: 1 job (Groq)"].route_key is None


def test_each_mix_route_is_throttled_above_its_peak_with_headroom(template: dict[str, Any],
                                                                 reqs: list[capacity.Request]) -> None:
    settings = capacity.template_route_settings(template)
    default = template["Resources"]["HttpApi"]["Properties"]["DefaultRouteSettings"]
    for key, need in capacity.route_needs(reqs).items():
        # Given a route of the mix and its own RouteSettings
        assert key in settings, f"{key}: give the route its own RouteSettings (bench/capacity.py)"
        rate, burst = settings[key]["ThrottlingRateLimit"], settings[key]["ThrottlingBurstLimit"]
        # Then its rate limit covers the peak x the headroom, and its burst the rate limit
        assert rate >= need.peak_rps * capacity.RATE_HEADROOM, (key, rate, need.rate_limit)
        assert burst >= rate, key
        # And no route asks for more than the account can burst
        assert burst <= capacity.API_ACCOUNT_BURST, key
    # And every other route gets the stage default, itself a floor
    assert default["ThrottlingRateLimit"] >= capacity.DEFAULT_ROUTE_RPS
    assert default["ThrottlingBurstLimit"] >= default["ThrottlingRateLimit"]


def test_all_routes_at_their_limits_fit_the_account_throttle(template: dict[str, Any]) -> None:
    # Given every route of the template at its rate limit (its own or the stage default)
    limits = capacity.route_rate_limits(template)
    assert len(limits) == len(cfn.http_routes(template))
    # Then together they stay within API Gateway's account limit in ap-south-1
    assert sum(limits.values()) <= capacity.API_ACCOUNT_RPS


def test_each_function_reserves_its_peak_concurrency_with_headroom(template: dict[str, Any],
                                                                  reqs: list[capacity.Request]) -> None:
    reserved = capacity.template_reserved(template)
    needs = capacity.function_needs(reqs)
    # Then every function reserves concurrency in prod, and nothing in dev
    assert set(needs) <= set(reserved)
    for logical_id, resource in template["Resources"].items():
        if resource["Type"] == cfn.FUNCTION_TYPE:
            value = resource["Properties"]["ReservedConcurrentExecutions"]
            assert value["Fn::If"][0] == "IsProd" and value["Fn::If"][2] == {"Ref": "AWS::NoValue"}, logical_id
    for function, value in reserved.items():
        # Given the function's Little's-law concurrency at the peak
        need = needs.get(function, capacity.FunctionNeed(function, 0, 0))
        # Then the reservation covers it x the headroom, and the minimum
        assert value is not None and value >= need.reserved, (function, value, need.reserved)


def test_reserved_concurrency_outlasts_the_route_throttles(template: dict[str, Any],
                                                          reqs: list[capacity.Request]) -> None:
    # Given each function's concurrency with its routes at their throttles' rates
    reserved = capacity.template_reserved(template)
    for function, concurrency in capacity.concurrency_at_throttles(template, reqs).items():
        # Then API Gateway throttles (429) before Lambda would (a 5xx)
        assert reserved[function] is not None and reserved[function] >= concurrency, (function, concurrency)


def test_sqs_worker_scales_below_its_reservation(template: dict[str, Any], reqs: list[capacity.Request]) -> None:
    # Given the roadmap worker's event source
    [consumer] = [c for c in cfn.sqs_consumers(template) if c.queue_logical_id == "RoadmapQueue"]
    event = template["Resources"][consumer.function_logical_id]["Properties"]["Events"]["Jobs"]["Properties"]
    maximum = event["ScalingConfig"]["MaximumConcurrency"]
    need = capacity.function_needs(reqs)[consumer.function_logical_id]
    # Then it may run the peak's jobs, and never more batches than the function reserves (a throttled
    # receive counts towards the queue's maxReceiveCount and would dead-letter jobs)
    assert maximum >= need.reserved
    assert capacity.template_reserved(template)[consumer.function_logical_id] >= maximum


def test_total_reservation_fits_the_stated_account_quota(template: dict[str, Any]) -> None:
    # Given every function's reservation in prod
    total = sum(v or 0 for v in capacity.template_reserved(template).values())
    # Then with Lambda's 100 unreserved it fits the quota the README says to request
    assert total + capacity.LAMBDA_UNRESERVED_MINIMUM <= capacity.ACCOUNT_CONCURRENCY
    # And that quota is stated because the default is not enough
    assert total + capacity.LAMBDA_UNRESERVED_MINIMUM > capacity.LAMBDA_DEFAULT_ACCOUNT_CONCURRENCY


def test_the_tables_print(template: dict[str, Any], capsys: pytest.CaptureFixture[str]) -> None:
    capacity.print_tables(template, capacity.STUDENTS)
    out = capsys.readouterr().out
    assert "POST /api/v1/questions/submit" in out
    assert f"request {capacity.ACCOUNT_CONCURRENCY:,} concurrent executions" in out
