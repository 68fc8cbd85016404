"""A completion whose function died at any point finishes on a retry, or aborts cleanly."""

from __future__ import annotations

import hashlib
from collections.abc import Callable
from datetime import timedelta
from typing import Any

import pytest
from chalice.test import Client

from chalicelib.files import completion, storage
from chalicelib.files.models import UploadItem, bucket_pk, upload_sk
from chalicelib.files.planning import MiB
from chalicelib.files.uploads import COMPLETION_LEASE
from chalicelib.settings import get_settings
from tests.helpers import (
    Died,
    bucket_counters,
    call,
    complete,
    download,
    initiate,
    later,
    new_bucket,
    object_path,
    put,
)

CONTENT = bytes(range(256)) * (5 * MiB // 256) + b"tail"  # two parts: 5 MiB and 4 bytes


def dies_after(function: Callable[..., Any]) -> Callable[..., Any]:
    def died(*args: Any, **kwargs: Any) -> Any:
        function(*args, **kwargs)
        raise Died

    return died


def dies_before(*args: Any, **kwargs: Any) -> Any:
    raise Died


CRASHES = {
    "after S3 assembled the object": ("storage", "complete_multipart", dies_after),
    "while hashing the assembled object": ("completion", "_verify_checksum", lambda _: dies_before),
    "before the recording transaction": ("completion", "_record", lambda _: dies_before),
}


def crash_once(monkeypatch: pytest.MonkeyPatch, api: Client, bucket: str, upload_id: str, where: str) -> None:
    module_name, name, make = CRASHES[where]
    module = storage if module_name == "storage" else completion
    monkeypatch.setattr(module, name, make(getattr(module, name)))
    with pytest.raises(Died):
        complete(api, bucket, upload_id)
    monkeypatch.undo()


def multipart_upload(api: Client) -> tuple[str, dict[str, Any]]:
    bucket = new_bucket(api)
    upload = initiate(
        api,
        bucket,
        len(CONTENT),
        part_size=5 * MiB,
        checksum=f"sha256:{hashlib.sha256(CONTENT).hexdigest()}",
    )
    parts = call(api, "get", f"{object_path(bucket)}?uploadId={upload['id']}&partNumbers=1-2")[1]["parts"]
    put(parts[0], CONTENT[: 5 * MiB])
    put(parts[1], CONTENT[5 * MiB :])
    return bucket, upload


def s3_key_of(bucket: str, upload_id: str) -> str:
    return str(UploadItem.get(bucket_pk(bucket), upload_sk(upload_id)).s3_key)


def state_of(api: Client, bucket: str, upload_id: str) -> str:
    return str(call(api, "get", f"{object_path(bucket)}?uploadId={upload_id}")[1]["state"])


@pytest.mark.parametrize("where", list(CRASHES))
def test_a_completion_that_died_finishes_on_a_retry_once_its_lease_has_run_out(
    api: Client, monkeypatch: pytest.MonkeyPatch, where: str
) -> None:
    assert get_settings().sync_check_max_bytes >= len(CONTENT)  # the checksum is checked in the request
    bucket, upload = multipart_upload(api)
    crash_once(monkeypatch, api, bucket, upload["id"], where)
    assert state_of(api, bucket, upload["id"]) == "completing"

    later(monkeypatch, COMPLETION_LEASE + timedelta(seconds=1))
    status, version = complete(api, bucket, upload["id"])

    assert status == 200, version
    assert (version["size"], version["is_head"]) == (len(CONTENT), True)
    assert download(api, bucket).content == CONTENT
    assert bucket_counters(bucket) == (len(CONTENT), len(CONTENT))
    assert state_of(api, bucket, upload["id"]) == "completed"
    assert complete(api, bucket, upload["id"]) == (200, version)  # and again: the same version


def test_an_assembled_object_is_checked_against_the_etags_the_retry_gives(
    api: Client, monkeypatch: pytest.MonkeyPatch
) -> None:
    bucket, upload = multipart_upload(api)
    crash_once(monkeypatch, api, bucket, upload["id"], "after S3 assembled the object")
    later(monkeypatch, COMPLETION_LEASE + timedelta(seconds=1))
    wrong = {"parts": [{"part_number": 1, "etag": "0" * 32}, {"part_number": 2, "etag": "1" * 32}]}

    status, body = complete(api, bucket, upload["id"], wrong)

    assert status == 400, body
    assert state_of(api, bucket, upload["id"]) == "failed"
    assert bucket_counters(bucket) == (0, 0)
    assert storage.stat(s3_key_of(bucket, upload["id"])) is None


@pytest.mark.parametrize("where", list(CRASHES))
def test_a_completion_that_died_can_be_aborted_once_its_lease_has_run_out(
    api: Client, monkeypatch: pytest.MonkeyPatch, where: str
) -> None:
    bucket, upload = multipart_upload(api)
    crash_once(monkeypatch, api, bucket, upload["id"], where)
    abort = f"{object_path(bucket)}?uploadId={upload['id']}"

    live = call(api, "delete", abort)
    assert live[0] == 409 and "being completed" in live[1]["message"]  # its function may still be at work

    later(monkeypatch, COMPLETION_LEASE + timedelta(seconds=1))
    assert call(api, "delete", abort)[0] == 204

    assert state_of(api, bucket, upload["id"]) == "aborted"
    assert bucket_counters(bucket) == (0, 0)
    assert call(api, "get", f"/files/{bucket}?versions")[1]["contents"] == []
    assert storage.stat(s3_key_of(bucket, upload["id"])) is None
