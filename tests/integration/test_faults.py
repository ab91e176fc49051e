"""Faults of the services Mindly depends on (issue "Hardening", point 3): Redis down, DynamoDB
throttling and conflicts, Groq failing. Each test injects one fault into the real stack (moto, the
local Upstash endpoint, the fake Groq server, all on 127.0.0.1) and shows what the student gets,
and that nothing is lost, half-written or counted twice.

DynamoDB faults are injected below botocore's retry loop (``Endpoint._send`` answers as DynamoDB
would: a 400 with the error's ``__type``), so botocore's standard retry mode, pynamodb and our
services all see a real error response. botocore's backoff is recorded (with its jitter at its
upper bound, so the delays are exact) instead of slept.

Already covered elsewhere, and not repeated here:

- Redis down, authenticated requests fail closed (503 SERVICE_UNAVAILABLE in the envelope):
  test_platform.py::test_with_redis_down_authenticated_requests_fail_closed, and recovery after the
  outage: ::test_redis_recovers_after_an_outage; /health names Redis:
  ::test_health_with_redis_down_is_503_naming_redis.
- Redis down, login and register still answer (the per-IP limits fail open):
  test_platform.py::test_with_redis_down_login_and_register_still_work (here: refresh too, and the
  skipped limits are logged).
- Redis down, the leaderboard is read from DynamoDB:
  test_progress.py::test_the_board_is_served_from_dynamodb_when_redis_is_down (it flushes Redis
  after the outage; here the board Redis kept is shown to catch up by itself).
- Redis down, analytics reports computed without their cache:
  test_analytics.py::test_reports_still_answer_when_redis_is_down.
- A DynamoDB answer lost after the transaction was applied, and reads that time out:
  test_progress.py::test_a_transaction_whose_answer_is_lost_counts_once,
  ::test_a_read_that_times_out_is_read_again.
- Real write races (conditional checks losing to another writer): test_progress.py::
  test_fifty_concurrent_activities_give_exact_totals, ::test_concurrent_retries_of_the_same_keys_count_once,
  test_flashcards.py::test_racing_reviews_of_one_card_lose_no_update,
  test_auth.py::test_concurrent_use_of_one_refresh_token_never_yields_two_live_sessions,
  test_daily_streaks.py::test_the_students_own_activity_wins_a_race_with_the_job.
- Groq at the client: 429 cool-down and every key cooling, 5xx retried twice, timeouts, invalid
  JSON asked again once, the circuit breaker: test_groq_client.py (all of it).
- Groq slow: the explanation is "unavailable" within the submit's budget and the attempt recorded:
  test_live_explanations.py::test_a_slow_groq_leaves_the_explanation_unavailable_within_the_budget;
  Groq erroring, then the open breaker answering offline:
  ::test_groq_errors_leave_it_unavailable_and_an_open_breaker_falls_back_offline.
- Roadmaps: an invalid plan is retried with the message and fails the job with a reason:
  test_roadmaps.py::test_with_groq_the_plan_comes_from_groq_and_invalid_plans_fail_the_job; a poison
  message reaches the dead-letter queue: ::test_a_poison_message_is_retried_then_dead_lettered; a
  redelivered message of a finished job does nothing: ::test_a_redelivered_message_does_nothing_twice;
  the poller honours partial batch failures: test_sqs_poller.py.
"""

from __future__ import annotations

import json
import logging
import uuid
from collections import Counter
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import Any

import botocore.endpoint
import botocore.retries.standard
import pytest
from botocore.awsrequest import AWSResponse
from support import PASSWORD, Answer, HandlerClient, deliver_to_worker, register, unique_email

from infra.fake_groq import FakeGroq, ok, rate_limited
from mindly.cache import leaderboard as boards
from mindly.cache.client import get_redis
from mindly.config import get_settings
from mindly.domain.content import content_id
from mindly.llm import client as llm_client
from mindly.services import content, leaderboard, questions, roadmaps
from mindly.services import progress as engine
from mindly.store import models
from mindly.store import progress as progress_store
from mindly.store import roadmaps as roadmap_store
from mindly.store.errors import is_busy

API = "/api/v1"
SOURCE = f"faults-{uuid.uuid4().hex[:8]}"
WRITES = {"PutItem", "UpdateItem", "DeleteItem", "TransactWriteItems", "BatchWriteItem"}
BOTOCORE_RETRIES = 3  # pynamodb's max_retry_attempts (mindly.store.models): 4 sends in all
UNPROCESSED = "(every key unprocessed)"  # a BatchGetItem answered 200, having read nothing


# --- injecting DynamoDB faults ----------------------------------------------------------------------

class _Body:
    def __init__(self, data: bytes) -> None:
        self.data = data

    def stream(self, **_: Any) -> Iterator[bytes]:
        yield self.data


