"""Purging deleted buckets: their uploads end, their versions go, and each stored file's bytes go
once no version anywhere (a snapshot's, say) names it any more.

A bucket is deleted at once for its users (soft delete) and purged later by a scheduled job, in
bounded steps: a bucket too large for one run stays in line for the next.
"""

from __future__ import annotations

import time

from chalicelib.files.models import (
    BUCKET_SK,
    DELETED_BUCKETS_PK,
    FILE_SK,
    HEAD_PREFIX,
    VERSION_PREFIX,
    BucketItem,
    FileItem,
    ObjectVersionItem,
    bucket_pk,
    file_pk,
)
from chalicelib.files.objects import release_file
from chalicelib.files.uploads import abandon_open_uploads
from chalicelib.observability import logger, metrics


def purge_deleted_buckets(budget_seconds: float) -> int:
    """Purge deleted buckets until done or out of time; return how many were purged completely."""
    deadline = time.monotonic() + budget_seconds
    purged = 0
    for bucket in BucketItem.deleted_buckets.query(DELETED_BUCKETS_PK):
        if not _purge(bucket.id, deadline):
            break
        bucket.update(actions=[BucketItem.gsi2pk.remove(), BucketItem.gsi2sk.remove()])
        purged += 1
    if purged:
        logger.info("deleted buckets purged", extra={"count": purged})
        metrics.add_metric(name="BucketsPurged", unit="Count", value=purged)
    return purged


def _purge(bucket_id: str, deadline: float) -> bool:
    """Remove what one bucket holds; False if time ran out first."""
    abandon_open_uploads(bucket_id, "its bucket was deleted")
    for item in ObjectVersionItem.query(bucket_pk(bucket_id), ObjectVersionItem.sk.startswith(HEAD_PREFIX)):
        item.delete()
    for item in ObjectVersionItem.query(
        bucket_pk(bucket_id), ObjectVersionItem.sk.startswith(VERSION_PREFIX)
    ):
        if time.monotonic() > deadline:
            return False
        item.delete()
        if item.file_id is not None:
            FileItem(pk=file_pk(item.file_id), sk=FILE_SK).update(actions=[FileItem.refs.add(-1)])
            release_file(item.file_id)
    BucketItem(pk=bucket_pk(bucket_id), sk=BUCKET_SK).update(
        actions=[BucketItem.size.set(0), BucketItem.used.set(0)]
    )
    return True
