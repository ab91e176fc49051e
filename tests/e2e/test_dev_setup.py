"""``bash infra/dev.sh setup`` leaves a matching .venv alone, also when ``python3`` is a shim (pyenv,
asdf: a script that execs the real interpreter), and two set-ups at once do not break each other or a
process using .venv meanwhile.

Everything runs on a copy (pyproject.toml, uv.lock, infra/dev.sh) in a temporary folder with its own
.venv, built from uv's cache, never on this checkout's .venv, which this very test run is using.
"""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[2]
DEV_SH = REPO / "infra" / "dev.sh"
pytestmark = pytest.mark.e2e
# Packages the local stack imports first: each import below reads files all over .venv.
IMPORTS = "import boto3, fastapi, mangum, moto, pydantic, pynamodb, starlette, uvicorn"


def _real_python() -> str:
    base = Path(getattr(sys, "_base_executable", "") or sys.executable)
    return str(base)


def _uv() -> Path:
    uv = REPO / ".venv-uv" / "bin" / "uv"
    if not uv.exists():
        pytest.skip("no .venv-uv/bin/uv in this checkout (run `bash infra/dev.sh setup` once)")
    return uv


@pytest.fixture(scope="module")
def copy(tmp_path_factory: pytest.TempPathFactory) -> Iterator[dict[str, object]]:
    """A checkout copy whose ``python3`` on PATH is a shim, set up once."""
    root = tmp_path_factory.mktemp("devsetup")
    repo = root / "repo"
    (repo / "infra").mkdir(parents=True)
    for name in ("pyproject.toml", "uv.lock"):
        shutil.copy2(REPO / name, repo / name)
    shutil.copy2(DEV_SH, repo / "infra" / "dev.sh")
    # The pinned uv, without installing it again: dev.sh only checks it runs and its version.
    (repo / ".venv-uv" / "bin").mkdir(parents=True)
    (repo / ".venv-uv" / "bin" / "uv").symlink_to(_uv())
    shims = root / "shims"
    shims.mkdir()
    shim = shims / "python3"
    shim.write_text(f'#!/bin/sh\nexec "{_real_python()}" "$@"\n')
    shim.chmod(0o755)
    env = {k: v for k, v in os.environ.items()
           if not k.startswith(("UV_", "VIRTUAL_ENV", "PYTHON", "CONDA"))}
    # Offline: every package is in uv's cache already (this checkout's .venv was built from it).
    env.update({"PATH": f"{shims}{os.pathsep}{env.get('PATH', '')}", "UV_OFFLINE": "1"})
    first = _setup(repo, env)
    if first.returncode != 0 and "offline" in (first.stderr + first.stdout).lower():
        pytest.skip(f"uv's cache cannot build a .venv offline: {first.stderr[-500:]}")
    assert first.returncode == 0, first.stdout[-2000:] + first.stderr[-2000:]
    yield {"repo": repo, "env": env}


def _setup(repo: Path, env: dict[str, str], *extra: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(["bash", str(repo / "infra" / "dev.sh"), "setup", *extra], cwd=repo, env=env,
                          capture_output=True, text=True, timeout=300, check=False)


def _venv_identity(repo: Path) -> tuple[int, int]:
    stat = (repo / ".venv" / "pyvenv.cfg").stat()
    return stat.st_ino, stat.st_mtime_ns


def test_setup_through_a_shim_leaves_a_matching_venv_untouched(copy: dict[str, object]) -> None:
    repo, env = copy["repo"], copy["env"]
    assert isinstance(repo, Path) and isinstance(env, dict)
    assert shutil.which("python3", path=env["PATH"]) != _real_python()  # the shim is what dev.sh finds
    before = _venv_identity(repo)
    # When set-up runs again, through the shim
    again = _setup(repo, env)
    # Then it succeeds and the venv is the same one (not removed and re-created)
    assert again.returncode == 0, again.stderr[-2000:]
    assert "Removed virtual environment" not in again.stderr + again.stdout
    assert _venv_identity(repo) == before
    # And uv itself, asked with the real interpreter, finds nothing to change
    check = subprocess.run([str(_uv()), "sync", "--frozen", "--dry-run", "--python", _real_python()], cwd=repo,
                           env=env, capture_output=True, text=True, timeout=120, check=False)
    assert check.returncode == 0, check.stderr[-2000:]
    assert "Would replace" not in check.stderr and "Would install" not in check.stderr, check.stderr[-2000:]


def test_two_setups_at_once_succeed_while_a_process_uses_the_venv(copy: dict[str, object]) -> None:
    repo, env = copy["repo"], copy["env"]
    assert isinstance(repo, Path) and isinstance(env, dict)
    before = _venv_identity(repo)
    (repo / ".venv" / ".mindly-setup").unlink(missing_ok=True)  # both must look at the venv again
    python = repo / ".venv" / "bin" / "python"
    # Given a process importing the stack's packages from .venv over and over (a running stack)
    importer = subprocess.Popen(
        [str(python), "-c", "import subprocess, sys, time\n"
         "deadline = time.monotonic() + 60\n"
         "while time.monotonic() < deadline:\n"
         f"    done = subprocess.run([sys.executable, '-c', {IMPORTS!r}], capture_output=True, text=True)\n"
         "    if done.returncode:\n"
         "        sys.exit(done.stderr[-1500:])\n"],
        cwd=repo, env=env, stderr=subprocess.PIPE, text=True)
    try:
        time.sleep(0.5)
        # When two set-ups start at once
        runs = [subprocess.Popen(["bash", str(repo / "infra" / "dev.sh"), "setup"], cwd=repo, env=env,
                                 stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True) for _ in range(2)]
        results = [(run.wait(timeout=300), run.communicate()[1]) for run in runs]
        # Then both succeed, the venv is still the same one and the importer never failed
        for code, stderr in results:
            assert code == 0, stderr[-2000:]
        assert _venv_identity(repo) == before
        assert importer.poll() is None, importer.communicate()[1]
        done = subprocess.run([str(python), "-c", IMPORTS], capture_output=True, text=True, timeout=120,
                              check=False)
        assert done.returncode == 0, done.stderr[-2000:]
    finally:
        importer.kill()
        importer.wait(timeout=10)
    # And the set-up lock is not left held: a third set-up does not wait
    started = time.monotonic()
    assert _setup(repo, env).returncode == 0
    assert time.monotonic() - started < 30
