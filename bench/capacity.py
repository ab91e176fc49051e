"""Throttles and reserved concurrency for 1M daily students at the evening peak, from the cost model's mix.

    .venv/bin/python -m bench.capacity [--students 1000000] [--measure]

The traffic is bench/cost_model.py's session mix (MIX: what a student requests a day, imported, not
copied), spread over the day by two stated peak factors:

- PEAK_HOUR_SHARE: the share of a day's requests made in the busiest hour. Students of Indian exams
  study after school, college or coaching: the busiest hour is 20:00-21:00 IST (14:30-15:30 UTC).
  A flat day would put 1/24 = 4.2 % in every hour; we assume 15 %, 3.6 times the mean hour.
- PEAK_TO_MEAN: the busiest minute of that hour against the hour's mean (sessions starting on the
  hour, a reminder push): 2.

    peak rps (route) = students x requests a student-day x PEAK_HOUR_SHARE / 3600 x PEAK_TO_MEAN

Concurrent executions per function follow Little's law, with each request's p95 duration as its time
in the system (conservative: the mean is lower):

    concurrency (function) = sum over its requests of peak rps x p95 seconds

P95_MS are fixed, stated durations (so that the unit test stays offline and fast). Each is about 3x
the cost model's measured duration proxy (its median, warm, on this machine's CPU: a 1 GB Lambda has
about 0.6 of a vCPU, and DynamoDB's tail adds to the p95), rounded up; the Groq rows take the time
Groq answers in: a submit is bounded by its explanation budget (mindly.config), a roadmap job by
about twice the cost model's answer time. The proxies move with the machine's load (a loaded
machine measures up to twice as long). ``--measure`` runs the
cost model's measurement (about a minute) and prints the measured proxies beside them.

The template must then hold, and tests/unit/test_capacity.py checks it:
- each route of the mix: ThrottlingRateLimit >= peak rps x RATE_HEADROOM, ThrottlingBurstLimit >= the
  rate limit, and no route above API Gateway's account limits in ap-south-1 (API_ACCOUNT_RPS /
  API_ACCOUNT_BURST); the stage default (every other route) >= DEFAULT_ROUTE_RPS;
- each function: ReservedConcurrentExecutions (prod) >= concurrency x CONCURRENCY_HEADROOM, and at
  least MIN_RESERVED;
- the total reserved + Lambda's 100 unreserved <= ACCOUNT_CONCURRENCY, the quota to request.
"""

from __future__ import annotations

import argparse
import math
import re
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from bench import cost_model as cm

STUDENTS = cm.SCALES[-1]  # 1,000,000 daily active students
SECONDS_PER_HOUR = 3600

# --- peak factors (assumptions) ------------------------------------------------------------------------
PEAK_HOUR_SHARE = 0.15  # of a day's requests, 20:00-21:00 IST (a flat day: 1/24 = 0.042)
PEAK_TO_MEAN = 2.0  # busiest minute of the peak hour / the peak hour's mean

# --- headroom and limits --------------------------------------------------------------------------------
RATE_HEADROOM = 1.25  # route throttle >= 1.25 x the peak rps: the peak is an estimate
CONCURRENCY_HEADROOM = 1.5  # reserved >= 1.5 x Little's law: cold starts, DynamoDB or Groq slowing down
MIN_RESERVED = 5  # the least a function reserves (AWS's advice for SQS-fed functions is 5 or more)
DEFAULT_ROUTE_RPS = 100  # the stage default, for routes outside the mix (badges, attempts, undo, ...)
# API Gateway, per account and Region, across all APIs (ap-south-1 has the standard quota, not the
# 2,500 rps of the newer Regions): docs.aws.amazon.com/apigateway/latest/developerguide/limits.html
API_ACCOUNT_RPS = 10_000
API_ACCOUNT_BURST = 5_000
# Lambda: an account starts at 1,000 concurrent executions per Region (new accounts may start lower)
# and always keeps 100 unreserved; the total reserved must fit. The quota to request for prod
# (Service Quotas, "Concurrent executions", ap-south-1):
LAMBDA_DEFAULT_ACCOUNT_CONCURRENCY = 1_000
LAMBDA_UNRESERVED_MINIMUM = 100
ACCOUNT_CONCURRENCY = 2_000

