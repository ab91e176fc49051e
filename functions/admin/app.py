"""Admin function: importing questions and flashcards (API.md "Admin"), for role admin only."""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import Body
from pydantic import Field

from mindly.http.app import API_PREFIX, create_app, lambda_handler
from mindly.http.auth import AdminUser
from mindly.http.envelope import Envelope
from mindly.http.schemas import AnswerData, RequestBody, answers
from mindly.services import content, media
from mindly.services.media import MAX_MEDIA_BYTES, ContentType

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
    """What an import did: records stored, records whose content changed (a new version), records
    already in the bank as they are, records refused."""

    imported: int
    updated: int
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


class MediaUploadRequest(RequestBody):
    """The image an admin is about to upload: its type and its exact size in bytes."""

    content_type: ContentType
    bytes: int = Field(ge=1, le=MAX_MEDIA_BYTES)


class MediaUpload(AnswerData):
    """Where to PUT the image: the URL's signature fixes its content type and size."""

    media_id: str = Field(description="the id a question names in media: [{media_id, alt}]")
    upload_url: str = Field(description="presigned PUT; send Content-Type and exactly `bytes` bytes")
    expires_in: int = Field(description="seconds the upload URL stays valid")


@app.post(f"{API_PREFIX}/admin/media", operation_id="createMediaUpload")
@answers(MediaUpload)
def create_media_upload(_admin: AdminUser, body: MediaUploadRequest) -> Envelope:
    return Envelope(media.upload_target(body.content_type, body.bytes))


handler = lambda_handler(app)
