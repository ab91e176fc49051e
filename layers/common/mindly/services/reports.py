"""Students report a wrong or unclear question; administrators list and resolve the reports.

A student holds at most one open report per question: the first is 201, a repeat while it is open
answers that same report (200), concurrent ones included (mindly.store.reports). Resolving is
idempotent: the first resolution is kept and takes one from the question's open count, a repeat
answers it unchanged.
"""

from __future__ import annotations

import uuid
from datetime import datetime
from typing import Any, NamedTuple

from mindly.domain.content import MAX_REPORT_COMMENT
from mindly.exceptions import NotFound
from mindly.services import pages
from mindly.store import reports as store

REASONS = ("wrong_answer", "unclear", "typo", "other")
ACTIONS = ("fixed", "rejected")
MAX_COMMENT = MAX_REPORT_COMMENT
OPEN_ATTEMPTS = 3


class Reported(NamedTuple):
    report: dict[str, Any]
    created: bool


def _utc(at: datetime | None) -> str | None:
    return at.strftime("%Y-%m-%dT%H:%M:%SZ") if at is not None else None


def report_view(item: store.ReportItem | store.OpenReportItem) -> dict[str, Any]:
    """A report as its student and the admins see it."""
    resolution = None
    if isinstance(item, store.ReportItem) and item.status == store.RESOLVED:
        resolution = {"action": item.action, "note": item.note, "resolved_at": _utc(item.resolved_at),
                      "resolved_by": item.resolved_by}
    return {"report_id": item.report_id, "question_id": item.question_id, "user_id": item.user_id,
            "reason": item.reason, "comment": item.comment,
            "status": item.status if isinstance(item, store.ReportItem) else store.OPEN,
            "created_at": _utc(item.created_at), "resolution": resolution}


def student_view(item: store.ReportItem | store.OpenReportItem) -> dict[str, Any]:
    """A report as the student who made it sees it (no user id, no resolution)."""
    view = report_view(item)
    del view["user_id"], view["resolution"]
    return view


def report_question(user_id: str, question_id: str, reason: str, comment: str | None, now: datetime) -> Reported:
    """POST /questions/{id}/reports: one BatchGetItem (the question and the student's open report
    of it), then, for a new report, one TransactWriteItems. 404 for an unknown question."""
    for _ in range(OPEN_ATTEMPTS):
        question, held = store.question_and_open_report(question_id, user_id)
        if question is None:
            raise NotFound("No such question")
        if held is not None:
            return Reported(student_view(held), created=False)
        report_id = uuid.uuid4().hex
        report = store.ReportItem(*store.report_key(report_id), report_id=report_id, question_id=question_id,
                                  user_id=user_id, reason=reason, comment=comment or None, status=store.OPEN,
                                  created_at=now)
        try:
            opened = store.open_report(report)
        except store.ReportResolvedMeanwhile:
            continue  # the open report the race found was resolved before it could be read: again
        return Reported(student_view(opened.report), created=opened.created)
    raise NotFound("No such question")


def list_reports(admin_id: str, status: str, page: int, limit: int, cursor: str | None) -> dict[str, Any]:
    """GET /admin/reports: one Query a page of the status's partition, newest first."""

    def fetch(start: pages.Key | None) -> tuple[list[Any], pages.Key | None]:
        found = store.reports_page(status, limit, start)
        return list(found.items), found.last_key

    return pages.paginate(fetch, page, limit, cursor, pages.Scope("admin/reports", admin_id, {"status": status}),
                          {"gsi1_pk": store.status_partition(status)}, report_view)


def resolve_report(admin_id: str, report_id: str, action: str, note: str | None, now: datetime) -> dict[str, Any]:
    """POST /admin/reports/{id}/resolve: one GetItem, then (for an open report) one
    TransactWriteItems. A resolved report is answered as it was resolved, whoever asks again."""
    report = store.get_report(report_id)
    if report is None:
        raise NotFound("No such report")
    if report.status == store.OPEN and not store.resolve(report, action, note or None, admin_id, now):
        report = store.get_report(report_id)  # resolved meanwhile by another request: answer that
        if report is None:
            raise NotFound("No such report")
    return report_view(report)
