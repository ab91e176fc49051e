"""DynamoDB's limits, enforced by the local stack as AWS enforces them (DESIGN.md section 8), and
the routes that come nearest to them.

moto checks some limits its own way and others not at all; infra/local_aws.py
(``enforce_dynamodb_limits``) makes it refuse what DynamoDB refuses, with DynamoDB's codes and
messages. The first half shows each limit refused through boto3 and pynamodb (the ones moto already
enforced are kept here too, so a moto upgrade that drops one is noticed). The second half runs the
routes with the largest inputs they accept and shows they stay inside the limits.
"""

from __future__ import annotations

import json
import os
import uuid
from datetime import UTC, datetime, timedelta
from typing import Any

import boto3
import pytest
from botocore.exceptions import ClientError
from support import HandlerClient, deliver_to_worker, register

from infra.fake_groq import ok
from infra.local_aws import (
    MAX_ITEM_BYTES,
    MAX_PAGE_BYTES,
    MAX_TRANSACTION_ACTIONS,
    MAX_TRANSACTION_BYTES,
    attribute_value_bytes,
    item_bytes,
)

API = "/api/v1"
PUT_TOO_LARGE = "Item size has exceeded the maximum allowed size"
UPDATE_TOO_LARGE = "Item size to update has exceeded the maximum allowed size"


def _client(local_aws: Any) -> Any:
    return boto3.client("dynamodb", endpoint_url=local_aws.endpoint_url, region_name="ap-south-1")


@pytest.fixture(scope="module")
def table(local_aws: Any) -> Any:
    client = _client(local_aws)
    name = f"limits-test-{uuid.uuid4().hex[:8]}"
    client.create_table(TableName=name, BillingMode="PAY_PER_REQUEST",
                        KeySchema=[{"AttributeName": "pk", "KeyType": "HASH"},
                                   {"AttributeName": "sk", "KeyType": "RANGE"}],
                        AttributeDefinitions=[{"AttributeName": "pk", "AttributeType": "S"},
                                              {"AttributeName": "sk", "AttributeType": "S"}])
    yield name
    client.delete_table(TableName=name)


def _s(value: str) -> dict[str, str]:
    return {"S": value}


def _sized(pk: str, sk: str, size: int) -> dict[str, Any]:
    """An item of exactly ``size`` bytes by DynamoDB's measure: its keys and a padding string."""
    item = {"pk": _s(pk), "sk": _s(sk), "p": _s("")}
    item["p"] = _s("x" * (size - item_bytes(item)))
    assert item_bytes(item) == size
    return item


def _error(caught: pytest.ExceptionInfo[ClientError]) -> tuple[str, str]:
    error = caught.value.response["Error"]
    return error["Code"], error["Message"]


def _get(client: Any, table: str, pk: str, sk: str) -> dict[str, Any] | None:
    return client.get_item(TableName=table, Key={"pk": _s(pk), "sk": _s(sk)}, ConsistentRead=True).get("Item")


# --- the measure ------------------------------------------------------------------------------------

def test_item_size_is_measured_as_dynamodb_measures_it() -> None:
    assert attribute_value_bytes(_s("héllo")) == 6  # UTF-8 bytes
    assert attribute_value_bytes({"B": "AAEC"}) == 3  # raw bytes, not the base64 text
    assert attribute_value_bytes({"BOOL": True}) == attribute_value_bytes({"NULL": True}) == 1
    # Numbers: 1 byte plus one per pair of significant digits (counted from the decimal point),
    # plus 1 when negative; zeros at either end are free.
    sizes = {"0": 1, "7": 2, "123456": 4, "3.14159": 5, "1E125": 2, "0042.1200": 3, "-1": 3, "1000": 2}
    assert {text: attribute_value_bytes({"N": text}) for text in sizes} == sizes
    # Lists and maps: 3 bytes, and 1 byte per element (plus a map element's name).
    assert attribute_value_bytes({"L": []}) == attribute_value_bytes({"M": {}}) == 3
    assert attribute_value_bytes({"L": [_s("ab"), {"N": "1"}]}) == 3 + (1 + 2) + (1 + 2)
    assert attribute_value_bytes({"M": {"key": _s("ab")}}) == 3 + 1 + 3 + 2
    assert attribute_value_bytes({"SS": ["a", "bc"]}) == 3
    assert item_bytes({"name": _s("abc"), "n": {"N": "10"}}) == 4 + 3 + 1 + 2


