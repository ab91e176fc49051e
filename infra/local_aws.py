"""Local AWS for the dev server and the tests: moto's server in this process, with the tables,
queues, event buses and buckets of template.yaml.

    aws = bootstrap(prefix="mindly-local")   # start moto, point the environment at it, create all
    ...                                      # boto3 / pynamodb now talk to aws.endpoint_url
    aws.stop()

The pieces are usable on their own: ``start_moto`` (server only, touches no global state),
``configure_env`` (environment variables only), ``create_tables`` / ``create_queues`` /
``create_buckets`` (idempotent, from ``infra.cfn``'s reading of template.yaml) and ``reset`` (moto's
reset API: forget everything).

``start_moto`` also makes moto's DynamoDB behave as DynamoDB where it differs in ways the tests or
the dev server would notice: one request at a time, a failed transaction undone item by item (no
table copies), DynamoDB's size and count limits, and no model objects kept for moto's dashboard. Its S3
checks presigned URLs as S3 does (``verify_presigned_s3_requests``): moto accepts any of them.

Mail: ``create_mail_identities`` creates the template's SES identities (moto, like SES, refuses a
From address that is not one), and every mail moto's SES takes can be watched as it is sent
(``observe_sent_mail``: the dev server prints each) or read back (``sent_mail``: the tests do).
"""

from __future__ import annotations

import contextlib
import hashlib
import hmac
import json
import os
import re
import socket
import threading
import urllib.request
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import Any
from urllib.parse import parse_qsl, quote, urlsplit

from moto.server import ThreadedMotoServer

from infra import cfn

DEFAULT_REGION = "ap-south-1"
DUMMY_CREDENTIAL = "testing"
# moto's default account unless MOTO_ACCOUNT_ID says otherwise; it appears in queue URLs and ARNs.
DEFAULT_ACCOUNT_ID = "123456789012"


def _region() -> str:
    # Same precedence as mindly.config.Settings.aws_region: AWS_REGION, then AWS_DEFAULT_REGION.
    return os.environ.get("AWS_REGION") or os.environ.get("AWS_DEFAULT_REGION") or DEFAULT_REGION


def _client(service: str, endpoint_url: str) -> Any:
    import boto3

    return boto3.session.Session().client(
        service,
        endpoint_url=endpoint_url,
        region_name=_region(),
        aws_access_key_id=os.environ.get("AWS_ACCESS_KEY_ID") or DUMMY_CREDENTIAL,
        aws_secret_access_key=os.environ.get("AWS_SECRET_ACCESS_KEY") or DUMMY_CREDENTIAL,
    )


# --- the server --------------------------------------------------------------------------------------

_DYNAMODB_LOCK = threading.RLock()


def serialize_dynamodb_requests() -> None:
    """Make moto's DynamoDB apply one request at a time, as DynamoDB's own atomicity promises.

    moto's server answers each request in its own thread and its DynamoDB backend takes no lock,
    so a conditional write could pass its check while another request is halfway through a
    transaction, and a read could see half of a transaction: races that DynamoDB itself never
    allows. Holding one lock per request gives the emulator DynamoDB's guarantees (each
    request, transactions included, is atomic), which the concurrency tests rely on.
    """
    from moto.dynamodb.responses import DynamoHandler

    if getattr(DynamoHandler.call_action, "_mindly_serialized", False):
        return
    original = DynamoHandler.call_action

    def call_action(self: Any) -> Any:
        with _DYNAMODB_LOCK:
            return original(self)

    call_action._mindly_serialized = True  # type: ignore[attr-defined]
    DynamoHandler.call_action = call_action  # type: ignore[method-assign]


# --- what moto does differently from DynamoDB, made to match ----------------------------------------

# DynamoDB's limits (the 400 KB item is 400 * 1024 bytes, measured as below).
MAX_ITEM_BYTES = 400 * 1024
MAX_TRANSACTION_ACTIONS = 100
MAX_TRANSACTION_BYTES = 4 * 1024 * 1024
MAX_BATCH_WRITE_REQUESTS = 25
MAX_PAGE_BYTES = 1024 * 1024


def _number_bytes(text: str) -> int:
    """What DynamoDB charges for a number: one byte, plus one per pair of significant digits (pairs
    are counted from the decimal point, so ``3.14159`` costs 5 where ``123456`` costs 4), plus one
    when negative. Leading and trailing zeros cost nothing. AWS documents this only roughly
    ("1 byte per two significant digits, plus 1"); this is the closest rule we know."""
    from decimal import Decimal, InvalidOperation

    try:
        sign, digits, exponent = Decimal(text).as_tuple()
    except (InvalidOperation, ValueError, TypeError):
        return len(str(text))
    if not isinstance(exponent, int):  # NaN / infinity: moto refuses these anyway
        return len(str(text))
    significant = "".join(map(str, digits)).lstrip("0")
    if not significant:
        return 1
    stripped = significant.rstrip("0")
    exponent += len(significant) - len(stripped)
    highest_pair = (exponent + len(stripped) - 1) // 2
    lowest_pair = exponent // 2
    return 1 + (highest_pair - lowest_pair + 1) + (1 if sign else 0)


def _binary_bytes(value: Any) -> int:
    # moto keeps binary values as the base64 text of the request; DynamoDB counts the raw bytes.
    if isinstance(value, bytes | bytearray):
        return len(value)
    text = str(value).rstrip("=")
    return len(text) * 3 // 4


