"""The embedded AWS's journal: every write it acknowledges is on disk before its answer leaves.

moto keeps everything in memory. Each DynamoDB write, S3 object write or delete, and SQS send or
delete is appended here, fsynced, as the item, object or message it leaves behind (its after-image,
not the request: replaying it needs no signature, no condition and no random id to come out the
same). `local.snapshot` folds the journal into the snapshot now and then, and at the next start.

An object's bytes go to `blobs/`, named by key and ETag, before the line that names them.
Not journaled: parts of multipart uploads in progress, and SQS's own moves of a message to its
dead-letter queue (after a restart such a message is back in its queue, for five more receives).
"""

from __future__ import annotations

import functools
import hashlib
import inspect
import json
import os
import threading
from collections.abc import Callable, Iterable, Iterator
from pathlib import Path
from typing import Any

from moto.core.models import DEFAULT_ACCOUNT_ID
from moto.s3.models import FakeDeleteMarker, S3Backend, s3_backends
from moto.s3.responses import S3Response
from moto.sqs.models import SQSBackend

from local import atomic_dynamodb

SEGMENT_PREFIX = "journal-"
BLOBS = "blobs"
_S3_STRIPES = 64  # writes to one key are journaled in the order they applied; other keys run on

Entry = dict[str, Any]


def blob_name(key: str, etag: str) -> str:
    return hashlib.sha256(f"{key}\0{etag}".encode()).hexdigest()


def segment_number(path: Path) -> int:
    return int(path.stem.removeprefix(SEGMENT_PREFIX))


def segments(directory: Path) -> list[Path]:
    return sorted(directory.glob(f"{SEGMENT_PREFIX}*.jsonl"), key=segment_number)


def read_segment(path: Path) -> Iterator[Entry]:
    with path.open("rb") as lines:
        for line in lines:
            if not line.endswith(b"\n"):
                return  # torn by a crash mid-append: never fsynced, so never acknowledged
            yield json.loads(line)


class Journal:
    def __init__(self, directory: Path, after: int) -> None:
        """Append to new segments numbered after `after`, the last one the snapshot has folded in."""
        self.directory = directory
        (directory / BLOBS).mkdir(parents=True, exist_ok=True)
        self._lock = threading.Lock()
        existing = segments(directory)
        self._number = max([after, *map(segment_number, existing)]) + 1
        self._file = self._open()

    def _open(self) -> Any:
        return (self.directory / f"{SEGMENT_PREFIX}{self._number:08d}.jsonl").open("ab")

    def append(self, entries: Iterable[Entry]) -> None:
        data = b"".join(json.dumps(entry, separators=(",", ":")).encode() + b"\n" for entry in entries)
        with self._lock:
            self._file.write(data)
            self._file.flush()
            os.fdatasync(self._file.fileno())

    def rotate(self) -> int:
        """Start a new segment; return the number of the last closed one."""
        with self._lock:
            self._file.close()
            closed = self._number
            self._number += 1
            self._file = self._open()
            _sync_directory(self.directory)
            return closed

    def close(self) -> None:
        with self._lock:
            self._file.close()

    def store_blob(self, key: str, etag: str, value: bytes) -> str:
        name = blob_name(key, etag)
        path = self.directory / BLOBS / name
        if not path.exists():
            part = path.with_name(f"{name}.{threading.get_ident()}.part")
            with part.open("wb") as blob:
                blob.write(value)
                blob.flush()
                os.fdatasync(blob.fileno())
            os.replace(part, path)
            _sync_directory(path.parent)
        return name


def _sync_directory(directory: Path) -> None:
    descriptor = os.open(directory, os.O_RDONLY)
    try:
        os.fsync(descriptor)
    finally:
        os.close(descriptor)


_journal: Journal | None = None
_s3_locks = [threading.Lock() for _ in range(_S3_STRIPES)]
_sqs_lock = threading.Lock()


class _Touched(threading.local):
    keys: list[tuple[str, str]] | None = None  # S3 keys the request this thread answers wrote


_touched = _Touched()


def start(journal: Journal | None) -> None:
    """Journal every write from now on into `journal` (None: stop journaling)."""
    global _journal
    _journal = journal
    if journal is None:
        return
    atomic_dynamodb.make_dynamodb_writes_atomic()
    atomic_dynamodb.on_written(_dynamodb_written)
    # moto's S3 sets an object's metadata, type and tags after its backend stored it: the backend
    # says which keys a request wrote, and they are journaled once the request is answered.
    for name, keys_of in (
        ("put_object", _named_key),
        ("delete_object", _named_key),
        ("copy_object", _copied_key),
        ("complete_multipart_upload", _completed_key),
    ):
        _patch(S3Backend, name, functools.partial(_noting_keys, keys_of=keys_of))
    for name in ("key_response", "bucket_response"):
        _patch(S3Response, name, _journaled_when_answered)
    _patch(SQSBackend, "send_message", _sent_journaled)
    _patch(SQSBackend, "delete_message", _deleted_journaled)


