"""The daily roadmap quota (issue 15, point 8) through the roadmaps function's real Lambda handler:
each new roadmap job may be a Groq call, so a student starts at most ``roadmap_jobs_per_day`` a day;
a request answered from the cache, or the same request made again the same day, is not counted; a
request whose job failed counts again; over the quota, 429 with Retry-After until midnight in the
platform's zone. Counted exactly in DynamoDB, so parallel requests cannot pass the limit.
"""

from __future__ import annotations

import itertools
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo

import pytest
from support import Answer, HandlerClient, all_at_once, deliver_to_worker, register

from mindly.services import roadmaps as roadmap_service
from mindly.store import roadmaps as roadmap_store

API = "/api/v1"
PROFILE = {"exam_type": "GATE", "level": "beginner", "study_hours_per_day": 3, "target_date": "2035-06-01",
           "weak_subjects": []}


def _student(auth_fn: Any, profile_fn: Any, roadmaps_fn: Any) -> HandlerClient:
    token = register(auth_fn).data["access_token"]
    assert HandlerClient(profile_fn, token=token).put(f"{API}/profile", PROFILE).status == 200
    return HandlerClient(roadmaps_fn, token=token)


@pytest.fixture
def student(auth_fn: Any, profile_fn: Any, roadmaps_fn: Any) -> HandlerClient:
    return _student(auth_fn, profile_fn, roadmaps_fn)


@pytest.fixture
def quota_of(settings: Any, monkeypatch: pytest.MonkeyPatch) -> Callable[[int], None]:
    def set_quota(jobs: int) -> None:
        monkeypatch.setattr(settings, "roadmap_jobs_per_day", jobs)
    return set_quota


_REQUESTS = itertools.count()


