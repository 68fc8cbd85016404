"""Buckets: create, read, change and delete them, with their limits and byte counters."""

from __future__ import annotations

import uuid
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Annotated, Any

from pydantic import BaseModel, ConfigDict, Field, StrictBool, StrictInt
from pynamodb.exceptions import DoesNotExist, TransactWriteError, UpdateError
from pynamodb.expressions.update import Action as Update
from pynamodb.transactions import TransactWrite

from chalicelib import clock
from chalicelib.auth.policy import Action, require
from chalicelib.auth.principal import Principal
from chalicelib.dynamodb import condition_failed, refused_keys, save_once, transaction
from chalicelib.errors import Conflict, FieldError, Forbidden, NotFound, QuotaExceeded
from chalicelib.files.access import Narrowing, access_narrowed, access_widened
from chalicelib.files.models import BUCKET_SK, DELETED_BUCKETS_PK, BucketItem, bucket_pk
from chalicelib.files.planning import MAX_OBJECT_SIZE
from chalicelib.settings import get_settings

NO_SUCH_BUCKET = "No bucket with this id."


@dataclass(frozen=True)
class Bucket:
    id: str
    owner: str
    quota_size: int | None
    max_file_size: int | None
    size: int
    used: int
    locked: bool
    public_read: bool
    tags: dict[str, str]
    created: datetime
    updated: datetime
    record_id: str | None = None  # the record that owns the bucket, if one does

    @property
    def owners(self) -> frozenset[str]:
        return frozenset({self.owner})

    @property
    def file_size_limit(self) -> int:
        return min(self.max_file_size or MAX_OBJECT_SIZE, MAX_OBJECT_SIZE)


ByteCount = Annotated[StrictInt, Field(ge=1)]


class NewBucket(BaseModel):
    """A bucket to create; a limit not given (or null) is the configured default."""

    model_config = ConfigDict(extra="forbid")

    quota_size: ByteCount | None = None
    max_file_size: ByteCount | None = None
    public_read: StrictBool = False


class BucketChanges(NewBucket):
    public_read: StrictBool | None = None  # type: ignore[assignment]
    locked: StrictBool | None = None


def _from_item(item: BucketItem) -> Bucket:
    return Bucket(
        id=item.id,
        owner=item.owner,
        quota_size=int(item.quota_size) if item.quota_size is not None else None,
        max_file_size=int(item.max_file_size) if item.max_file_size is not None else None,
        size=int(item.size),
        used=int(item.used),
        locked=bool(item.locked),
        public_read=bool(item.public_read),
        tags=dict(item.tags or {}),
        created=item.created,
        updated=item.updated,
        record_id=item.record_id,
    )


LIMITS = ("quota_size", "max_file_size")


def _defaults() -> dict[str, int]:
    settings = get_settings()
    return {"quota_size": settings.default_quota_bytes, "max_file_size": settings.default_max_file_bytes}


def _limits(principal: Principal, given: dict[str, Any], current: Bucket | None = None) -> dict[str, int]:
    """The limits ``given`` asks for, null being the default, once ``principal`` may set them: above
    the default and above what the bucket has now, only an admin may."""
    defaults = _defaults()
    wanted = {name: given[name] or defaults[name] for name in LIMITS if name in given}
    if principal.is_admin:
        return wanted
    raised = [
        FieldError(name, f"only an admin may set more than the default of {defaults[name]} bytes")
        for name, value in wanted.items()
        if value > max(defaults[name], getattr(current, name, None) or 0)
    ]
    if raised:
        raise Forbidden("Only an admin may raise a limit above the configured default.", raised)
    return wanted


