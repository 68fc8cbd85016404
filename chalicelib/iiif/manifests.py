"""Gathering a record's images and pages for its Presentation manifest (the builder itself is pure:
presentation.py)."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from chalicelib.auth.principal import Principal
from chalicelib.files.keys import encode_key
from chalicelib.files.models import IngestState
from chalicelib.files.stored import StoredFile, stored_files
from chalicelib.iiif import search
from chalicelib.iiif.auth import AuthServices
from chalicelib.iiif.identifiers import page_identifier, still_identifier
from chalicelib.iiif.presentation import CONTEXT, CanvasImage, CanvasMedia, Item, SourceFile, manifest
from chalicelib.iiif.pyramid import shown_thumbnail, thumbnail_sizes
from chalicelib.records.files import Entry, entries, restricted_versions
from chalicelib.records.service import Record, get_record
from chalicelib.settings import get_settings

PDF = "application/pdf"


@dataclass(frozen=True)
class RecordCanvases:
    """What a record shows a viewer: a canvas per image and page, in its file order."""

    record: Record
    images: list[Item]
    # The PDFs among its files whose words ingest indexed: (file id, the number of its first
    # canvas). Only where the caller may read them: a search finds nothing in a hidden file.
    texts: list[tuple[str, int]]

    @property
    def public(self) -> bool:
        """Anyone may see it all: shared caches may keep what is made of it."""
        return self.record.public_read and self.record.access.get("files") == "public"


def record_canvases(principal: Principal, record_id: str, base: str) -> RecordCanvases:
    """The record's canvases. A public record's restricted images are there to those who may not
    see them too, named only by their place: a viewer then offers to sign in."""
    record = get_record(principal, record_id)
    listed = entries(principal, record)
    if listed is None:
        versions = restricted_versions(record) if record.public_read else []
        listed = [Entry(version, {}) for version in versions]
        named = False
    else:
        named = True
    stored = stored_files([entry.version.file_id for entry in listed if entry.version.file_id])
    images: list[Item] = []
    texts: list[tuple[str, int]] = []
    for entry in listed:
        found = stored.get(entry.version.file_id or "")
        if found is None:
            continue
        label = entry.metadata.get("description") or entry.metadata.get("label") or entry.version.key
        if found.media and found.stills and found.ingest == IngestState.DONE:
            images.append(
                _media(base, record, entry, found, str(label) if named else f"File {len(images) + 1}")
            )
            continue
        image = found.viewable_image
        if image is None:
            continue
        label = str(label) if named else f"Image {len(images) + 1}"
        if found.pages:
            if named and found.sniffed_type == PDF:
                texts.append((found.id, len(images) + 1))
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
    return RecordCanvases(record, images, texts)


def record_manifest(
    principal: Principal, record_id: str, base: str, auth: AuthServices
) -> tuple[dict[str, Any], bool]:
    """The manifest, and whether anyone may see it (so shared caches may keep it). Restricted
    images carry the Authorization Flow's services; a record with text has search services."""
    canvases = record_canvases(principal, record_id, base)
    record = canvases.record
    restricted = record.public_read and not canvases.public  # a draft's images need no sign-in prompt
    document = manifest(base, record.id, record.metadata, canvases.images, auth if restricted else None)
    if canvases.texts:
        document["service"] = search.services(
            search_url(base, record.id, "1"), search_url(base, record.id, "2")
        )
        # Presentation's own context comes last (3.0 section 4.6), the extensions' before it.
        others = [context for context in _contexts(document["@context"]) if context != CONTEXT]
        document["@context"] = [*others, search.SEARCH2_CONTEXT, CONTEXT]
    return document, canvases.public


def _contexts(context: str | list[str]) -> list[str]:
    return context if isinstance(context, list) else [context]


def search_url(base: str, record_id: str, version: str) -> str:
    return f"{base}/iiif/search/{version}/{record_id}"


def _pages(base: str, record: Record, entry: Entry, found: StoredFile, label: str) -> list[CanvasImage]:
    """A multi-page file's canvases, one per page, each naming the file."""
    assert found.pages is not None
    source = SourceFile(
        url=_content_url(base, record, entry),
        label=label,
        format=found.sniffed_type or "application/octet-stream",
    )
    sides = get_settings().thumbnail_sizes
    canvases = []
    for number, (width, height) in enumerate(found.pages, start=1):
        thumbnail = shown_thumbnail(thumbnail_sizes(width, height, sides))
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


def _content_url(base: str, record: Record, entry: Entry) -> str:
    return f"{base}/records/{record.id}/files/{encode_key(entry.version.key)}/content"


def _media(base: str, record: Record, entry: Entry, found: StoredFile, label: str) -> CanvasMedia:
    """A sound's or a video's canvas, its poster or waveform its thumbnail."""
    assert found.media is not None and found.stills is not None
    facts = found.media
    name = found.shown_still
    assert name is not None
    width, height = found.stills[name]
    thumbnail = shown_thumbnail(thumbnail_sizes(width, height, get_settings().thumbnail_sizes))
    still = CanvasImage(
        identifier=still_identifier(entry.version.version_id, name),
        width=width,
        height=height,
        label=label,
        thumbnail=(thumbnail[0], thumbnail[1]) if thumbnail else None,
    )
    return CanvasMedia(
        identifier=entry.version.version_id,
        url=_content_url(base, record, entry),
        format=found.sniffed_type or "application/octet-stream",
        kind="Video" if facts.get("kind") == "video" else "Sound",
        duration=float(facts["duration"]),
        width=facts.get("width"),
        height=facts.get("height"),
        label=label,
        still=still,
    )
