"""The load bench (bench.load) end to end, at a size that takes well under a minute: it starts the
dev server, runs locust against it, and checks every simulated student's XP. No timing is asserted."""

from __future__ import annotations

import re
import subprocess
import sys
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[2]
pytestmark = pytest.mark.e2e


def test_a_small_load_run_fails_nothing_and_every_student_keeps_their_xp() -> None:
    # Given three students studying for eight seconds against a fresh local stack
    done = subprocess.run([sys.executable, "-m", "bench.load", "--users", "3", "--duration", "8", "--spawn-rate", "3",
                           "--strict"], cwd=REPO, capture_output=True, text=True, timeout=240, check=False)
    # Then the run is clean (--strict: no failed request, no exception, no XP mismatch)
    assert done.returncode == 0, done.stdout[-4000:] + done.stderr[-4000:]
    out = done.stdout
    # And the table lists what every student did, and the total
    header = next(line for line in out.splitlines() if line.startswith("endpoint"))
    assert header.split() == ["endpoint", "requests", "failures", "req/s", "p50", "ms", "p95", "ms", "p99", "ms"]
    def counts(endpoint: str) -> tuple[int, int]:
        row = next(line for line in out.splitlines() if line.startswith(endpoint + " "))
        requests, failures = row.split()[len(endpoint.split()):][:2]
        return int(requests), int(failures)

    for endpoint in ("POST /auth/register", "PUT /profile", "POST /auth/login"):
        assert counts(endpoint) == (3, 0), out  # once per student
    requests, failures = counts("GET /leaderboard/weekly")  # once per student at sign-up, then a task
    assert requests >= 3 and failures == 0, out
    assert re.search(r"^total\s+\d+\s+0\s", out, re.MULTILINE), out
    # And the XP check covered all three students without a mismatch
    assert "XP check: 3 of 3 students checked, 0 mismatches" in out, out
    assert re.search(r"Weekly XP: \d students checked, 0 mismatches", out), out
    assert "Errors: 0 failed requests, 0 locust exceptions, 0 failed checks" in out, out