def create_bucket(
    principal: Principal, spec: NewBucket, record_id: str | None = None, *, limits_of: Bucket | None = None
) -> Bucket:
    """A new bucket with the limits ``spec`` asks for, or the very limits of ``limits_of`` (the
    bucket a snapshot copies, whose limits an admin may have raised)."""
    require(principal, Action.BUCKET_CREATE, None)
    assert principal.sub is not None  # bucket-create needs a signed-in principal
    limits: Mapping[str, int | None]
    if limits_of is None:
        limits = _limits(principal, spec.model_dump(include=set(LIMITS)))
    else:
        limits = {"quota_size": limits_of.quota_size, "max_file_size": limits_of.max_file_size}
    now = clock.now()
    bucket_id = str(uuid.uuid4())
    item = BucketItem(
        pk=bucket_pk(bucket_id),
        sk=BUCKET_SK,
        id=bucket_id,
        owner=principal.sub,
        quota_size=limits["quota_size"],
        max_file_size=limits["max_file_size"],
        public_read=spec.public_read,
        record_id=record_id,
        created=now,
        updated=now,
    )
    if not save_once(item, BucketItem.pk.does_not_exist()):
        raise Conflict("A bucket with this id was just created; try again.")  # a fresh UUID: never
    return _from_item(item)


def load_bucket(bucket_id: str) -> Bucket | None:
    try:
        item = BucketItem.get(bucket_pk(bucket_id), BUCKET_SK, consistent_read=True)
    except DoesNotExist:
        return None
    return None if item.deleted else _from_item(item)


def get_bucket(principal: Principal, bucket_id: str, action: Action = Action.BUCKET_READ) -> Bucket:
    """The bucket, if it exists and ``principal`` may do ``action`` on it."""
    bucket = load_bucket(bucket_id)
    if bucket is None:
        raise NotFound(NO_SUCH_BUCKET)
    try:
        require(principal, action, bucket)
    except NotFound:
        # The very answer a missing bucket gets, so a hidden one cannot be told from it.
        raise NotFound(NO_SUCH_BUCKET) from None
    return bucket


def require_writable(bucket: Bucket) -> None:
    if bucket.locked:
        raise Forbidden("The bucket is locked: its files cannot change.")


def writable_bucket(principal: Principal, bucket_id: str, action: Action = Action.BUCKET_UPDATE) -> Bucket:
    """The bucket, if ``principal`` may do ``action`` on it and it is not locked (its files may change)."""
    bucket = get_bucket(principal, bucket_id, action)
    require_writable(bucket)
    return bucket


def update_bucket(principal: Principal, bucket_id: str, changes: BucketChanges) -> Bucket:
    bucket = get_bucket(principal, bucket_id, Action.BUCKET_UPDATE)
    if bucket.locked and not principal.is_admin:
        raise Forbidden("The bucket is locked: only an admin can change or unlock it.")
    given = changes.model_dump(exclude_unset=True)
    given.update(_limits(principal, given, bucket))
    actions: list[Any] = [BucketItem.updated.set(clock.now())]
    condition = BucketItem.deleted == False  # noqa: E712 (a pynamodb condition, not a comparison)
    for name, value in given.items():
        attribute = getattr(BucketItem, name)
        actions.append(attribute.remove() if value is None else attribute.set(value))
    if given.get("quota_size") is not None:
        # Not below what is stored and reserved: checked in the same write, so no upload slips in between.
        condition &= BucketItem.used <= given["quota_size"]
    item = BucketItem(pk=bucket_pk(bucket_id), sk=BUCKET_SK)
    try:
        item.update(actions=actions, condition=condition)
    except UpdateError as exc:
        if condition_failed(exc):
            raise Conflict(
                "The quota cannot be lower than the bytes the bucket holds and reserves."
            ) from None
        raise
    if bucket.public_read and given.get("public_read") is False:
        access_narrowed(Narrowing(bucket_id, was_public=True))
    if not bucket.public_read and given.get("public_read") is True:
        access_widened(bucket_id)
    return _from_item(item)


def delete_bucket(principal: Principal, bucket_id: str) -> None:
    """Soft delete: the bucket disappears; its data goes when nothing else (a snapshot) shares it."""
    bucket = get_bucket(principal, bucket_id, Action.BUCKET_UPDATE)
    if bucket.locked:
        raise Forbidden("The bucket is locked: it cannot be deleted.")
    item = BucketItem(pk=bucket_pk(bucket_id), sk=BUCKET_SK)
    now = clock.now()
    try:
        item.update(
            actions=[
                BucketItem.deleted.set(True),
                BucketItem.updated.set(now),
                BucketItem.gsi2pk.set(DELETED_BUCKETS_PK),
                BucketItem.gsi2sk.set(f"{now.isoformat()}#{bucket_id}"),
            ],
            condition=BucketItem.locked == False,  # noqa: E712
        )
    except UpdateError as exc:
        if condition_failed(exc):  # locked since we read it
            raise Forbidden("The bucket is locked: it cannot be deleted.") from None
        raise
    access_narrowed(Narrowing(bucket_id, was_public=bucket.public_read))


