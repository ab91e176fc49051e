"""Streak-reminder job (EventBridge schedule, every 15 minutes): reminds each student whose reminder
time has come, by inbox, mail and push (mindly.services.reminders)."""

from __future__ import annotations

from typing import Any

from mindly.observability import lambda_entry
from mindly.services import reminders
from mindly.services.schedule import scheduled_time


@lambda_entry
def handler(event: dict[str, Any], context: Any, channels: reminders.Channels | None = None) -> dict[str, Any]:
    """Run the job once. ``channels`` replaces mail and push (tests, the bench)."""
    report = reminders.run(scheduled_time(event), channels if channels is not None else reminders.default_channels())
    return report.as_dict()
