"""Vellum's own notices on the ingest queue: "this file is recorded, ingest it", and "these files
are no longer public, have shared caches forget them".

S3 announces an object when its bytes land, which for most uploads is before Vellum has recorded
the completion (a single PUT lands before the client completes; S3 assembles a multipart file
before the completion's transaction). Ingest therefore works on recorded files only, announced by
this notice right after the completion's transaction; S3's own events complete browser form
uploads, which have no completion call. The files domain sends the notice and the ingest
handler reads it, so the message type lives here, below both. A notice that is lost (the send
failing after the transaction) is sent again by the integrity job for every file it finds still
waiting for ingest: ingest then runs in full, as for any other notice.

Narrowed access goes through the queue too: the CDN may refuse an invalidation for a while (it
takes only so many at once), and the queue retries it, then dead-letters it, which alarms.
"""

from __future__ import annotations

import functools
import json
from typing import Any

from chalicelib import aws
from chalicelib.observability import logger
from chalicelib.settings import get_settings

FILE_RECORDED = "vellum:file-recorded"
PUBLIC_ACCESS_NARROWED = "vellum:public-access-narrowed"


@functools.cache
def _queue_url() -> str:
    return aws.sqs().get_queue_url(QueueName=get_settings().ingest_queue)["QueueUrl"]


def _send(notice: dict[str, Any]) -> None:
    aws.sqs().send_message(QueueUrl=_queue_url(), MessageBody=json.dumps(notice))


def announce_recorded_file(file_id: str) -> None:
    try:
        _send({"type": FILE_RECORDED, "file_id": file_id})
    except Exception:
        # The upload itself has succeeded; the integrity job ingests files whose notice went missing.
        logger.exception("could not announce a recorded file to ingest", extra={"file_id": file_id})


def announce_public_access_narrowed(bucket_id: str, version_ids: list[str] | None) -> None:
    """``version_ids``: the versions whose public answers shared caches must drop; None: all."""
    try:
        _send({"type": PUBLIC_ACCESS_NARROWED, "bucket_id": bucket_id, "version_ids": version_ids})
    except Exception:
        # The change itself has committed, and the API refuses the files from now on; only copies
        # a CDN holds remain, which an operator can invalidate by hand (docs/security.md).
        logger.exception(
            "could not announce narrowed access to the CDN",
            extra={"bucket_id": bucket_id, "version_ids": version_ids},
        )