@dataclass
class _Rule:
    operations: set[str]
    code: str
    times: int
    after: int = 0  # let this many matching requests through first
    extra: dict[str, Any] = field(default_factory=dict)
    seen: int = 0


class DynamoFaults:
    """DynamoDB answering chosen operations with an error, as it would on the wire. ``sent`` (requests
    per operation) and ``backoffs`` (botocore's delays) count from the first fault armed, so a
    fixture's own calls (registering the student) are not in them."""

    def __init__(self) -> None:
        self.rules: list[_Rule] = []
        self.sent: Counter[str] = Counter()
        self.backoffs: list[float] = []
        self.before: dict[str, Callable[[], None]] = {}
        self._armed = False

    def _arm(self) -> None:
        if not self._armed:
            self._armed = True
            self.sent.clear()
            self.backoffs.clear()

    def fail(self, operations: str | set[str], code: str, times: int = 10_000, after: int = 0,
             reasons: list[str] | None = None) -> DynamoFaults:
        """Answer ``code`` to the next ``times`` requests of ``operations`` (after letting ``after``
        through); ``reasons``: a cancelled transaction's reasons, one per item."""
        self._arm()
        extra = {"CancellationReasons": [{"Code": r} for r in reasons]} if reasons is not None else {}
        ops = {operations} if isinstance(operations, str) else set(operations)
        self.rules.append(_Rule(ops, code, times, after, extra))
        return self

    def before_next(self, operation: str, hook: Callable[[], Any]) -> None:
        """Run ``hook`` just before the next ``operation`` request is sent."""
        self._arm()
        self.before[operation] = hook

    def clear(self) -> None:
        self.rules.clear()

    def answer(self, operation: str, request: Any) -> AWSResponse | None:
        self.sent[operation] += 1
        hook = self.before.pop(operation, None)
        if hook is not None:
            hook()
        for rule in self.rules:
            if operation not in rule.operations:
                continue
            rule.seen += 1
            if rule.seen > rule.after and rule.times > 0:
                rule.times -= 1
                if rule.code == UNPROCESSED:
                    asked = json.loads(request.body)["RequestItems"]
                    return AWSResponse(request.url, 200, {"content-type": "application/x-amz-json-1.0"},
                                       _Body(json.dumps({"Responses": {}, "UnprocessedKeys": asked}).encode()))
                body = {"__type": f"com.amazonaws.dynamodb.v20120810#{rule.code}",
                        "message": "injected by test_faults", **rule.extra}
                return AWSResponse(request.url, 400, {"content-type": "application/x-amz-json-1.0"},
                                   _Body(json.dumps(body).encode()))
        return None


@pytest.fixture
def dynamo(monkeypatch: pytest.MonkeyPatch) -> DynamoFaults:
    faults = DynamoFaults()
    send = botocore.endpoint.Endpoint._send
    delay_amount = botocore.retries.standard.ExponentialBackoff.delay_amount

    def faulty_send(endpoint: Any, request: Any) -> Any:
        target = request.headers.get("X-Amz-Target", b"")
        target = target.decode() if isinstance(target, bytes) else str(target)
        if target.startswith("DynamoDB_20120810."):
            injected = faults.answer(target.split(".", 1)[1], request)
            if injected is not None:
                return injected
        return send(endpoint, request)

    def recorded_backoff(backoff: Any, context: Any) -> float:
        jitter, backoff._random = backoff._random, lambda: 1.0
        try:
            faults.backoffs.append(delay_amount(backoff, context))
        finally:
            backoff._random = jitter
        return 0.0

    monkeypatch.setattr(botocore.endpoint.Endpoint, "_send", faulty_send)
    monkeypatch.setattr(botocore.retries.standard.ExponentialBackoff, "delay_amount", recorded_backoff)
    return faults


@pytest.fixture
def engine_backoffs(monkeypatch: pytest.MonkeyPatch) -> list[int]:
    """The progress engine's own backoffs (attempt numbers), recorded instead of slept."""
    attempts: list[int] = []
    monkeypatch.setattr(engine, "back_off", attempts.append)
    return attempts


# --- students and questions -------------------------------------------------------------------------

@pytest.fixture(scope="module")
def question_ids(local_aws: Any) -> list[str]:
    records = [{"source": SOURCE, "external_id": f"q{n}", "exam_type": "GATE", "subject": "Digital Logic",
                "topic": "Boolean Algebra", "difficulty": "easy", "stem": f"Boolean question {n}?",
                "options": {"A": "one", "B": "two", "C": "three", "D": "four"}, "correct_option": "A",
                "explanation": "Because one."} for n in range(6)]
    report = content.import_objects("question", records)
    assert report["errors"] == [], report
    return [content_id("question", SOURCE, f"q{n}") for n in range(6)]


