"""Roadmap jobs in the Study table: ``USER#<id> / ROADMAP#<job id>`` (status, request, result,
error), and ``USER#<id> / ROADMAP_LATEST`` pointing at the newest finished one."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from pynamodb.attributes import JSONAttribute, NumberAttribute, UnicodeAttribute, UTCDateTimeAttribute
from pynamodb.exceptions import DoesNotExist, UpdateError
from pynamodb.transactions import TransactWrite

from mindly.store.errors import StaleWrite, response_code
from mindly.store.models import StudyTable, connection_of
from mindly.store.progress import student_key

QUEUED, RUNNING, DONE, FAILED = "queued", "running", "done", "failed"


class RoadmapJobItem(StudyTable, discriminator="roadmap_job"):
    job_id = UnicodeAttribute()
    user_id = UnicodeAttribute()
    status = UnicodeAttribute()
    request = JSONAttribute()
    roadmap = JSONAttribute(null=True)
    error = UnicodeAttribute(null=True)
    attempts = NumberAttribute(default=0)
    created_at = UTCDateTimeAttribute()
    finished_at = UTCDateTimeAttribute(null=True)


class LatestRoadmapItem(StudyTable, discriminator="roadmap_latest"):
    job_id = UnicodeAttribute()
    roadmap = JSONAttribute()
    finished_at = UTCDateTimeAttribute()


def job_key(user_id: str, job_id: str) -> tuple[str, str]:
    return student_key(user_id), f"ROADMAP#{job_id}"


def create_job(job: RoadmapJobItem) -> None:
    job.save(condition=RoadmapJobItem.pk.does_not_exist())


def get_job(user_id: str, job_id: str) -> RoadmapJobItem | None:
    try:
        return RoadmapJobItem.get(*job_key(user_id, job_id), consistent_read=True)
    except DoesNotExist:
        return None


def start(job: RoadmapJobItem) -> None:
    """queued/running -> running (a redelivered message may find it running); StaleWrite when the
    job is done or failed already."""
    try:
        job.update(actions=[RoadmapJobItem.status.set(RUNNING), RoadmapJobItem.attempts.add(1)],
                   condition=RoadmapJobItem.status.is_in(QUEUED, RUNNING))
    except UpdateError as exc:
        if response_code(exc) == "ConditionalCheckFailedException":
            raise StaleWrite(job.job_id) from exc
        raise


def finish(job: RoadmapJobItem, roadmap: dict[str, Any], at: datetime) -> None:
    """Store the result and make it the student's latest (the job only if it is still running), in
    one transaction: a job is never done without being the latest (a redelivered message of a done
    job does nothing, so a latest written apart from it could be lost for good)."""
    latest = LatestRoadmapItem(student_key(job.user_id), "ROADMAP_LATEST", job_id=job.job_id, roadmap=roadmap,
                               finished_at=at)
    with TransactWrite(connection=connection_of(StudyTable)) as transaction:
        transaction.update(job, actions=[RoadmapJobItem.status.set(DONE), RoadmapJobItem.roadmap.set(roadmap),
                                         RoadmapJobItem.finished_at.set(at)],
                           condition=RoadmapJobItem.status == RUNNING)
        transaction.save(latest)


def fail(user_id: str, job_id: str, reason: str, at: datetime) -> bool:
    """queued/running -> failed with ``reason``, by key (it needs no read, so it can still be written
    when the job could not be read). False when the job is done or failed already, or missing: a
    job's outcome is decided once."""
    job = RoadmapJobItem(*job_key(user_id, job_id))
    try:
        job.update(actions=[RoadmapJobItem.status.set(FAILED), RoadmapJobItem.error.set(reason[:500]),
                            RoadmapJobItem.finished_at.set(at)],
                   condition=RoadmapJobItem.status.is_in(QUEUED, RUNNING))
    except UpdateError as exc:
        if response_code(exc) == "ConditionalCheckFailedException":
            return False
        raise
    return True


def latest(user_id: str) -> LatestRoadmapItem | None:
    try:
        return LatestRoadmapItem.get(student_key(user_id), "ROADMAP_LATEST")
    except DoesNotExist:
        return None
