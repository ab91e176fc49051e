"""Roadmaps end to end on the local AWS: POST queues a job on the template's SQS queue, the real
worker handler takes SQS events (as the poller and Lambda give them), the job is polled; plus the
offline generator's plan, Groq through the fake server, redelivery and poison messages."""

from __future__ import annotations

import json
import uuid
from collections.abc import Iterator
from typing import Any

import pytest
from support import HandlerClient, deliver_to_worker, point_groq_at, register

from infra.fake_groq import FakeGroq, ok
from mindly.domain import roadmap as plans
from mindly.domain import syllabus
from mindly.llm import client as llm_client

API = "/api/v1"
PROFILE = {"exam_type": "GATE", "level": "intermediate", "study_hours_per_day": 4, "target_date": "2035-06-01",
           "weak_subjects": ["Algorithms"]}




@pytest.fixture
def student(auth_fn: Any, profile_fn: Any, roadmaps_fn: Any) -> HandlerClient:
    token = register(auth_fn).data["access_token"]
    weak = [uuid.uuid4().hex[:4]]  # a different profile per test, so no cached roadmap is shared
    months = 1 + int(weak[0], 16) % 30
    assert HandlerClient(profile_fn, token=token).put(f"{API}/profile", PROFILE).status == 200
    client = HandlerClient(roadmaps_fn, token=token)
    client.months = months  # type: ignore[attr-defined]
    return client



def test_a_roadmap_is_queued_generated_offline_and_polled(student: HandlerClient, sqs: Any, queue_url: str,
                                                          roadmap_worker_fn: Any) -> None:
    body = {"months_available": student.months}  # type: ignore[attr-defined]
    queued = student.post(f"{API}/roadmaps", body)
    assert queued.status == 202, queued
    job_id = queued.data["job_id"]
    assert queued.data == {"job_id": job_id, "status": "queued", "poll_url": f"/api/v1/roadmaps/jobs/{job_id}"}
    assert student.get(f"{API}/roadmaps/jobs/{job_id}").data["status"] == "queued"
    assert student.get(f"{API}/roadmaps/latest").status == 404
    # When the worker takes the message
    assert deliver_to_worker(sqs, queue_url, roadmap_worker_fn) == {"received": 1, "failed": set()}
    # Then the job is done with a valid week-by-week plan from the offline generator
    done = student.get(f"{API}/roadmaps/jobs/{job_id}").data
    assert done["status"] == "done"
    roadmap = plans.Roadmap.model_validate(done["roadmap"])
    assert roadmap.source == "offline" and roadmap.total_weeks == plans.weeks_for(student.months)  # type: ignore[attr-defined]
    assert student.get(f"{API}/roadmaps/latest").data["roadmap"] == done["roadmap"]
    # And an identical request within 24 hours answers at once, with no new job message
    again = student.post(f"{API}/roadmaps", body)
    assert again.status == 200 and again.data["status"] == "done" and again.data["roadmap"] == done["roadmap"]
    assert deliver_to_worker(sqs, queue_url, roadmap_worker_fn)["received"] == 0


def test_a_redelivered_message_does_nothing_twice(student: HandlerClient, sqs: Any, queue_url: str,
                                                  roadmap_worker_fn: Any) -> None:
    job_id = student.post(f"{API}/roadmaps", {"months_available": student.months}).data["job_id"]  # type: ignore[attr-defined]
    message = sqs.receive_message(QueueUrl=queue_url, AttributeNames=["All"])["Messages"][0]
    sqs.change_message_visibility(QueueUrl=queue_url, ReceiptHandle=message["ReceiptHandle"], VisibilityTimeout=0)
    deliver_to_worker(sqs, queue_url, roadmap_worker_fn)
    first = student.get(f"{API}/roadmaps/jobs/{job_id}").data
    # The same message again (SQS delivers at least once)
    sqs.send_message(QueueUrl=queue_url, MessageBody=message["Body"])
    assert deliver_to_worker(sqs, queue_url, roadmap_worker_fn)["failed"] == set()
    assert student.get(f"{API}/roadmaps/jobs/{job_id}").data == first


