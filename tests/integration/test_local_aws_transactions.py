"""TransactWriteItems on the local stack (issue point "moto memory stays bounded").

moto backs up every table a transaction names, as a deep copy, and its instance tracker kept each
copy alive for good: the stack grew by megabytes per transactional write. infra/local_aws.py now
rolls a failed transaction back item by item and stops the tracker holding DynamoDB objects. These
tests pin both halves: a failed transaction leaves every item (and so every index) exactly as it
was, a successful one applies everything, and many transactions leave no table copies and no
memory behind.

They use tables of their own (two, with global indexes), on the session's moto server.
"""

from __future__ import annotations

import gc
import tracemalloc
import uuid
from typing import Any

import boto3
import pytest
from botocore.exceptions import ClientError


def _client(local_aws: Any) -> Any:
    return boto3.client("dynamodb", endpoint_url=local_aws.endpoint_url, region_name="ap-south-1")


@pytest.fixture(scope="module")
def tables(local_aws: Any) -> dict[str, str]:
    """A range-keyed table with a GSI and a hash-only table with a GSI."""
    client = _client(local_aws)
    suffix = uuid.uuid4().hex[:8]
    names = {"a": f"txn-test-a-{suffix}", "b": f"txn-test-b-{suffix}"}
    client.create_table(
        TableName=names["a"], BillingMode="PAY_PER_REQUEST",
        KeySchema=[{"AttributeName": "pk", "KeyType": "HASH"}, {"AttributeName": "sk", "KeyType": "RANGE"}],
        AttributeDefinitions=[{"AttributeName": name, "AttributeType": "S"} for name in ("pk", "sk", "g1pk", "g1sk")],
        GlobalSecondaryIndexes=[{"IndexName": "gsi1", "Projection": {"ProjectionType": "ALL"},
                                 "KeySchema": [{"AttributeName": "g1pk", "KeyType": "HASH"},
                                               {"AttributeName": "g1sk", "KeyType": "RANGE"}]}])
    client.create_table(
        TableName=names["b"], BillingMode="PAY_PER_REQUEST",
        KeySchema=[{"AttributeName": "id", "KeyType": "HASH"}],
        AttributeDefinitions=[{"AttributeName": name, "AttributeType": "S"} for name in ("id", "owner")],
        GlobalSecondaryIndexes=[{"IndexName": "by_owner", "Projection": {"ProjectionType": "ALL"},
                                 "KeySchema": [{"AttributeName": "owner", "KeyType": "HASH"}]}])
    yield names
    for name in names.values():
        client.delete_table(TableName=name)


def _s(value: str) -> dict[str, str]:
    return {"S": value}


def _seed(client: Any, tables: dict[str, str], tag: str) -> None:
    for n in range(5):
        client.put_item(TableName=tables["a"], Item={
            "pk": _s(f"{tag}-p"), "sk": _s(f"{n}"), "g1pk": _s(f"{tag}-g"), "g1sk": _s(f"{n:02d}"),
            "count": {"N": str(n)}, "tags": {"L": [_s("x"), {"M": {"deep": {"N": "1"}}}]}})
    for n in range(4):
        client.put_item(TableName=tables["b"], Item={"id": _s(f"{tag}-{n}"), "owner": _s(f"{tag}-o"),
                                                    "total": {"N": "10"}})


