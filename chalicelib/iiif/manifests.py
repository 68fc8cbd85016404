"""Gathering a record's images for its Presentation manifest (the builder itself is pure: presentation.py)."""

from __future__ import annotations

from typing import Any

from chalicelib.auth.principal import Principal
from chalicelib.files.models import FILE_SK, FileItem, file_pk
from chalicelib.iiif.presentation import CanvasImage, manifest
from chalicelib.records.files import entries
from chalicelib.records.service import get_record


def record_manifest(principal: Principal, record_id: str, base: str) -> tuple[dict[str, Any], bool]:
    """The manifest, and whether anyone may see it (so shared caches may keep it)."""
    record = get_record(principal, record_id)
    listed = entries(principal, record, record.files) or []
    keys = [(file_pk(entry.version.file_id), FILE_SK) for entry in listed if entry.version.file_id]
    stored = {item.id: item for item in FileItem.batch_get(keys)} if keys else {}
    images = []
    for entry in listed:
        facts = stored.get(entry.version.file_id or "")
        if facts is None or not facts.image or facts.ingest != "done":
            continue
        thumbnails = facts.thumbnails or []
        label = entry.metadata.get("description") or entry.metadata.get("label") or entry.version.key
        images.append(
            CanvasImage(
                identifier=entry.version.version_id,
                width=int(facts.image["width"]),
                height=int(facts.image["height"]),
                label=str(label),
                thumbnail=tuple(thumbnails[min(1, len(thumbnails) - 1)]) if thumbnails else None,
            )
        )
    public = record.public_read and record.access.get("files") == "public"
    return manifest(base, record.id, record.metadata, images), public