def attribute_value_bytes(value: Any) -> int:
    """The size DynamoDB gives one attribute value (a moto ``DynamoType`` or a request's
    ``{"S": ...}`` form), by the rules of "Item sizes and formats" in the developer guide: strings
    their UTF-8 bytes, binary its raw bytes, booleans and nulls 1, sets the sum of their members,
    lists and maps 3 bytes plus, per element, 1 byte, the element and (maps) its name's bytes."""
    from moto.dynamodb.models.dynamo_type import DynamoType

    if isinstance(value, DynamoType):
        kind, data = value.type, value.value
    else:
        ((kind, data),) = value.items()
    if kind == "S":
        return len(data.encode("utf-8"))
    if kind == "N":
        return _number_bytes(data)
    if kind == "B":
        return _binary_bytes(data)
    if kind in ("BOOL", "NULL"):
        return 1
    if kind == "SS":
        return sum(len(member.encode("utf-8")) for member in data)
    if kind == "NS":
        return sum(_number_bytes(member) for member in data)
    if kind == "BS":
        return sum(_binary_bytes(member) for member in data)
    if kind == "L":
        return 3 + sum(1 + attribute_value_bytes(element) for element in data)
    if kind == "M":
        return 3 + sum(1 + len(name.encode("utf-8")) + attribute_value_bytes(element)
                       for name, element in data.items())
    return len(str(data).encode("utf-8"))


def item_bytes(attributes: dict[str, Any]) -> int:
    """An item's size as DynamoDB counts it against 400 KB: each attribute's name bytes plus its
    value's size (``attributes`` in either moto's or the request's form)."""
    return sum(len(name.encode("utf-8")) + attribute_value_bytes(value) for name, value in attributes.items())


def _key_of(table: Any, attributes: dict[str, Any]) -> dict[str, Any]:
    key = {table.hash_key_attr: attributes[table.hash_key_attr]}
    if table.range_key_attr is not None:
        key[table.range_key_attr] = attributes[table.range_key_attr]
    return key


def _action_key(table: Any, op_type: str, op: dict[str, Any]) -> dict[str, Any]:
    return _key_of(table, op["Item"] if op_type == "Put" else op["Key"])


class _ItemSnapshot:
    """One item as it was before a write, so the write can be undone: the item itself (None when
    there was none) and whether its partition already had a bucket in moto's nested dict."""

    def __init__(self, backend: Any, table: Any, key: dict[str, Any], deep: bool) -> None:
        import copy

        self.table = table
        self.hash_value, self.range_value = backend.get_keys_value(table, key)
        items = table.items
        if self.range_value is None:
            item = items.get(self.hash_value)
            self.had_bucket = True
        else:
            bucket = items.get(self.hash_value)
            self.had_bucket = bucket is not None
            item = bucket.get(self.range_value) if bucket is not None else None
        # An update changes the stored item in place, so only it needs a copy; a put or delete
        # replaces or drops the object and leaves the original untouched.
        self.item = copy.deepcopy(item) if deep and item is not None else item

    def restore(self) -> None:
        items = self.table.items
        if self.range_value is None:
            if self.item is None:
                items.pop(self.hash_value, None)
            else:
                items[self.hash_value] = self.item
            return
        if self.item is not None:
            items[self.hash_value][self.range_value] = self.item
            return
        bucket = items.get(self.hash_value)
        if bucket is not None:
            bucket.pop(self.range_value, None)
            if not bucket and not self.had_bucket:
                items.pop(self.hash_value, None)


class _TransactionState(threading.local):
    active = False


_TRANSACTION = _TransactionState()


class ValidationError(Exception):  # the class name is the cancellation reason's code
    """Raised by an Update inside a transaction that DynamoDB would cancel with a ``ValidationError``
    reason: moto reports an action's exception under its class name and message."""


class _TableCopiesOff:
    """Stands in for the ``copy`` module inside moto's DynamoDB models while a transaction runs:
    a table "copied" for the rollback is the table itself (the rollback here works per item), any
    other copy is a real one."""

    def __init__(self, real: Any) -> None:
        self._real = real

    def deepcopy(self, value: Any, memo: Any = None) -> Any:
        from moto.dynamodb.models.table import Table

        if isinstance(value, Table):
            return value
        return self._real.deepcopy(value, memo)

    def __getattr__(self, name: str) -> Any:
        return getattr(self._real, name)


def roll_back_transactions_by_item() -> None:
    """Make a failed TransactWriteItems undo only the items it wrote, instead of moto's whole-table
    backups.

    moto 5 deep-copies every table a transaction names before it starts (once per action, in fact),
    and restores the copies on failure. That costs time and memory in proportion to the table, not
    the transaction: with 20,000 items one write took seconds, and the copies stayed alive through
    moto's instance tracker (see ``stop_tracking_model_instances``) until the stack ran out of
    memory. A transaction can only change the items its actions name, so before it runs we keep
    those items (a reference for Put/Delete/ConditionCheck, a copy for Update, which edits in place)
    and on any failure put exactly them back: originals restored, items it created deleted. moto's
    own evaluation (conditions, cancellation reasons in order, validation) is unchanged; it just
    gets the live table as its "backup", so its own restore is a no-op. Requests are serialised by
    ``_DYNAMODB_LOCK``, which also makes swapping the models module's ``copy`` safe.
    """
    import copy

    from moto.dynamodb import models

    if getattr(models.DynamoDBBackend.transact_write_items, "_mindly_by_item", False):
        return
    original = models.DynamoDBBackend.transact_write_items

    def transact_write_items(self: Any, transact_items: list[dict[str, Any]]) -> Any:
        with _DYNAMODB_LOCK:
            _check_transaction(self, transact_items)
            snapshots = []
            for action in transact_items:
                try:
                    ((op_type, op),) = action.items()
                    table = self.tables[op["TableName"]]
                    snapshots.append(_ItemSnapshot(self, table, _action_key(table, op_type, op),
                                                   deep=op_type == "Update"))
                except Exception:  # a malformed action writes nothing; moto reports it
                    continue
            models.copy = _TableCopiesOff(copy)  # type: ignore[assignment]
            _TRANSACTION.active = True
            try:
                return original(self, transact_items)
            except BaseException:
                # Latest first, so if two snapshots name one item the earliest (the state before
                # the transaction) is what stays.
                for snapshot in reversed(snapshots):
                    snapshot.restore()
                raise
            finally:
                _TRANSACTION.active = False
                models.copy = copy  # type: ignore[assignment]

    transact_write_items._mindly_by_item = True  # type: ignore[attr-defined]
    models.DynamoDBBackend.transact_write_items = transact_write_items  # type: ignore[method-assign]