# --- durations ------------------------------------------------------------------------------------------
# p95 per request of the mix, ms. In brackets: the cost model's measured proxy (median, 2026-12-01).
P95_MS: dict[str, float] = {
    "POST /auth/login": 1000,  # [22 + bcrypt at cost 12: 746 with the bcrypt time measured here]
    "POST /auth/refresh": 75,  # [22]
    "GET /questions/practice (10 a page)": 60,  # [16]
    "POST /questions/submit (correct)": 120,  # [37]
    "POST /questions/submit (wrong, kept explanation)": 120,  # [34]
    # [67 + Groq ~1 s]; the submit stops waiting for Groq at explanation_budget_seconds (2.2 s of its 3 s)
    "POST /questions/submit (wrong, Groq call)": 3000,
    "GET /flashcards/due": 150,  # [43]
    "POST /flashcards/review": 120,  # [36]
    "GET /progress": 60,  # [19]
    "GET /leaderboard/weekly": 40,  # [9]
    "GET /analytics/dashboard": 150,  # [45]
    "GET /analytics/calibration (500 attempts)": 400,  # [91; 226 on a loaded machine]
    "POST /roadmaps": 100,  # [32]
    "GET /roadmaps/jobs/{job_id}": 40,  # [12]
    # [55 + the modelled Groq answer of a roadmap (first token + output tokens at 275/s): 11,400 in all]
    "roadmap worker: 1 job (Groq)": 20_000,
}

# Routes the cost model's mix leaves out but every student uses, with the same kind of stated rate.
OUTSIDE_MIX: tuple[tuple[str, float, float, str], ...] = (
    # (mix-style row, a student's requests a day, p95 ms, why)
    ("GET /profile", 1, 50, "read at every app start (the mix leaves it out)"),
    ("GET /syllabus/{exam}", 1 / 7, 20, "the syllabus screen once a week (no I/O)"),
    # Mock tests (functions/mock_tests): a tenth of the students sits one a day.
    ("POST /mock-tests", 0.1, 2000, "a paper assembled from ~20 Queries of the bank"),
    ("PUT /mock-tests/{mock_test_id}/answers/{number}", 10, 80, "about 100 saves a test"),
    ("POST /mock-tests/{mock_test_id}/submit", 0.1, 3000, "scoring and ~14 chunk transactions"),
    ("GET /mock-tests/{mock_test_id}", 0.3, 300, "resuming, then the review"),
)
# Functions no student request reaches: the admin imports (a person at a time), the hourly job (one
# run at a time; its retry may overlap the next hour's run, which the job's cursor allows) and the
# mock-test sweep (a run every five minutes).
FIXED_CONCURRENCY = {"AdminFunction": 2, "DailyStreaksFunction": 2, "MockSweepFunction": 2}

_ROW = re.compile(r"(GET|POST|PUT|PATCH|DELETE) (/\S+)")


@dataclass(frozen=True)
class Request:
    """One kind of request at the peak."""

    row: str
    function: str
    route_key: str | None  # "POST /api/v1/questions/submit", the template's route; None off the API
    per_student_day: float
    p95_ms: float
    peak_rps: float

    @property
    def concurrency(self) -> float:
        """Little's law: arrivals a second x seconds in the system."""
        return self.peak_rps * self.p95_ms / 1000


@dataclass(frozen=True)
class RouteNeed:
    route_key: str
    function: str
    peak_rps: float

    @property
    def rate_limit(self) -> int:
        """The least ThrottlingRateLimit the route may have."""
        return math.ceil(self.peak_rps * RATE_HEADROOM)


