"""What a principal may do: Invenio's file actions, decided by one function.

The rules, in order: admins may do everything; any signed-in principal may create a bucket;
owners may do everything to what they own; anyone may read what is public, but only the
actions in ``PUBLIC_READ_ACTIONS`` (as in Invenio, listing versions and multipart uploads
stays with the owners). Everything else is denied.
"""

from __future__ import annotations

from enum import StrEnum
from typing import Final, Protocol, Self

from chalicelib.auth.principal import Principal
from chalicelib.errors import Forbidden, NotFound, Unauthorized


class Action(StrEnum):
    """Invenio's action names; each member also carries the phrase that completes "Sign in to ..."."""

    phrase: str

    def __new__(cls, name: str, phrase: str) -> Self:
        member = str.__new__(cls, name)
        member._value_ = name
        member.phrase = phrase
        return member

    BUCKET_CREATE = "bucket-create", "create a bucket"
    BUCKET_READ = "bucket-read", "read this bucket"
    BUCKET_READ_VERSIONS = "bucket-read-versions", "list the versions in this bucket"
    BUCKET_UPDATE = "bucket-update", "change this bucket"
    BUCKET_LISTMULTIPARTS = "bucket-listmultiparts", "list the uploads in progress in this bucket"
    OBJECT_READ = "object-read", "read this file"
    OBJECT_READ_VERSION = "object-read-version", "read this version of the file"
    OBJECT_DELETE = "object-delete", "delete this file"
    OBJECT_DELETE_VERSION = "object-delete-version", "delete this version of the file"
    MULTIPART_READ = "multipart-read", "read this upload"
    MULTIPART_DELETE = "multipart-delete", "abort this upload"
    RECORD_CREATE = "record-create", "create a record"
    RECORD_READ = "record-read", "read this record"
    RECORD_UPDATE = "record-update", "change this record"
    RECORD_DELETE = "record-delete", "delete this record"


PUBLIC_READ_ACTIONS: Final = frozenset({Action.BUCKET_READ, Action.OBJECT_READ, Action.RECORD_READ})
# Actions that need only a signed-in principal: what they create, the principal owns.
CREATE_ACTIONS: Final = frozenset({Action.BUCKET_CREATE, Action.RECORD_CREATE})


class Protected(Protocol):
    """Anything permissions are decided on: a bucket, an object, an upload, later a record."""

    @property
    def owners(self) -> frozenset[str]: ...

    @property
    def public_read(self) -> bool: ...


def can(principal: Principal, action: Action, resource: Protected | None) -> bool:
    if principal.is_admin:
        return True
    if action in CREATE_ACTIONS:
        return not principal.anonymous
    if resource is None:
        return False
    if principal.sub is not None and principal.sub in resource.owners:
        return True
    return resource.public_read and action in PUBLIC_READ_ACTIONS


def require(principal: Principal, action: Action, resource: Protected | None) -> None:
    """Return if ``can`` allows the action, else raise the error the client should see."""
    if can(principal, action, resource):
        return
    if resource is not None and not _may_see(principal, resource):
        # As Invenio: a caller who may not read a resource is not told that it exists.
        raise NotFound()
    if principal.anonymous:
        raise Unauthorized(f"Sign in to {action.phrase}.")
    raise Forbidden(f"You may not {action.phrase}.")


def _may_see(principal: Principal, resource: Protected) -> bool:
    return any(can(principal, read, resource) for read in PUBLIC_READ_ACTIONS)
