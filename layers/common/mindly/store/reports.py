"""Students' reports of wrong or unclear questions, in the Content table.

- ``REPORT#<report id> / REPORT``: the report. It sits in the ``by_exam`` index under
  ``REPORTS#open`` or ``REPORTS#resolved`` (sort key ``<time>#<report id>``: opened, or resolved),
  so the admin list of either is one Query a page, newest first, with no index of its own.
- ``Q#<question id> / REPORTER#<user id>``: the student's open report of that question (a copy of
  it), written with ``attribute_not_exists`` in the transaction that opens the report and deleted
  in the one that resolves it: one open report per student and question, however many requests
  race, and a repeat is answered from this one item.

Opening and resolving also move the question's ``reports_open`` counter (a shard of
mindly.store.question_stats) in the same transaction, so the count moves exactly once each way.
"""

from __future__ import annotations

from datetime import datetime
from typing import NamedTuple

from pynamodb.attributes import UnicodeAttribute, UTCDateTimeAttribute
from pynamodb.exceptions import DoesNotExist, TransactWriteError
from pynamodb.transactions import TransactWrite

from mindly.store import question_stats
from mindly.store.content import Page, QuestionItem, index_page, question_key
from mindly.store.errors import OutcomeUnknown, cancellation_codes, response_code
from mindly.store.models import ContentTable, batch_read, connection_of

OPEN, RESOLVED = "open", "resolved"
STATUSES = (OPEN, RESOLVED)
REPORTER_PREFIX = "REPORTER#"


class ReportItem(ContentTable, discriminator="question_report"):
    report_id = UnicodeAttribute()
    question_id = UnicodeAttribute()
    user_id = UnicodeAttribute()
    reason = UnicodeAttribute()
    comment = UnicodeAttribute(null=True)
    status = UnicodeAttribute()
    created_at = UTCDateTimeAttribute()
    action = UnicodeAttribute(null=True)  # fixed | rejected, once resolved
    note = UnicodeAttribute(null=True)
    resolved_at = UTCDateTimeAttribute(null=True)
    resolved_by = UnicodeAttribute(null=True)


class OpenReportItem(ContentTable, discriminator="open_report"):
    """The student's open report of a question: the guard that makes it one, and its copy."""

    report_id = UnicodeAttribute()
    question_id = UnicodeAttribute()
    user_id = UnicodeAttribute()
    reason = UnicodeAttribute()
    comment = UnicodeAttribute(null=True)
    created_at = UTCDateTimeAttribute()


class ReportResolvedMeanwhile(Exception):
    """Opening a report lost to the student's other open report, which was resolved before it could
    be read: the caller may open one again."""


class Opened(NamedTuple):
    report: ReportItem | OpenReportItem
    created: bool  # False: the student's open report of this question, answered again


def report_key(report_id: str) -> tuple[str, str]:
    return f"REPORT#{report_id}", "REPORT"


def open_report_key(question_id: str, user_id: str) -> tuple[str, str]:
    return question_key(question_id)[0], f"{REPORTER_PREFIX}{user_id}"


def status_partition(status: str) -> str:
    return f"REPORTS#{status}"


def _instant(at: datetime) -> str:
    return at.strftime("%Y-%m-%dT%H:%M:%S.%fZ")


def question_and_open_report(question_id: str, user_id: str) -> tuple[QuestionItem | None, OpenReportItem | None]:
    """The question item (or None) and the student's open report of it (or None): one BatchGetItem."""
    [found] = batch_read([(ContentTable, [question_key(question_id), open_report_key(question_id, user_id)])])
    question = next((item for item in found if isinstance(item, QuestionItem)), None)
    guard = next((item for item in found if isinstance(item, OpenReportItem)), None)
    return question, guard


def open_report(report: ReportItem) -> Opened:
    """Store a new open report, its guard and +1 on the question's open count in one
    TransactWriteItems. When the student already holds an open report of the question (a race),
    that one is answered instead (one more BatchGetItem)."""
    guard = OpenReportItem(*open_report_key(report.question_id, report.user_id), report_id=report.report_id,
                           question_id=report.question_id, user_id=report.user_id, reason=report.reason,
                           comment=report.comment, created_at=report.created_at)
    report.gsi1_pk, report.gsi1_sk = status_partition(OPEN), f"{_instant(report.created_at)}#{report.report_id}"
    counter = question_stats.report_increment(report.question_id, report.report_id, +1)
    try:
        with TransactWrite(connection=connection_of(ContentTable)) as transaction:
            transaction.save(guard, condition=OpenReportItem.pk.does_not_exist())
            transaction.save(report, condition=ReportItem.pk.does_not_exist())
            transaction.update(counter.item, actions=counter.actions)
            # The student's pointer to it (Study table), so the export and the account deletion
            # find it without a Scan (mindly.store.account).
            # Imported here: the account store's registry is only needed when a report is written.
            from mindly.store.account import ownership

            transaction.save(ownership(report.user_id, report))
    except TransactWriteError as exc:
        if response_code(exc) is None:
            raise OutcomeUnknown(report.report_id) from exc
        if "ConditionalCheckFailed" not in cancellation_codes(exc):
            raise
        held = _open_report_of(report.question_id, report.user_id)
        if held is None:
            raise ReportResolvedMeanwhile(report.question_id) from exc
        return Opened(held, created=False)
    return Opened(report, created=True)


def _open_report_of(question_id: str, user_id: str) -> OpenReportItem | None:
    # A BatchGetItem of one key, as the first read was: the student's route needs no GetItem grant.
    [found] = batch_read([(ContentTable, [open_report_key(question_id, user_id)])])
    return next((item for item in found if isinstance(item, OpenReportItem)), None)


def get_report(report_id: str) -> ReportItem | None:
    try:
        return ReportItem.get(*report_key(report_id), consistent_read=True)
    except DoesNotExist:
        return None


def resolve(report: ReportItem, action: str, note: str | None, by: str, now: datetime) -> bool:
    """Resolve an open report in one TransactWriteItems: the report (only while still open), its
    guard deleted (so the student may report the question again) and -1 on the question's open
    count. False when another resolution came first (nothing written)."""
    report.status, report.action, report.note, report.resolved_at, report.resolved_by = (
        RESOLVED, action, note, now, by)
    report.gsi1_pk, report.gsi1_sk = status_partition(RESOLVED), f"{_instant(now)}#{report.report_id}"
    guard = OpenReportItem(*open_report_key(report.question_id, report.user_id))
    counter = question_stats.report_increment(report.question_id, report.report_id, -1)
    try:
        with TransactWrite(connection=connection_of(ContentTable)) as transaction:
            transaction.delete(guard, condition=OpenReportItem.report_id == report.report_id)
            transaction.save(report, condition=ReportItem.status == OPEN)
            transaction.update(counter.item, actions=counter.actions)
    except TransactWriteError as exc:
        if response_code(exc) is None:
            raise OutcomeUnknown(report.report_id) from exc
        if "ConditionalCheckFailed" in cancellation_codes(exc):
            return False
        raise
    return True


def reports_page(status: str, limit: int, start: dict[str, str] | None) -> Page:
    """One page of the reports in ``status``, newest first: one Query of ``limit`` + 1 items."""
    exclusive_start = {name: {"S": value} for name, value in start.items()} if start else None
    items = list(ReportItem.by_exam.query(status_partition(status), scan_index_forward=False, limit=limit + 1,
                                          page_size=limit + 1, last_evaluated_key=exclusive_start))
    return index_page(items, limit)
