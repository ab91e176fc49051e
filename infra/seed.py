"""Sample data for the local stack: what a newcomer finds after the start command.

Everything goes through the real services, so seeding exercises the same code as the API.
"""

from __future__ import annotations

from datetime import date, timedelta

from mindly.config import get_settings
from mindly.exceptions import Conflict
from mindly.services import auth, profile
from mindly.store import users

DEMO_EMAIL = "demo.student@mindly.local"
DEMO_NAME = "Demo Student"


def seed_demo_student(password: str) -> str:
    """Create (once) a GATE student with a profile; returns the user id."""
    settings = get_settings()
    try:
        user_id = auth.register(settings, DEMO_EMAIL, password, DEMO_NAME).user.user_id
    except Conflict:
        existing = users.find_user_id_by_email(DEMO_EMAIL)
        assert existing is not None
        return existing
    profile.put_profile(
        user_id, exam_type="GATE", level="intermediate", study_hours_per_day=4,
        target_date=date.today() + timedelta(days=180),
        weak_subjects=["Theory of Computation", "Operating System"], daily_goal=20,
        timezone_name="Asia/Kolkata",
    )
    return user_id


def seed_badges() -> dict[str, int]:
    """Store the bundled badge catalog (idempotent)."""
    from mindly.services import badges

    return badges.seed()


def seed_all(demo_password: str) -> dict[str, object]:
    """Seed every kind of sample data the local stack offers; returns a summary to print."""
    return {"badges": seed_badges(),
            "demo_student": {"email": DEMO_EMAIL, "user_id": seed_demo_student(demo_password)}}
