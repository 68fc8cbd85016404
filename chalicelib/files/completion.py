"""Completing an upload: check what S3 holds against the plan, then record it, exactly once.

complete  claim the upload (a conditional write), check every part against the plan (or, with no
          declared size, that the parts are even), complete it in S3, hash it against a declared
          checksum when that fits in the request, then one DynamoDB transaction writes the file,
          the version and the new head, counts the bytes and ends the upload.

Completing twice returns the same version; of two racing completions one does the work and the
other waits for its result. A failed check leaves no version: the data is deleted and the
reservation released. A browser form upload has no completion call: ingest completes it when S3
reports the object (``finalise_form_upload``).
"""

from __future__ import annotations

import contextlib
import time
from collections.abc import Iterator
from dataclasses import replace
from datetime import datetime
from typing import Any, NoReturn

from pynamodb.exceptions import DoesNotExist, TransactWriteError, UpdateError
from pynamodb.expressions.update import Action as Update
from pynamodb.transactions import TransactWrite

from chalicelib import clock
from chalicelib.auth.policy import Action
from chalicelib.auth.principal import Principal
from chalicelib.dynamodb import condition_failed, refused_keys, transact_once, transaction
from chalicelib.errors import (
    Conflict,
    FieldError,
    Forbidden,
    NotFound,
    QuotaExceeded,
    UploadFailed,
    UploadIncomplete,
    UploadRefused,
)
from chalicelib.files import storage
from chalicelib.files.buckets import (
    Bucket,
    get_bucket,
    load_bucket,
    release_with,
    require_writable,
    reserving,
)
from chalicelib.files.models import (
    BUCKET_SK,
    FILE_SK,
    FILE_UPLOAD_SK,
    BucketItem,
    FileItem,
    FilePointerItem,
    ObjectVersionItem,
    UploadItem,
    UploadState,
    bucket_pk,
    file_pk,
    head_sk,
    new_version_id,
    upload_sk,
    version_sk,
)
from chalicelib.files.notices import announce_recorded_file
from chalicelib.files.objects import ObjectVersion, from_item, version_item
from chalicelib.files.planning import MIN_PART_SIZE
from chalicelib.files.stored import await_ingest
from chalicelib.files.uploads import (
    ENDED,
    LEAVE_EXPIRY_INDEX,
    Completion,
    discard,
    load_upload,
    take_over,
    upload_from_item,
)
from chalicelib.observability import logger, metrics
from chalicelib.resources import DATA_PREFIX
from chalicelib.settings import get_settings

# How long a second, concurrent completion waits for the first one's result (API Gateway: 29 s).
COMPLETION_WAIT_SECONDS = 20.0


def complete_upload(
    principal: Principal, bucket_id: str, key: str, upload_id: str, completion: Completion
) -> ObjectVersion:
    """Check what S3 holds against the plan and make it the key's new head version, once.

    Completing twice returns the same version; of two racing completions one does the work and
    the other waits for its result.
    """
    bucket = get_bucket(principal, bucket_id, Action.BUCKET_UPDATE)
    item = load_upload(bucket, key, upload_id)
    if item.state == UploadState.COMPLETED:
        return _completed_version(item)
    require_writable(bucket)
    claimed_at = _claim(item)
    if claimed_at is None:
        return _wait_for_completion(bucket, key, upload_id)
    with _given_back_on_failure(item):
        parts = _verify(item, completion)
        if parts is not None:
            storage.complete_multipart(item.s3_key, item.s3_upload_id, parts)
        _verify_checksum(item)
        version = _record(item, claimed_at)
    announce_recorded_file(item.file_id)
    metrics.add_metric(name="UploadsCompleted", unit="Count", value=1)
    metrics.add_metric(name="BytesUploaded", unit="Bytes", value=version.size)
    return version


def _claim(item: UploadItem) -> datetime | None:
    """Take the upload for completing; None if another completion holds it."""
    now = clock.now()
    actions: list[Update] = [
        UploadItem.state.set(UploadState.COMPLETING),
        UploadItem.completing_since.set(now),
    ]
    if not take_over(item, actions, now):
        return None
    # What the claim wrote, for the conditions that check this completion still holds it (a
    # transaction does not refresh the item).
    item.state, item.completing_since = UploadState.COMPLETING, now
    return now


