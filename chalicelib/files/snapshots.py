"""Bucket snapshots: a new bucket holding the same head files, sharing their stored bytes.

As Invenio's ``Bucket.snapshot``: only metadata is copied. Each copied version names the same
stored file, whose reference count grows, so no byte is copied and deleting or replacing a file
in one bucket never touches the other's.
"""

from __future__ import annotations

from dataclasses import replace

from chalicelib import clock
from chalicelib.auth.policy import Action
from chalicelib.auth.principal import Principal
from chalicelib.dynamodb import transaction
from chalicelib.files.buckets import Bucket, NewBucket, create_bucket, get_bucket
from chalicelib.files.models import (
    BUCKET_SK,
    FILE_SK,
    HEAD_PREFIX,
    BucketItem,
    FileItem,
    ObjectVersionItem,
    bucket_pk,
    file_pk,
    new_version_id,
)
from chalicelib.files.objects import from_item, version_item

# A DynamoDB transaction holds at most 100 writes; each copied file takes three.
FILES_PER_TRANSACTION = 33


def snapshot_bucket(principal: Principal, source_id: str, record_id: str | None = None) -> Bucket:
    """A new bucket, owned by ``principal`` (and by ``record_id``), holding the source's head files
    (same bytes)."""
    source = get_bucket(principal, source_id, Action.BUCKET_READ)
    target = create_bucket(principal, NewBucket(), record_id, limits_of=source)
    heads = [
        from_item(item, is_head=True)
        for item in ObjectVersionItem.query(
            bucket_pk(source.id), ObjectVersionItem.sk.startswith(HEAD_PREFIX)
        )
        if not item.delete_marker
    ]
    now = clock.now()
    for start in range(0, len(heads), FILES_PER_TRANSACTION):
        batch = heads[start : start + FILES_PER_TRANSACTION]
        # Each batch counts its bytes with its versions: the bucket's size never disagrees with them.
        with transaction() as writes:
            for head in batch:
                copy = replace(head, bucket_id=target.id, version_id=new_version_id(), created=now)
                writes.save(
                    version_item(copy, as_head=False), condition=ObjectVersionItem.pk.does_not_exist()
                )
                writes.save(version_item(copy, as_head=True), condition=ObjectVersionItem.pk.does_not_exist())
                assert head.file_id is not None  # delete markers are not copied
                writes.update(
                    FileItem(pk=file_pk(head.file_id), sk=FILE_SK),
                    actions=[FileItem.refs.add(1)],
                    condition=FileItem.pk.exists(),
                )
            total = sum(head.size for head in batch)
            writes.update(
                BucketItem(pk=bucket_pk(target.id), sk=BUCKET_SK),
                actions=[BucketItem.size.add(total), BucketItem.used.add(total)],
            )
    return get_bucket(principal, target.id)