def test_a_poison_message_is_retried_then_dead_lettered(sqs: Any, queue_url: str, roadmap_worker_fn: Any,
                                                        local_aws: Any) -> None:
    sqs.send_message(QueueUrl=queue_url, MessageBody="not json")
    for _ in range(3):
        assert len(deliver_to_worker(sqs, queue_url, roadmap_worker_fn)["failed"]) == 1
    assert deliver_to_worker(sqs, queue_url, roadmap_worker_fn)["received"] == 0
    dlq = local_aws.queue_urls["RoadmapDeadLetterQueue"]
    dead = sqs.receive_message(QueueUrl=dlq, MaxNumberOfMessages=10).get("Messages", [])
    assert "not json" in [m["Body"] for m in dead]


def test_jobs_are_private_and_requests_validated(student: HandlerClient, auth_fn: Any, roadmaps_fn: Any,
                                                 queue_url: str) -> None:
    job_id = student.post(f"{API}/roadmaps", {"months_available": 2}).data["job_id"]
    stranger = HandlerClient(roadmaps_fn, token=register(auth_fn).data["access_token"])
    assert stranger.get(f"{API}/roadmaps/jobs/{job_id}").status == 404
    assert stranger.post(f"{API}/roadmaps", {}).status == 404  # no profile yet
    for body in ({"months_available": 0}, {"months_available": 37}, {"weak_subjects": ["Astrology"]},
                 {"extra": 1}):
        assert student.post(f"{API}/roadmaps", body).status == 422, body


@pytest.fixture
def fake_groq(settings: Any, monkeypatch: pytest.MonkeyPatch) -> Iterator[FakeGroq]:
    server = FakeGroq().start()
    point_groq_at(settings, monkeypatch, server.url, "gsk_fake")
    yield server
    llm_client.groq_client.cache_clear()
    server.stop()


def test_with_groq_the_plan_comes_from_groq_and_invalid_plans_fail_the_job(
        student: HandlerClient, sqs: Any, queue_url: str, roadmap_worker_fn: Any, fake_groq: FakeGroq) -> None:
    months = student.months  # type: ignore[attr-defined]
    plan = plans.offline_roadmap("GATE", "intermediate", months, ["Algorithms"], 4.0).model_dump()
    for week in plan["weeks"]:
        week["goals"] = ["A goal Groq wrote"]
    fake_groq.then(ok(plan))
    job_id = student.post(f"{API}/roadmaps", {"months_available": months}).data["job_id"]
    deliver_to_worker(sqs, queue_url, roadmap_worker_fn)
    done = student.get(f"{API}/roadmaps/jobs/{job_id}").data
    assert done["roadmap"]["source"] == "groq" and done["roadmap"]["weeks"][0]["goals"] == ["A goal Groq wrote"]
    # A plan that never validates is retried with the message and, on its last receive, fails
    bad = dict(plan, weeks=plan["weeks"][1:])
    fake_groq.then(ok(bad))
    job_id = student.post(f"{API}/roadmaps", {"months_available": max(1, months - 1) if months > 1 else 2}
                          ).data["job_id"]
    for _ in range(3):
        deliver_to_worker(sqs, queue_url, roadmap_worker_fn)
    failed = student.get(f"{API}/roadmaps/jobs/{job_id}").data
    assert failed["status"] == "failed" and "generation failed" in failed["error"]


@pytest.mark.parametrize("exam", syllabus.EXAM_TYPES)
@pytest.mark.parametrize("months", [1, 2, 6, 12, 36])
def test_the_offline_plan_is_valid_weighted_and_ends_with_revision(exam: str, months: int) -> None:
    weak = [syllabus.subjects(exam)[-1].name]
    plan = plans.offline_roadmap(exam, "beginner", months, weak, 3.0)
    assert [w.week for w in plan.weeks] == list(range(1, plan.total_weeks + 1))
    revision = [w.revision for w in plan.weeks]
    assert revision == sorted(revision)  # revision weeks come last, before the exam
    if plan.total_weeks >= 3:
        assert revision[-1] is True
    if plan.total_weeks >= 2 * len(syllabus.subjects(exam)):
        counts = {s.name: sum(1 for w in plan.weeks if not w.revision and w.focus_subjects == [s.name])
                  for s in syllabus.subjects(exam)}
        assert counts[weak[0]] >= max(v for k, v in counts.items() if k != weak[0])
    json.dumps(plan.model_dump())
