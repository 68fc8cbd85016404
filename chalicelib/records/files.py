"""A record's files: the entries its JSON shows, their own metadata, and their order.

The bytes and versions are the files API's, in the record's bucket; this module adds what a
record says about them. Changing it is a draft's business: published records are frozen.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from typing import Any

from chalicelib.auth.principal import Principal
from chalicelib.dynamodb import update_once
from chalicelib.errors import BadRequest, Forbidden, NotFound, invalid_field
from chalicelib.files import objects
from chalicelib.files.keys import validate_key
from chalicelib.files.objects import ObjectVersion
from chalicelib.records.models import RECORD_SK, RecordItem, RecordState, record_pk
from chalicelib.records.service import Record, get_draft, get_record
from chalicelib.settings import get_settings


@dataclass(frozen=True)
class Entry:
    version: ObjectVersion
    metadata: dict[str, Any]


def entries(principal: Principal, record: Record) -> list[Entry] | None:
    """The record's files in its order (files it does not list after, in upload order: the order
    their current versions were uploaded); None if the caller may not see them."""
    try:
        found: list[ObjectVersion] = []
        cursor = None
        while True:
            page = objects.list_objects(
                principal, record.bucket_id, prefix="", versions=False, limit=1000, cursor=cursor
            )
            found += page.versions
            if not page.cursor:
                break
            cursor = page.cursor
    except NotFound:
        return None  # restricted files: their record may be visible, they are not
    rank = {key: position for position, key in enumerate(record.files.get("order", []))}
    found.sort(key=lambda version: (rank.get(version.key, len(rank)), version.created, version.key))
    described = record.files.get("metadata", {})
    return [Entry(version, described.get(version.key, {})) for version in found]


def _change_files(record: Record, change: dict[str, Any]) -> None:
    item = RecordItem.get(record_pk(record.id), RECORD_SK, consistent_read=True)
    files = {"order": [], "metadata": {}, **(item.files or {}), **change}
    # Once, by its client request token (see update_record).
    if not update_once(
        item,
        [RecordItem.files.set(files), RecordItem.revision_id.add(1)],
        (RecordItem.state == RecordState.DRAFT) & (RecordItem.revision_id == item.revision_id),
    ):
        raise Forbidden("The record changed meanwhile (or was published); read it again.")


def set_file_metadata(principal: Principal, record_id: str, key: str, metadata: object) -> dict[str, Any]:
    """Set a file's own metadata (a JSON object of limited size)."""
    record = get_draft(principal, record_id)
    key = validate_key(key)
    if not isinstance(metadata, dict):
        raise BadRequest("A file's metadata is a JSON object.")
    limit = get_settings().max_file_metadata_bytes
    if len(json.dumps(metadata).encode()) > limit:
        raise invalid_field("metadata", f"is larger than {limit} bytes")
    objects.head_version(record.bucket_id, key)  # 404 for a file the record does not have
    item = RecordItem.get(record_pk(record.id), RECORD_SK, consistent_read=True)
    described = {**(item.files or {}).get("metadata", {}), key: metadata}
    _change_files(record, {"metadata": described})
    return metadata


def file_metadata(principal: Principal, record_id: str, key: str) -> dict[str, Any]:
    record = get_record(principal, record_id)
    item = RecordItem.get(record_pk(record.id), RECORD_SK)
    key = validate_key(key)
    objects.read_object(principal, record.bucket_id, key, None)  # the files' own access
    return dict((item.files or {}).get("metadata", {}).get(key, {}))


def order_files(principal: Principal, record_id: str, order: object) -> list[str]:
    record = get_draft(principal, record_id)
    if not isinstance(order, list) or not all(isinstance(key, str) for key in order):
        raise invalid_field("order", "must be a list of the record's file keys, each once")
    keys = [validate_key(key, "order") for key in order]
    if len(set(keys)) != len(keys):
        raise invalid_field("order", "must be a list of the record's file keys, each once")
    for key in keys:
        objects.head_version(record.bucket_id, key)
    _change_files(record, {"order": keys})
    return keys


def record_files(principal: Principal, record_id: str) -> tuple[Record, list[Entry] | None]:
    """The record and its files' entries (None when the caller may not see them)."""
    record = get_record(principal, record_id)
    return record, entries(principal, record)


def file_download_url(principal: Principal, record_id: str, key: str) -> str:
    """A presigned GET of the record's file, if the caller may read both."""
    record = get_record(principal, record_id)
    return objects.download_url(principal, record.bucket_id, key, None, download=False)
