"""The JSON shapes of records, in the style of Invenio's records with files. No I/O here: the
caller hands over the record's file entries, or shows a summary without them (listings)."""

from __future__ import annotations

from typing import Any

from chalicelib.files.keys import encode_key
from chalicelib.files.serializers import timestamp
from chalicelib.records.files import Entry
from chalicelib.records.service import Record


def record_summary_json(record: Record, base: str) -> dict[str, Any]:
    """A record as listings show it: its metadata and links, and no file entries (its ``files``
    link lists them), so a page of records costs one query."""
    own = f"{base}/records/{record.id}"
    return {
        "id": record.id,
        "metadata": record.metadata,
        "revision_id": record.revision_id,
        "state": record.state,
        "access": record.access,
        "bucket_id": record.bucket_id,
        "owners": sorted(record.owners),
        "created": timestamp(record.created),
        "updated": timestamp(record.updated),
        "publication_date": record.publication_date,
        "files": {"enabled": True},
        "versions": {"parent": record.parent_id, "index": record.version_index},
        "links": {
            "self": own,
            "files": f"{base}/files/{record.bucket_id}",
            "publish": f"{own}/publish",
            "versions": f"{own}/versions",
            "latest": f"{base}/records/{record.parent_id}/latest",
        },
    }


def files_json(record: Record, listed: list[Entry] | None, base: str) -> dict[str, Any]:
    """The record's files in its order; without entries when the caller may not see them (None)."""
    own = f"{base}/records/{record.id}"
    shown: dict[str, Any] = {"enabled": True, "order": [entry.version.key for entry in listed or []]}
    if listed is not None:
        shown["entries"] = {
            entry.version.key: {
                "key": entry.version.key,
                "size": entry.version.size,
                "checksum": entry.version.checksum,
                "mimetype": entry.version.mimetype,
                "version_id": entry.version.version_id,
                "metadata": entry.metadata,
                "links": _entry_links(own, encode_key(entry.version.key)),
            }
            for entry in listed
        }
    return shown


def _entry_links(own: str, key: str) -> dict[str, str]:
    """Where a record's file is read, and (``self``: the files API's protocol on the draft's
    bucket, as ?rename and ?restore) changed."""
    return {
        "self": f"{own}/files/{key}",
        "content": f"{own}/files/{key}/content",
        "metadata": f"{own}/files/{key}/metadata",
        "preview": f"{own}/preview/{key}",
    }


def record_json(record: Record, listed: list[Entry] | None, base: str) -> dict[str, Any]:
    """A record with its files' entries (``listed``, or None when the caller may not see them)."""
    body = record_summary_json(record, base)
    body["files"] = files_json(record, listed, base)
    if any((entry.version.mimetype or "").startswith("image/") for entry in listed or []):
        body["links"]["iiif_manifest"] = f"{base}/iiif/presentation/{record.id}/manifest"
    return body