def stop_tracking_model_instances(services: tuple[str, ...] = ("dynamodb", "sqs", "events")) -> None:
    """Stop moto from keeping every model object it ever created, for the services the stack runs.

    moto's ``BaseModel.__new__`` appends each new instance to a class-level list (for its web
    dashboard, which we do not use). For DynamoDB that is every item ever written or read back
    (query results are copies) and every table backup of every transaction, none of which can then
    be freed: the stack grew by megabytes per transactional write. The classes of these services
    get a plain ``__new__``; nothing in moto reads their lists (S3's does, so it is left alone).
    """
    import importlib

    from moto.core.common_models import BaseModel

    for service in services:
        importlib.import_module(f"moto.{service}.models")

    def untracked_new(cls: type, *args: Any, **kwargs: Any) -> Any:
        return object.__new__(cls)

    pending = list(BaseModel.__subclasses__())
    seen: set[type] = set()
    while pending:
        cls = pending.pop()
        if cls in seen:
            continue
        seen.add(cls)
        pending.extend(cls.__subclasses__())
        if cls.__module__.split(".")[1:2] and cls.__module__.split(".")[1] in services:
            if cls.__dict__.get("__new__") is None:
                cls.__new__ = staticmethod(untracked_new)  # type: ignore[assignment]
            cls.instances_tracked = []  # type: ignore[attr-defined]  # drop what was kept so far


def _too_large_message(kind: str) -> str:
    return {"put": "Item size has exceeded the maximum allowed size",
            "update": "Item size to update has exceeded the maximum allowed size"}[kind]


def _check_transaction(backend: Any, transact_items: list[dict[str, Any]]) -> None:
    """What DynamoDB refuses in a TransactWriteItems before running any of it: more than 100
    actions, two actions on one item, a Put item over 400 KB, more than 4 MB in all."""
    from moto.dynamodb.exceptions import (
        ItemSizeTooLarge,
        MockValidationException,
        MultipleTransactionsException,
        TooManyTransactionsException,
    )

    if len(transact_items) > MAX_TRANSACTION_ACTIONS:
        raise TooManyTransactionsException()
    targets: set[tuple[str, str]] = set()
    total = 0
    for action in transact_items:
        if len(action) != 1:
            continue  # moto refuses it with its own message
        ((op_type, op),) = action.items()
        table = backend.tables.get(op.get("TableName")) if isinstance(op, dict) else None
        if table is None:
            continue  # moto answers the missing table
        try:
            key = _action_key(table, op_type, op)
        except (KeyError, TypeError):
            continue  # a malformed key is moto's to report
        target = (op["TableName"], json.dumps(key, sort_keys=True))
        if target in targets:
            raise MultipleTransactionsException()
        targets.add(target)
        if op_type == "Put":
            size = item_bytes(op["Item"])
            if size > MAX_ITEM_BYTES:
                raise ItemSizeTooLarge()
        else:
            # What an Update will weigh depends on the stored item; what it sends does not.
            size = item_bytes(key) + sum(attribute_value_bytes(value)
                                         for value in (op.get("ExpressionAttributeValues") or {}).values())
        total += size
    if total > MAX_TRANSACTION_BYTES:
        raise MockValidationException("Transaction request cannot be larger than 4 MB")