# --- each limit, refused ----------------------------------------------------------------------------

def test_an_item_of_400_kb_is_stored_and_one_byte_more_is_refused(local_aws: Any, table: str) -> None:
    # moto refused at 405,000 bytes of its own measure, so it refused items DynamoDB stores.
    client = _client(local_aws)
    tag = uuid.uuid4().hex
    client.put_item(TableName=table, Item=_sized(tag, "put", MAX_ITEM_BYTES))
    client.batch_write_item(RequestItems={table: [{"PutRequest": {"Item": _sized(tag, "batch", MAX_ITEM_BYTES)}}]})
    client.transact_write_items(TransactItems=[{"Put": {"TableName": table,
                                                        "Item": _sized(tag, "txn", MAX_ITEM_BYTES)}}])
    for sk in ("put", "batch", "txn"):
        assert _get(client, table, tag, sk) == _sized(tag, sk, MAX_ITEM_BYTES)
    over = {"put": lambda: client.put_item(TableName=table, Item=_sized(tag, "put2", MAX_ITEM_BYTES + 1)),
            "batch": lambda: client.batch_write_item(RequestItems={table: [
                {"PutRequest": {"Item": _sized(tag, "batch-small", 100)}},
                {"PutRequest": {"Item": _sized(tag, "batch2", MAX_ITEM_BYTES + 1)}}]}),
            # A transaction's Put is refused before the transaction runs (not a cancellation).
            "txn": lambda: client.transact_write_items(TransactItems=[
                {"Put": {"TableName": table, "Item": _sized(tag, "txn-small", 100)}},
                {"Put": {"TableName": table, "Item": _sized(tag, "txn2", MAX_ITEM_BYTES + 1)}}])}
    for write in over.values():
        with pytest.raises(ClientError) as caught:
            write()
        assert _error(caught) == ("ValidationException", PUT_TOO_LARGE)
    for sk in ("put2", "batch-small", "batch2", "txn-small", "txn2"):
        assert _get(client, table, tag, sk) is None


def test_an_update_past_400_kb_is_refused_and_changes_nothing(local_aws: Any, table: str) -> None:
    # moto only measured when a top-level attribute was set: growing a nested map got through.
    client = _client(local_aws)
    tag = uuid.uuid4().hex
    client.put_item(TableName=table, Item={"pk": _s(tag), "sk": _s("u"), "m": {"M": {}}, "n": {"N": "1"}})
    before = _get(client, table, tag, "u")
    with pytest.raises(ClientError) as caught:
        client.update_item(TableName=table, Key={"pk": _s(tag), "sk": _s("u")},
                           UpdateExpression="SET n = :two, m.big = :big",
                           ExpressionAttributeValues={":two": {"N": "2"}, ":big": _s("x" * MAX_ITEM_BYTES)})
    assert _error(caught) == ("ValidationException", UPDATE_TOO_LARGE)
    assert _get(client, table, tag, "u") == before
    # In a transaction DynamoDB cancels it, with the reason on the action.
    with pytest.raises(ClientError) as cancelled:
        client.transact_write_items(TransactItems=[
            {"Put": {"TableName": table, "Item": {"pk": _s(tag), "sk": _s("other")}}},
            {"Update": {"TableName": table, "Key": {"pk": _s(tag), "sk": _s("u")},
                        "UpdateExpression": "SET m.big = :big",
                        "ExpressionAttributeValues": {":big": _s("x" * MAX_ITEM_BYTES)}}}])
    assert _error(cancelled)[0] == "TransactionCanceledException"
    assert cancelled.value.response["CancellationReasons"] == [
        {"Code": "None"}, {"Code": "ValidationError", "Message": UPDATE_TOO_LARGE}]
    assert _get(client, table, tag, "u") == before and _get(client, table, tag, "other") is None


