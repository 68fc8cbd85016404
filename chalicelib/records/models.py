"""The records domain's items in the records table (generic pk/sk keys, see chalicelib.resources).

    R#{record}   #RECORD   a record: metadata, access, state, revision and its bucket
    P#{parent}   V#{index}  the records of one version chain, by index (the parent is the first)

gsi1 lists an owner's records newest first (OWNER#{owner} / {created}#{id}); gsi2 lists the
public ones newest first (PUBLIC / {created}#{id}), so no listing ever scans the table.
"""

from __future__ import annotations

from enum import StrEnum

from pynamodb.attributes import JSONAttribute, NumberAttribute, UnicodeAttribute, UTCDateTimeAttribute
from pynamodb.indexes import AllProjection, GlobalSecondaryIndex

from chalicelib.dynamodb import TableModel
from chalicelib.settings import get_settings

RECORD_SK = "#RECORD"
PUBLIC_PK = "PUBLIC"


class RecordState(StrEnum):
    """draft -> published; an admin tombstones a published record."""

    DRAFT = "draft"
    PUBLISHED = "published"
    TOMBSTONED = "tombstoned"


def record_pk(record_id: str) -> str:
    return f"R#{record_id}"


def owner_pk(owner: str) -> str:
    return f"OWNER#{owner}"


class ByOwner(GlobalSecondaryIndex["RecordItem"]):  # type: ignore[no-untyped-call]
    class Meta:
        index_name = "gsi1"
        projection = AllProjection()

    gsi1pk = UnicodeAttribute(hash_key=True)
    gsi1sk = UnicodeAttribute(range_key=True)


class Public(GlobalSecondaryIndex["RecordItem"]):  # type: ignore[no-untyped-call]
    class Meta:
        index_name = "gsi2"
        projection = AllProjection()

    gsi2pk = UnicodeAttribute(hash_key=True)
    gsi2sk = UnicodeAttribute(range_key=True)


class _RecordsTable(TableModel):
    class Meta:
        table_name = get_settings().records_table
        region = get_settings().region

    pk = UnicodeAttribute(hash_key=True)
    sk = UnicodeAttribute(range_key=True)


class RecordItem(_RecordsTable):
    id = UnicodeAttribute()
    owner = UnicodeAttribute()
    metadata = JSONAttribute()
    revision_id = NumberAttribute(default=1)
    state = UnicodeAttribute(default=RecordState.DRAFT)
    bucket_id = UnicodeAttribute()
    access = JSONAttribute()  # {"record": "public" | "restricted", "files": "public" | "restricted"}
    created = UTCDateTimeAttribute()
    updated = UTCDateTimeAttribute()
    publication_date = UnicodeAttribute(null=True)
    # {"order": [keys], "metadata": {key: {...}}}: the files' own descriptions and their order.
    files = JSONAttribute(default=lambda: {"order": [], "metadata": {}})
    tombstone_reason = UnicodeAttribute(null=True)
    parent_id = UnicodeAttribute(null=True)  # the first version's id; None: the record is the first
    version_index = NumberAttribute(default=1)
    gsi1pk = UnicodeAttribute()
    gsi1sk = UnicodeAttribute()
    gsi2pk = UnicodeAttribute(null=True)  # set only while the record is public
    gsi2sk = UnicodeAttribute(null=True)
    by_owner = ByOwner()
    public = Public()


def chain_pk(parent_id: str) -> str:
    return f"P#{parent_id}"


def chain_sk(index: int) -> str:
    return f"V#{index:06d}"  # zero-padded, so versions sort by index


class VersionItem(_RecordsTable):
    """One version in a chain: a conditional put of the next index makes two racing new versions
    impossible."""

    record_id = UnicodeAttribute()
    index = NumberAttribute()
