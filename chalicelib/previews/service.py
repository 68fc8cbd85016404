"""Preview pages: the file a request names, if the caller may read it, shown by the previewer that
takes it (chalicelib.previews.registry), in a page that keeps its content inert (page.py)."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any
from urllib.parse import urlencode

from chalicelib.auth.principal import Principal
from chalicelib.errors import NotFound
from chalicelib.files import objects, storage
from chalicelib.files.keys import encode_key
from chalicelib.files.models import IngestState
from chalicelib.files.stored import StoredFile
from chalicelib.iiif.identifiers import still_identifier
from chalicelib.observability import logger, metrics

# Imported for what they register.
from chalicelib.previews import archive, markdown, notebook, structured, tabular, text, viewers  # noqa: F401
from chalicelib.previews.page import document, message
from chalicelib.previews.registry import REGISTRY, Page, PreviewFile, Reader, Registry
from chalicelib.records.service import get_record
from chalicelib.settings import get_settings

NO_PREVIEW = "No preview is available for this file: download it to open it."

REGISTRY.load_entry_points()


@dataclass(frozen=True)
class StoredBytes:
    """A stored file's bytes, read from S3 in ranges."""

    s3_key: str
    size: int

    def read(self, start: int, length: int) -> bytes:
        length = min(length, self.size - start)
        return storage.read_range(self.s3_key, start, length) if length > 0 and start >= 0 else b""


def render(file: PreviewFile, reader: Reader, registry: Registry = REGISTRY) -> Page:
    """The page of the first previewer that takes the file and does not fail on it."""
    for candidate in registry.candidates(file, get_settings().preview_order):
        try:
            return candidate.preview(file, reader)
        except Exception:
            # A previewer's bug must not cost the visitor the page: the next one may do.
            logger.exception("previewer failed", extra={"previewer": candidate.name, "key": file.key})
            metrics.add_metric(name="PreviewerFailures", unit="Count", value=1)
    return message(NO_PREVIEW)


def _siblings(base: str, bucket_id: str, record_id: str | None) -> dict[str, Callable[[str], str]]:
    if record_id is not None:
        return {
            "sibling_page": lambda key: f"{base}/records/{record_id}/preview/{encode_key(key)}",
            "sibling_bytes": lambda key: f"{base}/records/{record_id}/files/{encode_key(key)}/content",
        }
    return {
        "sibling_page": lambda key: f"{base}/files/{bucket_id}/{encode_key(key)}?preview",
        "sibling_bytes": lambda key: f"{base}/files/{bucket_id}/{encode_key(key)}",
    }


POSTER_SIDE = 1200


def _poster(base: str, version_id: str, stored: StoredFile | None) -> str | None:
    """A video's poster frame or a sound's waveform, once ingest has made them."""
    if stored is None or not stored.stills or stored.ingest != IngestState.DONE:
        return None
    name = stored.shown_still
    assert name is not None
    # "!w,h" beyond the image itself would need "^" (IIIF 3.0): the still as it is, if it is small.
    size = "max" if max(stored.stills[name]) <= POSTER_SIDE else f"!{POSTER_SIDE},{POSTER_SIDE}"
    return f"{base}/iiif/3/{still_identifier(version_id, name)}/full/{size}/0/default.jpg"


def preview_object(
    principal: Principal,
    bucket_id: str,
    key: str,
    version_id: str | None,
    base: str,
    metadata: dict[str, Any] | None = None,
    record_id: str | None = None,
) -> tuple[str, dict[str, str]]:
    """The preview page of an object (its head, or one version) and its headers; in a record's
    pages when ``record_id`` is given (links to other files then stay in the record)."""
    version, stored = objects.describe_object(principal, bucket_id, key, version_id)
    if version.delete_marker or version.file_id is None:
        raise NotFound("This version is a delete marker: it has no content.")
    image = stored.viewable_image if stored else None
    file = PreviewFile(
        key=version.key,
        size=version.size,
        mimetype=version.mimetype,
        sniffed_type=stored.sniffed_type if stored else None,
        metadata=metadata or {},
        download_url=objects.download_url(principal, bucket_id, key, version_id, download=False),
        static=f"{base}/static",
        iiif_base=f"{base}/iiif/3/{version.version_id}" if image else None,
        image=image,
        poster=_poster(base, version.version_id, stored),
        pages=len(stored.pages) if stored and stored.pages else 1,
        **_siblings(base, bucket_id, record_id),
    )
    page = render(file, StoredBytes(storage.s3_key(version.file_id), version.size))
    query = urlencode({"download": "", **({"versionId": version_id} if version_id else {})})
    download = f"{base}/files/{bucket_id}/{encode_key(version.key)}?{query}"
    links: tuple[tuple[str, str], ...] = ()
    if record_id:  # the record the file belongs to, and for an image the viewers' manifest
        links = (("Record", f"{base}/records/{record_id}"),)
        if image:
            links += (("IIIF manifest", f"{base}/iiif/presentation/{record_id}/manifest"),)
    return document(
        file, page, download=download, frame_ancestors=get_settings().preview_frame_ancestors, links=links
    )


def preview_record_file(
    principal: Principal, record_id: str, key: str, base: str
) -> tuple[str, dict[str, str]]:
    """The preview page of a record's file, with what the record says about it."""
    record = get_record(principal, record_id)
    described = record.files.get("metadata", {}).get(key, {})
    return preview_object(principal, record.bucket_id, key, None, base, described, record_id=record.id)