def test_pynamodb_gets_the_validation_error_for_an_item_too_large(local_aws: Any) -> None:
    from pynamodb.exceptions import PutError

    from mindly.store.attempts import AttemptItem, attempt_sort_key
    from mindly.store.errors import response_code
    from mindly.store.progress import student_key

    at = datetime.now(UTC)
    item = AttemptItem(student_key(uuid.uuid4().hex), attempt_sort_key(at, "a"), attempt_id="a", question_id="q",
                       exam_type="JEE", subject="Physics", topic="x" * MAX_ITEM_BYTES, selected_option="A",
                       correct_option="A", is_correct=True, confidence_rating=3, time_taken_seconds=10, attempted_at=at)
    with pytest.raises(PutError) as caught:
        item.save()
    assert response_code(caught.value) == "ValidationException"


def test_a_transaction_over_100_actions_or_4_mb_or_twice_on_one_item_is_refused(local_aws: Any, table: str) -> None:
    client = _client(local_aws)
    tag = uuid.uuid4().hex

    def put(sk: str, size: int = 100) -> dict[str, Any]:
        return {"Put": {"TableName": table, "Item": _sized(tag, sk, size)}}

    too_many = [put(f"many-{n}") for n in range(MAX_TRANSACTION_ACTIONS + 1)]
    with pytest.raises(ClientError) as caught:
        client.transact_write_items(TransactItems=too_many)
    assert _error(caught)[0] == "ValidationException" and "less than or equal to 100" in _error(caught)[1]
    client.transact_write_items(TransactItems=too_many[:MAX_TRANSACTION_ACTIONS])  # 100 is allowed

    # 11 items of 390,000 bytes: each under 400 KB, 4.29 MB together (moto had no such check).
    heavy = [put(f"heavy-{n}", 390_000) for n in range(11)]
    assert sum(item_bytes(action["Put"]["Item"]) for action in heavy) > MAX_TRANSACTION_BYTES
    with pytest.raises(ClientError) as caught:
        client.transact_write_items(TransactItems=heavy)
    assert _error(caught) == ("ValidationException", "Transaction request cannot be larger than 4 MB")
    client.transact_write_items(TransactItems=heavy[:10])  # 3.9 MB is allowed
    assert _get(client, table, tag, "heavy-10") is None

    with pytest.raises(ClientError) as caught:
        client.transact_write_items(TransactItems=[
            put("twice-other"), put("twice"),
            {"ConditionCheck": {"TableName": table, "Key": {"pk": _s(tag), "sk": _s("twice")},
                                "ConditionExpression": "attribute_not_exists(pk)"}}])
    assert _error(caught) == ("ValidationException",
                              "Transaction request cannot include multiple operations on one item")
    assert _get(client, table, tag, "twice-other") is None


def test_batch_write_over_25_requests_or_twice_on_one_key_is_refused(local_aws: Any, table: str) -> None:
    client = _client(local_aws)
    tag = uuid.uuid4().hex
    requests = [{"PutRequest": {"Item": _sized(tag, f"b-{n}", 100)}} for n in range(26)]
    with pytest.raises(ClientError) as caught:
        client.batch_write_item(RequestItems={table: requests})
    assert _error(caught)[0] == "ValidationException"
    assert "Member must have length less than or equal to 25" in _error(caught)[1]
    assert _get(client, table, tag, "b-0") is None
    client.batch_write_item(RequestItems={table: requests[:25]})
    with pytest.raises(ClientError) as caught:
        client.batch_write_item(RequestItems={table: [
            requests[25], {"DeleteRequest": {"Key": {"pk": _s(tag), "sk": _s("b-25")}}}]})
    assert _error(caught) == ("ValidationException", "Provided list of item keys contains duplicates")
    assert _get(client, table, tag, "b-25") is None


def test_batch_get_over_100_keys_is_refused_and_over_16_mb_is_left_unprocessed(local_aws: Any, table: str) -> None:
    client = _client(local_aws)
    tag = uuid.uuid4().hex
    keys = [{"pk": _s(tag), "sk": _s(f"g-{n:03d}")} for n in range(101)]
    with pytest.raises(ClientError) as caught:
        client.batch_get_item(RequestItems={table: {"Keys": keys}})
    assert _error(caught)[0] == "ValidationException"
    for n in range(100):
        client.put_item(TableName=table, Item=_sized(tag, f"g-{n:03d}", 200_000))
    answer = client.batch_get_item(RequestItems={table: {"Keys": keys[:100]}})
    returned = answer["Responses"][table]
    left = answer["UnprocessedKeys"][table]["Keys"]
    assert sum(item_bytes(item) for item in returned) <= 16 * 1024 * 1024 < (len(returned) + 1) * 200_000
    assert len(returned) + len(left) == 100 and left


