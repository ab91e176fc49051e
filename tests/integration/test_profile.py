"""Profile and syllabus endpoints (API.md "Profile") through the profile function's real handler."""

from __future__ import annotations

from datetime import date, datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo

import pytest
from support import Answer, HandlerClient, register

API = "/api/v1"
PROFILE_KEYS = {"exam_type", "level", "study_hours_per_day", "target_date", "weak_subjects", "daily_goal",
                "new_cards_per_day", "scheduler",
                "timezone"}
EXAMS = ("UPSC", "GATE", "JEE", "CAT", "NEET")


def _future(days: int = 200) -> str:
    return (date.today() + timedelta(days=days)).isoformat()


def _valid_body(**changes: Any) -> dict[str, Any]:
    body: dict[str, Any] = {
        "exam_type": "GATE",
        "level": "intermediate",
        "study_hours_per_day": 4.5,
        "target_date": _future(),
        "weak_subjects": ["Algorithms", "Operating System"],
    }
    body.update(changes)
    return {k: v for k, v in body.items() if v is not ...}


@pytest.fixture
def student(auth_fn: Any, profile_fn: Any) -> HandlerClient:
    """A freshly registered student, talking to the profile function."""
    answer = register(auth_fn)
    assert answer.status == 201, answer
    return HandlerClient(profile_fn, token=answer.data["access_token"])


def _assert_validation_error(answer: Answer, code: str = "VALIDATION_ERROR", field: str | None = None) -> None:
    assert answer.status == 422, answer
    assert answer.json["success"] is False
    assert answer.json["data"] is None
    codes = {e["code"] for e in answer.json["errors"]}
    assert codes == {code}, answer.json["errors"]
    if field is not None:
        assert field in {e["field"] for e in answer.json["errors"]}, answer.json["errors"]


# --- GET / PUT /profile --------------------------------------------------------------------------

def test_profile_is_404_before_it_is_set(student: HandlerClient) -> None:
    # Given a new student
    # When they read their profile
    answer = student.get(f"{API}/profile")
    # Then it does not exist yet
    assert answer.status == 404, answer
    assert answer.json["errors"][0]["code"] == "NOT_FOUND"


def test_put_profile_answers_exactly_the_profile_with_defaults(student: HandlerClient) -> None:
    # Given a valid profile without daily_goal or timezone
    body = _valid_body()
    # When it is saved
    answer = student.put(f"{API}/profile", body)
    # Then the answer is exactly the profile, with the default goal and time zone
    assert answer.status == 200, answer
    assert set(answer.data) == PROFILE_KEYS
    assert answer.data == {
        "exam_type": "GATE",
        "level": "intermediate",
        "study_hours_per_day": 4.5,
        "target_date": body["target_date"],
        "weak_subjects": ["Algorithms", "Operating System"],
        "daily_goal": 20,
        "timezone": "Asia/Kolkata",
        "new_cards_per_day": 20,
        "scheduler": "sm2",
    }
    # And GET returns the same
    read = student.get(f"{API}/profile")
    assert read.status == 200, read
    assert read.data == answer.data


def test_put_profile_keeps_given_goal_and_timezone(student: HandlerClient) -> None:
    # Given a profile with its own goal and time zone
    # When it is saved
    answer = student.put(f"{API}/profile", _valid_body(daily_goal=35, timezone="Europe/London"))
    # Then they are kept
    assert answer.status == 200, answer
    assert answer.data["daily_goal"] == 35
    assert answer.data["timezone"] == "Europe/London"


def test_exam_and_subjects_are_accepted_in_any_case_and_normalized(student: HandlerClient) -> None:
    # Given a lower-case exam and subjects spelled loosely, one of them twice
    body = _valid_body(exam_type="gate", weak_subjects=["algorithms", " Databases ", "ALGORITHMS"])
    # When the profile is saved
    answer = student.put(f"{API}/profile", body)
    # Then the exam and the subjects take their syllabus spelling, without duplicates
    assert answer.status == 200, answer
    assert answer.data["exam_type"] == "GATE"
    assert answer.data["weak_subjects"] == ["Algorithms", "Databases"]