def reserving(
    bucket: Bucket,
    nbytes: int,
    writes_of: Callable[[TransactWrite], None],
    also: Sequence[Update] = (),
) -> None:
    """One transaction: ``nbytes`` counted against the bucket's quota (and ``also`` done to the
    bucket item), with the writes ``writes_of`` adds, or none of it.

    Two uploads racing for the last bytes of a quota cannot both win, and a reservation is never
    counted apart from what it is for (an upload, a renamed version): a retry cannot count it
    twice, a crash cannot leave it alone.
    Raises ``TransactWriteError`` when one of the other writes is refused.
    """
    key = (bucket_pk(bucket.id), BUCKET_SK)
    while True:
        writes = transaction()
        try:
            with writes:
                if nbytes or also:
                    writes.update(
                        BucketItem(pk=key[0], sk=key[1]),
                        actions=[BucketItem.used.add(nbytes), *also],
                        condition=_room_for(bucket, nbytes),
                    )
                writes_of(writes)
            return
        except TransactWriteError as exc:
            if not (nbytes or also) or key not in refused_keys(exc, writes):
                raise
            bucket = _without_room(bucket, nbytes)  # the quota changed meanwhile: decide on the new one


def _room_for(bucket: Bucket, nbytes: int) -> Any:
    condition = (BucketItem.deleted == False) & (BucketItem.locked == False)  # noqa: E712
    if bucket.quota_size is None:
        return condition & BucketItem.quota_size.does_not_exist()
    # The quota we checked against must still be the quota.
    return (
        condition
        & (BucketItem.quota_size == bucket.quota_size)
        & (BucketItem.used <= bucket.quota_size - nbytes)
    )


def _without_room(bucket: Bucket, nbytes: int) -> Bucket:
    """Why a reservation was refused: raised, or the bucket as it is now if its quota changed."""
    current = load_bucket(bucket.id)
    if current is None:
        raise NotFound(NO_SUCH_BUCKET)
    require_writable(current)
    if current.quota_size != bucket.quota_size:
        return current
    raise QuotaExceeded(max((current.quota_size or 0) - current.used, 0))


def release_with(writes: TransactWrite, bucket_id: str, nbytes: int) -> None:
    """Within ``writes``: give back bytes reserved for something that ends in the same transaction."""
    writes.update(BucketItem(pk=bucket_pk(bucket_id), sk=BUCKET_SK), actions=[BucketItem.used.add(-nbytes)])


def set_bucket_tags(principal: Principal, bucket_id: str, tags: dict[str, str]) -> Bucket:
    bucket = writable_bucket(principal, bucket_id)
    item = BucketItem(pk=bucket_pk(bucket.id), sk=BUCKET_SK)
    item.update(actions=[BucketItem.tags.set(tags), BucketItem.updated.set(clock.now())])
    return _from_item(item)


def lock_with(writes: TransactWrite, bucket_id: str, *, public_read: bool) -> None:
    """Lock the bucket within ``writes``: its files change no more, and anyone may read them or not.

    A record publishes in one transaction with this, so its bucket is locked exactly when it is
    published.
    """
    writes.update(
        BucketItem(pk=bucket_pk(bucket_id), sk=BUCKET_SK),
        actions=[BucketItem.locked.set(True), BucketItem.public_read.set(public_read)],
    )


def withdraw(bucket_id: str) -> None:
    """Nobody but the bucket's owners and admins may read its files any more."""
    was_public = True
    try:
        BucketItem(pk=bucket_pk(bucket_id), sk=BUCKET_SK).update(
            actions=[BucketItem.public_read.set(False)],
            condition=BucketItem.public_read == True,  # noqa: E712
        )
    except UpdateError as exc:
        if not condition_failed(exc):
            raise
        was_public = False  # a restricted record's bucket: nobody else could read it anyway
    access_narrowed(Narrowing(bucket_id, was_public=was_public))
