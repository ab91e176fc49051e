"""The answer models of the auth, profile, progress and admin functions (and the health check they
share with auth) against what those functions really send: every route is called through its real
Lambda handler and its ``data`` validated with the model its OpenAPI document declares, so a model
that does not match the server fails here.

Each answer is validated twice: as the Python value (``model_validate``) and as the JSON text in
strict mode, so a number sent as 3.0 where the model says integer, or a string where it says number,
fails too.
"""

from __future__ import annotations

import json
import typing
import uuid
from datetime import UTC, datetime
from typing import Any

import pytest
import support
from support import PASSWORD, Answer, HandlerClient, register

from mindly.domain import syllabus
from mindly.http.app import Health
from mindly.services import badges as badge_catalog
from mindly.services import leaderboard
from mindly.services import progress as engine
from mindly.store import progress as store

API = "/api/v1"
ZONE = "Asia/Kolkata"
SOURCE = f"models-{uuid.uuid4().hex[:8]}"
PROFILE = {"exam_type": "gate", "level": "beginner", "study_hours_per_day": 3, "target_date": "2035-05-01",
           "weak_subjects": ["algorithms", "Algorithms"]}


def conforms(model: Any, answer: Answer, status: int = 200) -> Any:
    """``answer`` has ``status`` and its data is ``model``: as Python values, and as strict JSON."""
    assert answer.status == status, answer
    model.model_rebuild()
    model.model_validate(answer.data)
    return model.model_validate_json(json.dumps(answer.data), strict=True)


def declared(module: Any, path: str, method: str) -> str:
    """The data model the function's OpenAPI document types ``method path``'s success with."""
    operation = module.app.openapi()["paths"][path][method]
    success = next(response for status, response in operation["responses"].items() if int(status) < 400)
    return str(success["content"]["application/json"]["schema"]["$ref"].rsplit("/", 1)[1].removesuffix("Envelope"))


@pytest.fixture(scope="module")
def student(auth_fn: Any) -> tuple[str, str, str]:
    """A fresh student: email, access token, refresh token."""
    answer = register(auth_fn, name="Model Student")
    assert answer.status == 201, answer
    return answer.data["user"]["email"], answer.data["access_token"], answer.data["refresh_token"]


# --- auth and health ---------------------------------------------------------------------------------

def test_health_answers_its_model(auth_fn: Any) -> None:
    answer = HandlerClient(auth_fn).get(f"{API}/health")
    health = conforms(Health, answer)
    assert health.status == "ok"
    assert declared(auth_fn, f"{API}/health", "get") == "Health"


def test_register_login_refresh_and_me_answer_their_models(auth_fn: Any) -> None:
    # Given a new account (register answers the session's tokens)
    registered = register(auth_fn, email=support.unique_email("Models"), name="Ravi Kumar")
    tokens = conforms(auth_fn.AuthTokens, registered, status=201)
    assert (tokens.token_type, tokens.user.role) == ("bearer", "student")
    client = HandlerClient(auth_fn)
    # When it signs in, refreshes by body and by cookie, and asks who it is
    login = client.post(f"{API}/auth/login", {"email": tokens.user.email, "password": PASSWORD})
    conforms(auth_fn.AuthTokens, login)
    by_body = client.post(f"{API}/auth/refresh", {"refresh_token": login.data["refresh_token"]})
    conforms(auth_fn.AuthTokens, by_body)
    by_cookie = client.post(f"{API}/auth/refresh", cookies=[f"refresh_token={by_body.data['refresh_token']}"])
    conforms(auth_fn.AuthTokens, by_cookie)
    me = HandlerClient(auth_fn, token=by_cookie.data["access_token"]).get(f"{API}/auth/me")
    # Then every answer is its model, and the documents say so
    assert conforms(auth_fn.SignedInAccount, me).email == tokens.user.email
    for path, method, model in ((f"{API}/auth/register", "post", "AuthTokens"),
                                (f"{API}/auth/login", "post", "AuthTokens"),
                                (f"{API}/auth/refresh", "post", "AuthTokens"),
                                (f"{API}/auth/me", "get", "SignedInAccount")):
        assert declared(auth_fn, path, method) == model


def test_an_admin_account_is_its_model(auth_fn: Any) -> None:
    me = HandlerClient(auth_fn, token=support.admin_token(auth_fn, name="Model Admin")).get(f"{API}/auth/me")
    assert conforms(auth_fn.SignedInAccount, me).role == "admin"


