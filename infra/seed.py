"""Sample data for the local stack: what a newcomer finds after the start command.

Everything goes through the real services, so seeding exercises the same code as the API: accounts
and profiles through auth/profile, study activity through the progress engine (XP, streaks, the
weekly leaderboard), the badge catalog through its seeding command.
"""

from __future__ import annotations

import secrets
from datetime import UTC, date, datetime, timedelta
from pathlib import Path

from mindly.config import get_settings
from mindly.exceptions import Conflict
from mindly.services import auth, leaderboard, profile
from mindly.services import progress as engine
from mindly.store import users

DEMO_EMAIL = "demo.student@mindly.local"
DEMO_NAME = "Demo Student"
# Classmates on the demo student's weekly leaderboard: (name, exam, time zone, correct answers a day).
CLASSMATES = (
    ("Aarav Sharma", "GATE", "Asia/Kolkata", 6),
    ("Diya Patel", "JEE", "Asia/Kolkata", 4),
    ("Kabir Singh", "UPSC", "America/New_York", 3),
    ("Meera Nair", "NEET", "Europe/London", 5),
)
STUDY_DAYS = 3  # days of activity before today, so streaks are running


def _account(email: str, password: str, name: str) -> tuple[str, bool]:
    """The user id of an account (created when absent) and whether it was created now."""
    try:
        return auth.register(get_settings(), email, password, name).user.user_id, True
    except Conflict:
        existing = users.find_user_id_by_email(email)
        assert existing is not None
        return existing, False


def _profile(user_id: str, exam: str, zone: str, weak: list[str]) -> None:
    profile.put_profile(user_id, exam_type=exam, level="intermediate", study_hours_per_day=4,
                        target_date=date.today() + timedelta(days=180), weak_subjects=weak, daily_goal=20,
                        timezone_name=zone)


def _study(user_id: str, name: str, exam: str, zone: str, per_day: int, now: datetime) -> None:
    """Answers on each of the last STUDY_DAYS days and today (idempotent: fixed activity keys)."""
    student = engine.Student(user_id=user_id, timezone=zone, daily_goal=20, name=name)
    mirror = leaderboard.mirror_award(name)
    for days_ago in range(STUDY_DAYS, -1, -1):
        at = now - timedelta(days=days_ago)
        for index in range(per_day):
            activity = engine.Activity(key=f"seed-{days_ago}-{index}", kind="answer", at=at,
                                       correct=index % 4 != 3, exam=exam)
            engine.record_activity(student, activity, get_settings().leaderboard_timezone, mirror)
        engine.record_activity(student, engine.Activity(key=f"seed-{days_ago}-review", kind="review", at=at,
                                                        exam=exam), get_settings().leaderboard_timezone, mirror)


def seed_demo_student(password: str, now: datetime | None = None) -> str:
    """Create (once) a GATE student with a profile and a few days of study; returns the user id."""
    user_id, created = _account(DEMO_EMAIL, password, DEMO_NAME)
    if created:
        _profile(user_id, "GATE", "Asia/Kolkata", ["Theory of Computation", "Operating System"])
        _study(user_id, DEMO_NAME, "GATE", "Asia/Kolkata", 5, now or datetime.now(UTC))
        _demo_analytics(user_id, now or datetime.now(UTC))
    return user_id


# The demo student's mock tests: (weeks ago, score of 100, correct, wrong, chapters).
DEMO_MOCK_TESTS = [
    (4, 38, 30, 25, [("Theory of Computation", "Regular Languages and Finite Automata", 2, 6),
                     ("Operating System", "Deadlock", 1, 4), ("Algorithms", "Greedy", 4, 5)]),
    (3, 44, 34, 22, [("Theory of Computation", "Regular Languages and Finite Automata", 3, 6),
                     ("Operating System", "Deadlock", 2, 4), ("Databases", "Normal Forms", 4, 5)]),
    (2, 47, 36, 21, [("Theory of Computation", "Turing Machines and Undecidability", 1, 5),
                     ("Operating System", "CPU Scheduling", 2, 5), ("Algorithms", "Greedy", 5, 5)]),
    (1, 53, 40, 18, [("Theory of Computation", "Regular Languages and Finite Automata", 4, 6),
                     ("Operating System", "Deadlock", 2, 4), ("Computer Networks", "IP Addressing", 3, 4)]),
]


