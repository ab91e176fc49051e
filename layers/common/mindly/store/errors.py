"""What the store tells its callers, in the store's own words (services translate them)."""


class AlreadyExists(Exception):
    """A conditional create found the item there already."""


class StaleWrite(Exception):
    """A conditional update found the item changed since it was read."""


class OutcomeUnknown(Exception):
    """A write whose answer never came (a timeout or a dropped connection): it may or may not have
    been applied. Callers whose writes are idempotent read again and find out."""


def response_code(exc: Exception) -> str | None:
    """The DynamoDB error code behind a pynamodb exception, or None when there was no answer at all
    (pynamodb's own ``cause_response_code`` fails on a timeout, whose cause has no response)."""
    cause = getattr(exc, "cause", None)
    response = getattr(cause, "response", None) or {}
    return response.get("Error", {}).get("Code") if isinstance(response, dict) else None
