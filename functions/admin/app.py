"""Admin function, for role admin only: importing questions and flashcards, media uploads, and the
content operations (API.md "Admin" and "Question types, passages, formatting, media"): the question
list with keys and statistics, edits, retirement, and students' reports."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Annotated, Any, Literal

from fastapi import Body, Path, Query
from pydantic import Field

from mindly.http.app import API_PREFIX, create_app, error_responses, lambda_handler
from mindly.http.auth import AdminUser
from mindly.http.envelope import Envelope
from mindly.http.schemas import AnswerData, PageOf, RequestBody, answers
from mindly.services import content, media, question_admin, reports
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


# --- content operations --------------------------------------------------------------------------

Text = Annotated[str | None, Query(max_length=200)]
PageNumber = Annotated[int, Query(ge=1, le=50)]
Limit = Annotated[int, Query(ge=1, le=100)]
Cursor = Annotated[str | None, Query(max_length=2000)]
QuestionId = Annotated[str, Path(min_length=1, max_length=64)]
ReportId = Annotated[str, Path(min_length=1, max_length=64)]


class QuestionStats(AnswerData):
    """Summed over the question's 16 counter shards; times are from a histogram (README "Content
    operations": buckets and the median's resolution)."""

    attempts: int
    correct: int
    accuracy: float | None = Field(description="correct / attempts, 4 places; null before the first answer")
    median_time_seconds: float | None = Field(description="interpolated inside its time bucket; null before "
                                                          "the first answer")
    reports_open: int


class RecordPassage(AnswerData):
    passage_id: str = Field(description="the passage's id as the record gives it (not the stored id)")
    text: str


class RecordMedia(AnswerData):
    media_id: str
    alt: str


class RecordNumericKey(AnswerData):
    """``{value, tolerance}`` or ``{min, max}``."""

    value: float | None = None
    tolerance: float | None = None
    min: float | None = None
    max: float | None = None


class QuestionRecord(AnswerData):
    """The question in its import form, key included: what PUT /admin/questions/{question_id} takes."""

    source: str
    external_id: str
    exam_type: str
    subject: str
    topic: str
    difficulty: Literal["easy", "medium", "hard"]
    type: Literal["single", "multiple", "numeric"]
    format: Literal["text", "latex"]
    stem: str
    explanation: str | None
    options: dict[str, str] | None = Field(default=None, description="single and multiple")
    correct_option: str | None = Field(default=None, description="single")
    correct_options: list[str] | None = Field(default=None, description="multiple: the whole set")
    answer: RecordNumericKey | None = Field(default=None, description="numeric")
    passage: RecordPassage | None = None
    media: list[RecordMedia] | None = None
    year: int | None = None
    paper: str | None = None


class AdminQuestion(AnswerData):
    question_id: str
    version: int = Field(description="1 when imported; each edit or changed re-import adds one")
    status: Literal["active", "retired"]
    retired_at: str | None = Field(description="UTC instant it was retired, YYYY-MM-DDTHH:MM:SSZ")
    record: QuestionRecord
    stats: QuestionStats


class AdminQuestionsPage(PageOf):
    items: list[AdminQuestion]


@app.get(f"{API_PREFIX}/admin/questions", operation_id="listAdminQuestions")
@answers(AdminQuestionsPage)
def list_questions(admin: AdminUser, exam: Annotated[str, Query(min_length=1, max_length=20)], subject: Text = None,
                   topic: Text = None, status: Literal["active", "retired"] = "active", page: PageNumber = 1,
                   limit: Limit = 20, cursor: Cursor = None) -> Envelope:
    return Envelope(question_admin.list_questions(admin.id, exam, subject, topic, status, page, limit, cursor))


@app.put(f"{API_PREFIX}/admin/questions/{{question_id}}", responses=error_responses(404, 409),
         operation_id="editQuestion")
@answers(AdminQuestion)
def edit_question(_admin: AdminUser, question_id: QuestionId, record: Annotated[dict[str, Any], Body()],
                  version: Annotated[int | None, Query(ge=1, description="the version edited; another: 409")] = None,
                  ) -> Envelope:
    return Envelope(question_admin.edit_question(question_id, record, version))


@app.post(f"{API_PREFIX}/admin/questions/{{question_id}}/retire", responses=error_responses(404),
          operation_id="retireQuestion")
@answers(AdminQuestion)
def retire_question(_admin: AdminUser, question_id: QuestionId) -> Envelope:
    return Envelope(question_admin.retire(question_id, datetime.now(UTC)))


@app.post(f"{API_PREFIX}/admin/questions/{{question_id}}/restore", responses=error_responses(404),
          operation_id="restoreQuestion")
@answers(AdminQuestion)
def restore_question(_admin: AdminUser, question_id: QuestionId) -> Envelope:
    return Envelope(question_admin.restore(question_id))


class ReportResolution(AnswerData):
    action: Literal["fixed", "rejected"]
    note: str | None
    resolved_at: str = Field(description="UTC instant, YYYY-MM-DDTHH:MM:SSZ")
    resolved_by: str = Field(description="the admin's user id")


class AdminReport(AnswerData):
    report_id: str
    question_id: str
    user_id: str = Field(description="the student who reported")
    reason: Literal["wrong_answer", "unclear", "typo", "other"]
    comment: str | None
    status: Literal["open", "resolved"]
    created_at: str = Field(description="UTC instant, YYYY-MM-DDTHH:MM:SSZ")
    resolution: ReportResolution | None


class AdminReportsPage(PageOf):
    items: list[AdminReport]


@app.get(f"{API_PREFIX}/admin/reports", operation_id="listReports")
@answers(AdminReportsPage)
def list_reports(admin: AdminUser, status: Literal["open", "resolved"] = "open", page: PageNumber = 1,
                 limit: Limit = 20, cursor: Cursor = None) -> Envelope:
    return Envelope(reports.list_reports(admin.id, status, page, limit, cursor))


class ResolveRequest(RequestBody):
    action: Literal["fixed", "rejected"]
    note: str | None = Field(default=None, max_length=reports.MAX_COMMENT)


@app.post(f"{API_PREFIX}/admin/reports/{{report_id}}/resolve", responses=error_responses(404),
          operation_id="resolveReport")
@answers(AdminReport)
def resolve_report(admin: AdminUser, report_id: ReportId, body: ResolveRequest) -> Envelope:
    return Envelope(reports.resolve_report(admin.id, report_id, body.action, body.note, datetime.now(UTC)))


handler = lambda_handler(app)
