"""bench.cost_model's arithmetic: item sizes, request units and monthly costs, against hand-computed values."""

from __future__ import annotations

import pytest

from bench import cost_model as cm
from bench.cost_model import Measured, Usage

# --- item sizes and request units (DynamoDB's pricing rules) -------------------------------------------


def test_item_size_counts_names_and_values() -> None:
    # Given an item: "pk" (2) + "USER#1" (6), "n" (1) + 12345 (5 digits: 3 + 1), "ok" (2) + bool (1),
    # "l" (1) + a list [ "ab" ] (3 + 1 + 2), "m" (1) + a map {"k": 1} (3 + 1 + 1 + 2)
    item = {"pk": {"S": "USER#1"}, "n": {"N": "12345"}, "ok": {"BOOL": True}, "l": {"L": [{"S": "ab"}]},
            "m": {"M": {"k": {"N": "1"}}}}
    # Then its size is the sum
    assert cm.item_size(item) == 8 + 5 + 3 + 7 + 8
    assert cm.item_size(None) == 0


def test_items_are_sized_as_the_local_stack_sizes_them_against_400_kb() -> None:
    from infra.local_aws import item_bytes

    # Given an item in DynamoDB's low-level form (the rules themselves: tests/integration/test_aws_limits.py)
    item = {"pk": {"S": "USER#1"}, "xp": {"N": "-12.50"}, "tags": {"L": [{"S": "a"}, {"BOOL": True}]}}
    # Then the cost model bills the same bytes the local stack refuses above 400 KB, and nothing for no item
    assert cm.item_size(item) == item_bytes(item) == 2 + 6 + 2 + 4 + 4 + 3 + 2 + 2
    assert cm.item_size(None) == 0


@pytest.mark.parametrize(("size", "consistency", "units"), [
    (0, "strong", 1.0), (4096, "strong", 1.0), (4097, "strong", 2.0), (6000, "eventual", 1.0),
    (100, "eventual", 0.5), (9000, "transactional", 6.0),
])
def test_read_units_are_4_kb_steps(size: int, consistency: str, units: float) -> None:
    assert cm.read_units(size, consistency) == units


@pytest.mark.parametrize(("size", "transactional", "units"), [
    (0, False, 1.0), (1024, False, 1.0), (1025, False, 2.0), (500, True, 2.0), (2500, True, 6.0),
])
def test_write_units_are_1_kb_steps(size: int, transactional: bool, units: float) -> None:
    assert cm.write_units(size, transactional) == units


def test_index_writes_follow_the_index_key() -> None:
    index = [("due_pk", "due_sk")]
    small = {"pk": {"S": "U"}, "due_pk": {"S": "U"}, "due_sk": {"S": "2026-01-01"}}
    moved = {**small, "due_sk": {"S": "2026-01-05"}}
    grown = {**small, "note": {"S": "x" * 2000}}
    outside = {"pk": {"S": "U"}}
    # Given an item entering, leaving, moving in and changing inside the index
    assert cm.index_write_units(None, small, index) == 1.0  # a put
    assert cm.index_write_units(small, outside, index) == 1.0  # a delete
    assert cm.index_write_units(small, moved, index) == 2.0  # key changed: delete + put
    assert cm.index_write_units(small, grown, index) == 2.0  # same key, 2 KB item: one write of 2 WRU
    assert cm.index_write_units(small, small, index) == 0.0  # nothing changed
    assert cm.index_write_units(outside, outside, index) == 0.0  # never in the index


def test_a_query_is_billed_without_its_filter() -> None:
    # Given a Query with a filter and a projection
    query = {"TableName": "t", "KeyConditionExpression": "#pk = :pk", "FilterExpression": "#s = :s",
             "ProjectionExpression": "#pk, #n", "ExpressionAttributeNames": {"#pk": "pk", "#s": "subject", "#n": "n"},
             "ExpressionAttributeValues": {":pk": {"S": "U"}, ":s": {"S": "Maths"}}, "Limit": 5}
    # Then what DynamoDB reads is the key condition's items, with the names and values it uses
    assert cm.without_filter(query) == {"TableName": "t", "KeyConditionExpression": "#pk = :pk", "Limit": 5,
                                        "ExpressionAttributeNames": {"#pk": "pk"},
                                        "ExpressionAttributeValues": {":pk": {"S": "U"}}}


# --- the cost arithmetic -------------------------------------------------------------------------------


def test_gb_seconds_round_up_to_the_millisecond() -> None:
    assert cm.gb_seconds(100.2, 1024) == pytest.approx(0.101)
    assert cm.gb_seconds(0.2, 512) == pytest.approx(0.0005)


def test_http_api_requests_are_priced_in_tiers() -> None:
    # Given 350M requests: 300M at $1.00/M and 50M at $0.90/M
    assert cm.tiered_cost(350e6, cm.HTTP_API_TIERS) == pytest.approx(300 + 45)
    assert cm.tiered_cost(2e6, cm.HTTP_API_TIERS) == pytest.approx(2.0)


