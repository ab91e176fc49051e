"""Admin function: importing questions and flashcards (API.md "Admin"), for role admin only."""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import Body
from pydantic import Field

from mindly.http.app import API_PREFIX, create_app, lambda_handler
from mindly.http.auth import AdminUser
from mindly.http.envelope import Envelope
from mindly.http.schemas import AnswerData, answers
from mindly.services import content

app = create_app("admin")

# A request carries at most this many records (the body is at most 1 MB anyway); larger files go
# through `infra.cli import`. Records are checked one by one, so the list may hold anything.
MAX_RECORDS = 1000
Records = Annotated[list[Any], Body(max_length=MAX_RECORDS)]


class ImportProblem(AnswerData):
    """A record that was not imported, and why."""

    index: int = Field(description="the record's position in the request, from 0")
    external_id: str | None = Field(description="the record's external_id, when it has one")
    error: str


class ImportReport(AnswerData):
    """What an import did: records stored, records already in the bank, records refused."""

    imported: int
    skipped: int
    errors: list[ImportProblem]


@app.post(f"{API_PREFIX}/admin/questions/import", operation_id="importQuestions")
@answers(ImportReport)
def import_questions(_admin: AdminUser, records: Records) -> Envelope:
    return Envelope(content.import_objects("question", records))


@app.post(f"{API_PREFIX}/admin/flashcards/import", operation_id="importFlashcards")
@answers(ImportReport)
def import_flashcards(_admin: AdminUser, records: Records) -> Envelope:
    return Envelope(content.import_objects("flashcard", records))


handler = lambda_handler(app)