@dataclass
class Student:
    client: HandlerClient
    user_id: str
    name: str


@pytest.fixture
def student(auth_fn: Any, questions_fn: Any) -> Student:
    answer = register(auth_fn, name="Kavya Rao")
    assert answer.status == 201, answer
    return Student(HandlerClient(questions_fn, token=answer.data["access_token"]), answer.data["user"]["id"],
                   "Kavya Rao")


def _submit(student: Student, question_id: str, attempt_id: str, option: str = "A") -> Answer:
    return student.client.post(f"{API}/questions/submit", {
        "question_id": question_id, "selected_option": option, "confidence_rating": 4, "time_taken_seconds": 20,
        "attempt_id": attempt_id})


def _counted(user_id: str) -> tuple[int, int, int]:
    """(XP, questions answered, attempts stored), straight from DynamoDB."""
    progress = progress_store.get_progress(user_id)
    stored = questions.attempts(user_id, 1, 100, None)["items"]
    if progress is None:
        return 0, 0, len(stored)
    return int(progress.xp_total), int(progress.questions_answered), len(stored)


def _assert_busy(answer: Answer) -> None:
    """A 503 in the envelope that says when to try again (every 503 does)."""
    assert answer.status == 503, answer
    assert answer.json["success"] is False and answer.json["data"] is None
    assert answer.json["errors"][0]["code"] == "SERVICE_UNAVAILABLE"
    assert int(answer.headers["retry-after"]) >= 1


# --- DynamoDB: throttling ---------------------------------------------------------------------------

def test_a_throttled_submit_is_retried_with_backoff_and_counts_once(
        dynamo: DynamoFaults, student: Student, question_ids: list[str]) -> None:
    # Given DynamoDB throttling the submit's read once and its transaction twice
    dynamo.fail("BatchGetItem", "ThrottlingException", times=1)
    dynamo.fail("TransactWriteItems", "ProvisionedThroughputExceededException", times=2)
    # When the student submits an answer
    answer = _submit(student, question_ids[0], "throttled-once")
    # Then it succeeds once the throttling clears, after botocore backed off exponentially
    # (throttling scale: 1 s, then 2 s; jitter at its upper bound)
    assert answer.status == 200, answer
    assert answer.data["xp_awarded"] == 10
    assert dynamo.sent["TransactWriteItems"] == 3
    assert dynamo.backoffs == [1.0, 1.0, 2.0]
    # And the attempt and its XP are counted exactly once
    assert _counted(student.user_id) == (10, 1, 1)


@pytest.mark.parametrize(("operation", "code"), [
    ("BatchGetItem", "ThrottlingException"),
    ("TransactWriteItems", "ProvisionedThroughputExceededException"),
    ("TransactWriteItems", "RequestLimitExceeded"),
])
def test_persistent_throttling_of_a_submit_is_503_and_writes_nothing(
        dynamo: DynamoFaults, student: Student, question_ids: list[str], operation: str, code: str) -> None:
    # Given DynamoDB throttling one of the submit's calls for as long as the request lasts
    dynamo.fail(operation, code)
    # When the student submits
    answer = _submit(student, question_ids[1], "throttled-for-good")
    # Then after botocore's retries (with backoff) the answer is a clear 503 in the envelope
    _assert_busy(answer)
    assert dynamo.sent[operation] == 1 + BOTOCORE_RETRIES
    assert dynamo.backoffs == [1.0, 2.0, 4.0]
    # And nothing was written
    dynamo.clear()
    assert _counted(student.user_id) == (0, 0, 0)
    # And when the throttling clears, the client's retry (same attempt id) counts once
    assert _submit(student, question_ids[1], "throttled-for-good").data["xp_awarded"] == 10
    assert _submit(student, question_ids[1], "throttled-for-good").status == 200
    assert _counted(student.user_id) == (10, 1, 1)


def test_throttled_reads_and_registration_are_503_not_500(dynamo: DynamoFaults, student: Student,
                                                          auth_fn: Any) -> None:
    # Given DynamoDB throttling queries, and transactions conflicting, for good
    dynamo.fail("Query", "ProvisionedThroughputExceededException")
    dynamo.fail("TransactWriteItems", "TransactionCanceledException", reasons=["None", "TransactionConflict"])
    # When a student lists their attempts, and someone registers
    listed = student.client.get(f"{API}/questions/attempts")
    email = unique_email("busy")
    registered = HandlerClient(auth_fn, source_ip="198.51.100.77").post(
        f"{API}/auth/register", {"email": email, "password": PASSWORD, "name": "Busy"})
    # Then both are 503 SERVICE_UNAVAILABLE, and the account was not half-created
    _assert_busy(listed)
    _assert_busy(registered)
    dynamo.clear()
    from mindly.store import users

    assert users.find_user_id_by_email(email) is None
    assert register(auth_fn, email=email).status == 201


