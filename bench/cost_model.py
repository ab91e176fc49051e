"""What Mindly costs a month at 10k, 100k and 1M daily active students, from measured requests.

    .venv/bin/python -m bench.cost_model [--strict]

1. Measures, on the local stack (bench.request_costs' run and its Counter, with the rows the session
   mix needs added), per request: DynamoDB read and write request units, Redis commands, Groq
   calls and prompt sizes, the handler's time and the bytes it logs.
   - DynamoDB units are computed from item sizes by DynamoDB's pricing rules: moto answers
     ``ReturnConsumedCapacity`` with constants (GetItem 0.5, PutItem and Query 1.0, BatchGetItem one
     per key, TransactWriteItems nothing), whatever the items hold. Every item a request reads or
     writes is sized, the images before and after a write and the items a Query's filter or a
     projection dropped included, with reads the request itself does not make (not counted, their
     time taken out of the handler's).
   - Redis: commands, as Upstash bills them (a pipeline of N commands is N).
   - Lambda duration, a proxy: the handler's own time in this process (its time less what it waited
     for the emulators) + a stated network time per DynamoDB call and Redis round trip
     (DYNAMODB_CALL_MS, REDIS_ROUND_TRIP_MS) + Groq's answer time where Groq is called.
2. Multiplies a stated session mix per student and day (MIX), plus the hourly streak job, by 30
   days and the number of students, and prices it with PRICES.

Every price and assumption is a constant below, with its source, and is printed with the tables.
The arithmetic is in pure functions (tests/unit/test_cost_model.py).
"""

from __future__ import annotations

import argparse
import io
import json
import math
import os
import re
import secrets
import statistics
import sys
import time
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, field, fields, replace
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

from bench import request_costs
from infra.local_aws import item_bytes

REPO = Path(__file__).resolve().parent.parent
SCALES = (10_000, 100_000, 1_000_000)
DAYS_PER_MONTH = 30
GB = 1024 ** 3  # AWS bills data in binary gigabytes

# --- prices (list prices, ap-south-1 Mumbai where they differ, as of 2026) --------------------------------


@dataclass(frozen=True)
class Price:
    what: str
    usd: float
    per: str
    source: str


PRICES: dict[str, Price] = {price.what: price for price in (
    Price("Lambda requests", 0.20, "1M requests",
          "aws.amazon.com/lambda/pricing (ap-south-1 = us-east-1)"),
    Price("Lambda compute arm64", 0.0000133334, "GB-second",
          "aws.amazon.com/lambda/pricing, arm64, first 7.5B GB-s a month"),
    Price("Lambda compute x86_64", 0.0000166667, "GB-second",
          "aws.amazon.com/lambda/pricing, x86_64, first 6B GB-s a month"),
    Price("Lambda SnapStart cache", 0.0000015046, "GB-second",
          "aws.amazon.com/lambda/pricing, SnapStart for Python (us-east-1 list)"),
    Price("Lambda SnapStart restore", 0.0001397998, "GB restored",
          "aws.amazon.com/lambda/pricing, SnapStart for Python (us-east-1 list)"),
    Price("HTTP API, first 300M", 1.00, "1M requests",
          "aws.amazon.com/api-gateway/pricing, HTTP APIs (us-east-1 list, assumed for ap-south-1)"),
    Price("HTTP API, over 300M", 0.90, "1M requests", "as above"),
    Price("DynamoDB read request units", 0.1423, "1M RRU",
          "aws.amazon.com/dynamodb/pricing/on-demand, ap-south-1, after the Nov 2024 halving "
          "(us-east-1: $0.125); verify before quoting"),
    Price("DynamoDB write request units", 0.7116, "1M WRU",
          "as above (us-east-1: $0.625)"),
    Price("Upstash Redis commands", 0.20, "100K commands",
          "upstash.com/pricing/redis, Pay as You Go"),
    Price("Groq input tokens", 0.59, "1M tokens",
          "groq.com/pricing, llama-3.3-70b-versatile"),
    Price("Groq output tokens", 0.79, "1M tokens", "as above"),
    Price("SQS requests", 0.40, "1M requests",
          "aws.amazon.com/sqs/pricing, standard queue, per 64 KB chunk"),
    Price("EventBridge custom events", 1.00, "1M events",
          "aws.amazon.com/eventbridge/pricing, PutEvents to a custom bus; scheduled rules are free"),
    Price("CloudWatch Logs ingestion", 0.50, "GB",
          "aws.amazon.com/cloudwatch/pricing, standard class (us-east-1 list; ap-south-1 may differ)"),
)}
PER = {"1M requests": 1e6, "1M RRU": 1e6, "1M WRU": 1e6, "100K commands": 1e5, "1M tokens": 1e6,
       "1M events": 1e6, "GB-second": 1.0, "GB restored": 1.0, "GB": 1.0}


def unit_price(what: str) -> float:
    """The price of one unit (one request, one RRU, one token, one GB-second ...)."""
    price = PRICES[what]
    return price.usd / PER[price.per]


HTTP_API_TIERS = ((300e6, "HTTP API, first 300M"), (math.inf, "HTTP API, over 300M"))

# --- assumptions ------------------------------------------------------------------------------------------

QUESTIONS_A_DAY = 30
REVIEWS_A_DAY = 20
WRONG_SHARE = 0.40  # of submitted answers
# bench/groq.py: 100 wrong answers over 10 (question, option) pairs made 10 Groq calls. Every wrong
# answer after the first of a pair is served from the explanation kept in DynamoDB, so a bank of P
# explained pairs bounds the calls for good; 10 % is the measured ratio, an upper bound at scale.
GROQ_CALLS_PER_WRONG_ANSWER = 10 / 100
STREAKS_SETTLED_SHARE = 0.05  # students a day whose streak the job settles (lost or frozen)
SNAPSTART_RESTORES_SHARE = 0.005  # API invocations that start a new (restored) execution environment
# Groq: tokens estimated from the characters of the requests our code sent (system + user prompt),
# prose at 4 characters a token, JSON (the roadmap's example and answer) at 3; the chat template adds
# about 12 tokens a call. Latency billed to Lambda while it waits: time to first token + output
# tokens at Groq's speed for llama-3.3-70b-versatile.
CHARS_PER_TOKEN = {"explanation": 4.0, "roadmap": 3.0}
CHAT_TEMPLATE_TOKENS = 12
GROQ_FIRST_TOKEN_SECONDS = 0.3
GROQ_OUTPUT_TOKENS_PER_SECOND = 275
BCRYPT_PRODUCTION_ROUNDS = 12  # template.yaml's BcryptRounds default; the bench hashes with 4
# The Lambda SQS event source polls an idle queue with long polls: about 5 pollers x 3 a minute.
SQS_IDLE_RECEIVES_A_MONTH = 5 * 3 * 60 * 24 * DAYS_PER_MONTH
SQS_REQUESTS_PER_JOB = 3  # SendMessage, the poller's ReceiveMessage, DeleteMessageBatch
STREAK_RUNS_A_DAY = 24  # cron(5 * * * ? *)
# Billed duration = the handler's own time measured here + these network times per call, in place of
# the emulators' time: moto copies every table a transaction touches (seconds once the Study table
# holds a few hundred items), which says nothing about DynamoDB. DynamoDB answers in single-digit
# milliseconds in-region; Upstash in the same region answers a REST call in a few.
DYNAMODB_CALL_MS = {"GetItem": 4, "PutItem": 5, "UpdateItem": 5, "DeleteItem": 5, "Query": 6, "Scan": 6,
                    "BatchGetItem": 8, "BatchWriteItem": 10, "TransactGetItems": 10, "TransactWriteItems": 15}
REDIS_ROUND_TRIP_MS = 3
PUT_EVENTS_CALL_MS = 20  # one EventBridge PutEvents call (10 events)

