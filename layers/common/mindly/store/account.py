"""A student's items taken as a whole, for the data export and the account deletion.

- Partition pages: one Query of ``USER#<id>`` in a table, every kind of item at once, as raw
  DynamoDB items (a kind added later, even one this process has no class for, comes back too).
- Batch deletes: BatchWriteItem of at most 25 keys, the keys DynamoDB leaves unprocessed sent again
  after a jittered backoff.
- ``USER#<id> / DELETION`` (Users table): the account is being deleted. It is written in the one
  transaction that also deletes the account and the email guard, and it is the last item the sweep
  deletes, so a sweep only ever runs for an account its owner asked to delete.
- ``USER#<id> / OWNS#<table>#<pk>#<sk>`` (Study table): an item outside the student's partitions
  that holds their data (a question report, a device guard), written in the transaction that writes
  that item. The export reads them through it and the sweep deletes them through it: no Scan, and
  a new kind of outside item needs only its pointer.
"""

from __future__ import annotations

import random
import time
from collections.abc import Callable, Sequence
from datetime import datetime
from decimal import Decimal
from typing import TYPE_CHECKING, Any

from pynamodb.attributes import UnicodeAttribute, UTCDateTimeAttribute
from pynamodb.exceptions import DoesNotExist, TransactWriteError
from pynamodb.models import Model
from pynamodb.transactions import TransactWrite

from mindly.exceptions import StoreBusy
from mindly.store.errors import cancellation_codes
from mindly.store.models import (
    TABLE_MODELS,
    EmailItem,
    StudyTable,
    UserItem,
    UsersTable,
    batch_read,
    connection_of,
)
from mindly.store.users import email_key, user_key

if TYPE_CHECKING:
    from mindly.store.notifications import NotificationSettingsItem

BATCH_WRITE_ITEMS = 25  # DynamoDB's BatchWriteItem takes at most 25 requests
UNPROCESSED_RETRIES = 6
UNPROCESSED_FIRST_CAP_SECONDS = 0.05
DELETION_SK = "DELETION"
OWNS_PREFIX = "OWNS#"
_sleep: Callable[[float], None] = time.sleep  # tests record the backoffs instead

RawItem = dict[str, Any]
Key = tuple[str, str]


class DeletionItem(UsersTable, discriminator="account_deletion"):
    """``USER#<id> / DELETION``: the student asked for their account to be deleted."""

    user_id = UnicodeAttribute()
    requested_at = UTCDateTimeAttribute()


class OwnedItem(StudyTable, discriminator="owned_item"):
    """``USER#<id> / OWNS#<table>#<pk>#<sk>``: the student's item in another partition."""

    table = UnicodeAttribute()  # template.yaml logical id, a key of TABLE_MODELS
    item_pk = UnicodeAttribute()
    item_sk = UnicodeAttribute()
    item_kind = UnicodeAttribute()


def ownership(user_id: str, item: Model) -> OwnedItem:
    """The pointer to save in the same transaction as ``item``, an item outside the student's
    partitions that holds their data."""
    table = next(name for name, model in TABLE_MODELS.items() if isinstance(item, model))
    pk, sk = str(getattr(item, "pk")), str(getattr(item, "sk"))  # noqa: B009 (every table's keys)
    kind = str(item.serialize().get("kind", {}).get("S", ""))
    return OwnedItem(user_key(user_id), f"{OWNS_PREFIX}{table}#{pk}#{sk}", table=table, item_pk=pk, item_sk=sk,
                     item_kind=kind)


def kind_of(raw: RawItem) -> str:
    """The ``kind`` discriminator of a raw item ("" when it has none)."""
    return str((raw.get("kind") or {}).get("S", ""))


def key_of(raw: RawItem) -> Key:
    return raw["pk"]["S"], raw["sk"]["S"]


