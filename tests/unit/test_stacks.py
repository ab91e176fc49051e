"""Finding a local stack among several (infra.stacks): one state file per port, stale ones ignored."""

from __future__ import annotations

import json
import socket
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest

from infra import stacks


@pytest.fixture
def listening() -> Iterator[list[int]]:
    """Ports something listens on right now (stand-ins for running stacks)."""
    sockets: list[socket.socket] = []
    ports: list[int] = []

    def more(count: int) -> list[int]:
        for _ in range(count):
            sock = socket.socket()
            sock.bind(("127.0.0.1", 0))
            sock.listen()
            sockets.append(sock)
            ports.append(sock.getsockname()[1])
        return ports

    more(3)
    yield ports
    for sock in sockets:
        sock.close()


def _dead_pid() -> int:
    done = subprocess.Popen([sys.executable, "-c", "pass"])
    done.wait()
    return done.pid


def _write(state_dir: Path, port: int, pid: int) -> Path:
    return stacks.write_state(stacks.state_path(port, state_dir), {
        "pid": pid, "host": "127.0.0.1", "port": port, "api": f"http://127.0.0.1:{port}/api/v1",
        "env": {"AWS_ENDPOINT_URL_DYNAMODB": f"http://127.0.0.1:{port + 1}"}})


def test_the_only_running_stack_is_used_and_stale_files_are_ignored(tmp_path: Path, listening: list[int]) -> None:
    import os

    live, dead_port, _ = listening
    _write(tmp_path, live, os.getpid())
    _write(tmp_path, dead_port, _dead_pid())  # a stack killed with SIGKILL left its file
    (tmp_path / "junk.json").write_text("{not json")
    assert [s.port for s in stacks.running_stacks(tmp_path)] == [live]
    assert stacks.find_stack(state_dir=tmp_path).port == live
    with pytest.raises(stacks.NoStack, match=f"No local stack is running on port {dead_port}"):
        stacks.find_stack(port=dead_port, state_dir=tmp_path)


def test_several_running_stacks_need_a_port(tmp_path: Path, listening: list[int]) -> None:
    import os

    first, second, _ = listening
    _write(tmp_path, first, os.getpid())
    _write(tmp_path, second, os.getpid())
    with pytest.raises(stacks.NoStack) as refused:
        stacks.find_stack(state_dir=tmp_path)
    message = str(refused.value)
    assert "Several local stacks are running" in message and "--port N" in message
    assert f"port {first} " in message and f"port {second} " in message
    assert stacks.find_stack(port=second, state_dir=tmp_path).env == {
        "AWS_ENDPOINT_URL_DYNAMODB": f"http://127.0.0.1:{second + 1}"}


def test_a_file_whose_port_does_not_answer_is_stale(tmp_path: Path) -> None:
    import os

    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        closed = sock.getsockname()[1]
    _write(tmp_path, closed, os.getpid())  # our pid is alive, but nothing listens there (pid reused)
    with pytest.raises(stacks.NoStack, match="No running local stack found"):
        stacks.find_stack(state_dir=tmp_path)


def test_a_stack_removes_only_its_own_file(tmp_path: Path) -> None:
    path = _write(tmp_path, 8000, 4242)
    assert stacks.remove_own_state(path, pid=4343) is False and path.exists()
    assert stacks.remove_own_state(path, pid=4242) is True and not path.exists()
    assert oct(_write(tmp_path, 8000, 1).stat().st_mode & 0o777) == "0o600"
    assert json.loads(path.read_text())["pid"] == 1
