"""Mock-test sweep (EventBridge schedule, every five minutes): finishes the tests whose deadline
passed without a submit, with the answers saved (mindly.services.mock_finish.sweep). A redelivered
or overlapping run finds the same tests and finishes each once: finishing is idempotent."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

from mindly.observability import lambda_entry
from mindly.services import mock_finish


@lambda_entry
def handler(event: dict[str, Any], context: Any) -> dict[str, int]:
    """Run one sweep. The clock is the current time, not the event's: a late or repeated delivery
    should finish what has expired by now."""
    return mock_finish.sweep(datetime.now(UTC))
