"""Record versions: a new draft from a published record, whose bucket is a snapshot of the old one.

The chain's records share a parent (the first version); each has an index. A version's files are
the previous version's stored bytes until it changes them, so publishing a new version never
copies a byte, and changing it never touches the previous one.
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass

from chalicelib import clock
from chalicelib.auth.policy import Action, can
from chalicelib.auth.principal import Principal
from chalicelib.dynamodb import save_once
from chalicelib.errors import Conflict, NotFound
from chalicelib.files.snapshots import snapshot_bucket
from chalicelib.records.models import (
    RECORD_SK,
    RecordItem,
    RecordState,
    VersionItem,
    chain_pk,
    chain_sk,
    record_pk,
)
from chalicelib.records.service import Record, from_item, get_record, new_record_item


@dataclass(frozen=True)
class Version:
    record: Record
    index: int
    is_latest: bool  # the newest published version of the chain


def new_version(principal: Principal, record_id: str) -> Record:
    source = get_record(principal, record_id, Action.RECORD_UPDATE)
    if source.state != RecordState.PUBLISHED:
        raise Conflict("Only a published record gets a new version: publish or edit this draft instead.")
    assert principal.sub is not None  # record-update is never granted to anonymous callers
    parent = source.parent_id
    latest = next(iter(VersionItem.query(chain_pk(parent), scan_index_forward=False, limit=1)), None)
    index = (int(latest.index) if latest else 1) + 1
    new_id = str(uuid.uuid4())
    # Claims the index: of two racing new versions, one gets it and the other is told so.
    claim = VersionItem(pk=chain_pk(parent), sk=chain_sk(index), record_id=new_id, index=index)
    if not save_once(claim, VersionItem.pk.does_not_exist()):
        raise Conflict("Another new version of this record was just started; read the versions again.")
    bucket = snapshot_bucket(principal, source.bucket_id, new_id)
    now = clock.now()
    item = new_record_item(new_id, principal.sub, source.metadata, bucket.id, source.access, now)
    item.files, item.parent_id, item.version_index = source.files, parent, index
    if not save_once(item, RecordItem.pk.does_not_exist()):
        raise Conflict("A record with this id was just created; try again.")  # a fresh UUID: never
    return from_item(item)


def versions(principal: Principal, record_id: str) -> list[Version]:
    """The chain's versions the caller may see, oldest first."""
    record = get_record(principal, record_id)
    chain = VersionItem.query(chain_pk(record.parent_id))
    keys = [(record_pk(link.record_id), RECORD_SK) for link in chain]
    records = [from_item(item) for item in RecordItem.batch_get(keys)]
    # Another owner's draft in the chain stays theirs.
    visible = sorted(
        (r for r in records if can(principal, Action.RECORD_READ, r)), key=lambda r: r.version_index
    )
    published = [r for r in visible if r.state == RecordState.PUBLISHED]
    newest = max(published, key=lambda r: r.version_index).id if published else None
    return [Version(r, r.version_index, r.id == newest) for r in visible]


def latest(principal: Principal, record_id: str) -> Record:
    """The newest published version of the record's chain."""
    published = [version for version in versions(principal, record_id) if version.is_latest]
    if not published:
        raise NotFound("No published version of this record.")
    return published[0].record
