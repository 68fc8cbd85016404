"""Reading S3 ``ObjectCreated`` notifications, and Vellum's own notices, out of SQS messages."""

from __future__ import annotations

import json
from dataclasses import dataclass
from typing import Any
from urllib.parse import unquote_plus

from aws_lambda_powertools.utilities.data_classes import S3Event

from chalicelib.files.models import VERSION_ID
from chalicelib.files.notices import FILE_RECORDED, PAGES_DUE, PUBLIC_ACCESS_NARROWED


class MalformedEvent(ValueError):
    """The message is not an S3 notification; retrying cannot fix it, so it ends in the DLQ."""


@dataclass(frozen=True)
class LandedObject:
    bucket: str
    key: str
    size: int
    etag: str
    event_name: str


@dataclass(frozen=True)
class RecordedFile:
    file_id: str


@dataclass(frozen=True)
class PublicAccessNarrowed:
    bucket_id: str
    version_ids: tuple[str, ...] | None  # None: every current version of the bucket


@dataclass(frozen=True)
class PagesDue:
    file_id: str
    first: int  # pages from 1
    last: int


IngestRequest = LandedObject | RecordedFile | PublicAccessNarrowed | PagesDue
MAX_BATCH_PAGES = 500


def ingest_requests(message_body: str) -> list[IngestRequest]:
    """What a message on the ingest queue asks for: objects S3 announces, a file Vellum recorded,
    pages of one to make, or files that are no longer public."""
    payload = _json_object(message_body)
    if payload.get("type") == FILE_RECORDED:
        if not _is_id(payload.get("file_id")):
            raise MalformedEvent("a file-recorded notice without a file id")
        return [RecordedFile(payload["file_id"])]
    if payload.get("type") == PAGES_DUE:
        first: Any = payload.get("first")
        last: Any = payload.get("last")
        if not (_is_id(payload.get("file_id")) and _is_page(first) and _is_page(last)):
            raise MalformedEvent("a pages-due notice without a file id or pages")
        if not first <= last < first + MAX_BATCH_PAGES:
            raise MalformedEvent("a pages-due notice with pages out of order or too many")
        return [PagesDue(payload["file_id"], first, last)]
    if payload.get("type") == PUBLIC_ACCESS_NARROWED:
        version_ids = payload.get("version_ids")
        if not _is_id(payload.get("bucket_id")) or not (
            version_ids is None
            or (isinstance(version_ids, list) and all(_is_version_id(v) for v in version_ids))
        ):
            raise MalformedEvent("a narrowed-access notice without a bucket id or with bad version ids")
        return [
            PublicAccessNarrowed(payload["bucket_id"], None if version_ids is None else tuple(version_ids))
        ]
    return list(landed_objects(message_body))


def _is_id(value: Any) -> bool:
    return isinstance(value, str) and bool(value)


def _is_page(value: Any) -> bool:
    return isinstance(value, int) and not isinstance(value, bool) and value >= 1


def _is_version_id(value: Any) -> bool:
    # They become CDN paths: nothing but what Vellum makes.
    return isinstance(value, str) and VERSION_ID.fullmatch(value) is not None


def _json_object(message_body: str) -> dict[str, Any]:
    try:
        payload = json.loads(message_body)
    except json.JSONDecodeError as exc:
        raise MalformedEvent("message body is not JSON") from exc
    if not isinstance(payload, dict):
        raise MalformedEvent("message body is not a JSON object")
    return payload


def landed_objects(message_body: str) -> list[LandedObject]:
    """The objects an S3 notification announces; none for S3's ``s3:TestEvent``."""
    payload = _json_object(message_body)
    # S3 sends this once when a notification configuration is saved.
    if payload.get("Event") == "s3:TestEvent":
        return []
    if not isinstance(payload.get("Records"), list):
        raise MalformedEvent("message has no S3 records")
    try:
        return [
            LandedObject(
                bucket=record.s3.bucket.name,
                # Keys arrive form-encoded: "+" is a space, "%2B" a plus.
                key=unquote_plus(record.s3.get_object.key),
                size=record.s3.get_object.size,
                etag=record.s3.get_object.etag,
                event_name=record.event_name,
            )
            for record in S3Event(payload).records
            if record.event_name.startswith("ObjectCreated:")
        ]
    except (KeyError, TypeError, ValueError) as exc:
        raise MalformedEvent(f"S3 record is incomplete: {exc}") from exc
