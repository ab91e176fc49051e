"""The clock of a scheduled job (EventBridge schedule): the instant the run is for."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any


def scheduled_time(event: dict[str, Any]) -> datetime:
    """The run's clock: the scheduled event's own ``time`` (UTC), so a retried invocation does
    exactly what the first attempt would have; the current time when the event has none, or one
    without a time zone."""
    raw = event.get("time") if isinstance(event, dict) else None
    if isinstance(raw, str):
        try:
            parsed = datetime.fromisoformat(raw.replace("Z", "+00:00"))
        except ValueError:
            parsed = None
        if parsed is not None and parsed.tzinfo is not None:
            return parsed.astimezone(UTC)
    return datetime.now(UTC)
