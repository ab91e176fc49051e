"""DELETE /account (issue 20, point 3): nothing of the student survives in any table, index or Redis
key, the email registers again, and the sweep is bounded, resumable and idempotent."""

from __future__ import annotations

import hashlib
import uuid
from collections.abc import Iterable
from datetime import UTC, datetime
from typing import Any

import pytest
from account_support import API, Student, deletion_queue, login, seed_content
from support import PASSWORD, deliver_to_worker, enforce_lambda_limits, register

from mindly.cache.client import get_redis
from mindly.config import get_settings
from mindly.services import account, push
from mindly.store import account as account_store
from mindly.store import mock_tests as mock_store
from mindly.store import notifications as notification_store
from mindly.store import progress as progress_store
from mindly.store import users


@pytest.fixture(scope="module")
def content_ids(local_aws: Any) -> tuple[list[str], list[str]]:
    return seed_content()


@pytest.fixture(scope="session")
def account_worker_fn() -> Any:
    import aws_permissions

    return enforce_lambda_limits(aws_permissions.load_function("account_worker"))


@pytest.fixture
def fns(auth_fn: Any, profile_fn: Any, questions_fn: Any, flashcards_fn: Any, progress_fn: Any,
        analytics_fn: Any, roadmaps_fn: Any, mock_tests_fn: Any, notifications_fn: Any) -> dict[str, Any]:
    return {"auth": auth_fn, "profile": profile_fn, "questions": questions_fn, "flashcards": flashcards_fn,
            "progress": progress_fn, "analytics": analytics_fn, "roadmaps": roadmaps_fn,
            "mock_tests": mock_tests_fn, "notifications": notifications_fn}


def _studied_pair(fns: dict[str, Any], content_ids: tuple[list[str], list[str]]) -> tuple[Student, Student, str]:
    """A student and a classmate who both studied, both on this week's boards and in a finished
    week's stored top ten."""
    question_ids, card_ids = content_ids
    months = 1 + uuid.uuid4().int % 30
    student = Student(fns).study(question_ids, card_ids, months)
    classmate = Student(fns, name="Ravi Kumar").study(question_ids, card_ids, 1 + months % 30)
    week = f"1999-W{uuid.uuid4().int % 50 + 1:02d}"  # a finished week of their own
    for someone, xp in ((student, 90), (classmate, 80)):
        progress_store.WeekItem(progress_store.student_key(someone.user_id), progress_store.week_sort_key(week, None),
                                week=week, user_id=someone.user_id, name="x", xp=xp).save()
    progress_store.store_week_final(week, None, [
        {"rank": 1, "user_id": student.user_id, "name": "Meera Iyer", "xp": 90},
        {"rank": 2, "user_id": classmate.user_id, "name": "Ravi Kumar", "xp": 80}], datetime.now(tz=UTC))
    return student, classmate, week


def _sweep(sqs: Any, queue: str, worker: Any) -> int:
    """Deliver the deletion queue's messages to the worker until it is empty; how many deliveries."""
    rounds = 0
    while deliver_to_worker(sqs, queue, worker)["received"]:
        rounds += 1
        assert rounds < 100, "the sweep does not end"
    return rounds


def _stored_mentions(*needles: str) -> list[tuple[str, dict[str, Any]]]:
    """Every item of the three tables with an attribute value containing one of ``needles``
    (a Scan: the test may, the code may not)."""
    import boto3

    settings = get_settings()
    client = boto3.client("dynamodb")
    found = []
    for table in (settings.users_table, settings.study_table, settings.content_table):
        for page in client.get_paginator("scan").paginate(TableName=table):
            found += [(table, item) for item in page["Items"] if any(needle in str(item) for needle in needles)]
    return found


# What the mock tests and the notifications keep of a student (the features added after the sweep
# was written): the sweep finds them in the student's partitions like everything else.
MOCK_AND_NOTIFICATION_KINDS = {"mock_paper", "mock_answer", "mock_chunk", "mock_entry", "notification_settings",
                               "inbox"}