def test_registration_is_one_write_so_it_cannot_stop_halfway(dynamo: DynamoFaults, auth_fn: Any) -> None:
    # Given DynamoDB refusing every write after the first one, for good
    dynamo.fail(WRITES, "ProvisionedThroughputExceededException", after=1)
    # When someone registers
    email = unique_email("one-write")
    client = HandlerClient(auth_fn, source_ip="198.51.100.78")
    registered = client.post(f"{API}/auth/register", {"email": email, "password": PASSWORD, "name": "Whole"})
    dynamo.clear()
    # Then the account and its first session were written together (not the account, then a
    # failed session write: a 503 whose retry would find the email taken)
    assert registered.status == 201, registered.text
    assert dynamo.sent["TransactWriteItems"] == 1 and dynamo.sent["PutItem"] == 0
    # And the session the tokens name exists: the refresh token rotates
    refreshed = client.post(f"{API}/auth/refresh", {"refresh_token": registered.data["refresh_token"]})
    assert refreshed.status == 200, refreshed.text


@pytest.fixture
def read_backoffs(monkeypatch: pytest.MonkeyPatch) -> list[float]:
    """batch_read's waits before asking again for unprocessed keys, recorded instead of slept."""
    waits: list[float] = []
    monkeypatch.setattr(models, "_sleep", waits.append)
    return waits


def test_unprocessed_keys_are_asked_again_with_backoff(dynamo: DynamoFaults, read_backoffs: list[float],
                                                        student: Student, question_ids: list[str]) -> None:
    # Given DynamoDB leaving every key of the next three BatchGetItems unprocessed (no error)
    dynamo.fail("BatchGetItem", UNPROCESSED, times=3)
    # When the student submits an answer
    answered = _submit(student, question_ids[4], "unprocessed-then-read")
    # Then the read was asked again, after growing jittered waits, and the answer counted once
    assert answered.status == 200, answered
    assert dynamo.sent["BatchGetItem"] == 4
    caps = [models.UNPROCESSED_FIRST_CAP_SECONDS * 2 ** n for n in range(3)]
    assert len(read_backoffs) == 3 and all(0 <= wait <= cap for wait, cap in zip(read_backoffs, caps, strict=True))
    assert _counted(student.user_id) == (10, 1, 1)


def test_keys_unprocessed_for_good_are_a_503_not_a_spin(dynamo: DynamoFaults, read_backoffs: list[float],
                                                       student: Student, question_ids: list[str]) -> None:
    # Given DynamoDB leaving every key unprocessed, for good
    dynamo.fail("BatchGetItem", UNPROCESSED)
    # When the student submits an answer
    answered = _submit(student, question_ids[4], "unprocessed-for-good")
    # Then the read gives up after its retries: 503 with Retry-After, and nothing was written
    _assert_busy(answered)
    assert dynamo.sent["BatchGetItem"] == 1 + models.UNPROCESSED_RETRIES
    assert len(read_backoffs) == models.UNPROCESSED_RETRIES and max(read_backoffs) <= 1.0
    dynamo.clear()
    assert _counted(student.user_id) == (0, 0, 0)


# --- DynamoDB: transaction conflicts and failed conditions -----------------------------------------

CONFLICTS = {
    # another transaction was writing one of the items (botocore does not retry these)
    "transaction conflict": ["None", "TransactionConflict"],
    # the PROGRESS item (second put of the activity's transaction) changed since it was read
    "failed condition": ["None", "ConditionalCheckFailed"],
}


@pytest.mark.parametrize("reasons", list(CONFLICTS.values()), ids=list(CONFLICTS))
def test_a_conflicting_submit_is_read_again_and_counts_once(
        dynamo: DynamoFaults, engine_backoffs: list[int], student: Student, question_ids: list[str],
        reasons: list[str]) -> None:
    # Given the submit's transaction cancelled twice by a conflict
    dynamo.fail("TransactWriteItems", "TransactionCanceledException", times=2, reasons=reasons)
    # When the student submits
    answer = _submit(student, question_ids[2], "conflicted")
    # Then the engine read again with backoff, committed on the third try, and counted once
    assert answer.status == 200, answer
    assert dynamo.sent["TransactWriteItems"] == 3
    assert engine_backoffs == [0, 1]
    assert _counted(student.user_id) == (10, 1, 1)


