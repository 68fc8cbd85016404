"""Gathering a record's images and pages for its Presentation manifest (the builder itself is pure:
presentation.py)."""

from __future__ import annotations

from typing import Any

from chalicelib.auth.principal import Principal
from chalicelib.files.keys import encode_key
from chalicelib.files.stored import StoredFile, stored_files
from chalicelib.iiif.auth import AuthServices
from chalicelib.iiif.identifiers import page_identifier
from chalicelib.iiif.presentation import CanvasImage, SourceFile, manifest
from chalicelib.iiif.pyramid import thumbnail_sizes
from chalicelib.records.files import Entry, entries, restricted_versions
from chalicelib.records.service import Record, get_record
from chalicelib.settings import get_settings


def record_manifest(
    principal: Principal, record_id: str, base: str, auth: AuthServices
) -> tuple[dict[str, Any], bool]:
    """The manifest, and whether anyone may see it (so shared caches may keep it).

    A public record's restricted images are there to those who may not see them too, named only
    by their place, with the Authorization Flow's services: a viewer then offers to sign in."""
    record = get_record(principal, record_id)
    listed = entries(principal, record)
    if listed is None:
        versions = restricted_versions(record) if record.public_read else []
        listed = [Entry(version, {}) for version in versions]
        named = False
    else:
        named = True
    stored = stored_files([entry.version.file_id for entry in listed if entry.version.file_id])
    images: list[CanvasImage] = []
    for entry in listed:
        found = stored.get(entry.version.file_id or "")
        image = found.viewable_image if found else None
        if found is None or image is None:
            continue
        label = entry.metadata.get("description") or entry.metadata.get("label") or entry.version.key
        label = str(label) if named else f"Image {len(images) + 1}"
        if found.pages:
            images.extend(_pages(base, record, entry, found, label if named else f"File {len(images) + 1}"))
            continue
        images.append(
            CanvasImage(
                identifier=entry.version.version_id,
                width=int(image["width"]),
                height=int(image["height"]),
                label=label,
                thumbnail=(found.thumbnail[0], found.thumbnail[1]) if found.thumbnail else None,
                degraded_size=record.degraded_size,
            )
        )
    public = record.public_read and record.access.get("files") == "public"
    restricted = record.public_read and not public  # a draft's images need no sign-in prompt
    return manifest(base, record.id, record.metadata, images, auth if restricted else None), public


def _pages(base: str, record: Record, entry: Entry, found: StoredFile, label: str) -> list[CanvasImage]:
    """A multi-page file's canvases, one per page, each naming the file."""
    assert found.pages is not None
    source = SourceFile(
        url=f"{base}/records/{record.id}/files/{encode_key(entry.version.key)}/content",
        label=label,
        format=found.sniffed_type or "application/octet-stream",
    )
    sides = get_settings().thumbnail_sizes
    canvases = []
    for number, (width, height) in enumerate(found.pages, start=1):
        thumbnails = thumbnail_sizes(width, height, sides)
        thumbnail = thumbnails[min(1, len(thumbnails) - 1)] if thumbnails else None  # as StoredFile's
        canvases.append(
            CanvasImage(
                identifier=page_identifier(entry.version.version_id, number),
                width=width,
                height=height,
                label=f"{label}, page {number}",
                thumbnail=(thumbnail[0], thumbnail[1]) if thumbnail else None,
                degraded_size=record.degraded_size,
                source=source,
            )
        )
    return canvases
