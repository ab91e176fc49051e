"""What the store tells its callers, in the store's own words (services translate them)."""

from __future__ import annotations

from typing import Any

from botocore.exceptions import BotoCoreError, ClientError, HTTPClientError
from botocore.exceptions import ConnectionError as NoConnection
from pynamodb.exceptions import PynamoDBConnectionError, TableError, TransactGetError, TransactWriteError

# DynamoDB (or the AWS API in front of it) could not serve the request now, and the same request may
# well succeed shortly. botocore's standard retry mode has already retried the throttling ones with
# exponential backoff (pynamodb's ``max_retry_attempts``) before one of these reaches us.
BUSY_CODES = frozenset({
    "ProvisionedThroughputExceededException",
    "ThrottlingException",
    "Throttling",
    "RequestLimitExceeded",
    "TransactionInProgressException",
    "TransactionConflictException",
    "ReplicatedWriteConflictException",
    "InternalServerError",
    "InternalFailure",
    "ServiceUnavailable",
    "ServiceUnavailableException",
})
# Reasons a transaction was cancelled that say "not now" rather than "not so".
BUSY_CANCELLATION_REASONS = frozenset({"TransactionConflict", "ProvisionedThroughputExceeded", "ThrottlingError"})

# No answer came: connection refused or dropped, connect or read timeout.
_NO_ANSWER = (NoConnection, HTTPClientError)

# What the store raises when DynamoDB fails: pynamodb's own errors, and botocore's when a call goes
# through ``Connection.dispatch`` directly (mindly.store.models.batch_read).
STORE_FAILURES: tuple[type[Exception], ...] = (PynamoDBConnectionError, TransactWriteError, TransactGetError,
                                               ClientError, BotoCoreError)


class AlreadyExists(Exception):
    """A conditional create found the item there already."""


class StaleWrite(Exception):
    """A conditional update found the item changed since it was read."""


class OutcomeUnknown(Exception):
    """A write whose answer never came (a timeout or a dropped connection): it may or may not have
    been applied. Callers whose writes are idempotent read again and find out."""


def _response(exc: Exception) -> dict[str, Any]:
    """The parsed DynamoDB answer behind ``exc``: its own (botocore) or its cause's (pynamodb)."""
    for candidate in (exc, getattr(exc, "cause", None)):
        response = getattr(candidate, "response", None)
        if isinstance(response, dict):
            return response
    return {}


def response_code(exc: Exception) -> str | None:
    """The DynamoDB error code behind a pynamodb (or botocore) exception, or None when there was no
    answer at all (pynamodb's own ``cause_response_code`` fails on a timeout, whose cause has no
    response)."""
    code = _response(exc).get("Error", {}).get("Code")
    return str(code) if code else None


def cancellation_codes(exc: Exception) -> list[str | None]:
    """The per-item reasons of a cancelled transaction, in the order DynamoDB gives them."""
    reasons = getattr(exc, "cancellation_reasons", None)
    if reasons is not None:
        return [reason.code if reason is not None else None for reason in reasons]
    return [None if reason.get("Code") in (None, "None") else reason.get("Code")
            for reason in _response(exc).get("CancellationReasons", [])]


def is_busy(exc: Exception) -> bool:
    """Whether a store failure means "DynamoDB cannot serve this now; the same request may succeed
    shortly": throttled or busy after botocore's own retries, a transaction that lost to another
    one, or no answer at all (a timeout, a dropped connection). A failed condition, a malformed
    request or a missing table is not busy: it is a fault of ours."""
    if not isinstance(exc, STORE_FAILURES) or isinstance(exc, TableError):
        return False
    if isinstance(exc, BotoCoreError):
        return isinstance(exc, _NO_ANSWER)  # not a configuration error (credentials, parameters)
    code = response_code(exc)
    if code is None:
        # A pynamodb error without a DynamoDB answer: the connection failed, or pynamodb gave up on
        # items DynamoDB kept leaving unprocessed (throttling).
        cause = getattr(exc, "cause", None)
        return cause is None or isinstance(cause, _NO_ANSWER)
    if code in BUSY_CODES:
        return True
    if code == "TransactionCanceledException":
        reasons = {reason for reason in cancellation_codes(exc) if reason is not None}
        return bool(reasons) and reasons <= BUSY_CANCELLATION_REASONS
    return False