@dataclass(frozen=True)
class FunctionNeed:
    function: str
    peak_rps: float
    concurrency: float

    @property
    def reserved(self) -> int:
        """The least ReservedConcurrentExecutions the function may have."""
        return max(MIN_RESERVED, math.ceil(self.concurrency * CONCURRENCY_HEADROOM))


def peak_rps(per_student_day: float, students: int = STUDENTS) -> float:
    """Requests a second in the busiest minute of the evening peak hour."""
    return students * per_student_day * PEAK_HOUR_SHARE / SECONDS_PER_HOUR * PEAK_TO_MEAN


def _routes(template: Mapping[str, Any]) -> list[Any]:
    from infra import cfn

    return cfn.http_routes(template)


def route_of(row: str, template: Mapping[str, Any]) -> tuple[str, str | None]:
    """(function logical id, route key) that serves a mix row: API Gateway's own route selection
    over template.yaml's routes, or the cost model's function for a row off the API."""
    from infra import cfn

    found = _ROW.match(row)
    if found is None:
        return cm.function_of(row), None
    method, path = found.groups()
    concrete = "/api/v1" + re.sub(r"\{[^}]+\}", "x", path)
    matched = cfn.match_route(_routes(template), method, concrete)
    if matched is None:
        raise ValueError(f"no route of template.yaml serves {row!r} ({method} {concrete})")
    route = matched[0]
    return route.function_logical_id, f"{route.method} {route.path}"


def requests(template: Mapping[str, Any], students: int = STUDENTS,
             p95_ms: Mapping[str, float] = P95_MS) -> list[Request]:
    """Every request of the mix (and OUTSIDE_MIX) at the peak."""
    found = []
    rows = [(item.row, item.per_day, p95_ms[item.row]) for item in cm.MIX]
    rows += [(row, per_day, ms) for row, per_day, ms, _why in OUTSIDE_MIX]
    for row, per_day, ms in rows:
        function, route_key = route_of(row, template)
        found.append(Request(row, function, route_key, per_day, ms, peak_rps(per_day, students)))
    return found


def route_needs(reqs: list[Request]) -> dict[str, RouteNeed]:
    """Peak rps per route key (the rows of one route added up)."""
    totals: dict[str, tuple[str, float]] = {}
    for r in reqs:
        if r.route_key is not None:
            function, rps = totals.get(r.route_key, (r.function, 0.0))
            totals[r.route_key] = (function, rps + r.peak_rps)
    return {key: RouteNeed(key, function, rps) for key, (function, rps) in totals.items()}


def function_needs(reqs: list[Request]) -> dict[str, FunctionNeed]:
    """Peak rps and Little's-law concurrency per function, FIXED_CONCURRENCY included."""
    rps: dict[str, float] = {}
    concurrency: dict[str, float] = {}
    for r in reqs:
        rps[r.function] = rps.get(r.function, 0.0) + r.peak_rps
        concurrency[r.function] = concurrency.get(r.function, 0.0) + r.concurrency
    for function, fixed in FIXED_CONCURRENCY.items():
        rps.setdefault(function, 0.0)
        concurrency[function] = concurrency.get(function, 0.0) + fixed
    return {f: FunctionNeed(f, rps[f], concurrency[f]) for f in rps}


# --- what template.yaml holds ----------------------------------------------------------------------------


def prod_value(value: Any) -> Any:
    """A property's value in prod: the IsProd branch of ``!If [IsProd, a, b]``, else the value."""
    if isinstance(value, dict) and "Fn::If" in value and value["Fn::If"][0] == "IsProd":
        return value["Fn::If"][1]
    return value


def template_route_settings(template: Mapping[str, Any]) -> dict[str, dict[str, Any]]:
    """Route key -> the RouteSettings of its HttpApi event (SAM merges them into the stage)."""
    from infra import cfn

    found = {}
    for function in cfn.functions(template):
        for event in function.events.values():
            if isinstance(event, dict) and event.get("Type") == "HttpApi":
                props = event.get("Properties") or {}
                if props.get("RouteSettings"):
                    key = f"{str(props.get('Method', 'ANY')).upper()} {props.get('Path')}"
                    found[key] = dict(props["RouteSettings"])
    return found