def _state(client: Any, tables: dict[str, str], tag: str) -> dict[str, Any]:
    """Everything a reader could see of the test's items: both tables and both indexes."""
    def pages(**kwargs: Any) -> list[Any]:
        found, start = [], None
        while True:
            page = client.query(**kwargs, **({"ExclusiveStartKey": start} if start else {}))
            found += page["Items"]
            start = page.get("LastEvaluatedKey")
            if not start:
                return found
    def scan(table: str, key: str) -> list[Any]:
        items = client.scan(TableName=table, ConsistentRead=True)["Items"]
        return [item for item in items if item[key]["S"].startswith(tag)]
    scan_a, scan_b = scan(tables["a"], "pk"), scan(tables["b"], "id")
    return {
        "a": sorted(scan_a, key=repr), "b": sorted(scan_b, key=repr),
        "a_base": pages(TableName=tables["a"], KeyConditionExpression="pk = :p",
                        ExpressionAttributeValues={":p": _s(f"{tag}-p")}),
        "g1": pages(TableName=tables["a"], IndexName="gsi1", KeyConditionExpression="g1pk = :g",
                    ExpressionAttributeValues={":g": _s(f"{tag}-g")}),
        "g1_moved": pages(TableName=tables["a"], IndexName="gsi1", KeyConditionExpression="g1pk = :g",
                          ExpressionAttributeValues={":g": _s(f"{tag}-moved")}),
        "by_owner": sorted(pages(TableName=tables["b"], IndexName="by_owner", KeyConditionExpression="#o = :o",
                                 ExpressionAttributeNames={"#o": "owner"},
                                 ExpressionAttributeValues={":o": _s(f"{tag}-o")}), key=repr),
        "by_new_owner": pages(TableName=tables["b"], IndexName="by_owner", KeyConditionExpression="#o = :o",
                              ExpressionAttributeNames={"#o": "owner"},
                              ExpressionAttributeValues={":o": _s(f"{tag}-new")}),
    }


def _actions(tables: dict[str, str], tag: str, fail: str = "") -> list[dict[str, Any]]:
    """One of each kind of action, on both tables, moving items between index partitions. ``fail``
    makes one action's condition false ("first", "middle", "last")."""
    return [
        {"Put": {"TableName": tables["a"],
                 "Item": {"pk": _s(f"{tag}-p"), "sk": _s("new"), "g1pk": _s(f"{tag}-g"), "g1sk": _s("99")},
                 **({"ConditionExpression": "attribute_exists(pk)"} if fail == "first" else {})}},
        {"Put": {"TableName": tables["a"], "Item": {"pk": _s(f"{tag}-p"), "sk": _s("0"), "g1pk": _s(f"{tag}-moved"),
                                                    "g1sk": _s("00"), "count": {"N": "100"}}}},
        {"Update": {"TableName": tables["a"], "Key": {"pk": _s(f"{tag}-p"), "sk": _s("1")},
                    "UpdateExpression": "SET #c = #c + :one, g1pk = :moved, tags[1].deep = :two REMOVE g1sk",
                    "ExpressionAttributeNames": {"#c": "count"},
                    "ExpressionAttributeValues": {":one": {"N": "1"}, ":moved": _s(f"{tag}-moved"), ":two": {"N": "2"}},
                    **({"ConditionExpression": "#c <> :one"} if fail == "middle" else {})}},
        {"Update": {"TableName": tables["a"], "Key": {"pk": _s(f"{tag}-p"), "sk": _s("created-by-update")},
                    "UpdateExpression": "SET g1pk = :g, g1sk = :s",
                    "ExpressionAttributeValues": {":g": _s(f"{tag}-g"), ":s": _s("50")}}},
        {"Delete": {"TableName": tables["a"], "Key": {"pk": _s(f"{tag}-p"), "sk": _s("2")}}},
        {"Update": {"TableName": tables["b"], "Key": {"id": _s(f"{tag}-0")},
                    "UpdateExpression": "SET #o = :new ADD #t :ten",
                    "ExpressionAttributeNames": {"#o": "owner", "#t": "total"},
                    "ExpressionAttributeValues": {":new": _s(f"{tag}-new"), ":ten": {"N": "10"}}}},
        {"Delete": {"TableName": tables["b"], "Key": {"id": _s(f"{tag}-1")}}},
        {"Put": {"TableName": tables["b"], "Item": {"id": _s(f"{tag}-9"), "owner": _s(f"{tag}-new")}}},
        {"ConditionCheck": {"TableName": tables["b"], "Key": {"id": _s(f"{tag}-2")},
                            "ConditionExpression": "attribute_not_exists(id)" if fail == "last" else "#t = :t",
                            **({} if fail == "last" else {"ExpressionAttributeNames": {"#t": "total"},
                                                          "ExpressionAttributeValues": {":t": {"N": "10"}}})}},
    ]


