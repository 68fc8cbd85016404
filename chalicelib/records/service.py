"""Records: create, read, change, delete, list and publish them; each owns a bucket for its files.

A draft is its owners' alone; publishing validates it, locks its bucket and freezes it, and a
public published record is readable by anyone. Concurrent edits are caught with the record's
revision id (a conditional write): a stale ``If-Match`` is refused, never silently overwritten.
"""

from __future__ import annotations

import contextlib
import uuid
from dataclasses import dataclass
from datetime import datetime
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field, model_validator
from pynamodb.exceptions import DeleteError, DoesNotExist, TransactWriteError
from pynamodb.expressions.update import Action as Update

from chalicelib import clock
from chalicelib.auth.policy import Action, can, require
from chalicelib.auth.principal import Principal
from chalicelib.cursors import TABLE_KEY, decode_cursor, encode_cursor
from chalicelib.dynamodb import transaction, update_once
from chalicelib.errors import (
    BadRequest,
    Conflict,
    Forbidden,
    Gone,
    NotFound,
    PreconditionFailed,
    Unauthorized,
)
from chalicelib.files import buckets, objects, uploads
from chalicelib.files.access import access_widened
from chalicelib.records.models import (
    PUBLIC_PK,
    RECORD_SK,
    RecordItem,
    RecordState,
    VersionItem,
    chain_pk,
    chain_sk,
    owner_pk,
    record_pk,
)
from chalicelib.records.schema import validate_metadata

NO_SUCH_RECORD = "No record with this id."
# The attributes of a listing's position: the table's key and the index's.
OWNER_LISTING_KEY = TABLE_KEY | {"gsi1pk", "gsi1sk"}
PUBLIC_LISTING_KEY = TABLE_KEY | {"gsi2pk", "gsi2sk"}
FROZEN = "The record is published: its metadata and files cannot change."
# A degraded image still worth showing (a thumbnail), and well below what a viewer zooms into.
MIN_DEGRADED_SIZE, MAX_DEGRADED_SIZE = 64, 2048


class Access(BaseModel):
    model_config = ConfigDict(extra="forbid")

    record: Literal["public", "restricted"] = "public"
    files: Literal["public", "restricted"] = "public"
    # Tiered access (IIIF's "degraded" tier): anyone may see a public record's restricted images
    # scaled to fit this many pixels a side, and signs in for the rest.
    degraded_size: int | None = Field(default=None, ge=MIN_DEGRADED_SIZE, le=MAX_DEGRADED_SIZE)

    @model_validator(mode="after")
    def _tiered_only_where_restricted(self) -> Access:
        if self.degraded_size is not None and not (self.record == "public" and self.files == "restricted"):
            raise ValueError(
                "degraded_size is for a public record's restricted files: anyone sees the rest in full, "
                "or nothing of it."
            )
        return self

    def stored(self) -> dict[str, Any]:
        return self.model_dump(exclude_none=True)


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
    state: RecordState
    bucket_id: str
    access: dict[str, Any]
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
    def degraded_size(self) -> int | None:
        """How small anyone may see its restricted images (Access.degraded_size), if at all."""
        size = self.access.get("degraded_size")
        return int(size) if size else None

    @property
    def public_read(self) -> bool:
        # A draft is its owners' alone, whatever its access will be once published.
        return self.state == RecordState.PUBLISHED and self.access.get("record") == "public"


def from_item(item: RecordItem) -> Record:
    return Record(
        id=item.id,
        owner=item.owner,
        metadata=dict(item.metadata),
        revision_id=int(item.revision_id),
        state=RecordState(item.state),
        bucket_id=item.bucket_id,
        access=dict(item.access),
        created=item.created,
        updated=item.updated,
        publication_date=item.publication_date,
        files=dict(item.files or {}),
        parent_id=item.parent_id or item.id,
        version_index=int(item.version_index),
    )


def create_record(principal: Principal, spec: RecordSpec) -> Record:
    require(principal, Action.RECORD_CREATE, None)
    assert principal.sub is not None  # record-create needs a signed-in principal
    metadata = validate_metadata(spec.metadata)
    record_id = str(uuid.uuid4())
    bucket = buckets.create_bucket(principal, buckets.NewBucket(), record_id)
    now = clock.now()
    item = new_record_item(record_id, principal.sub, metadata, bucket.id, spec.access.stored(), now)
    try:
        with transaction() as writes:  # once, by its client request token, even if botocore resends it
            writes.save(item, condition=RecordItem.pk.does_not_exist())
            writes.save(VersionItem(pk=chain_pk(record_id), sk=chain_sk(1), record_id=record_id, index=1))
    except TransactWriteError:
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
    record = from_item(item)
    if record.state == RecordState.TOMBSTONED:
        # Why it went is for those who could read it: a restricted record stays hidden from others.
        if record.access.get("record") == "public" or can(principal, Action.RECORD_READ, record):
            raise Gone(f"This record was removed: {item.tombstone_reason}")
        raise NotFound(NO_SUCH_RECORD)
    try:
        require(principal, action, record)
    except NotFound:
        raise NotFound(NO_SUCH_RECORD) from None  # hidden answers as missing does
    return record


def get_draft(principal: Principal, record_id: str) -> Record:
    """The record, if ``principal`` may change it and it is still a draft (else 403: it is frozen)."""
    record = get_record(principal, record_id, Action.RECORD_UPDATE)
    if record.state != RecordState.DRAFT:
        raise Forbidden(FROZEN)
    return record