def enforce_dynamodb_limits() -> None:
    """Make moto refuse what DynamoDB refuses, with DynamoDB's error codes and messages.

    moto 5 already refuses more than 100 actions in a transaction, two actions on one item, and
    more than 100 keys in a BatchGetItem, and already cuts BatchGetItem answers at 16 MB (the rest
    as UnprocessedKeys) and Query/Scan pages at about 1 MB (LastEvaluatedKey). What it gets wrong
    or lacks:

    - item size: moto measures its own way (numbers by their text, no list/map overhead) against
      405,000 bytes, and only when a top-level attribute is set, so an update growing a nested list
      or map is never refused, and a refused update is left half-applied (or, on a new key, leaves
      an item behind). Here every value is measured as DynamoDB does (``attribute_value_bytes``,
      which moto's page and batch limits then use too) against 400 KB: PutItem, BatchWriteItem
      and a transaction's Put are refused before anything is written ("Item size has exceeded
      the maximum allowed size"); an UpdateItem whose result is too large is undone and refused
      ("Item size to update has exceeded..."), inside a transaction as a ``ValidationError``
      cancellation reason, as DynamoDB reports it;
    - the 4 MB of a transaction (``_check_transaction``);
    - BatchWriteItem: more than 25 requests, or two requests on one key.
    """
    from moto.dynamodb import models
    from moto.dynamodb.exceptions import ItemSizeTooLarge, ItemSizeToUpdateTooLarge, MockValidationException
    from moto.dynamodb.models import dynamo_type, table
    from moto.dynamodb.responses import DynamoHandler

    if getattr(models.DynamoDBBackend.put_item, "_mindly_limits", False):
        return

    # One measure everywhere: moto's page (1 MB) and BatchGetItem (16 MB) limits use it too.
    dynamo_type.DynamoType.size = attribute_value_bytes  # type: ignore[method-assign,assignment]
    table.RESULT_SIZE_LIMIT = MAX_PAGE_BYTES  # type: ignore[attr-defined]
    # moto's own check (per attribute set, its own measure, 405,000 bytes) is replaced by ours.
    dynamo_type.LimitedSizeDict.__setitem__ = dict.__setitem__  # type: ignore[assignment,method-assign]

    original_put = models.DynamoDBBackend.put_item
    original_update = models.DynamoDBBackend.update_item
    original_batch_write = DynamoHandler.batch_write_item

    def put_item(self: Any, table_name: str, item_attrs: dict[str, Any], *args: Any, **kwargs: Any) -> Any:
        if item_bytes(item_attrs) > MAX_ITEM_BYTES:
            raise ItemSizeTooLarge()
        return original_put(self, table_name, item_attrs, *args, **kwargs)

    def update_item(self: Any, *args: Any, **kwargs: Any) -> Any:
        table_name = args[0] if args else kwargs["table_name"]
        key = args[1] if len(args) > 1 else kwargs["key"]
        try:
            target = self.get_table(table_name)
            snapshot: _ItemSnapshot | None = _ItemSnapshot(self, target, _key_of(target, key), deep=True)
        except Exception:  # a bad key or table: moto's update answers it
            snapshot = None
        try:
            item = original_update(self, *args, **kwargs)
        except BaseException:
            # DynamoDB applies an update entirely or not at all; moto can stop halfway.
            if snapshot is not None:
                snapshot.restore()
            raise
        if item is not None and item.size() > MAX_ITEM_BYTES:
            if snapshot is not None:
                snapshot.restore()
            if _TRANSACTION.active:
                raise ValidationError(_too_large_message("update"))
            raise ItemSizeToUpdateTooLarge()
        return item

    def batch_write_item(handler: Any) -> Any:
        requests = handler.body.get("RequestItems") or {}
        for table_name, table_requests in requests.items():
            if len(table_requests) > MAX_BATCH_WRITE_REQUESTS:
                raise MockValidationException(
                    f"1 validation error detected: Value '{{{table_name}={len(table_requests)} requests}}' at "
                    "'requestItems' failed to satisfy constraint: Map value must satisfy constraint: "
                    f"[Member must have length less than or equal to {MAX_BATCH_WRITE_REQUESTS}, "
                    "Member must have length greater than or equal to 1]")
        if sum(len(table_requests) for table_requests in requests.values()) > MAX_BATCH_WRITE_REQUESTS:
            raise MockValidationException("Too many items requested for the BatchWriteItem call")
        for table_name, table_requests in requests.items():
            target = handler.dynamodb_backend.tables.get(table_name)
            keys: set[str] = set()
            for request in table_requests:
                put = request.get("PutRequest")
                if put is not None and item_bytes(put.get("Item") or {}) > MAX_ITEM_BYTES:
                    raise ItemSizeTooLarge()
                if target is None:
                    continue
                try:
                    key = _key_of(target, put["Item"] if put is not None else request["DeleteRequest"]["Key"])
                except (KeyError, TypeError):
                    continue  # moto reports the malformed request
                marker = json.dumps(key, sort_keys=True)
                if marker in keys:
                    raise MockValidationException("Provided list of item keys contains duplicates")
                keys.add(marker)
        return original_batch_write(handler)

    put_item._mindly_limits = True  # type: ignore[attr-defined]
    models.DynamoDBBackend.put_item = put_item  # type: ignore[method-assign]
    models.DynamoDBBackend.update_item = update_item  # type: ignore[method-assign]
    DynamoHandler.batch_write_item = batch_write_item  # type: ignore[method-assign]


# --- S3: presigned URLs checked as S3 checks them ---------------------------------------------------

_PRESIGNED_ALGORITHM = "AWS4-HMAC-SHA256"


def _uri_encode(text: str) -> str:
    return quote(text, safe="-_.~")


def presigned_signature(method: str, raw_path: str, query: list[tuple[str, str]], headers: dict[str, str],
                        secret_key: str) -> str:
    """The SigV4 signature S3 expects for a presigned request (query-string authentication, as in
    "Authenticating Requests: Using Query Parameters"): the canonical request built from the
    method, the path as sent, every query parameter but ``X-Amz-Signature`` and the values the
    request carries for each header in ``X-Amz-SignedHeaders``, over an unsigned payload.
    ``headers`` are lower-case names."""
    params = dict(query)
    signed = params["X-Amz-SignedHeaders"].split(";")
    canonical_query = "&".join(f"{_uri_encode(k)}={_uri_encode(v)}"
                               for k, v in sorted(query) if k != "X-Amz-Signature")
    canonical_headers = "".join(f"{name}:{' '.join(headers.get(name, '').split())}\n" for name in signed)
    canonical_request = "\n".join([method.upper(), raw_path, canonical_query, canonical_headers,
                                   ";".join(signed), "UNSIGNED-PAYLOAD"])
    _key_id, date, region, service, terminal = params["X-Amz-Credential"].split("/")
    scope = "/".join([date, region, service, terminal])
    string_to_sign = "\n".join([_PRESIGNED_ALGORITHM, params["X-Amz-Date"], scope,
                                hashlib.sha256(canonical_request.encode()).hexdigest()])
    key = f"AWS4{secret_key}".encode()
    for part in (date, region, service, terminal):
        key = hmac.new(key, part.encode(), hashlib.sha256).digest()
    return hmac.new(key, string_to_sign.encode(), hashlib.sha256).hexdigest()


