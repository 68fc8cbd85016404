"""Uploads: planned and recorded by Vellum, carried by S3. No byte passes through Lambda.

initiate  plan the parts, start the S3 upload, record it with its quota reserved (one transaction)
sign      presigned PUT URLs pinning each part's Content-Length (and checksum), in batches
complete  see chalicelib.files.completion
abort     end it and release its quota (one transaction), then abort in S3; abandoned uploads
          expire the same way
"""

from __future__ import annotations

import base64
import mimetypes
import uuid
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Annotated, Any

from pydantic import AfterValidator, BaseModel, ConfigDict, Field, StrictInt
from pynamodb.exceptions import DoesNotExist
from pynamodb.expressions.update import Action as Update
from pynamodb.transactions import TransactWrite

from chalicelib import clock
from chalicelib.auth.policy import Action
from chalicelib.auth.principal import Principal
from chalicelib.dynamodb import transact_once
from chalicelib.errors import Conflict, NotFound, QuotaExceeded, invalid_field
from chalicelib.files import storage
from chalicelib.files.buckets import (
    Bucket,
    get_bucket,
    load_bucket,
    release_with,
    reserving,
    writable_bucket,
)
from chalicelib.files.keys import validate_key
from chalicelib.files.media_types import canonical_media_type
from chalicelib.files.models import (
    FILE_UPLOAD_SK,
    OPEN_UPLOAD_STATES,
    OPEN_UPLOADS_PK,
    UPLOAD_PREFIX,
    FilePointerItem,
    UploadItem,
    UploadState,
    bucket_pk,
    file_pk,
    upload_sk,
)
from chalicelib.files.planning import MAX_PARTS, UploadPlan, parse_part_numbers, plan_upload
from chalicelib.observability import logger, metrics
from chalicelib.settings import get_settings

# A completion that has not finished after this long is presumed dead and may be taken over.
COMPLETION_LEASE = timedelta(seconds=120)

ENDED = {
    UploadState.COMPLETED: "The upload is complete",
    UploadState.FAILED: "The upload failed",
    UploadState.ABORTED: "The upload was aborted",
}

MediaType = Annotated[str, AfterValidator(canonical_media_type)]
Sha256 = Annotated[str, Field(pattern=r"^sha256:[0-9a-f]{64}$")]


class NewUpload(BaseModel):
    model_config = ConfigDict(extra="forbid")

    size: StrictInt
    content_type: MediaType | None = None
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
    state: UploadState
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


def upload_from_item(item: UploadItem) -> Upload:
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
        state=UploadState(item.state),
        version_id=item.version_id,
        created=item.created,
        expires=item.expires,
    )


# An upload that ends leaves the index of open uploads the expiry job reads.
LEAVE_EXPIRY_INDEX = (UploadItem.gsi2pk.remove(), UploadItem.gsi2sk.remove())


def _int_or_none(value: float | None) -> int | None:
    return None if value is None else int(value)


def take_over(item: UploadItem, actions: list[Update], now: datetime, *, release: bool = False) -> bool:
    """Move an upload on from pending, or from a completion whose lease ran out (it crashed);
    with ``release``, it ends and its reserved quota is given back in the same transaction.

    The one lease of the upload state machine, as one conditional write: False if another request
    holds the upload now (a live completion, or a state it has already left for good). A
    transaction even alone, for its client request token: a claim applied whose answer was lost
    is resent by botocore, and must not then be refused by its own effect.
    """
    condition = (UploadItem.state == UploadState.PENDING) | (
        (UploadItem.state == UploadState.COMPLETING) & (UploadItem.completing_since < now - COMPLETION_LEASE)
    )

    def moved(writes: TransactWrite) -> None:
        writes.update(item, actions=actions, condition=condition)
        if release and item.reserved:
            release_with(writes, item.bucket_id, int(item.reserved))

    return transact_once(moved)


def initiate_upload(
    principal: Principal, bucket_id: str, key: str, spec: NewUpload
) -> tuple[Upload, list[SignedRequest]]:
    """The Invenio-style door: the client declares the size, Vellum plans the parts. A single PUT
    comes with its signed request, which saves the client a round trip."""
    bucket = writable_bucket(principal, bucket_id)
    plan = plan_upload(spec.size, spec.part_size, get_settings().multipart_threshold)
    kind = "multipart" if plan.multipart else "put"
    item = begin_upload(principal, bucket, key, kind, plan, spec.content_type, spec.checksum)
    upload = upload_from_item(item)
    if upload.multipart:
        return upload, []
    return upload, _signed(item, upload, None)  # what it just recorded: nothing to read again