def _kinds_stored(user_id: str) -> set[str]:
    return {item.get("kind", {}).get("S", "") for _table, item in _stored_mentions(user_id)}


def _reminder_partition(user_id: str) -> str:
    """The reminder index partition the student's settings are filed in now."""
    item = notification_store.get_settings(user_id)
    assert item is not None and item.remind_pk, "no reminder scheduled"
    return str(item.remind_pk)


def _index_entries(user_id: str, reminder_partition: str) -> list[dict[str, Any]]:
    """The student's entries in the sparse indexes of those features: the mock-test deadline index
    (every shard) and the reminder index (the partition their settings were filed in)."""
    import boto3

    settings = get_settings()
    client = boto3.client("dynamodb")
    wanted = [(settings.study_table, "deadline", "deadline_pk", f"DEADLINE#{shard}")
              for shard in range(mock_store.DEADLINE_SHARDS)]
    wanted.append((settings.users_table, "reminder_due", "remind_pk", reminder_partition))
    found = []
    for table, index, key_name, value in wanted:
        for page in client.get_paginator("query").paginate(
                TableName=table, IndexName=index, KeyConditionExpression=f"{key_name} = :pk",
                ExpressionAttributeValues={":pk": {"S": value}}):
            found += [item for item in page["Items"] if user_id in str(item)]
    return found


def _endpoints_of(tokens: Iterable[str]) -> list[str]:
    """The SNS platform endpoints (of every platform application in moto) holding one of these
    device tokens."""
    import boto3

    sns = boto3.client("sns")
    wanted = set(tokens)
    found = []
    for application in sns.list_platform_applications()["PlatformApplications"]:
        for page in sns.get_paginator("list_endpoints_by_platform_application").paginate(
                PlatformApplicationArn=application["PlatformApplicationArn"]):
            found += [endpoint["EndpointArn"] for endpoint in page["Endpoints"]
                      if endpoint["Attributes"].get("Token") in wanted]
    return found


def _redis_mentions(*needles: str) -> list[str]:
    redis = get_redis()
    names = [str(name) for name in redis.keys("*")]
    found = [name for name in names if any(needle in name for needle in needles)]
    for name in names:
        kind = str(redis.type(name))
        if kind == "zset":
            members = [str(m) for m in redis.zrange(name, 0, -1)]
        elif kind == "hash":
            members = [str(m) for m in redis.hkeys(name)]
        elif kind == "set":
            members = [str(m) for m in redis.smembers(name)]
        else:
            members = [str(redis.get(name) or "")]
        if any(needle in member for member in members for needle in needles):
            found.append(name)
    return found