def presigned_refusal(method: str, raw_path: str, query: list[tuple[str, str]], headers: dict[str, str],
                      secret_key: str, now: datetime) -> str | None:
    """Why S3 would refuse this presigned request (``"expired"`` or ``"signature"``), or None when
    it would take it. A request that is not SigV4-presigned is not judged here."""
    params = dict(query)
    if params.get("X-Amz-Algorithm") != _PRESIGNED_ALGORITHM or "X-Amz-Signature" not in params:
        return None
    try:
        signed_at = datetime.strptime(params["X-Amz-Date"], "%Y%m%dT%H%M%SZ").replace(tzinfo=UTC)
        expires_in = int(params["X-Amz-Expires"])
        expected = presigned_signature(method, raw_path, query, headers, secret_key)
    except (KeyError, ValueError):
        return "signature"
    if not hmac.compare_digest(expected, params["X-Amz-Signature"]):
        return "signature"
    if now > signed_at + timedelta(seconds=expires_in):
        return "expired"
    return None


def verify_presigned_s3_requests() -> None:
    """Make moto's S3 refuse presigned requests that S3 refuses: a signature that does not match
    the request as sent (another Content-Type or Content-Length than the URL signed, a changed
    parameter) is 403 SignatureDoesNotMatch, and a URL past its ``X-Amz-Expires`` 403 AccessDenied.

    moto checks neither: its signature check reads only an ``Authorization`` header, and of a
    presigned URL it compares only SigV2-style ``content-type=`` query parameters. The secret is the
    one this process signs with (the local stack's dummy credentials), as S3 knows its keys.
    """
    from moto.core.exceptions import SignatureDoesNotMatchError, _RESTError
    from moto.s3.responses import S3Response

    if getattr(S3Response._key_response, "_mindly_presigned", False):
        return
    original = S3Response._key_response

    class RequestExpired(_RESTError):
        code = 403

        def __init__(self) -> None:
            super().__init__("AccessDenied", "Request has expired")

    def _key_response(self: Any, request: Any, full_url: str) -> Any:
        environ = getattr(request, "environ", {})
        raw = environ.get("RAW_URI") or environ.get("REQUEST_URI") or full_url
        parts = urlsplit(raw)
        query = parse_qsl(parts.query, keep_blank_values=True)
        headers = {name.lower(): value for name, value in request.headers.items()}
        secret = os.environ.get("AWS_SECRET_ACCESS_KEY") or DUMMY_CREDENTIAL
        refusal = presigned_refusal(request.method, parts.path, query, headers, secret, datetime.now(UTC))
        if refusal == "signature":
            raise SignatureDoesNotMatchError()
        if refusal == "expired":
            raise RequestExpired()
        return original(self, request, full_url)

    _key_response._mindly_presigned = True  # type: ignore[attr-defined]
    S3Response._key_response = _key_response  # type: ignore[method-assign]


# --- mail: what moto's SES was given --------------------------------------------------------------------

_URL = re.compile(r"https?://\S+")


@dataclass(frozen=True)
class SentMail:
    """One mail moto's SES accepted (SES v2 simple content and v1 SendEmail alike)."""

    message_id: str
    sender: str
    to: tuple[str, ...]
    subject: str
    body: str

    @property
    def link(self) -> str | None:
        """The first URL of the body (mindly.services.mail puts a mail's link on a line of its own)."""
        found = _URL.search(self.body)
        return found.group(0) if found else None


_MAIL_OBSERVERS: list[Callable[[SentMail], None]] = []


def _as_sent_mail(message: Any) -> SentMail | None:
    if not hasattr(message, "subject"):  # raw and templated messages carry no parsed subject/body
        return None
    to = tuple(address for addresses in (message.destinations or {}).values() for address in addresses)
    return SentMail(message.id, message.source, to, message.subject, message.body)


def observe_sent_mail(callback: Callable[[SentMail], None]) -> None:
    """Call ``callback`` with every mail moto's SES accepts from now on, as it accepts it (in the
    emulator's request thread; an observer that raises is logged and never fails the send)."""
    from moto.ses.models import SESBackend

    _MAIL_OBSERVERS.append(callback)
    if getattr(SESBackend.send_email, "_mindly_observed", False):
        return
    original = SESBackend.send_email

    def send_email(self: Any, *args: Any, **kwargs: Any) -> Any:
        message = original(self, *args, **kwargs)
        mail = _as_sent_mail(message)
        for observer in list(_MAIL_OBSERVERS) if mail is not None else []:
            try:
                observer(mail)  # type: ignore[arg-type]
            except Exception:  # a printer's failure is not the mail's
                import logging

                logging.getLogger(__name__).exception("mail observer failed")
        return message

    send_email._mindly_observed = True  # type: ignore[attr-defined]
    SESBackend.send_email = send_email  # type: ignore[method-assign]


def sent_mail(to: str | None = None) -> list[SentMail]:
    """The mails moto's SES (in this process) holds, oldest first; only those to ``to`` if given."""
    from moto.ses.models import ses_backends

    account = os.environ.get("MOTO_ACCOUNT_ID") or DEFAULT_ACCOUNT_ID
    found = [mail for mail in map(_as_sent_mail, ses_backends[account][_region()].sent_messages) if mail]
    return [mail for mail in found if to is None or to in mail.to]


def start_moto(port: int = 0) -> tuple[ThreadedMotoServer, str]:
    """Start moto's server on 127.0.0.1 in a daemon thread; returns it and its endpoint URL.

    ``port=0`` lets the OS choose a free port while the server binds (no window in which another
    process could take it); the chosen port is read back from the server.
    """
    if port:
        # The server binds in its own thread and start() would wait forever if that failed:
        # check the port here so a clash is an error, not a hang.
        with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as probe:
            try:
                probe.bind(("127.0.0.1", port))
            except OSError as exc:
                raise RuntimeError(f"cannot start moto on 127.0.0.1:{port}: {exc}") from exc
    serialize_dynamodb_requests()
    roll_back_transactions_by_item()
    stop_tracking_model_instances()
    enforce_dynamodb_limits()
    verify_presigned_s3_requests()
    server = ThreadedMotoServer(ip_address="127.0.0.1", port=port, verbose=False)
    server.start()
    _host, bound_port = server.get_host_and_port()
    return server, f"http://127.0.0.1:{bound_port}"


