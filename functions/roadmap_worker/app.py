"""Roadmap worker (SQS, partial batch failures): generates queued roadmaps
(mindly.services.roadmaps.process_job). A message that fails is reported in ``batchItemFailures``
and comes back; after three receives the queue moves it to the dead-letter queue."""

from __future__ import annotations

import json
from typing import TYPE_CHECKING, Any

from aws_lambda_powertools.utilities.batch import BatchProcessor, EventType, process_partial_response
from aws_lambda_powertools.utilities.data_classes.sqs_event import SQSRecord

if TYPE_CHECKING:
    from aws_lambda_powertools.utilities.batch.types import PartialItemFailureResponse

from mindly.observability import lambda_entry, logger
from mindly.services import roadmaps

# A batch whose every record failed is reported like any partial failure (not raised), so the
# messages come back through the queue, counted towards the dead-letter queue, one by one.
processor = BatchProcessor(event_type=EventType.SQS, raise_on_entire_batch_failure=False)


def handle_record(record: SQSRecord) -> str:
    message = json.loads(record.body)
    if not isinstance(message, dict) or "job_id" not in message or "user_id" not in message:
        raise ValueError("not a roadmap job message")
    receives = int(record.attributes.approximate_receive_count or 1)
    outcome = roadmaps.process_job(message, receives)
    logger.info("roadmap job", extra={"job_id": message["job_id"], "outcome": outcome, "receives": receives})
    return outcome


@lambda_entry
def handler(event: dict[str, Any], context: Any) -> PartialItemFailureResponse:
    return process_partial_response(event=event, record_handler=handle_record, processor=processor, context=context)
