"""Object versions: reading the head of a key, a given version, and a bucket's listings."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, replace
from datetime import datetime

from pynamodb.exceptions import DoesNotExist, TransactWriteError
from pynamodb.transactions import TransactWrite

from chalicelib import clock
from chalicelib.auth.policy import Action
from chalicelib.auth.principal import Principal
from chalicelib.cursors import decode_cursor, encode_cursor
from chalicelib.dynamodb import transaction
from chalicelib.errors import Conflict, NotFound, invalid_field
from chalicelib.files import storage
from chalicelib.files.access import Narrowing, access_narrowed
from chalicelib.files.buckets import Bucket, get_bucket, reserving, writable_bucket
from chalicelib.files.downloads import response_headers
from chalicelib.files.keys import validate_key
from chalicelib.files.models import (
    BUCKET_SK,
    FILE_SK,
    HEAD_PREFIX,
    VERSION_PREFIX,
    BucketItem,
    FileItem,
    ObjectVersionItem,
    bucket_pk,
    file_pk,
    head_sk,
    new_version_id,
    version_gsi1pk,
    version_sk,
)
from chalicelib.files.stored import StoredFile, stored_file, stored_files
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
        gsi1pk=None if as_head else version_gsi1pk(version.version_id),
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
    return _with_file_checksums([from_item(item, is_head=True)])[0]


def get_version(bucket_id: str, key: str, version_id: str) -> ObjectVersion:
    try:
        item = ObjectVersionItem.get(bucket_pk(bucket_id), version_sk(key, version_id), consistent_read=True)
    except ObjectVersionItem.DoesNotExist:
        raise NotFound("No such version of this object.") from None
    return _with_head_flag(item, consistent=True)


def find_version(version_id: str) -> ObjectVersion | None:
    """The version with this id, in whichever bucket it is (ids are unique), or None."""
    if not version_id:
        return None
    found = next(iter(ObjectVersionItem.by_version_id.query(version_gsi1pk(version_id), limit=1)), None)
    return _with_head_flag(found, consistent=False) if found else None


def _with_head_flag(item: ObjectVersionItem, *, consistent: bool) -> ObjectVersion:
    try:
        head = ObjectVersionItem.get(bucket_pk(item.bucket_id), head_sk(item.key), consistent_read=consistent)
        is_head = head.version_id == item.version_id
    except DoesNotExist:
        is_head = False
    return _with_file_checksums([from_item(item, is_head=is_head)])[0]


def _with_file_checksums(versions: list[ObjectVersion]) -> list[ObjectVersion]:
    """A version's checksum is its file's. Ingest fills it in on the version that recorded the
    file; a version copied from that one before (a record's new version) has none of its own, so
    it is read from the file, in one batch read for those that lack it."""
    lacking = [version.file_id for version in versions if version.checksum is None and version.file_id]
    if not lacking:
        return versions
    files = stored_files(lacking)
    return [
        replace(version, checksum=files[version.file_id].checksum)
        if version.checksum is None and version.file_id in files
        else version
        for version in versions
    ]


def has_objects(bucket_id: str) -> bool:
    """Whether the bucket holds at least one current object."""
    heads = ObjectVersionItem.query(
        bucket_pk(bucket_id), ObjectVersionItem.sk.startswith(HEAD_PREFIX), limit=1
    )
    return any(True for _ in heads)


def current_version_ids(bucket_id: str, limit: int) -> list[str]:
    """Up to ``limit`` of the ids of the bucket's current versions."""
    heads = ObjectVersionItem.query(
        bucket_pk(bucket_id), ObjectVersionItem.sk.startswith(HEAD_PREFIX), limit=limit
    )
    return [item.version_id for item in heads]


def current_versions(bucket_id: str) -> list[ObjectVersion]:
    """Every current version in the bucket, whoever asks: for what must list files the caller may
    not read, without showing them (a IIIF manifest's restricted images)."""
    heads = ObjectVersionItem.query(bucket_pk(bucket_id), ObjectVersionItem.sk.startswith(HEAD_PREFIX))
    return [from_item(item, is_head=True) for item in heads]


def read_object(principal: Principal, bucket_id: str, key: str, version_id: str | None) -> ObjectVersion:
    """The head of ``key`` or one of its versions, if ``principal`` may read it."""
    action = Action.OBJECT_READ_VERSION if version_id else Action.OBJECT_READ
    bucket = get_bucket(principal, bucket_id, action)
    key = validate_key(key)
    return get_version(bucket.id, key, version_id) if version_id else head_version(bucket.id, key)


def describe_object(
    principal: Principal, bucket_id: str, key: str, version_id: str | None
) -> tuple[ObjectVersion, StoredFile | None]:
    """An object (its head, or one version) with what ingest and integrity checks know of its bytes."""
    version = read_object(principal, bucket_id, key, version_id)
    return version, stored_file(version.file_id) if version.file_id else None


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


@dataclass(frozen=True)
class Page:
    bucket: Bucket
    versions: list[ObjectVersion]
    cursor: str | None  # where the next page starts; None on the last page


def list_objects(
    principal: Principal, bucket_id: str, *, prefix: str, versions: bool, limit: int, cursor: str | None
) -> Page:
    """Head objects by key (or, with ``versions``, every version, oldest first within a key)."""
    bucket = get_bucket(principal, bucket_id, Action.BUCKET_READ_VERSIONS if versions else Action.BUCKET_READ)
    if prefix:
        validate_key(prefix, "prefix")
    marker = VERSION_PREFIX if versions else HEAD_PREFIX
    results = ObjectVersionItem.query(
        bucket_pk(bucket.id),
        ObjectVersionItem.sk.startswith(marker + prefix),
        limit=limit,
        last_evaluated_key=decode_cursor(cursor, ("pk", bucket_pk(bucket.id))),
        consistent_read=True,
    )
    items = list(results)
    if versions:
        heads = _head_version_ids(bucket.id, {item.key for item in items})
        listed = [from_item(item, is_head=heads.get(item.key) == item.version_id) for item in items]
    else:
        listed = [from_item(item, is_head=True) for item in items]
    return Page(bucket, _with_file_checksums(listed), encode_cursor(results.last_evaluated_key))


def _head_version_ids(bucket_id: str, keys: set[str]) -> dict[str, str]:
    if not keys:
        return {}
    heads = ObjectVersionItem.batch_get([(bucket_pk(bucket_id), head_sk(key)) for key in keys])
    return {item.key: item.version_id for item in heads}


def delete_object(principal: Principal, bucket_id: str, key: str) -> ObjectVersion:
    """A delete marker becomes the key's newest version; the older versions and their bytes stay."""
    bucket = writable_bucket(principal, bucket_id, Action.OBJECT_DELETE)
    head = head_version(bucket.id, validate_key(key))
    marker = ObjectVersion(
        bucket_id=bucket.id,
        key=head.key,
        version_id=new_version_id(),
        file_id=None,
        size=0,
        mimetype=None,
        checksum=None,
        delete_marker=True,
        tags={},
        created=clock.now(),
        is_head=True,
    )
    try:
        with transaction() as writes:
            writes.save(version_item(marker, as_head=False), condition=ObjectVersionItem.pk.does_not_exist())
            writes.delete(
                ObjectVersionItem(pk=bucket_pk(bucket.id), sk=head_sk(head.key)),
                condition=ObjectVersionItem.version_id == head.version_id,
            )
    except TransactWriteError:
        raise Conflict("The object changed while it was being deleted; try again.") from None
    # The version is no longer the head its identifier was read as.
    access_narrowed(Narrowing(bucket.id, was_public=bucket.public_read, version_ids=(head.version_id,)))
    return marker


def delete_version(principal: Principal, bucket_id: str, key: str, version_id: str) -> None:
    """Remove one version for good; its bytes go once no version (here or in a snapshot) names them."""
    bucket = writable_bucket(principal, bucket_id, Action.OBJECT_DELETE_VERSION)
    version = get_version(bucket.id, validate_key(key), version_id)
    older = [
        item
        for item in ObjectVersionItem.query(
            bucket_pk(bucket.id),
            ObjectVersionItem.sk.startswith(version_sk(version.key, "")),
            scan_index_forward=False,
            consistent_read=True,
        )
        if item.version_id != version.version_id
    ]
    with transaction() as writes:
        writes.delete(
            ObjectVersionItem(pk=bucket_pk(bucket.id), sk=version_sk(version.key, version.version_id)),
            condition=ObjectVersionItem.pk.exists(),
        )
        if version.is_head:
            # The next newest version takes over, unless it is a delete marker (or there is none).
            successor = older[0] if older and older[0].version_id < version.version_id else None
            head_key = ObjectVersionItem(pk=bucket_pk(bucket.id), sk=head_sk(version.key))
            if successor is None or successor.delete_marker:
                writes.delete(head_key, condition=ObjectVersionItem.version_id == version.version_id)
            else:
                writes.save(
                    version_item(from_item(successor, is_head=True), as_head=True),
                    condition=ObjectVersionItem.version_id == version.version_id,
                )
        if version.file_id is not None:
            writes.update(
                BucketItem(pk=bucket_pk(bucket.id), sk=BUCKET_SK),
                actions=[BucketItem.size.add(-version.size), BucketItem.used.add(-version.size)],
            )
            writes.update(FileItem(pk=file_pk(version.file_id), sk=FILE_SK), actions=[FileItem.refs.add(-1)])
    access_narrowed(Narrowing(bucket.id, was_public=bucket.public_read, version_ids=(version.version_id,)))
    if version.file_id is not None:
        release_file(version.file_id)


def release_file(file_id: str) -> None:
    """Delete a file's bytes and record once no version names it any more."""
    try:
        stored = FileItem.get(file_pk(file_id), FILE_SK, consistent_read=True)
    except FileItem.DoesNotExist:
        return
    if stored.refs > 0:
        return
    storage.delete(stored.s3_key)
    storage.delete_derivatives(file_id)
    stored.delete(condition=FileItem.refs <= 0)


def set_tags(
    principal: Principal, bucket_id: str, key: str, version_id: str | None, tags: dict[str, str]
) -> ObjectVersion:
    """Replace the tags of the head version (or of ``version_id``)."""
    bucket = writable_bucket(principal, bucket_id)
    key = validate_key(key)
    version = get_version(bucket.id, key, version_id) if version_id else head_version(bucket.id, key)
    with transaction() as writes:
        writes.update(
            ObjectVersionItem(pk=bucket_pk(bucket.id), sk=version_sk(key, version.version_id)),
            actions=[ObjectVersionItem.tags.set(tags)],
            condition=ObjectVersionItem.pk.exists(),
        )
        if version.is_head:
            writes.update(
                ObjectVersionItem(pk=bucket_pk(bucket.id), sk=head_sk(key)),
                actions=[ObjectVersionItem.tags.set(tags)],
                condition=ObjectVersionItem.version_id == version.version_id,
            )
    return replace(version, tags=tags)


def rename_object(principal: Principal, bucket_id: str, key: str, new_key: str) -> ObjectVersion:
    """Give a file a new key: a new version at ``new_key`` naming the same stored bytes (none are
    copied), and a delete marker at the old key, whose versions stay."""
    bucket = writable_bucket(principal, bucket_id)
    key, new_key = validate_key(key), validate_key(new_key, "to")
    if key == new_key:
        raise invalid_field("to", "is the key the file already has")
    head = head_version(bucket.id, key)
    assert head.file_id is not None  # head_version never answers a delete marker
    now = clock.now()
    moved = replace(head, key=new_key, version_id=new_version_id(), created=now, is_head=True)
    marker = replace(
        head,
        file_id=None,
        size=0,
        checksum=None,
        mimetype=None,
        delete_marker=True,
        tags={},
        version_id=new_version_id(),
        created=now,
    )

    def leave_old_key(writes: TransactWrite) -> None:
        writes.save(version_item(marker, as_head=False), condition=ObjectVersionItem.pk.does_not_exist())
        writes.delete(
            ObjectVersionItem(pk=bucket_pk(bucket.id), sk=head_sk(key)),
            condition=ObjectVersionItem.version_id == head.version_id,
        )

    try:
        _add_sharing_version(bucket, moved, leave_old_key)
    except TransactWriteError:
        raise Conflict("The file changed while it was being renamed; try again.") from None
    return moved


def restore_version(principal: Principal, bucket_id: str, key: str, version_id: str) -> ObjectVersion:
    """Make an older version the current one again, as Invenio's ``ObjectVersion.restore``: a new
    head version naming its stored bytes (none are copied); the versions after it stay."""
    bucket = writable_bucket(principal, bucket_id)
    key = validate_key(key)
    old = get_version(bucket.id, key, version_id)
    if old.delete_marker:
        raise invalid_field("versionId", "is a delete marker, which has no bytes to restore")
    if old.is_head:
        raise invalid_field("versionId", "is already the current version")
    restored = replace(old, version_id=new_version_id(), created=clock.now(), is_head=True)
    try:
        _add_sharing_version(bucket, restored)
    except TransactWriteError:
        raise Conflict("The file changed while it was being restored; try again.") from None
    return restored


def _add_sharing_version(
    bucket: Bucket, version: ObjectVersion, also: Callable[[TransactWrite], None] | None = None
) -> None:
    """Record ``version``, its key's new head, naming bytes another version already names, in one
    transaction with what ``also`` writes. It counts against the quota, shared bytes or not.
    Raises ``TransactWriteError`` if the bytes are gone or a newer version took the head."""
    file_id = version.file_id
    assert file_id is not None

    def writes_of(writes: TransactWrite) -> None:
        writes.save(version_item(version, as_head=False), condition=ObjectVersionItem.pk.does_not_exist())
        writes.save(
            version_item(version, as_head=True),
            condition=ObjectVersionItem.pk.does_not_exist()
            | (ObjectVersionItem.version_id < version.version_id),
        )
        writes.update(
            FileItem(pk=file_pk(file_id), sk=FILE_SK),
            actions=[FileItem.refs.add(1)],
            condition=FileItem.pk.exists(),
        )
        if also is not None:
            also(writes)

    reserving(bucket, version.size, writes_of, also=[BucketItem.size.add(version.size)])