@pytest.mark.parametrize("reasons", list(CONFLICTS.values()), ids=list(CONFLICTS))
def test_a_conflict_that_persists_is_503_and_writes_nothing(
        dynamo: DynamoFaults, engine_backoffs: list[int], student: Student, question_ids: list[str],
        reasons: list[str]) -> None:
    # Given every transaction of the student's being cancelled by a conflict
    dynamo.fail("TransactWriteItems", "TransactionCanceledException", reasons=reasons)
    # When the student submits
    answer = _submit(student, question_ids[3], "conflicted-for-good")
    # Then the engine gives up after its bounded retries, with a clear 503
    _assert_busy(answer)
    assert engine_backoffs == list(range(engine.MAX_ATTEMPTS))
    # And nothing was written; once the conflict clears the retry counts once
    dynamo.clear()
    assert _counted(student.user_id) == (0, 0, 0)
    assert _submit(student, question_ids[3], "conflicted-for-good").status == 200
    assert _counted(student.user_id) == (10, 1, 1)


def test_retries_stop_at_the_time_budget_with_a_503_inside_the_function_timeout(
        dynamo: DynamoFaults, engine_backoffs: list[int], student: Student, question_ids: list[str],
        settings: Any, monkeypatch: pytest.MonkeyPatch) -> None:
    # Given a persistent conflict and a retry budget already spent after the first try
    dynamo.fail("TransactWriteItems", "TransactionCanceledException", reasons=["TransactionConflict"])
    monkeypatch.setattr(settings, "activity_retry_budget_seconds", 1e-9)
    # When the student submits, the engine stops at the budget instead of trying MAX_ATTEMPTS times
    answer = _submit(student, question_ids[5], "out-of-time")
    _assert_busy(answer)
    assert engine_backoffs == [0]
    dynamo.clear()
    assert _counted(student.user_id) == (0, 0, 0)


def test_a_real_write_between_read_and_commit_is_not_lost(dynamo: DynamoFaults, student: Student,
                                                          question_ids: list[str]) -> None:
    # Given another activity of the same student committing between the submit's read and its
    # transaction (moto itself fails the submit's condition on the PROGRESS version)
    other = engine.Activity(key=uuid.uuid4().hex, kind="answer", at=datetime.now(UTC), correct=True, exam="GATE")
    dynamo.before_next("TransactWriteItems", lambda: engine.record_activity(
        engine.Student(user_id=student.user_id), other, get_settings().leaderboard_timezone))
    # When the student submits
    answer = _submit(student, question_ids[4], "raced")
    # Then both count, each once (the other's transaction, the submit's lost one, its retry)
    assert answer.status == 200, answer
    assert dynamo.sent["TransactWriteItems"] == 3
    assert _counted(student.user_id) == (20, 2, 1)


# --- DynamoDB: the roadmap worker's writes ----------------------------------------------------------

@pytest.mark.parametrize("writes_before_fault", [1, 2])
def test_a_roadmap_result_write_that_fails_partway_is_finished_on_redelivery(
        dynamo: DynamoFaults, auth_fn: Any, profile_fn: Any, writes_before_fault: int) -> None:
    # Given a queued roadmap job
    token = register(auth_fn).data["access_token"]
    profile = {"exam_type": "GATE", "level": "beginner", "study_hours_per_day": 3, "target_date": "2035-06-01",
               "weak_subjects": []}
    assert HandlerClient(profile_fn, token=token).put(f"{API}/profile", profile).status == 200
    user_id = _user_id(token)
    sent: list[dict[str, Any]] = []
    status, queued = roadmaps.request_roadmap(user_id, 1 + writes_before_fault, None, datetime.now(UTC), sent.append)
    assert status == 202
    # When DynamoDB throttles every write after the worker's first few
    dynamo.fail(WRITES, "ProvisionedThroughputExceededException", after=writes_before_fault)
    try:
        first = roadmaps.process_job(sent[0], receive_count=1)
    except Exception as exc:  # the worker reports the record failed; SQS delivers it again
        assert is_busy(exc), exc
        first = "throttled"
    # And the message comes back once the throttling is over
    dynamo.clear()
    again = roadmaps.process_job(sent[0], receive_count=2)
    # Then the job is done and is the student's latest roadmap (never done without it)
    assert (first, again) in {("throttled", "done"), ("done", "already done")}
    assert roadmaps.job_view(user_id, queued["job_id"])["status"] == "done"
    assert roadmaps.latest_view(user_id)["job_id"] == queued["job_id"]


def _user_id(token: str) -> str:
    from mindly.services import tokens

    return tokens.decode(get_settings(), token, "access").user_id


# --- Redis down -----------------------------------------------------------------------------------

def _service_submit(student: Student, question_id: str, option: str = "A") -> dict[str, Any]:
    """A submit exactly as the questions function makes it, minus the authentication."""
    return questions.submit(student.user_id, student.name, question_id, option, 3, 30, uuid.uuid4().hex,
                            get_settings().leaderboard_timezone, datetime.now(UTC),
                            mirror=leaderboard.mirror_award(student.name))


def _my_board_xp(student: Student) -> int:
    week = engine.leaderboard_week(datetime.now(UTC), get_settings().leaderboard_timezone)
    return int(leaderboard.weekly(student.user_id, week, None)["me"]["xp"])


