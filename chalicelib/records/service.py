"""Records: create, read, change, delete, list and publish them; each owns a bucket for its files.

A draft is its owners' alone; publishing validates it, locks its bucket and freezes it, and a
public published record is readable by anyone. Concurrent edits are caught with the record's
revision id (a conditional write): a stale ``If-Match`` is refused, never silently overwritten.
"""

from __future__ import annotations

import base64
import contextlib
import json
import uuid
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict
from pynamodb.exceptions import DeleteError, DoesNotExist, PutError, TransactWriteError, UpdateError
from pynamodb.expressions.update import Action as Update

from chalicelib.auth.policy import Action, require
from chalicelib.auth.principal import Principal
from chalicelib.errors import (
    BadRequest,
    Conflict,
    Forbidden,
    Gone,
    NotFound,
    PreconditionFailed,
    Unauthorized,
    invalid_field,
)
from chalicelib.files import buckets
from chalicelib.files.models import (
    BUCKET_SK,
    BucketItem,
    ObjectVersionItem,
    UploadItem,
    bucket_pk,
    transaction,
)
from chalicelib.records.models import (
    PUBLIC_PK,
    RECORD_SK,
    RecordItem,
    VersionItem,
    chain_pk,
    chain_sk,
    owner_pk,
    record_pk,
)
from chalicelib.records.schema import validate_metadata

NO_SUCH_RECORD = "No record with this id."
FROZEN = "The record is published: its metadata and files cannot change."


class Access(BaseModel):
    model_config = ConfigDict(extra="forbid")

    record: Literal["public", "restricted"] = "public"
    files: Literal["public", "restricted"] = "public"


class RecordSpec(BaseModel):
    model_config = ConfigDict(extra="forbid")

    metadata: dict[str, Any]
    access: Access = Access()


@dataclass(frozen=True)
class Record:
    id: str
    owner: str
    metadata: dict[str, Any]
    revision_id: int
    state: str
    bucket_id: str
    access: dict[str, str]
    created: datetime
    updated: datetime
    publication_date: str | None
    files: dict[str, Any]
    parent_id: str  # the first version's id: the chain's name
    version_index: int

    @property
    def owners(self) -> frozenset[str]:
        return frozenset({self.owner})

    @property
    def public_read(self) -> bool:
        # A draft is its owners' alone, whatever its access will be once published.
        return self.state == "published" and self.access.get("record") == "public"


def from_item(item: RecordItem) -> Record:
    return Record(
        id=item.id,
        owner=item.owner,
        metadata=dict(item.metadata),
        revision_id=int(item.revision_id),
        state=item.state,
        bucket_id=item.bucket_id,
        access=dict(item.access),
        created=item.created,
        updated=item.updated,
        publication_date=item.publication_date,
        files=dict(item.files or {}),
        parent_id=item.parent_id or item.id,
        version_index=int(item.version_index),
    )


def _now() -> datetime:
    return datetime.now(UTC)


def create_record(principal: Principal, spec: RecordSpec) -> Record:
    require(principal, Action.RECORD_CREATE, None)
    assert principal.sub is not None  # record-create needs a signed-in principal
    metadata = validate_metadata(spec.metadata)
    record_id = str(uuid.uuid4())
    bucket = buckets.create_bucket(principal, buckets.NewBucket(), record_id)
    now = _now()
    item = new_record_item(record_id, principal.sub, metadata, bucket.id, spec.access.model_dump(), now)
    try:
        item.save(condition=RecordItem.pk.does_not_exist())
        VersionItem(pk=chain_pk(record_id), sk=chain_sk(1), record_id=record_id, index=1).save()
    except PutError:
        buckets.delete_bucket(principal, bucket.id)  # no bucket without its record
        raise
    return from_item(item)


def new_record_item(
    record_id: str,
    owner: str,
    metadata: dict[str, Any],
    bucket_id: str,
    access: dict[str, str],
    now: datetime,
) -> RecordItem:
    """A draft record's item, listed among its owner's records newest first."""
    return RecordItem(
        pk=record_pk(record_id),
        sk=RECORD_SK,
        id=record_id,
        owner=owner,
        metadata=metadata,
        bucket_id=bucket_id,
        access=access,
        created=now,
        updated=now,
        gsi1pk=owner_pk(owner),
        gsi1sk=f"{now.isoformat()}#{record_id}",
    )


def _load(record_id: str) -> RecordItem:
    try:
        return RecordItem.get(record_pk(record_id), RECORD_SK, consistent_read=True)
    except DoesNotExist:
        raise NotFound(NO_SUCH_RECORD) from None


def get_record(principal: Principal, record_id: str, action: Action = Action.RECORD_READ) -> Record:
    item = _load(record_id)
    if item.state == "tombstoned":
        raise Gone(f"This record was removed: {item.tombstone_reason}")
    record = from_item(item)
    try:
        require(principal, action, record)
    except NotFound:
        raise NotFound(NO_SUCH_RECORD) from None  # hidden answers as missing does
    return record


