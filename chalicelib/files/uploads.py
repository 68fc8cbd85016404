"""Uploads: planned and recorded by Vellum, carried by S3. No byte passes through Lambda.

initiate  plan the parts, reserve quota (one conditional update), start the S3 upload
sign      presigned PUT URLs pinning each part's Content-Length (and checksum), in batches
complete  claim the upload, check every part against the plan, complete it in S3, then one
          DynamoDB transaction writes the file, the version and the new head and counts the bytes
abort     abort in S3, release the quota

A failed check leaves no version: the data is deleted and the reservation released.
"""

from __future__ import annotations

import base64
import mimetypes
import time
import uuid
from dataclasses import dataclass, replace
from datetime import UTC, datetime, timedelta
from typing import Annotated, Any

from pydantic import BaseModel, ConfigDict, Field, StrictInt
from pynamodb.exceptions import DoesNotExist, TransactWriteError, UpdateError

from chalicelib.auth.policy import Action
from chalicelib.auth.principal import Principal
from chalicelib.errors import BadRequest, Conflict, FieldError, NotFound, VellumError, invalid_field
from chalicelib.files import storage
from chalicelib.files.buckets import (
    Bucket,
    get_bucket,
    load_bucket,
    release_bytes,
    require_writable,
    reserve_bytes,
)
from chalicelib.files.keys import validate_key
from chalicelib.files.models import (
    BUCKET_SK,
    FILE_SK,
    FILE_UPLOAD_SK,
    OPEN_UPLOADS_PK,
    BucketItem,
    FileItem,
    FilePointerItem,
    ObjectVersionItem,
    UploadItem,
    bucket_pk,
    file_pk,
    head_sk,
    new_version_id,
    transaction,
    upload_sk,
    version_sk,
)
from chalicelib.files.objects import ObjectVersion, from_item, version_item
from chalicelib.files.planning import MAX_PARTS, MIN_PART_SIZE, UploadPlan, plan_upload
from chalicelib.observability import logger, metrics
from chalicelib.resources import DATA_PREFIX
from chalicelib.settings import get_settings

# A completion that has not finished after this long is presumed dead and may be taken over.
COMPLETION_LEASE = timedelta(seconds=120)
# How long a second, concurrent completion waits for the first one's result (API Gateway: 29 s).
COMPLETION_WAIT_SECONDS = 20.0

ENDED = {
    "completed": "The upload is complete",
    "failed": "The upload failed",
    "aborted": "The upload was aborted",
}

MimeType = Annotated[str, Field(max_length=255, pattern=r"^[\w.+-]+/[\w.+-]+(\s*;.*)?$")]
Sha256 = Annotated[str, Field(pattern=r"^sha256:[0-9a-f]{64}$")]


class NewUpload(BaseModel):
    model_config = ConfigDict(extra="forbid")

    size: StrictInt
    content_type: MimeType | None = None
    checksum: Sha256 | None = None
    part_size: StrictInt | None = None


class CompletedPart(BaseModel):
    model_config = ConfigDict(extra="forbid")

    part_number: StrictInt
    etag: Annotated[str, Field(min_length=1, max_length=128)]


class Completion(BaseModel):
    model_config = ConfigDict(extra="forbid")

    parts: list[CompletedPart] | None = None


@dataclass(frozen=True)
class Upload:
    id: str
    bucket_id: str
    key: str
    kind: str
    size: int | None
    part_size: int | None
    part_count: int | None
    content_type: str | None
    checksum: str | None
    state: str
    version_id: str | None
    created: datetime
    expires: datetime

    @property
    def multipart(self) -> bool:
        return self.kind == "multipart"

    @property
    def plan(self) -> UploadPlan | None:
        """The parts as planned; None when the client did not declare the file's size."""
        if self.size is None or self.part_size is None or self.part_count is None:
            return None
        return UploadPlan(size=self.size, part_size=self.part_size, part_count=self.part_count)


@dataclass(frozen=True)
class SignedRequest:
    part_number: int | None  # None: the single PUT of a small file
    size: int | None  # the signed Content-Length; None when the size is not known yet
    method: str
    url: str
    headers: dict[str, str]


def _now() -> datetime:
    return datetime.now(UTC)


def _from_item(item: UploadItem) -> Upload:
    return Upload(
        id=item.id,
        bucket_id=item.bucket_id,
        key=item.key,
        kind=item.kind,
        size=_int_or_none(item.size),
        part_size=_int_or_none(item.part_size),
        part_count=_int_or_none(item.part_count),
        content_type=item.content_type,
        checksum=item.checksum,
        state=item.state,
        version_id=item.version_id,
        created=item.created,
        expires=item.expires,
    )


