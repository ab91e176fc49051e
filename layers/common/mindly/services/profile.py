"""The student's study profile and the syllabus it is checked against."""

from __future__ import annotations

from datetime import UTC, date, datetime
from typing import Any
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from mindly.domain import syllabus
from mindly.exceptions import InvalidExamType, NotFound, ValidationFailed
from mindly.store import users
from mindly.store.models import ProfileItem

LEVELS = ("beginner", "intermediate", "advanced")
DEFAULT_DAILY_GOAL = 20
DEFAULT_TIMEZONE = "Asia/Kolkata"
DEFAULT_NEW_CARDS = 20
SCHEDULERS = ("sm2", "fsrs")


def exam_code(exam: str) -> str:
    """The canonical code of ``exam``; InvalidExamType (422) when it is not one we prepare for."""
    code = syllabus.normalize_exam(exam)
    if code is None:
        raise InvalidExamType(f"Unknown exam type '{exam[:40]}'; expected one of "
                              f"{', '.join(syllabus.EXAM_TYPES)}", field="exam_type")
    return code


def exam_for(user_id: str, exam: str | None) -> str:
    """The exam asked for, or else the profile's; INVALID_EXAM_TYPE when neither is known."""
    if exam:
        return exam_code(exam)
    profile = users.get_profile(user_id)
    if profile is None:
        raise InvalidExamType("No exam given and no profile set; pass exam= or PUT /api/v1/profile", field="exam")
    return str(profile.exam_type)


def syllabus_of(exam: str) -> dict[str, Any]:
    code = exam_code(exam)
    return {
        "exam_type": code,
        "name": syllabus.EXAM_NAMES[code],
        "subjects": [{"subject": s.name, "topics": list(s.topics)} for s in syllabus.subjects(code)],
    }


def _zone(name: str) -> ZoneInfo:
    try:
        if "/" not in name and name != "UTC":
            raise ZoneInfoNotFoundError(name)
        return ZoneInfo(name)
    except (ZoneInfoNotFoundError, ValueError, OSError) as exc:  # a folder name (America/Indiana) is an OSError
        raise ValidationFailed("not a known IANA time zone", field="timezone") from exc


def as_dict(profile: ProfileItem) -> dict[str, Any]:
    return {
        "exam_type": profile.exam_type,
        "level": profile.level,
        "study_hours_per_day": float(profile.study_hours_per_day),
        "target_date": profile.target_date,
        "weak_subjects": list(profile.weak_subjects),
        "daily_goal": int(profile.daily_goal),
        "timezone": profile.timezone,
        "new_cards_per_day": int(profile.new_cards_per_day),
        "scheduler": profile.scheduler,
    }


def get_profile(user_id: str) -> dict[str, Any]:
    profile = users.get_profile(user_id)
    if profile is None:
        raise NotFound("Profile not set yet; PUT /api/v1/profile first")
    return as_dict(profile)


def put_profile(user_id: str, exam_type: str, level: str, study_hours_per_day: float, target_date: date,
                weak_subjects: list[str], daily_goal: int | None, timezone_name: str | None,
                now: datetime | None = None, new_cards_per_day: int | None = None,
                scheduler: str | None = None) -> dict[str, Any]:
    """Replace the profile. daily_goal, timezone, new_cards_per_day and scheduler keep their
    current values when omitted (daily_goal is also changed by PUT /progress/daily-goal), else take
    the defaults."""
    code = exam_code(exam_type)
    if level not in LEVELS:
        raise ValidationFailed(f"level must be one of {', '.join(LEVELS)}", field="level")
    existing = users.get_profile(user_id)
    zone_name = timezone_name or (existing.timezone if existing else DEFAULT_TIMEZONE)
    zone = _zone(zone_name)
    now = now or datetime.now(UTC)
    if target_date <= now.astimezone(zone).date():
        raise ValidationFailed("target_date must be in the future", field="target_date")
    subjects = []
    for index, name in enumerate(weak_subjects):
        canonical = syllabus.canonical_subject(code, name)
        if canonical is None:
            raise ValidationFailed(f"'{name[:60]}' is not a subject of {code}",
                                   field=f"weak_subjects.{index}")
        if canonical not in subjects:
            subjects.append(canonical)
    goal = daily_goal if daily_goal is not None else (int(existing.daily_goal) if existing else DEFAULT_DAILY_GOAL)
    if scheduler is not None and scheduler not in SCHEDULERS:
        raise ValidationFailed(f"scheduler must be one of {', '.join(SCHEDULERS)}", field="scheduler")
    new_cards = new_cards_per_day if new_cards_per_day is not None else (
        int(existing.new_cards_per_day) if existing else DEFAULT_NEW_CARDS)
    profile = ProfileItem(
        users.user_key(user_id), "PROFILE", exam_type=code, level=level,
        study_hours_per_day=study_hours_per_day, target_date=target_date.isoformat(),
        weak_subjects=subjects, daily_goal=goal, timezone=zone_name, new_cards_per_day=new_cards,
        scheduler=scheduler or (existing.scheduler if existing else SCHEDULERS[0]), updated_at=now,
        deck_positions=existing.deck_positions if existing else None,
    )
    users.save_profile(profile)
    # The reminder follows the profile's zone (and a new student gets the default reminder).
    # Imported here: every function reads profiles, only a profile's change re-schedules its reminder,
    # and the reminder code (SNS, SES, the notification items) would otherwise load at every cold start.
    from mindly.services import notifications

    notifications.follow_profile(user_id, zone_name, now)
    return as_dict(profile)
