"""Operator commands for Mindly: ``bash infra/dev.sh cli COMMAND`` (or ``python -m infra.cli``).

    seed-badges                 store the bundled badge catalog (idempotent)
    daily-streaks [--at TIME]   run the daily-streak job once, as its hourly schedule does
    reminders [--at TIME]       run the streak-reminder job once, as its 15-minute schedule does
    mock-sweep                  finish the mock tests past their deadline, as the 5-minute sweep does
    import questions FILE       import questions (JSON array, JSON Lines, CSV, or --format aqua|upsc|jeebench)
    import flashcards FILE      import flashcards (JSON array, JSON Lines, CSV)
    create-admin EMAIL          make an account an administrator (creating it when absent; the
                                password comes from MINDLY_ADMIN_PASSWORD or a prompt)

By default a command runs against the local stack that ``bash infra/dev.sh serve`` started: each
stack writes ``.local/stacks/<port>.json`` (``infra.stacks``). With one stack running it uses that
one; with several, name one with ``--port N`` (or MINDLY_STACK_PORT=N). With ``--env`` it uses this
process's environment as it is (for a deployed environment: table names, region and credentials,
SSM_PREFIX).
"""

from __future__ import annotations

import argparse
import contextlib
import getpass
import json
import os
import sys
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from infra import stacks
from infra.functions import STATE_DIR, load_function, use_layer


def _use_local_stack(port: int | None, state_file: Path | None, state_dir: Path) -> stacks.StackState:
    try:
        state = stacks.find_stack(port, state_file, state_dir)
    except stacks.NoStack as exc:
        raise SystemExit(str(exc)) from exc
    os.environ.update(state.env)
    # moto accepts any credentials; never send real ones to the local emulator.
    os.environ["AWS_ACCESS_KEY_ID"] = os.environ["AWS_SECRET_ACCESS_KEY"] = "testing"
    os.environ.pop("AWS_SESSION_TOKEN", None)
    os.environ.pop("SSM_PREFIX", None)
    return state


def _port(text: str) -> int:
    try:
        port = int(text)
    except ValueError:
        port = -1
    if not 0 < port < 65536:
        raise argparse.ArgumentTypeError(f"not a port: {text!r}")
    return port