# An upload that ends leaves the index of open uploads the expiry job reads.
_LEAVE_EXPIRY_INDEX = (UploadItem.gsi2pk.remove(), UploadItem.gsi2sk.remove())


def _int_or_none(value: float | None) -> int | None:
    return None if value is None else int(value)


def initiate_upload(principal: Principal, bucket_id: str, key: str, spec: NewUpload) -> Upload:
    """The Invenio-style door: the client declares the size, Vellum plans the parts."""
    bucket = get_bucket(principal, bucket_id, Action.BUCKET_UPDATE)
    require_writable(bucket)
    plan = plan_upload(spec.size, spec.part_size, get_settings().multipart_threshold)
    kind = "multipart" if plan.multipart else "put"
    return begin_upload(principal, bucket, key, kind, plan, spec.content_type, spec.checksum)


def begin_upload(
    principal: Principal,
    bucket: Bucket,
    key: str,
    kind: str,
    plan: UploadPlan | None,
    content_type: str | None,
    checksum: str | None = None,
) -> Upload:
    """Record an upload, reserving its quota now if its size is known (else at completion)."""
    key = validate_key(key)
    if plan is not None and plan.size > bucket.file_size_limit:
        raise invalid_field(
            "size", f"exceeds the bucket's largest file size of {bucket.file_size_limit} bytes"
        )
    assert principal.sub is not None  # bucket-update is never granted to anonymous callers
    reserved = plan.size if plan is not None else 0
    if reserved:
        reserve_bytes(bucket, reserved)
    settings = get_settings()
    now = _now()
    file_id = str(uuid.uuid4())
    upload_id = str(uuid.uuid4())
    item = UploadItem(
        pk=bucket_pk(bucket.id),
        sk=upload_sk(upload_id),
        id=upload_id,
        bucket_id=bucket.id,
        key=key,
        owner=principal.sub,
        kind=kind,
        file_id=file_id,
        s3_key=storage.s3_key(file_id),
        size=plan.size if plan else None,
        part_size=plan.part_size if plan else None,
        part_count=plan.part_count if plan else None,
        reserved=reserved,
        content_type=content_type or mimetypes.guess_type(key)[0] or None,
        checksum=checksum,
        created=now,
        expires=now + timedelta(seconds=settings.upload_expiry_seconds),
        gsi2pk=OPEN_UPLOADS_PK,
    )
    item.gsi2sk = f"{item.expires.isoformat()}#{item.bucket_id}#{item.id}"
    try:
        if kind == "multipart":
            item.s3_upload_id = storage.start_multipart(item.s3_key, item.content_type)
        if kind == "post":
            # No completion call follows a browser form: ingest finds the upload from the stored object.
            FilePointerItem(
                pk=file_pk(file_id), sk=FILE_UPLOAD_SK, bucket_id=bucket.id, upload_id=upload_id
            ).save()
        item.save(condition=UploadItem.pk.does_not_exist())
    except Exception:
        # Nothing half-written: give the reservation back (and the S3 upload, if it started).
        if reserved:
            release_bytes(bucket.id, reserved)
        if item.s3_upload_id:
            storage.abort_multipart(item.s3_key, item.s3_upload_id)
        raise
    metrics.add_metric(name="UploadsInitiated", unit="Count", value=1)
    return _from_item(item)


def _load(bucket: Bucket, key: str, upload_id: str) -> UploadItem:
    try:
        item = UploadItem.get(bucket_pk(bucket.id), upload_sk(upload_id), consistent_read=True)
    except DoesNotExist:
        raise NotFound("No upload with this id for this object.") from None
    if item.key != key:
        raise NotFound("No upload with this id for this object.")
    return item


def get_upload(principal: Principal, bucket_id: str, key: str, upload_id: str) -> Upload:
    bucket = get_bucket(principal, bucket_id, Action.MULTIPART_READ)
    return _from_item(_load(bucket, key, upload_id))


