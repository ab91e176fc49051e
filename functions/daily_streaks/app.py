"""Daily-streak job (EventBridge schedule, hourly): settles broken and frozen streaks, publishes
the notifications and closes finished leaderboard weeks (mindly.services.daily_streaks)."""

from __future__ import annotations

from typing import Any

from mindly.config import get_settings
from mindly.observability import lambda_entry, logger
from mindly.services import daily_streaks
from mindly.services.schedule import scheduled_time


def _default_publisher() -> daily_streaks.Publisher | None:
    settings = get_settings()
    if not settings.streak_event_bus:
        logger.warning("STREAK_EVENT_BUS not set: streak events are not published")
        return None
    return daily_streaks.eventbridge_publisher(settings.streak_event_bus, settings.aws_region,
                                               settings.events_endpoint_url)


@lambda_entry
def handler(event: dict[str, Any], context: Any, publish: daily_streaks.Publisher | None = None) -> dict[str, Any]:
    """Run the job once. ``publish`` replaces the EventBridge publisher (tests, the local CLI)."""
    settings = get_settings()
    report = daily_streaks.run(scheduled_time(event), settings.default_timezone, settings.leaderboard_timezone,
                               publish if publish is not None else _default_publisher())
    return report.as_dict()
