"""The ingest queue's consumer: S3 notifications for new objects, in SQS batches.

Each SQS record succeeds or fails alone (a partial batch response), so one bad
message is retried and finally dead-lettered without holding back the others.
"""

from __future__ import annotations

from typing import Any

from aws_lambda_powertools.utilities.batch import BatchProcessor, EventType, process_partial_response
from aws_lambda_powertools.utilities.batch.types import PartialItemFailureResponse
from aws_lambda_powertools.utilities.data_classes.sqs_event import SQSRecord

from chalicelib.files.completion import finalise_form_upload
from chalicelib.files.integrity import check_file
from chalicelib.ingest.events import LandedObject, landed_objects
from chalicelib.observability import flush_metrics, logger, metrics, tracer
from chalicelib.resources import DATA_PREFIX
from chalicelib.settings import get_settings

_processor = BatchProcessor(event_type=EventType.SQS)


@tracer.capture_method
def ingest_object(landed: LandedObject) -> None:
    logger.info(
        "object landed",
        extra={"bucket": landed.bucket, "key": landed.key, "size": landed.size, "etag": landed.etag},
    )
    metrics.add_metric(name="ObjectsLanded", unit="Count", value=1)
    if landed.bucket != get_settings().data_bucket or not landed.key.startswith(DATA_PREFIX):
        return
    # A browser form upload has no completion call: its object's arrival completes it.
    version = finalise_form_upload(landed.key)
    if version is not None:
        logger.info("form upload recorded", extra={"version_id": version.version_id, "key": version.key})
    # A file already recorded is checked now; one whose completion is still to come is checked
    # by the integrity job, which takes never-checked files first.
    check_file(landed.key.removeprefix(DATA_PREFIX))


def record_handler(record: SQSRecord) -> None:  # Powertools requires the name "record"
    for landed in landed_objects(record.body):
        ingest_object(landed)


def handle_batch(event: dict[str, Any], context: Any) -> PartialItemFailureResponse:
    try:
        return process_partial_response(
            event=event, record_handler=record_handler, processor=_processor, context=context
        )
    finally:
        flush_metrics()