def begin_upload(
    principal: Principal,
    bucket: Bucket,
    key: str,
    kind: str,
    plan: UploadPlan | None,
    content_type: str | None,
    checksum: str | None = None,
) -> UploadItem:
    """Record an upload, reserving its quota now if its size is known (else at completion); the
    item recorded, for the caller to sign without reading it again."""
    key = validate_key(key)
    if plan is not None and plan.size > bucket.file_size_limit:
        raise invalid_field(
            "size", f"exceeds the bucket's largest file size of {bucket.file_size_limit} bytes"
        )
    assert principal.sub is not None  # bucket-update is never granted to anonymous callers
    reserved = plan.size if plan is not None else 0
    settings = get_settings()
    now = clock.now()
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
    if kind == "multipart":
        item.s3_upload_id = storage.start_multipart(item.s3_key, item.content_type)

    def recorded(writes: TransactWrite) -> None:
        writes.save(item, condition=UploadItem.pk.does_not_exist())
        if kind == "post":
            # No completion call follows a browser form: ingest finds the upload from the stored object.
            pointer = FilePointerItem(
                pk=file_pk(file_id), sk=FILE_UPLOAD_SK, bucket_id=bucket.id, upload_id=upload_id
            )
            writes.save(pointer, condition=FilePointerItem.pk.does_not_exist())

    try:
        reserving(bucket, reserved, recorded)
    except Exception:
        # Nothing half-written: the S3 upload, if it started, goes too.
        if item.s3_upload_id:
            storage.abort_multipart(item.s3_key, item.s3_upload_id)
        raise
    metrics.add_metric(name="UploadsInitiated", unit="Count", value=1)
    return item


def load_upload(bucket: Bucket, key: str, upload_id: str) -> UploadItem:
    try:
        item = UploadItem.get(bucket_pk(bucket.id), upload_sk(upload_id), consistent_read=True)
    except DoesNotExist:
        raise NotFound("No upload with this id for this object.") from None
    if item.key != key:
        raise NotFound("No upload with this id for this object.")
    return item


def sign_upload(
    principal: Principal, bucket_id: str, key: str, upload_id: str, part_numbers: list[int] | None
) -> tuple[Upload, list[SignedRequest]]:
    """Presigned requests for the given parts (or the single PUT), each pinning its exact size."""
    bucket = writable_bucket(principal, bucket_id)
    item = load_upload(bucket, key, upload_id)
    upload = upload_from_item(item)
    if upload.state != UploadState.PENDING:
        raise Conflict(f"{ENDED.get(upload.state, 'The upload is being completed')}: it takes no more bytes.")
    return upload, _signed(item, upload, part_numbers)


def _signed(item: UploadItem, upload: Upload, part_numbers: list[int] | None) -> list[SignedRequest]:
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
        headers = {"Content-Length": str(upload.size), "If-None-Match": "*"}
        if upload.content_type:
            headers["Content-Type"] = upload.content_type
        if checksum:
            headers["x-amz-checksum-sha256"] = checksum
        return [SignedRequest(None, upload.size, "PUT", url, headers)]
    assert item.s3_upload_id is not None
    plan = upload.plan
    requests = []
    last = plan.part_count if plan else MAX_PARTS
    for number in part_numbers or [1]:
        if not 1 <= number <= last:
            raise invalid_field("partNumbers", f"must be between 1 and {last}, the parts of this upload")
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
    return requests


def sign_requested_parts(
    principal: Principal, bucket_id: str, key: str, upload_id: str, requested: str
) -> tuple[Upload, list[SignedRequest]]:
    """Sign the parts a client names as ``partNumbers`` ("1-5,8"), within the upload's plan."""
    bucket = get_bucket(principal, bucket_id, Action.MULTIPART_READ)
    planned = _int_or_none(load_upload(bucket, key, upload_id).part_count)
    numbers = parse_part_numbers(requested, planned or MAX_PARTS, get_settings().max_parts_per_signing)
    return sign_upload(principal, bucket_id, key, upload_id, numbers)


