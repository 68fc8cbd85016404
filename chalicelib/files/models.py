"""The files domain's items in the files table (generic pk/sk keys, see chalicelib.resources).

    B#{bucket}        #BUCKET                    a bucket, its limits and byte counters
    B#{bucket}        H#{key}                    the head (current) version of a key
    B#{bucket}        V#{key}\\x00{version id}    every version of a key, delete markers included
    B#{bucket}        U#{upload}                 an upload in progress (or finished)
    F#{file}          #FILE                      stored bytes, shared by every version that names them

'\\x00' cannot occur in a key (control characters are refused), so a key's versions sort
together and before any longer key that starts with it. Version ids sort by time, so a
key's newest version comes last. gsi1 finds a version by its id alone.
"""

from __future__ import annotations

import re
import secrets
import time
from enum import StrEnum

from pynamodb.attributes import (
    BooleanAttribute,
    JSONAttribute,
    NumberAttribute,
    NumberSetAttribute,
    UnicodeAttribute,
    UTCDateTimeAttribute,
)
from pynamodb.indexes import AllProjection, GlobalSecondaryIndex

from chalicelib.dynamodb import TableModel
from chalicelib.settings import get_settings

BUCKET_SK = "#BUCKET"
FILE_SK = "#FILE"
FILE_UPLOAD_SK = "#UPLOAD"
CHECKS_PK = "FILECHECKS"
INGEST_DUE_PK = "INGESTDUE"
OPEN_UPLOADS_PK = "OPENUPLOADS"
DELETED_BUCKETS_PK = "DELETEDBUCKETS"
NEVER_CHECKED = "0"  # sorts before every ISO timestamp
KEY_END = "\x00"
HEAD_PREFIX = "H#"
VERSION_PREFIX = "V#"
UPLOAD_PREFIX = "U#"


class UploadState(StrEnum):
    """pending -> completing -> completed | failed; pending (or a dead completion's) -> aborted."""

    PENDING = "pending"
    COMPLETING = "completing"
    COMPLETED = "completed"
    FAILED = "failed"
    ABORTED = "aborted"


OPEN_UPLOAD_STATES = frozenset({UploadState.PENDING, UploadState.COMPLETING})


class IngestState(StrEnum):
    """What ingest made of a stored file: pending -> done | failed."""

    PENDING = "pending"
    DONE = "done"
    FAILED = "failed"


VERSION_ID = re.compile(r"[0-9a-f]{32}")


def new_version_id() -> str:
    """A version id that sorts by creation time: 48-bit milliseconds, then 80 random bits, in hex."""
    return f"{time.time_ns() // 1_000_000:012x}{secrets.token_hex(10)}"


def bucket_pk(bucket_id: str) -> str:
    return f"B#{bucket_id}"


def head_sk(key: str) -> str:
    return f"{HEAD_PREFIX}{key}"


def version_sk(key: str, version_id: str) -> str:
    return f"{VERSION_PREFIX}{key}{KEY_END}{version_id}"


def upload_sk(upload_id: str) -> str:
    return f"{UPLOAD_PREFIX}{upload_id}"


def file_pk(file_id: str) -> str:
    return f"F#{file_id}"


def version_gsi1pk(version_id: str) -> str:
    return f"VER#{version_id}"


class _FilesTable(TableModel):
    class Meta:
        table_name = get_settings().files_table
        region = get_settings().region

    pk = UnicodeAttribute(hash_key=True)
    sk = UnicodeAttribute(range_key=True)


class DeletedBucketsIndex(GlobalSecondaryIndex["BucketItem"]):  # type: ignore[no-untyped-call]
    class Meta:
        index_name = "gsi2"
        projection = AllProjection()

    gsi2pk = UnicodeAttribute(hash_key=True)
    gsi2sk = UnicodeAttribute(range_key=True)