def test_query_and_scan_pages_stop_at_1_mb(local_aws: Any, table: str) -> None:
    client = _client(local_aws)
    tag = uuid.uuid4().hex
    for n in range(10):
        client.put_item(TableName=table, Item=_sized(tag, f"q-{n}", 300_000))
    pages, start = [], None
    while True:
        page = client.query(TableName=table, KeyConditionExpression="pk = :p",
                            ExpressionAttributeValues={":p": _s(tag)},
                            **({"ExclusiveStartKey": start} if start else {}))
        pages.append(page["Items"])
        start = page.get("LastEvaluatedKey")
        if not start:
            break
    assert [len(items) for items in pages] == [3, 3, 3, 1]
    assert all(sum(item_bytes(item) for item in items) <= MAX_PAGE_BYTES for items in pages)
    # A filter that keeps nothing still reads (and pages) the same data.
    filtered = client.query(TableName=table, KeyConditionExpression="pk = :p", FilterExpression="p = :none",
                            ExpressionAttributeValues={":p": _s(tag), ":none": _s("none")})
    assert filtered["Items"] == [] and filtered["ScannedCount"] == 3 and "LastEvaluatedKey" in filtered


# --- the routes nearest the limits ------------------------------------------------------------------

def _raw_item(local_aws: Any, pk: str, sk: str, table: str = "STUDY_TABLE") -> dict[str, Any]:
    item = _client(local_aws).get_item(TableName=os.environ[table], Key={"pk": _s(pk), "sk": _s(sk)},
                                       ConsistentRead=True)
    return dict(item["Item"])


@pytest.fixture
def cat_student(auth_fn: Any, profile_fn: Any, roadmaps_fn: Any) -> tuple[HandlerClient, str]:
    """A CAT student (the exam whose offline plan is the largest) with every subject weak."""
    from mindly.domain import syllabus

    answer = register(auth_fn)
    token, user_id = answer.data["access_token"], answer.data["user"]["id"]
    profile = {"exam_type": "CAT", "level": "beginner", "study_hours_per_day": 16, "target_date": "2035-06-01",
               "weak_subjects": [s.name for s in syllabus.subjects("CAT")][:3]}
    assert HandlerClient(profile_fn, token=token).put(f"{API}/profile", profile).status == 200
    return HandlerClient(roadmaps_fn, token=token), user_id


def test_the_largest_roadmap_fits_in_an_item(local_aws: Any, cat_student: tuple[HandlerClient, str], sqs: Any,
                                             queue_url: str, roadmap_worker_fn: Any) -> None:
    from mindly.store.progress import student_key

    client, user_id = cat_student
    # The longest plan the route accepts: 36 months (156 weeks).
    job_id = client.post(f"{API}/roadmaps", {"months_available": 36}).data["job_id"]
    assert deliver_to_worker(sqs, queue_url, roadmap_worker_fn)["failed"] == set()
    done = client.get(f"{API}/roadmaps/jobs/{job_id}").data
    assert done["status"] == "done" and done["roadmap"]["total_weeks"] == 156
    latest = _raw_item(local_aws, student_key(user_id), "ROADMAP_LATEST")
    assert item_bytes(latest) < MAX_ITEM_BYTES // 4, item_bytes(latest)  # ~43 KB


