"""Several local stacks from one checkout: each writes its own ``<port>.json`` (with its pid) and
removes only that; the CLI reaches the one named by --port or MINDLY_STACK_PORT, the only one running
when none is named, and refuses (listing them) when several run. create-admin works against a stack
with no JWT secret in the CLI's environment, as from a second terminal."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest
from support import free_port

REPO = Path(__file__).resolve().parents[2]
pytestmark = pytest.mark.e2e
DROPPED = ("UPSTASH_", "AWS_ENDPOINT_URL", "USER_RATE", "LOGIN_RATE", "REGISTER_RATE", "REFRESH_RATE",
           "MINDLY_STACK_PORT")


def _env(**extra: str) -> dict[str, str]:
    """A second terminal's environment: no emulator endpoints, no JWT secret."""
    env = {k: v for k, v in os.environ.items()
           if not k.startswith(DROPPED) and k not in ("JWT_SECRET", "ENVIRONMENT", "CORS_ORIGINS")}
    env.update({"BCRYPT_ROUNDS": "4", "PYTHONUNBUFFERED": "1", **extra})
    return env


class Stack:
    def __init__(self, state_dir: Path, log: Path) -> None:
        self.port = free_port()
        self.log = log
        self.process = subprocess.Popen(
            [sys.executable, "-m", "infra.dev_server", "--port", str(self.port), "--no-seed",
             "--state-dir", str(state_dir)], cwd=REPO, env=_env(), stdout=subprocess.DEVNULL,
            stderr=log.open("w"), text=True)
        self.state_file = state_dir / f"{self.port}.json"
        self.base = f"http://127.0.0.1:{self.port}/api/v1"

    def wait_healthy(self) -> None:
        deadline = time.monotonic() + 120
        while time.monotonic() < deadline:
            if self.process.poll() is not None:
                pytest.fail(f"dev server exited: {self.log.read_text()[-3000:]}")
            try:
                if httpx.get(f"{self.base}/health", timeout=1).status_code == 200 and self.state_file.exists():
                    return
            except httpx.TransportError:
                pass
            time.sleep(0.2)
        pytest.fail("dev server did not become healthy in 120 s")

    def stop(self) -> None:
        if self.process.poll() is None:
            self.process.terminate()
            try:
                self.process.wait(timeout=20)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait(timeout=10)


@pytest.fixture(scope="module")
def state_dir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return tmp_path_factory.mktemp("stacks")


@pytest.fixture(scope="module")
def two_stacks(state_dir: Path, tmp_path_factory: pytest.TempPathFactory) -> Iterator[list[Stack]]:
    logs = tmp_path_factory.mktemp("stack-logs")
    started = [Stack(state_dir, logs / "a.err"), Stack(state_dir, logs / "b.err")]
    try:
        for stack in started:
            stack.wait_healthy()
        yield started
    finally:
        for stack in started:
            stack.stop()


def cli(state_dir: Path, *args: str, **env: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run([sys.executable, "-m", "infra.cli", "--state-dir", str(state_dir), *args], cwd=REPO,
                          env=_env(**env), capture_output=True, text=True, timeout=120, check=False)


def _login(stack: Stack, email: str, password: str) -> int:
    return httpx.post(f"{stack.base}/auth/login", json={"email": email, "password": password}, timeout=30).status_code


def test_each_stack_writes_its_own_state_file(two_stacks: list[Stack], state_dir: Path) -> None:
    for stack in two_stacks:
        state = json.loads(stack.state_file.read_text())
        assert (state["pid"], state["port"]) == (stack.process.pid, stack.port)
        assert state["api"] == stack.base
        assert not any("SECRET" in name or "TOKEN" in name for name in state["env"])
        assert oct(stack.state_file.stat().st_mode & 0o777) == "0o600"


def test_the_cli_refuses_to_guess_among_several_stacks(two_stacks: list[Stack], state_dir: Path) -> None:
    done = cli(state_dir, "seed-badges")
    assert done.returncode != 0
    assert "Several local stacks are running" in done.stderr and "--port N" in done.stderr
    for stack in two_stacks:
        assert f"port {stack.port} (pid {stack.process.pid}" in done.stderr


def test_the_cli_reaches_the_stack_it_names(two_stacks: list[Stack], state_dir: Path) -> None:
    first, second = two_stacks
    # When an admin is made on the second stack (by MINDLY_STACK_PORT), with no JWT secret anywhere
    email = f"ops.{time.time_ns()}@mindly.local"
    made = cli(state_dir, "create-admin", email, MINDLY_STACK_PORT=str(second.port),
               MINDLY_ADMIN_PASSWORD="Admin-password-1")
    assert made.returncode == 0, made.stderr[-2000:]
    assert json.loads(made.stdout)["created"] is True
    # Then that stack knows the account, and the first does not
    assert _login(second, email, "Admin-password-1") == 200
    assert _login(first, email, "Admin-password-1") == 401
    # And --port (before or after the command) picks the first one
    assert cli(state_dir, "--port", str(first.port), "seed-badges").returncode == 0
    again = cli(state_dir, "create-admin", email, "--port", str(first.port), MINDLY_ADMIN_PASSWORD="Admin-password-1")
    assert again.returncode == 0, again.stderr[-2000:]
    assert _login(first, email, "Admin-password-1") == 200
    # And a port no stack runs on is refused, listing the running ones
    missing = cli(state_dir, "--port", str(free_port()), "seed-badges")
    assert missing.returncode != 0 and "No local stack is running on port" in missing.stderr
    assert f"port {first.port} " in missing.stderr


def test_a_second_stack_on_a_taken_port_leaves_the_first_alone(two_stacks: list[Stack], state_dir: Path,
                                                               tmp_path: Path) -> None:
    first = two_stacks[0]
    before = first.state_file.read_text()
    clash = subprocess.run([sys.executable, "-m", "infra.dev_server", "--port", str(first.port), "--no-seed",
                            "--state-dir", str(state_dir)], cwd=REPO, env=_env(), capture_output=True, text=True,
                           timeout=120, check=False)
    assert clash.returncode != 0 and f"cannot listen on 127.0.0.1:{first.port}" in clash.stderr
    assert first.state_file.read_text() == before


def test_stale_files_are_ignored_and_a_stopped_stack_removes_only_its_own(
        two_stacks: list[Stack], state_dir: Path) -> None:
    first, second = two_stacks
    # Given a file left by a stack that was killed (its pid is gone)
    gone = subprocess.Popen([sys.executable, "-c", "pass"])
    gone.wait()
    stale: dict[str, Any] = json.loads(first.state_file.read_text()) | {"pid": gone.pid, "port": free_port()}
    (state_dir / f"{stale['port']}.json").write_text(json.dumps(stale))
    # When the second stack stops
    second.stop()
    # Then its file is gone and the first one's is not
    assert not second.state_file.exists() and first.state_file.exists()
    # And with one live stack (and a stale file) the CLI uses that one without being told
    email = f"solo.{time.time_ns()}@mindly.local"
    done = cli(state_dir, "create-admin", email, MINDLY_ADMIN_PASSWORD="Admin-password-1")
    assert done.returncode == 0, done.stderr[-2000:]
    assert _login(first, email, "Admin-password-1") == 200
    # And once it stops too, there is no stack to reach
    first.stop()
    assert not first.state_file.exists()
    none = cli(state_dir, "seed-badges")
    assert none.returncode != 0 and "No running local stack found" in none.stderr