def test_a_deleted_student_leaves_nothing_behind_and_the_email_registers_again(
        fns: dict[str, Any], content_ids: tuple[list[str], list[str]], sqs: Any, queue_url: str,
        account_worker_fn: Any) -> None:
    # Given a student who stored something through every route, and a classmate beside her
    queue = deletion_queue(sqs)
    student, classmate, week = _studied_pair(fns, content_ids)
    auth = student.to("auth")
    assert _stored_mentions(student.user_id) and _redis_mentions(student.user_id)  # the checks can see her
    # (her mock tests and notifications too: papers, answers, chunk guards, list lines, settings,
    # inbox; the open paper's deadline entry, the reminder entry, both devices' SNS endpoints)
    tokens = list(student.stored["device_tokens"].values())
    assert _kinds_stored(student.user_id) >= MOCK_AND_NOTIFICATION_KINDS
    reminders_at = _reminder_partition(student.user_id)
    assert {"deadline_pk", "remind_pk"} <= {name for item in _index_entries(student.user_id, reminders_at)
                                            for name in item}
    assert len(_endpoints_of(tokens)) == 2
    # When she asks with a wrong password, then it is a 401 that counts like a failed login
    wrong = auth.request("DELETE", f"{API}/account", {"password": "Not-her-password-1"})
    assert wrong.status == 401, wrong
    guard = users.get_login_guard(student.user_id, users.ACCOUNT_GUARD)
    assert guard is not None and sum(1 for slot in guard.slots if int(slot)) == 1
    # When she asks with her password
    deleted = auth.request("DELETE", f"{API}/account", {"password": PASSWORD})
    # Then it is accepted at once, her login fails as an unknown email does, and her token is dead
    assert deleted.status == 202, deleted
    unknown = login(fns["auth"], f"nobody.{uuid.uuid4().hex[:8]}@example.com")
    gone = login(fns["auth"], student.email)
    assert (gone.status, gone.json["errors"]) == (unknown.status, unknown.json["errors"]) == (401, gone.json["errors"])
    assert auth.get(f"{API}/auth/me").status == 401
    # When the worker sweeps
    assert _sweep(sqs, queue, account_worker_fn) >= 1
    # Then no item of any table mentions her id or her email, no index entry is hers, her devices
    # have no SNS endpoint left, and no Redis key or member mentions her
    assert _stored_mentions(student.user_id, student.email) == []
    assert _index_entries(student.user_id, reminders_at) == []
    assert _endpoints_of(tokens) == []
    email_hash = hashlib.sha256(student.email.encode()).hexdigest()[:32]
    assert _redis_mentions(student.user_id) == []
    # (the login limiter's windows are keyed by network and email hash, and go by themselves)
    for name in _redis_mentions(email_hash):
        assert ":rl:login-account:" in name and 0 < int(get_redis().pttl(name)) <= 121_000, name
    # And the classmate keeps everything (her devices too), moved up to first in the finished week's top ten
    mine = classmate.to("auth").get(f"{API}/account/export")
    assert mine.status == 200 and mine.data["attempts"] and mine.data["reports"]
    assert _kinds_stored(classmate.user_id) >= MOCK_AND_NOTIFICATION_KINDS
    assert len(_endpoints_of(classmate.stored["device_tokens"].values())) == 2
    final = progress_store.get_week_finals(week, [None])[None]
    assert final.top == [{"rank": 1, "user_id": classmate.user_id, "name": "Ravi Kumar", "xp": 80}]
    # And the email registers again: a fresh account
    again = register(fns["auth"], email=student.email)
    assert again.status == 201 and again.data["user"]["id"] != student.user_id, again


def test_a_sweep_that_crashes_halfway_finishes_when_its_message_comes_back(
        fns: dict[str, Any], content_ids: tuple[list[str], list[str]], sqs: Any, queue_url: str,
        account_worker_fn: Any, monkeypatch: pytest.MonkeyPatch) -> None:
    # Given a deleted student whose sweep takes two batches of 5 items a message, and a store that
    # fails after three batch deletes
    queue = deletion_queue(sqs)
    student, _classmate, _week = _studied_pair(fns, content_ids)
    monkeypatch.setattr(get_settings(), "account_deletion_batches_per_message", 2)
    monkeypatch.setattr(account, "PAGE_ITEMS", 5)
    real_delete = account_store.delete_keys
    calls = {"n": 0}

    def crashing(model: Any, keys: Any) -> None:
        calls["n"] += 1
        if calls["n"] == 4:
            raise RuntimeError("the worker died here")
        real_delete(model, keys)

    monkeypatch.setattr(account_store, "delete_keys", crashing)
    assert student.to("auth").request("DELETE", f"{API}/account", {"password": PASSWORD}).status == 202
    # When the worker runs into the crash
    first = deliver_to_worker(sqs, queue, account_worker_fn)  # batches 1-2, continuation queued
    crashed = deliver_to_worker(sqs, queue, account_worker_fn)  # batch 3, then the failure
    # Then the message is reported failed (it comes back) and part of her is still stored
    assert first["failed"] == set() and len(crashed["failed"]) == 1
    assert _stored_mentions(student.user_id)
    # When the message comes back (the store works again)
    _sweep(sqs, queue, account_worker_fn)
    # Then nothing of her is left, after more than one message (the work per message is bounded)
    assert calls["n"] > 4
    assert _stored_mentions(student.user_id, student.email) == []
    assert _endpoints_of(student.stored["device_tokens"].values()) == []
    assert _redis_mentions(student.user_id) == []