def test_a_submit_while_redis_is_down_counts_exactly_and_the_board_catches_up(
        upstash: Any, student: Student, question_ids: list[str]) -> None:
    # Given a student on a weekly board Redis holds (built, and ready)
    assert _service_submit(student, question_ids[0])["xp_awarded"] == 10
    assert _my_board_xp(student) == 10
    # When Redis goes down and the student answers twice
    upstash.set_down(True)
    assert _service_submit(student, question_ids[1])["xp_awarded"] == 10
    assert _service_submit(student, question_ids[2], option="B")["ai_explanation_status"] == "ok"
    # Then the attempts and the XP are recorded exactly (DynamoDB is the truth)
    assert _counted(student.user_id) == (20, 3, 3)
    # And the board is served from DynamoDB meanwhile
    assert _my_board_xp(student) == 20
    # And once Redis is back (holding the board as it was), the board still shows the right XP
    upstash.set_down(False)
    assert _my_board_xp(student) == 20
    assert boards.unmirrored() == 0


def test_a_mirror_lost_with_its_container_is_repaired_when_the_board_is_next_rebuilt(
        upstash: Any, student: Student, question_ids: list[str], monkeypatch: pytest.MonkeyPatch) -> None:
    # Given a ready board, and an award whose mirror failed in a container that is gone since
    assert _service_submit(student, question_ids[0])["xp_awarded"] == 10
    assert _my_board_xp(student) == 10
    upstash.set_down(True)
    _service_submit(student, question_ids[1])
    monkeypatch.setattr(boards, "_unmirrored", {})  # that container's memory
    upstash.set_down(False)
    # Then the board Redis kept is complete only for a bounded time
    week = engine.leaderboard_week(datetime.now(UTC), get_settings().leaderboard_timezone)
    ready = boards._ready_key(week, None)
    assert 0 < get_redis().ttl(ready) <= boards.READY_SECONDS
    # And when that time is up (the marker expires), the next read rebuilds it from DynamoDB
    get_redis().delete(ready)
    assert _my_board_xp(student) == 20


def test_with_redis_down_refresh_works_and_each_skipped_limit_is_logged(
        upstash: Any, auth_fn: Any, caplog: pytest.LogCaptureFixture) -> None:
    # Given a student, then Redis goes down
    email = unique_email("limits")
    refresh_token = register(auth_fn, email=email).data["refresh_token"]
    upstash.set_down(True)
    client = HandlerClient(auth_fn, source_ip="198.51.100.99")
    # When they log in, refresh, and someone registers
    with caplog.at_level(logging.WARNING):
        answers = [
            client.post(f"{API}/auth/login", {"email": email, "password": PASSWORD}),
            client.post(f"{API}/auth/refresh", {"refresh_token": refresh_token}),
            client.post(f"{API}/auth/register", {"email": unique_email(), "password": PASSWORD, "name": "N"}),
        ]
    # Then all go through (the per-IP limits fail open) ...
    assert [a.status for a in answers] == [200, 200, 201], answers
    # ... and each skipped limit is logged
    skipped = [r for r in caplog.records if r.getMessage() == "rate limit skipped: redis unavailable"]
    assert sorted(getattr(r, "bucket", None) for r in skipped) == ["login", "login-account", "refresh", "register"]


def test_with_redis_down_roadmaps_are_generated_without_their_cache(
        upstash: Any, auth_fn: Any, profile_fn: Any) -> None:
    # Given a student with a profile, then Redis goes down
    token = register(auth_fn).data["access_token"]
    profile = {"exam_type": "CAT", "level": "advanced", "study_hours_per_day": 2, "target_date": "2035-06-01",
               "weak_subjects": []}
    assert HandlerClient(profile_fn, token=token).put(f"{API}/profile", profile).status == 200
    user_id = _user_id(token)
    upstash.set_down(True)
    # When a roadmap is requested and the worker takes the job
    sent: list[dict[str, Any]] = []
    status, queued = roadmaps.request_roadmap(user_id, 3, None, datetime.now(UTC), sent.append)
    outcome = roadmaps.process_job(sent[0], receive_count=1)
    # Then the request was queued (no cache to answer from) and the job is done
    assert status == 202 and outcome == "done"
    assert roadmaps.job_view(user_id, queued["job_id"])["status"] == "done"
    # And nothing was cached: with Redis back, the identical request is answered from the job
    # DynamoDB kept (the day's same-request record), not from the cache (which would start a new job)
    upstash.set_down(False)
    again, answer = roadmaps.request_roadmap(user_id, 3, None, datetime.now(UTC), sent.append)
    assert again == 200 and answer["job_id"] == queued["job_id"] and len(sent) == 1


# --- Groq -------------------------------------------------------------------------------------------