# CloudWatch Logs: each event is sized as PutLogEvents sizes it, its message + 26 bytes. Lambda adds
# three platform lines (text format) per invocation; the HTTP API writes one access-log line per
# request (template.yaml's format, rendered with typical values).
LOG_EVENT_OVERHEAD_BYTES = 26
_REQUEST_ID = "c0ffee00-1234-4abc-9def-0123456789ab"
LAMBDA_PLATFORM_LINES = (
    f"START RequestId: {_REQUEST_ID} Version: 42",
    f"END RequestId: {_REQUEST_ID}",
    f"REPORT RequestId: {_REQUEST_ID}\tDuration: 48.31 ms\tBilled Duration: 49 ms\tMemory Size: 1024 MB\t"
    "Max Memory Used: 161 MB\t",
)
ACCESS_LOG_VALUES = {"requestId": "Jk3v1hKbhcwEMbQ=", "identity.sourceIp": "203.0.113.42",
                     "requestTime": "23/Nov/2026:15:12:59 +0000", "routeKey": "POST /api/v1/questions/submit",
                     "status": "200", "protocol": "HTTP/1.1", "responseLength": "734", "responseLatency": "52",
                     "integrationLatency": "49", "integrationErrorMessage": "-"}


@dataclass(frozen=True)
class MixItem:
    """A measured request and how many times a student makes it a day."""

    row: str
    per_day: float
    why: str


MIX = (
    MixItem("POST /auth/login", 1 / 30, "a login a month (refresh tokens last 7 days and rotate)"),
    MixItem("POST /auth/refresh", 2, "15-minute access tokens, a 30-minute session"),
    MixItem("GET /questions/practice (10 a page)", 3, f"{QUESTIONS_A_DAY} questions in pages of 10"),
    MixItem("POST /questions/submit (correct)", QUESTIONS_A_DAY * (1 - WRONG_SHARE),
            f"{1 - WRONG_SHARE:.0%} of {QUESTIONS_A_DAY} answers"),
    MixItem("POST /questions/submit (wrong, kept explanation)",
            QUESTIONS_A_DAY * WRONG_SHARE * (1 - GROQ_CALLS_PER_WRONG_ANSWER),
            f"{WRONG_SHARE:.0%} wrong, {1 - GROQ_CALLS_PER_WRONG_ANSWER:.0%} of them explained already"),
    MixItem("POST /questions/submit (wrong, Groq call)", QUESTIONS_A_DAY * WRONG_SHARE * GROQ_CALLS_PER_WRONG_ANSWER,
            f"{GROQ_CALLS_PER_WRONG_ANSWER:.0%} of wrong answers call Groq (bench/groq.py)"),
    MixItem("GET /flashcards/due", 2, "2 due-list reads"),
    MixItem("POST /flashcards/review", REVIEWS_A_DAY, f"{REVIEWS_A_DAY} reviews"),
    MixItem("GET /progress", 2, "2 progress reads"),
    MixItem("GET /leaderboard/weekly", 1, "1 leaderboard read (board in Redis)"),
    MixItem("GET /analytics/dashboard", 1 / 7, "analytics once a week (report not cached yet)"),
    MixItem("GET /analytics/calibration (500 attempts)", 1 / 7, "once a week, a week of 500 answers"),
    MixItem("POST /roadmaps", 1 / 30, "a roadmap a month (no identical profile cached)"),
    MixItem("GET /roadmaps/jobs/{job_id}", 2 / 30, "polled twice"),
    MixItem("roadmap worker: 1 job (Groq)", 1 / 30, "SQS -> worker -> Groq"),
)
STREAKS_DUE_IN_RUN = 40
STREAK_RUN_IDLE = "daily-streak run (nothing due)"
STREAK_RUN_DUE = f"daily-streak run ({STREAKS_DUE_IN_RUN} streaks due)"
BREAKDOWNS = ("POST /questions/submit (correct)", "POST /flashcards/review", "GET /flashcards/due",
              "roadmap worker: 1 job (Groq)")
REPEATS = 3  # each mix request is measured this many times, warm; the median time is used

# --- DynamoDB request units from item sizes (the pricing rules) ----------------------------------------


def item_size(item: Mapping[str, Any] | None) -> int:
    """Bytes of an item: its attribute names and values (0 for no item), by the same rules the local
    stack enforces DynamoDB's 400 KB limit with."""
    return item_bytes(dict(item or {}))


READ_FACTOR = {"strong": 1.0, "eventual": 0.5, "transactional": 2.0}


def read_units(size: int, consistency: str) -> float:
    """RRU of one read of ``size`` bytes: 4 KB steps (at least one), halved when eventually
    consistent, doubled in a transaction."""
    return max(1, math.ceil(size / 4096)) * READ_FACTOR[consistency]


def write_units(size: int, transactional: bool = False) -> float:
    """WRU of one write of ``size`` bytes: 1 KB steps (at least one), doubled in a transaction."""
    return max(1, math.ceil(size / 1024)) * (2.0 if transactional else 1.0)


def index_write_units(old: Mapping[str, Any] | None, new: Mapping[str, Any] | None,
                      index_keys: Iterable[tuple[str, ...]]) -> float:
    """WRU the global secondary indexes (projection ALL) cost for changing ``old`` into ``new``:
    an entry put or deleted is one write, a changed key is both, a changed item under the same key
    is one write; an item outside the index costs nothing."""
    units = 0.0
    for keys in index_keys:
        was = old is not None and all(name in old for name in keys)
        now = new is not None and all(name in new for name in keys)
        if was and now:
            if any(old[name] != new[name] for name in keys):  # type: ignore[index]
                units += write_units(item_size(old)) + write_units(item_size(new))
            elif old != new:
                units += write_units(max(item_size(old), item_size(new)))
        elif was:
            units += write_units(item_size(old))
        elif now:
            units += write_units(item_size(new))
    return units


_TOKEN = re.compile(r"[#:][A-Za-z0-9_]+")
_EXPRESSIONS = ("KeyConditionExpression", "FilterExpression", "ProjectionExpression", "ConditionExpression",
                "UpdateExpression")


def without_filter(kwargs: Mapping[str, Any]) -> dict[str, Any]:
    """A Query's arguments without filter and projection (and the names/values only they used):
    what DynamoDB reads, and bills, for the Query."""
    kept = {k: v for k, v in kwargs.items() if k not in (
        "FilterExpression", "ProjectionExpression", "AttributesToGet", "Select", "ReturnConsumedCapacity")}
    used = {token for name in _EXPRESSIONS for token in _TOKEN.findall(str(kept.get(name, "")))}
    for name in ("ExpressionAttributeNames", "ExpressionAttributeValues"):
        if name in kept:
            kept[name] = {k: v for k, v in kept[name].items() if k in used}
            if not kept[name]:
                del kept[name]
    return kept


# --- the cost arithmetic -------------------------------------------------------------------------------


@dataclass(frozen=True)
class Usage:
    """Billable quantities (of one request, a student's day, or a month)."""

    api_requests: float = 0.0
    lambda_requests: float = 0.0
    lambda_gb_seconds: float = 0.0
    snapstart_restored_gb: float = 0.0
    rru: float = 0.0
    wru: float = 0.0
    redis_commands: float = 0.0
    groq_calls: float = 0.0
    groq_input_tokens: float = 0.0
    groq_output_tokens: float = 0.0
    sqs_requests: float = 0.0
    events: float = 0.0
    log_bytes: float = 0.0

    def __add__(self, other: Usage) -> Usage:
        return Usage(**{f.name: getattr(self, f.name) + getattr(other, f.name) for f in fields(self)})

    def __sub__(self, other: Usage) -> Usage:
        return self + other.times(-1)

    def times(self, factor: float) -> Usage:
        return Usage(**{f.name: getattr(self, f.name) * factor for f in fields(self)})


def total(usages: Iterable[Usage]) -> Usage:
    result = Usage()
    for usage in usages:
        result = result + usage
    return result


def gb_seconds(duration_ms: float, memory_mb: int) -> float:
    """Lambda GB-seconds of one invocation (billed in 1 ms steps)."""
    return math.ceil(max(duration_ms, 1.0)) / 1000 * memory_mb / 1024


