"""Vellum's own notice on the ingest queue: "this file is recorded, ingest it".

S3 announces an object when its bytes land, which for most uploads is before Vellum has recorded
the completion (a single PUT lands before the client completes; S3 assembles a multipart file
before the completion's transaction). Ingest therefore works on recorded files only, announced by
this notice right after the completion's transaction; S3's own events complete browser form
uploads, which have no completion call. The files domain sends the notice and the ingest
handler reads it, so the message type lives here, below both. A notice that is lost (the send
failing after the transaction) is sent again by the integrity job for every file it finds still
waiting for ingest: ingest then runs in full, as for any other notice.
"""

from __future__ import annotations

import functools
import json

from chalicelib import aws
from chalicelib.observability import logger
from chalicelib.settings import get_settings

FILE_RECORDED = "vellum:file-recorded"


@functools.cache
def _queue_url() -> str:
    return aws.sqs().get_queue_url(QueueName=get_settings().ingest_queue)["QueueUrl"]


def announce_recorded_file(file_id: str) -> None:
    try:
        aws.sqs().send_message(
            QueueUrl=_queue_url(), MessageBody=json.dumps({"type": FILE_RECORDED, "file_id": file_id})
        )
    except Exception:
        # The upload itself has succeeded; the integrity job ingests files whose notice went missing.
        logger.exception("could not announce a recorded file to ingest", extra={"file_id": file_id})