def update_record(principal: Principal, record_id: str, spec: RecordSpec, if_match: int | None) -> Record:
    record = get_draft(principal, record_id)
    metadata = validate_metadata(spec.metadata)
    expected = record.revision_id if if_match is None else if_match
    # Once, by its client request token: a plain conditional update whose answer was lost is sent
    # again by botocore and then fails its own revision condition (a 412 for an applied edit).
    applied = update_once(
        RecordItem(pk=record_pk(record.id), sk=RECORD_SK),
        [
            RecordItem.metadata.set(metadata),
            RecordItem.access.set(spec.access.stored()),
            RecordItem.revision_id.add(1),
            RecordItem.updated.set(clock.now()),
        ],
        (RecordItem.revision_id == expected) & (RecordItem.state == RecordState.DRAFT),
    )
    current = from_item(_load(record.id))
    if not applied:
        if current.state != RecordState.DRAFT:
            raise Forbidden(FROZEN)
        raise PreconditionFailed(
            f"The record has changed: you edited revision {expected}, "
            f"it is now at revision {current.revision_id}."
        )
    return current


def delete_record(principal: Principal, record_id: str, reason: str | None = None) -> None:
    """Delete a draft; an admin may tombstone a published record (it then answers 410 with ``reason``)."""
    record = get_record(principal, record_id, Action.RECORD_DELETE)
    if record.state == RecordState.PUBLISHED and principal.is_admin:
        _tombstone(record, reason or "Removed by an administrator.")
        return
    if record.state != RecordState.DRAFT:
        raise Forbidden("A published record cannot be deleted; an admin may tombstone it.")
    try:
        RecordItem(pk=record_pk(record.id), sk=RECORD_SK).delete(
            condition=RecordItem.state == RecordState.DRAFT
        )
    except DeleteError:
        raise Forbidden("A published record cannot be deleted; an admin may tombstone it.") from None
    buckets.delete_bucket(principal, record.bucket_id)


def _tombstone(record: Record, reason: str) -> None:
    # The files stay stored (other versions may share them) but are no longer anyone's to read.
    RecordItem(pk=record_pk(record.id), sk=RECORD_SK).update(
        actions=[
            RecordItem.state.set(RecordState.TOMBSTONED),
            RecordItem.tombstone_reason.set(reason[:500]),
            RecordItem.gsi2pk.remove(),
            RecordItem.gsi2sk.remove(),
        ],
        condition=RecordItem.state == RecordState.PUBLISHED,
    )
    buckets.withdraw(record.bucket_id)


def publish_record(principal: Principal, record_id: str) -> Record:
    """Validate, lock the bucket, freeze the record. Publishing twice is harmless; of two racing
    publishes one does it and both answer the published record."""
    record = get_record(principal, record_id, Action.RECORD_UPDATE)
    if record.state == RecordState.PUBLISHED:
        return record
    validate_metadata(record.metadata)
    _check_files(record)
    now = clock.now()
    actions: list[Update] = [
        RecordItem.state.set(RecordState.PUBLISHED),
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
            condition=RecordItem.state == RecordState.DRAFT,
        )
        # Published files are anyone's when both the record and its files are public.
        public_files = record.access.get("record") == "public" and record.access.get("files") == "public"
        buckets.lock_with(writes, record.bucket_id, public_read=public_files)
    if public_files:
        access_widened(record.bucket_id)
    return from_item(_load(record.id))


def _check_files(record: Record) -> None:
    pending = uploads.open_uploads(record.bucket_id)
    if pending:
        raise Conflict(f"The record has {len(pending)} upload(s) in progress: complete or abort them first.")
    if not objects.has_objects(record.bucket_id):
        raise BadRequest("A record is published with at least one file.")


@dataclass(frozen=True)
class RecordPage:
    records: list[Record]
    cursor: str | None


def list_records(principal: Principal, *, mine: bool, limit: int, cursor: str | None) -> RecordPage:
    """Newest first: the caller's own records (``mine``), else the published public ones."""
    if mine and principal.sub is None:
        raise Unauthorized("Sign in to list your records.")
    index, partition, names = (
        (RecordItem.by_owner, ("gsi1pk", owner_pk(principal.sub or "")), OWNER_LISTING_KEY)
        if mine
        else (RecordItem.public, ("gsi2pk", PUBLIC_PK), PUBLIC_LISTING_KEY)
    )
    results = index.query(
        partition[1],
        scan_index_forward=False,
        limit=limit,
        last_evaluated_key=decode_cursor(cursor, partition, names),
    )
    records = [from_item(item) for item in results]
    return RecordPage(records, encode_cursor(results.last_evaluated_key))


@dataclass(frozen=True)
class PublicFacts:
    """What IIIF says of the record that owns an image, to anyone."""

    licence: str | None  # the record's licence, when it names one by URI (what ``rights`` takes)
    listed: bool  # anyone may read the record, so that its files' existence is no secret
    degraded_size: int | None = None  # anyone may see its restricted images this small (tiered access)


def public_facts(record_id: str) -> PublicFacts:
    try:
        item = RecordItem.get(record_pk(record_id), RECORD_SK)
    except DoesNotExist:
        return PublicFacts(None, listed=False)
    licence = (item.metadata or {}).get("license")
    uri = licence if isinstance(licence, str) and licence.startswith(("http://", "https://")) else None
    record = from_item(item)
    return PublicFacts(uri, listed=record.public_read, degraded_size=record.degraded_size)
