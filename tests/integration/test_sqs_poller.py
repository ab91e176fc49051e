"""The local SQS poller behaves like Lambda's event source mapping."""

from __future__ import annotations

import json
import uuid
from typing import Any

import boto3

from infra.sqs_poller import SqsPoller


def _queues(sqs: Any) -> tuple[str, str]:
    name = f"poller-{uuid.uuid4().hex[:8]}"
    dlq = sqs.create_queue(QueueName=f"{name}-dlq")["QueueUrl"]
    dlq_arn = sqs.get_queue_attributes(QueueUrl=dlq, AttributeNames=["QueueArn"])["Attributes"]["QueueArn"]
    queue = sqs.create_queue(QueueName=name, Attributes={
        "VisibilityTimeout": "0",
        "RedrivePolicy": json.dumps({"deadLetterTargetArn": dlq_arn, "maxReceiveCount": "2"}),
    })["QueueUrl"]
    return queue, dlq


def _count(sqs: Any, url: str) -> int:
    attributes = sqs.get_queue_attributes(QueueUrl=url, AttributeNames=["ApproximateNumberOfMessages"])
    return int(attributes["Attributes"]["ApproximateNumberOfMessages"])


def test_partial_batch_failures_are_redelivered_then_dead_lettered(local_aws: Any) -> None:
    sqs = boto3.client("sqs")
    queue, dlq = _queues(sqs)
    for n in range(3):
        sqs.send_message(QueueUrl=queue, MessageBody=json.dumps({"n": n}))
    seen: list[int] = []

    def handler(event: dict[str, Any], context: Any) -> dict[str, Any]:
        # Given a worker that fails the message n == 1 and succeeds the others
        assert context.function_name == "Worker"
        failures = []
        for record in event["Records"]:
            assert record["eventSource"] == "aws:sqs" and record["eventSourceARN"].endswith(queue.rsplit("/", 1)[1])
            n = json.loads(record["body"])["n"]
            seen.append(n)
            if n == 1:
                failures.append({"itemIdentifier": record["messageId"]})
        return {"batchItemFailures": failures}

    poller = SqsPoller(sqs, queue, handler, "Worker", batch_size=10, wait_seconds=0)
    # When the poller runs until the queue is empty
    for _ in range(6):
        poller.poll_once()
    # Then the good messages ran once each, the failing one was retried maxReceiveCount times
    assert sorted(seen) == [0, 1, 1, 2]
    # And it ended in the dead-letter queue, not lost
    assert _count(sqs, queue) == 0
    assert _count(sqs, dlq) == 1


def test_a_raising_handler_fails_the_whole_batch(local_aws: Any) -> None:
    sqs = boto3.client("sqs")
    queue, dlq = _queues(sqs)
    sqs.send_message(QueueUrl=queue, MessageBody="{}")

    def handler(event: dict[str, Any], context: Any) -> None:
        raise RuntimeError("worker crashed")

    poller = SqsPoller(sqs, queue, handler, "Worker", wait_seconds=0)
    assert poller.poll_once() == 1
    # The message is not deleted: it comes back
    assert poller.poll_once() == 1
    poller.poll_once()
    assert _count(sqs, dlq) == 1