@pytest.mark.parametrize("fail", ["first", "middle", "last"])
def test_a_cancelled_transaction_leaves_every_item_and_index_as_it_was(local_aws: Any, tables: dict[str, str],
                                                                       fail: str) -> None:
    client = _client(local_aws)
    tag = uuid.uuid4().hex[:10]
    _seed(client, tables, tag)
    before = _state(client, tables, tag)
    with pytest.raises(ClientError) as caught:
        client.transact_write_items(TransactItems=_actions(tables, tag, fail))
    error = caught.value.response
    assert error["Error"]["Code"] == "TransactionCanceledException", error["Error"]
    failing = {"first": 0, "middle": 2, "last": 8}[fail]
    codes = [reason["Code"] for reason in error["CancellationReasons"]]
    assert codes == ["ConditionalCheckFailed" if n == failing else "None" for n in range(9)]
    assert _state(client, tables, tag) == before


def test_a_transaction_refused_halfway_leaves_everything_as_it_was(local_aws: Any, tables: dict[str, str]) -> None:
    # moto finds two actions on one item only when it reaches the second, after applying the first
    # ones; and an Update growing an item past 400 KB fails while the others have been applied.
    client = _client(local_aws)
    tag = uuid.uuid4().hex[:10]
    _seed(client, tables, tag)
    before = _state(client, tables, tag)
    actions = _actions(tables, tag)
    grow = {"Update": {"TableName": tables["b"], "Key": {"id": _s(f"{tag}-3")}, "UpdateExpression": "SET payload = :b",
                       "ExpressionAttributeValues": {":b": _s("x" * 409_600)}}}
    with pytest.raises(ClientError) as too_large:
        client.transact_write_items(TransactItems=[*actions, grow])
    assert too_large.value.response["Error"]["Code"] == "TransactionCanceledException", too_large.value.response
    assert [r["Code"] for r in too_large.value.response["CancellationReasons"]] == ["None"] * 9 + ["ValidationError"]
    assert _state(client, tables, tag) == before
    with pytest.raises(ClientError) as twice:
        client.transact_write_items(TransactItems=[*actions[:-1], actions[1]])
    assert twice.value.response["Error"]["Code"] == "ValidationException"
    assert _state(client, tables, tag) == before


def test_a_successful_transaction_applies_every_action(local_aws: Any, tables: dict[str, str]) -> None:
    client = _client(local_aws)
    tag = uuid.uuid4().hex[:10]
    _seed(client, tables, tag)
    client.transact_write_items(TransactItems=_actions(tables, tag))
    after = _state(client, tables, tag)
    a = {item["sk"]["S"]: item for item in after["a"]}
    assert set(a) == {"0", "1", "3", "4", "new", "created-by-update"}
    assert a["0"]["count"] == {"N": "100"} and "tags" not in a["0"]
    assert a["1"]["count"] == {"N": "2"} and "g1sk" not in a["1"]
    assert a["1"]["tags"]["L"][1] == {"M": {"deep": {"N": "2"}}}
    assert a["created-by-update"]["g1sk"] == _s("50")
    assert [i["sk"]["S"] for i in after["g1"]] == ["3", "4", "created-by-update", "new"]
    assert [i["sk"]["S"] for i in after["g1_moved"]] == ["0"]  # item 1 lost its index sort key: not indexed
    b = {item["id"]["S"]: item for item in after["b"]}
    assert set(b) == {f"{tag}-0", f"{tag}-2", f"{tag}-3", f"{tag}-9"}
    assert b[f"{tag}-0"]["total"] == {"N": "20"}
    assert sorted(i["id"]["S"] for i in after["by_new_owner"]) == [f"{tag}-0", f"{tag}-9"]
    assert sorted(i["id"]["S"] for i in after["by_owner"]) == [f"{tag}-2", f"{tag}-3"]