def scheduled_event(at: datetime, rule: str = "daily-streaks") -> dict[str, Any]:
    """The event EventBridge sends a scheduled function (the shape of `sam local generate-event
    events scheduled-event`), for the instant ``at``, from the schedule ``rule``."""
    return {
        "version": "0", "id": f"local-{int(at.timestamp())}", "detail-type": "Scheduled Event",
        "source": "aws.events", "account": "123456789012", "time": at.strftime("%Y-%m-%dT%H:%M:%SZ"),
        "region": os.environ.get("AWS_REGION") or os.environ.get("AWS_DEFAULT_REGION") or "ap-south-1",
        "resources": [f"arn:aws:events:ap-south-1:123456789012:rule/mindly-local-{rule}"], "detail": {},
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
    return run_scheduled("daily_streaks", at)


def run_scheduled(folder: str, at: datetime | None) -> dict[str, Any]:
    """Run a scheduled function's handler once, with the event its schedule would send at ``at``."""
    module = load_function(f"functions/{folder}")
    return dict(module.handler(scheduled_event(at or datetime.now(UTC), folder.replace("_", "-")), _Context()))


def seed_badges() -> dict[str, int]:
    use_layer()
    from infra.seed import seed_badges as seed

    return seed()


class ProgressBar:
    """A one-line progress bar on stderr, redrawn at most every 1% (for large imports)."""

    def __init__(self, label: str, stream: Any = None) -> None:
        self.label, self.stream, self.shown = label, stream or sys.stderr, -1

    def __call__(self, done: int, total: int) -> None:
        percent = 100 * done // total if total else 100
        if percent == self.shown and done != total:
            return
        self.shown = percent
        filled = percent * 30 // 100
        self.stream.write(f"\r{self.label} [{'#' * filled}{'.' * (30 - filled)}] {done}/{total} ({percent}%)")
        if done == total:
            self.stream.write("\n")
        self.stream.flush()


def import_file(kind: str, path: Path, fmt: str | None) -> dict[str, Any]:
    use_layer()
    from mindly.domain import content_formats
    from mindly.services import content

    try:
        text = path.read_text(encoding="utf-8")
        chosen = fmt or content_formats.guess_format(path.name)
        records = content_formats.read_records(text, chosen, kind)
    except (OSError, UnicodeDecodeError, content_formats.FormatError) as exc:
        raise SystemExit(f"cannot import {path}: {exc}") from exc
    report = content.import_records(kind, records, ProgressBar(f"{kind}s {path.name}"))
    return {"file": str(path), "format": chosen, "records": len(records), **report}


def create_admin(email: str, name: str) -> dict[str, Any]:
    """Make ``email`` an administrator, creating the account (with no session) when it is absent.

    No token is issued: an operator needs none, and the local stack's JWT signing key is random per
    start and never leaves its process (the state file holds no secret), so this must not need it."""
    use_layer()
    from mindly.config import get_settings
    from mindly.exceptions import Conflict, ValidationFailed
    from mindly.services import auth
    from mindly.store import users

    try:
        normalized = auth.normalize_email(email)
    except ValidationFailed as exc:
        raise SystemExit(f"create-admin: {exc}") from exc
    user_id = users.find_user_id_by_email(normalized)
    created = False
    if user_id is None:
        password = os.environ.get("MINDLY_ADMIN_PASSWORD") or getpass.getpass(f"password for {normalized}: ")
        try:
            user_id = auth.create_account(get_settings(), normalized, password, name, "admin")
            created = True
        except ValidationFailed as exc:
            raise SystemExit(f"create-admin: {exc}") from exc
        except Conflict:  # made by someone else meanwhile
            user_id = users.find_user_id_by_email(normalized)
    account = users.get_user(str(user_id))
    if account is None:
        raise SystemExit(f"no account for {normalized}")
    if account.role != "admin":
        users.set_role(account, "admin")
    return {"email": normalized, "user_id": account.user_id, "created": created, "role": "admin"}


def _instant(text: str) -> datetime:
    parsed = datetime.fromisoformat(text.replace("Z", "+00:00"))
    if parsed.tzinfo is None:
        raise argparse.ArgumentTypeError("give a time zone, e.g. 2026-11-24T00:05:00Z")
    return parsed.astimezone(UTC)


def _run_command(args: argparse.Namespace) -> dict[str, Any]:
    if args.command == "seed-badges":
        return seed_badges()
    if args.command == "daily-streaks":
        return run_daily_streaks(args.at)
    if args.command == "reminders":
        return run_scheduled("reminders", args.at)
    if args.command == "mock-sweep":
        return run_scheduled("mock_sweep", None)
    if args.command == "import":
        return import_file(args.kind[:-1], args.file, args.format)
    return create_admin(args.email, args.name)


def _stack_options(parser: argparse.ArgumentParser, defaults: bool) -> None:
    """Options choosing the stack, accepted before or after the command (``cli --port 8001 seed-badges``
    or ``cli seed-badges --port 8001``)."""
    def default(value: Any) -> Any:
        return value if defaults else argparse.SUPPRESS

    parser.add_argument("--env", action="store_true", default=default(False),
                        help="use this environment instead of a local stack")
    parser.add_argument("--port", type=_port, default=default(None),
                        help=f"the local stack on this port (default ${stacks.PORT_ENV}, else the only one running)")
    parser.add_argument("--state-file", type=Path, default=default(None),
                        help="the running local stack's state file (instead of finding it by port)")
    parser.add_argument("--state-dir", type=Path, default=default(STATE_DIR),
                        help="where the running stacks' state files are (default .local/stacks)")


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="infra.cli", description="Mindly operator commands.")
    _stack_options(parser, defaults=True)
    commands = parser.add_subparsers(dest="command", required=True)
    options = argparse.ArgumentParser(add_help=False)
    _stack_options(options, defaults=False)
    commands.add_parser("seed-badges", parents=[options], help="store the bundled badge catalog (idempotent)")
    daily = commands.add_parser("daily-streaks", parents=[options], help="run the daily-streak job once")
    daily.add_argument("--at", type=_instant, default=None,
                       help="the run's time (ISO 8601 with zone); default now")
    reminders = commands.add_parser("reminders", parents=[options], help="run the streak-reminder job once")
    reminders.add_argument("--at", type=_instant, default=None,
                           help="the run's time (ISO 8601 with zone); default now")
    commands.add_parser("mock-sweep", parents=[options], help="finish the mock tests past their deadline")
    importer = commands.add_parser("import", parents=[options], help="import questions or flashcards from a file")
    importer.add_argument("kind", choices=["questions", "flashcards"])
    importer.add_argument("file", type=Path)
    importer.add_argument("--format", choices=["json", "jsonl", "csv", "aqua", "upsc", "jeebench"], default=None,
                          help="default: from the file name (.json, .jsonl, .csv); aqua: AQuA-RAT lines "
                               "as CAT Quantitative Aptitude questions; upsc: the UPSC Prelims past-papers CSV "
                               "(GS Paper I and CSAT); jeebench: JEEBench's JSON array of JEE Advanced problems")
    admin = commands.add_parser("create-admin", parents=[options], help="make an account an administrator")
    admin.add_argument("email")
    admin.add_argument("--name", default="Mindly Admin", help="name of a new account")
    args = parser.parse_args(argv)
    if not args.env:
        port = args.port
        if port is None and os.environ.get(stacks.PORT_ENV):
            try:
                port = _port(os.environ[stacks.PORT_ENV])
            except argparse.ArgumentTypeError as exc:
                parser.error(f"{stacks.PORT_ENV}: {exc}")
        _use_local_stack(port, args.state_file, args.state_dir)
    # The functions log JSON lines to stdout, as Lambda wants; here stdout is for the result alone.
    with contextlib.redirect_stdout(sys.stderr):
        result = _run_command(args)
    json.dump(result, sys.stdout, indent=2)
    print()
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
