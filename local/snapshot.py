"""The embedded AWS's data on disk: a snapshot, and the journal of what was written after it.

`manifest.json` holds every DynamoDB item, S3 object (its bytes in `blobs/`) and SQS message as of
the journal segments it has folded in; the segments after those hold the rest (`local.journal`).
A checkpoint closes the current segment and folds the closed ones into a new manifest from disk
alone, so the running stack is neither paused nor read; the manifest is replaced atomically, so a
crash at any point leaves a manifest and the segments it has not folded: everything acknowledged.
At start all segments are folded, the result is loaded into moto, and the journal starts afresh.

Only each object's latest version is kept (earlier ones are S3's undo for a replaced form upload,
which ingest uses within seconds).
"""

from __future__ import annotations

import json
import os
import time
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path
from typing import Any

from moto.core.models import DEFAULT_ACCOUNT_ID
from moto.dynamodb.models import dynamodb_backends
from moto.s3.models import s3_backends
from moto.sqs.models import sqs_backends

from chalicelib.resources import TABLES
from chalicelib.settings import Settings
from local.journal import BLOBS, Entry, Journal, read_segment, segment_number, segments

MANIFEST = "manifest.json"
FORMAT = 2
BLOB_GRACE_SECONDS = 60  # a blob is written just before the journal line naming it


@dataclass
class State:
    tables: dict[str, dict[str, Any]] = field(default_factory=dict)  # name -> canonical key -> item
    objects: dict[str, Entry] = field(default_factory=dict)  # "bucket/key" -> object entry
    messages: dict[str, dict[str, Entry]] = field(default_factory=dict)  # queue -> message id -> entry
    folded_through: int = 0  # the last journal segment folded in

    def fold(self, entries: Any) -> None:
        for entry in entries:
            if "table" in entry:
                items = self.tables.setdefault(entry["table"], {})
                key = _canonical(entry["key"])
                if entry["item"] is None:
                    items.pop(key, None)
                else:
                    items[key] = entry["item"]
            elif "object" in entry:
                name = f"{entry['bucket']}/{entry['object']}"
                if entry.get("deleted"):
                    self.objects.pop(name, None)
                else:
                    self.objects[name] = entry
            elif "queue" in entry:
                messages = self.messages.setdefault(entry["queue"], {})
                if "deleted" in entry:
                    messages.pop(entry["deleted"], None)
                else:
                    messages[entry["sent"]] = {"body": entry["body"], "attributes": entry["attributes"]}

    def blobs(self) -> set[str]:
        return {entry["blob"] for entry in self.objects.values()}

    def size(self) -> int:
        return sum(map(len, self.tables.values())) + len(self.objects) + sum(map(len, self.messages.values()))


def _canonical(key: dict[str, Any]) -> str:
    return json.dumps(key, sort_keys=True, separators=(",", ":"))


def load(settings: Settings, directory: Path) -> State:
    path = directory / MANIFEST
    if not path.exists():
        return State()
    manifest = json.loads(path.read_text())
    if manifest.get("format") != FORMAT:
        return _from_first_format(settings, manifest)
    return State(
        tables=manifest["tables"],
        objects={f"{entry['bucket']}/{entry['object']}": entry for entry in manifest["objects"]},
        messages=manifest["messages"],
        folded_through=manifest["folded_through"],
    )


def _from_first_format(settings: Settings, manifest: dict[str, Any]) -> State:
    """The snapshots before the journal: tables by setting, objects without ETag or bucket."""
    state = State()
    for table in TABLES:
        items = manifest.get("tables", {}).get(table.setting, [])
        state.tables[getattr(settings, table.setting)] = {
            _canonical({name: item[name] for name in (table.hash_key, table.range_key)}): item
            for item in items
        }
    for entry in manifest.get("objects", []):
        metadata = {f"x-amz-meta-{name}": value for name, value in entry["metadata"].items()}
        if entry.get("content_type"):
            metadata["content-type"] = entry["content_type"]
        state.objects[f"{settings.data_bucket}/{entry['key']}"] = {
            "bucket": settings.data_bucket,
            "object": entry["key"],
            "blob": entry["blob"],
            "metadata": metadata,
        }
    return state