def test_a_failed_update_item_changes_nothing(local_aws: Any, tables: dict[str, str]) -> None:
    # moto applies an update clause by clause; one that fails halfway used to keep the first clauses
    # (and, on a new key, the item it created for them).
    client = _client(local_aws)
    tag = uuid.uuid4().hex[:10]
    _seed(client, tables, tag)
    before = _state(client, tables, tag)
    for key in (f"{tag}-0", f"{tag}-new"):
        with pytest.raises(ClientError) as caught:
            client.update_item(TableName=tables["b"], Key={"id": _s(key)}, UpdateExpression="SET a = :a, z = :z",
                               ExpressionAttributeValues={":a": _s("small"), ":z": _s("x" * 409_600)})
        assert caught.value.response["Error"]["Message"] == "Item size to update has exceeded the maximum allowed size"
    assert _state(client, tables, tag) == before


# --- memory ------------------------------------------------------------------------------------------

def _moto_tables() -> int:
    from moto.dynamodb.models.table import Table

    gc.collect()
    return sum(1 for obj in gc.get_objects() if isinstance(obj, Table))


def _transactions(client: Any, tables: dict[str, str], tag: str, count: int) -> None:
    for n in range(count):
        client.transact_write_items(TransactItems=[
            {"Put": {"TableName": tables["a"], "Item": {"pk": _s(f"{tag}-t"), "sk": _s(f"{n}"), "v": _s("y" * 100)}}},
            {"Update": {"TableName": tables["b"], "Key": {"id": _s(f"{tag}-counter")},
                        "UpdateExpression": "ADD #t :one", "ExpressionAttributeNames": {"#t": "total"},
                        "ExpressionAttributeValues": {":one": {"N": "1"}}}},
        ])


def _fill(client: Any, tables: dict[str, str], tag: str, items: int) -> None:
    for start in range(0, items, 25):
        client.batch_write_item(RequestItems={tables["a"]: [
            {"PutRequest": {"Item": {"pk": _s(f"{tag}-fill-{n % 50}"), "sk": _s(f"{n}"), "payload": _s("z" * 1000)}}}
            for n in range(start, min(items, start + 25))]})


def test_transactions_leave_no_table_copies_alive(local_aws: Any, tables: dict[str, str]) -> None:
    client = _client(local_aws)
    tag = uuid.uuid4().hex[:10]
    _transactions(client, tables, tag, 3)
    before = _moto_tables()
    _transactions(client, tables, tag, 40)
    # Each transaction used to copy both tables and keep both copies alive: 80 more here.
    assert _moto_tables() - before <= 0


def test_moto_tracks_no_dynamodb_objects(local_aws: Any, tables: dict[str, str]) -> None:
    from moto.core.model_instances import model_data

    client = _client(local_aws)
    _transactions(client, tables, uuid.uuid4().hex[:10], 5)
    client.query(TableName=tables["a"], KeyConditionExpression="pk = :p", ExpressionAttributeValues={":p": _s("x")})
    tracked = {name: len(cls.instances_tracked) for name, cls in model_data["dynamodb"].items()  # type: ignore[attr-defined]
               if getattr(cls, "instances_tracked", None)}
    assert tracked == {}


def test_memory_after_many_transactions_stays_bounded(local_aws: Any, tables: dict[str, str]) -> None:
    client = _client(local_aws)
    tag = uuid.uuid4().hex[:10]
    _fill(client, tables, tag, 1000)  # ~1 MB in the table: each old-style copy of it cost more
    _transactions(client, tables, tag, 3)
    gc.collect()
    tracemalloc.start()
    try:
        start, _peak = tracemalloc.get_traced_memory()
        _transactions(client, tables, tag, 40)
        gc.collect()
        end, _peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
    # 40 new small items (~0.2 KB each, plus moto's bookkeeping, ~0.1 MB in all) are what should remain; 40 copies
    # of a 1 MB table kept alive were well over 40 MB.
    assert end - start < 8 * 1024 * 1024, f"grew by {(end - start) / 1e6:.1f} MB"