def test_a_groq_roadmap_too_large_to_store_is_replaced_by_the_offline_plan(
        local_aws: Any, cat_student: tuple[HandlerClient, str], sqs: Any, queue_url: str, roadmap_worker_fn: Any,
        groq_on: Any) -> None:
    # The plan's schema bounds how many weeks, topics and goals it has, not how long each is: a
    # 156-week plan of long goals from Groq would be refused by DynamoDB and fail the job.
    from mindly.domain import roadmap as plans
    from mindly.domain import syllabus

    client, _user_id = cat_student
    weak = [s.name for s in syllabus.subjects("CAT")][:3]
    plan = plans.offline_roadmap("CAT", "beginner", 36, weak, 16.0).model_dump()
    for week in plan["weeks"]:
        week["goals"] = [f"A long goal Groq wrote, number {n}: " + "practise " * 40 for n in range(10)]
    assert len(json.dumps(plan)) > MAX_ITEM_BYTES
    groq_on.then(ok(plan))
    job_id = client.post(f"{API}/roadmaps", {"months_available": 36}).data["job_id"]
    assert deliver_to_worker(sqs, queue_url, roadmap_worker_fn)["failed"] == set()
    done = client.get(f"{API}/roadmaps/jobs/{job_id}").data
    assert done["status"] == "done" and done["roadmap"]["source"] == "offline"
    assert done["roadmap"]["total_weeks"] == 156


class _Transactions:
    """Every TransactWriteItems the local stack applies while active: (actions, bytes sent)."""

    def __init__(self) -> None:
        self.seen: list[tuple[int, int]] = []

    def record(self, transact_items: list[dict[str, Any]]) -> None:
        size = 0
        for action in transact_items:
            ((op_type, op),) = action.items()
            size += item_bytes(op["Item"]) if op_type == "Put" else item_bytes(op["Key"]) + sum(
                attribute_value_bytes(v) for v in (op.get("ExpressionAttributeValues") or {}).values())
        self.seen.append((len(transact_items), size))


@pytest.fixture
def transactions(monkeypatch: pytest.MonkeyPatch) -> _Transactions:
    from moto.dynamodb import models

    recorder = _Transactions()
    applied = models.DynamoDBBackend.transact_write_items

    def transact_write_items(self: Any, transact_items: list[dict[str, Any]]) -> Any:
        recorder.record(transact_items)
        return applied(self, transact_items)

    monkeypatch.setattr(models.DynamoDBBackend, "transact_write_items", transact_write_items)
    return recorder


def test_the_largest_submit_and_review_transactions_stay_within_limits(local_aws: Any, auth_fn: Any, profile_fn: Any,
                                                                        transactions: _Transactions) -> None:
    from mindly.domain import badges
    from mindly.domain.content import content_id
    from mindly.services import content, flashcards, questions

    source = f"limits-{uuid.uuid4().hex[:8]}"
    longest = "ज्ञ" * 1666  # the longest text a record may hold (5,000 characters), 3 bytes each in UTF-8
    report = content.import_objects("question", [{
        "source": source, "external_id": "q", "exam_type": "JEE", "subject": "Chemistry", "topic": "Electrochemistry",
        "difficulty": "hard", "stem": longest, "options": {letter: longest + letter for letter in "ABCDE"},
        "correct_option": "A", "explanation": longest}])
    assert not report["errors"], report
    report = content.import_objects("flashcard", [{
        "source": source, "external_id": "f", "exam_type": "JEE", "subject": "Chemistry", "topic": "Electrochemistry",
        "question": longest, "answer": longest, "difficulty": 5}])
    assert not report["errors"], report
    answer = register(auth_fn)
    token, user_id = answer.data["access_token"], answer.data["user"]["id"]
    profile = {"exam_type": "JEE", "level": "intermediate", "study_hours_per_day": 4, "target_date": "2035-04-01",
               "weak_subjects": ["Chemistry"], "timezone": "Asia/Kolkata"}
    assert HandlerClient(profile_fn, token=token).put(f"{API}/profile", profile).status == 200
    now = datetime.now(UTC)
    # A student's first answer and first review write the most: new progress, day and week items.
    questions.submit(user_id, "Asha", content_id("question", source, "q"), "A", 5, 30, uuid.uuid4().hex,
                     "Asia/Kolkata", now)
    flashcards.review(user_id, "Asha", content_id("flashcard", source, "f"), 4, uuid.uuid4().hex, 20,
                      "Asia/Kolkata", now + timedelta(seconds=5))
    assert len(transactions.seen) >= 2
    most_actions = max(actions for actions, _size in transactions.seen)
    most_bytes = max(size for _actions, size in transactions.seen)
    # Even if one answer earned every badge of the catalog at once, it would stay far inside.
    assert most_actions + len(badges.bundled_catalog()) <= MAX_TRANSACTION_ACTIONS // 2, transactions.seen
    assert most_bytes < MAX_TRANSACTION_BYTES // 10, transactions.seen


