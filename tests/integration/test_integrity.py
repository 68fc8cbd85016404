"""Integrity: stored bytes checked against recorded sizes and checksums; abandoned uploads expire."""

from __future__ import annotations

import hashlib
import io
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from chalice.test import Client
from PIL import Image

from chalicelib import aws
from chalicelib.files import jobs, stored
from chalicelib.files.models import FileItem, ObjectVersionItem, bucket_pk
from chalicelib.files.planning import MiB
from chalicelib.files.stored import INGEST_LEASE
from chalicelib.files.uploads import expire_abandoned
from tests.helpers import (
    Died,
    bucket_counters,
    call,
    complete,
    drain,
    initiate,
    later,
    new_bucket,
    object_path,
    png,
    put,
    store,
    stored_key,
)


def meta(api: Client, bucket: str, key: str) -> dict[str, Any]:
    return call(api, "get", f"{object_path(bucket, key)}?meta")[1]  # type: ignore[no-any-return]


def test_ingest_checks_a_landed_file_and_fills_in_its_checksum(api: Client, pump: Any) -> None:
    bucket = new_bucket(api)
    drain(pump)
    store(api, bucket, "doc.txt", b"integrity")
    assert meta(api, bucket, "doc.txt")["checksum"] is None  # nothing declared, nothing checked yet

    drain(pump)  # the completion's notice reaches ingest

    checked = meta(api, bucket, "doc.txt")
    assert checked["checksum"] == "sha256:" + hashlib.sha256(b"integrity").hexdigest()
    assert checked["last_check"] is True
    assert checked["last_check_at"] is not None


def test_completion_refuses_a_file_whose_bytes_do_not_match_the_declared_checksum(api: Client) -> None:
    bucket = new_bucket(api, quota_size=20 * MiB)
    data = b"z" * (5 * MiB) + b"tail"
    wrong = "sha256:" + hashlib.sha256(b"something else").hexdigest()
    upload = initiate(api, bucket, len(data), key="doc.bin", part_size=5 * MiB, checksum=wrong)
    first, second = call(
        api, "get", f"{object_path(bucket, 'doc.bin')}?uploadId={upload['id']}&partNumbers=1-2"
    )[1]["parts"]
    put(first, data[: 5 * MiB])
    put(second, data[5 * MiB :])

    status, refusal = complete(api, bucket, upload["id"], key="doc.bin")

    assert status == 400
    assert "the file's checksum is sha256:" in refusal["message"]
    assert bucket_counters(bucket) == (0, 0)
    assert aws.s3().list_objects_v2(Bucket="vellum-local-data").get("KeyCount") == 0
    assert call(api, "get", object_path(bucket, "doc.bin"))[0] == 404


def test_a_declared_checksum_that_matches_is_kept_on_the_version(api: Client) -> None:
    bucket = new_bucket(api)
    right = "sha256:" + hashlib.sha256(b"hello").hexdigest()

    version = store(api, bucket, "doc.txt", b"hello", checksum=right)

    assert version["checksum"] == right


def test_a_max_file_size_lowered_during_an_upload_is_enforced_at_completion(api: Client) -> None:
    bucket = new_bucket(api)
    upload = initiate(api, bucket, 100, key="doc.txt")
    put(upload["parts"][0], b"x" * 100)
    call(api, "patch", f"/files/{bucket}", {"max_file_size": 50})

    status, refusal = complete(api, bucket, upload["id"], key="doc.txt")

    assert status == 400
    assert "above the bucket's largest file size of 50" in refusal["message"]
    assert bucket_counters(bucket) == (0, 0)


def test_bytes_changed_behind_vellums_back_are_found(api: Client) -> None:
    bucket = new_bucket(api)
    store(api, bucket, "doc.txt", b"original")
    assert call(api, "post", f"{object_path(bucket, 'doc.txt')}?check")[1]["last_check"] is True

    aws.s3().put_object(Bucket="vellum-local-data", Key=stored_key(api, bucket, "doc.txt"), Body=b"tampered")

    result = call(api, "post", f"{object_path(bucket, 'doc.txt')}?check")[1]
    assert result["last_check"] is False
    assert "checksum" in result["reason"]