def test_a_whole_number_of_study_hours_is_accepted(student: HandlerClient) -> None:
    # Given / When study hours are sent as a JSON integer
    answer = student.put(f"{API}/profile", _valid_body(study_hours_per_day=4))
    # Then it is a valid number of hours
    assert answer.status == 200, answer
    assert answer.data["study_hours_per_day"] == 4


def test_an_unknown_exam_is_invalid_exam_type(student: HandlerClient) -> None:
    # Given / When the exam is not one Mindly prepares for
    answer = student.put(f"{API}/profile", _valid_body(exam_type="SAT"))
    # Then it is 422 INVALID_EXAM_TYPE
    _assert_validation_error(answer, code="INVALID_EXAM_TYPE")


def test_a_weak_subject_outside_the_exams_syllabus_is_rejected(student: HandlerClient) -> None:
    # Given a JEE profile naming a GATE subject
    body = _valid_body(exam_type="JEE", weak_subjects=["Physics", "Algorithms"])
    # When it is saved
    answer = student.put(f"{API}/profile", body)
    # Then it is a 422 naming the offending entry
    _assert_validation_error(answer)
    assert answer.json["errors"][0]["field"].startswith("weak_subjects")
    assert answer.json["errors"][0]["field"] == "weak_subjects.1"


@pytest.mark.parametrize(("change", "field"), [
    pytest.param({"study_hours_per_day": 0.4}, "study_hours_per_day", id="hours-0.4"),
    pytest.param({"study_hours_per_day": 16.5}, "study_hours_per_day", id="hours-16.5"),
    pytest.param({"study_hours_per_day": "4"}, "study_hours_per_day", id="hours-string"),
    pytest.param({"study_hours_per_day": True}, "study_hours_per_day", id="hours-bool"),
    pytest.param({"daily_goal": 0}, "daily_goal", id="goal-0"),
    pytest.param({"daily_goal": 501}, "daily_goal", id="goal-501"),
    pytest.param({"daily_goal": "20"}, "daily_goal", id="goal-string"),
    pytest.param({"level": "expert"}, "level", id="level-unknown"),
    pytest.param({"target_date": "not-a-date"}, "target_date", id="date-garbage"),
    pytest.param({"target_date": (date.today() - timedelta(days=30)).isoformat()}, "target_date",
                 id="date-past"),
    pytest.param({"timezone": "Mars/Olympus_Mons"}, "timezone", id="tz-unknown"),
    pytest.param({"timezone": "Kolkata"}, "timezone", id="tz-no-area"),
    pytest.param({"timezone": "../../etc/passwd"}, "timezone", id="tz-path-traversal"),
    pytest.param({"timezone": "America/Indiana"}, "timezone", id="tz-folder-of-zones"),
    pytest.param({"weak_subjects": "Algorithms"}, "weak_subjects", id="subjects-not-a-list"),
    pytest.param({"exam_type": ...}, "exam_type", id="exam-missing"),
    pytest.param({"favourite_colour": "blue"}, "favourite_colour", id="unknown-field"),
])
def test_invalid_profiles_are_422_naming_the_field(student: HandlerClient, change: dict[str, Any],
                                                   field: str) -> None:
    # Given a profile with one invalid value (or a missing or unknown field)
    body = _valid_body(**change)
    # When it is saved
    answer = student.put(f"{API}/profile", body)
    # Then it is a 422 VALIDATION_ERROR naming that field, and nothing is stored
    _assert_validation_error(answer, field=field)
    assert student.get(f"{API}/profile").status == 404


def test_target_date_today_in_the_students_zone_is_rejected(student: HandlerClient) -> None:
    # Given today's date where the student lives (it can only be <= the server's "today" when it checks)
    today = datetime.now(ZoneInfo("Asia/Kolkata")).date().isoformat()
    # When it is sent as the target date
    answer = student.put(f"{API}/profile", _valid_body(target_date=today))
    # Then the target must be in the future
    _assert_validation_error(answer, field="target_date")