def sign_upload(
    principal: Principal, bucket_id: str, key: str, upload_id: str, part_numbers: list[int] | None
) -> tuple[Upload, list[SignedRequest]]:
    """Presigned requests for the given parts (or the single PUT), each pinning its exact size."""
    bucket = get_bucket(principal, bucket_id, Action.BUCKET_UPDATE)
    require_writable(bucket)
    item = _load(bucket, key, upload_id)
    upload = _from_item(item)
    if upload.state != "pending":
        raise Conflict(f"{ENDED.get(upload.state, 'The upload is being completed')}: it takes no more bytes.")
    settings = get_settings()
    signer = storage.presigner()
    expires_in = settings.presign_expiry_seconds
    bucket_name = settings.data_bucket
    checksum = _checksum_header(upload.checksum)
    if upload.kind == "post":
        raise Conflict("This upload is sent as a browser form; it has no parts to sign.")
    if not upload.multipart:
        assert upload.size is not None  # a single PUT is always planned from a declared size
        url = signer.presign_put_object(
            bucket_name,
            item.s3_key,
            content_length=upload.size,
            content_type=upload.content_type,
            expires_in=expires_in,
            checksum_sha256_b64=checksum,
        )
        headers = {"Content-Length": str(upload.size)}
        if upload.content_type:
            headers["Content-Type"] = upload.content_type
        if checksum:
            headers["x-amz-checksum-sha256"] = checksum
        return upload, [SignedRequest(None, upload.size, "PUT", url, headers)]
    assert item.s3_upload_id is not None
    plan = upload.plan
    requests = []
    for number in part_numbers or [1]:
        if not 1 <= number <= MAX_PARTS:
            raise invalid_field("partNumbers", f"must be between 1 and {MAX_PARTS}")
        # Without a declared size there is no plan to pin; completion checks the parts instead.
        size = plan.part_length(number) if plan else None
        if size is None:
            query = {"partNumber": str(number), "uploadId": item.s3_upload_id}
            url = signer.presign("PUT", bucket_name, item.s3_key, expires_in=expires_in, query=query)
        else:
            url = signer.presign_upload_part(
                bucket_name,
                item.s3_key,
                item.s3_upload_id,
                number,
                content_length=size,
                expires_in=expires_in,
            )
        headers = {"Content-Length": str(size)} if size is not None else {}
        requests.append(SignedRequest(number, size, "PUT", url, headers))
    return upload, requests


def presigned_post(upload: Upload) -> dict[str, Any]:
    """A browser form upload to S3 whose policy pins the key, the type and the allowed sizes."""
    settings = get_settings()
    item = UploadItem.get(bucket_pk(upload.bucket_id), upload_sk(upload.id), consistent_read=True)
    fields = {"Content-Type": upload.content_type or "application/octet-stream"}
    low, high = (upload.size, upload.size) if upload.size else (1, upload_limit(upload.bucket_id))
    conditions: list[Any] = [
        {"Content-Type": fields["Content-Type"]},
        ["content-length-range", low, high],
    ]
    return storage.presigned_post(item.s3_key, fields, conditions, settings.presign_expiry_seconds)


def upload_limit(bucket_id: str) -> int:
    """The most bytes one more file may have in this bucket now: its file size limit, its free quota."""
    bucket = load_bucket(bucket_id)
    if bucket is None:
        raise NotFound("No bucket with this id.")
    free = bucket.quota_size - bucket.used if bucket.quota_size is not None else bucket.file_size_limit
    if free < 1:
        raise invalid_field("size", "exceeds the bucket's quota: 0 bytes are left")
    return min(bucket.file_size_limit, free)


def _checksum_header(checksum: str | None) -> str | None:
    """The base64 SHA-256 S3 checks a single PUT against (its x-amz-checksum-sha256 header)."""
    if checksum is None:
        return None
    return base64.b64encode(bytes.fromhex(checksum.removeprefix("sha256:"))).decode("ascii")


def uploaded_parts(
    principal: Principal, bucket_id: str, key: str, upload_id: str
) -> list[storage.StoredPart]:
    """What S3 holds so far, so a client can resume after a crash."""
    bucket = get_bucket(principal, bucket_id, Action.MULTIPART_READ)
    item = _load(bucket, key, upload_id)
    if item.state != "pending":
        return []
    if item.s3_upload_id is None:
        stored = storage.stat(item.s3_key)
        return [] if stored is None else [storage.StoredPart(1, stored.etag, stored.size)]
    return storage.list_parts(item.s3_key, item.s3_upload_id)


def list_uploads(principal: Principal, bucket_id: str) -> list[Upload]:
    bucket = get_bucket(principal, bucket_id, Action.BUCKET_LISTMULTIPARTS)
    items = UploadItem.query(bucket_pk(bucket.id), UploadItem.sk.startswith("U#"), consistent_read=True)
    return [_from_item(item) for item in items if item.state in ("pending", "completing")]


