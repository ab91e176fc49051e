"""Local stand-in for Lambda's SQS event source mapping.

It long-polls a queue, hands the real worker handler an SQS-shaped event (the same fields Lambda
sends), and deletes only the messages the handler did not report in ``batchItemFailures``; the rest
become visible again after the visibility timeout and are redelivered, and after maxReceiveCount
receives SQS's redrive policy moves them to the dead-letter queue, as in AWS.
"""

from __future__ import annotations

import threading
import uuid
from collections.abc import Callable
from typing import Any

from mindly.observability import logger

Handler = Callable[[dict[str, Any], Any], Any]


class LocalContext:
    """The parts of the Lambda context object that Powertools and our handlers read."""

    def __init__(self, function_name: str, timeout_ms: int = 60_000) -> None:
        self.function_name = function_name
        self.function_version = "$LATEST"
        self.memory_limit_in_mb = 1024
        self.invoked_function_arn = f"arn:aws:lambda:local:000000000000:function:{function_name}"
        self.aws_request_id = uuid.uuid4().hex
        self._timeout_ms = timeout_ms

    def get_remaining_time_in_millis(self) -> int:
        return self._timeout_ms


def to_event(messages: list[dict[str, Any]], queue_arn: str, region: str) -> dict[str, Any]:
    """An SQS trigger event for ``messages`` as returned by ReceiveMessage."""
    return {"Records": [{
        "messageId": m["MessageId"],
        "receiptHandle": m["ReceiptHandle"],
        "body": m["Body"],
        "attributes": m.get("Attributes", {}),
        "messageAttributes": m.get("MessageAttributes", {}),
        "md5OfBody": m.get("MD5OfBody"),
        "eventSource": "aws:sqs",
        "eventSourceARN": queue_arn,
        "awsRegion": region,
    } for m in messages]}


def failed_ids(result: Any) -> set[str]:
    """Message ids the handler reported as failed (partial batch response)."""
    if not isinstance(result, dict):
        return set()
    return {str(item.get("itemIdentifier")) for item in result.get("batchItemFailures", [])}


class SqsPoller:
    """Feeds one queue to one handler until stopped."""

    def __init__(self, sqs: Any, queue_url: str, handler: Handler, function_name: str,
                 batch_size: int = 10, wait_seconds: int = 1) -> None:
        self.sqs = sqs
        self.queue_url = queue_url
        self.handler = handler
        self.function_name = function_name
        self.batch_size = batch_size
        self.wait_seconds = wait_seconds
        attributes = sqs.get_queue_attributes(QueueUrl=queue_url, AttributeNames=["QueueArn"])
        self.queue_arn = attributes["Attributes"]["QueueArn"]
        self.region = sqs.meta.region_name
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None

    def poll_once(self) -> int:
        """Receive one batch, invoke the handler, delete what succeeded; returns messages seen."""
        received = self.sqs.receive_message(
            QueueUrl=self.queue_url, MaxNumberOfMessages=self.batch_size, WaitTimeSeconds=self.wait_seconds,
            AttributeNames=["All"], MessageAttributeNames=["All"],
        ).get("Messages", [])
        if not received:
            return 0
        try:
            result = self.handler(to_event(received, self.queue_arn, self.region), LocalContext(self.function_name))
            failed = failed_ids(result)
        except Exception:
            # Like Lambda: an invocation that raises fails the whole batch.
            logger.exception("worker invocation failed", extra={"function": self.function_name})
            failed = {m["MessageId"] for m in received}
        done = [m for m in received if m["MessageId"] not in failed]
        if done:
            self.sqs.delete_message_batch(QueueUrl=self.queue_url, Entries=[
                {"Id": str(i), "ReceiptHandle": m["ReceiptHandle"]} for i, m in enumerate(done)
            ])
        return len(received)

    def start(self) -> SqsPoller:
        self._thread = threading.Thread(target=self._run, name=f"sqs-{self.function_name}", daemon=True)
        self._thread.start()
        return self

    def _run(self) -> None:
        while not self._stop.is_set():
            try:
                self.poll_once()
            except Exception:
                logger.exception("sqs poll failed", extra={"function": self.function_name})
                self._stop.wait(1.0)

    def stop(self) -> None:
        self._stop.set()
        if self._thread:
            self._thread.join(timeout=self.wait_seconds + 5)
