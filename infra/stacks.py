"""Finding the local stacks running from this checkout.

Each ``python -m infra.dev_server`` writes ``.local/stacks/<port>.json`` (``infra.functions.STATE_DIR``)
once it holds its port: its pid, host, port and what a separate process needs to reach its
emulators (no secret). It removes that file when it stops, and only when the file is still its own.
A file whose pid is gone, or whose port no longer answers, is stale (a stack killed with SIGKILL) and
is ignored; the next stack on that port overwrites it.
"""

from __future__ import annotations

import contextlib
import json
import os
import socket
import tempfile
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from infra.functions import STATE_DIR

PORT_ENV = "MINDLY_STACK_PORT"


class NoStack(Exception):
    """No running stack matches, or several do and none was named (the message says which)."""


@dataclass(frozen=True)
class StackState:
    path: Path
    pid: int | None
    host: str
    port: int | None
    api: str
    env: dict[str, str]

    @classmethod
    def read(cls, path: Path) -> StackState | None:
        try:
            data = json.loads(path.read_text())
        except (OSError, ValueError):
            return None
        if not isinstance(data, dict) or not isinstance(data.get("env"), dict):
            return None
        pid, port = data.get("pid"), data.get("port")
        return cls(path, pid if isinstance(pid, int) else None, str(data.get("host") or "127.0.0.1"),
                   port if isinstance(port, int) else None, str(data.get("api", "")), dict(data["env"]))

    def alive(self) -> bool:
        """Its process is running and its port accepts connections."""
        return pid_alive(self.pid) and (self.port is None or port_answers(self.host, self.port))

    def describe(self) -> str:
        return f"port {self.port} (pid {self.pid}, {self.api})"


def state_path(port: int, state_dir: Path = STATE_DIR) -> Path:
    return state_dir / f"{port}.json"


def pid_alive(pid: int | None) -> bool:
    if pid is None or pid <= 0:
        return False
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:  # someone else's process: alive
        return True
    return True


def port_answers(host: str, port: int, timeout: float = 0.5) -> bool:
    connect_to = "127.0.0.1" if host in ("0.0.0.0", "", "::") else host
    try:
        with socket.create_connection((connect_to, port), timeout=timeout):
            return True
    except OSError:
        return False


def write_state(path: Path, data: dict[str, Any]) -> Path:
    """Write ``data`` to ``path`` at once (a reader never sees half a file), readable by the owner only."""
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(prefix=f".{path.name}.", dir=path.parent)  # mode 0600
    try:
        with os.fdopen(fd, "w") as out:
            json.dump(data, out, indent=2)
        os.replace(tmp, path)
    except BaseException:
        with contextlib.suppress(OSError):
            os.unlink(tmp)
        raise
    return path


def remove_own_state(path: Path, pid: int | None = None) -> bool:
    """Remove ``path`` when it is still this process's (another stack may have taken the port and
    the file since); True when removed."""
    state = StackState.read(path)
    if state is None or state.pid != (pid if pid is not None else os.getpid()):
        return False
    path.unlink(missing_ok=True)
    return True


def running_stacks(state_dir: Path = STATE_DIR) -> list[StackState]:
    """The live stacks with a state file in ``state_dir``, by port; stale files are ignored."""
    found = []
    for path in sorted(state_dir.glob("*.json")) if state_dir.is_dir() else []:
        state = StackState.read(path)
        if state is not None and state.alive():
            found.append(state)
    return sorted(found, key=lambda s: s.port or 0)


def find_stack(port: int | None = None, state_file: Path | None = None,
               state_dir: Path = STATE_DIR) -> StackState:
    """The stack to use: the one of ``state_file``, or the one on ``port``, or the only one running.
    NoStack when there is none, or several and none was named."""
    if state_file is not None:
        state = StackState.read(state_file)
        if state is None:
            raise NoStack(f"No running local stack found ({state_file} is missing or unreadable).")
        if state.pid is not None and not state.alive():
            raise NoStack(f"The local stack of {state_file} ({state.describe()}) is not running any more.")
        return state
    running = running_stacks(state_dir)
    listing = "\n".join(f"  {s.describe()}" for s in running)
    if port is not None:
        for state in running:
            if state.port == port:
                return state
        raise NoStack(f"No local stack is running on port {port}."
                      + (f" Running:\n{listing}" if running else " Start one with `bash infra/dev.sh serve "
                                                               f"--port {port}`."))
    if not running:
        raise NoStack(f"No running local stack found (no live state file in {state_dir}): start one with "
                      "`bash infra/dev.sh serve`, or pass --env to use this environment as it is.")
    if len(running) > 1:
        raise NoStack(f"Several local stacks are running; name one with --port N (or {PORT_ENV}=N):\n{listing}")
    return running[0]
