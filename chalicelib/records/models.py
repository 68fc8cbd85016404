"""The records domain's items in the records table (generic pk/sk keys, see chalicelib.resources).

    R#{record}   #RECORD   a record: metadata, access, state, revision and its bucket

gsi1 lists an owner's records newest first (OWNER#{owner} / {created}#{id}); gsi2 lists the
public ones newest first (PUBLIC / {created}#{id}), so no listing ever scans the table.
"""

from __future__ import annotations

from pynamodb.attributes import JSONAttribute, NumberAttribute, UnicodeAttribute, UTCDateTimeAttribute
from pynamodb.indexes import AllProjection, GlobalSecondaryIndex
from pynamodb.models import Model

from chalicelib.settings import get_settings

RECORD_SK = "#RECORD"
PUBLIC_PK = "PUBLIC"


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


class RecordItem(Model):
    class Meta:
        table_name = get_settings().records_table
        region = get_settings().region

    pk = UnicodeAttribute(hash_key=True)
    sk = UnicodeAttribute(range_key=True)
    id = UnicodeAttribute()
    owner = UnicodeAttribute()
    metadata = JSONAttribute()
    revision_id = NumberAttribute(default=1)
    state = UnicodeAttribute(default="draft")  # draft -> published; tombstoned by an admin
    bucket_id = UnicodeAttribute()
    access = JSONAttribute()  # {"record": "public" | "restricted", "files": "public" | "restricted"}
    created = UTCDateTimeAttribute()
    updated = UTCDateTimeAttribute()
    publication_date = UnicodeAttribute(null=True)
    # {"order": [keys], "metadata": {key: {...}}}: the files' own descriptions and their order.
    files = JSONAttribute(default=lambda: {"order": [], "metadata": {}})
    gsi1pk = UnicodeAttribute()
    gsi1sk = UnicodeAttribute()
    gsi2pk = UnicodeAttribute(null=True)  # set only while the record is public
    gsi2sk = UnicodeAttribute(null=True)
    by_owner = ByOwner()
    public = Public()
