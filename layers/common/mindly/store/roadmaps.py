"""Roadmap jobs in the Study table: ``USER#<id> / ROADMAP#<job id>`` (status, request, result,
error), ``USER#<id> / ROADMAP_LATEST`` pointing at the newest finished one, and the daily quota:
``USER#<id> / ROADMAP_QUOTA#<day>`` (how many jobs the student started that day) with one
``USER#<id> / ROADMAP_REQUEST#<day>#<request digest>`` per distinct request (its job), both
expiring through the table's TTL."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from pynamodb.attributes import JSONAttribute, NumberAttribute, UnicodeAttribute, UTCDateTimeAttribute
from pynamodb.exceptions import DoesNotExist, TransactWriteError, UpdateError
from pynamodb.transactions import TransactWrite

from mindly.store.errors import StaleWrite, cancellation_codes, response_code
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


class RoadmapQuotaItem(StudyTable, discriminator="roadmap_quota"):
    jobs = NumberAttribute(default=0)


class RoadmapRequestItem(StudyTable, discriminator="roadmap_request"):
    job_id = UnicodeAttribute()


class SameRequestToday(Exception):
    """The student already made this very request today: ``job_id`` is the job it started."""

    def __init__(self, job_id: str) -> None:
        super().__init__(job_id)
        self.job_id = job_id


class QuotaExhausted(Exception):
    """The student has started as many jobs today as the quota allows."""


def job_key(user_id: str, job_id: str) -> tuple[str, str]:
    return student_key(user_id), f"ROADMAP#{job_id}"


def create_job(job: RoadmapJobItem) -> None:
    job.save(condition=RoadmapJobItem.pk.does_not_exist())


def _quota_key(user_id: str, day: str) -> tuple[str, str]:
    return student_key(user_id), f"ROADMAP_QUOTA#{day}"


def _request_key(user_id: str, day: str, digest: str) -> tuple[str, str]:
    return student_key(user_id), f"ROADMAP_REQUEST#{day}#{digest}"


def create_counted_job(job: RoadmapJobItem, digest: str, day: str, limit: int, forget_at: datetime,
                       replacing: str | None = None) -> None:
    """Write ``job`` as the student's job for request ``digest`` on ``day`` and count it against the
    day's ``limit``, in one transaction: the quota is exact under parallel requests, and a request
    is counted once however often it is repeated. ``replacing`` is the job the request had (one
    that failed), taken over only if it still has it. SameRequestToday when the request has a job
    (another one than ``replacing``), QuotaExhausted when the day's jobs are used up; nothing is
    written then. The quota records expire at ``forget_at``."""
    user_id = str(job.user_id)
    request = RoadmapRequestItem(*_request_key(user_id, day, digest), job_id=job.job_id, expires_at=forget_at)
    quota = RoadmapQuotaItem(*_quota_key(user_id, day))
    try:
        with TransactWrite(connection=connection_of(StudyTable)) as transaction:
            transaction.save(job, condition=RoadmapJobItem.pk.does_not_exist())
            if replacing is None:
                transaction.save(request, condition=RoadmapRequestItem.pk.does_not_exist())
            else:
                transaction.update(request, actions=[RoadmapRequestItem.job_id.set(job.job_id)],
                                   condition=RoadmapRequestItem.job_id == replacing)
            transaction.update(quota, actions=[RoadmapQuotaItem.jobs.add(1),
                                               RoadmapQuotaItem.expires_at.set(forget_at)],
                               condition=RoadmapQuotaItem.jobs.does_not_exist() | (RoadmapQuotaItem.jobs < limit))
    except TransactWriteError as exc:
        codes = cancellation_codes(exc)
        if len(codes) == 3 and codes[1] == "ConditionalCheckFailed":
            found = request_job(user_id, day, digest)
            if found is not None and found != replacing:
                raise SameRequestToday(found) from exc
            raise StaleWrite(digest) from exc  # its failed job was just replaced, or its record expired
        if len(codes) == 3 and codes[2] == "ConditionalCheckFailed":
            raise QuotaExhausted(day) from exc
        raise


def request_job(user_id: str, day: str, digest: str) -> str | None:
    """The job request ``digest`` started on ``day``, if it did."""
    try:
        return str(RoadmapRequestItem.get(*_request_key(user_id, day, digest), consistent_read=True).job_id)
    except DoesNotExist:
        return None


def uncount_job(user_id: str, day: str) -> None:
    """Give back a job counted on ``day`` that never reached the queue (no Groq call was made)."""
    quota = RoadmapQuotaItem(*_quota_key(user_id, day))
    try:
        quota.update(actions=[RoadmapQuotaItem.jobs.add(-1)], condition=RoadmapQuotaItem.jobs > 0)
    except UpdateError as exc:
        if response_code(exc) != "ConditionalCheckFailedException":
            raise


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


def latest_key(user_id: str) -> tuple[str, str]:
    """The key of the student's pointer to their newest finished roadmap (for a batched read)."""
    return student_key(user_id), "ROADMAP_LATEST"


def latest(user_id: str) -> LatestRoadmapItem | None:
    try:
        return LatestRoadmapItem.get(*latest_key(user_id))
    except DoesNotExist:
        return None