def _wait_for_completion(bucket: Bucket, key: str, upload_id: str) -> ObjectVersion:
    deadline = time.monotonic() + COMPLETION_WAIT_SECONDS
    while True:
        item = load_upload(bucket, key, upload_id)
        if item.state == UploadState.COMPLETED:
            return _completed_version(item)
        if item.state in ENDED:
            raise Conflict(ENDED[UploadState(item.state)] + (f": {item.failure}." if item.failure else "."))
        if time.monotonic() > deadline:
            raise Conflict("Another request is completing this upload; ask again in a moment.")
        time.sleep(0.25)


def _completed_version(item: UploadItem) -> ObjectVersion:
    assert item.version_id is not None  # set with the completed state, in one transaction
    stored = ObjectVersionItem.get(item.pk, version_sk(item.key, item.version_id), consistent_read=True)
    head = ObjectVersionItem.get(item.pk, head_sk(item.key), consistent_read=True)
    return from_item(stored, is_head=head.version_id == stored.version_id)


def _verify(item: UploadItem, completion: Completion) -> list[storage.StoredPart] | None:
    """The parts S3 is to assemble (None: the object is whole), if what S3 holds is what was
    planned; else fail the upload.

    An upload without a declared size gets its size here, and its quota reserved here.
    """
    plan = upload_from_item(item).plan
    if item.s3_upload_id is None:
        _verify_object(item)
        return None
    listed = storage.list_parts(item.s3_key, item.s3_upload_id)
    if listed is None:
        _verify_assembled(item, completion)
        return None
    parts = {part.number: part for part in listed}
    given = {part.part_number: part.etag.strip('"') for part in completion.parts or []}
    count = plan.part_count if plan else max([*parts, *given], default=0)
    missing = [n for n in range(1, count + 1) if n not in parts] or ([] if count else [1])
    if missing:
        # The upload stays open: the client can still send these parts and complete again.
        _release_claim(item)
        shown = ", ".join(str(n) for n in missing[:20]) + (", ..." if len(missing) > 20 else "")
        raise UploadIncomplete(
            f"{len(missing)} of {max(count, 1)} parts are missing: {shown}.",
            [FieldError("parts", f"part {n} is missing") for n in missing[:20]],
        )
    extra = sorted(n for n in parts if n > count)
    if extra:
        _fail(item, f"parts beyond the plan's {count} were uploaded: {extra[:20]}")
    sizes = [parts[n].size for n in range(1, count + 1)]
    expected = [plan.part_length(n) for n in range(1, count + 1)] if plan else _even_parts(sizes)
    for number, (got, wanted) in enumerate(zip(sizes, expected, strict=True), start=1):
        if got != wanted:
            _fail(item, f"part {number} has {got} bytes, not the planned {wanted}")
    if completion.parts is not None:
        held = {n: part.etag.strip('"') for n, part in parts.items()}
        if given != held:
            differing = sorted(n for n in set(given) | set(held) if given.get(n) != held.get(n))
            _fail(item, f"the ETags given for parts {differing[:20]} are not those S3 holds")
    _settle_size(item, sum(sizes))
    return [parts[n] for n in range(1, count + 1)]


def _verify_assembled(item: UploadItem, completion: Completion) -> None:
    """S3 no longer has the multipart upload: an earlier completion had S3 assemble it, then died
    before recording it (the function timed out, say). What S3 assembled is checked again, as far
    as it still can be: its size, and the ETags the client gives."""
    stored = storage.stat(item.s3_key)
    if stored is None or item.size is None:  # aborted in S3 (its lifecycle rule), never assembled
        _fail(item, "S3 no longer holds the upload's parts")
    if stored.size != int(item.size):
        _fail(item, f"the assembled file has {stored.size} bytes, not the planned {int(item.size)}")
    if completion.parts is not None:
        given = [part.etag for part in sorted(completion.parts, key=lambda part: part.part_number)]
        if storage.multipart_etag(given) != stored.etag.strip('"'):
            _fail(item, "the ETags given for the parts are not those of the file S3 assembled")
    _settle_size(item, stored.size)


def _verify_object(item: UploadItem) -> str:
    """The ETag of a single object (a PUT or a form's) whose size is the one planned."""
    stored = storage.stat(item.s3_key)
    if stored is None:
        _release_claim(item)
        raise UploadIncomplete("The file has not been uploaded yet: send it to the signed URL first.")
    plan = upload_from_item(item).plan
    if plan is not None and stored.size != plan.size:
        _fail(item, f"the uploaded file has {stored.size} bytes, not the declared {plan.size}")
    _settle_size(item, stored.size)
    return stored.etag