def abort_upload(principal: Principal, bucket_id: str, key: str, upload_id: str) -> None:
    bucket = get_bucket(principal, bucket_id, Action.MULTIPART_DELETE)
    item = _load(bucket, key, upload_id)
    try:
        item.update(
            actions=[UploadItem.state.set("aborted"), *_LEAVE_EXPIRY_INDEX],
            condition=UploadItem.state == "pending",
        )
    except UpdateError:
        raise Conflict("Only an upload in progress can be aborted.") from None
    _discard(item)


def _discard(item: UploadItem) -> None:
    """Delete what S3 holds for an upload that will not complete, and give its quota back."""
    if item.s3_upload_id:
        storage.abort_multipart(item.s3_key, item.s3_upload_id)
    storage.delete(item.s3_key)
    if item.reserved:
        release_bytes(item.bucket_id, int(item.reserved))


def complete_upload(
    principal: Principal, bucket_id: str, key: str, upload_id: str, completion: Completion
) -> ObjectVersion:
    """Check what S3 holds against the plan and make it the key's new head version, once.

    Completing twice returns the same version; of two racing completions one does the work and
    the other waits for its result.
    """
    bucket = get_bucket(principal, bucket_id, Action.BUCKET_UPDATE)
    item = _load(bucket, key, upload_id)
    if item.state == "completed":
        return _completed_version(item)
    require_writable(bucket)
    claimed_at = _claim(item)
    if claimed_at is None:
        return _wait_for_completion(bucket, key, upload_id)
    parts = _verify(item, completion)
    if item.s3_upload_id:
        storage.complete_multipart(item.s3_key, item.s3_upload_id, parts)
    _verify_checksum(item)
    version = _record(item, claimed_at)
    metrics.add_metric(name="UploadsCompleted", unit="Count", value=1)
    metrics.add_metric(name="BytesUploaded", unit="Bytes", value=version.size)
    return version


def _claim(item: UploadItem) -> datetime | None:
    """Take the upload for completing; None if another completion holds it."""
    now = _now()
    condition = (UploadItem.state == "pending") | (
        (UploadItem.state == "completing") & (UploadItem.completing_since < now - COMPLETION_LEASE)
    )
    try:
        item.update(
            actions=[UploadItem.state.set("completing"), UploadItem.completing_since.set(now)],
            condition=condition,
        )
    except UpdateError as exc:
        if getattr(exc, "cause_response_code", None) != "ConditionalCheckFailedException":
            raise
        return None
    return now


def _wait_for_completion(bucket: Bucket, key: str, upload_id: str) -> ObjectVersion:
    deadline = time.monotonic() + COMPLETION_WAIT_SECONDS
    while True:
        item = _load(bucket, key, upload_id)
        if item.state == "completed":
            return _completed_version(item)
        if item.state in ENDED:
            raise Conflict(ENDED[item.state] + (f": {item.failure}." if item.failure else "."))
        if time.monotonic() > deadline:
            raise Conflict("Another request is completing this upload; ask again in a moment.")
        time.sleep(0.25)


def _completed_version(item: UploadItem) -> ObjectVersion:
    assert item.version_id is not None  # set with state "completed", in one transaction
    stored = ObjectVersionItem.get(item.pk, version_sk(item.key, item.version_id), consistent_read=True)
    head = ObjectVersionItem.get(item.pk, head_sk(item.key), consistent_read=True)
    return from_item(stored, is_head=head.version_id == stored.version_id)


