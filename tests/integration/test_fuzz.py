"""Every function fuzzed against its own OpenAPI document (schemathesis, in-process over ASGI).

Each operation of each API function gets generated requests, valid and invalid, sent with a real
student's bearer token (an administrator's for the admin function). Every answer must:
- never be a 5xx;
- be the envelope `{success, data, message, errors}`: success with no errors below 400, a failure
  with a message and at least one `{code, field, message}` item from 400 on;
- have a status the operation documents, the schema that status documents (the envelope, and for
  errors the codes that status may carry), and the headers it documents (X-Request-Id always,
  Retry-After on 429, WWW-Authenticate on 401);
- refuse what the schema says is invalid, and refuse the request without or with a bad token where
  the operation declares bearer auth.

Examples per operation are bounded (MAX_EXAMPLES); with CI set the generation is deterministic.
"""

from __future__ import annotations

import json
import os
from collections.abc import Callable
from typing import Any

import pytest
import schemathesis
import support
from schemathesis.specs.openapi.checks import (
    content_type_conformance,
    ignored_auth,
    negative_data_rejection,
    response_headers_conformance,
    response_schema_conformance,
    status_code_conformance,
)
from support import PASSWORD, Answer, HandlerClient, LambdaContext, http_event, register

from infra.functions import load_function

API = "/api/v1"
MAX_EXAMPLES = 15
# No 5xx is asserted by assert_enveloped (schemathesis' not_a_server_error would refuse the documented 501).
CHECKS = [status_code_conformance, content_type_conformance, response_schema_conformance,
          response_headers_conformance, negative_data_rejection, ignored_auth]
# These end the session of the token they are sent with: each case signs in afresh.
SESSION_ENDING = {"/api/v1/auth/logout", "/api/v1/auth/logout-all"}


def _schema(group: str) -> Any:
    module = load_function(f"functions/{group}")
    schema = schemathesis.openapi.from_asgi(f"{API}/openapi/{group}.json", module.app)
    # The token is the test's own (a generated Authorization header would only be replaced).
    schema.config.generation.update(max_examples=MAX_EXAMPLES, deterministic=bool(os.environ.get("CI")),
                                    with_security_parameters=False)
    return schema


@pytest.fixture(scope="module")
def student(auth_fn: Any, profile_fn: Any) -> dict[str, str]:
    """A student with a profile, so the routes that need one go past that check."""
    answer = register(auth_fn, name="Fuzz Student")
    assert answer.status == 201, answer
    token = answer.data["access_token"]
    profile = HandlerClient(profile_fn, token=token).put(f"{API}/profile", {
        "exam_type": "NEET", "level": "beginner", "study_hours_per_day": 3, "target_date": "2031-05-01",
        "weak_subjects": ["Physics"]})
    assert profile.status == 200, profile
    return {"email": answer.data["user"]["email"], "token": token}


@pytest.fixture(scope="module")
def admin_token(auth_fn: Any) -> str:
    return support.admin_token(auth_fn, name="Fuzz Admin")


@pytest.fixture(scope="module")
def fresh_session(auth_fn: Any) -> Callable[[], str]:
    """A new session of an account of its own, for the calls that end sessions."""
    email = register(auth_fn, name="Fuzz Leaver").data["user"]["email"]

    def sign_in() -> str:
        login = HandlerClient(auth_fn).post(f"{API}/auth/login", {"email": email, "password": PASSWORD})
        assert login.status == 200, login
        return str(login.data["access_token"])

    return sign_in


def assert_enveloped(response: Any, case: Any) -> None:
    """The answer is the envelope of API.md, whatever the status, and never a 5xx (but the documented
    501 of Google sign-in)."""
    status = response.status_code
    assert status < 500 or (status, case.path) == (501, f"{API}/auth/google"), f"{status}: {response.text[:500]}"
    body = json.loads(response.text)
    assert isinstance(body, dict) and set(body) == {"success", "data", "message", "errors"}, body
    assert body["success"] is (status < 400), body
    assert isinstance(body["message"], str) and body["message"], body
    assert isinstance(body["errors"], list), body
    if status >= 400:
        assert body["errors"], body
        for item in body["errors"]:
            assert {"code", "field", "message"} <= set(item) and item["message"], body
    else:
        assert body["errors"] == [], body
    assert response.headers.get("x-request-id"), response.headers


def _fuzz(group: str) -> Callable[..., None]:
    schema = _schema(group)

    @schema.parametrize()
    def test(case: Any, student: dict[str, str], admin_token: str, fresh_session: Callable[[], str]) -> None:
        # Given a real token for the operation's function
        token = admin_token if group == "admin" else student["token"]
        if case.path in SESSION_ENDING:
            token = fresh_session()
        headers = {"Authorization": f"Bearer {token}"}
        # When the generated request is sent
        response = case.call(headers=headers)
        # Then the answer is enveloped and conforms to the operation's documented answers
        assert_enveloped(response, case)
        case.validate_response(response, checks=CHECKS, headers=headers)

    return test


test_auth_conforms_to_its_schema = _fuzz("auth")
test_profile_conforms_to_its_schema = _fuzz("profile")
test_progress_conforms_to_its_schema = _fuzz("progress")
test_questions_conforms_to_its_schema = _fuzz("questions")
test_flashcards_conforms_to_its_schema = _fuzz("flashcards")
test_roadmaps_conforms_to_its_schema = _fuzz("roadmaps")
test_analytics_conforms_to_its_schema = _fuzz("analytics")
test_admin_conforms_to_its_schema = _fuzz("admin")
test_notifications_conforms_to_its_schema = _fuzz("notifications")


def test_a_repeated_query_parameter_is_refused_not_read_as_its_last_value(
        progress_fn: Any, student: dict[str, str]) -> None:
    # Found by the fuzzer: `?exam=<junk>&exam=` answered 200, reading only the last (empty) value.
    def leaderboard(raw_query: str) -> Answer:
        event = http_event("GET", f"{API}/leaderboard/weekly", headers={"authorization": f"Bearer {student['token']}"})
        event["rawQueryString"] = raw_query
        return Answer(progress_fn.handler(event, LambdaContext()))

    assert leaderboard("exam=NEET").status == 200
    repeated = leaderboard("exam=NEET&exam=UPSC")
    assert repeated.status == 422, repeated
    assert repeated.json["errors"] == [{"code": "VALIDATION_ERROR", "field": "exam", "message": "must be given once"}]
    assert leaderboard("exam=junk&exam=").status == 422