def test_a_missing_object_is_a_failed_check(api: Client) -> None:
    bucket = new_bucket(api)
    store(api, bucket, "doc.txt", b"here")
    aws.s3().delete_object(Bucket="vellum-local-data", Key=stored_key(api, bucket, "doc.txt"))

    result = call(api, "post", f"{object_path(bucket, 'doc.txt')}?check")[1]

    assert (result["last_check"], result["reason"]) == (False, "the stored object is missing")


def test_only_owners_and_admins_may_ask_for_a_check(api: Client) -> None:
    bucket = new_bucket(api, public_read=True)
    store(api, bucket, "doc.txt", b"x")

    assert call(api, "post", f"{object_path(bucket, 'doc.txt')}?check", headers={})[0] == 401


def test_monitoring_checks_never_checked_files_first(api: Client, moto_aws: Any) -> None:
    bucket = new_bucket(api)
    for key in ("a", "b", "c"):
        store(api, bucket, key, key.encode() * 10)

    assert jobs.monitor_integrity() == 3

    assert all(meta(api, bucket, key)["last_check"] is True for key in ("a", "b", "c"))


def test_abandoned_uploads_expire_and_give_their_quota_back(api: Client) -> None:
    bucket = new_bucket(api, quota_size=20 * MiB)
    upload = initiate(api, bucket, 10 * MiB, part_size=5 * MiB)
    assert bucket_counters(bucket) == (0, 10 * MiB)

    assert expire_abandoned(datetime.now(UTC)) == 0  # not yet
    assert expire_abandoned(datetime.now(UTC) + timedelta(days=3)) == 1

    assert bucket_counters(bucket) == (0, 0)
    assert call(api, "get", f"{object_path(bucket)}?uploadId={upload['id']}")[1]["state"] == "aborted"
    assert aws.s3().list_multipart_uploads(Bucket="vellum-local-data").get("Uploads", []) == []
    assert expire_abandoned(datetime.now(UTC) + timedelta(days=3)) == 0  # it left the index


def test_a_deleted_buckets_data_is_purged_by_housekeeping(api: Client) -> None:
    bucket = new_bucket(api)
    store(api, bucket, "a.txt", b"aaa")
    store(api, bucket, "a.txt", b"aaaa")
    store(api, bucket, "b.txt", b"bb")
    initiate(api, bucket, 10 * MiB, key="unfinished.bin", part_size=5 * MiB)
    assert call(api, "delete", f"/files/{bucket}")[0] == 204

    jobs.housekeeping()

    assert aws.s3().list_objects_v2(Bucket="vellum-local-data").get("KeyCount") == 0
    assert aws.s3().list_multipart_uploads(Bucket="vellum-local-data").get("Uploads", []) == []
    remaining = [item.sk for item in ObjectVersionItem.query(bucket_pk(bucket))]
    assert [sk for sk in remaining if sk.startswith(("H#", "V#"))] == []
    assert jobs.housekeeping() == 0  # nothing left in line


def test_purging_keeps_bytes_another_version_still_names(api: Client) -> None:
    bucket = new_bucket(api)
    store(api, bucket, "shared.txt", b"shared")
    key = stored_key(api, bucket, "shared.txt")
    # What a record's new version does (issue 5's snapshots): a second version names the same file.
    FileItem(pk=f"F#{key.removeprefix('data/')}", sk="#FILE").update(actions=[FileItem.refs.add(1)])
    call(api, "delete", f"/files/{bucket}")

    jobs.housekeeping()

    assert aws.s3().get_object(Bucket="vellum-local-data", Key=key)["Body"].read() == b"shared"


def ingest_queue() -> str:
    return aws.sqs().get_queue_url(QueueName="vellum-local-ingest")["QueueUrl"]


def waiting_messages() -> int:
    counted = aws.sqs().get_queue_attributes(
        QueueUrl=ingest_queue(), AttributeNames=["ApproximateNumberOfMessages"]
    )
    return int(counted["Attributes"]["ApproximateNumberOfMessages"])


