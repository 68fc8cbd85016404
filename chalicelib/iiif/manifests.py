"""Gathering a record's images for its Presentation manifest (the builder itself is pure: presentation.py)."""

from __future__ import annotations

from typing import Any

from chalicelib.auth.principal import Principal
from chalicelib.files.stored import stored_files
from chalicelib.iiif.auth import AuthServices
from chalicelib.iiif.presentation import CanvasImage, manifest
from chalicelib.records.files import Entry, entries, restricted_versions
from chalicelib.records.service import get_record


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
        images.append(
            CanvasImage(
                identifier=entry.version.version_id,
                width=int(image["width"]),
                height=int(image["height"]),
                label=str(label) if named else f"Image {len(images) + 1}",
                thumbnail=(found.thumbnail[0], found.thumbnail[1]) if found.thumbnail else None,
                degraded_size=record.degraded_size,
            )
        )
    public = record.public_read and record.access.get("files") == "public"
    restricted = record.public_read and not public  # a draft's images need no sign-in prompt
    return manifest(base, record.id, record.metadata, images, auth if restricted else None), public