class BucketItem(_FilesTable):
    id = UnicodeAttribute()
    owner = UnicodeAttribute()
    quota_size = NumberAttribute(null=True)
    max_file_size = NumberAttribute(null=True)
    # size: bytes of every version; used: size plus bytes reserved by uploads in progress.
    # Quota is enforced on used, in one conditional update, so concurrent uploads cannot overshoot.
    size = NumberAttribute(default=0)
    used = NumberAttribute(default=0)
    locked = BooleanAttribute(default=False)
    public_read = BooleanAttribute(default=False)
    deleted = BooleanAttribute(default=False)
    tags = JSONAttribute(default=dict)
    record_id = UnicodeAttribute(null=True)  # the record that owns the bucket, if one does
    created = UTCDateTimeAttribute()
    updated = UTCDateTimeAttribute()
    # gsi2 holds deleted buckets whose data is still to be purged, and only those.
    gsi2pk = UnicodeAttribute(null=True)
    gsi2sk = UnicodeAttribute(null=True)
    deleted_buckets = DeletedBucketsIndex()


class VersionIdIndex(GlobalSecondaryIndex["ObjectVersionItem"]):  # type: ignore[no-untyped-call]
    class Meta:
        index_name = "gsi1"
        projection = AllProjection()

    gsi1pk = UnicodeAttribute(hash_key=True)
    gsi1sk = UnicodeAttribute(range_key=True)


class ObjectVersionItem(_FilesTable):
    """A version of a key, or (with sk H#key) the copy of the head version that listings read."""

    bucket_id = UnicodeAttribute()
    key = UnicodeAttribute()
    version_id = UnicodeAttribute()
    file_id = UnicodeAttribute(null=True)  # None for a delete marker
    size = NumberAttribute(default=0)
    mimetype = UnicodeAttribute(null=True)
    checksum = UnicodeAttribute(null=True)
    delete_marker = BooleanAttribute(default=False)
    tags = JSONAttribute(default=dict)
    created = UTCDateTimeAttribute()
    gsi1pk = UnicodeAttribute(null=True)
    gsi1sk = UnicodeAttribute(null=True)
    by_version_id = VersionIdIndex()


class ExpiryIndex(GlobalSecondaryIndex["UploadItem"]):  # type: ignore[no-untyped-call]
    class Meta:
        index_name = "gsi2"
        projection = AllProjection()

    gsi2pk = UnicodeAttribute(hash_key=True)
    gsi2sk = UnicodeAttribute(range_key=True)


class UploadItem(_FilesTable):
    id = UnicodeAttribute()
    bucket_id = UnicodeAttribute()
    key = UnicodeAttribute()
    owner = UnicodeAttribute()
    version_id = UnicodeAttribute(null=True)  # the version completion created
    file_id = UnicodeAttribute()
    s3_key = UnicodeAttribute()
    kind = UnicodeAttribute(default="put")  # "put", "post" (a browser form) or "multipart"
    s3_upload_id = UnicodeAttribute(null=True)  # multipart only
    # Unknown (None) until completion when a client (stock Uppy) does not declare the size.
    size = NumberAttribute(null=True)
    part_size = NumberAttribute(null=True)
    part_count = NumberAttribute(null=True)
    reserved = NumberAttribute(default=0)  # bytes of quota this upload holds
    content_type = UnicodeAttribute(null=True)
    checksum = UnicodeAttribute(null=True)  # "sha256:<hex>" when the client declared one
    state = UnicodeAttribute(default=UploadState.PENDING)
    failure = UnicodeAttribute(null=True)
    completing_since = UTCDateTimeAttribute(null=True)
    created = UTCDateTimeAttribute()
    expires = UTCDateTimeAttribute()
    # gsi2 holds only uploads in progress, by expiry, for the job that aborts abandoned ones;
    # both keys are removed when the upload ends, which takes it out of the index.
    gsi2pk = UnicodeAttribute(null=True)
    gsi2sk = UnicodeAttribute(null=True)
    by_expiry = ExpiryIndex()


