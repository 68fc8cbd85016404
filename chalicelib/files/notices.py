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

A multi-page file's pages are made in batches, one notice each ("pages due"), so that the
functions make them in parallel.

Narrowed access goes through the queue too: the CDN may refuse an invalidation for a while (it
takes only so many at once), and the queue retries it, then dead-letters it, which alarms.
"""

from __future__ import annotations

import functools
import json
from typing import TYPE_CHECKING, Any

from chalicelib import aws
from chalicelib.observability import logger
from chalicelib.settings import get_settings

if TYPE_CHECKING:
    from mypy_boto3_sqs.type_defs import SendMessageBatchRequestEntryTypeDef

FILE_RECORDED = "vellum:file-recorded"
PUBLIC_ACCESS_NARROWED = "vellum:public-access-narrowed"
PAGES_DUE = "vellum:pages-due"
SQS_BATCH = 10  # messages one SendMessageBatch takes


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


def announce_pages(file_id: str, batches: list[tuple[int, int]]) -> None:
    """Ask ingest for pages ``first`` to ``last`` of a multi-page file, one message per batch, so
    that the batches run in parallel. Raises if a message is not sent: the ingest that announces
    them fails and is tried again (a batch made twice is stored twice, the same)."""
    queue = _queue_url()
    for start in range(0, len(batches), SQS_BATCH):
        entries: list[SendMessageBatchRequestEntryTypeDef] = [
            {
                "Id": str(index),
                "MessageBody": json.dumps(
                    {"type": PAGES_DUE, "file_id": file_id, "first": first, "last": last}
                ),
            }
            for index, (first, last) in enumerate(batches[start : start + SQS_BATCH])
        ]
        failed = aws.sqs().send_message_batch(QueueUrl=queue, Entries=entries).get("Failed")
        if failed:
            raise RuntimeError(f"the queue refused {len(failed)} page batches: {failed[0].get('Message')}")