def update_record(principal: Principal, record_id: str, spec: RecordSpec, if_match: int | None) -> Record:
    record = get_record(principal, record_id, Action.RECORD_UPDATE)
    if record.state != "draft":
        raise Forbidden(FROZEN)
    metadata = validate_metadata(spec.metadata)
    expected = record.revision_id if if_match is None else if_match
    item = RecordItem(pk=record_pk(record.id), sk=RECORD_SK)
    try:
        item.update(
            actions=[
                RecordItem.metadata.set(metadata),
                RecordItem.access.set(spec.access.model_dump()),
                RecordItem.revision_id.add(1),
                RecordItem.updated.set(_now()),
            ],
            condition=(RecordItem.revision_id == expected) & (RecordItem.state == "draft"),
        )
    except UpdateError:
        current = from_item(_load(record.id))
        if current.state != "draft":
            raise Forbidden(FROZEN) from None
        raise PreconditionFailed(
            f"The record has changed: you edited revision {expected}, "
            f"it is now at revision {current.revision_id}."
        ) from None
    return from_item(item)


def delete_record(principal: Principal, record_id: str, reason: str | None = None) -> None:
    """Delete a draft; an admin may tombstone a published record (it then answers 410 with ``reason``)."""
    record = get_record(principal, record_id, Action.RECORD_DELETE)
    if record.state == "published" and principal.is_admin:
        _tombstone(record, reason or "Removed by an administrator.")
        return
    if record.state != "draft":
        raise Forbidden("A published record cannot be deleted; an admin may tombstone it.")
    try:
        RecordItem(pk=record_pk(record.id), sk=RECORD_SK).delete(condition=RecordItem.state == "draft")
    except DeleteError:
        raise Forbidden("A published record cannot be deleted; an admin may tombstone it.") from None
    buckets.delete_bucket(principal, record.bucket_id)


def _tombstone(record: Record, reason: str) -> None:
    # The files stay stored (other versions may share them) but are no longer anyone's to read.
    RecordItem(pk=record_pk(record.id), sk=RECORD_SK).update(
        actions=[
            RecordItem.state.set("tombstoned"),
            RecordItem.tombstone_reason.set(reason[:500]),
            RecordItem.gsi2pk.remove(),
            RecordItem.gsi2sk.remove(),
        ],
        condition=RecordItem.state == "published",
    )
    BucketItem(pk=bucket_pk(record.bucket_id), sk=BUCKET_SK).update(
        actions=[BucketItem.public_read.set(False)]
    )


def publish_record(principal: Principal, record_id: str) -> Record:
    """Validate, lock the bucket, freeze the record. Publishing twice is harmless; of two racing
    publishes one does it and both answer the published record."""
    record = get_record(principal, record_id, Action.RECORD_UPDATE)
    if record.state == "published":
        return record
    validate_metadata(record.metadata)
    _check_files(record)
    now = _now()
    actions: list[Update] = [
        RecordItem.state.set("published"),
        RecordItem.publication_date.set(now.date().isoformat()),
        RecordItem.updated.set(now),
        RecordItem.revision_id.add(1),
    ]
    if record.access.get("record") == "public":
        actions += [RecordItem.gsi2pk.set(PUBLIC_PK), RecordItem.gsi2sk.set(f"{now.isoformat()}#{record.id}")]
    # One transaction: the bucket is locked exactly when the record is published. Another request
    # may have published it first: the same outcome.
    with contextlib.suppress(TransactWriteError), transaction() as writes:
        writes.update(
            RecordItem(pk=record_pk(record.id), sk=RECORD_SK),
            actions=actions,
            condition=RecordItem.state == "draft",
        )
        # Published files are anyone's when both the record and its files are public.
        public_files = record.access.get("record") == "public" and record.access.get("files") == "public"
        writes.update(
            BucketItem(pk=bucket_pk(record.bucket_id), sk=BUCKET_SK),
            actions=[BucketItem.locked.set(True), BucketItem.public_read.set(public_files)],
        )
    return from_item(_load(record.id))


def _check_files(record: Record) -> None:
    pending = [
        upload.id
        for upload in UploadItem.query(bucket_pk(record.bucket_id), UploadItem.sk.startswith("U#"))
        if upload.state in ("pending", "completing")
    ]
    if pending:
        raise Conflict(f"The record has {len(pending)} upload(s) in progress: complete or abort them first.")
    heads = ObjectVersionItem.query(
        bucket_pk(record.bucket_id), ObjectVersionItem.sk.startswith("H#"), limit=1
    )
    if not list(heads):
        raise BadRequest("A record is published with at least one file.")


@dataclass(frozen=True)
class RecordPage:
    records: list[Record]
    cursor: str | None


def list_records(principal: Principal, *, mine: bool, limit: int, cursor: str | None) -> RecordPage:
    """Newest first: the caller's own records (``mine``), else the published public ones."""
    if mine and principal.sub is None:
        raise Unauthorized("Sign in to list your records.")
    index, key = (
        (RecordItem.by_owner, owner_pk(principal.sub or "")) if mine else (RecordItem.public, PUBLIC_PK)
    )
    results = index.query(key, scan_index_forward=False, limit=limit, last_evaluated_key=_decode(cursor, key))
    records = [from_item(item) for item in results]
    last = results.last_evaluated_key
    return RecordPage(records, base64.urlsafe_b64encode(json.dumps(last).encode()).decode() if last else None)


def _decode(cursor: str | None, key: str) -> dict[str, Any] | None:
    if not cursor:
        return None
    try:
        last = json.loads(base64.urlsafe_b64decode(cursor.encode()))
        if key not in json.dumps(last):  # a cursor from another listing would read other records
            raise ValueError(cursor)
    except (ValueError, TypeError):
        raise invalid_field("cursor", "is not a cursor this listing gave out") from None
    return dict(last)