def test_logout_and_google_answer_no_data(auth_fn: Any) -> None:
    email = register(auth_fn, name="Model Leaver").data["user"]["email"]
    tokens = [HandlerClient(auth_fn).post(f"{API}/auth/login", {"email": email, "password": PASSWORD})
              .data["access_token"] for _ in range(2)]
    for path, token in ((f"{API}/auth/logout", tokens[0]), (f"{API}/auth/logout-all", tokens[1])):
        answer = HandlerClient(auth_fn, token=token).post(path)
        assert (answer.status, answer.data) == (200, None), answer
    google = HandlerClient(auth_fn).get(f"{API}/auth/google")
    assert (google.status, google.data) == (501, None), google
    operations = {operation["operationId"] for item in auth_fn.app.openapi()["paths"].values()
                  for operation in item.values()}
    assert operations == {"getHealth", "register", "login", "refreshTokens", "logout", "logoutAll", "getMe",
                          "signInWithGoogle", "requestEmailVerification", "verifyEmail", "forgotPassword",
                          "resetPassword", "exportAccount", "deleteAccount"}


# --- profile and syllabus ------------------------------------------------------------------------------

def test_profile_answers_its_model(profile_fn: Any, student: tuple[str, str, str]) -> None:
    client = HandlerClient(profile_fn, token=student[1])
    # Given no profile yet: a 404, no data
    assert client.get(f"{API}/profile").status == 404
    # When one is stored with the optional fields omitted, then with all of them
    first = conforms(profile_fn.ProfileView, client.put(f"{API}/profile", PROFILE))
    full = {**PROFILE, "study_hours_per_day": 2.5, "daily_goal": 7, "timezone": "UTC", "new_cards_per_day": 0,
            "scheduler": "fsrs", "weak_subjects": []}
    second = conforms(profile_fn.ProfileView, client.put(f"{API}/profile", full))
    # Then each answer, and the stored profile read back, is the model
    stored = conforms(profile_fn.ProfileView, client.get(f"{API}/profile"))
    assert (first.exam_type, first.weak_subjects, first.scheduler) == ("GATE", ["Algorithms"], "sm2")
    assert stored == second and stored.study_hours_per_day == 2.5
    assert {declared(profile_fn, f"{API}/profile", method) for method in ("get", "put")} == {"ProfileView"}


def test_every_syllabus_answers_its_model(profile_fn: Any) -> None:
    # The model's exam types are exactly the syllabus's
    assert typing.get_args(profile_fn.ExamType) == syllabus.EXAM_TYPES
    client = HandlerClient(profile_fn)
    for exam in syllabus.EXAM_TYPES:
        answer = conforms(profile_fn.Syllabus, client.get(f"{API}/syllabus/{exam.lower()}"))
        assert answer.exam_type == exam and answer.subjects
    assert declared(profile_fn, f"{API}/syllabus/{{exam}}", "get") == "Syllabus"


# --- progress, badges, leaderboard ---------------------------------------------------------------------

@pytest.fixture
def learner(auth_fn: Any, progress_fn: Any, profile_fn: Any) -> tuple[HandlerClient, str]:
    """A fresh student with a profile: the progress client and the user id."""
    answer = register(auth_fn, name="Model Learner")
    token = answer.data["access_token"]
    assert HandlerClient(profile_fn, token=token).put(f"{API}/profile", PROFILE).status == 200
    return HandlerClient(progress_fn, token=token), answer.data["user"]["id"]


def _answer_now(user_id: str, key: str) -> None:
    student = engine.student_of(user_id, "Model Learner")
    engine.record_activity(student, engine.Activity(key=key, kind="answer", at=datetime.now(UTC), correct=True,
                                                    exam="GATE"), ZONE, leaderboard.mirror_award(student.name))


def test_progress_and_daily_goal_answer_their_models(learner: tuple[HandlerClient, str],
                                                     progress_fn: Any) -> None:
    client, user_id = learner
    # Given no activity yet: never active, no rank
    fresh = conforms(progress_fn.ProgressView, client.get(f"{API}/progress"))
    assert fresh.last_active_date is None
    # When the student answers and lowers today's goal to it
    _answer_now(user_id, f"{user_id}-1")
    active = conforms(progress_fn.ProgressView, client.get(f"{API}/progress"))
    today = conforms(progress_fn.ProgressToday, client.put(f"{API}/progress/daily-goal", {"target_questions": 1}))
    # Then both are their models
    assert active.last_active_date is not None and active.xp_total == 10
    assert (today.goal_met, today.daily_goal) == (True, 1)
    assert declared(progress_fn, f"{API}/progress", "get") == "ProgressView"
    assert declared(progress_fn, f"{API}/progress/daily-goal", "put") == "ProgressToday"


