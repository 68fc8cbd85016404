"""The JSON shapes of the files API, in the style of invenio-files-rest (objects carry links)."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from chalicelib.files.buckets import Bucket
from chalicelib.files.keys import encode_key
from chalicelib.files.models import IngestState
from chalicelib.files.objects import ObjectVersion
from chalicelib.files.storage import StoredPart
from chalicelib.files.stored import StoredFile
from chalicelib.files.uploads import SignedRequest, Upload
from chalicelib.iiif.identifiers import still_identifier
from chalicelib.iiif.pyramid import shown_thumbnail, thumbnail_sizes
from chalicelib.settings import get_settings

# The longest side of the thumbnail a listing links to when ingest stored none (a small image).
THUMBNAIL_SIDE = 256


def timestamp(moment: datetime) -> str:
    return moment.isoformat().replace("+00:00", "Z")


def bucket_links(base: str, bucket_id: str) -> dict[str, str]:
    own = f"{base}/files/{bucket_id}"
    return {"self": own, "versions": f"{own}?versions", "uploads": f"{own}?uploads"}


def bucket_json(bucket: Bucket, base: str) -> dict[str, Any]:
    return {
        "id": bucket.id,
        "size": bucket.size,
        "quota_size": bucket.quota_size,
        "max_file_size": bucket.max_file_size,
        "locked": bucket.locked,
        "public_read": bucket.public_read,
        "tags": bucket.tags,
        "created": timestamp(bucket.created),
        "updated": timestamp(bucket.updated),
        "links": bucket_links(base, bucket.id),
    }


def object_url(base: str, bucket_id: str, key: str) -> str:
    return f"{base}/files/{bucket_id}/{encode_key(key)}"


def version_json(version: ObjectVersion, base: str) -> dict[str, Any]:
    own = object_url(base, version.bucket_id, version.key)
    links = {
        "self": own,
        "version": f"{own}?versionId={version.version_id}",
        "download": f"{own}?download",
    }
    if not version.delete_marker:  # the HTML preview page (a head's, else this version's)
        links["preview"] = f"{own}?preview" + ("" if version.is_head else f"&versionId={version.version_id}")
    return {
        "key": version.key,
        "version_id": version.version_id,
        "is_head": version.is_head,
        "size": version.size,
        "mimetype": version.mimetype,
        "checksum": version.checksum,
        "delete_marker": version.delete_marker,
        "tags": version.tags,
        "created": timestamp(version.created),
        "links": links,
    }


def iiif_links(
    base: str, version_id: str, image: dict[str, Any], thumbnail: list[int] | None
) -> dict[str, str]:
    """The IIIF links an image's JSON carries, so clients never build IIIF URLs themselves."""
    service = f"{base}/iiif/3/{version_id}"
    # A thumbnail ingest stored, asked for by its exact size, is one small object to read. Without
    # one, a box that an image smaller than it must not be upscaled to (that is a 400 in 3.0).
    if thumbnail:
        size = f"{thumbnail[0]},{thumbnail[1]}"
    else:
        size = (
            "max"
            if max(image["width"], image["height"]) <= THUMBNAIL_SIDE
            else f"!{THUMBNAIL_SIDE},{THUMBNAIL_SIDE}"
        )
    return {
        "iiif_base": service,
        "iiif_info": f"{service}/info.json",
        "thumbnail": f"{service}/full/{size}/0/default.jpg",
    }


def _stills_links(base: str, version_id: str, stored: StoredFile) -> dict[str, Any]:
    """Audio's or video's still images: its thumbnail (a video's poster, a sound's waveform), and
    each still's IIIF image."""
    stills, name = stored.stills, stored.shown_still
    assert stills is not None and name is not None
    width, height = stills[name]
    thumbnail = shown_thumbnail(thumbnail_sizes(width, height, get_settings().thumbnail_sizes))
    links = iiif_links(
        base, still_identifier(version_id, name), {"width": width, "height": height}, thumbnail
    )
    return {
        "thumbnail": links["thumbnail"],
        "iiif_stills": {
            still: f"{base}/iiif/3/{still_identifier(version_id, still)}/info.json" for still in stills
        },
    }


def object_meta_json(version: ObjectVersion, stored: StoredFile | None, base: str) -> dict[str, Any]:
    """An object's JSON with what ingest and integrity checks know of its bytes (``?meta``)."""
    body = version_json(version, base)
    if stored is None:
        return body
    ingest: dict[str, Any] = {"state": stored.ingest}
    if stored.ingest_failure:
        ingest["reason"] = stored.ingest_failure
    if stored.sniffed_type:
        ingest["type"] = stored.sniffed_type
    if stored.image:
        ingest["image"] = {"width": stored.image["width"], "height": stored.image["height"]}
    if stored.thumbnail:
        ingest["thumbnail"] = stored.thumbnail
    if stored.pages:
        ingest["pages"] = {"done": len(stored.pages_stored), "total": len(stored.pages)}
    if stored.media:
        ingest["media"] = stored.media
    if stored.viewable_image:
        body["links"].update(iiif_links(base, version.version_id, stored.viewable_image, stored.thumbnail))
    elif stored.stills and stored.ingest == IngestState.DONE:
        body["links"].update(_stills_links(base, version.version_id, stored))
    checked = timestamp(stored.last_check_at) if stored.last_check_at else None
    undone = timestamp(stored.overwrite_undone_at) if stored.overwrite_undone_at else None
    return {
        **body,
        "last_check_at": checked,
        "last_check": stored.last_check,
        "overwrite_undone_at": undone,
        "ingest": ingest,
    }


def upload_json(upload: Upload, base: str) -> dict[str, Any]:
    own = object_url(base, upload.bucket_id, upload.key)
    return {
        "id": upload.id,
        "bucket_id": upload.bucket_id,
        "key": upload.key,
        "size": upload.size,
        "part_size": upload.part_size,
        "part_count": upload.part_count,
        "multipart": upload.multipart,
        "content_type": upload.content_type,
        "checksum": upload.checksum,
        "state": upload.state,
        "created": timestamp(upload.created),
        "expires": timestamp(upload.expires),
        "links": {
            "self": f"{own}?uploadId={upload.id}",
            "sign": f"{own}?uploadId={upload.id}&partNumbers=1-{upload.part_count}",
            "complete": f"{own}?uploadId={upload.id}",
            "object": own,
        },
    }


def signed_request_json(request: SignedRequest) -> dict[str, Any]:
    return {
        "part_number": request.part_number,
        "size": request.size,
        "method": request.method,
        "url": request.url,
        "headers": request.headers,
    }


def upload_progress_json(upload: Upload, parts: list[StoredPart], base: str) -> dict[str, Any]:
    return {
        **upload_json(upload, base),
        "parts": [{"part_number": part.number, "etag": part.etag, "size": part.size} for part in parts],
    }