def test_monitoring_ingests_an_image_whose_notice_was_lost(
    api: Client, pump: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    bucket = new_bucket(api, public_read=True)
    drain(pump)
    version = store(api, bucket, "lost.png", png(1300, 900))
    aws.sqs().purge_queue(QueueUrl=ingest_queue())  # the completion's notice is lost
    drain(pump)
    assert meta(api, bucket, "lost.png")["ingest"] == {"state": "pending"}
    jobs.monitor_integrity()
    assert waiting_messages() == 0  # the notice may yet be on its way: not overdue for a lease

    later(monkeypatch, INGEST_LEASE + timedelta(seconds=1))
    jobs.monitor_integrity()
    drain(pump)  # the job announced the file again: ingest runs in full

    ingested = meta(api, bucket, "lost.png")
    assert ingested["ingest"] == {
        "state": "done",
        "type": "image/png",
        "image": {"width": 1300, "height": 900},
        "thumbnail": [256, 177],
    }
    file_id = stored_key(api, bucket, "lost.png").removeprefix("data/")
    assert stored.claim_ingest(file_id) is None  # finished: ingested_at is set, nothing to claim
    derivatives = aws.s3().list_objects_v2(Bucket="vellum-local-data", Prefix=f"derivatives/{file_id}/")
    assert derivatives["KeyCount"] > 10  # tiles, levels and thumbnails
    tile = api.http.get(
        f"/iiif/3/{version['version_id']}/0,0,512,512/512,/0/default.jpg", headers={"Accept": "image/jpeg"}
    )
    assert tile.status_code == 200
    assert Image.open(io.BytesIO(tile.body)).size == (512, 512)


def test_monitoring_leaves_files_that_ingest_has_done_alone(
    api: Client, pump: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    bucket = new_bucket(api)
    drain(pump)
    store(api, bucket, "doc.txt", b"ingested")
    drain(pump)
    later(monkeypatch, INGEST_LEASE + timedelta(days=1))

    jobs.monitor_integrity()

    assert waiting_messages() == 0


def test_an_ingest_that_died_part_way_is_not_done_and_is_finished_by_monitoring(
    api: Client, pump: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    from chalicelib.files import storage

    bucket = new_bucket(api, public_read=True)
    drain(pump)
    version = store(api, bucket, "big.png", png(1300, 900))
    stored_puts = storage.put_derivative
    count = {"puts": 0}

    def dies_at_the_fifth(*args: Any, **kwargs: Any) -> None:
        count["puts"] += 1
        if count["puts"] == 5:
            raise Died
        stored_puts(*args, **kwargs)

    monkeypatch.setattr(storage, "put_derivative", dies_at_the_fifth)
    with pytest.raises(Died):
        drain(pump)
    monkeypatch.setattr(storage, "put_derivative", stored_puts)
    # The message is back on the queue once its visibility ends; here it is lost with the function.
    aws.sqs().purge_queue(QueueUrl=ingest_queue())
    file_id = stored_key(api, bucket, "big.png").removeprefix("data/")

    assert meta(api, bucket, "big.png")["ingest"]["state"] == "pending"  # not done: tiles are missing
    assert api.http.get(f"/iiif/3/{version['version_id']}/info.json").status_code == 503  # not yet
    jobs.monitor_integrity()
    assert waiting_messages() == 0  # its claim may still be alive

    later(monkeypatch, INGEST_LEASE + timedelta(seconds=1))
    jobs.monitor_integrity()
    drain(pump)

    assert meta(api, bucket, "big.png")["ingest"]["state"] == "done"
    info = api.http.get(f"/iiif/3/{version['version_id']}/info.json")
    assert info.status_code == 200
    derivatives = aws.s3().list_objects_v2(Bucket="vellum-local-data", Prefix=f"derivatives/{file_id}/")
    fresh = new_bucket(api, public_read=True)
    store(api, fresh, "same.png", png(1300, 900))
    drain(pump)
    same_id = stored_key(api, fresh, "same.png").removeprefix("data/")
    clean = aws.s3().list_objects_v2(Bucket="vellum-local-data", Prefix=f"derivatives/{same_id}/")
    assert derivatives["KeyCount"] == clean["KeyCount"] > 10  # all of them, as a clean ingest makes