def _distinct() -> dict[str, Any]:
    """A request unlike the previous 71 (Redis, so the roadmap cache, is emptied before each test)."""
    n = next(_REQUESTS) % 72
    return {"months_available": 1 + n % 36, "weak_subjects": ["Algorithms", "Compiler Design"][: 1 + n // 36]}


def _ask(student: HandlerClient, body: dict[str, Any]) -> Answer:
    return student.post(f"{API}/roadmaps", body)


def _assert_quota_refusal(answer: Answer, settings: Any) -> None:
    assert answer.status == 429, answer
    assert answer.json["success"] is False and answer.json["data"] is None
    assert [e["code"] for e in answer.json["errors"]] == ["RATE_LIMIT_EXCEEDED"]
    zone = ZoneInfo(settings.default_timezone)
    now = datetime.now(zone)
    midnight = datetime.combine(now.date() + timedelta(days=1), datetime.min.time(), tzinfo=zone)
    assert 1 <= int(answer.headers["retry-after"]) <= int((midnight - now).total_seconds()) + 1


def _queued(sqs: Any, queue_url: str) -> int:
    attributes = sqs.get_queue_attributes(QueueUrl=queue_url, AttributeNames=["ApproximateNumberOfMessages"])
    return int(attributes["Attributes"]["ApproximateNumberOfMessages"])


def _in_threads(calls: list[Callable[[], Answer]]) -> list[Answer]:
    return all_at_once(len(calls), lambda index: calls[index]())


def test_new_jobs_past_the_daily_quota_are_429_with_retry_after_until_midnight(
        student: HandlerClient, quota_of: Callable[[int], None], settings: Any, sqs: Any, queue_url: str) -> None:
    # Given a quota of 3 new roadmaps a day
    quota_of(3)
    # When a student asks for 3 different roadmaps, then a fourth
    first = [_ask(student, _distinct()) for _ in range(3)]
    fourth = _ask(student, _distinct())
    # Then the three are queued and the fourth is refused until the day is over, with no job queued
    assert [a.status for a in first] == [202] * 3, first
    _assert_quota_refusal(fourth, settings)
    assert _queued(sqs, queue_url) == 3


def test_the_same_request_again_today_gets_its_job_and_is_not_counted(
        student: HandlerClient, quota_of: Callable[[int], None], settings: Any, sqs: Any, queue_url: str,
        roadmap_worker_fn: Any) -> None:
    # Given a quota of 2 and one request queued
    quota_of(2)
    body = _distinct()
    queued = _ask(student, body)
    assert queued.status == 202, queued
    # When the student (or a retrying client) sends the identical request 3 more times
    repeats = [_ask(student, body) for _ in range(3)]
    # Then each is answered with that same job, and no other job is queued
    assert [a.data for a in repeats] == [queued.data] * 3, repeats
    assert _queued(sqs, queue_url) == 1
    # And once it is done, the identical request gets the roadmap (cached), still not counted
    assert deliver_to_worker(sqs, queue_url, roadmap_worker_fn)["failed"] == set()
    done = _ask(student, body)
    assert done.status == 200 and done.data["status"] == "done", done
    # So one more distinct request fits the quota of 2, and only then the quota is used up
    assert _ask(student, _distinct()).status == 202
    _assert_quota_refusal(_ask(student, _distinct()), settings)


def test_the_same_request_is_answered_from_its_done_job_when_the_cache_lost_it(
        student: HandlerClient, quota_of: Callable[[int], None], sqs: Any, queue_url: str,
        roadmap_worker_fn: Any, upstash: Any) -> None:
    # Given a request generated today, then Redis emptied (an eviction, a new database)
    quota_of(1)
    body = _distinct()
    job_id = _ask(student, body).data["job_id"]
    assert deliver_to_worker(sqs, queue_url, roadmap_worker_fn)["failed"] == set()
    upstash.flushall()
    # When the identical request comes again
    again = _ask(student, body)
    # Then the done job answers it: the roadmap, no new job and no Groq call, nothing counted
    assert again.status == 200, again
    assert again.data["job_id"] == job_id and again.data["roadmap"]
    assert _queued(sqs, queue_url) == 0


def test_a_request_whose_job_failed_counts_again(student: HandlerClient, quota_of: Callable[[int], None],
                                                 settings: Any, queue_url: str) -> None:
    # Given a quota of 2 and a request whose job failed
    quota_of(2)
    body = _distinct()
    failed_id = _ask(student, body).data["job_id"]
    user_id = _user_id(student)
    assert roadmap_store.fail(user_id, failed_id, "generation failed: GroqError", datetime.now(UTC))
    # When the same request is made again
    retried = _ask(student, body)
    # Then it starts a new job (asked of Groq again), and that one counts: the quota is used up
    assert retried.status == 202, retried
    assert retried.data["job_id"] != failed_id
    _assert_quota_refusal(_ask(student, _distinct()), settings)
    # While the retried request itself is still answered with its job
    assert _ask(student, body).data["job_id"] == retried.data["job_id"]


def test_a_job_that_could_not_be_queued_is_not_counted(student: HandlerClient, quota_of: Callable[[int], None],
                                                       monkeypatch: pytest.MonkeyPatch, queue_url: str) -> None:
    # Given a quota of 1 and the queue refusing a message
    quota_of(1)

    def refuse(_body: dict[str, Any]) -> None:
        raise ConnectionError("queue unreachable")

    with monkeypatch.context() as patched:
        patched.setattr(roadmap_service, "sqs_enqueue", refuse)
        unavailable = _ask(student, _distinct())
    assert unavailable.status == 503, unavailable
    # When the queue is back and the student asks again (another request)
    # Then it is queued: the failed one never reached Groq, so it did not use the quota
    assert _ask(student, _distinct()).status == 202


def test_parallel_distinct_requests_never_pass_the_quota(student: HandlerClient, quota_of: Callable[[int], None],
                                                         settings: Any, sqs: Any, queue_url: str) -> None:
    # Given a quota of 3
    quota_of(3)
    bodies = [{"months_available": months, "weak_subjects": ["Algorithms"]} for months in range(20, 28)]
    # When 8 different requests arrive at once
    answers = _in_threads([lambda body=body: _ask(student, body) for body in bodies])
    # Then exactly 3 are queued and the other 5 refused
    assert sorted(a.status for a in answers) == [202] * 3 + [429] * 5, answers
    for answer in answers:
        if answer.status == 429:
            _assert_quota_refusal(answer, settings)
    assert _queued(sqs, queue_url) == 3


def test_parallel_identical_requests_start_one_job(student: HandlerClient, quota_of: Callable[[int], None],
                                                   sqs: Any, queue_url: str) -> None:
    # Given a quota of 1
    quota_of(1)
    body = _distinct()
    # When a client sends the identical request 5 times at once
    answers = _in_threads([lambda: _ask(student, body)] * 5)
    # Then all 5 are the one queued job
    assert [a.status for a in answers] == [202] * 5, answers
    assert len({a.data["job_id"] for a in answers}) == 1
    assert _queued(sqs, queue_url) == 1


def test_the_quota_is_per_student(student: HandlerClient, quota_of: Callable[[int], None], settings: Any,
                                  auth_fn: Any, profile_fn: Any, roadmaps_fn: Any, queue_url: str) -> None:
    # Given a student who used up a quota of 1
    quota_of(1)
    assert _ask(student, _distinct()).status == 202
    _assert_quota_refusal(_ask(student, _distinct()), settings)
    # When another student asks
    other = _student(auth_fn, profile_fn, roadmaps_fn)
    # Then theirs is queued
    assert _ask(other, _distinct()).status == 202


def _user_id(student: HandlerClient) -> str:
    import jwt

    return str(jwt.decode(str(student.token), options={"verify_signature": False})["sub"])