def reset(endpoint_url: str) -> None:
    """Forget every resource and item moto holds (``POST /moto-api/reset``)."""
    request = urllib.request.Request(f"{endpoint_url.rstrip('/')}/moto-api/reset", data=b"", method="POST")
    with urllib.request.urlopen(request, timeout=10) as response:
        response.read()


# --- names and environment ---------------------------------------------------------------------------

def _kebab(logical_id: str, suffix: str) -> str:
    stem = logical_id[: -len(suffix)] if logical_id.endswith(suffix) and logical_id != suffix else logical_id
    return re.sub(r"(?<!^)(?=[A-Z])", "-", stem).lower()


def default_names(prefix: str, template: dict[str, Any] | None = None) -> tuple[dict[str, str], dict[str, str]]:
    """Local resource names: ``({"UsersTable": "<prefix>-users", ...}, {"RoadmapQueue":
    "<prefix>-roadmap", "RoadmapDeadLetterQueue": "<prefix>-roadmap-dead-letter"})``."""
    template = template if template is not None else cfn.load_template()
    tables = {logical_id: f"{prefix}-{_kebab(logical_id, 'Table')}" for logical_id in cfn.table_definitions(template)}
    queues = {}
    for queue in cfn.queue_definitions(template):
        name = f"{prefix}-{_kebab(queue.logical_id, 'Queue')}"
        if queue.attributes.get("FifoQueue") == "true":
            name += ".fifo"
        queues[queue.logical_id] = name
    return tables, queues


def bucket_names(prefix: str, template: dict[str, Any] | None = None) -> dict[str, str]:
    """Local bucket names: ``{"MediaBucket": "<prefix>-media"}`` (S3 names are lower case)."""
    template = template if template is not None else cfn.load_template()
    return {logical_id: f"{prefix}-{_kebab(logical_id, 'Bucket')}".lower()
            for logical_id in cfn.bucket_definitions(template)}


def queue_url(endpoint_url: str, queue_name: str) -> str:
    """The URL moto's server gives a queue of this name (default account unless MOTO_ACCOUNT_ID)."""
    account = os.environ.get("MOTO_ACCOUNT_ID") or DEFAULT_ACCOUNT_ID
    return f"{endpoint_url.rstrip('/')}/{account}/{queue_name}"


def configure_env(endpoint_url: str, prefix: str) -> dict[str, str]:
    """Point this process's AWS clients at ``endpoint_url`` and name the resources after ``prefix``.

    Sets AWS_ENDPOINT_URL_DYNAMODB / _SQS / _EVENTBRIDGE / _S3, AWS_DEFAULT_REGION (unless set),
    dummy credentials (only when none are set) and every table, queue, event-bus and bucket variable
    the template's functions read (USERS_TABLE=<prefix>-users, ..., ROADMAP_QUEUE_URL,
    STREAK_EVENT_BUS, MEDIA_BUCKET). Returns what it set.
    """
    template = cfn.load_template()
    tables, queues = default_names(prefix, template)
    values: dict[str, str] = {
        "AWS_ENDPOINT_URL_DYNAMODB": endpoint_url,
        "AWS_ENDPOINT_URL_SQS": endpoint_url,
        "AWS_ENDPOINT_URL_EVENTBRIDGE": endpoint_url,
        # Presigned URLs name this endpoint, so a client on this machine uploads to the emulator.
        "AWS_ENDPOINT_URL_S3": endpoint_url,
        "AWS_ENDPOINT_URL_SESV2": endpoint_url,
        "AWS_ENDPOINT_URL_SNS": endpoint_url,
    }
    if not os.environ.get("AWS_DEFAULT_REGION"):
        values["AWS_DEFAULT_REGION"] = DEFAULT_REGION
    if not os.environ.get("AWS_ACCESS_KEY_ID"):
        values["AWS_ACCESS_KEY_ID"] = DUMMY_CREDENTIAL
    if not os.environ.get("AWS_SECRET_ACCESS_KEY"):
        values["AWS_SECRET_ACCESS_KEY"] = DUMMY_CREDENTIAL
    for logical_id, variable in cfn.table_env_vars(template).items():
        values[variable] = tables[logical_id]
    for logical_id, variable in cfn.queue_env_vars(template).items():
        values[variable] = queue_url(endpoint_url, queues[logical_id])
    for logical_id, variable in cfn.event_bus_env_vars(template).items():
        values[variable] = event_bus_name(prefix, logical_id)
    buckets = bucket_names(prefix, template)
    for logical_id, variable in cfn.bucket_env_vars(template).items():
        values[variable] = buckets[logical_id]
    values.update(mail_env_vars(template))
    values.update({variable: arn for variable, arn in push_application_arns(prefix).items()})
    os.environ.update(values)
    return values


def mail_identities(template: dict[str, Any] | None = None) -> dict[str, str]:
    """The template's SES identities: logical id -> the domain or address, its parameter's default
    when it is a ``!Ref`` (``{"MailIdentity": "mindly.in"}``)."""
    template = template if template is not None else cfn.load_template()
    parameters = template.get("Parameters") or {}
    found = {}
    for logical_id, resource in (template.get("Resources") or {}).items():
        if resource.get("Type") != "AWS::SES::EmailIdentity":
            continue
        value = (resource.get("Properties") or {}).get("EmailIdentity")
        if isinstance(value, dict) and set(value) == {"Ref"}:
            value = (parameters.get(value["Ref"]) or {}).get("Default")
        if not isinstance(value, str) or not value:
            raise ValueError(f"{logical_id}: EmailIdentity must be a literal or a parameter with a default")
        found[logical_id] = value.lower()
    return found


