"""End to end: the dev server started by its real command, used over HTTP like a mobile client."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import time
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path

import httpx
import pytest
from support import dev_server

REPO = Path(__file__).resolve().parents[2]
DEMO_PASSWORD = "Demo-password-42"
pytestmark = pytest.mark.e2e


@pytest.fixture(scope="module")
def state_file(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return tmp_path_factory.mktemp("state") / "stack.json"


@pytest.fixture(scope="module")
def server(tmp_path_factory: pytest.TempPathFactory, state_file: Path) -> Iterator[str]:
    with (tmp_path_factory.mktemp("e2e") / "server.err").open("w+") as errors, \
            dev_server(["--state-file", str(state_file)], errors, MINDLY_DEMO_PASSWORD=DEMO_PASSWORD) as base:
        yield base


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


def _demo_auth(server: str) -> dict[str, str]:
    answer = httpx.post(f"{server}/api/v1/auth/login",
                        json={"email": "demo.student@mindly.local", "password": DEMO_PASSWORD})
    assert answer.status_code == 200, answer.text
    return {"Authorization": f"Bearer {answer.json()['data']['access_token']}"}


def test_the_demo_student_has_progress_a_leaderboard_and_badges(server: str) -> None:
    auth = _demo_auth(server)
    with httpx.Client(base_url=f"{server}/api/v1", headers=auth) as client:
        # Given the seeded demo student, who studied the last three days and today
        progress = client.get("/progress").json()["data"]
        assert progress["current_streak"] == 4 and progress["longest_streak"] == 4
        assert progress["today"]["questions_answered"] == 5 and progress["today"]["cards_reviewed"] == 1
        # (4 days of 4 right answers and a review, and 10 right of the 15 sample GATE questions)
        assert progress["xp_total"] == 4 * (4 * 10 + 5) + 10 * 10
        # And analytics has something to show: the seeded mock tests and their prediction
        tests = client.get("/analytics/tests").json()["data"]["items"]
        assert [t["test_id"] for t in tests] == ["demo-mock-4", "demo-mock-3", "demo-mock-2", "demo-mock-1"]
        dashboard = client.get("/analytics/dashboard").json()["data"]
        assert dashboard["predicted_next_score"]["tests_used"] == 4 and dashboard["weak_chapters"]
        subjects = client.get("/analytics/subjects").json()["data"]
        assert sum(row["attempts"] for row in subjects) == 15
        # Then this week's board holds the seeded classmates and the caller's rank
        board = client.get("/leaderboard/weekly").json()["data"]
        names = {row["name"] for row in board["top"]}
        assert "Aarav Sharma" in names and board["me"]["xp"] == progress["xp_this_week"]
        assert board["me"]["rank"] == 1 + sum(1 for row in board["top"] if row["xp"] > board["me"]["xp"]) or \
            board["me"]["xp"] in {row["xp"] for row in board["top"]}
        gate = client.get("/leaderboard/weekly", params={"exam": "GATE"}).json()["data"]
        assert {row["name"] for row in gate["top"]} <= {"Aarav Sharma", "Demo Student"}
        # And the badge catalog is there
        badges = client.get("/progress/badges").json()["data"]
        assert "gate-master" in {badge["badge_id"] for badge in badges["available"]}
        # When the daily goal is lowered to what was answered today, the bonus is paid once
        lowered = client.put("/progress/daily-goal", json={"target_questions": 5})
        assert lowered.status_code == 200, lowered.text
        assert lowered.json()["data"]["goal_met"] is True
        assert client.put("/progress/daily-goal", json={"target_questions": 4}).status_code == 200
        assert client.get("/progress").json()["data"]["xp_total"] == progress["xp_total"] + 50
        assert client.get("/profile").json()["data"]["daily_goal"] == 4


def test_the_cli_runs_the_daily_streak_job_against_the_running_stack(server: str, state_file: Path) -> None:
    env = {k: v for k, v in os.environ.items() if not k.startswith(("UPSTASH_", "AWS_ENDPOINT_URL"))}

    def cli(*args: str) -> dict[str, object]:
        done = subprocess.run([sys.executable, "-m", "infra.cli", "--state-file", str(state_file), *args],
                              cwd=REPO, env=env, capture_output=True, text=True, timeout=120, check=False)
        assert done.returncode == 0, done.stderr[-2000:]
        return json.loads(done.stdout)

    # Given the hourly job ran now (nothing is due: every seeded student studied today)
    assert cli("daily-streaks")["items_read"] == 0
    # When it next runs ten days from now, when every seeded streak has broken
    at = (datetime.now(UTC) + timedelta(days=10)).strftime("%Y-%m-%dT%H:%M:%SZ")
    report = cli("daily-streaks", "--at", at)
    # Then it settled the seeded students' streaks (demo and four classmates), and a rerun does nothing
    assert report["now"] == at
    assert report["items_read"] == 5 and report["streaks_lost"] + report["streaks_saved"] == 5
    again = cli("daily-streaks", "--at", at)
    assert (again["items_read"], again["events_published"]) == (0, 0)
    # And seeding the badge catalog again changes nothing
    assert cli("seed-badges")["written"] == 0
    # And the other schedules run the same way: the mock-test sweep (no test has expired) and the
    # streak reminders (none due now, or each sent once: a rerun sends nothing more)
    assert cli("mock-sweep") == {"finished": 0, "failed": 0}
    now = datetime.now(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")
    first = cli("reminders", "--at", now)
    assert first["now"] == now and sum(first["failed"].values()) == 0  # type: ignore[union-attr]
    assert cli("reminders", "--at", now)["reminded"] == 0


def test_a_new_student_practises_the_sample_bank_and_earns_xp(server: str) -> None:
    with httpx.Client(base_url=f"{server}/api/v1") as client:
        # Given a new GATE student
        email = f"e2e.{time.time_ns()}@example.com"
        registered = client.post("/auth/register", json={"email": email, "password": "E2e-password-1",
                                                         "name": "Esha"})
        auth = {"Authorization": f"Bearer {registered.json()['data']['access_token']}"}
        client.put("/profile", headers=auth, json={"exam_type": "GATE", "level": "beginner",
                                                   "study_hours_per_day": 2, "target_date": "2035-02-01",
                                                   "weak_subjects": []}).raise_for_status()
        # When they practise (exam from the profile), the sample bank answers without answers
        page = client.get("/questions/practice", headers=auth, params={"limit": 5}).json()["data"]
        assert len(page["items"]) == 5 and page["has_more"] is True
        assert all(q["exam_type"] == "GATE" and "correct_option" not in q for q in page["items"])
        first = page["items"][0]
        # And they answer every option of the first question until one is right
        results = [client.post("/questions/submit", headers=auth, json={
            "question_id": first["question_id"], "selected_option": letter, "confidence_rating": 3,
            "time_taken_seconds": 20}).json()["data"] for letter in first["options"]]
        assert sum(r["is_correct"] for r in results) == 1
        assert {r["correct_option"] for r in results} == {next(r["correct_option"] for r in results)}
        # Then the progress engine counted them: XP only for the first answer (+10 if it was right:
        # the later ones came after the key was shown), every answer recorded, the streak started
        assert [r["xp_withheld"] for r in results[1:]] == ["answered_before"] * (len(results) - 1)
        progress = client.get("/progress", headers=auth).json()["data"]
        assert (progress["xp_total"], progress["today"]["questions_answered"], progress["current_streak"]) == (
            10 if results[0]["is_correct"] else 0, len(first["options"]), 1)
        assert progress["today"]["goal_questions"] == 1
        attempts = client.get("/questions/attempts", headers=auth).json()["data"]["items"]
        assert len(attempts) == len(first["options"])
        # And the analytics function reports them: the week's calibration and the subject counters
        week = client.get("/analytics/calibration", headers=auth).json()["data"]
        assert (week["attempts"], week["accuracy"]) == (len(first["options"]), round(1 / len(first["options"]), 4))
        subjects = client.get("/analytics/subjects", headers=auth).json()["data"]
        assert [(s["subject"], s["attempts"]) for s in subjects] == [(first["subject"], len(first["options"]))]
        board = client.get("/analytics/dashboard", headers=auth).json()["data"]
        assert board["exam_type"] == "GATE" and board["study_load"]["days"][-1]["answered"] == len(first["options"])


def test_an_admin_made_by_the_cli_imports_over_http(server: str, state_file: Path) -> None:
    # As from a second terminal: no JWT secret (the stack's own is random and stays in its process)
    env = {k: v for k, v in os.environ.items()
           if not k.startswith(("UPSTASH_", "AWS_ENDPOINT_URL")) and k != "JWT_SECRET"}
    env["MINDLY_ADMIN_PASSWORD"] = "Admin-password-1"
    done = subprocess.run([sys.executable, "-m", "infra.cli", "--state-file", str(state_file), "create-admin",
                           "ops@mindly.local"], cwd=REPO, env=env, capture_output=True, text=True, timeout=120,
                          check=False)
    assert done.returncode == 0, done.stderr[-2000:]
    assert json.loads(done.stdout)["role"] == "admin"
    login = httpx.post(f"{server}/api/v1/auth/login", json={"email": "ops@mindly.local",
                                                             "password": "Admin-password-1"})
    auth = {"Authorization": f"Bearer {login.json()['data']['access_token']}"}
    record = {"source": "e2e", "external_id": "cat-1", "exam_type": "CAT", "subject": "Quantitative Aptitude",
              "topic": "Interest", "difficulty": "easy", "stem": "Simple interest on 1000 at 5% for 2 years?",
              "options": {"A": "50", "B": "100", "C": "105", "D": "110"}, "correct_option": "B",
              "explanation": "1000 x 0.05 x 2 = 100."}
    answer = httpx.post(f"{server}/api/v1/admin/questions/import", headers=auth, json=[record, record])
    assert answer.status_code == 200, answer.text
    assert (answer.json()["data"]["imported"], answer.json()["data"]["skipped"]) == (1, 1)


def test_a_new_student_reviews_cards_and_a_mistake_comes_back(server: str) -> None:
    with httpx.Client(base_url=f"{server}/api/v1") as client:
        registered = client.post("/auth/register", json={"email": f"cards.{time.time_ns()}@example.com",
                                                         "password": "E2e-password-1", "name": "Farah"})
        auth = {"Authorization": f"Bearer {registered.json()['data']['access_token']}"}
        client.put("/profile", headers=auth, json={"exam_type": "NEET", "level": "beginner",
                                                   "study_hours_per_day": 3, "target_date": "2035-05-01",
                                                   "weak_subjects": [], "new_cards_per_day": 5}).raise_for_status()
        # Given a new student: nothing is due, five new cards come from the NEET sample deck
        due = client.get("/flashcards/due", headers=auth).json()["data"]
        assert (due["total_due"], due["new_cards"]) == (0, 5)
        card = due["cards"][0]
        # When they review one, it is scheduled by SM-2 and earns XP
        reviewed = client.post("/flashcards/review", headers=auth, json={"flashcard_id": card["flashcard_id"],
                                                                         "rating": 4})
        assert reviewed.status_code == 200, reviewed.text
        assert (reviewed.json()["data"]["interval"], reviewed.json()["data"]["xp_awarded"]) == (1, 5)
        assert client.get("/flashcards/due", headers=auth).json()["data"]["new_cards"] == 4
        # And a question answered wrong is due as a card the same day
        question = client.get("/questions/practice", headers=auth, params={"limit": 1}).json()["data"]["items"][0]
        answers = [client.post("/questions/submit", headers=auth, json={
            "question_id": question["question_id"], "selected_option": letter, "confidence_rating": 2,
            "time_taken_seconds": 10}).json()["data"] for letter in question["options"]]
        assert any(not a["is_correct"] for a in answers)
        due = client.get("/flashcards/due", headers=auth).json()["data"]
        assert [c["question"] for c in due["cards"] if c["flashcard_id"].startswith("mistake-")] == [question["stem"]]
        # And the review can be undone
        undone = client.post("/flashcards/review/undo", headers=auth)
        assert undone.status_code == 200 and undone.json()["data"]["xp_awarded"] == -5


def test_a_roadmap_is_requested_and_generated_by_the_local_worker(server: str) -> None:
    auth = _demo_auth(server)
    with httpx.Client(base_url=f"{server}/api/v1", headers=auth) as client:
        queued = client.post("/roadmaps", json={"months_available": 4})
        assert queued.status_code == 202, queued.text
        poll = queued.json()["data"]["poll_url"].removeprefix("/api/v1")
        deadline = time.monotonic() + 60
        job = client.get(poll).json()["data"]
        while job["status"] in ("queued", "running") and time.monotonic() < deadline:
            time.sleep(0.5)
            job = client.get(poll).json()["data"]
        assert job["status"] == "done", job
        assert job["roadmap"]["source"] == "offline" and job["roadmap"]["total_weeks"] == 17
        assert client.get("/roadmaps/latest").json()["data"]["job_id"] == queued.json()["data"]["job_id"]


def _cli_admin(server: str, state_file: Path, email: str) -> dict[str, str]:
    """An admin made by the CLI from a second terminal (as the import test does), logged in."""
    env = {k: v for k, v in os.environ.items()
           if not k.startswith(("UPSTASH_", "AWS_ENDPOINT_URL")) and k != "JWT_SECRET"}
    env["MINDLY_ADMIN_PASSWORD"] = "Admin-password-1"
    done = subprocess.run([sys.executable, "-m", "infra.cli", "--state-file", str(state_file), "create-admin", email],
                          cwd=REPO, env=env, capture_output=True, text=True, timeout=120, check=False)
    assert done.returncode == 0, done.stderr[-2000:]
    login = httpx.post(f"{server}/api/v1/auth/login", json={"email": email, "password": "Admin-password-1"})
    return {"Authorization": f"Bearer {login.json()['data']['access_token']}"}


def test_every_question_type_goes_from_an_admin_upload_to_a_students_report(server: str, state_file: Path) -> None:
    # Given an admin who uploads a figure through the signed URL (to the stack's own S3)
    admin = _cli_admin(server, state_file, "content@mindly.local")
    figure = b"\x89PNG\r\n\x1a\n" + b"\x01" * 40
    target = httpx.post(f"{server}/api/v1/admin/media", headers=admin,
                        json={"content_type": "image/png", "bytes": len(figure)}).json()["data"]
    assert httpx.put(target["upload_url"], content=figure, headers={"Content-Type": "image/png"}).status_code == 200
    # And imports a multiple-correct LaTeX question, a numeric one with the figure, and two
    # questions of one passage
    base = {"source": "e2e-types", "exam_type": "JEE", "subject": "Physics", "difficulty": "hard", "explanation": None}
    passage = {"passage_id": "p1", "text": "Light bends when it enters glass.\nThat is refraction."}
    records = [
        {**base, "external_id": "m", "topic": "Optics", "type": "multiple", "format": "latex",
         "stem": "Which hold for a thin lens of power $P$?", "correct_options": ["A", "C"],
         "options": {"A": "$f = 1/P$", "B": "$f = P$", "C": "$P > 0$ converges", "D": "$P$ is in metres"}},
        {**base, "external_id": "n", "topic": "Optics", "type": "numeric", "stem": "Focal length (m) of a 2 D lens?",
         "answer": {"value": 0.5, "tolerance": 0.01}, "media": [{"media_id": target["media_id"], "alt": "a lens"}]},
        *({**base, "external_id": f"p{n}", "topic": "Optics", "stem": f"Passage question {n}?", "passage": passage,
           "options": {"A": f"bends {n}", "B": f"stops {n}", "C": f"reflects {n}", "D": f"splits {n}"},
           "correct_option": "A"} for n in (1, 2)),
    ]
    imported = httpx.post(f"{server}/api/v1/admin/questions/import", headers=admin, json=records).json()["data"]
    assert (imported["imported"] + imported["skipped"], imported["errors"]) == (4, []), imported
    with httpx.Client(base_url=f"{server}/api/v1") as client:
        # When a JEE student practises Optics and answers each type
        auth = _new_student(client, "JEE")
        items = {item["stem"]: item for item in _all_practice(client, auth, {"subject": "Physics", "topic": "Optics"})}
        multi, number = items["Which hold for a thin lens of power $P$?"], items["Focal length (m) of a 2 D lens?"]
        assert (multi["type"], number["type"], "options" in number) == ("multiple", "numeric", False)
        assert items["Passage question 1?"]["passage"]["text"] == passage["text"]
        assert httpx.get(number["media"][0]["url"]).content == figure
        answers = [client.post("/questions/submit", headers=auth, json={
            "question_id": question["question_id"], "confidence_rating": 4, "time_taken_seconds": 30, **given}).json()
            for question, given in ((multi, {"selected_options": ["C", "A"]}), (number, {"numeric_answer": 0.7}),
                                    (items["Passage question 2?"], {"selected_option": "B"}))]
        # Then each is graded by its type and says its key in its own field
        assert [a["data"]["is_correct"] for a in answers] == [True, False, False]
        assert answers[1]["data"]["answer"] == {"value": 0.5, "tolerance": 0.01}
        attempts = client.get("/questions/attempts", headers=auth).json()["data"]["items"]
        assert [a["type"] for a in attempts] == ["single", "numeric", "multiple"]
        # And a report reaches the admin's list, with the question's statistics
        reported = client.post(f"/questions/{number['question_id']}/reports", headers=auth, json={"reason": "unclear"})
        assert reported.status_code == 201, reported.text
    reports = httpx.get(f"{server}/api/v1/admin/reports", headers=admin, params={"status": "open"}).json()["data"]
    assert number["question_id"] in {r["question_id"] for r in reports["items"]}
    listed = httpx.get(f"{server}/api/v1/admin/questions", headers=admin,
                       params={"exam": "JEE", "subject": "Physics", "topic": "Optics", "limit": 100}).json()["data"]
    stats = next(q["stats"] for q in listed["items"] if q["question_id"] == number["question_id"])
    assert (stats["attempts"], stats["correct"], stats["reports_open"]) == (1, 0, 1)


def _new_student(client: httpx.Client, exam: str) -> dict[str, str]:
    email = f"types.{time.time_ns()}@example.com"
    token = client.post("/auth/register", json={"email": email, "password": "Student-pass-1", "name": "Tara"}
                        ).json()["data"]["access_token"]
    auth = {"Authorization": f"Bearer {token}"}
    profile = {"exam_type": exam, "level": "advanced", "study_hours_per_day": 4, "target_date": "2035-01-01",
               "weak_subjects": []}
    assert client.put("/profile", headers=auth, json=profile).status_code == 200
    return auth


def _all_practice(client: httpx.Client, auth: dict[str, str], query: dict[str, str]) -> list[dict[str, object]]:
    items: list[dict[str, object]] = []
    cursor: str | None = None
    while True:
        page = client.get("/questions/practice", headers=auth,
                          params={**query, "limit": "100", **({"cursor": cursor} if cursor else {})}).json()["data"]
        items += page["items"]
        cursor = page["next_cursor"]
        if cursor is None:
            return items


def _clock_back(state_file: Path, user_id: str, mock_test_id: str, minutes: int) -> None:
    """As if ``minutes`` went by during a mock test: the stored paper's clock (start, deadline, section
    windows) moves back by that much, in the running stack's own DynamoDB. The server keeps reading the
    real clock; waiting 40 minutes a section is what this stands in for."""
    import boto3

    env = json.loads(state_file.read_text())["env"]
    table = boto3.resource("dynamodb", endpoint_url=env["AWS_ENDPOINT_URL_DYNAMODB"],
                           region_name=env.get("AWS_DEFAULT_REGION", "ap-south-1"),
                           aws_access_key_id="testing", aws_secret_access_key="testing").Table(env["STUDY_TABLE"])
    key = {"pk": f"USER#{user_id}", "sk": f"PAPER#{mock_test_id}"}
    paper = table.get_item(Key=key, ConsistentRead=True)["Item"]

    def back(text: str) -> str:
        moved = datetime.strptime(text, "%Y-%m-%dT%H:%M:%SZ") - timedelta(minutes=minutes)
        return moved.strftime("%Y-%m-%dT%H:%M:%SZ") if text else ""

    started = datetime.fromisoformat(str(paper["started_at"])) - timedelta(minutes=minutes)
    table.update_item(Key=key, UpdateExpression="SET started_at = :s, deadline = :d, window_starts = :ws, "
                      "window_ends = :we, deadline_sk = :dk",
                      ExpressionAttributeValues={
                          ":s": started.strftime("%Y-%m-%dT%H:%M:%S.%f+0000"), ":d": back(paper["deadline"]),
                          ":ws": [back(t) for t in paper["window_starts"]],
                          ":we": [back(t) for t in paper["window_ends"]],
                          ":dk": f"{back(paper['deadline'])}#{user_id}#{mock_test_id}"})


def test_a_student_sits_a_whole_cat_mock_test_section_by_section(server: str, state_file: Path) -> None:
    # Given a CAT bank an admin imported: per section, twice what a paper needs of each type
    admin = _cli_admin(server, state_file, "mocks@mindly.local")
    sections = {"Verbal Ability and Reading Comprehension": ("Para Jumbles", 22, 2),
                "Data Interpretation and Logical Reasoning": ("Caselets", 12, 10),
                "Quantitative Aptitude": ("Algebra", 14, 8)}
    records: list[dict[str, object]] = []
    for subject, (topic, singles, numerics) in sections.items():
        for n in range(2 * singles):
            records.append({"source": "e2e-cat", "external_id": f"{topic}-s{n}", "exam_type": "CAT",
                            "subject": subject, "topic": topic, "difficulty": ("easy", "medium", "hard")[n % 3],
                            "stem": f"{topic} question {n}?", "options": {"A": "p", "B": "q", "C": "r", "D": "s"},
                            "correct_option": "ABCD"[n % 4], "explanation": f"Work it out: {n}."})
        for n in range(2 * numerics):
            records.append({"source": "e2e-cat", "external_id": f"{topic}-n{n}", "exam_type": "CAT",
                            "subject": subject, "topic": topic, "difficulty": ("easy", "medium", "hard")[n % 3],
                            "type": "numeric", "stem": f"{topic} number {n}?", "answer": {"value": n, "tolerance": 0},
                            "explanation": None})
    imported = httpx.post(f"{server}/api/v1/admin/questions/import", headers=admin, json=records).json()["data"]
    assert imported["errors"] == [], imported
    keys: dict[str, dict[str, object]] = {}
    for subject in sections:
        cursor = None
        while True:
            params = {"exam": "CAT", "subject": subject, "limit": 100, **({"cursor": cursor} if cursor else {})}
            page = httpx.get(f"{server}/api/v1/admin/questions", headers=admin, params=params).json()["data"]
            keys.update({q["question_id"]: q["record"] for q in page["items"]})
            if not (cursor := page["next_cursor"]):
                break
    with httpx.Client(base_url=f"{server}/api/v1") as client:
        auth = _new_student(client, "CAT")
        user_id = client.get("/auth/me", headers=auth).json()["data"]["id"]
        # When the student starts a CAT mock test: only VARC is open
        paper = client.post("/mock-tests", headers=auth, json={"pattern_id": "cat"}).json()["data"]
        test_id = paper["mock_test_id"]
        assert [len(s["questions"]) for s in paper["sections"]] == [24, 0, 0]
        expected = 0
        for index, name in enumerate(("VARC", "DILR", "QA")):
            if index:  # the previous section's 40 minutes pass: this one opens, the last one closes for good
                _clock_back(state_file, user_id, test_id, 40)
                paper = client.get(f"/mock-tests/{test_id}", headers=auth).json()["data"]
                closed = paper["sections"][index - 1]["questions"][0]["number"]
                late = client.put(f"/mock-tests/{test_id}/answers/{closed}", headers=auth,
                                  json={"selected_option": "A", "time_spent_seconds": 5})
                assert late.status_code == 409 and late.json()["errors"][0]["code"] == "DEADLINE_PASSED"
            section = paper["sections"][index]
            assert section["name"] == name and section["questions"], section
            # And answers the first four right, the fifth wrong, and skips the rest
            for position, item in enumerate(section["questions"][:5]):
                question = keys[item["question"]["question_id"]]
                right = position < 4
                kind = question.get("type", "single")
                if kind == "numeric":
                    value = question["answer"]["value"]  # type: ignore[index]
                    body: dict[str, object] = {"numeric_answer": value if right else value + 100}
                else:
                    correct = str(question["correct_option"])
                    body = {"selected_option": correct if right else next(c for c in "ABCD" if c != correct)}
                saved = client.put(f"/mock-tests/{test_id}/answers/{item['number']}", headers=auth,
                                   json={**body, "time_spent_seconds": 60})
                assert saved.status_code == 200, saved.text
                expected += 3 if right else (-1 if kind == "single" else 0)
        # Then the submit scores it by CAT's marking, section by section
        result = client.post(f"/mock-tests/{test_id}/submit", headers=auth).json()["data"]
        assert (result["score"], result["max_score"], result["attempted"]) == (expected, 204, 15)
        assert [s["correct"] for s in result["sections"]] == [4, 4, 4]
        # And the review shows every key, and the test is in the analytics list
        review = client.get(f"/mock-tests/{test_id}", headers=auth).json()["data"]
        assert sum(len(s["questions"]) for s in review["review"]) == 68
        tests = client.get("/analytics/tests", headers=auth).json()["data"]["items"]
        assert [t["score"] for t in tests if t["test_id"] == test_id] == [expected]
