"""Simulated students for ``bench.load`` (run by it as ``locust -f bench/locustfile.py``).

Only this module imports locust (which patches the standard library with gevent); ``bench.load``
runs it in a subprocess. Each simulated student registers with a fresh email, sets a profile for one
of the sample exams, logs in, and then studies: practice pages, answers (some sent twice with the same
``attempt_id``, as a client retrying after a timeout would), the due flashcards and reviews (some
sent twice with the same ``review_id``), progress, the weekly leaderboard, now and then a roadmap,
and the calibration report.

A student adds up the ``xp_awarded`` the server answered to each first-time answer and review. A
retry must answer as the first time did, except that it earned nothing itself (``xp_awarded`` 0,
``xp_withheld: duplicate``, ``xp_recorded`` the first's XP), and is not added. An activity whose answer never came
(a failure, or the run ending mid-request) is kept as unresolved, so ``bench.load`` can send it once
more with the same id and learn its XP. When locust quits, every student is written as one JSON line
to the file named by ``MINDLY_LOAD_STUDENTS``; ``bench.load`` then checks each against GET /progress.
"""

from __future__ import annotations

import itertools
import json
import os
import random
import uuid
from collections.abc import Callable
from datetime import date, timedelta
from typing import Any

from locust import FastHttpUser, between, events, task
from locust.exception import StopUser

API = "/api/v1"
EXAMS = ("GATE", "JEE", "NEET", "UPSC", "CAT")
LEVELS = ("beginner", "intermediate", "advanced")
PRACTICE_PAGE = 5
PRACTICE_PAGES = 3  # the sample bank holds 15 questions an exam
SUBMIT_RETRY_SHARE = 0.2
REVIEW_RETRY_SHARE = 0.15
KNOWN_ANSWER_SHARE = 0.7  # how often a student answers right a question whose answer they have seen

# Seconds between a student's tasks, drawn uniformly (bench.load --think).
THINK_SECONDS = tuple(float(x) for x in os.environ.get("MINDLY_LOAD_THINK_SECONDS", "0.5,1.5").split(","))

_numbers = itertools.count(1)
STUDENTS: list[dict[str, Any]] = []