def tiered_cost(quantity: float, tiers: Iterable[tuple[float, str]]) -> float:
    """Cost of ``quantity`` units over (up to this cumulative quantity, price) tiers."""
    cost, below = 0.0, 0.0
    for upto, what in tiers:
        in_tier = max(0.0, min(quantity, upto) - below)
        cost += in_tier * unit_price(what)
        below = upto
    return cost


def estimate_tokens(chars: int, chars_per_token: float) -> float:
    return chars / chars_per_token


def log_bytes(app_bytes: int, app_events: int, via_api: bool) -> int:
    """Bytes CloudWatch ingests for one invocation: the app's lines, Lambda's platform lines and,
    through the HTTP API, one access-log line (each event + its 26 bytes)."""
    platform = sum(len(line.encode()) for line in LAMBDA_PLATFORM_LINES)
    events = app_events + len(LAMBDA_PLATFORM_LINES) + (1 if via_api else 0)
    access = len(access_log_line().encode()) if via_api else 0
    return app_bytes + platform + access + events * LOG_EVENT_OVERHEAD_BYTES


def access_log_line(values: Mapping[str, str] = ACCESS_LOG_VALUES) -> str:
    """template.yaml's HTTP API access-log format with typical values."""
    return re.sub(r"\$context\.([A-Za-z.]+)", lambda m: values.get(m.group(1), "-"), _access_log_format())


def _access_log_format() -> str:
    if "format" not in _TEMPLATE_FACTS:
        api = _template()["Resources"]["HttpApi"]["Properties"]
        _TEMPLATE_FACTS["format"] = str(api["AccessLogSettings"]["Format"])
    return str(_TEMPLATE_FACTS["format"])


def monthly_costs(month: Usage, architecture: str, snapstart_cache_gb_seconds: float) -> dict[str, float]:
    """USD a month, per component, for the month's quantities."""
    return {
        "API Gateway HTTP API": tiered_cost(month.api_requests, HTTP_API_TIERS),
        "Lambda requests": month.lambda_requests * unit_price("Lambda requests"),
        f"Lambda compute ({architecture})": month.lambda_gb_seconds * unit_price(f"Lambda compute {architecture}"),
        "Lambda SnapStart cache": snapstart_cache_gb_seconds * unit_price("Lambda SnapStart cache"),
        "Lambda SnapStart restores": month.snapstart_restored_gb * unit_price("Lambda SnapStart restore"),
        "DynamoDB reads (RRU)": month.rru * unit_price("DynamoDB read request units"),
        "DynamoDB writes (WRU)": month.wru * unit_price("DynamoDB write request units"),
        "Upstash Redis commands": month.redis_commands * unit_price("Upstash Redis commands"),
        "Groq input tokens": month.groq_input_tokens * unit_price("Groq input tokens"),
        "Groq output tokens": month.groq_output_tokens * unit_price("Groq output tokens"),
        "SQS requests": month.sqs_requests * unit_price("SQS requests"),
        "EventBridge events": month.events * unit_price("EventBridge custom events"),
        "CloudWatch Logs ingestion": month.log_bytes / GB * unit_price("CloudWatch Logs ingestion"),
    }


# --- what one request cost, measured -------------------------------------------------------------------


@dataclass
class Measured:
    """One request (or job run), as measured."""

    status: str = "-"
    dynamodb_calls: int = 0
    rru: float = 0.0
    wru: float = 0.0
    moto_units: float = 0.0  # what moto's ConsumedCapacity said (constants)
    redis_round_trips: int = 0
    redis_commands: int = 0
    wall_ms: float = 0.0
    handler_ms: float | None = None  # the platform middleware's duration_ms (HTTP requests)
    io_ms: float = 0.0  # waiting on the emulators (moto, local Upstash)
    sizing_ms: float = 0.0  # the reads done only to size items (taken out of the time)
    network_ms: float = 0.0  # what the same calls take in AWS (DYNAMODB_CALL_MS, REDIS_ROUND_TRIP_MS)
    log_bytes: int = 0
    log_events: int = 0
    groq_calls: int = 0
    groq_input_chars: int = 0
    groq_output_chars: int = 0
    events: int = 0
    items: list[ItemCost] = field(default_factory=list)  # what each item read or written cost

    @property
    def measured_ms(self) -> float:
        """The handler's time here (sizing reads taken out), emulator waits included."""
        return max(0.0, (self.wall_ms if self.handler_ms is None else self.handler_ms) - self.sizing_ms)

    @property
    def own_ms(self) -> float:
        """The handler's own work: its time here less what it waited for the emulators."""
        return max(0.0, self.measured_ms - self.io_ms)

    @property
    def duration_ms(self) -> float:
        """The proxy for Lambda's billed duration: own work + the calls' network time in AWS."""
        return self.own_ms + self.network_ms + math.ceil(self.events / 10) * PUT_EVENTS_CALL_MS


@dataclass(frozen=True)
class ItemCost:
    """One item a DynamoDB call read or wrote, and its request units."""

    operation: str
    kind: str  # Get, Query, Put, Update, Delete, ConditionCheck
    item: str  # table and the sort key's first part
    size_before: int
    size_after: int
    units: float  # RRU for reads, the table's WRU for writes
    index_units: float = 0.0


def usage_of(m: Measured, memory_mb: int, via_api: bool, groq_kind: str = "explanation") -> Usage:
    """The billable quantities of one measured request."""
    per_token = CHARS_PER_TOKEN[groq_kind]
    tokens_in = m.groq_calls * CHAT_TEMPLATE_TOKENS + estimate_tokens(m.groq_input_chars, per_token)
    tokens_out = estimate_tokens(m.groq_output_chars, per_token)
    waiting_ms = (m.groq_calls * GROQ_FIRST_TOKEN_SECONDS + tokens_out / GROQ_OUTPUT_TOKENS_PER_SECOND) * 1000
    return Usage(
        api_requests=1 if via_api else 0, lambda_requests=1,
        lambda_gb_seconds=gb_seconds(m.duration_ms + waiting_ms, memory_mb),
        snapstart_restored_gb=SNAPSTART_RESTORES_SHARE * memory_mb / 1024 if via_api else 0.0,
        rru=m.rru, wru=m.wru, redis_commands=m.redis_commands, groq_calls=m.groq_calls,
        groq_input_tokens=tokens_in, groq_output_tokens=tokens_out, events=m.events,
        log_bytes=log_bytes(m.log_bytes, m.log_events, via_api))


TIMES = ("wall_ms", "handler_ms", "io_ms", "sizing_ms", "network_ms")