def mail_env_vars(template: dict[str, Any] | None = None) -> dict[str, str]:
    """The functions' variables naming an identity (``MAIL_FROM: !Sub no-reply@${MailIdentity}``),
    with the local identity filled in: ``{"MAIL_FROM": "no-reply@mindly.in"}``."""
    template = template if template is not None else cfn.load_template()
    identities = mail_identities(template)
    values: dict[str, str] = {}
    for function in cfn.functions(template):
        for name, value in function.environment.items():
            text = value.get("Fn::Sub") if isinstance(value, dict) and set(value) == {"Fn::Sub"} else None
            if not isinstance(text, str):
                continue
            names = re.findall(r"\$\{([^}]+)\}", text)
            if names and all(ref in identities for ref in names):
                values[name] = re.sub(r"\$\{([^}]+)\}", lambda m: identities[m.group(1)], text)
    return values


# Push: the template takes each provider's SNS platform application as a parameter (made outside the
# stack with the provider's credentials); locally there is one of each in moto, with dummy credentials.
PUSH_PLATFORMS = {"FCM_PLATFORM_APPLICATION_ARN": ("GCM", "fcm"), "APNS_PLATFORM_APPLICATION_ARN": ("APNS", "apns")}


def push_application_arns(prefix: str) -> dict[str, str]:
    """The local platform applications' ARNs by the variable naming each (moto's ARNs are
    ``arn:aws:sns:<region>:<account>:app/<platform>/<name>``)."""
    account = os.environ.get("MOTO_ACCOUNT_ID") or DEFAULT_ACCOUNT_ID
    return {variable: f"arn:aws:sns:{_region()}:{account}:app/{platform}/{prefix}-{suffix}"
            for variable, (platform, suffix) in PUSH_PLATFORMS.items()}


def create_push_applications(endpoint_url: str, prefix: str) -> dict[str, str]:
    """Create the FCM and APNs platform applications in moto's SNS (idempotent); returns the
    variable -> ARN map ``configure_env`` predicted."""
    client = _client("sns", endpoint_url)
    made = {}
    existing = {app["PlatformApplicationArn"] for app in client.list_platform_applications()["PlatformApplications"]}
    for variable, (platform, suffix) in PUSH_PLATFORMS.items():
        arn = push_application_arns(prefix)[variable]
        if arn not in existing:
            arn = client.create_platform_application(
                Name=f"{prefix}-{suffix}", Platform=platform,
                Attributes={"PlatformCredential": "local", "PlatformPrincipal": "local"})["PlatformApplicationArn"]
        made[variable] = arn
    return made


_PUSH_OBSERVERS: list[Callable[[str, str], None]] = []


def observe_sent_push(callback: Callable[[str, str], None]) -> None:
    """Call ``callback(endpoint_arn, message)`` with every push moto's SNS delivers to a platform
    endpoint from now on (an observer that raises is logged and never fails the publish)."""
    from moto.sns.models import PlatformEndpoint

    _PUSH_OBSERVERS.append(callback)
    if getattr(PlatformEndpoint.publish, "_mindly_observed", False):
        return
    original = PlatformEndpoint.publish

    def publish(self: Any, message: str) -> str:
        message_id = original(self, message)
        for observer in list(_PUSH_OBSERVERS):
            try:
                observer(self.arn, message)
            except Exception:  # a printer's failure is not the push's
                import logging

                logging.getLogger(__name__).exception("push observer failed")
        return message_id

    publish._mindly_observed = True  # type: ignore[attr-defined]
    PlatformEndpoint.publish = publish  # type: ignore[method-assign]


def event_bus_name(prefix: str, logical_id: str) -> str:
    """The local name of an event bus of the template: ``<prefix>-streak-event``."""
    return f"{prefix}-{_kebab(logical_id, 'Bus')}"


# --- resources ---------------------------------------------------------------------------------------

def create_tables(endpoint_url: str, names: dict[str, str]) -> dict[str, str]:
    """Create the template's tables named in ``names`` (logical id -> table name), TTL included.

    A table that already exists is left as it is. Returns ``names`` restricted to known tables.
    """
    definitions = cfn.table_definitions(cfn.load_template())
    unknown = set(names) - set(definitions)
    if unknown:
        raise ValueError(f"not tables of template.yaml: {sorted(unknown)}")
    client = _client("dynamodb", endpoint_url)
    for logical_id, table_name in names.items():
        definition = definitions[logical_id]
        try:
            client.create_table(TableName=table_name, **definition.create_kwargs)
        except client.exceptions.ResourceInUseException:
            continue  # already there: leave it alone
        client.get_waiter("table_exists").wait(TableName=table_name, WaiterConfig={"Delay": 1})
        if definition.ttl_attribute:
            client.update_time_to_live(
                TableName=table_name,
                TimeToLiveSpecification={"Enabled": True, "AttributeName": definition.ttl_attribute},
            )
    return dict(names)