def test_the_largest_admin_import_is_written(local_aws: Any, auth_fn: Any, admin_fn: Any) -> None:
    from support import admin_token

    from mindly.domain.content import content_id
    from mindly.http.middleware import MAX_BODY_BYTES

    admin = HandlerClient(admin_fn, token=admin_token(auth_fn))
    source = f"limits-{uuid.uuid4().hex[:8]}"
    # The most text a record may hold: 5,000 characters a field, here of 4 bytes each in UTF-8
    # (the body limit, 1 MB of JSON, leaves room for one such record among 1,000).
    widest = "\U0001F4DA" * 4999
    records = []
    for n in range(1000):  # the route's limit
        text = widest if n == 0 else f"Q{n}?"
        records.append({"source": source, "external_id": f"r{n}", "exam_type": "JEE", "subject": "Chemistry",
                        "topic": "Electrochemistry", "difficulty": "easy", "stem": text,
                        "options": {letter: text + letter for letter in "ABCDE"}, "correct_option": "B",
                        "explanation": text})
    assert len(json.dumps(records).encode()) <= MAX_BODY_BYTES
    answer = admin.post(f"{API}/admin/questions/import", records)
    assert answer.status == 200, answer
    assert answer.data == {"imported": 1000, "updated": 0, "skipped": 0, "errors": []}
    largest = _raw_item(local_aws, *_content_key(content_id("question", source, "r0")), table="CONTENT_TABLE")
    assert 7 * 5000 * 4 < item_bytes(largest) < MAX_ITEM_BYTES // 2, item_bytes(largest)


def _content_key(question_id: str) -> tuple[str, str]:
    from mindly.store.content import question_key

    return question_key(question_id)


def test_a_week_of_very_many_attempts_still_gets_its_calibration_report(local_aws: Any, auth_fn: Any,
                                                                        profile_fn: Any) -> None:
    from mindly.services import analytics
    from mindly.store.attempts import AttemptItem, attempt_sort_key
    from mindly.store.progress import student_key

    answer = register(auth_fn)
    token, user_id = answer.data["access_token"], answer.data["user"]["id"]
    profile = {"exam_type": "JEE", "level": "intermediate", "study_hours_per_day": 4, "target_date": "2035-04-01",
               "weak_subjects": ["Chemistry"], "timezone": "UTC"}
    assert HandlerClient(profile_fn, token=token).put(f"{API}/profile", profile).status == 200
    monday = datetime(2026, 11, 16, tzinfo=UTC)  # a finished ISO week: 2026-W47
    count = 3600  # ~1.2 MB of attempts: more than one Query page
    with AttemptItem.batch_write() as batch:
        for n in range(count):
            at = monday + timedelta(seconds=n * 150)
            attempt_id = uuid.uuid4().hex
            batch.save(AttemptItem(student_key(user_id), attempt_sort_key(at, attempt_id), attempt_id=attempt_id,
                                   question_id=uuid.uuid4().hex, exam_type="JEE", subject="Chemistry",
                                   topic="Electrochemistry", selected_option="A", correct_option="A" if n % 3 else "B",
                                   is_correct=bool(n % 3), confidence_rating=1 + n % 5, time_taken_seconds=30,
                                   attempted_at=at, option_count=4))
    first_page = _client(local_aws).query(
        TableName=os.environ["STUDY_TABLE"], KeyConditionExpression="pk = :p AND begins_with(sk, :a)",
        ExpressionAttributeValues={":p": _s(student_key(user_id)), ":a": _s("ATTEMPT#")})
    assert "LastEvaluatedKey" in first_page and len(first_page["Items"]) < count
    # The service, not the handler: moto's answer to a 1 MB page takes seconds to serialise here,
    # which the handler's Lambda Timeout check would count against the function.
    report = analytics.calibration_report(user_id, "2026-W47", datetime.now(UTC))
    assert report["attempts"] == count
