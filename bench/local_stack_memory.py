"""The local stack's memory and transaction cost: resident memory before and after many
transactional writes, and the time of one transactional write with a small and a large table.

moto backs up every table a TransactWriteItems names (a deep copy) and its instance tracker kept the
copies alive, so the stack grew with every transactional write and each write got slower as the
table grew. infra/local_aws.py rolls transactions back item by item and stops the tracker keeping
DynamoDB objects; this measures both.

    .venv/bin/python -m bench.local_stack_memory                 # the stack as infra/local_aws starts it
    .venv/bin/python -m bench.local_stack_memory --compare-old   # and moto as the stack ran it before

Each configuration runs in a fresh process (so resident memory is its own): moto's server in that
process, one table like the Study table (pk, sk), and writes over HTTP with boto3 as the functions
make them. A transactional write is a submit's shape: put an attempt item, add to a progress
counter, add to a topic counter. Steps:

1. 10 items in the table: the median time of ``--samples`` transactional writes;
2. resident memory (VmRSS) before and after ``--writes`` transactional writes (a new attempt each);
3. the table filled to ``--large`` items (batch writes): the median time of ``--samples`` writes.

The old configuration (``--compare-old``) is what the stack did before: one deep copy of each table
per transaction, kept alive by moto's tracker. Its memory grows with every write and with the
table, so it makes ``--old-writes`` writes (default 200) and the table reports the growth per write.
"""

from __future__ import annotations

import argparse
import gc
import json
import statistics
import subprocess
import sys
import time
import uuid
from pathlib import Path
from typing import Any

REPO = Path(__file__).resolve().parent.parent
TABLE = "bench-memory-study"
LABELS = {"new": "now (item-by-item rollback, no tracking)", "old": "before (table copies, tracked)"}


