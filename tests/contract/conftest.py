"""Fixtures shared by the contract tests: the local Upstash endpoint on each backend."""

from __future__ import annotations

import shutil
import subprocess
import time
from collections.abc import Iterator

import pytest
import redis as redis_py
from support import free_port

from infra.upstash_local import LocalUpstash

TOKEN = "contract-test-token"  # the same token the contract test modules send


@pytest.fixture(scope="session")
def redis_server_url(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    """A throwaway redis-server on 127.0.0.1 (no persistence, own temp dir), stopped after the session."""
    binary = shutil.which("redis-server")
    if binary is None:
        pytest.skip("redis-server binary not on PATH (install redis-server to run the real-server contract tests)")
    workdir = tmp_path_factory.mktemp("redis-server")
    port = free_port()
    log_path = workdir / "redis.log"
    with log_path.open("wb") as log:
        process = subprocess.Popen(
            [binary, "--bind", "127.0.0.1", "--port", str(port), "--save", "", "--appendonly", "no",
             "--dir", str(workdir)],
            stdout=log,
            stderr=subprocess.STDOUT,
        )
    probe = redis_py.Redis(host="127.0.0.1", port=port, protocol=2, socket_timeout=1)
    try:
        deadline = time.monotonic() + 10
        while True:
            if process.poll() is not None:
                pytest.fail(f"redis-server exited with {process.returncode}: {log_path.read_text()}")
            try:
                probe.ping()
                break
            except redis_py.ConnectionError:
                if time.monotonic() > deadline:
                    pytest.fail(f"redis-server did not answer on port {port}: {log_path.read_text()}")
                time.sleep(0.05)
        yield f"redis://127.0.0.1:{port}/0"
    finally:
        probe.close()
        process.terminate()
        try:
            process.wait(timeout=10)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()


@pytest.fixture(
    scope="session",
    params=["fakeredis", pytest.param("redis-server", marks=pytest.mark.redis_server)],
)
def endpoint(request: pytest.FixtureRequest) -> Iterator[LocalUpstash]:
    redis_url = request.getfixturevalue("redis_server_url") if request.param == "redis-server" else None
    with LocalUpstash(token=TOKEN, redis_url=redis_url) as server:
        yield server