def test_a_device_whose_endpoint_is_already_gone_does_not_stop_the_sweep(
        fns: dict[str, Any], sqs: Any, queue_url: str, account_worker_fn: Any) -> None:
    # Given a student with two devices, one of whose SNS endpoints is gone already (deleted by
    # an earlier try of the same sweep, say)
    queue = deletion_queue(sqs)
    student = Student(fns)
    student.set_up_notifications()
    tokens = list(student.stored["device_tokens"].values())
    settings = notification_store.get_settings(student.user_id)
    assert settings is not None
    first = next(iter(notification_store.devices_of(settings).values()))
    push.delete_endpoint(str(first["endpoint_arn"]))
    assert len(_endpoints_of(tokens)) == 1
    # When she deletes her account and the worker sweeps
    assert student.to("auth").request("DELETE", f"{API}/account", {"password": PASSWORD}).status == 202
    assert _sweep(sqs, queue, account_worker_fn) == 1
    # Then the sweep finished in one message: nothing of her is stored, and no endpoint is left
    assert _stored_mentions(student.user_id, student.email) == []
    assert _endpoints_of(tokens) == []


def test_a_second_deletion_is_harmless(fns: dict[str, Any], content_ids: tuple[list[str], list[str]], sqs: Any,
                                       queue_url: str, account_worker_fn: Any) -> None:
    # Given a student deleted and swept, and her classmate
    queue = deletion_queue(sqs)
    student, classmate, _week = _studied_pair(fns, content_ids)
    auth = student.to("auth")
    assert auth.request("DELETE", f"{API}/account", {"password": PASSWORD}).status == 202
    _sweep(sqs, queue, account_worker_fn)
    kept = len(_stored_mentions(classmate.user_id))
    # When the DELETE is sent again, and the sweep's message is delivered again
    again = auth.request("DELETE", f"{API}/account", {"password": PASSWORD})
    assert account.process_message(get_settings(), {"user_id": student.user_id}, lambda body: None) == "done"
    # Then the repeat is refused (her sessions are over), nothing is queued, and nothing else is touched
    assert again.status == 401, again
    assert _sweep(sqs, queue, account_worker_fn) == 0
    assert len(_stored_mentions(classmate.user_id)) == kept and _stored_mentions(student.user_id) == []
    assert login(fns["auth"], classmate.email).status == 200


def test_a_repeated_request_before_the_sweep_only_queues_it_again(
        fns: dict[str, Any], sqs: Any, queue_url: str, account_worker_fn: Any) -> None:
    # Given a student whose deletion was requested but whose sweep message was lost
    queue = deletion_queue(sqs)
    student = Student(fns)
    sent: list[dict[str, Any]] = []
    account.request_deletion(get_settings(), student.user_id, PASSWORD, "198.51.100.7", sent.append,
                             datetime.now(tz=UTC))
    assert sent == [{"user_id": student.user_id}] and account_store.deletion_of(student.user_id) is not None
    # When the request is made again (no password can be checked: the account item is gone)
    account.request_deletion(get_settings(), student.user_id, "anything", "198.51.100.7", account.sqs_enqueue,
                             datetime.now(tz=UTC))
    # Then the sweep is queued again, and it finishes the deletion
    assert _sweep(sqs, queue, account_worker_fn) == 1
    assert _stored_mentions(student.user_id, student.email) == []


def test_the_sweep_leaves_a_student_who_asked_for_nothing_alone(fns: dict[str, Any]) -> None:
    # Given a student who never asked to be deleted
    student = Student(fns)
    # When a stray sweep message names them
    outcome = account.process_message(get_settings(), {"user_id": student.user_id}, lambda body: None)
    # Then nothing is deleted
    assert outcome == "done" and users.get_user(student.user_id) is not None
    assert login(fns["auth"], student.email).status == 200