class Student(FastHttpUser):
    """One student on the app: see the module docstring for what they do and record."""

    wait_time = between(*THINK_SECONDS)

    def on_start(self) -> None:
        number = next(_numbers)
        self.questions: dict[str, dict[str, Any]] = {}
        self.correct_options: dict[str, str] = {}
        self.reviewed_cards: list[str] = []
        self.roadmap_job: str | None = None
        self.auth: dict[str, str] = {}
        self.record: dict[str, Any] = {
            "email": f"load.{uuid.uuid4().hex[:16]}@example.com", "password": f"Load-{uuid.uuid4().hex[:12]}-1",
            "name": f"Load Student {number}", "exam": EXAMS[(number - 1) % len(EXAMS)], "user_id": None,
            "week": None, "xp_awarded": 0, "submits": 0, "reviews": 0, "unresolved": [],
        }
        STUDENTS.append(self.record)
        self._sign_up()

    def _sign_up(self) -> None:
        record = self.record
        registered = self._call("POST", "/auth/register", expected=(201,), json={
            "email": record["email"], "password": record["password"], "name": record["name"]})
        if registered is None:
            raise StopUser()  # a student that cannot register has nothing to do (the failure is counted)
        record["user_id"] = registered["user"]["id"]
        self.auth = {"Authorization": f"Bearer {registered['access_token']}"}
        self._call("PUT", "/profile", json={
            "exam_type": record["exam"], "level": random.choice(LEVELS),
            "study_hours_per_day": random.choice((1.5, 3, 4, 6)),
            "target_date": (date.today() + timedelta(days=random.randint(90, 540))).isoformat(),
            "weak_subjects": []})
        login = self._call("POST", "/auth/login", json={"email": record["email"], "password": record["password"]})
        if login is not None:
            self.auth = {"Authorization": f"Bearer {login['access_token']}"}
        board = self._call("GET", "/leaderboard/weekly")
        if board is not None:
            record["week"] = board["week"]

    def _call(self, method: str, path: str, name: str | None = None, expected: tuple[int, ...] = (200,),
              wrong: Callable[[Any], str | None] | None = None, **kwargs: Any) -> Any:
        """The ``data`` of an answer with an expected status and a success envelope (and, given
        ``wrong``, data it finds nothing wrong with); None (and a failure in the stats) otherwise."""
        with self.client.request(method, f"{API}{path}", name=name or f"{method} {path}", headers=self.auth,
                                 catch_response=True, **kwargs) as response:
            if response.status_code not in expected:
                response.failure(f"{response.status_code}: {(response.text or '')[:300]}")
                return None
            try:
                envelope = response.json()
            except ValueError:
                response.failure(f"{response.status_code} without a JSON body")
                return None
            if not envelope.get("success"):
                response.failure(f"envelope without success: {str(envelope)[:300]}")
                return None
            problem = wrong(envelope["data"]) if wrong else None
            if problem:
                response.failure(problem)
                return None
            return envelope["data"]

    def _same_answer(self, name: str, path: str, body: dict[str, Any], first: dict[str, Any],
                     fields: tuple[str, ...]) -> None:
        """Send ``body`` again (a client retry): the answer must equal the first one on ``fields``."""
        with self.client.request("POST", f"{API}{path}", name=name, headers=self.auth, json=body,
                                 catch_response=True) as response:
            try:
                data = response.json().get("data") if response.status_code == 200 else None
            except ValueError:
                data = None
            if data is None:
                response.failure(f"retry answered {response.status_code}: {(response.text or '')[:300]}")
                return
            differing = {f: (first.get(f), data.get(f)) for f in fields if first.get(f) != data.get(f)}
            # A retry earned nothing itself, and says what the first recording earned
            if (data.get("xp_awarded"), data.get("xp_withheld"), data.get("xp_recorded")) != (
                    0, "duplicate", first.get("xp_awarded")):
                differing["xp"] = ((first.get("xp_awarded"),),
                                   (data.get("xp_awarded"), data.get("xp_withheld"), data.get("xp_recorded")))
            if differing:
                response.failure(f"retry answered differently (first, retry): {differing}")

    def _first_time(self, kind: str, path: str, body: dict[str, Any]) -> dict[str, Any] | None:
        """A new answer or review: its XP is added once its answer came; until then it is unresolved."""
        pending = {"kind": kind, "path": path, "body": body}
        self.record["unresolved"].append(pending)
        data = self._call("POST", path, json=body)
        if data is not None and isinstance(data.get("xp_awarded"), int):
            self.record["unresolved"].remove(pending)
            self.record["xp_awarded"] += data["xp_awarded"]
            self.record[f"{kind}s"] += 1
        return data

    @task(4)
    def practice(self) -> None:
        page = self._call("GET", "/questions/practice",
                          params={"page": random.randint(1, PRACTICE_PAGES), "limit": PRACTICE_PAGE})
        for item in (page or {}).get("items", []):
            self.questions[item["question_id"]] = item

    @task(6)
    def answer(self) -> None:
        if not self.questions:
            self.practice()
            if not self.questions:
                return
        question = random.choice(list(self.questions.values()))
        known = self.correct_options.get(question["question_id"])
        if known and random.random() < KNOWN_ANSWER_SHARE:
            option, confidence = known, random.randint(3, 5)
        else:
            option, confidence = random.choice(sorted(question["options"])), random.randint(1, 4)
        body = {"question_id": question["question_id"], "selected_option": option,
                "confidence_rating": confidence, "time_taken_seconds": random.randint(5, 180),
                "attempt_id": uuid.uuid4().hex}
        result = self._first_time("submit", "/questions/submit", body)
        if result is None:
            return
        self.correct_options[question["question_id"]] = result["correct_option"]
        if random.random() < SUBMIT_RETRY_SHARE:
            self._same_answer("POST /questions/submit (retry)", "/questions/submit", body, result,
                              ("attempt_id", "is_correct", "correct_option"))

    @task(3)
    def flashcards(self) -> None:
        due = self._call("GET", "/flashcards/due", params={"limit": 10})
        if due is None:
            return
        cards = [card["flashcard_id"] for card in due["cards"][:2]]
        if not cards and self.reviewed_cards:
            cards = [random.choice(self.reviewed_cards)]  # nothing due: review one ahead (allowed)
        for flashcard_id in cards:
            body = {"flashcard_id": flashcard_id, "rating": random.choice((1, 2, 3, 3, 4, 4, 4, 5, 5)),
                    "review_id": uuid.uuid4().hex, "time_taken_seconds": random.randint(3, 60)}
            result = self._first_time("review", "/flashcards/review", body)
            if result is None:
                continue
            if flashcard_id not in self.reviewed_cards:
                self.reviewed_cards.append(flashcard_id)
            if random.random() < REVIEW_RETRY_SHARE:
                self._same_answer("POST /flashcards/review (retry)", "/flashcards/review", body, result,
                                  ("flashcard_id", "ease_factor", "interval", "repetitions", "next_review_date"))

    @task(2)
    def progress(self) -> None:
        self._call("GET", "/progress")

    @task(2)
    def leaderboard(self) -> None:
        if random.random() < 0.3:
            self._call("GET", "/leaderboard/weekly", name="GET /leaderboard/weekly?exam=",
                       params={"exam": self.record["exam"]})
        else:
            self._call("GET", "/leaderboard/weekly")

    @task(1)
    def calibration(self) -> None:
        self._call("GET", "/analytics/calibration")

    @task(1)
    def roadmap(self) -> None:
        if self.roadmap_job is not None:
            job = self._call("GET", f"/roadmaps/jobs/{self.roadmap_job}", name="GET /roadmaps/jobs/{job_id}",
                             wrong=lambda job: f"roadmap job failed: {job.get('error')}"
                             if job["status"] == "failed" else None)
            if job is None or job["status"] in ("done", "failed"):
                self.roadmap_job = None
            return
        requested = self._call("POST", "/roadmaps", expected=(200, 202),
                               json={"months_available": random.randint(2, 12)})
        if requested is not None and requested["status"] != "done":
            self.roadmap_job = requested["job_id"]


@events.quitting.add_listener
def _write_students(environment: Any, **_: Any) -> None:
    """Every student's record, for bench.load's XP check (after all users stopped)."""
    path = os.environ.get("MINDLY_LOAD_STUDENTS")
    if not path:
        return
    with open(path, "w", encoding="utf-8") as out:
        for record in STUDENTS:
            out.write(json.dumps(record) + "\n")
