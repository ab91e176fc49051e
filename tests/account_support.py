"""A student who has stored something through every route that stores anything, for the account
export and deletion tests (tests/integration/test_account_export.py, test_account_deletion.py)."""

from __future__ import annotations

import os
import uuid
from datetime import UTC, datetime
from typing import Any

from support import PASSWORD, HandlerClient, register, unique_email

from mindly.domain import calendar
from mindly.domain.content import content_id
from mindly.services import content
from mindly.store import notifications as notification_store

API = "/api/v1"
SOURCE = f"account-{uuid.uuid4().hex[:8]}"
SUBJECT, TOPIC = "Theory of Computation", "Turing Machines and Undecidability"
QUESTIONS, CARDS = 4, 3
# A CAT sectional mock test on Quantitative Aptitude takes 14 single-correct and 8 numeric questions;
# twice that, so a student's second paper still finds questions they have not seen.
QA, QA_TOPIC = "Quantitative Aptitude", "Number System"
QA_SINGLE, QA_NUMERIC = 28, 16


def seed_content() -> tuple[list[str], list[str]]:
    """Four GATE questions (key "A") and three flashcards of a source of their own."""
    questions = [{"source": SOURCE, "external_id": f"q{n}", "exam_type": "GATE", "subject": SUBJECT, "topic": TOPIC,
                  "difficulty": "medium", "stem": f"Account question {n}?",
                  "options": {"A": f"right {n}", "B": f"wrong {n}", "C": f"other {n}", "D": f"last {n}"},
                  "correct_option": "A", "explanation": "Because."} for n in range(QUESTIONS)]
    cards = [{"source": SOURCE, "external_id": f"c{n}", "exam_type": "GATE", "subject": SUBJECT, "topic": TOPIC,
              "question": f"Account card {n}?", "answer": f"Answer {n}", "difficulty": 3} for n in range(CARDS)]
    for kind, records in (("question", questions + _qa_bank()), ("flashcard", cards)):
        report = content.import_objects(kind, records)
        assert not report["errors"], report
    return ([content_id("question", SOURCE, f"q{n}") for n in range(QUESTIONS)],
            [content_id("flashcard", SOURCE, f"c{n}") for n in range(CARDS)])


def _qa_bank() -> list[dict[str, Any]]:
    """CAT Quantitative Aptitude questions (single-correct keyed "A", numeric answered ``n``), enough
    for a sectional mock test; tests/integration/test_mock_tests.py builds its bank the same way."""
    records: list[dict[str, Any]] = []
    for n in range(QA_SINGLE + QA_NUMERIC):
        record: dict[str, Any] = {"source": SOURCE, "external_id": f"qa{n}", "exam_type": "CAT", "subject": QA,
                                  "topic": QA_TOPIC, "difficulty": ("easy", "medium", "hard")[n % 3],
                                  "stem": f"Account QA question {n}?", "explanation": "Because."}
        if n < QA_SINGLE:
            record.update(options={"A": "one", "B": "two", "C": "three", "D": "four"}, correct_option="A")
        else:
            record.update(type="numeric", answer={"value": n, "tolerance": 0})
        records.append(record)
    return records


