"""Domain exceptions. Services raise these; mindly.http.errors turns them into the envelope.

Each carries the API error code and HTTP status from API.md, so the mapping lives in one place.
"""

from __future__ import annotations

from typing import Any


class MindlyError(Exception):
    """Base of every error a client may see. ``message`` is safe to show to the client."""

    code = "INTERNAL_ERROR"
    status = 500
    default_message = "Internal server error"

    def __init__(
        self,
        message: str | None = None,
        *,
        field: str | None = None,
        errors: list[dict[str, Any]] | None = None,
        headers: dict[str, str] | None = None,
    ) -> None:
        self.message = message or self.default_message
        self.field = field
        self.extra_errors = errors
        self.headers = headers or {}
        super().__init__(self.message)

    def error_items(self) -> list[dict[str, Any]]:
        """The ``errors`` list of the envelope."""
        if self.extra_errors:
            return self.extra_errors
        return [{"code": self.code, "field": self.field, "message": self.message}]


class ValidationFailed(MindlyError):
    code = "VALIDATION_ERROR"
    status = 422
    default_message = "Validation failed"


class BadRequest(ValidationFailed):
    """Malformed input that never reached validation (bad JSON, bad encoding)."""

    status = 400
    default_message = "Malformed request"


class InsufficientContent(MindlyError):
    """The question bank cannot fill a mock test's pattern; ``errors`` list what is missing."""

    code = "INSUFFICIENT_CONTENT"
    status = 422
    default_message = "The question bank cannot fill this pattern"


class InvalidExamType(MindlyError):
    code = "INVALID_EXAM_TYPE"
    status = 422
    default_message = "Unknown exam type"


class AuthenticationFailed(MindlyError):
    code = "AUTHENTICATION_ERROR"
    status = 401
    default_message = "Authentication required"

    def __init__(self, message: str | None = None, **kwargs: Any) -> None:
        kwargs.setdefault("headers", {"WWW-Authenticate": "Bearer"})
        super().__init__(message, **kwargs)


class Forbidden(MindlyError):
    code = "AUTHORIZATION_ERROR"
    status = 403
    default_message = "You are not allowed to do this"


class NotFound(MindlyError):
    code = "NOT_FOUND"
    status = 404
    default_message = "Not found"


class MethodNotAllowed(MindlyError):
    code = "METHOD_NOT_ALLOWED"
    status = 405
    default_message = "Method not allowed"


class Conflict(MindlyError):
    code = "CONFLICT"
    status = 409
    default_message = "Conflict"


class DeadlinePassed(MindlyError):
    """A mock test's answer saved after its deadline, outside its section's window, or once it is finished."""

    code = "DEADLINE_PASSED"
    status = 409
    default_message = "The test's time is over"


class PayloadTooLarge(MindlyError):
    code = "VALIDATION_ERROR"
    status = 413
    default_message = "Request body too large"


class AccountLocked(MindlyError):
    code = "ACCOUNT_LOCKED"
    status = 423
    default_message = "Too many failed logins; try again later"

    def __init__(self, retry_after_seconds: int, message: str | None = None) -> None:
        super().__init__(message, headers={"Retry-After": str(max(1, retry_after_seconds))})


class RateLimitExceeded(MindlyError):
    code = "RATE_LIMIT_EXCEEDED"
    status = 429
    default_message = "Too many requests"


class FeatureNotConfigured(MindlyError):
    """A feature that exists in the contract but is switched off in this deployment."""

    code = "NOT_IMPLEMENTED"
    status = 501
    default_message = "Not available"


class ServiceUnavailable(MindlyError):
    """A 503: every one says when to try again (``Retry-After``, by default ``retry_after_seconds``),
    so a client backs off instead of hammering a contended or recovering service."""

    code = "SERVICE_UNAVAILABLE"
    status = 503
    default_message = "Service temporarily unavailable"
    retry_after_seconds = 1

    def __init__(self, message: str | None = None, *, field: str | None = None,
                 errors: list[dict[str, Any]] | None = None, headers: dict[str, str] | None = None) -> None:
        super().__init__(message, field=field, errors=errors,
                         headers={"Retry-After": str(self.retry_after_seconds), **(headers or {})})


class StoreBusy(ServiceUnavailable):
    """DynamoDB is throttling, busy or not answering, still after the retries (mindly.store.errors.is_busy)."""

    default_message = "The service is busy; try again shortly"


class CacheError(ServiceUnavailable):
    """Redis could not be reached where the request cannot go on without it."""

    default_message = "A required service is temporarily unavailable"


class GroqRateLimitError(ServiceUnavailable):
    """Every Groq key is cooling down after a 429."""

    code = "RATE_LIMIT_EXCEEDED"
    status = 429
    default_message = "The AI service is busy; try again shortly"

    def __init__(self, retry_after_seconds: int, message: str | None = None) -> None:
        super().__init__(message, headers={"Retry-After": str(max(1, retry_after_seconds))})
