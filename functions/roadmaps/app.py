"""Roadmaps function: request a study roadmap, poll its job, read the latest (API.md "Roadmaps")."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Annotated, Literal

from fastapi import Body
from pydantic import ConfigDict, Field, RootModel
from pydantic.config import JsonDict
from pydantic.json_schema import SkipJsonSchema

from mindly.http.app import API_PREFIX, create_app, error_responses, lambda_handler
from mindly.http.auth import CurrentUser
from mindly.http.envelope import Envelope
from mindly.http.schemas import AnswerData, RequestBody, answers
from mindly.services import roadmaps

app = create_app("roadmaps")


class RoadmapRequest(RequestBody):
    months_available: int | None = Field(default=None, ge=1, le=36)
    weak_subjects: list[Annotated[str, Field(max_length=100)]] | None = Field(default=None, max_length=20)


class RoadmapPlanWeek(AnswerData):
    week: int = Field(ge=1)
    focus_subjects: list[str]
    topics: list[str]
    hours_per_day: float
    goals: list[str]
    revision: bool


class RoadmapPlan(AnswerData):
    """A week-by-week study plan (mindly.domain.roadmap.Roadmap as stored)."""

    exam_type: str
    level: Literal["beginner", "intermediate", "advanced"]
    total_weeks: int
    source: Literal["groq", "offline"]
    weeks: list[RoadmapPlanWeek]


class RoadmapReady(AnswerData):
    """200: an identical roadmap, already generated."""

    job_id: str
    status: Literal["done"]
    roadmap: RoadmapPlan


class RoadmapQueued(AnswerData):
    """202: a job generating the roadmap; poll ``poll_url``."""

    job_id: str
    status: Literal["queued", "running", "done"]
    poll_url: str


class RoadmapRequested(RootModel[RoadmapReady | RoadmapQueued]):
    model_config = ConfigDict(defer_build=True)


def _absent_by_default(schema: JsonDict) -> None:
    """A key left out of the answer (never sent as null): no ``default`` in the document."""
    schema.pop("default", None)


class RoadmapJob(AnswerData):
    job_id: str
    status: Literal["queued", "running", "done", "failed"]
    roadmap: RoadmapPlan | SkipJsonSchema[None] = Field(default=None, description="present once the job is done",
                                                        json_schema_extra=_absent_by_default)
    error: str | SkipJsonSchema[None] = Field(default=None, description="present when the job failed: why",
                                              json_schema_extra=_absent_by_default)


class LatestRoadmap(AnswerData):
    job_id: str
    roadmap: RoadmapPlan
    generated_at: str = Field(description="UTC instant, YYYY-MM-DDTHH:MM:SSZ")


@app.post(f"{API_PREFIX}/roadmaps", status_code=202, operation_id="requestRoadmap",
          responses={200: {"description": "An identical roadmap generated within 24 h (or today's identical "
                                          "request, already done)"}, **error_responses(404)})
@answers(RoadmapRequested)
def request_roadmap(user: CurrentUser, body: Annotated[RoadmapRequest | None, Body()] = None) -> Envelope:
    status, answer = roadmaps.request_roadmap(user.id, body.months_available if body else None,
                                              body.weak_subjects if body else None, datetime.now(UTC),
                                              roadmaps.sqs_enqueue)
    return Envelope(answer, status_code=status)


@app.get(f"{API_PREFIX}/roadmaps/jobs/{{job_id}}", responses=error_responses(404), operation_id="getRoadmapJob")
@answers(RoadmapJob)
def job(user: CurrentUser, job_id: str) -> Envelope:
    return Envelope(roadmaps.job_view(user.id, job_id[:64]))


@app.get(f"{API_PREFIX}/roadmaps/latest", responses=error_responses(404), operation_id="getLatestRoadmap")
@answers(LatestRoadmap)
def latest(user: CurrentUser) -> Envelope:
    return Envelope(roadmaps.latest_view(user.id))


handler = lambda_handler(app)