def create_queues(endpoint_url: str, names: dict[str, str]) -> dict[str, str]:
    """Create the template's queues named in ``names`` (logical id -> queue name), dead-letter
    queues first so the redrive policy can name them. A queue that exists is left as it is.

    Returns logical id -> queue URL.
    """
    definitions = cfn.queue_definitions(cfn.load_template())
    known = {queue.logical_id for queue in definitions}
    unknown = set(names) - known
    if unknown:
        raise ValueError(f"not queues of template.yaml: {sorted(unknown)}")
    client = _client("sqs", endpoint_url)
    urls: dict[str, str] = {}
    for queue in definitions:
        if queue.logical_id not in names:
            continue
        name = names[queue.logical_id]
        try:
            urls[queue.logical_id] = client.get_queue_url(QueueName=name)["QueueUrl"]
            continue  # already there: leave it alone
        except client.exceptions.QueueDoesNotExist:
            pass
        attributes = dict(queue.attributes)
        if queue.dead_letter_target is not None:
            if queue.dead_letter_target not in urls:
                raise ValueError(f"{queue.logical_id} redrives to {queue.dead_letter_target}: name that queue too")
            dlq_arn = client.get_queue_attributes(
                QueueUrl=urls[queue.dead_letter_target], AttributeNames=["QueueArn"]
            )["Attributes"]["QueueArn"]
            attributes["RedrivePolicy"] = json.dumps(
                {"deadLetterTargetArn": dlq_arn, "maxReceiveCount": str(queue.max_receive_count)}
            )
        urls[queue.logical_id] = client.create_queue(QueueName=name, Attributes=attributes)["QueueUrl"]
    return urls


def create_mail_identities(endpoint_url: str) -> dict[str, str]:
    """Create the template's SES identities in moto (``sesv2`` ``CreateEmailIdentity``; idempotent).
    moto takes a created identity as verified, as SES does once its DNS records are published.
    Returns logical id -> identity."""
    client = _client("sesv2", endpoint_url)
    identities = mail_identities()
    existing = {entry["IdentityName"] for entry in client.list_email_identities().get("EmailIdentities", [])}
    for identity in identities.values():
        if identity not in existing:
            client.create_email_identity(EmailIdentity=identity)
    return identities


def create_event_buses(endpoint_url: str, prefix: str) -> dict[str, str]:
    """Create the template's custom event buses (idempotent); returns logical id -> bus name."""
    client = _client("events", endpoint_url)
    names = {}
    for logical_id in cfn.event_buses(cfn.load_template()):
        name = event_bus_name(prefix, logical_id)
        with contextlib.suppress(client.exceptions.ResourceAlreadyExistsException):
            client.create_event_bus(Name=name)
        names[logical_id] = name
    return names


def create_buckets(endpoint_url: str, names: dict[str, str]) -> dict[str, str]:
    """Create the template's buckets named in ``names`` (logical id -> bucket name) with their
    versioning, public access block and default encryption (``cfn.bucket_definitions``). A bucket
    that exists is left as it is. Returns ``names``."""
    definitions = cfn.bucket_definitions(cfn.load_template())
    unknown = set(names) - set(definitions)
    if unknown:
        raise ValueError(f"not buckets of template.yaml: {sorted(unknown)}")
    client = _client("s3", endpoint_url)
    for logical_id, name in names.items():
        definition = definitions[logical_id]
        try:
            client.create_bucket(Bucket=name, CreateBucketConfiguration={"LocationConstraint": _region()})
        except (client.exceptions.BucketAlreadyOwnedByYou, client.exceptions.BucketAlreadyExists):
            continue  # already there: leave it alone
        if definition.versioned:
            client.put_bucket_versioning(Bucket=name, VersioningConfiguration={"Status": "Enabled"})
        if definition.public_access_block:
            client.put_public_access_block(Bucket=name,
                                           PublicAccessBlockConfiguration=definition.public_access_block)
        if definition.encryption:
            client.put_bucket_encryption(Bucket=name, ServerSideEncryptionConfiguration=definition.encryption)
    return dict(names)


# --- all together ------------------------------------------------------------------------------------

@dataclass
class LocalAws:
    """A running moto server holding the template's tables and queues."""

    server: ThreadedMotoServer
    endpoint_url: str
    prefix: str
    table_names: dict[str, str] = field(default_factory=dict)
    queue_urls: dict[str, str] = field(default_factory=dict)
    queue_names: dict[str, str] = field(default_factory=dict)
    event_buses: dict[str, str] = field(default_factory=dict)
    bucket_names: dict[str, str] = field(default_factory=dict)
    mail_identities: dict[str, str] = field(default_factory=dict)
    push_applications: dict[str, str] = field(default_factory=dict)

    def create(self) -> LocalAws:
        """(Re)create every table, queue, event bus, bucket and mail identity that is missing."""
        create_tables(self.endpoint_url, self.table_names)
        self.queue_urls = create_queues(self.endpoint_url, self.queue_names)
        self.event_buses = create_event_buses(self.endpoint_url, self.prefix)
        create_buckets(self.endpoint_url, self.bucket_names)
        self.mail_identities = create_mail_identities(self.endpoint_url)
        self.push_applications = create_push_applications(self.endpoint_url, self.prefix)
        return self

    def reset(self) -> LocalAws:
        """Empty state: drop everything moto holds, then create the tables and queues again."""
        reset(self.endpoint_url)
        return self.create()

    def stop(self) -> None:
        self.server.stop()

    def __enter__(self) -> LocalAws:
        return self

    def __exit__(self, *exc: object) -> None:
        self.stop()


def bootstrap(prefix: str = "mindly-local", port: int = 0) -> LocalAws:
    """Start moto, configure this process's environment for it and create all tables, queues, event
    buses, buckets and mail identities."""
    server, endpoint_url = start_moto(port)
    try:
        configure_env(endpoint_url, prefix)
        tables, queues = default_names(prefix)
        aws = LocalAws(server, endpoint_url, prefix, table_names=tables, queue_names=queues,
                       bucket_names=bucket_names(prefix)).create()
        # The URLs moto actually issued (configure_env predicted them; this makes sure).
        for logical_id, variable in cfn.queue_env_vars(cfn.load_template()).items():
            os.environ[variable] = aws.queue_urls[logical_id]
    except BaseException:
        server.stop()
        raise
    return aws