class Student:
    """A registered student and what they stored, through the real handlers."""

    def __init__(self, fns: dict[str, Any], name: str = "Meera Iyer") -> None:
        self.email = unique_email("account")
        answer = register(fns["auth"], email=self.email, name=name)
        assert answer.status == 201, answer
        self.user_id: str = answer.data["user"]["id"]
        self.token: str = answer.data["access_token"]
        self.fns = fns
        self.stored: dict[str, Any] = {}

    def to(self, function: str) -> HandlerClient:
        return HandlerClient(self.fns[function], token=self.token)

    def ok(self, answer: Any, *statuses: int) -> Any:
        assert answer.status in (statuses or (200,)), answer
        return answer.data

    def study(self, question_ids: list[str], card_ids: list[str], months: int) -> Student:
        """Something through every route that stores: profile, right and wrong answers (a mistake
        card), reviews and an undo, mock tests sat here (``sit_mock_tests``), notification settings,
        devices and the inbox (``set_up_notifications``), a recorded mock test, a roadmap job, a
        report, the progress and leaderboard reads (badges, streak, the weekly board), an analytics
        report (cached)."""
        self.ok(self.to("profile").put(f"{API}/profile", {
            "exam_type": "GATE", "level": "advanced", "study_hours_per_day": 5, "target_date": "2035-02-01",
            "weak_subjects": [SUBJECT], "timezone": "Asia/Kolkata"}))
        for question, option in ((question_ids[0], "A"), (question_ids[1], "B")):
            self.stored.setdefault("attempts", []).append(self.ok(self.to("questions").post(
                f"{API}/questions/submit", {"question_id": question, "selected_option": option,
                                            "confidence_rating": 4, "time_taken_seconds": 20})))
        for card in card_ids[:2]:
            self.stored.setdefault("reviews", []).append(self.ok(self.to("flashcards").post(
                f"{API}/flashcards/review", {"flashcard_id": card, "rating": 4})))
        self.ok(self.to("flashcards").post(f"{API}/flashcards/review/undo"))
        self.sit_mock_tests()
        self.set_up_notifications()
        today = calendar.local_date(datetime.now(tz=UTC), "Asia/Kolkata")
        self.stored["mock_test"] = self.ok(self.to("analytics").post(f"{API}/analytics/tests", {
            "test_name": f"Mock of {self.user_id}", "exam_type": "GATE", "taken_on": today.isoformat(),
            "total_questions": 65, "correct": 40, "wrong": 10, "time_taken_minutes": 180, "max_score": 100,
            "score": 61.5, "chapters": []}), 201)
        self.stored["roadmap"] = self.ok(self.to("roadmaps").post(f"{API}/roadmaps", {"months_available": months}),
                                         200, 202)
        self.stored["report"] = self.ok(self.to("questions").post(
            f"{API}/questions/{question_ids[2]}/reports",
            {"reason": "typo", "comment": f"typo seen by {self.user_id}"}), 201)
        self.stored["progress"] = self.ok(self.to("progress").get(f"{API}/progress"))
        self.stored["badges"] = self.ok(self.to("progress").get(f"{API}/progress/badges"))
        self.ok(self.to("progress").get(f"{API}/leaderboard/weekly"))
        self.ok(self.to("progress").get(f"{API}/leaderboard/weekly", query={"exam": "GATE"}))
        self.ok(self.to("analytics").get(f"{API}/analytics/calibration"))
        return self


    def sit_mock_tests(self) -> None:
        """Two CAT sectional tests (Quantitative Aptitude): one answered (a single-correct
        question) and submitted, which leaves its answers, chunk guards, list entry, attempts and
        result; one with a saved answer left in progress, which keeps its deadline index entry."""
        mock = self.to("mock_tests")
        for key, submit in (("finished_test", True), ("open_test", False)):
            paper = self.ok(mock.post(f"{API}/mock-tests", {"pattern_id": "cat", "subjects": [QA]}), 201)
            test_id = paper["mock_test_id"]
            [section] = paper["sections"]
            number = next(q["number"] for q in section["questions"] if q["question"]["type"] == "single")
            self.ok(mock.put(f"{API}/mock-tests/{test_id}/answers/{number}",
                             {"selected_option": "A", "time_spent_seconds": 40, "confidence_rating": 3}))
            if submit:
                self.ok(mock.post(f"{API}/mock-tests/{test_id}/submit"))
            self.stored[key] = {"mock_test_id": test_id, "number": number}

    def set_up_notifications(self) -> None:
        """Preferences set, an FCM and an APNs device registered, an inbox entry (as the reminders
        job files one) marked read."""
        notify = self.to("notifications")
        self.stored["preferences"] = self.ok(notify.put(f"{API}/notifications/preferences", {
            "streak_reminder": True, "reminder_time": "20:30", "email": False, "push": True}))
        self.stored["device_tokens"] = {platform: f"{platform}-token-{uuid.uuid4().hex}"
                                        for platform in ("fcm", "apns")}
        self.stored["devices"] = [self.ok(notify.post(f"{API}/notifications/devices",
                                                      {"platform": platform, "token": token}), 201)
                                  for platform, token in self.stored["device_tokens"].items()]
        at = datetime.now(tz=UTC).replace(microsecond=0)
        notification_id = f"{at.strftime('%Y%m%dT%H%M%SZ')}-streak"
        assert notification_store.add_to_inbox(self.user_id, notification_id, "streak_reminder", "Keep your streak",
                                               "Five minutes today keeps it alive", at)
        self.ok(notify.post(f"{API}/notifications/{notification_id}/read"))
        self.stored["notification_id"] = notification_id


def login(auth_fn: Any, email: str, password: str = PASSWORD) -> Any:
    return HandlerClient(auth_fn, source_ip=f"192.0.2.{uuid.uuid4().int % 250 + 1}").post(
        f"{API}/auth/login", {"email": email, "password": password})


def deletion_queue(sqs: Any) -> str:
    """The account deletion queue, emptied first."""
    url = os.environ["ACCOUNT_DELETION_QUEUE_URL"]
    while messages := sqs.receive_message(QueueUrl=url, MaxNumberOfMessages=10).get("Messages", []):
        for message in messages:
            sqs.delete_message(QueueUrl=url, ReceiptHandle=message["ReceiptHandle"])
    return url