def template_reserved(template: Mapping[str, Any]) -> dict[str, int | None]:
    """Function logical id -> its ReservedConcurrentExecutions in prod (None: not reserved)."""
    found: dict[str, int | None] = {}
    for logical_id, resource in (template.get("Resources") or {}).items():
        if resource.get("Type") == "AWS::Serverless::Function":
            value = prod_value((resource.get("Properties") or {}).get("ReservedConcurrentExecutions"))
            found[logical_id] = int(value) if isinstance(value, int | float | str) else None
    return found


def route_rate_limits(template: Mapping[str, Any]) -> dict[str, float]:
    """Every route key of the template -> its ThrottlingRateLimit (its own, else the stage default)."""
    from infra import cfn

    default = template["Resources"]["HttpApi"]["Properties"]["DefaultRouteSettings"]["ThrottlingRateLimit"]
    settings = template_route_settings(template)
    return {key: float(settings.get(key, {}).get("ThrottlingRateLimit", default))
            for key in (f"{r.method} {r.path}" for r in cfn.http_routes(template))}


def concurrency_at_throttles(template: Mapping[str, Any], reqs: list[Request]) -> dict[str, float]:
    """Per function: Little's law with each of its mix routes at its throttle's rate (the route's
    requests in the mix's proportions). Reserved concurrency above this means API Gateway, not
    Lambda, turns the excess away (a 429, where a Lambda throttle would be a 5xx)."""
    limits = route_rate_limits(template)
    found: dict[str, float] = {}
    for key, need in route_needs(reqs).items():
        rows = [r for r in reqs if r.route_key == key]
        seconds_per_request = sum(r.peak_rps * r.p95_ms / 1000 for r in rows) / need.peak_rps
        found[need.function] = found.get(need.function, 0.0) + limits[key] * seconds_per_request
    return found


# --- output --------------------------------------------------------------------------------------------