def _even_parts(sizes: list[int]) -> list[int]:
    """The sizes S3 can join into one object: equal parts of at least 5 MiB, then a smaller last one."""
    first = max(sizes[0], MIN_PART_SIZE) if len(sizes) > 1 else sizes[0]
    return [first] * (len(sizes) - 1) + [min(sizes[-1], first)]


def _settle_size(item: UploadItem, size: int) -> None:
    """Check the size against the bucket's limit as it is now; for an upload that declared no
    size, fix it and reserve its quota now."""
    bucket = load_bucket(item.bucket_id)
    if bucket is None:
        _fail(item, "its bucket was deleted")
    if size > bucket.file_size_limit:
        _fail(
            item,
            f"the file has {size} bytes, above the bucket's largest file size of {bucket.file_size_limit}",
        )
    if item.size is not None:
        return

    def sized(writes: TransactWrite) -> None:
        writes.update(
            item,
            actions=[UploadItem.size.set(size), UploadItem.reserved.set(size)],
            condition=_still_claimed(item) & UploadItem.size.does_not_exist(),
        )

    try:
        reserving(bucket, size, sized)
    except QuotaExceeded as refusal:
        _fail(item, refusal.reason)
    except (NotFound, Forbidden) as refusal:  # the bucket went, or was locked, since the upload began
        _fail(item, refusal.message)
    item.size = item.reserved = size  # a transaction does not refresh the item


def _verify_checksum(item: UploadItem) -> None:
    """Hash the assembled file against the declared checksum when that fits in the request.

    S3 itself checks a single PUT's declared SHA-256 (a signed header); a multipart file's only
    exists once S3 assembled it. A larger file is hashed by ingest, which flags a mismatch.
    """
    if item.checksum is None or int(item.size) > get_settings().sync_check_max_bytes:
        return
    digest = "sha256:" + storage.sha256(item.s3_key)
    if digest != item.checksum:
        _fail(item, f"the file's checksum is {digest}, not the declared {item.checksum}")


def _release_claim(item: UploadItem) -> None:
    """Back to pending, unless another completion has taken the claim over meanwhile."""
    try:
        item.update(
            actions=[UploadItem.state.set(UploadState.PENDING), UploadItem.completing_since.remove()],
            condition=_still_claimed(item),
        )
    except UpdateError as exc:
        if not condition_failed(exc):
            raise


@contextlib.contextmanager
def _given_back_on_failure(item: UploadItem) -> Iterator[None]:
    """An unexpected failure after the claim gives the claim back, so the client can retry or
    abort at once instead of waiting out the lease; a refusal has settled the upload itself."""
    try:
        yield
    except UploadRefused:
        raise
    except Exception:
        _release_claim(item)
        raise


def _still_claimed(item: UploadItem) -> Any:
    """The condition that this completion still holds the claim (the item holds it: pynamodb
    refreshes it from every update)."""
    return (UploadItem.state == UploadState.COMPLETING) & (
        UploadItem.completing_since == item.completing_since
    )


def _fail(item: UploadItem, reason: str) -> NoReturn:
    """No version, no data, no reservation: the upload ends here, with the reason."""
    ended: list[Update] = [
        UploadItem.state.set(UploadState.FAILED),
        UploadItem.failure.set(reason),
        *LEAVE_EXPIRY_INDEX,
    ]

    def ended_with_release(writes: TransactWrite) -> None:
        writes.update(item, actions=ended, condition=_still_claimed(item))
        if item.reserved:
            release_with(writes, item.bucket_id, int(item.reserved))

    if not transact_once(ended_with_release):
        raise Conflict("Another request took this upload over while it was being completed.")
    discard(item)
    logger.warning("upload failed its completion checks", extra={"upload_id": item.id, "reason": reason})
    metrics.add_metric(name="UploadsFailed", unit="Count", value=1)
    raise UploadFailed(reason)


