"""End to end: the dev server started by its real command, used over HTTP like a mobile client."""

from __future__ import annotations

import os
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest
from support import free_port

REPO = Path(__file__).resolve().parents[2]
DEMO_PASSWORD = "Demo-password-42"
pytestmark = pytest.mark.e2e


@pytest.fixture(scope="module")
def server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    errors = (tmp_path_factory.mktemp("e2e") / "server.err").open("w+")
    port = free_port()
    env = {k: v for k, v in os.environ.items()
           if not k.startswith(("UPSTASH_", "AWS_ENDPOINT_URL", "USER_RATE", "LOGIN_RATE", "REGISTER_RATE",
                                "REFRESH_RATE"))
           and k not in ("JWT_SECRET", "ENVIRONMENT", "CORS_ORIGINS")}
    env.update({"MINDLY_DEMO_PASSWORD": DEMO_PASSWORD, "BCRYPT_ROUNDS": "4", "PYTHONUNBUFFERED": "1"})
    process = subprocess.Popen([sys.executable, "-m", "infra.dev_server", "--port", str(port)], cwd=REPO,
                               env=env, stdout=subprocess.DEVNULL, stderr=errors, text=True)
    base = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + 120
        while time.monotonic() < deadline:
            if process.poll() is not None:
                errors.seek(0)
                pytest.fail(f"dev server exited: {errors.read()[-3000:]}")
            try:
                if httpx.get(f"{base}/api/v1/health", timeout=1).status_code == 200:
                    break
            except httpx.TransportError:
                time.sleep(0.2)
        else:
            pytest.fail("dev server did not become healthy in 120 s")
        yield base
    finally:
        process.terminate()
        try:
            process.wait(timeout=15)
        except subprocess.TimeoutExpired:
            process.kill()


def test_health_reports_every_dependency_up(server: str) -> None:
    answer = httpx.get(f"{server}/api/v1/health").json()
    assert answer["success"] is True
    assert answer["data"]["checks"] == {"dynamodb": "ok", "redis": "ok"}


def test_a_new_student_signs_up_sets_a_profile_and_signs_out(server: str) -> None:
    with httpx.Client(base_url=f"{server}/api/v1", timeout=10) as client:
        # Given a new student registers
        email = f"e2e.{os.urandom(4).hex()}@example.com"
        registered = client.post("/auth/register", json={"email": email, "password": "Strong-pass-1",
                                                         "name": "Ravi Kumar"})
        assert registered.status_code == 201, registered.text
        assert "refresh_token=" in registered.headers["set-cookie"]
        # When they log in again and use the token
        login = client.post("/auth/login", json={"email": email.upper(), "password": "Strong-pass-1"})
        assert login.status_code == 200, login.text
        auth = {"Authorization": f"Bearer {login.json()['data']['access_token']}"}
        me = client.get("/auth/me", headers=auth).json()["data"]
        assert me["email"] == email and "password_hash" not in me
        # And they set up a JEE profile
        assert client.get("/profile", headers=auth).status_code == 404
        profile = {"exam_type": "JEE", "level": "beginner", "study_hours_per_day": 6,
                   "target_date": "2031-04-01", "weak_subjects": ["physics", "Mathematics"]}
        saved = client.put("/profile", json=profile, headers=auth)
        assert saved.status_code == 200, saved.text
        assert client.get("/profile", headers=auth).json()["data"]["weak_subjects"] == ["Physics", "Mathematics"]
        # Then refreshing with the cookie alone rotates the tokens. (httpx keeps a Secure cookie
        # off plain http, so the cookie the login set is sent by hand, as a browser on https would.)
        cookie = login.headers["set-cookie"].split(";", 1)[0]
        assert cookie.startswith("refresh_token=") and "HttpOnly" in login.headers["set-cookie"]
        client.cookies.clear()
        refreshed = client.post("/auth/refresh", headers={"Cookie": cookie})
        assert refreshed.status_code == 200, refreshed.text
        new_auth = {"Authorization": f"Bearer {refreshed.json()['data']['access_token']}"}
        # And logging out stops that session at once
        assert client.post("/auth/logout", headers=new_auth).status_code == 200
        assert client.get("/auth/me", headers=new_auth).status_code == 401
        assert client.post("/auth/refresh", json={"refresh_token": refreshed.json()["data"]["refresh_token"]}
                           ).status_code == 401


def test_the_seeded_demo_student_can_log_in(server: str) -> None:
    answer = httpx.post(f"{server}/api/v1/auth/login",
                        json={"email": "demo.student@mindly.local", "password": DEMO_PASSWORD})
    assert answer.status_code == 200, answer.text
    token = answer.json()["data"]["access_token"]
    profile = httpx.get(f"{server}/api/v1/profile", headers={"Authorization": f"Bearer {token}"})
    assert profile.json()["data"]["exam_type"] == "GATE"


def test_routes_follow_the_template(server: str) -> None:
    # The syllabus lives in the profile function, auth routes in the auth function: both answer.
    assert httpx.get(f"{server}/api/v1/syllabus/neet").json()["data"]["exam_type"] == "NEET"
    missing = httpx.get(f"{server}/api/v1/no-such-route")
    assert missing.status_code == 404 and missing.json()["errors"][0]["code"] == "NOT_FOUND"


def test_cors_is_only_for_configured_origins(server: str) -> None:
    allowed = httpx.get(f"{server}/api/v1/health", headers={"Origin": "http://localhost:3000"})
    assert allowed.headers["access-control-allow-origin"] == "http://localhost:3000"
    denied = httpx.get(f"{server}/api/v1/health", headers={"Origin": "https://evil.example"})
    assert "access-control-allow-origin" not in denied.headers
