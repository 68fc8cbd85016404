"""A record's files: the entries its JSON shows, their own metadata, and their order.

The bytes and versions are the files API's, in the record's bucket; this module adds what a
record says about them. Changing it is a draft's business: published records are frozen.
"""

from __future__ import annotations

import json
from collections.abc import Callable
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
    described = record.files.get("metadata", {})
    return [Entry(version, described.get(version.key, {})) for version in _in_order(record, found)]


def restricted_versions(record: Record) -> list[ObjectVersion]:
    """The current versions of a record's files, in its order, whoever asks: what a IIIF manifest
    lists of restricted files, under no name, so that a viewer offers to sign in to see them."""
    return _in_order(record, objects.current_versions(record.bucket_id))


def _in_order(record: Record, versions: list[ObjectVersion]) -> list[ObjectVersion]:
    rank = {key: position for position, key in enumerate(record.files.get("order", []))}
    return sorted(
        versions, key=lambda version: (rank.get(version.key, len(rank)), version.created, version.key)
    )


# Attempts at changing a record's files while other changes land in between: each one that lands
# was another's, so this many writers at once all land.
CHANGE_ATTEMPTS = 10


def _change_files(record: Record, change: Callable[[dict[str, Any]], dict[str, Any]]) -> None:
    """Apply ``change`` (the files' order and metadata, as they are now, to what they become) to
    the draft. A change made meanwhile (another description saved) is read and ``change``
    applied to it again, so neither is lost; a record published meanwhile refuses it."""
    for _ in range(CHANGE_ATTEMPTS):
        item = RecordItem.get(record_pk(record.id), RECORD_SK, consistent_read=True)
        if item.state != RecordState.DRAFT:
            break
        files = change({"order": [], "metadata": {}, **(item.files or {})})
        # Once, by its client request token (see update_record).
        if update_once(
            item,
            [RecordItem.files.set(files), RecordItem.revision_id.add(1)],
            (RecordItem.state == RecordState.DRAFT) & (RecordItem.revision_id == item.revision_id),
        ):
            return
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
    _change_files(record, lambda files: {**files, "metadata": {**files["metadata"], key: metadata}})
    return metadata


def rename_file(principal: Principal, record_id: str, key: str, new_key: str) -> ObjectVersion:
    """The files API's rename in the draft's bucket; the file keeps its place in the record's
    order and its own metadata under its new key."""
    record = get_draft(principal, record_id)
    moved = objects.rename_object(principal, record.bucket_id, key, new_key)

    def carried(files: dict[str, Any]) -> dict[str, Any]:
        described = dict(files["metadata"])
        if key in described:
            described[moved.key] = described.pop(key)
        order = list(dict.fromkeys(moved.key if name == key else name for name in files["order"]))
        return {**files, "metadata": described, "order": order}

    _change_files(record, carried)
    return moved


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
    _change_files(record, lambda files: {**files, "order": keys})
    return keys


def record_files(principal: Principal, record_id: str) -> tuple[Record, list[Entry] | None]:
    """The record and its files' entries (None when the caller may not see them)."""
    record = get_record(principal, record_id)
    return record, entries(principal, record)


def file_download_url(principal: Principal, record_id: str, key: str) -> str:
    """A presigned GET of the record's file, if the caller may read both."""
    record = get_record(principal, record_id)
    return objects.download_url(principal, record.bucket_id, key, None, download=False)