def test_put_without_daily_goal_keeps_the_previous_goal_and_timezone(student: HandlerClient) -> None:
    # Given a profile with a goal of 42 in the London time zone
    first = student.put(f"{API}/profile", _valid_body(daily_goal=42, timezone="Europe/London"))
    assert first.status == 200, first
    # When the profile is replaced without daily_goal or timezone
    second = student.put(f"{API}/profile", _valid_body(exam_type="CAT", level="advanced",
                                                       weak_subjects=["Quantitative Aptitude"]))
    # Then the rest changes but the goal and time zone are kept
    assert second.status == 200, second
    assert second.data["exam_type"] == "CAT"
    assert second.data["level"] == "advanced"
    assert second.data["daily_goal"] == 42
    assert second.data["timezone"] == "Europe/London"
    assert student.get(f"{API}/profile").data == second.data


def test_each_student_sees_only_their_own_profile(auth_fn: Any, profile_fn: Any, student: HandlerClient) -> None:
    # Given a student with a profile
    assert student.put(f"{API}/profile", _valid_body(exam_type="NEET", weak_subjects=["Botany"])).status == 200
    # And another student
    other_token = register(auth_fn).data["access_token"]
    other = HandlerClient(profile_fn, token=other_token)
    # When the other student reads "their" profile
    answer = other.get(f"{API}/profile")
    # Then they do not see the first student's
    assert answer.status == 404, answer
    # And writing their own leaves the first student's untouched
    assert other.put(f"{API}/profile", _valid_body(exam_type="UPSC", weak_subjects=["Polity"])).status == 200
    assert student.get(f"{API}/profile").data["exam_type"] == "NEET"
    assert other.get(f"{API}/profile").data["exam_type"] == "UPSC"


@pytest.mark.parametrize("method", ["GET", "PUT"])
def test_profile_needs_authentication(profile_fn: Any, method: str) -> None:
    # Given / When the profile is called without a token
    answer = HandlerClient(profile_fn).request(method, f"{API}/profile",
                                               _valid_body() if method == "PUT" else None)
    # Then it is 401
    assert answer.status == 401, answer
    assert answer.json["errors"][0]["code"] == "AUTHENTICATION_ERROR"


# --- GET /syllabus/{exam} ------------------------------------------------------------------------

@pytest.mark.parametrize("exam", EXAMS)
def test_every_exam_has_subjects_with_topics(profile_fn: Any, exam: str) -> None:
    # Given / When anyone (no token) asks for an exam's syllabus
    answer = HandlerClient(profile_fn).get(f"{API}/syllabus/{exam}")
    # Then it lists subjects, each with topics
    assert answer.status == 200, answer
    assert answer.data["exam_type"] == exam
    subjects = answer.data["subjects"]
    assert subjects
    for subject in subjects:
        assert subject["subject"]
        assert subject["topics"] and all(isinstance(t, str) and t for t in subject["topics"])
    assert len({s["subject"] for s in subjects}) == len(subjects)


def test_syllabus_accepts_a_lower_case_exam(profile_fn: Any) -> None:
    answer = HandlerClient(profile_fn).get(f"{API}/syllabus/neet")
    assert answer.status == 200, answer
    assert answer.data["exam_type"] == "NEET"


def test_syllabus_of_an_unknown_exam_is_invalid_exam_type(profile_fn: Any) -> None:
    # Given / When the syllabus of an exam Mindly does not cover is asked for
    answer = HandlerClient(profile_fn).get(f"{API}/syllabus/SAT")
    # Then it is 422 INVALID_EXAM_TYPE
    _assert_validation_error(answer, code="INVALID_EXAM_TYPE")


def test_profile_subjects_are_the_syllabus_subjects(profile_fn: Any, student: HandlerClient) -> None:
    # Given every subject the syllabus lists for UPSC
    syllabus = HandlerClient(profile_fn).get(f"{API}/syllabus/UPSC").data
    names = [s["subject"] for s in syllabus["subjects"]]
    # When a profile names all of them as weak
    answer = student.put(f"{API}/profile", _valid_body(exam_type="UPSC", weak_subjects=names))
    # Then all are accepted
    assert answer.status == 200, answer
    assert answer.data["weak_subjects"] == names