def test_monthly_costs_from_a_student_day() -> None:
    # Given a student-day of 100 RRU, 50 WRU, 20 Redis commands, 10 API requests and 0.5 GB-s
    day = Usage(rru=100, wru=50, redis_commands=20, api_requests=10, lambda_requests=10, lambda_gb_seconds=0.5,
                groq_input_tokens=1000, groq_output_tokens=200, log_bytes=1024 ** 3 / 300_000)
    model = cm.Model(per_request={}, per_student_day=day, fixed_month=Usage(), snapstart_cache_gb_seconds=1e6)
    # When 10,000 students use it for a 30-day month (300,000 student-days)
    month = cm.month_for(model, 10_000)
    costs = cm.monthly_costs(month, "arm64", model.snapstart_cache_gb_seconds)
    # Then every component is quantity x list price
    assert costs["DynamoDB reads (RRU)"] == pytest.approx(30e6 * 0.1423 / 1e6)  # $4.269
    assert costs["DynamoDB writes (WRU)"] == pytest.approx(15e6 * 0.7116 / 1e6)  # $10.674
    assert costs["Upstash Redis commands"] == pytest.approx(6e6 * 0.20 / 1e5)  # $12.00
    assert costs["API Gateway HTTP API"] == pytest.approx(3.0)
    assert costs["Lambda requests"] == pytest.approx(0.60)
    assert costs["Lambda compute (arm64)"] == pytest.approx(150_000 * 0.0000133334)  # $2.00
    assert costs["Lambda SnapStart cache"] == pytest.approx(1e6 * 0.0000015046)
    assert costs["Groq input tokens"] == pytest.approx(300e6 * 0.59 / 1e6)  # $177
    assert costs["Groq output tokens"] == pytest.approx(60e6 * 0.79 / 1e6)  # $47.40
    assert costs["CloudWatch Logs ingestion"] == pytest.approx(0.50)  # 1 GB


def test_a_measured_request_becomes_billable_usage() -> None:
    # Given a request: 40 ms here of which 30 ms waiting for the emulators, 5 ms of sizing reads, one
    # DynamoDB transaction and one Redis round trip, one 300-byte log line, one Groq call
    measured = Measured(handler_ms=40, io_ms=30, sizing_ms=5, network_ms=15 + 3, rru=2, wru=4, redis_commands=2,
                        log_bytes=300, log_events=1, groq_calls=1, groq_input_chars=800, groq_output_chars=400)
    usage = cm.usage_of(measured, 1024, via_api=True)
    # Then its own time is 5 ms, billed with the network's 18 ms and Groq's answer (0.3 s + 100 tokens)
    groq_ms = (cm.GROQ_FIRST_TOKEN_SECONDS + 100 / cm.GROQ_OUTPUT_TOKENS_PER_SECOND) * 1000
    assert measured.own_ms == 5
    assert usage.lambda_gb_seconds == pytest.approx(cm.gb_seconds(5 + 18 + groq_ms, 1024))
    assert (usage.api_requests, usage.lambda_requests, usage.rru, usage.wru, usage.redis_commands) == (1, 1, 2, 4, 2)
    assert usage.groq_input_tokens == pytest.approx(cm.CHAT_TEMPLATE_TOKENS + 200)
    assert usage.groq_output_tokens == pytest.approx(100)
    assert usage.snapstart_restored_gb == pytest.approx(cm.SNAPSTART_RESTORES_SHARE)
    assert usage.log_bytes == cm.log_bytes(300, 1, via_api=True)


def test_log_bytes_add_the_platform_lines_and_each_events_overhead() -> None:
    platform = sum(len(line) for line in cm.LAMBDA_PLATFORM_LINES)
    assert cm.log_bytes(300, 1, via_api=False) == 300 + platform + 4 * 26
    assert cm.log_bytes(300, 1, via_api=True) == 300 + platform + len(cm.access_log_line()) + 5 * 26


def test_repeated_measurements_take_mean_units_and_the_median_time() -> None:
    fast, middle, slow = (Measured(status="200", rru=r, handler_ms=ms) for r, ms in ((1, 10), (2, 20), (6, 90)))
    both = cm.combined([slow, fast, middle])
    assert both.rru == pytest.approx(3)
    assert both.duration_ms == 20
    assert both.status == "200"


def test_usage_adds_and_scales() -> None:
    one = Usage(rru=1, wru=2)
    assert cm.total([one, one.times(2)]) == Usage(rru=3, wru=6)
    assert one - one == Usage()


def test_the_lambda_free_tier_is_worth_its_requests_and_gb_seconds() -> None:
    assert cm.lambda_free_tier("arm64") == pytest.approx(0.20 + 400_000 * 0.0000133334)  # $5.53
