"""Operator commands for Mindly: ``bash infra/dev.sh cli COMMAND`` (or ``python -m infra.cli``).

    seed-badges                 store the bundled badge catalog (idempotent)
    daily-streaks [--at TIME]   run the daily-streak job once, as its hourly schedule does

By default a command runs against the local stack that ``bash infra/dev.sh serve`` started (it
finds it through ``.local/stack.json``). With ``--env`` it uses this process's environment as it is
(for a deployed environment: table names, region and credentials, SSM_PREFIX).
"""

from __future__ import annotations

import argparse
import contextlib
import json
import os
import sys
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from infra.functions import STATE_FILE, load_function, use_layer


def _use_local_stack(state_file: Path) -> None:
    if not state_file.exists():
        raise SystemExit("No running local stack found (.local/stack.json): start one with "
                         "`bash infra/dev.sh serve`, or pass --env to use this environment as it is.")
    state = json.loads(state_file.read_text())
    os.environ.update(state["env"])
    # moto accepts any credentials; never send real ones to the local emulator.
    os.environ["AWS_ACCESS_KEY_ID"] = os.environ["AWS_SECRET_ACCESS_KEY"] = "testing"
    os.environ.pop("AWS_SESSION_TOKEN", None)
    os.environ.pop("SSM_PREFIX", None)


def scheduled_event(at: datetime) -> dict[str, Any]:
    """The event EventBridge sends a scheduled function (the shape of `sam local generate-event
    events scheduled-event`), for the instant ``at``."""
    return {
        "version": "0", "id": f"local-{int(at.timestamp())}", "detail-type": "Scheduled Event",
        "source": "aws.events", "account": "123456789012", "time": at.strftime("%Y-%m-%dT%H:%M:%SZ"),
        "region": os.environ.get("AWS_REGION") or os.environ.get("AWS_DEFAULT_REGION") or "ap-south-1",
        "resources": ["arn:aws:events:ap-south-1:123456789012:rule/mindly-local-daily-streaks"], "detail": {},
    }


class _Context:
    function_name = "daily-streaks-local"
    function_version = "$LATEST"
    memory_limit_in_mb = 1024
    invoked_function_arn = "arn:aws:lambda:local:000000000000:function:daily-streaks-local"
    aws_request_id = "local-cli"

    @staticmethod
    def get_remaining_time_in_millis() -> int:
        return 300_000


def run_daily_streaks(at: datetime | None) -> dict[str, Any]:
    module = load_function("functions/daily_streaks")
    return dict(module.handler(scheduled_event(at or datetime.now(UTC)), _Context()))


def seed_badges() -> dict[str, int]:
    use_layer()
    from infra.seed import seed_badges as seed

    return seed()


def _instant(text: str) -> datetime:
    parsed = datetime.fromisoformat(text.replace("Z", "+00:00"))
    if parsed.tzinfo is None:
        raise argparse.ArgumentTypeError("give a time zone, e.g. 2026-11-24T00:05:00Z")
    return parsed.astimezone(UTC)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="infra.cli", description="Mindly operator commands.")
    parser.add_argument("--env", action="store_true", help="use this environment instead of the local stack")
    parser.add_argument("--state-file", type=Path, default=STATE_FILE,
                        help="the running local stack's state file (default .local/stack.json)")
    commands = parser.add_subparsers(dest="command", required=True)
    commands.add_parser("seed-badges", help="store the bundled badge catalog (idempotent)")
    daily = commands.add_parser("daily-streaks", help="run the daily-streak job once")
    daily.add_argument("--at", type=_instant, default=None,
                       help="the run's time (ISO 8601 with zone); default now")
    args = parser.parse_args(argv)
    if not args.env:
        _use_local_stack(args.state_file)
    # The functions log JSON lines to stdout, as Lambda wants; here stdout is for the result alone.
    with contextlib.redirect_stdout(sys.stderr):
        result = seed_badges() if args.command == "seed-badges" else run_daily_streaks(args.at)
    json.dump(result, sys.stdout, indent=2)
    print()
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