def partition_page(model: type[Model], user_id: str, limit: int,
                   start: dict[str, Any] | None = None) -> tuple[list[RawItem], dict[str, Any] | None]:
    """Up to ``limit`` items of the student's partition in ``model``'s table, strongly consistent,
    and the key to continue from (None: the partition ends here). One Query."""
    params: dict[str, Any] = {
        "TableName": model.Meta.table_name,
        "KeyConditionExpression": "pk = :pk",
        "ExpressionAttributeValues": {":pk": {"S": user_key(user_id)}},
        "ConsistentRead": True,
        "Limit": limit,
    }
    if start:
        params["ExclusiveStartKey"] = start
    answer = connection_of(model).dispatch("Query", params)
    return list(answer.get("Items", [])), answer.get("LastEvaluatedKey") or None


def _with_backoff(call: Callable[[dict[str, Any]], dict[str, Any]], pending: dict[str, Any]) -> None:
    """Send ``pending`` until DynamoDB has processed all of it (full-jitter backoff between tries);
    StoreBusy (503) when it still has not after UNPROCESSED_RETRIES tries."""
    retries = 0
    while pending:
        if retries:
            if retries > UNPROCESSED_RETRIES:
                raise StoreBusy()
            _sleep(random.uniform(0, min(1.0, UNPROCESSED_FIRST_CAP_SECONDS * 2 ** (retries - 1))))
        pending = call(pending)
        retries += 1


def delete_keys(model: type[Model], keys: Sequence[Key]) -> None:
    """Delete these items of ``model``'s table: one BatchWriteItem per 25 keys (plus retries of
    what DynamoDB left unprocessed). Deleting an absent item is not an error: a retried sweep
    may delete again what it deleted before."""
    connection = connection_of(model)
    unique = list(dict.fromkeys(keys))
    for first in range(0, len(unique), BATCH_WRITE_ITEMS):
        requests = [{"DeleteRequest": {"Key": {"pk": {"S": pk}, "sk": {"S": sk}}}}
                    for pk, sk in unique[first:first + BATCH_WRITE_ITEMS]]
        _with_backoff(lambda pending: connection.dispatch("BatchWriteItem", {"RequestItems": pending})
                      .get("UnprocessedItems") or {}, {model.Meta.table_name: requests})


def delete_one(model: type[Model], key: Key) -> None:
    """Delete one item of ``model``'s table by its key (one DeleteItem; absent is fine)."""
    connection_of(model).dispatch("DeleteItem", {"TableName": model.Meta.table_name,
                                                 "Key": {"pk": {"S": key[0]}, "sk": {"S": key[1]}}})


def read_owned(pointers: Sequence[RawItem]) -> list[tuple[str, RawItem]]:
    """The items these OWNS# pointers name, each with its table's logical id, as raw items (absent
    ones left out): one BatchGetItem per table and 100 keys."""
    by_table: dict[str, list[Key]] = {}
    for raw in pointers:
        by_table.setdefault(raw["table"]["S"], []).append((raw["item_pk"]["S"], raw["item_sk"]["S"]))
    found: list[tuple[str, RawItem]] = []
    for table, keys in by_table.items():
        model = TABLE_MODELS[table]
        for first in range(0, len(keys), 100):
            [items] = batch_read([(model, keys[first:first + 100])])
            found.extend((table, item.serialize()) for item in items)
    return found


def notification_settings_of(raw: RawItem) -> NotificationSettingsItem:
    """A raw ``NOTIFY#SETTINGS`` item of a sweep page as its model (no read: the page has it all)."""
    # Imported here: this module is imported wherever an item outside a student's partition is
    # written (a question report), and only the deletion sweep needs the notification items.
    from mindly.store.notifications import NotificationSettingsItem

    return NotificationSettingsItem.from_raw_data(raw)


def deletion_of(user_id: str) -> DeletionItem | None:
    """The student's pending deletion, if they asked for one that has not finished."""
    try:
        return DeletionItem.get(user_key(user_id), DELETION_SK, consistent_read=True)
    except DoesNotExist:
        return None


