"""Admin function: importing questions and flashcards (API.md "Admin"), for role admin only."""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import Body

from mindly.http.app import API_PREFIX, create_app, lambda_handler
from mindly.http.auth import AdminUser
from mindly.http.envelope import Envelope
from mindly.services import content

app = create_app("admin")

# A request carries at most this many records (the body is at most 1 MB anyway); larger files go
# through `infra.cli import`. Records are checked one by one, so the list may hold anything.
MAX_RECORDS = 1000
Records = Annotated[list[Any], Body(max_length=MAX_RECORDS)]


@app.post(f"{API_PREFIX}/admin/questions/import")
def import_questions(_admin: AdminUser, records: Records) -> Envelope:
    return Envelope(content.import_objects("question", records))


@app.post(f"{API_PREFIX}/admin/flashcards/import")
def import_flashcards(_admin: AdminUser, records: Records) -> Envelope:
    return Envelope(content.import_objects("flashcard", records))


handler = lambda_handler(app)