EXPLANATION = {"text": "A is right: one is the identity of the AND operation."}


def test_with_redis_down_groq_is_called_without_its_cache(upstash: Any, groq_on: FakeGroq, student: Student,
                                                          question_ids: list[str]) -> None:
    # Given Groq answering, and Redis down
    groq_on.then(ok(EXPLANATION))
    upstash.set_down(True)
    client = llm_client.groq_client()
    assert client is not None
    # When the same question is asked twice
    answers = [client.complete_json("system", "the same prompt", llm_client_schema(), 3600) for _ in range(2)]
    # Then both are answered by Groq (no cache, no lock, no key counter: nothing fails for it)
    assert [a.source for a in answers] == ["groq", "groq"] and len(groq_on.requests) == 2
    # And a wrong answer submitted meanwhile gets its explanation and is recorded
    answer = _service_submit(student, question_ids[5], option="C")
    assert (answer["ai_explanation_status"], answer["ai_explanation"]["source"]) == ("ok", "groq")
    assert _counted(student.user_id) == (0, 1, 1)


def llm_client_schema() -> Any:
    from mindly.llm.explanations import Explanation

    return Explanation


@pytest.mark.parametrize(("behaviour", "calls"), [
    (rate_limited(30), 2),           # 429 on each of the two keys
    (ok("this is not JSON"), 2),     # asked again once
    (ok({"wrong": "shape"}), 2),     # valid JSON, not an explanation
], ids=["429 on every key", "not json", "wrong shape"])
def test_groq_failing_leaves_the_explanation_unavailable_and_the_attempt_recorded(
        groq_on: FakeGroq, student: Student, question_ids: list[str], behaviour: Any, calls: int) -> None:
    # Given Groq failing in one of its ways
    groq_on.then(behaviour)
    # When the student answers wrongly
    answer = _submit(student, question_ids[0], "groq-fails", option="D")
    # Then the answer is recorded and returned, with the explanation marked unavailable
    assert answer.status == 200, answer
    assert (answer.data["ai_explanation"], answer.data["ai_explanation_status"]) == (None, "unavailable")
    assert answer.data["is_correct"] is False and answer.data["correct_option"] == "A"
    assert len(groq_on.requests) == calls
    assert _counted(student.user_id)[1:] == (1, 1)


def _queued_roadmap(auth_fn: Any, profile_fn: Any, roadmaps_fn: Any) -> tuple[HandlerClient, str, str]:
    """A new student with a profile and a queued roadmap job: (their roadmaps client, token, job id)."""
    token = register(auth_fn).data["access_token"]
    profile = {"exam_type": "NEET", "level": "beginner", "study_hours_per_day": 5, "target_date": "2035-06-01",
               "weak_subjects": []}
    assert HandlerClient(profile_fn, token=token).put(f"{API}/profile", profile).status == 200
    student = HandlerClient(roadmaps_fn, token=token)
    requested = student.post(f"{API}/roadmaps", {"months_available": 4})
    assert requested.status == 202 and requested.data["status"] == "queued", requested
    return student, token, requested.data["job_id"]


def test_a_roadmap_groq_will_not_serve_is_retried_then_failed_with_a_reason_and_dead_lettered(
        groq_on: FakeGroq, auth_fn: Any, profile_fn: Any, roadmaps_fn: Any, roadmap_worker_fn: Any, sqs: Any,
        queue_url: str, local_aws: Any) -> None:
    # Given Groq answering 429 on every key
    groq_on.then(rate_limited(60))
    student, token, job_id = _queued_roadmap(auth_fn, profile_fn, roadmaps_fn)
    # When the worker gets the message, as often as the queue redelivers it
    deliveries = [deliver_to_worker(sqs, queue_url, roadmap_worker_fn) for _ in range(3)]
    # Then each try failed (the message came back), and the last marked the job failed with a reason
    assert all(d["received"] == 1 and len(d["failed"]) == 1 for d in deliveries)
    job = student.get(f"{API}/roadmaps/jobs/{job_id}").data
    assert job["status"] == "failed" and job["error"] == "generation failed: GroqRateLimitError"
    # And the queue moved the message to the dead-letter queue
    assert deliver_to_worker(sqs, queue_url, roadmap_worker_fn)["received"] == 0
    dead = sqs.receive_message(QueueUrl=local_aws.queue_urls["RoadmapDeadLetterQueue"],
                               MaxNumberOfMessages=10).get("Messages", [])
    assert job_id in [json.loads(m["Body"]).get("job_id") for m in dead if m["Body"].startswith("{")]
    # And a redelivery of the dead-lettered message changes nothing
    assert roadmaps.process_job({"job_id": job_id, "user_id": _user_id(token)}, receive_count=1) == "already failed"
    assert roadmap_store.get_job(_user_id(token), job_id).status == "failed"  # type: ignore[union-attr]