def test_badges_answer_their_model(learner: tuple[HandlerClient, str], progress_fn: Any) -> None:
    client, user_id = learner
    badge_catalog.seed()
    # Given nothing earned: every badge available, combined criteria included
    none_yet = conforms(progress_fn.BadgesView, client.get(f"{API}/progress/badges"))
    assert none_yet.earned == [] and any(isinstance(b.criteria, progress_fn.BadgeAllOf) for b in none_yet.available)
    # When one is earned, it is the earned model
    store.BadgeItem(store.student_key(user_id), "BADGE#streak-7", badge_id="streak-7",
                    earned_at=datetime(2031, 1, 1, tzinfo=UTC)).save()
    some = conforms(progress_fn.BadgesView, client.get(f"{API}/progress/badges"))
    assert [b.badge_id for b in some.earned] == ["streak-7"]
    assert declared(progress_fn, f"{API}/progress/badges", "get") == "BadgesView"


def test_weekly_leaderboard_answers_its_model(learner: tuple[HandlerClient, str], progress_fn: Any) -> None:
    client, user_id = learner
    # Given no XP this week: no rank
    before = conforms(progress_fn.WeeklyLeaderboard, client.get(f"{API}/leaderboard/weekly"))
    assert before.me.rank is None
    # When the student earns XP: ranked, on the overall and the exam board
    _answer_now(user_id, f"{user_id}-board")
    overall = conforms(progress_fn.WeeklyLeaderboard, client.get(f"{API}/leaderboard/weekly"))
    by_exam = conforms(progress_fn.WeeklyLeaderboard, client.get(f"{API}/leaderboard/weekly", query={"exam": "GATE"}))
    assert overall.me.rank is not None and overall.top and by_exam.me.xp == 10
    assert declared(progress_fn, f"{API}/leaderboard/weekly", "get") == "WeeklyLeaderboard"


def test_progress_operation_ids(progress_fn: Any) -> None:
    operations = {operation["operationId"] for item in progress_fn.app.openapi()["paths"].values()
                  for operation in item.values()}
    assert operations == {"getProgress", "setDailyGoal", "getBadges", "getWeeklyLeaderboard"}


# --- admin imports -------------------------------------------------------------------------------------

def test_imports_answer_their_model(auth_fn: Any, admin_fn: Any) -> None:
    admin = HandlerClient(admin_fn, token=support.admin_token(auth_fn, name="Model Importer"))
    question = {"source": SOURCE, "external_id": "q-1", "exam_type": "NEET", "subject": "Zoology",
                "topic": "Evolution", "difficulty": "easy", "stem": "Which?",
                "options": {"A": "one", "B": "two", "C": "three", "D": "four"}, "correct_option": "B",
                "explanation": "Because."}
    card = {"source": SOURCE, "external_id": "c-1", "exam_type": "NEET", "subject": "Zoology",
            "topic": "Evolution", "question": "Card?", "answer": "Yes", "difficulty": 2}
    # Given batches with a good record, a bad one with an external id and one that is not an object
    questions = admin.post(f"{API}/admin/questions/import", [question, {**question, "external_id": "q-2",
                                                                        "correct_option": "E"}, "no"])
    cards = admin.post(f"{API}/admin/flashcards/import", [card, {**card, "external_id": "c-2", "difficulty": 9}, 7])
    # Then both reports are the model, nullable external ids included
    for answer in (questions, cards):
        report = conforms(admin_fn.ImportReport, answer)
        assert report.imported == 1 and [e.external_id for e in report.errors][::-1][0] is None
        assert len(report.errors) == 2
    assert {declared(admin_fn, f"{API}/admin/{kind}/import", "post") for kind in ("questions", "flashcards")} \
        == {"ImportReport"}
    operations = {operation["operationId"] for item in admin_fn.app.openapi()["paths"].values()
                  for operation in item.values()}
    # (the media and content-operation routes' models are checked against real answers in
    # test_media.py and test_content_operations.py)
    assert operations == {"importQuestions", "importFlashcards", "createMediaUpload", "listAdminQuestions",
                          "editQuestion", "retireQuestion", "restoreQuestion", "listReports", "resolveReport"}