def _rss_mb() -> float:
    for line in Path("/proc/self/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1]) / 1024
    return float("nan")


def _old_copy_each_table_once_per_transaction() -> None:
    """The stack's transaction patch before the item-by-item rollback (as it was in
    infra/local_aws.py): one deep copy of each table per transaction, restored on failure."""
    import copy

    from moto.dynamodb import models

    from infra.local_aws import _DYNAMODB_LOCK

    original = models.DynamoDBBackend.transact_write_items

    class _OncePerCall:
        def __init__(self) -> None:
            self.copies: dict[int, Any] = {}

        def deepcopy(self, value: Any, memo: Any = None) -> Any:
            if not isinstance(value, models.Table):
                return copy.deepcopy(value, memo)
            if id(value) not in self.copies:
                self.copies[id(value)] = copy.deepcopy(value, memo)
            return self.copies[id(value)]

    def transact_write_items(self: Any, transact_items: Any) -> Any:
        with _DYNAMODB_LOCK:
            models.copy = _OncePerCall()  # type: ignore[assignment]
            try:
                return original(self, transact_items)
            finally:
                models.copy = copy

    models.DynamoDBBackend.transact_write_items = transact_write_items  # type: ignore[method-assign]


def _start(mode: str) -> tuple[Any, str]:
    from infra import local_aws

    if mode == "new":
        return local_aws.start_moto()
    from moto.server import ThreadedMotoServer

    local_aws.serialize_dynamodb_requests()
    _old_copy_each_table_once_per_transaction()
    server = ThreadedMotoServer(ip_address="127.0.0.1", port=0, verbose=False)
    server.start()
    _host, port = server.get_host_and_port()
    return server, f"http://127.0.0.1:{port}"


def _s(value: str) -> dict[str, str]:
    return {"S": value}


def _transaction(client: Any, student: str, n: int) -> float:
    started = time.perf_counter()
    client.transact_write_items(TransactItems=[
        {"Put": {"TableName": TABLE, "Item": {
            "pk": _s(f"USER#{student}"), "sk": _s(f"ATTEMPT#{n:08d}#{uuid.uuid4().hex}"),
            "question_id": _s(uuid.uuid4().hex), "selected": _s("B"), "correct": {"BOOL": True},
            "confidence": {"N": "4"}, "seconds": {"N": "37"}, "explanation": _s("x" * 200)},
            "ConditionExpression": "attribute_not_exists(pk)"}},
        {"Update": {"TableName": TABLE, "Key": {"pk": _s(f"USER#{student}"), "sk": _s("PROGRESS")},
                    "UpdateExpression": "ADD xp_total :xp, answers :one",
                    "ExpressionAttributeValues": {":xp": {"N": "10"}, ":one": {"N": "1"}}}},
        {"Update": {"TableName": TABLE, "Key": {"pk": _s(f"USER#{student}"), "sk": _s("TOPIC#Algorithms")},
                    "UpdateExpression": "ADD answered :one, correct_count :one",
                    "ExpressionAttributeValues": {":one": {"N": "1"}}}},
    ])
    return time.perf_counter() - started


def _fill(client: Any, to: int, have: int) -> None:
    batch: list[dict[str, Any]] = []
    for n in range(have, to):
        batch.append({"PutRequest": {"Item": {
            "pk": _s(f"USER#filler-{n % 500}"), "sk": _s(f"ATTEMPT#{n:08d}"), "question_id": _s(uuid.uuid4().hex),
            "selected": _s("A"), "correct": {"BOOL": False}, "seconds": {"N": "21"}, "explanation": _s("y" * 200)}}})
        if len(batch) == 25:
            client.batch_write_item(RequestItems={TABLE: batch})
            batch = []
    if batch:
        client.batch_write_item(RequestItems={TABLE: batch})


def _count(client: Any) -> int:
    total, start = 0, None
    while True:  # a Scan page stops at 1 MB read, counting or not
        page = client.scan(TableName=TABLE, Select="COUNT", **({"ExclusiveStartKey": start} if start else {}))
        total += int(page["Count"])
        start = page.get("LastEvaluatedKey")
        if not start:
            return total


def measure(mode: str, writes: int, samples: int, large: int) -> dict[str, Any]:
    """One configuration, in this process (see the module docstring)."""
    import boto3

    server, endpoint = _start(mode)
    try:
        client = boto3.client("dynamodb", endpoint_url=endpoint, region_name="ap-south-1",
                              aws_access_key_id="bench", aws_secret_access_key="bench")
        client.create_table(TableName=TABLE, BillingMode="PAY_PER_REQUEST",
                            KeySchema=[{"AttributeName": "pk", "KeyType": "HASH"},
                                       {"AttributeName": "sk", "KeyType": "RANGE"}],
                            AttributeDefinitions=[{"AttributeName": "pk", "AttributeType": "S"},
                                                  {"AttributeName": "sk", "AttributeType": "S"}])
        _fill(client, 7, 0)
        _transaction(client, "warm-up", 0)  # 7 fillers, an attempt and two counters: 10 items
        small_items = _count(client)
        small = [_transaction(client, "small", n) for n in range(samples)]

        gc.collect()
        rss_before = _rss_mb()
        for n in range(writes):
            _transaction(client, "many", n)
        gc.collect()
        rss_after = _rss_mb()

        have = _count(client)
        _fill(client, large, have)
        large_items = _count(client)
        large_times = [_transaction(client, "large", n) for n in range(samples)]
        return {"mode": mode, "writes": writes, "rss_before_mb": rss_before, "rss_after_mb": rss_after,
                "small_items": small_items, "small_ms": statistics.median(small) * 1000,
                "large_items": large_items, "large_ms": statistics.median(large_times) * 1000}
    finally:
        server.stop()


def _run_child(mode: str, writes: int, samples: int, large: int) -> dict[str, Any]:
    command = [sys.executable, "-m", "bench.local_stack_memory", "--child", mode, "--writes", str(writes),
               "--samples", str(samples), "--large", str(large)]
    done = subprocess.run(command, cwd=REPO, capture_output=True, text=True, check=False)
    if done.returncode != 0:
        raise SystemExit(f"{mode}: the measuring process failed:\n{done.stderr[-3000:]}")
    return dict(json.loads(done.stdout.strip().splitlines()[-1]))


def _table(rows: list[dict[str, Any]]) -> str:
    header = ("| stack | transactional writes | RSS before (MB) | RSS after (MB) | growth per write (KB) "
              "| one write, items in table -> ms (median) | one write, items in table -> ms (median) |")
    lines = [header, "|---|---:|---:|---:|---:|---:|---:|"]
    for row in rows:
        growth = (row["rss_after_mb"] - row["rss_before_mb"]) * 1024 / max(1, row["writes"])
        label = LABELS[row["mode"]]
        lines.append(f"| {label} | {row['writes']:,} | {row['rss_before_mb']:.0f} | {row['rss_after_mb']:.0f} "
                     f"| {growth:.1f} | {row['small_items']:,} -> {row['small_ms']:.1f} "
                     f"| {row['large_items']:,} -> {row['large_ms']:.1f} |")
    return "\n".join(lines)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--writes", type=int, default=1000, help="transactional writes between the RSS readings")
    parser.add_argument("--samples", type=int, default=5, help="writes timed at each table size (the median is shown)")
    parser.add_argument("--large", type=int, default=20_000, help="items in the table for the second timing")
    parser.add_argument("--compare-old", action="store_true", help="also measure the stack's previous behaviour")
    parser.add_argument("--old-writes", type=int, default=200,
                        help="transactional writes for the old behaviour (its memory grows with each)")
    parser.add_argument("--child", choices=("new", "old"), help=argparse.SUPPRESS)
    args = parser.parse_args(argv)
    if args.child:
        print(json.dumps(measure(args.child, args.writes, args.samples, args.large)))
        return 0
    rows = [_run_child("new", args.writes, args.samples, args.large)]
    if args.compare_old:
        rows.append(_run_child("old", args.old_writes, args.samples, args.large))
    print(_table(rows))
    print("\nRSS is the whole stack process (moto's server, its tables, boto3); the growth per write is "
          "(after - before) / writes. Times are wall-clock on this machine, one request at a time.")
    return 0


if __name__ == "__main__":
    sys.exit(main())