def test_a_roadmap_job_unreadable_on_its_last_try_is_still_failed_with_a_reason(
        dynamo: DynamoFaults, auth_fn: Any, profile_fn: Any, roadmaps_fn: Any, roadmap_worker_fn: Any, sqs: Any,
        queue_url: str) -> None:
    # Given a queued roadmap job, and DynamoDB throttling every read of it, for good
    student, _, job_id = _queued_roadmap(auth_fn, profile_fn, roadmaps_fn)
    dynamo.fail("GetItem", "ProvisionedThroughputExceededException")
    # When the worker gets its message as often as the queue redelivers it
    deliveries = [deliver_to_worker(sqs, queue_url, roadmap_worker_fn) for _ in range(3)]
    dynamo.clear()
    # Then every try failed, and the last one still marked the job failed (by key, with no read)
    assert all(d["received"] == 1 and len(d["failed"]) == 1 for d in deliveries)
    job = student.get(f"{API}/roadmaps/jobs/{job_id}").data
    assert job["status"] == "failed" and job["error"] == "generation failed: GetError"


def test_a_roadmap_job_past_its_deadline_is_failed_when_polled_and_stays_failed(
        auth_fn: Any, profile_fn: Any, roadmaps_fn: Any, roadmap_worker_fn: Any, sqs: Any, queue_url: str) -> None:
    # Given a queued job whose message nobody processed (the worker never ran)
    student, token, job_id = _queued_roadmap(auth_fn, profile_fn, roadmaps_fn)
    user_id = _user_id(token)
    job = roadmap_store.get_job(user_id, job_id)
    assert job is not None
    # When the student polls just before the deadline
    before = roadmaps.job_view(user_id, job_id, now=job.created_at + roadmaps.JOB_DEADLINE - timedelta(seconds=1))
    # and, through the function, once the job is older than the deadline
    job.created_at = datetime.now(UTC) - roadmaps.JOB_DEADLINE - timedelta(seconds=1)
    job.save()
    after = student.get(f"{API}/roadmaps/jobs/{job_id}").data
    # Then it is queued, then failed with a reason
    assert before["status"] == "queued"
    assert after["status"] == "failed" and after["error"] == "timed out: not generated within 30 minutes"
    # And a late delivery of its message does not bring it back
    late = deliver_to_worker(sqs, queue_url, roadmap_worker_fn)
    assert late["received"] == 1 and late["failed"] == set()
    assert roadmap_store.get_job(user_id, job_id).status == "failed"  # type: ignore[union-attr]


def test_a_roadmap_that_cannot_be_queued_is_a_503_and_its_job_is_failed(
        auth_fn: Any, profile_fn: Any, roadmaps_fn: Any, monkeypatch: pytest.MonkeyPatch) -> None:
    token = register(auth_fn).data["access_token"]
    profile = {"exam_type": "NEET", "level": "beginner", "study_hours_per_day": 3, "target_date": "2035-06-01",
               "weak_subjects": []}
    assert HandlerClient(profile_fn, token=token).put(f"{API}/profile", profile).status == 200
    # Given SQS refusing the job's message
    def refuse(body: dict[str, Any]) -> None:
        raise ConnectionError("SQS is unreachable")

    monkeypatch.setattr(roadmaps, "sqs_enqueue", refuse)
    # When the student asks for a roadmap
    answer = HandlerClient(roadmaps_fn, token=token).post(f"{API}/roadmaps", {"months_available": 7})
    # Then they are told to try again, and the job it created is failed (no one polls it forever)
    _assert_busy(answer)
    jobs = [item for item in roadmap_store.RoadmapJobItem.query(f"USER#{_user_id(token)}",
                                                                roadmap_store.RoadmapJobItem.sk.startswith("ROADMAP#"))]
    assert [(job.status, job.error) for job in jobs] == [("failed", "could not be queued")]


def test_a_finished_roadmap_job_cannot_be_failed_afterwards(
        auth_fn: Any, profile_fn: Any, roadmaps_fn: Any, roadmap_worker_fn: Any, sqs: Any, queue_url: str) -> None:
    # Given a job the worker finished (the offline generator: no Groq keys)
    _, token, job_id = _queued_roadmap(auth_fn, profile_fn, roadmaps_fn)
    assert deliver_to_worker(sqs, queue_url, roadmap_worker_fn)["failed"] == set()
    # When a give-up, or a poll long after, would fail it
    now = datetime.now(UTC) + roadmaps.JOB_DEADLINE * 2
    assert roadmap_store.fail(_user_id(token), job_id, "too late", now) is False
    # Then it stays done, with its roadmap
    job = roadmaps.job_view(_user_id(token), job_id, now=now)
    assert job["status"] == "done" and job["roadmap"] and "error" not in job