class FilePointerItem(_FilesTable):
    """F#{file} / #UPLOAD: which upload a stored object belongs to, for ingest to finalise it."""

    bucket_id = UnicodeAttribute()
    upload_id = UnicodeAttribute()


class ChecksIndex(GlobalSecondaryIndex["FileItem"]):  # type: ignore[no-untyped-call]
    class Meta:
        index_name = "gsi1"
        projection = AllProjection()

    gsi1pk = UnicodeAttribute(hash_key=True)
    gsi1sk = UnicodeAttribute(range_key=True)


class IngestDueIndex(GlobalSecondaryIndex["FileItem"]):  # type: ignore[no-untyped-call]
    class Meta:
        index_name = "gsi2"
        projection = AllProjection()

    gsi2pk = UnicodeAttribute(hash_key=True)
    gsi2sk = UnicodeAttribute(range_key=True)


class FileItem(_FilesTable):
    id = UnicodeAttribute()
    s3_key = UnicodeAttribute()
    size = NumberAttribute()
    checksum = UnicodeAttribute(null=True)  # "sha256:<hex>": declared by the client, or computed by ingest
    refs = NumberAttribute(default=1)  # versions naming this file; the bytes go when it reaches 0
    # The version that created the file, whose copies of the checksum ingest fills in.
    bucket_id = UnicodeAttribute(null=True)
    key = UnicodeAttribute(null=True)
    version_id = UnicodeAttribute(null=True)
    s3_checksum = UnicodeAttribute(null=True)  # S3's own, for files too large to hash here
    # The ETag of the object recorded, for uploads S3 cannot keep from being written again (browser
    # forms): another landing on the key is undone (chalicelib.files.completion), and when.
    s3_etag = UnicodeAttribute(null=True)
    overwrite_undone_at = UTCDateTimeAttribute(null=True)
    # What ingest learnt from the bytes: the sniffed type and, for images, their facts.
    ingest = UnicodeAttribute(default=IngestState.PENDING)
    ingest_failure = UnicodeAttribute(null=True)
    # One ingest at a time, and once (chalicelib.files.stored).
    ingest_claimed_at = UTCDateTimeAttribute(null=True)
    ingested_at = UTCDateTimeAttribute(null=True)
    sniffed_type = UnicodeAttribute(null=True)
    image = JSONAttribute(null=True)
    # For images: how many downscaled levels ingest stored (0: none yet), and its thumbnails' sizes.
    levels = NumberAttribute(default=0)
    thumbnails = JSONAttribute(null=True)
    # For multi-page files (PDFs, multi-page TIFFs): each page's [width, height] as served, and
    # the pages whose derivatives are stored (a set: a batch done twice counts once).
    pages = JSONAttribute(null=True)
    pages_done = NumberSetAttribute(null=True)
    # For audio and video: their facts (chalicelib.ingest.timed_media.MediaFacts), and the still
    # images made of them, [width, height] by name (poster, strip, waveform).
    media = JSONAttribute(null=True)
    stills = JSONAttribute(null=True)
    # Bytes of IIIF answers rendered on demand and stored since rendered_since (a budget per period).
    rendered_bytes = NumberAttribute(default=0)
    rendered_since = UTCDateTimeAttribute(null=True)
    last_check_at = UTCDateTimeAttribute(null=True)
    last_check = BooleanAttribute(null=True)  # None: not checked yet
    created = UTCDateTimeAttribute()
    # gsi1 orders files by when they were last checked, so monitoring takes the stalest first.
    gsi1pk = UnicodeAttribute(default=CHECKS_PK)
    gsi1sk = UnicodeAttribute(default=NEVER_CHECKED)
    by_last_check = ChecksIndex()
    # gsi2 holds a file until its ingest has finished, ordered by when it is overdue: when a notice
    # that was lost, or a claim whose attempt died, calls for ingest to be started again.
    gsi2pk = UnicodeAttribute(null=True)
    gsi2sk = UnicodeAttribute(null=True)
    by_ingest_due = IngestDueIndex()