def _demo_analytics(user_id: str, now: datetime) -> None:
    """Something for the analytics endpoints to show: answers to the 15 sample GATE questions over
    the last three days (five a day: the daily goal of 20 stays unmet), with confidence ratings (sure
    of the wrong ones, unsure of some right ones; 10 right = 100 XP), and four weekly mock tests with a
    rising score."""
    from mindly.services import analytics, questions
    from mindly.store import content as content_store

    page = questions.practice(user_id, "GATE", None, None, None, 1, 15, None)["items"]
    for index, item in enumerate(page):
        stored = content_store.get_question(item["question_id"])
        if stored is None:
            continue
        right = index % 3 != 0
        wrong = next(letter for letter in sorted(item["options"]) if letter != stored.correct_option)
        questions.submit(user_id, DEMO_NAME, item["question_id"], stored.correct_option if right else wrong,
                         2 + index % 3 if right else 4 + index % 2, 40 + 7 * index, f"seed-attempt-{index}",
                         get_settings().leaderboard_timezone, now - timedelta(days=1 + index % 3, minutes=index))
    for number, (weeks_ago, score, correct, wrong_count, chapters) in enumerate(DEMO_MOCK_TESTS, start=1):
        analytics.record_mock_test(user_id, {
            "test_id": f"demo-mock-{number}", "test_name": f"GATE full mock {number}", "exam_type": "GATE",
            "taken_on": (now - timedelta(weeks=weeks_ago)).date(), "total_questions": 65, "correct": correct,
            "wrong": wrong_count, "time_taken_minutes": 175, "max_score": 100, "score": score,
            "chapters": [{"subject": s, "chapter": c, "correct": r, "total": t} for s, c, r, t in chapters]}, now)


def seed_classmates(now: datetime | None = None) -> list[str]:
    """Sample students on this week's leaderboard (they cannot log in: their passwords are random
    and never shown)."""
    ids = []
    for name, exam, zone, per_day in CLASSMATES:
        email = f"{name.split()[0].lower()}.sample@mindly.local"
        user_id, created = _account(email, secrets.token_urlsafe(16), name)
        if created:
            _profile(user_id, exam, zone, [])
            _study(user_id, name, exam, zone, per_day, now or datetime.now(UTC))
        ids.append(user_id)
    return ids


def seed_badges() -> dict[str, int]:
    """Store the bundled badge catalog (idempotent)."""
    from mindly.services import badges

    return badges.seed()


SAMPLE_CONTENT = Path(__file__).resolve().parent / "sample_content"


def seed_content() -> dict[str, object]:
    """Import the bundled sample questions and flashcards (idempotent: they are skipped when there)."""
    from mindly.domain.content_formats import read_records
    from mindly.services import content

    summary: dict[str, object] = {}
    for kind in content.KINDS:
        text = (SAMPLE_CONTENT / f"{kind}s.json").read_text(encoding="utf-8")
        report = content.import_records(kind, read_records(text, "json", kind))
        if report["errors"]:
            raise RuntimeError(f"sample {kind}s do not import: {report['errors'][:3]}")
        summary[f"{kind}s"] = report["imported"] + report["skipped"]
    return summary


def seed_all(demo_password: str) -> dict[str, object]:
    """Seed every kind of sample data the local stack offers; returns a summary to print."""
    return {"badges": seed_badges(), "content": seed_content(),
            "demo_student": {"email": DEMO_EMAIL, "user_id": seed_demo_student(demo_password)},
            "classmates": len(seed_classmates())}