def save(state: State, directory: Path) -> None:
    manifest = {
        "format": FORMAT,
        "folded_through": state.folded_through,
        "tables": state.tables,
        "objects": list(state.objects.values()),
        "messages": state.messages,
    }
    temporary = directory / f"{MANIFEST}.part"
    with temporary.open("w") as file:
        json.dump(manifest, file, separators=(",", ":"))
        file.flush()
        os.fdatasync(file.fileno())
    os.replace(temporary, directory / MANIFEST)
    descriptor = os.open(directory, os.O_RDONLY)
    try:
        os.fsync(descriptor)
    finally:
        os.close(descriptor)


def _fold_closed(state: State, directory: Path, through: int) -> list[Path]:
    """Fold segments up to `through` not folded yet; return all up to it, to delete once saved."""
    closed = [path for path in segments(directory) if segment_number(path) <= through]
    for path in closed:
        if segment_number(path) > state.folded_through:
            state.fold(read_segment(path))
    state.folded_through = max(through, state.folded_through)
    return closed


def _collect_blobs(state: State, directory: Path, grace_seconds: float) -> None:
    referenced = state.blobs()
    for path in segments(directory):  # the live segment's, and any not folded yet
        referenced.update(entry["blob"] for entry in read_segment(path) if "blob" in entry)
    cutoff = time.time() - grace_seconds
    for blob in (directory / BLOBS).iterdir():  # and `.part` files a crash left half-written
        if blob.name.split(".")[0] in referenced:
            continue
        try:
            if blob.stat().st_mtime < cutoff:
                blob.unlink()
        except FileNotFoundError:
            continue  # a `.part` file just renamed into its blob


def restore(settings: Settings, directory: Path) -> State:
    """Fold everything on disk, load it into empty resources, and save it as the new snapshot.

    Call it before journaling starts: what it loads is already on disk.
    """
    directory.mkdir(parents=True, exist_ok=True)
    (directory / BLOBS).mkdir(exist_ok=True)
    state = load(settings, directory)
    closed = segments(directory)
    folded = _fold_closed(state, directory, segment_number(closed[-1]) if closed else 0)
    _load_into_moto(settings, state, directory)
    save(state, directory)
    for path in folded:
        path.unlink()
    _collect_blobs(state, directory, grace_seconds=0)
    return state


def checkpoint(state: State, directory: Path, journal: Journal) -> None:
    """Fold the journal written so far into a new snapshot, while writes go on into a new segment."""
    folded = _fold_closed(state, directory, journal.rotate())
    save(state, directory)
    for path in folded:
        path.unlink()
    _collect_blobs(state, directory, grace_seconds=BLOB_GRACE_SECONDS)


def _load_into_moto(settings: Settings, state: State, directory: Path) -> None:
    dynamodb = dynamodb_backends[DEFAULT_ACCOUNT_ID][settings.region]
    for table_name, items in state.tables.items():
        if table_name in dynamodb.tables:
            for item in items.values():
                dynamodb.put_item(table_name, item)
    s3 = s3_backends[DEFAULT_ACCOUNT_ID]["global"]
    for entry in state.objects.values():
        stored = s3.put_object(
            entry["bucket"],
            entry["object"],
            (directory / BLOBS / entry["blob"]).read_bytes(),
            storage=entry.get("storage_class"),
            etag=entry["etag"].strip('"') if entry.get("etag") else None,  # moto adds the quotes
            checksum_value=entry.get("checksum_value"),
            disable_notification=True,
        )
        stored.set_metadata(dict(entry["metadata"]))
        if entry.get("checksum_algorithm"):
            stored.checksum_algorithm = entry["checksum_algorithm"]
            stored.checksum_type = entry.get("checksum_type")
        if entry.get("last_modified"):
            stored.last_modified = datetime.fromisoformat(entry["last_modified"])
    sqs = sqs_backends[DEFAULT_ACCOUNT_ID][settings.region]
    for queue_name, messages in state.messages.items():
        if queue_name in sqs.queues:
            resent = [
                sqs.send_message(queue_name, message["body"], message_attributes=message["attributes"])
                for message in messages.values()
            ]  # SQS gives them new ids: the snapshot keeps those
            state.messages[queue_name] = {
                sent.id: message for sent, message in zip(resent, messages.values(), strict=True)
            }