def _verify(item: UploadItem, completion: Completion) -> list[storage.StoredPart]:
    """The parts to complete with, if what S3 holds is what was planned; else fail the upload.

    An upload without a declared size gets its size here, and its quota reserved here.
    """
    plan = _from_item(item).plan
    if item.s3_upload_id is None:
        stored = storage.stat(item.s3_key)
        if stored is None:
            _release_claim(item)
            raise BadRequest("The file has not been uploaded yet: send it to the signed URL first.")
        if plan is not None and stored.size != plan.size:
            _fail(item, f"the uploaded file has {stored.size} bytes, not the declared {plan.size}")
        _settle_size(item, stored.size)
        return []
    parts = {part.number: part for part in storage.list_parts(item.s3_key, item.s3_upload_id)}
    given = {part.part_number: part.etag.strip('"') for part in completion.parts or []}
    count = plan.part_count if plan else max([*parts, *given], default=0)
    missing = [n for n in range(1, count + 1) if n not in parts] or ([] if count else [1])
    if missing:
        # The upload stays open: the client can still send these parts and complete again.
        _release_claim(item)
        shown = ", ".join(str(n) for n in missing[:20]) + (", ..." if len(missing) > 20 else "")
        raise BadRequest(
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
        return
    if size > bucket.file_size_limit:
        _fail(
            item,
            f"the file has {size} bytes, above the bucket's largest file size of {bucket.file_size_limit}",
        )
    if item.size is not None:
        return
    try:
        reserve_bytes(bucket, size)
    except VellumError as refusal:
        _fail(item, refusal.errors[0].message if refusal.errors else refusal.message)
    item.update(actions=[UploadItem.size.set(size), UploadItem.reserved.set(size)])


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
    item.update(actions=[UploadItem.state.set("pending"), UploadItem.completing_since.remove()])


def _fail(item: UploadItem, reason: str) -> None:
    """No version, no data, no reservation: the upload ends here, with the reason."""
    item.update(
        actions=[UploadItem.state.set("failed"), UploadItem.failure.set(reason), *_LEAVE_EXPIRY_INDEX]
    )
    _discard(item)
    logger.warning("upload failed its completion checks", extra={"upload_id": item.id, "reason": reason})
    metrics.add_metric(name="UploadsFailed", unit="Count", value=1)
    raise BadRequest(f"The upload failed: {reason}. Its data was deleted; start a new upload.")


def _record(item: UploadItem, claimed_at: datetime) -> ObjectVersion:
    """One transaction: the file, the version, the new head, the bucket's bytes, the upload's end."""
    now = _now()
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
        created=now,
    )
    head = version_item(version, as_head=True)
    for with_head in (True, False):
        try:
            with transaction() as writes:
                writes.update(
                    item,
                    actions=[
                        UploadItem.state.set("completed"),
                        *_LEAVE_EXPIRY_INDEX,
                        UploadItem.version_id.set(version.version_id),
                    ],
                    condition=(UploadItem.state == "completing")
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
            reasons = [getattr(r, "code", None) for r in (exc.cancellation_reasons or [])]
            # Only the head's condition (the 4th write) failing: record the version without it.
            if (
                with_head
                and len(reasons) >= 4
                and reasons[3] == "ConditionalCheckFailed"
                and not any(reasons[:3])
            ):
                continue
            raise
    raise AssertionError("unreachable")


class RetryLater(RuntimeError):
    """Another worker holds the upload; the event is retried, and then finds the upload settled."""


def finalise_form_upload(s3_key: str) -> ObjectVersion | None:
    """Record a browser form (POST) upload when S3 reports its object: the same checks, once.

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
    if item.state == "completed":
        return _completed_version(item)  # S3 repeats events
    if item.state in ENDED:
        storage.delete(item.s3_key)  # bytes that arrived for an upload that ended: no orphan
        return None
    claimed_at = _claim(item)
    if claimed_at is None:
        raise RetryLater(f"upload {item.id} is being completed elsewhere")
    try:
        _verify(item, Completion())
    except BadRequest as refusal:
        logger.warning("form upload refused", extra={"upload_id": item.id, "reason": refusal.message})
        return None
    return _record(item, claimed_at)


def abandon(item: UploadItem, reason: str, now: datetime | None = None) -> bool:
    """End an upload nobody will complete; False if a completion claimed it meanwhile (it wins).

    A claim older than the completion lease is a crashed completion's, and does not count.
    """
    now = now or _now()
    try:
        item.update(
            actions=[UploadItem.state.set("aborted"), UploadItem.failure.set(reason), *_LEAVE_EXPIRY_INDEX],
            condition=(UploadItem.state == "pending")
            | ((UploadItem.state == "completing") & (UploadItem.completing_since < now - COMPLETION_LEASE)),
        )
    except UpdateError:
        return False
    _discard(item)
    return True


def expire_abandoned(now: datetime, limit: int = 100) -> int:
    """Abort uploads past their expiry and give back their quota; return how many ended."""
    ended = 0
    cutoff = now.isoformat()
    for item in UploadItem.by_expiry.query(OPEN_UPLOADS_PK, UploadItem.gsi2sk < cutoff, limit=limit):
        if abandon(item, "it expired", now):
            ended += 1
    if ended:
        logger.info("abandoned uploads aborted", extra={"count": ended})
        metrics.add_metric(name="UploadsExpired", unit="Count", value=ended)
    return ended
