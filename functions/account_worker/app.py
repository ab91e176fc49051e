"""Account deletion worker (SQS, partial batch failures): sweeps a deleted student's items in
bounded batches (mindly.services.account.process_message), queueing its own continuation until
nothing is left. A message that fails comes back after the visibility timeout and the sweep goes
on from what is still there; after five receives the queue moves it to the dead-letter queue."""

from __future__ import annotations

import json
from typing import TYPE_CHECKING, Any

from aws_lambda_powertools.utilities.batch import BatchProcessor, EventType, process_partial_response
from aws_lambda_powertools.utilities.data_classes.sqs_event import SQSRecord

if TYPE_CHECKING:
    from aws_lambda_powertools.utilities.batch.types import PartialItemFailureResponse

from mindly.config import get_settings
from mindly.observability import lambda_entry, logger
from mindly.services import account

processor = BatchProcessor(event_type=EventType.SQS, raise_on_entire_batch_failure=False)


def handle_record(record: SQSRecord) -> str:
    message = json.loads(record.body)
    if not isinstance(message, dict):
        raise ValueError("not an account deletion message")
    outcome = account.process_message(get_settings(), message, account.sqs_enqueue)
    logger.info("account deletion", extra={"outcome": outcome,
                                            "receives": int(record.attributes.approximate_receive_count or 1)})
    return outcome


@lambda_entry
def handler(event: dict[str, Any], context: Any) -> PartialItemFailureResponse:
    return process_partial_response(event=event, record_handler=handle_record, processor=processor, context=context)
