"""File integrity: does what S3 holds still match what Vellum recorded?

A check compares the stored object's size with the file's, and its SHA-256 (streamed, never
held in memory) with the file's checksum; a file without one (the client declared none) gets
the computed one. Files above ``integrity_max_bytes`` are too large to stream within a function's
time limit: for them the check compares S3's own full-object checksum (CRC64NVME, which S3 keeps
for every new object) with the one recorded at their first check. Ingest checks each file when it
lands; a scheduled job re-checks the least recently checked first, in bounded batches.
"""

from __future__ import annotations

import contextlib
from dataclasses import dataclass
from datetime import datetime

from pynamodb.exceptions import DoesNotExist, UpdateError

from chalicelib import clock
from chalicelib.auth.policy import Action
from chalicelib.auth.principal import Principal
from chalicelib.errors import NotFound
from chalicelib.files import storage
from chalicelib.files.buckets import get_bucket
from chalicelib.files.keys import validate_key
from chalicelib.files.models import (
    CHECKS_PK,
    FILE_SK,
    NEVER_CHECKED,
    FileItem,
    ObjectVersionItem,
    bucket_pk,
    file_pk,
    head_sk,
    version_sk,
)
from chalicelib.files.objects import get_version, head_version
from chalicelib.observability import logger, metrics
from chalicelib.settings import get_settings


@dataclass(frozen=True)
class CheckResult:
    file_id: str
    ok: bool
    reason: str | None
    checked_at: datetime


def check_file(file_id: str) -> CheckResult | None:
    """Check one file now; None if Vellum has no record of it (yet)."""
    try:
        stored = FileItem.get(file_pk(file_id), FILE_SK, consistent_read=True)
    except DoesNotExist:
        return None
    now = clock.now()
    reason = _problem(stored)
    result = CheckResult(file_id=file_id, ok=reason is None, reason=reason, checked_at=now)
    stored.update(
        actions=[
            FileItem.last_check_at.set(now),
            FileItem.last_check.set(result.ok),
            FileItem.gsi1sk.set(now.isoformat()),
        ]
    )
    metrics.add_metric(name="IntegrityChecks", unit="Count", value=1)
    if not result.ok:
        logger.error("integrity check failed", extra={"file_id": file_id, "reason": reason})
        metrics.add_metric(name="IntegrityMismatches", unit="Count", value=1)
    return result


def _problem(stored: FileItem) -> str | None:
    """What is wrong with the stored object, or None; fills in a checksum the file lacks."""
    facts = storage.stat(stored.s3_key)
    if facts is None:
        return "the stored object is missing"
    if facts.size != stored.size:
        return f"the stored object has {facts.size} bytes, not {int(stored.size)}"
    if stored.size > get_settings().integrity_max_bytes:
        return _compare_s3_checksum(stored)
    digest = "sha256:" + storage.sha256(stored.s3_key)
    if stored.checksum is None:
        _record_checksum(stored, digest)
        return None
    if stored.checksum != digest:
        return f"the stored object's checksum is {digest}, not {stored.checksum}"
    return None


def _compare_s3_checksum(stored: FileItem) -> str | None:
    current = storage.s3_checksum(stored.s3_key)
    if current is None:
        return None  # S3 keeps no checksum for this object: the size is all there is to compare
    if stored.s3_checksum is None:
        stored.update(actions=[FileItem.s3_checksum.set(current)])
        return None
    if stored.s3_checksum != current:
        return f"S3's checksum of the stored object is {current}, not {stored.s3_checksum}"
    return None


def _record_checksum(stored: FileItem, digest: str) -> None:
    """Give the file, and the version that created it, the checksum the client did not declare."""
    stored.update(actions=[FileItem.checksum.set(digest)], condition=FileItem.checksum.does_not_exist())
    if stored.bucket_id is None or stored.key is None or stored.version_id is None:
        return
    for sk in (version_sk(stored.key, stored.version_id), head_sk(stored.key)):
        # The head may have moved on to a newer version, or the version be gone: nothing to fill then.
        with contextlib.suppress(UpdateError):
            ObjectVersionItem(pk=bucket_pk(stored.bucket_id), sk=sk).update(
                actions=[ObjectVersionItem.checksum.set(digest)],
                condition=(ObjectVersionItem.version_id == stored.version_id)
                & ObjectVersionItem.checksum.does_not_exist(),
            )


def check_stalest(limit: int) -> list[CheckResult]:
    """Re-check the ``limit`` files checked least recently (never-checked ones first)."""
    results = []
    for stored in FileItem.by_last_check.query(CHECKS_PK, limit=limit):
        result = check_file(stored.id)
        if result is not None:
            results.append(result)
    return results


def request_check(
    principal: Principal, bucket_id: str, key: str, version_id: str | None
) -> CheckResult | None:
    """Check a file on demand: now if it is small enough to hash within the request, else next in line."""
    bucket = get_bucket(principal, bucket_id, Action.BUCKET_UPDATE)
    key = validate_key(key)
    version = get_version(bucket.id, key, version_id) if version_id else head_version(bucket.id, key)
    if version.file_id is None:
        raise NotFound("This version is a delete marker: it has no content to check.")
    if version.size <= get_settings().sync_check_max_bytes:
        return check_file(version.file_id)
    FileItem(pk=file_pk(version.file_id), sk=FILE_SK).update(actions=[FileItem.gsi1sk.set(NEVER_CHECKED)])
    return None