def _record(item: UploadItem, claimed_at: datetime, s3_etag: str | None = None) -> ObjectVersion:
    """One transaction: the file, the version, the new head, the bucket's bytes, the upload's end.

    ``s3_etag`` pins the recorded object of an upload S3 cannot keep from being written again."""
    now = clock.now()
    version = ObjectVersion(
        bucket_id=item.bucket_id,
        key=item.key,
        version_id=new_version_id(),
        file_id=item.file_id,
        size=int(item.size),
        mimetype=item.content_type,
        checksum=item.checksum,
        delete_marker=False,
        tags={},
        created=now,
        is_head=True,
    )
    stored = FileItem(
        pk=file_pk(item.file_id),
        sk=FILE_SK,
        id=item.file_id,
        s3_key=item.s3_key,
        size=version.size,
        checksum=version.checksum,
        bucket_id=version.bucket_id,
        key=version.key,
        version_id=version.version_id,
        s3_etag=s3_etag,
        created=now,
    )
    await_ingest(stored)
    head = version_item(version, as_head=True)
    for with_head in (True, False):
        writes = transaction()
        try:
            with writes:
                writes.update(
                    item,
                    actions=[
                        UploadItem.state.set(UploadState.COMPLETED),
                        *LEAVE_EXPIRY_INDEX,
                        UploadItem.version_id.set(version.version_id),
                    ],
                    condition=(UploadItem.state == UploadState.COMPLETING)
                    & (UploadItem.completing_since == claimed_at),
                )
                writes.save(stored, condition=FileItem.pk.does_not_exist())
                writes.save(
                    version_item(version, as_head=False), condition=ObjectVersionItem.pk.does_not_exist()
                )
                if with_head:
                    # A version completed later (a larger, time-ordered id) keeps the head.
                    writes.save(
                        head,
                        condition=ObjectVersionItem.pk.does_not_exist()
                        | (ObjectVersionItem.version_id < version.version_id),
                    )
                writes.update(
                    BucketItem(pk=bucket_pk(item.bucket_id), sk=BUCKET_SK),
                    actions=[BucketItem.size.add(version.size), BucketItem.updated.set(now)],
                )
            return version if with_head else replace(version, is_head=False)
        except TransactWriteError as exc:
            refused = refused_keys(exc, writes)
            # Only the head's condition failing: record the version without it.
            if with_head and refused == {(head.pk, head.sk)}:
                continue
            if (item.pk, item.sk) in refused:  # the upload is no longer ours to complete: is it complete?
                current = UploadItem.get(item.pk, item.sk, consistent_read=True)
                if current.state == UploadState.COMPLETED:
                    return _completed_version(current)
            raise
    raise AssertionError("unreachable")


class RetryLater(RuntimeError):
    """Another worker holds the upload; the event is retried, and then finds the upload settled."""


def finalise_form_upload(s3_key: str, etag: str) -> ObjectVersion | None:
    """Record a browser form (POST) upload when S3 reports its object (of ``etag``): the same
    checks, once. A form's policy takes posts for as long as it lives, which S3 cannot condition:
    bytes landing on a recorded form upload are undone.

    None when the object is not a form upload's, or the upload cannot complete (then its data goes).
    """
    file_id = s3_key.removeprefix(DATA_PREFIX)
    try:
        pointer = FilePointerItem.get(file_pk(file_id), FILE_UPLOAD_SK, consistent_read=True)
        item = UploadItem.get(
            bucket_pk(pointer.bucket_id), upload_sk(pointer.upload_id), consistent_read=True
        )
    except DoesNotExist:
        return None
    if item.state == UploadState.COMPLETED:
        _undo_overwrite(item, etag)
        return _completed_version(item)  # S3 repeats events
    if item.state in ENDED:
        storage.delete(item.s3_key)  # bytes that arrived for an upload that ended: no orphan
        return None
    claimed_at = _claim(item)
    if claimed_at is None:
        raise RetryLater(f"upload {item.id} is being completed elsewhere")
    with _given_back_on_failure(item):
        try:
            recorded_etag = _verify_object(item)
        except UploadRefused as refusal:
            logger.warning("form upload refused", extra={"upload_id": item.id, "reason": refusal.message})
            return None
        return _record(item, claimed_at, recorded_etag)


def _undo_overwrite(item: UploadItem, landed_etag: str) -> None:
    """Put a recorded form upload's bytes back if others landed on them (the bucket keeps versions).

    The size, the quota and the version never change: they are what was recorded."""
    try:
        file = FileItem.get(file_pk(item.file_id), FILE_SK, consistent_read=True)
    except DoesNotExist:
        return
    if file.s3_etag is None or landed_etag.strip('"') == file.s3_etag.strip('"'):
        return  # nothing pinned, or S3 repeating the recorded landing
    extra = {"file_id": file.id, "landed_etag": landed_etag}
    if not storage.restore_version(file.s3_key, file.s3_etag):
        logger.error("bytes landed on a recorded file and its own are gone", extra=extra)
        metrics.add_metric(name="OverwritesLost", unit="Count", value=1)
        return
    file.update(actions=[FileItem.overwrite_undone_at.set(clock.now())])
    logger.warning("bytes landed on a recorded file: its own were put back", extra=extra)
    metrics.add_metric(name="OverwritesUndone", unit="Count", value=1)
