"""The JSON shapes of the files API, in the style of invenio-files-rest (objects carry links)."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from chalicelib.files.buckets import Bucket


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
        "created": timestamp(bucket.created),
        "updated": timestamp(bucket.updated),
        "links": bucket_links(base, bucket.id),
    }