def combined(samples: list[Measured]) -> Measured:
    """Repeated measurements of one request: mean units and counts, and the times of the sample
    whose billed duration is the median."""
    if len(samples) == 1:
        return samples[0]
    median = sorted(samples, key=lambda s: s.duration_ms)[(len(samples) - 1) // 2]
    mean = {f.name: statistics.fmean(getattr(s, f.name) for s in samples) for f in fields(median)
            if f.name not in ("status", "items", *TIMES)}
    return replace(median, **mean, status="/".join(sorted({s.status for s in samples})))


# --- measuring -----------------------------------------------------------------------------------------

CAPACITY_OPERATIONS = frozenset({"GetItem", "BatchGetItem", "Query", "Scan", "PutItem", "UpdateItem", "DeleteItem",
                                 "BatchWriteItem", "TransactWriteItems", "TransactGetItems"})


class LogTap(io.TextIOBase):
    """Stands in for the Logger's stdout: keeps the lines of the current request."""

    def __init__(self) -> None:
        self.lines: list[str] = []
        self._partial = ""

    def write(self, text: str) -> int:
        *complete, self._partial = (self._partial + text).split("\n")
        self.lines += complete
        return len(text)

    def clear(self) -> None:
        self.lines.clear()

    def request_ms(self) -> float | None:
        """duration_ms of the platform middleware's request line, when there is one."""
        for line in self.lines:
            if '"message":"request"' in line.replace(" ", ""):
                return float(json.loads(line)["duration_ms"])
        return None


@dataclass(frozen=True)
class TableSchema:
    key: tuple[str, ...]
    indexes: tuple[tuple[str, ...], ...]


def _key_text(key: Mapping[str, Any]) -> str:
    return json.dumps(key, sort_keys=True, default=str)


def _item_label(table: str, key: Mapping[str, Any] | None) -> str:
    """``study PROGRESS``: the table's last name part and the sort key's first part."""
    name = table.rsplit("-", 1)[-1]
    if not key:
        return name
    sort = next(iter(key["sk"].values())) if "sk" in key else next(iter(next(iter(key.values())).values()))
    return f"{name} {str(sort).split('#')[0]}"


class CostCounter(request_costs.Counter):
    """bench.request_costs' counter, also measuring capacity units, Redis commands, time and logs."""

    def __init__(self, tap: LogTap) -> None:
        super().__init__()
        self.tap = tap
        self.schemas: dict[str, TableSchema] = {}
        self.measured = Measured()
        self.active = False
        self.started = 0.0

    def reset(self) -> None:
        super().reset()
        self.measured = Measured()
        self.tap.clear()
        self.active = True
        self.started = time.perf_counter()

    def detail(self) -> dict[str, Any]:
        m = self.measured
        m.wall_ms = (time.perf_counter() - self.started) * 1000
        m.dynamodb_calls, m.redis_round_trips = self.dynamodb, self.redis
        m.handler_ms = self.tap.request_ms()
        m.log_bytes = sum(len(line.encode()) for line in self.tap.lines)
        m.log_events = len(self.tap.lines)
        self.active = False
        self.measured = Measured()  # the row keeps m; calls between rows go to a scratch one
        return {"cost": m}

    # --- Redis ---------------------------------------------------------------------------------------

    def redis_call(self, client: Any, args: tuple[Any, ...], kwargs: dict[str, Any],
                   execute: Callable[..., Any]) -> Any:
        if self.active:
            command = kwargs.get("command", args[2] if len(args) > 2 else [])
            pipeline = kwargs.get("from_pipeline", args[3] if len(args) > 3 else False)
            self.measured.redis_commands += len(command) if pipeline else 1
            self.measured.network_ms += REDIS_ROUND_TRIP_MS
        started, measured = time.perf_counter(), self.measured
        try:
            return super().redis_call(client, args, kwargs, execute)
        finally:
            measured.io_ms += (time.perf_counter() - started) * 1000

    # --- DynamoDB ------------------------------------------------------------------------------------

    def dynamodb_call(self, connection: Any, operation_name: str, operation_kwargs: dict[str, Any],
                      dispatch: Callable[..., Any]) -> Any:
        if not self.active or operation_name not in CAPACITY_OPERATIONS:
            return super().dynamodb_call(connection, operation_name, operation_kwargs, dispatch)
        operation_kwargs.setdefault("ReturnConsumedCapacity", "TOTAL")
        self.measured.network_ms += DYNAMODB_CALL_MS[operation_name]
        sizer = Sizer(self, connection, dispatch)
        before = sizer.before_images(operation_name, operation_kwargs)
        started = time.perf_counter()
        try:
            answer = super().dynamodb_call(connection, operation_name, operation_kwargs, dispatch)
        except Exception:
            self.measured.io_ms += (time.perf_counter() - started) * 1000
            self.measured.wru += sizer.refused_write_units(operation_name, operation_kwargs, before)
            raise
        self.measured.io_ms += (time.perf_counter() - started) * 1000
        self.measured.moto_units += _reported_units(answer)
        read, written = sizer.units(operation_name, operation_kwargs, answer, before)
        self.measured.rru += read
        self.measured.wru += written
        return answer


def _reported_units(answer: Mapping[str, Any]) -> float:
    reported = answer.get("ConsumedCapacity") or []
    entries = reported if isinstance(reported, list) else [reported]
    return float(sum(entry.get("CapacityUnits", 0) for entry in entries))


_WRITE_KINDS = ("Put", "Update", "Delete", "ConditionCheck")


class Sizer:
    """The request units of one DynamoDB call, from the sizes of the items it reads and writes.

    Reads it needs and the call itself does not make (images before and after a write, full items
    behind a projection or a filter) go straight to the emulator and are timed apart."""

    def __init__(self, counter: CostCounter, connection: Any, dispatch: Callable[..., Any]) -> None:
        self.counter = counter
        self.connection = connection
        self.dispatch = dispatch

    def _unmeasured(self, operation: str, kwargs: dict[str, Any]) -> Any:
        started = time.perf_counter()
        try:
            return self.dispatch(self.connection, operation, kwargs)
        finally:
            self.counter.measured.sizing_ms += (time.perf_counter() - started) * 1000

    def schema(self, table: str) -> TableSchema:
        if table not in self.counter.schemas:
            described = self._unmeasured("DescribeTable", {"TableName": table})["Table"]
            self.counter.schemas[table] = TableSchema(
                tuple(k["AttributeName"] for k in described["KeySchema"]),
                tuple(tuple(k["AttributeName"] for k in index["KeySchema"])
                      for index in described.get("GlobalSecondaryIndexes", [])))
        return self.counter.schemas[table]

    def item(self, table: str, key: Mapping[str, Any]) -> dict[str, Any] | None:
        answer = self._unmeasured("GetItem", {"TableName": table, "Key": dict(key), "ConsistentRead": True})
        return answer.get("Item")

    # --- the items a call writes ---------------------------------------------------------------------

    def writes_of(self, operation: str, kwargs: Mapping[str, Any]) -> list[tuple[str, str, dict[str, Any]]]:
        """(kind, table, key) of every item a write call touches."""
        if operation in ("PutItem", "UpdateItem", "DeleteItem"):
            kind = {"PutItem": "Put", "UpdateItem": "Update", "DeleteItem": "Delete"}[operation]
            return [(kind, kwargs["TableName"], self._key(kwargs["TableName"], kwargs))]
        found = []
        if operation == "TransactWriteItems":
            for entry in kwargs["TransactItems"]:
                ((kind, body),) = entry.items()
                found.append((kind, body["TableName"], self._key(body["TableName"], body)))
        elif operation == "BatchWriteItem":
            for table, requests in kwargs["RequestItems"].items():
                for request in requests:
                    kind, body = ("Put", request["PutRequest"]) if "PutRequest" in request else (
                        "Delete", request["DeleteRequest"])
                    found.append((kind, table, self._key(table, body)))
        return found

    def _key(self, table: str, body: Mapping[str, Any]) -> dict[str, Any]:
        if "Key" in body:
            return dict(body["Key"])
        return {name: body["Item"][name] for name in self.schema(table).key}

    def before_images(self, operation: str, kwargs: Mapping[str, Any]) -> dict[str, dict[str, Any] | None]:
        return {_key_text(key): self.item(table, key) for _kind, table, key in self.writes_of(operation, kwargs)}

    # --- units ---------------------------------------------------------------------------------------

    def units(self, operation: str, kwargs: dict[str, Any], answer: Mapping[str, Any],
              before: Mapping[str, dict[str, Any] | None]) -> tuple[float, float]:
        """(RRU, WRU) of a call DynamoDB accepted."""
        if operation == "GetItem":
            return self._get_units(kwargs, answer), 0.0
        if operation == "BatchGetItem":
            return self._batch_get_units(kwargs, answer), 0.0
        if operation in ("Query", "Scan"):
            return self._query_units(operation, kwargs, answer), 0.0
        if operation == "TransactGetItems":
            return sum(read_units(item_size(entry.get("Item")), "transactional")
                       for entry in answer.get("Responses", [])), 0.0
        return 0.0, self._write_units(operation, kwargs, before)

    def _read(self, operation: str, table: str, key: Mapping[str, Any] | None, size: int, consistency: str) -> float:
        units = read_units(size, consistency)
        self.counter.measured.items.append(ItemCost(operation, "Get" if key else "Query", _item_label(table, key),
                                                    size, size, units))
        return units

    def _get_units(self, kwargs: Mapping[str, Any], answer: Mapping[str, Any]) -> float:
        item = answer.get("Item")
        if item and ("ProjectionExpression" in kwargs or "AttributesToGet" in kwargs):
            item = self.item(kwargs["TableName"], kwargs["Key"])
        return self._read("GetItem", kwargs["TableName"], kwargs["Key"], item_size(item),
                          "strong" if kwargs.get("ConsistentRead") else "eventual")

    def _batch_get_units(self, kwargs: Mapping[str, Any], answer: Mapping[str, Any]) -> float:
        units = 0.0
        for table, request in kwargs["RequestItems"].items():
            consistency = "strong" if request.get("ConsistentRead") else "eventual"
            schema = self.schema(table)
            returned = {_key_text({k: item[k] for k in schema.key}): item
                        for item in answer.get("Responses", {}).get(table, []) if all(k in item for k in schema.key)}
            unprocessed = {_key_text(k) for k in (answer.get("UnprocessedKeys") or {}).get(table, {}).get("Keys", [])}
            projected = "ProjectionExpression" in request or "AttributesToGet" in request
            for key in request["Keys"]:
                text = _key_text(key)
                if text in unprocessed:
                    continue
                item = returned.get(text)
                if item is not None and projected:
                    item = self.item(table, key)
                units += self._read("BatchGetItem", table, key, item_size(item), consistency)  # none: the minimum
        return units

    def _query_units(self, operation: str, kwargs: Mapping[str, Any], answer: Mapping[str, Any]) -> float:
        items = answer.get("Items")
        reduced = any(name in kwargs for name in ("FilterExpression", "ProjectionExpression", "AttributesToGet",
                                                  "Select"))
        if items is None or reduced or answer.get("ScannedCount", answer.get("Count")) != answer.get("Count"):
            items = self._unmeasured(operation, without_filter(kwargs)).get("Items", [])
        consistent = kwargs.get("ConsistentRead") and "IndexName" not in kwargs
        table = kwargs["TableName"] + (f" index {kwargs['IndexName']}" if "IndexName" in kwargs else "")
        return self._read(operation, table, None, sum(item_size(item) for item in items),
                          "strong" if consistent else "eventual")

    def _write_units(self, operation: str, kwargs: Mapping[str, Any],
                     before: Mapping[str, dict[str, Any] | None]) -> float:
        transactional = operation == "TransactWriteItems"
        bodies = self._bodies(operation, kwargs)
        units = 0.0
        for (kind, table, key), body in zip(self.writes_of(operation, kwargs), bodies, strict=True):
            old = before.get(_key_text(key))
            if kind == "ConditionCheck":  # billed as a transactional write of the item checked
                new, table_units, index_units = old, write_units(item_size(old), transactional=True), 0.0
            else:
                new = body.get("Item") if kind == "Put" else self.item(table, key) if kind == "Update" else None
                table_units = write_units(max(item_size(old), item_size(new)), transactional)
                index_units = index_write_units(old, new, self.schema(table).indexes)
            self.counter.measured.items.append(ItemCost(operation, kind, _item_label(table, key), item_size(old),
                                                        item_size(new), table_units, index_units))
            units += table_units + index_units
        return units

    @staticmethod
    def _bodies(operation: str, kwargs: Mapping[str, Any]) -> list[Mapping[str, Any]]:
        if operation == "TransactWriteItems":
            return [next(iter(entry.values())) for entry in kwargs["TransactItems"]]
        if operation == "BatchWriteItem":
            return [request.get("PutRequest") or request["DeleteRequest"]
                    for requests in kwargs["RequestItems"].values() for request in requests]
        return [kwargs]

    def refused_write_units(self, operation: str, kwargs: Mapping[str, Any],
                            before: Mapping[str, dict[str, Any] | None]) -> float:
        """A write refused by its condition is still billed (the table's part, at the larger size)."""
        transactional = operation == "TransactWriteItems"
        units = 0.0
        for (_kind, _table, key), body in zip(self.writes_of(operation, kwargs), self._bodies(operation, kwargs),
                                              strict=True):
            units += write_units(max(item_size(before.get(_key_text(key))), item_size(body.get("Item"))),
                                 transactional)
        return units


# --- the template's facts --------------------------------------------------------------------------------

_TEMPLATE_FACTS: dict[str, Any] = {}


def _template() -> dict[str, Any]:
    if "template" not in _TEMPLATE_FACTS:
        from infra import cfn

        _TEMPLATE_FACTS["template"] = cfn.load_template()
    return dict(_TEMPLATE_FACTS["template"])


@dataclass(frozen=True)
class Deployment:
    architecture: str
    memory_mb: dict[str, int]  # by function logical id
    snapstart_functions: list[str]


def deployment() -> Deployment:
    """Architecture (the parameter's default), memory sizes and SnapStart functions of template.yaml."""
    template = _template()
    architecture = str(template["Parameters"]["Architecture"]["Default"])
    default_memory = int(template["Globals"]["Function"]["MemorySize"])
    memory, snapstart = {}, []
    for logical_id, resource in template["Resources"].items():
        if resource.get("Type") == "AWS::Serverless::Function":
            props = resource.get("Properties") or {}
            memory[logical_id] = int(props.get("MemorySize", default_memory))
            if props.get("SnapStart"):
                snapstart.append(logical_id)
    return Deployment(architecture, memory, snapstart)


# Which function serves a measured row (for its memory size).
FUNCTION_OF = (("/auth/", "AuthFunction"), ("/questions/", "QuestionsFunction"), ("/flashcards/", "FlashcardsFunction"),
               ("/progress", "ProgressFunction"), ("/leaderboard/", "ProgressFunction"),
               ("/analytics/", "AnalyticsFunction"), ("/roadmaps", "RoadmapsFunction"),
               ("roadmap worker", "RoadmapWorkerFunction"), ("daily-streak", "DailyStreaksFunction"))


def function_of(row: str) -> str:
    return next(function for marker, function in FUNCTION_OF if marker in row)


# --- the rows the session mix needs, on bench.request_costs' running stack ----------------------------


@dataclass
class Student:
    auth: dict[str, str]
    user_id: str
    refresh_token: str
    email: str
    password: str


def _register(client: Any) -> Student:
    email, password = f"cost.{secrets.token_hex(4)}@example.com", "Bench-password-1"
    data = client.post("/api/v1/auth/register", json={"email": email, "password": password,
                                                       "name": "Cost Bench"}).json()["data"]
    auth = {"Authorization": f"Bearer {data['access_token']}"}
    client.put("/api/v1/profile", headers=auth, json={
        "exam_type": "GATE", "level": "intermediate", "study_hours_per_day": 4, "target_date": "2035-01-01",
        "weak_subjects": ["Algorithms"], "new_cards_per_day": 10}).raise_for_status()
    return Student(auth, data["user"]["id"], data["refresh_token"], email, password)


class MixRows:
    """``more_rows`` for bench.request_costs.run: every request of MIX not measured there, each
    REPEATS times on a warm stack, as a fresh student with a profile and 200 cards (20 due)."""

    def __init__(self, fake_groq: Any) -> None:
        self.fake = fake_groq

    def __call__(self, rows: list[request_costs.Row], counter: request_costs.Counter, stack: Any) -> None:
        from fastapi.testclient import TestClient

        from bench.flashcards import write_cards
        from mindly.domain import calendar

        self.rows, self.counter, self.client = rows, counter, TestClient(stack.app)
        for poller in stack.pollers:  # jobs are handed to the worker here, to measure them alone
            poller.stop()
        self.worker = next(p for p in stack.pollers if p.function_name == "RoadmapWorkerFunction")
        self.student = _register(self.client)
        write_cards(self.student.user_id, 200, 20, calendar.local_date(datetime.now(UTC), "Asia/Kolkata"))
        self.sessions()
        self.practice_and_answers()
        self.study()
        self.roadmaps()
        self.streak_job()

    def measure(self, label: str, call: Callable[[], Any]) -> Any:
        return request_costs.measure(self.rows, self.counter, label, call)

    def invoke(self, label: str | None, handler: Callable[[], Any]) -> Any:
        """Run the worker's or the job's handler (measured when ``label`` is given). Their
        inject_lambda_context adds the context's keys to the one Logger this process shares; in AWS
        each function has its own, so the keys are dropped again before the API's next request."""
        from mindly.observability import logger

        try:
            return handler() if label is None else self.measure(label, handler)
        finally:
            logger.clear_state()

    def sessions(self) -> None:
        student = self.student
        for _ in range(REPEATS):
            answer = self.measure("POST /auth/refresh", lambda: self.client.post(
                "/api/v1/auth/refresh", json={"refresh_token": student.refresh_token}))
            student.refresh_token = answer.json()["data"]["refresh_token"]
            student.auth = {"Authorization": f"Bearer {answer.json()['data']['access_token']}"}
        for _ in range(REPEATS):
            self.measure("POST /auth/login", lambda: self.client.post(
                "/api/v1/auth/login", json={"email": student.email, "password": student.password}))

    def practice_and_answers(self) -> None:
        from mindly.llm import explanations as texts
        from mindly.store import content as content_store

        auth, api = self.student.auth, "/api/v1/questions"
        for _ in range(REPEATS):
            page = self.measure("GET /questions/practice (10 a page)", lambda: self.client.get(
                f"{api}/practice", params={"exam": "GATE", "limit": 10}, headers=auth)).json()["data"]["items"]
        questions = [content_store.get_question(item["question_id"]) for item in page]

        def submit(label: str, question: Any, option: str) -> None:
            body = {"question_id": question.question_id, "selected_option": option, "confidence_rating": 3,
                    "time_taken_seconds": 30, "attempt_id": secrets.token_hex(8)}
            self.measure(label, lambda: self.client.post(f"{api}/submit", json=body, headers=auth))

        for question in questions[:REPEATS]:
            submit("POST /questions/submit (correct)", question, question.correct_option)
        pairs = [(q, next(o for o in sorted(q.options.as_dict()) if o != q.correct_option))
                 for q in questions[REPEATS:2 * REPEATS]]
        for question, option in pairs:  # a pair never explained: Groq is called, its answer kept
            offline = texts.offline(content_store.question_of(question), option)
            self.fake.then(_groq_ok({"text": offline}))
            submit("POST /questions/submit (wrong, Groq call)", question, option)
            self._note_groq()
        for question, option in pairs:  # the same pairs again: the kept explanation, no Groq call
            self.fake.then(_groq_ok({"text": "not expected: the explanation is kept"}))
            submit("POST /questions/submit (wrong, kept explanation)", question, option)
            self._note_groq()

    def _note_groq(self) -> None:
        """Put what the fake Groq received (and answered) on the last row."""
        measured = self.rows[-1].detail["cost"]
        measured.groq_calls = len(self.fake.requests)
        for request in self.fake.requests:
            measured.groq_input_chars += sum(len(m["content"]) for m in request["body"]["messages"])
            measured.groq_output_chars += len(self.fake.script[0].content)

    def study(self) -> None:
        from mindly.services import badges

        auth = self.student.auth
        badges.catalog()  # warm container: the catalog is cached after its first read
        for n in range(REPEATS):
            self.measure("GET /flashcards/due", lambda: self.client.get(
                "/api/v1/flashcards/due", params={"limit": 50}, headers=auth))
            self.measure("POST /flashcards/review", lambda n=n: self.client.post(
                "/api/v1/flashcards/review", json={"flashcard_id": f"bench-{n:05d}", "rating": 4}, headers=auth))
            self.measure("GET /progress", lambda: self.client.get("/api/v1/progress", headers=auth))
            self.measure("GET /leaderboard/weekly", lambda: self.client.get("/api/v1/leaderboard/weekly",
                                                                             headers=auth))

    def roadmaps(self) -> None:
        from infra.sqs_poller import LocalContext, to_event
        from mindly.domain import roadmap as plans

        auth, worker = self.student.auth, self.worker
        for months in range(6, 6 + REPEATS):  # distinct profiles: none is in the 24-hour cache
            plan = plans.offline_roadmap("GATE", "intermediate", months, ["Algorithms"], 4.0).model_dump()
            self.fake.then(_groq_ok(plan))
            job = self.measure("POST /roadmaps", lambda months=months: self.client.post(
                "/api/v1/roadmaps", json={"months_available": months, "weak_subjects": ["Algorithms"]},
                headers=auth)).json()["data"]["job_id"]
            messages = worker.sqs.receive_message(QueueUrl=worker.queue_url, MaxNumberOfMessages=1,
                                                  WaitTimeSeconds=1, AttributeNames=["All"]).get("Messages")
            if not messages:  # nothing queued (a cached roadmap): --strict reports the missing row
                continue
            event = to_event(messages, worker.queue_arn, worker.region)
            self.invoke("roadmap worker: 1 job (Groq)", lambda event=event: worker.handler(
                event, LocalContext("RoadmapWorkerFunction")))
            self._note_groq()
            worker.sqs.delete_message(QueueUrl=worker.queue_url, ReceiptHandle=messages[0]["ReceiptHandle"])
            self.measure("GET /roadmaps/jobs/{job_id}", lambda job=job: self.client.get(
                f"/api/v1/roadmaps/jobs/{job}", headers=auth))

    def streak_job(self) -> None:
        """The hourly job, once with nothing due and once with STREAKS_DUE_IN_RUN streaks to settle."""
        from bench import daily_streaks as streak_bench
        from infra.functions import load_function
        from infra.sqs_poller import LocalContext
        from mindly.services import daily_streaks
        from mindly.store import progress as store

        now = datetime.fromisoformat(streak_bench.DEFAULT_NOW.replace("Z", "+00:00"))
        job = load_function("functions/daily_streaks/", "app.handler").handler
        store.advance_job_cursor(daily_streaks.JOB_NAME, now.date() - timedelta(days=1), now)
        event = {"time": streak_bench.DEFAULT_NOW, "detail-type": "Scheduled Event", "source": "aws.events"}

        def run(label: str) -> None:
            events: list[dict[str, Any]] = []
            self.invoke(label, lambda: job(event, LocalContext("DailyStreaksFunction"), publish=events.extend))
            self.rows[-1].detail["cost"].events = len(events)

        # a first run closes the finished leaderboard week, so the measured runs do not pay for it
        self.invoke(None, lambda: job(event, LocalContext("DailyStreaksFunction"), publish=lambda _events: None))
        streak_bench.write_students(streak_bench.plan(STREAKS_DUE_IN_RUN, STREAKS_DUE_IN_RUN, now, 7), now)
        run(STREAK_RUN_DUE)
        run(STREAK_RUN_IDLE)


def _groq_ok(content: Any) -> Any:
    from infra.fake_groq import ok

    return ok(content)


def measure_all() -> tuple[dict[str, Measured], dict[str, int], float]:
    """Every row measured (combined by label), how many times, and bcrypt's extra time per login in
    production."""
    sys.path[:0] = [str(REPO)]
    os.environ["POWERTOOLS_LOG_LEVEL"] = "INFO"  # template.yaml's LogLevel default
    # one client does the work of many students
    for limit in ("USER", "REGISTER", "LOGIN", "LOGIN_IP", "REFRESH", "BAD_TOKEN"):
        os.environ.setdefault(f"{limit}_RATE_LIMIT_PER_MINUTE", "100000")
    # The emulators are slower than AWS (see DYNAMODB_CALL_MS): give the live explanation time to be
    # asked for, so the row measures the Groq path and not the budget running out.
    os.environ.setdefault("EXPLANATION_BUDGET_SECONDS", "60")
    from infra.fake_groq import FakeGroq

    fake = FakeGroq().start()
    os.environ.update({"GROQ_API_KEY_1": "gsk_cost_1", "GROQ_BASE_URL": fake.url})
    from infra.functions import use_layer

    use_layer()
    from mindly.observability import logger

    tap = LogTap()
    logger.registered_handler.setStream(tap)  # type: ignore[attr-defined]
    try:
        rows = request_costs.run(CostCounter(tap), MixRows(fake))
    finally:
        fake.stop()
    samples: dict[str, list[Measured]] = {}
    for row in rows:
        measured = row.detail["cost"]
        measured.status = row.status
        samples.setdefault(row.endpoint.strip(), []).append(measured)
    return ({label: combined(found) for label, found in samples.items()},
            {label: len(found) for label, found in samples.items()}, bcrypt_extra_ms())


def bcrypt_extra_ms() -> float:
    """How much longer a password check takes at the production cost factor than at the bench's."""
    import bcrypt

    def check_ms(rounds: int) -> float:
        hashed = bcrypt.hashpw(b"Bench-password-1", bcrypt.gensalt(rounds=rounds))
        times = []
        for _ in range(3):
            started = time.perf_counter()
            bcrypt.checkpw(b"Bench-password-1", hashed)
            times.append((time.perf_counter() - started) * 1000)
        return statistics.median(times)

    return check_ms(BCRYPT_PRODUCTION_ROUNDS) - check_ms(int(os.environ.get("BCRYPT_ROUNDS", "4")))


# --- the model -------------------------------------------------------------------------------------------


@dataclass
class Model:
    per_request: dict[str, Usage]
    per_student_day: Usage
    fixed_month: Usage
    snapstart_cache_gb_seconds: float
    lines: list[tuple[str, float, str, Usage]] = field(default_factory=list)  # (row, per day, why, usage)


def build_model(measured: Mapping[str, Measured], login_extra_ms: float, plan: Deployment) -> Model:
    """Usage per student-day from MIX, plus the fixed usage of a month."""
    per_request: dict[str, Usage] = {}
    for label, m in measured.items():
        if not any(marker in label for marker, _ in FUNCTION_OF):
            continue
        memory = plan.memory_mb[function_of(label)]
        if label == "POST /auth/login":
            m = replace(m, handler_ms=(m.handler_ms or m.wall_ms) + login_extra_ms)
        kind = "roadmap" if "roadmap worker" in label else "explanation"
        per_request[label] = usage_of(m, memory, via_api=label.split(" ")[0] in ("GET", "POST", "PUT"),
                                      groq_kind=kind)
        if "roadmap worker" in label:
            per_request[label] = per_request[label] + Usage(sqs_requests=SQS_REQUESTS_PER_JOB)
    lines = [(item.row, item.per_day, item.why, per_request[item.row]) for item in MIX if item.row in per_request]
    idle, due = per_request.get(STREAK_RUN_IDLE), per_request.get(STREAK_RUN_DUE)
    if idle and due:
        per_streak = (due - idle).times(1 / STREAKS_DUE_IN_RUN)
        lines.append(("daily-streak run: per streak settled", STREAKS_SETTLED_SHARE,
                      f"{STREAKS_SETTLED_SHARE:.0%} of students a day", per_streak))
    day = total(usage.times(per_day) for _row, per_day, _why, usage in lines)
    fixed = Usage(sqs_requests=SQS_IDLE_RECEIVES_A_MONTH)
    if idle:
        fixed = fixed + idle.times(STREAK_RUNS_A_DAY * DAYS_PER_MONTH)
    cache = sum(plan.memory_mb[f] / 1024 for f in plan.snapstart_functions) * DAYS_PER_MONTH * 86400
    return Model(per_request, day, fixed, cache, lines)


def month_for(model: Model, students: int) -> Usage:
    return model.per_student_day.times(students * DAYS_PER_MONTH) + model.fixed_month


# --- output ----------------------------------------------------------------------------------------------


def _fmt(value: float, digits: int = 2) -> str:
    if value == 0:
        return "0"
    if abs(value) >= 1000:
        return f"{value:,.0f}"
    return f"{value:,.{digits}f}"


def print_measurements(measured: Mapping[str, Measured], runs: Mapping[str, int]) -> None:
    print("Per request, measured on the local stack. DynamoDB units are computed from item sizes; 'moto says' is "
          "the\nConsumedCapacity moto answered (constants, not used).")
    header = (f"{'request':<48} {'runs':>4} {'status':>6} {'DDB calls':>9} {'RRU':>6} {'WRU':>6} {'moto says':>9} "
              f"{'Redis cmds':>10} {'trips':>5} {'ms here':>8} {'emul I/O':>8} {'own ms':>6} {'billed':>6} "
              f"{'log B':>5} {'Groq':>4}")
    print(header)
    print("-" * len(header))
    used = {item.row for item in MIX} | {STREAK_RUN_IDLE, STREAK_RUN_DUE}
    for label, m in measured.items():
        mark = "*" if label in used else " "
        print(f"{mark}{label[:47]:<47} {runs[label]:>4} {m.status[:6]:>6} {m.dynamodb_calls:>9.1f} {m.rru:>6.1f} "
              f"{m.wru:>6.1f} {m.moto_units:>9.1f} {m.redis_commands:>10.1f} {m.redis_round_trips:>5.1f} "
              f"{m.measured_ms:>8.1f} {m.io_ms:>8.1f} {m.own_ms:>6.1f} {m.duration_ms:>6.1f} {m.log_bytes:>5.0f} "
              f"{m.groq_calls:>4.1f}")
    print("* in the cost model. 'ms here': the handler's time in this process (the platform middleware's "
          "duration_ms; the\ncall's time for the worker and the job), sizing reads taken out; 'emul I/O': of that, "
          "waiting for moto and the\nlocal Upstash; 'own ms' = the difference; 'billed' = own ms + the calls' "
          "network time in AWS (DYNAMODB_CALL_MS,\nREDIS_ROUND_TRIP_MS), the Lambda duration proxy. Repeated rows: "
          "mean units, median times.")


def print_breakdown(measured: Mapping[str, Measured], label: str) -> None:
    """Where one request's request units go, item by item (the measurement with the median time)."""
    if label not in measured:
        return
    print(f"\nWhere the units of one {label} go")
    print(f"  {'call':<18} {'action':<14} {'item':<24} {'bytes before':>12} {'after':>6} {'units':>6} {'index WRU':>9}")
    for cost in measured[label].items:
        print(f"  {cost.operation:<18} {cost.kind:<14} {cost.item[:24]:<24} {cost.size_before:>12} "
              f"{cost.size_after:>6} {cost.units:>6.1f} {cost.index_units:>9.1f}")


def print_mix(model: Model) -> None:
    print("\nSession mix per student and day, and what it uses")
    header = (f"{'request':<50} {'per day':>7} {'RRU':>8} {'WRU':>7} {'Redis':>7} {'GB-s':>8} {'log KB':>7}  why")
    print(header)
    print("-" * len(header))
    for row, per_day, why, usage in model.lines:
        day = usage.times(per_day)
        print(f"{row[:50]:<50} {per_day:>7.3f} {day.rru:>8.2f} {day.wru:>7.2f} {day.redis_commands:>7.2f} "
              f"{day.lambda_gb_seconds:>8.4f} {day.log_bytes / 1024:>7.2f}  {why}")
    d = model.per_student_day
    print(f"{'per student-day':<50} {'':>7} {d.rru:>8.2f} {d.wru:>7.2f} {d.redis_commands:>7.2f} "
          f"{d.lambda_gb_seconds:>8.4f} {d.log_bytes / 1024:>7.2f}  + {d.api_requests:.1f} API requests, "
          f"{d.groq_calls:.2f} Groq calls, {d.groq_input_tokens:.0f} in / {d.groq_output_tokens:.0f} out tokens")
    print(f"fixed a month: {STREAK_RUNS_A_DAY} streak-job runs a day with nothing due, "
          f"{SQS_IDLE_RECEIVES_A_MONTH:,} idle SQS receives, SnapStart cache "
          f"{model.snapstart_cache_gb_seconds:,.0f} GB-s")


QUANTITIES = (("HTTP API requests", "api_requests", 1), ("Lambda invocations", "lambda_requests", 1),
              ("Lambda GB-seconds", "lambda_gb_seconds", 1), ("DynamoDB RRU", "rru", 1), ("DynamoDB WRU", "wru", 1),
              ("Redis commands", "redis_commands", 1), ("Groq calls", "groq_calls", 1),
              ("Groq input tokens", "groq_input_tokens", 1), ("Groq output tokens", "groq_output_tokens", 1),
              ("SQS requests", "sqs_requests", 1), ("EventBridge events", "events", 1),
              ("CloudWatch Logs GB", "log_bytes", GB))


def print_costs(model: Model, plan: Deployment) -> dict[int, float]:
    print(f"\nMonthly cost, USD ({DAYS_PER_MONTH}-day month, list prices, no free tiers)")
    costs = {n: monthly_costs(month_for(model, n), plan.architecture, model.snapstart_cache_gb_seconds)
             for n in SCALES}
    components = list(costs[SCALES[0]])
    width = max(len(c) for c in components) + 2
    print(f"{'component':<{width}}" + "".join(f"{f'{n:,} DAU':>16}" for n in SCALES))
    print("-" * (width + 16 * len(SCALES)))
    for component in components:
        print(f"{component:<{width}}" + "".join(f"{_fmt(costs[n][component]):>16}" for n in SCALES))
    totals = {n: sum(costs[n].values()) for n in SCALES}
    print("-" * (width + 16 * len(SCALES)))
    print(f"{'total a month':<{width}}" + "".join(f"{_fmt(totals[n]):>16}" for n in SCALES))
    print(f"{'per student a month':<{width}}" + "".join(f"{totals[n] / n:>16.4f}" for n in SCALES))
    rates = ", ".join(f"{month_for(model, n).redis_commands / (DAYS_PER_MONTH * 86400):,.0f}" for n in SCALES)
    print(f"(Redis commands a second on average: {rates}; Upstash Pay as You Go allows 10,000 a second, and "
          "evening peaks run several times the average.)")
    print("\nMonthly quantities")
    for name, attribute, divisor in QUANTITIES:
        print(f"{name:<{width}}" + "".join(
            f"{_fmt(getattr(month_for(model, n), attribute) / divisor, 0):>16}" for n in SCALES))
    return totals


def print_prices_and_assumptions(plan: Deployment, login_extra_ms: float) -> None:
    print("\nPrices used")
    for price in PRICES.values():
        print(f"  {price.what:<30} ${price.usd:<14.10g} per {price.per:<14} {price.source}")
    memory = sorted(set(plan.memory_mb.values()))
    print("\nAssumptions")
    for line in (
        f"Lambda: {plan.architecture} (template.yaml's Architecture default), {memory} MB (Globals), billed per 1 ms. "
        "Duration is a proxy: the handler's own time in this process (warm, on this machine's CPU, unscaled to "
        "Lambda's ~0.6 vCPU at 1 GB) + DYNAMODB_CALL_MS / REDIS_ROUND_TRIP_MS per call instead of the emulators' "
        f"time (moto copies each table a transaction touches); + Groq's answer time where Groq is called; login "
        f"adds bcrypt at cost {BCRYPT_PRODUCTION_ROUNDS} (+{login_extra_ms:.0f} ms here; the bench hashes at 4). "
        "Restore and init durations are not billed here.",
        f"SnapStart ({len(plan.snapstart_functions)} API functions): one cached snapshot each for the whole month; "
        f"{SNAPSTART_RESTORES_SHARE:.1%} of API invocations restore one. Worker and job have no SnapStart.",
        "DynamoDB: on-demand; units computed from item sizes (DynamoDB's rules: reads in 4 KB steps, eventually "
        "consistent x0.5, transactional x2; writes in 1 KB steps at the larger of the old and new item, "
        "transactional x2; global-index writes x1 (projection ALL); a ConditionCheck in a transaction is billed as "
        "a transactional write; a missing key costs the minimum read). Storage, PITR and backups are not modelled.",
        "Redis: every command billed (a pipeline of N is N, EVAL is 1, MULTI/EXEC counts its commands); storage "
        "and bandwidth (free to 200 GB a month) not modelled.",
        f"Groq: {WRONG_SHARE:.0%} wrong answers, {GROQ_CALLS_PER_WRONG_ANSWER:.0%} of them call Groq "
        f"(bench/groq.py: 10 calls for 100 wrong answers over 10 pairs), an upper bound: an explanation is kept "
        "for good per (question, option), so at 100k+ students every pair of a bank is explained within days and "
        "calls fall to new questions; a roadmap a month, each a Groq call; "
        f"tokens from the characters actually sent (prose {CHARS_PER_TOKEN['explanation']:g}, JSON "
        f"{CHARS_PER_TOKEN['roadmap']:g} characters a token, +{CHAT_TEMPLATE_TOKENS} a call); Lambda waits "
        f"{GROQ_FIRST_TOKEN_SECONDS:g} s + output at {GROQ_OUTPUT_TOKENS_PER_SECOND} tokens/s per call.",
        f"SQS: {SQS_REQUESTS_PER_JOB} requests a roadmap job; the event source's idle long polls "
        f"({SQS_IDLE_RECEIVES_A_MONTH:,} a month). EventBridge: the hourly schedule is free; one custom event per "
        f"streak settled ({STREAKS_SETTLED_SHARE:.0%} of students a day).",
        "CloudWatch Logs: the app's log lines as measured (INFO), Lambda's START/END/REPORT lines and the HTTP API "
        f"access-log line ({len(access_log_line())} bytes, template.yaml's format), each event + "
        f"{LOG_EVENT_OVERHEAD_BYTES} bytes; storage (30/90-day retention) not modelled.",
        "Not included: data transfer out, the free tiers (Lambda's always-free 1M requests and 400,000 GB-s would "
        f"take ${lambda_free_tier(plan.architecture):.2f} a month off every scale), SSM (standard parameters, "
        "free), support plans, taxes.",
    ):
        print(f"  - {line}")


def lambda_free_tier(architecture: str) -> float:
    """What Lambda's always-free tier is worth a month (1M requests, 400,000 GB-seconds)."""
    return 1e6 * unit_price("Lambda requests") + 400_000 * unit_price(f"Lambda compute {architecture}")


def missing_rows(measured: Mapping[str, Measured]) -> list[str]:
    """What --strict refuses: a mix row not measured, or measured with an error status."""
    wanted = [item.row for item in MIX] + [STREAK_RUN_IDLE, STREAK_RUN_DUE]
    problems = [f"not measured: {row}" for row in wanted if row not in measured]
    problems += [f"{row}: status {measured[row].status}" for row in wanted
                 if row in measured and not re.fullmatch(r"(2\d\d/?)+|-", measured[row].status)]
    groq = measured.get("POST /questions/submit (wrong, Groq call)")
    if groq is not None and groq.groq_calls != 1:
        problems.append(f"a never-explained wrong answer made {groq.groq_calls:g} Groq calls, not 1")
    kept = measured.get("POST /questions/submit (wrong, kept explanation)")
    if kept is not None and kept.groq_calls != 0:
        problems.append(f"a kept explanation still made {kept.groq_calls:g} Groq calls")
    return problems


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--strict", action="store_true",
                        help="exit 1 when a request of the mix was not measured or did not succeed")
    args = parser.parse_args(argv)
    started = time.monotonic()
    measured, runs, login_extra_ms = measure_all()
    plan = deployment()
    model = build_model(measured, login_extra_ms, plan)
    print_measurements(measured, runs)
    for label in BREAKDOWNS:
        print_breakdown(measured, label)
    print_mix(model)
    print_costs(model, plan)
    print_prices_and_assumptions(plan, login_extra_ms)
    problems = missing_rows(measured)
    for problem in problems:
        print(f"MISSING: {problem}")
    print(f"\n(measured in {time.monotonic() - started:.0f} s)")
    return 1 if args.strict and problems else 0


if __name__ == "__main__":
    raise SystemExit(main())