def print_tables(template: Mapping[str, Any], students: int, measured: Mapping[str, float] | None = None) -> None:
    reqs = requests(template, students)
    per_day = sum(r.per_student_day for r in reqs)
    print(f"Evening peak for {students:,} daily students: {PEAK_HOUR_SHARE:.0%} of the day's requests in the "
          f"busiest hour (20:00-21:00 IST), x{PEAK_TO_MEAN:g} in its busiest minute.")
    print(f"{per_day:.1f} requests a student-day -> {students * per_day / 86400:,.0f} rps over the day, "
          f"{peak_rps(per_day, students):,.0f} rps at the peak.\n")
    head = f"{'request':<50} {'function':<22} {'/day':>6} {'peak rps':>9} {'p95 ms':>7} {'conc.':>7}"
    if measured is not None:
        head += f" {'measured ms':>11}"
    print(head)
    print("-" * len(head))
    for r in reqs:
        line = (f"{r.row:<50} {r.function:<22} {r.per_student_day:>6.2f} {r.peak_rps:>9.1f} "
                f"{r.p95_ms:>7.0f} {r.concurrency:>7.1f}")
        if measured is not None:
            ms = measured.get(r.row)
            line += f" {ms:>11.1f}" if ms is not None else f" {'-':>11}"
            if ms is not None and ms * 3 > r.p95_ms:
                line += "  <- p95 below 3x measured"
        print(line)

    settings = template_route_settings(template)
    default = (template["Resources"]["HttpApi"]["Properties"].get("DefaultRouteSettings") or {})
    print(f"\nPer route (rate limit >= {RATE_HEADROOM:g} x peak rps; every other route: the stage default "
          f"{default.get('ThrottlingRateLimit')} rps / burst {default.get('ThrottlingBurstLimit')})")
    head = f"{'route':<38} {'peak rps':>9} {'need':>6} {'template rate':>13} {'burst':>6}"
    print(head)
    print("-" * len(head))
    needs = route_needs(reqs)
    for key, need in sorted(needs.items(), key=lambda kv: -kv[1].peak_rps):
        s = settings.get(key, {})
        print(f"{key:<38} {need.peak_rps:>9.1f} {need.rate_limit:>6} {s.get('ThrottlingRateLimit', '-')!s:>13} "
              f"{s.get('ThrottlingBurstLimit', '-')!s:>6}")
    total_rate = sum(n.rate_limit for n in needs.values())
    limits = route_rate_limits(template)
    print(f"{'all routes of the mix':<38} {sum(n.peak_rps for n in needs.values()):>9.1f} {total_rate:>6}")
    print(f"{'every route at its limit':<38} {'':>9} {'':>6} {sum(limits.values()):>13,.0f}   "
          f"(API Gateway's account limit: {API_ACCOUNT_RPS:,} rps, burst {API_ACCOUNT_BURST:,})")

    reserved = template_reserved(template)
    print(f"\nPer function (reserved >= {CONCURRENCY_HEADROOM:g} x Little's law, at least {MIN_RESERVED}; "
          "prod only)")
    head = f"{'function':<24} {'peak rps':>9} {'conc.':>7} {'need':>6} {'at throttles':>12} {'template':>9}"
    print(head)
    print("-" * len(head))
    fneeds = function_needs(reqs)
    throttled = concurrency_at_throttles(template, reqs)
    for function in sorted(reserved, key=lambda f: -(fneeds[f].concurrency if f in fneeds else 0)):
        need = fneeds.get(function)
        at = f"{throttled[function]:.1f}" if function in throttled else "-"
        print(f"{function:<24} {need.peak_rps if need else 0:>9.1f} {need.concurrency if need else 0:>7.1f} "
              f"{need.reserved if need else MIN_RESERVED:>6} {at:>12} {reserved[function]!s:>9}")
    total = sum(v or 0 for v in reserved.values())
    need_total = sum(n.reserved for n in fneeds.values())
    print(f"{'total':<24} {'':>9} {'':>7} {need_total:>6} {'':>12} {total:>9}")
    print("'at throttles': Little's law with the function's routes at their throttles' rates; reserving more "
          "means\nAPI Gateway (429), not Lambda (a 5xx), turns the excess away.")
    print(f"\nAccount concurrency: {total} reserved + {LAMBDA_UNRESERVED_MINIMUM} unreserved = "
          f"{total + LAMBDA_UNRESERVED_MINIMUM} > the default {LAMBDA_DEFAULT_ACCOUNT_CONCURRENCY:,}: "
          f"request {ACCOUNT_CONCURRENCY:,} concurrent executions in ap-south-1 before the prod deploy."
          if total + LAMBDA_UNRESERVED_MINIMUM > LAMBDA_DEFAULT_ACCOUNT_CONCURRENCY else
          f"\nAccount concurrency: {total} reserved + {LAMBDA_UNRESERVED_MINIMUM} unreserved fits the default "
          f"{LAMBDA_DEFAULT_ACCOUNT_CONCURRENCY:,}.")


def measured_durations() -> dict[str, float]:
    """The cost model's duration proxy per mix row, ms (runs its measurement: about a minute)."""
    measured, _runs, login_extra_ms = cm.measure_all()
    found = {}
    for item in cm.MIX:
        m = measured.get(item.row)
        if m is None:
            continue
        usage = cm.usage_of(m, 1024, via_api=True, groq_kind="roadmap" if "worker" in item.row else "explanation")
        extra = login_extra_ms if item.row == "POST /auth/login" else 0.0
        found[item.row] = usage.lambda_gb_seconds * 1000 + extra  # GB-s at 1 GB = seconds
    return found


def main(argv: list[str] | None = None) -> int:
    from infra import cfn

    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--students", type=int, default=STUDENTS, help="daily active students (default 1M)")
    parser.add_argument("--measure", action="store_true",
                        help="also run the cost model's measurement and print the measured durations")
    args = parser.parse_args(argv)
    measured = measured_durations() if args.measure else None
    print_tables(cfn.load_template(), args.students, measured)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
