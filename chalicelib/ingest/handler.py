"""The ingest queue's consumer: S3 notifications for new objects and Vellum's notices of recorded
files and of files no longer public, in SQS batches.

Each SQS record succeeds or fails alone (a partial batch response), so one bad
message is retried and finally dead-lettered without holding back the others.
"""

from __future__ import annotations

from typing import Any

from aws_lambda_powertools.utilities.batch import BatchProcessor, EventType, process_partial_response
from aws_lambda_powertools.utilities.batch.types import PartialItemFailureResponse
from aws_lambda_powertools.utilities.data_classes.sqs_event import SQSRecord

from chalicelib.files import stored
from chalicelib.files.completion import finalise_form_upload
from chalicelib.files.integrity import check_file
from chalicelib.iiif import cdn
from chalicelib.ingest.derivatives import make_derivatives
from chalicelib.ingest.describe import give_up, identify_file
from chalicelib.ingest.events import (
    LandedObject,
    PagesDue,
    PublicAccessNarrowed,
    RecordedFile,
    ingest_requests,
)
from chalicelib.ingest.pages import make_batch, make_pages
from chalicelib.ingest.stills import make_stills
from chalicelib.observability import flush_metrics, logger, metrics, tracer
from chalicelib.resources import DATA_PREFIX, INGEST_MAX_RECEIVE_COUNT
from chalicelib.settings import get_settings

_processor = BatchProcessor(event_type=EventType.SQS)


@tracer.capture_method
def object_landed(landed: LandedObject) -> None:
    logger.info(
        "object landed",
        extra={"bucket": landed.bucket, "key": landed.key, "size": landed.size, "etag": landed.etag},
    )
    metrics.add_metric(name="ObjectsLanded", unit="Count", value=1)
    if landed.bucket != get_settings().data_bucket or not landed.key.startswith(DATA_PREFIX):
        return
    # A browser form upload has no completion call: its object's arrival completes it. Other
    # uploads are ingested on the notice their completion sends (chalicelib.files.notices).
    version = finalise_form_upload(landed.key, landed.etag)
    if version is not None:
        logger.info("form upload recorded", extra={"version_id": version.version_id, "key": version.key})
        ingest_file(landed.key.removeprefix(DATA_PREFIX))


@tracer.capture_method
def ingest_file(file_id: str) -> None:
    """Everything ingest does with a recorded file, once: verify what landed, describe it, and for
    an image store its derivatives; for a multi-page file, its first pages, the others announced."""
    claimed = stored.claim_ingest(file_id)
    if claimed is None:
        logger.info("ingest skipped: done, under way elsewhere, or no such file", extra={"file_id": file_id})
        return
    try:
        check_file(file_id)
        identify_file(file_id)
        make_stills(file_id)
        make_derivatives(file_id)
        complete = make_pages(file_id)
    except Exception:
        stored.release_ingest(file_id, claimed)
        raise
    # Otherwise the claim stays, and the batch that stores the last page ends the ingest.
    if complete:
        stored.finish_ingest(file_id)


@tracer.capture_method
def pages_due(request: PagesDue) -> None:
    if make_batch(request.file_id, request.first, request.last):
        stored.finish_ingest(request.file_id)


def record_handler(record: SQSRecord) -> None:  # Powertools requires the name "record"
    for request in ingest_requests(record.body):
        if isinstance(request, RecordedFile | PagesDue):
            try:
                ingest_file(request.file_id) if isinstance(request, RecordedFile) else pages_due(request)
            except Exception as exc:
                # The queue's last try: the message goes to the dead-letter queue and the file says
                # so; what went wrong is logged, not shown (exception text can name internals).
                if int(record.attributes.approximate_receive_count) >= INGEST_MAX_RECEIVE_COUNT:
                    give_up(request.file_id, f"ingest failed {INGEST_MAX_RECEIVE_COUNT} times", exc)
                raise
        elif isinstance(request, PublicAccessNarrowed):
            cdn.invalidate(request.version_ids, reference=record.message_id)
        else:
            object_landed(request)


def handle_batch(event: dict[str, Any], context: Any) -> PartialItemFailureResponse:
    try:
        return process_partial_response(
            event=event, record_handler=record_handler, processor=_processor, context=context
        )
    finally:
        flush_metrics()
