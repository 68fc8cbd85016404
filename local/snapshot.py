"""Saving the embedded AWS's data to disk and loading it back, so `make run` keeps it.

moto keeps everything in memory. A snapshot holds every DynamoDB item and every
S3 object of Vellum's resources; blobs are named by object key and ETag, so a
save writes only what changed, and the manifest is replaced atomically, so a
crash during a save leaves the previous snapshot intact. Not kept: multipart
uploads in progress and SQS messages not yet consumed (the pump drains those
within seconds).

The tables are read and the objects listed while no DynamoDB write can land, so
the snapshot is one point in time: no recorded version without the object it
names. An object listed and then deleted (an abort) before its bytes are read is
left out, as it would be a moment later.
"""

from __future__ import annotations

import hashlib
import json
import os
from pathlib import Path
from typing import Any

from botocore.exceptions import ClientError

from chalicelib import aws
from chalicelib.resources import TABLES
from chalicelib.settings import Settings
from local.atomic_dynamodb import writes_paused

MANIFEST = "manifest.json"


def _blob_name(key: str, etag: str) -> str:
    return hashlib.sha256(f"{key}\0{etag}".encode()).hexdigest()


def save(settings: Settings, directory: Path) -> None:
    blobs = directory / "blobs"
    blobs.mkdir(parents=True, exist_ok=True)
    manifest: dict[str, Any] = {"tables": {}, "objects": []}
    # An object saved before, with its blob still there, needs no HEAD: its key and ETag name it,
    # and its type and metadata are in the previous manifest. (One HEAD each made a save of
    # 2,000 objects, a large image's pyramid, take 6 s of the embedded AWS's CPU every 10 s.)
    previous = {entry["blob"]: entry for entry in _manifest(directory).get("objects", [])}
    with writes_paused():
        for table in TABLES:
            name = getattr(settings, table.setting)
            items: list[dict[str, Any]] = []
            for page in aws.dynamodb().get_paginator("scan").paginate(TableName=name):
                items.extend(page["Items"])
            manifest["tables"][table.setting] = items
        listed = _list_objects(settings.data_bucket)
    for summary in listed:
        key, etag = summary["Key"], summary["ETag"]
        blob = _blob_name(key, etag)
        if blob in previous and (blobs / blob).exists():
            manifest["objects"].append(previous[blob])
            continue
        try:
            head = aws.s3().head_object(Bucket=settings.data_bucket, Key=key)
            aws.s3().download_file(settings.data_bucket, key, str(blobs / f"{blob}.part"))
        except ClientError as exc:
            if exc.response.get("Error", {}).get("Code") in ("404", "NoSuchKey", "NotFound"):
                continue  # deleted since it was listed
            raise
        os.replace(blobs / f"{blob}.part", blobs / blob)
        manifest["objects"].append(
            {
                "key": key,
                "blob": blob,
                "content_type": head.get("ContentType"),
                "metadata": head.get("Metadata", {}),
            }
        )
    temporary = directory / f"{MANIFEST}.part"
    temporary.write_text(json.dumps(manifest))
    os.replace(temporary, directory / MANIFEST)
    referenced = {entry["blob"] for entry in manifest["objects"]}
    for path in blobs.iterdir():
        if path.name not in referenced:
            path.unlink()


def _manifest(directory: Path) -> dict[str, Any]:
    path = directory / MANIFEST
    return json.loads(path.read_text()) if path.exists() else {}


def restore(settings: Settings, directory: Path) -> int:
    """Load a snapshot into empty resources; return how many items and objects it loaded."""
    manifest = _manifest(directory)
    if not manifest:
        return 0
    loaded = 0
    for table in TABLES:
        items = manifest["tables"].get(table.setting, [])
        name = getattr(settings, table.setting)
        for start in range(0, len(items), 25):  # BatchWriteItem takes at most 25 items
            batch = [{"PutRequest": {"Item": item}} for item in items[start : start + 25]]
            aws.dynamodb().batch_write_item(RequestItems={name: batch})  # type: ignore[dict-item]
        loaded += len(items)
    for entry in manifest["objects"]:
        extra: dict[str, Any] = {"Metadata": entry["metadata"]}
        if entry["content_type"]:
            extra["ContentType"] = entry["content_type"]
        aws.s3().upload_file(
            str(directory / "blobs" / entry["blob"]), settings.data_bucket, entry["key"], extra
        )
        loaded += 1
    return loaded


def _list_objects(bucket: str) -> list[dict[str, Any]]:
    objects: list[dict[str, Any]] = []
    for page in aws.s3().get_paginator("list_objects_v2").paginate(Bucket=bucket):
        objects.extend(page.get("Contents", []))  # type: ignore[arg-type]
    return objects
