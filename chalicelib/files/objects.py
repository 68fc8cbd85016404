"""Object versions: reading the head of a key, a given version, and a bucket's listings."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from chalicelib.auth.policy import Action
from chalicelib.auth.principal import Principal
from chalicelib.errors import NotFound
from chalicelib.files import storage
from chalicelib.files.buckets import get_bucket
from chalicelib.files.downloads import response_headers
from chalicelib.files.keys import validate_key
from chalicelib.files.models import ObjectVersionItem, bucket_pk, head_sk, version_sk
from chalicelib.settings import get_settings


@dataclass(frozen=True)
class ObjectVersion:
    bucket_id: str
    key: str
    version_id: str
    file_id: str | None
    size: int
    mimetype: str | None
    checksum: str | None
    delete_marker: bool
    tags: dict[str, str]
    created: datetime
    is_head: bool


def from_item(item: ObjectVersionItem, *, is_head: bool) -> ObjectVersion:
    return ObjectVersion(
        bucket_id=item.bucket_id,
        key=item.key,
        version_id=item.version_id,
        file_id=item.file_id,
        size=int(item.size),
        mimetype=item.mimetype,
        checksum=item.checksum,
        delete_marker=bool(item.delete_marker),
        tags=dict(item.tags or {}),
        created=item.created,
        is_head=is_head,
    )


def version_item(version: ObjectVersion, *, as_head: bool) -> ObjectVersionItem:
    """The item that stores ``version`` (or, ``as_head``, the copy that marks it the key's head)."""
    return ObjectVersionItem(
        pk=bucket_pk(version.bucket_id),
        sk=head_sk(version.key) if as_head else version_sk(version.key, version.version_id),
        bucket_id=version.bucket_id,
        key=version.key,
        version_id=version.version_id,
        file_id=version.file_id,
        size=version.size,
        mimetype=version.mimetype,
        checksum=version.checksum,
        delete_marker=version.delete_marker,
        tags=version.tags,
        created=version.created,
        # Only the version item is found by its id; the head copy is not a second version.
        gsi1pk=None if as_head else f"VER#{version.version_id}",
        gsi1sk=None if as_head else "VERSION",
    )


def head_version(bucket_id: str, key: str) -> ObjectVersion:
    """The key's current version; NotFound if the key has none or its head is a delete marker."""
    try:
        item = ObjectVersionItem.get(bucket_pk(bucket_id), head_sk(key), consistent_read=True)
    except ObjectVersionItem.DoesNotExist:
        raise NotFound("No object with this key.") from None
    if item.delete_marker:
        raise NotFound("No object with this key.")
    return from_item(item, is_head=True)


def get_version(bucket_id: str, key: str, version_id: str) -> ObjectVersion:
    try:
        item = ObjectVersionItem.get(bucket_pk(bucket_id), version_sk(key, version_id), consistent_read=True)
    except ObjectVersionItem.DoesNotExist:
        raise NotFound("No such version of this object.") from None
    try:
        head = ObjectVersionItem.get(bucket_pk(bucket_id), head_sk(key), consistent_read=True)
        is_head = head.version_id == item.version_id
    except ObjectVersionItem.DoesNotExist:
        is_head = False
    return from_item(item, is_head=is_head)


def read_object(principal: Principal, bucket_id: str, key: str, version_id: str | None) -> ObjectVersion:
    """The head of ``key`` or one of its versions, if ``principal`` may read it."""
    action = Action.OBJECT_READ_VERSION if version_id else Action.OBJECT_READ
    bucket = get_bucket(principal, bucket_id, action)
    key = validate_key(key)
    return get_version(bucket.id, key, version_id) if version_id else head_version(bucket.id, key)


def download_url(
    principal: Principal, bucket_id: str, key: str, version_id: str | None, *, download: bool
) -> str:
    """A short-lived presigned GET for the object's bytes (ranges work: S3 serves them)."""
    version = read_object(principal, bucket_id, key, version_id)
    if version.delete_marker or version.file_id is None:
        raise NotFound("This version is a delete marker: it has no content.")
    settings = get_settings()
    return storage.presigner().presign_get_object(
        settings.data_bucket,
        storage.s3_key(version.file_id),
        expires_in=settings.presign_expiry_seconds,
        response_headers=response_headers(version.key, version.mimetype, download=download),
    )