def presigned_post(item: UploadItem) -> dict[str, Any]:
    """A browser form upload to S3 whose policy pins the key, the type and the allowed sizes."""
    settings = get_settings()
    upload = upload_from_item(item)
    fields = {"Content-Type": upload.content_type or "application/octet-stream"}
    if upload.size:
        low, high = upload.size, upload.size
    else:
        low, high = 1, min(upload_limit(upload.bucket_id), settings.form_upload_max_bytes)
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
        raise QuotaExceeded(0)
    return min(bucket.file_size_limit, free)


def _checksum_header(checksum: str | None) -> str | None:
    """The base64 SHA-256 S3 checks a single PUT against (its x-amz-checksum-sha256 header)."""
    if checksum is None:
        return None
    return base64.b64encode(bytes.fromhex(checksum.removeprefix("sha256:"))).decode("ascii")


def upload_progress(
    principal: Principal, bucket_id: str, key: str, upload_id: str
) -> tuple[Upload, list[storage.StoredPart]]:
    """The upload and what S3 holds of it so far, so a client can resume after a crash."""
    bucket = get_bucket(principal, bucket_id, Action.MULTIPART_READ)
    item = load_upload(bucket, key, upload_id)
    upload = upload_from_item(item)
    if upload.state != UploadState.PENDING:
        return upload, []
    if item.s3_upload_id is None:
        stored = storage.stat(item.s3_key)
        return upload, [] if stored is None else [storage.StoredPart(1, stored.etag, stored.size)]
    # None: S3 assembled the parts for a completion that died before recording; completing finishes it.
    return upload, storage.list_parts(item.s3_key, item.s3_upload_id) or []


def _open_upload_items(bucket_id: str) -> Iterator[UploadItem]:
    for item in UploadItem.query(
        bucket_pk(bucket_id), UploadItem.sk.startswith(UPLOAD_PREFIX), consistent_read=True
    ):
        if item.state in OPEN_UPLOAD_STATES:
            yield item


def open_uploads(bucket_id: str) -> list[Upload]:
    """The bucket's uploads in progress (pending, or being completed)."""
    return [upload_from_item(item) for item in _open_upload_items(bucket_id)]


def list_uploads(principal: Principal, bucket_id: str) -> list[Upload]:
    return open_uploads(get_bucket(principal, bucket_id, Action.BUCKET_LISTMULTIPARTS).id)


def abort_upload(principal: Principal, bucket_id: str, key: str, upload_id: str) -> None:
    """End an upload in progress, or one whose completion died (its lease ran out)."""
    bucket = get_bucket(principal, bucket_id, Action.MULTIPART_DELETE)
    item = load_upload(bucket, key, upload_id)
    ended: list[Update] = [UploadItem.state.set(UploadState.ABORTED), *LEAVE_EXPIRY_INDEX]
    if not take_over(item, ended, clock.now(), release=True):
        if item.state == UploadState.COMPLETING:
            raise Conflict("The upload is being completed; ask again in a moment.")
        raise Conflict("Only an upload in progress can be aborted.")
    discard(item)


def discard(item: UploadItem) -> None:
    """Delete what S3 holds for an upload that has ended without completing (its quota was given
    back as it ended). Should this fail, S3's lifecycle aborts the upload within 7 days."""
    if item.s3_upload_id:
        storage.abort_multipart(item.s3_key, item.s3_upload_id)
    storage.delete(item.s3_key)


def abandon(item: UploadItem, reason: str, now: datetime | None = None) -> bool:
    """End an upload nobody will complete; False if a completion claimed it meanwhile (it wins)."""
    actions: list[Update] = [
        UploadItem.state.set(UploadState.ABORTED),
        UploadItem.failure.set(reason),
        *LEAVE_EXPIRY_INDEX,
    ]
    ended = take_over(item, actions, now or clock.now(), release=True)
    if ended:
        discard(item)
    return ended


def abandon_open_uploads(bucket_id: str, reason: str) -> None:
    """End every upload still open in the bucket (a deleted bucket's, say)."""
    for item in _open_upload_items(bucket_id):
        abandon(item, reason)


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