def begin_deletion(user: UserItem, at: datetime) -> None:
    """In one transaction: the deletion marker written, the account and its email guard deleted
    (the email may register again at once, and a login finds no account). The guard is deleted
    only while it still names this student; already gone is fine (a retry)."""
    marker = DeletionItem(user_key(user.user_id), DELETION_SK, user_id=user.user_id, requested_at=at)
    guard = EmailItem(email_key(user.email), "EMAIL")
    try:
        with TransactWrite(connection=connection_of(UsersTable)) as transaction:
            transaction.save(marker)
            transaction.delete(guard, condition=EmailItem.pk.does_not_exist() | (EmailItem.user_id == user.user_id))
            transaction.delete(UserItem(user_key(user.user_id), "ACCOUNT"))
    except TransactWriteError as exc:
        if "ConditionalCheckFailed" in cancellation_codes(exc):
            # The email names another account: it was never this student's guard to delete.
            with TransactWrite(connection=connection_of(UsersTable)) as transaction:
                transaction.save(marker)
                transaction.delete(UserItem(user_key(user.user_id), "ACCOUNT"))
            return
        raise


def finish_deletion(user_id: str) -> None:
    """Delete the marker: the last item of the student (one DeleteItem)."""
    DeletionItem(user_key(user_id), DELETION_SK).delete()


def plain(value: dict[str, Any]) -> Any:
    """A DynamoDB attribute value as plain JSON-able Python (numbers as int or float, sets as
    sorted lists, binary as its length)."""
    (tag, inner), = value.items()
    if tag == "S":
        return inner
    if tag == "N":
        number = Decimal(inner)
        return int(number) if number == number.to_integral_value() else float(number)
    if tag in ("BOOL", "NULL"):
        return inner if tag == "BOOL" else None
    if tag == "L":
        return [plain(entry) for entry in inner]
    if tag == "M":
        return {name: plain(entry) for name, entry in inner.items()}
    if tag in ("SS", "NS"):
        return sorted(plain({tag[0]: entry}) for entry in inner)
    return {"binary_bytes": len(inner) if isinstance(inner, (bytes, str)) else None}


def plain_item(raw: RawItem) -> dict[str, Any]:
    """Every attribute of a raw item as plain values."""
    return {name: plain(value) for name, value in raw.items()}


def delete_report(report_id_key: Key, user_id: str) -> None:
    """Delete one of the student's question reports. An open one goes in one transaction with its
    one-per-question guard and -1 on the question's open count (as a resolution would move it); a
    resolved one is one DeleteItem. Already gone is fine. Tried again when an administrator
    resolves it meanwhile."""
    from mindly.store import question_stats
    from mindly.store import reports as report_store

    for _ in range(3):
        report = report_store.get_report(report_id_key[0].removeprefix("REPORT#"))
        if report is None or report.user_id != user_id:
            return
        if report.status != report_store.OPEN:
            report.delete()
            return
        guard = report_store.OpenReportItem(*report_store.open_report_key(report.question_id, user_id))
        counter = question_stats.report_increment(report.question_id, report.report_id, -1)
        try:
            with TransactWrite(connection=connection_of(type(report))) as transaction:
                transaction.delete(report, condition=report_store.ReportItem.status == report_store.OPEN)
                transaction.delete(guard, condition=report_store.OpenReportItem.report_id == report.report_id)
                transaction.update(counter.item, actions=counter.actions)
            return
        except TransactWriteError as exc:
            if "ConditionalCheckFailed" not in cancellation_codes(exc):
                raise
    raise StoreBusy()


def remove_from_week_finals(user_id: str, boards: Sequence[tuple[str, str | None]]) -> None:
    """Take the student's row out of the stored top ten of each finished (week, exam) board, the
    rows below moving up a rank: one BatchGetItem per 100 boards, then one conditional PutItem per
    final the student is in (only if it is still the one read)."""
    from mindly.store.progress import WeekFinalItem, get_week_finals

    weeks: dict[str, list[str | None]] = {}
    for week, exam in dict.fromkeys(boards):
        weeks.setdefault(week, []).append(exam)
    for week, exams in weeks.items():
        for final in get_week_finals(week, exams).values():
            top = list(final.top or [])
            kept = [row for row in top if row.get("user_id") != user_id]
            if len(kept) == len(top):
                continue
            final.top = [{**row, "rank": rank} for rank, row in enumerate(kept, start=1)]
            # Another deletion rewriting the same final meanwhile fails this one (the sweep's batch
            # is then tried again, from the final as it is by then).
            final.save(condition=WeekFinalItem.top == top)
