"""One ingest of a file at a time, and only once: S3 and SQS deliver messages more than once.

A claim is a conditional write on the file's item, so two deliveries of the same notice never both
hash, describe and tile the same bytes (a file id names one upload's bytes for good). A claim older
than the ingest function's timeout belongs to an attempt that is certainly dead, and may be taken
over; a failed attempt gives its claim back at once, so the queue's next try can run.
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from pynamodb.exceptions import UpdateError

from chalicelib.files.models import FILE_SK, FileItem, condition_failed, file_pk
from chalicelib.resources import INGEST_FUNCTION_TIMEOUT_SECONDS

LEASE = timedelta(seconds=INGEST_FUNCTION_TIMEOUT_SECONDS)


def claim(file_id: str) -> datetime | None:
    """Claim the file's ingest; None if it is done, under way elsewhere, or not recorded (yet)."""
    now = datetime.now(UTC)
    try:
        _item(file_id).update(
            actions=[FileItem.ingest_claimed_at.set(now)],
            condition=FileItem.pk.exists()
            & FileItem.ingested_at.does_not_exist()
            & (FileItem.ingest_claimed_at.does_not_exist() | (FileItem.ingest_claimed_at < now - LEASE)),
        )
    except UpdateError as exc:
        if condition_failed(exc):
            return None
        raise
    return now


def finish(file_id: str) -> None:
    _item(file_id).update(
        actions=[FileItem.ingested_at.set(datetime.now(UTC)), FileItem.ingest_claimed_at.remove()]
    )


def release(file_id: str, claimed: datetime) -> None:
    """Give the claim back after a failed attempt, unless another attempt has taken it over."""
    try:
        _item(file_id).update(
            actions=[FileItem.ingest_claimed_at.remove()], condition=FileItem.ingest_claimed_at == claimed
        )
    except UpdateError as exc:
        if not condition_failed(exc):
            raise


def _item(file_id: str) -> FileItem:
    return FileItem(pk=file_pk(file_id), sk=FILE_SK)