def _patch(cls: type, name: str, wrap: Callable[[Callable[..., Any]], Callable[..., Any]]) -> None:
    method = getattr(cls, name)
    if getattr(method, "_journaled", False):
        return
    wrapped = functools.wraps(method)(wrap(method))
    wrapped._journaled = True  # type: ignore[attr-defined]
    setattr(cls, name, wrapped)


def _dynamodb_written(backend: Any, touched: list[tuple[str, dict[str, Any]]]) -> None:
    journal = _journal
    if journal is None:
        return
    entries = []
    for table_name, key in touched:
        if not key or table_name not in backend.tables:
            continue  # refused by moto before it wrote anything
        found = backend.get_item(table_name, key)
        item = None if found is None else found.to_json()["Attributes"]
        entries.append({"table": table_name, "key": key, "item": item})
    if entries:
        journal.append(entries)


def _named_key(arguments: dict[str, Any]) -> list[tuple[str, str]]:
    return [(arguments["bucket_name"], arguments["key_name"])]


def _copied_key(arguments: dict[str, Any]) -> list[tuple[str, str]]:
    return [(arguments["dest_bucket_name"], arguments["dest_key_name"])]


def _completed_key(arguments: dict[str, Any]) -> list[tuple[str, str]]:
    backend, bucket_name = arguments["self"], arguments["bucket_name"]
    multipart = backend.get_bucket(bucket_name).multiparts.get(arguments["multipart_id"])
    return [] if multipart is None else [(bucket_name, multipart.key_name)]


def _noting_keys(
    method: Callable[..., Any], keys_of: Callable[[dict[str, Any]], list[tuple[str, str]]]
) -> Callable[..., Any]:
    signature = inspect.signature(method)

    def noting(*args: Any, **kwargs: Any) -> Any:
        if _touched.keys is not None:
            _touched.keys.extend(keys_of(signature.bind(*args, **kwargs).arguments))
        return method(*args, **kwargs)

    return noting


def _journaled_when_answered(method: Callable[..., Any]) -> Callable[..., Any]:
    def answering(*args: Any, **kwargs: Any) -> Any:
        if _journal is None or _touched.keys is not None:
            return method(*args, **kwargs)
        _touched.keys = []
        try:
            return method(*args, **kwargs)
        finally:
            touched, _touched.keys = _touched.keys, None
            for bucket_name, key in dict.fromkeys(touched):
                _journal_object(bucket_name, key)

    return answering


def _journal_object(bucket_name: str, key: str) -> None:
    journal = _journal
    if journal is None:
        return
    # Read and appended under the key's lock: the last line for a key is read after its last write.
    with _s3_locks[hash((bucket_name, key)) % _S3_STRIPES]:
        versions = s3_backends[DEFAULT_ACCOUNT_ID]["global"].get_bucket(bucket_name).keys.getlist(key, [])
        latest = versions[-1] if versions else None
        entry: Entry = {"bucket": bucket_name, "object": key}
        if latest is None or isinstance(latest, FakeDeleteMarker):
            entry["deleted"] = True
        else:
            entry |= object_entry(journal, latest)
        journal.append([entry])


def object_entry(journal: Journal, stored: Any) -> Entry:
    """What restoring the object needs besides its key: the blob of its bytes and what S3 keeps with them."""
    return {
        "blob": journal.store_blob(stored.name, stored.etag, stored.value),
        "etag": stored.etag,
        "metadata": dict(stored.metadata),
        "storage_class": stored.storage_class,
        "checksum_algorithm": getattr(stored, "checksum_algorithm", None),
        "checksum_value": stored.checksum_value,
        "checksum_type": stored.checksum_type,
        "last_modified": stored.last_modified.isoformat(),
    }


def _sent_journaled(method: Callable[..., Any]) -> Callable[..., Any]:
    signature = inspect.signature(method)

    def journaled(*args: Any, **kwargs: Any) -> Any:
        if _journal is None:
            return method(*args, **kwargs)
        arguments = signature.bind(*args, **kwargs).arguments
        with _sqs_lock:  # a fast consumer's delete must not reach the journal before this send
            message = method(*args, **kwargs)
            _journal.append(
                [
                    {
                        "queue": arguments["queue_name"],
                        "sent": message.id,
                        "body": arguments["message_body"],
                        "attributes": arguments.get("message_attributes") or {},
                    }
                ]
            )
        return message

    return journaled


def _deleted_journaled(method: Callable[..., Any]) -> Callable[..., Any]:
    def journaled(backend: SQSBackend, queue_name: str, receipt_handle: str) -> Any:
        if _journal is None:
            return method(backend, queue_name, receipt_handle)
        with _sqs_lock:
            queue = backend.get_queue(queue_name)
            ids = [message.id for message in queue._messages if message.had_receipt_handle(receipt_handle)]
            answer = method(backend, queue_name, receipt_handle)
            if ids:
                _journal.append([{"queue": queue_name, "deleted": ids[0]}])
        return answer

    return journaled
