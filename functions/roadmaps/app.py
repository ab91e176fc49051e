"""Roadmaps function: request a study roadmap, poll its job, read the latest (API.md "Roadmaps")."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Annotated

from fastapi import Body
from pydantic import Field

from mindly.http.app import API_PREFIX, create_app, error_responses, lambda_handler
from mindly.http.auth import CurrentUser
from mindly.http.envelope import Envelope
from mindly.http.schemas import RequestBody
from mindly.services import roadmaps

app = create_app("roadmaps")


class RoadmapRequest(RequestBody):
    months_available: int | None = Field(default=None, ge=1, le=36)
    weak_subjects: list[Annotated[str, Field(max_length=100)]] | None = Field(default=None, max_length=20)


@app.post(f"{API_PREFIX}/roadmaps", status_code=202,
          responses={200: {"description": "An identical roadmap generated within 24 h (or today's identical "
                                          "request, already done)"}, **error_responses(404)})
def request_roadmap(user: CurrentUser, body: Annotated[RoadmapRequest | None, Body()] = None) -> Envelope:
    status, answer = roadmaps.request_roadmap(user.id, body.months_available if body else None,
                                              body.weak_subjects if body else None, datetime.now(UTC),
                                              roadmaps.sqs_enqueue)
    return Envelope(answer, status_code=status)


@app.get(f"{API_PREFIX}/roadmaps/jobs/{{job_id}}", responses=error_responses(404))
def job(user: CurrentUser, job_id: str) -> Envelope:
    return Envelope(roadmaps.job_view(user.id, job_id[:64]))


@app.get(f"{API_PREFIX}/roadmaps/latest", responses=error_responses(404))
def latest(user: CurrentUser) -> Envelope:
    return Envelope(roadmaps.latest_view(user.id))


handler = lambda_handler(app)
