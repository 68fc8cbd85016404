"""Uploads through the Invenio-style routes: planned by the API, carried to S3 by presigned URLs (moto)."""

from __future__ import annotations

import threading
from typing import Any
from urllib.parse import parse_qs, urlsplit

import pytest
import requests
from chalice.test import Client

from chalicelib import aws
from chalicelib.auth.principal import Principal
from chalicelib.files import completion, uploads
from chalicelib.files.keys import MAX_KEY_BYTES
from chalicelib.files.models import ObjectVersionItem, bucket_pk
from chalicelib.files.planning import MiB
from chalicelib.settings import Settings
from tests.helpers import (
    BOB,
    KEY,
    bucket_counters,
    call,
    complete,
    download,
    initiate,
    new_bucket,
    object_path,
    put,
)


def sign(api: Client, bucket: str, upload_id: str, numbers: str, key: str = KEY) -> list[dict[str, Any]]:
    status, body, _ = call(
        api, "get", f"{object_path(bucket, key)}?uploadId={upload_id}&partNumbers={numbers}"
    )
    assert status == 200, body
    return body["parts"]  # type: ignore[no-any-return]


def stored_versions(bucket: str) -> list[str]:
    return [
        item.version_id
        for item in ObjectVersionItem.query(bucket_pk(bucket), ObjectVersionItem.sk.startswith("V#"))
    ]


def test_a_small_file_goes_in_one_presigned_put_and_comes_back_identical(api: Client) -> None:
    bucket = new_bucket(api)
    upload = initiate(api, bucket, 11, content_type="text/plain")
    assert upload["multipart"] is False

    put(upload["parts"][0], b"hello world")
    status, version = complete(api, bucket, upload["id"])

    assert status == 200
    assert (version["key"], version["size"], version["is_head"]) == (KEY, 11, True)
    fetched = download(api, bucket)
    assert fetched.content == b"hello world"
    assert fetched.headers["Content-Disposition"].endswith(
        "filename*=UTF-8''r%C3%A9sum%C3%A9%20final%2Bv2%20%25.bin"
    )
    assert bucket_counters(bucket) == (11, 11)


def test_a_multipart_upload_signs_each_part_with_its_exact_length(api: Client) -> None:
    bucket = new_bucket(api)
    upload = initiate(api, bucket, 10 * MiB + 3, part_size=5 * MiB)

    parts = sign(api, bucket, upload["id"], "1-3")

    assert [p["size"] for p in parts] == [5 * MiB, 5 * MiB, 3]
    for part in parts:
        query = parse_qs(urlsplit(part["url"]).query)
        assert query["X-Amz-SignedHeaders"] == ["content-length;host"]
        assert query["partNumber"] == [str(part["part_number"])]
        assert part["headers"] == {"Content-Length": str(part["size"])}


def test_a_multipart_upload_resumes_after_listing_its_parts(api: Client) -> None:
    bucket = new_bucket(api, quota_size=20 * MiB)
    data = bytes(range(256)) * (10 * MiB // 256) + b"end"
    upload = initiate(api, bucket, len(data), part_size=5 * MiB)
    first, second, third = sign(api, bucket, upload["id"], "1-3")
    put(first, data[: 5 * MiB])
    put(third, data[10 * MiB :])

    status, listed, _ = call(api, "get", f"{object_path(bucket)}?uploadId={upload['id']}")
    assert status == 200
    assert [p["part_number"] for p in listed["parts"]] == [1, 3]

    early, refusal = complete(api, bucket, upload["id"])
    assert early == 400
    assert refusal["message"] == "1 of 3 parts are missing: 2."

    put(second, data[5 * MiB : 10 * MiB])
    status, _ = complete(api, bucket, upload["id"])
    assert status == 200
    assert download(api, bucket).content == data
    assert bucket_counters(bucket) == (len(data), len(data))


def test_completing_twice_returns_the_same_version(api: Client) -> None:
    bucket = new_bucket(api)
    upload = initiate(api, bucket, 3)
    put(upload["parts"][0], b"abc")

    _, first = complete(api, bucket, upload["id"])
    _, second = complete(api, bucket, upload["id"])

    assert first["version_id"] == second["version_id"]
    assert stored_versions(bucket) == [first["version_id"]]
    assert bucket_counters(bucket) == (3, 3)


def test_racing_completions_create_one_version(api: Client, moto_aws: Settings) -> None:
    bucket = new_bucket(api)
    upload = initiate(api, bucket, 10 * MiB, part_size=5 * MiB)
    for part in sign(api, bucket, upload["id"], "1-2"):
        put(part, b"x" * part["size"])
    alice = Principal(sub="alice")
    results: list[str] = []

    def finish() -> None:
        version = completion.complete_upload(alice, bucket, KEY, upload["id"], uploads.Completion())
        results.append(version.version_id)

    racers = [threading.Thread(target=finish) for _ in range(4)]
    for racer in racers:
        racer.start()
    for racer in racers:
        racer.join()

    assert len(results) == 4 and len(set(results)) == 1
    assert stored_versions(bucket) == results[:1]
    assert bucket_counters(bucket) == (10 * MiB, 10 * MiB)


def test_a_part_of_the_wrong_size_fails_the_upload_and_leaves_nothing_behind(api: Client) -> None:
    bucket = new_bucket(api, quota_size=20 * MiB)
    upload = initiate(api, bucket, 10 * MiB, part_size=5 * MiB)
    first, second = sign(api, bucket, upload["id"], "1-2")
    put(first, b"x" * (5 * MiB))
    # moto does not enforce the signed Content-Length that AWS would: send a short part anyway.
    requests.put(second["url"], data=b"short", timeout=30)

    status, refusal = complete(api, bucket, upload["id"])

    assert status == 400
    assert refusal["message"].startswith("The upload failed: part 2 has 5 bytes, not the planned 5242880.")
    assert stored_versions(bucket) == []
    assert bucket_counters(bucket) == (0, 0)
    assert aws.s3().list_multipart_uploads(Bucket="vellum-local-data").get("Uploads", []) == []
    assert call(api, "get", object_path(bucket))[0] == 404


def test_etags_given_at_completion_must_be_the_ones_s3_holds(api: Client) -> None:
    bucket = new_bucket(api)
    upload = initiate(api, bucket, 10 * MiB, part_size=5 * MiB)
    etags = [put(part, b"y" * part["size"]) for part in sign(api, bucket, upload["id"], "1,2")]

    status, refusal = complete(
        api,
        bucket,
        upload["id"],
        {"parts": [{"part_number": 1, "etag": etags[0]}, {"part_number": 2, "etag": "0bad"}]},
    )

    assert status == 400
    assert "ETags given for parts [2]" in refusal["message"]
    assert bucket_counters(bucket) == (0, 0)


def test_a_single_put_of_the_wrong_size_fails(api: Client) -> None:
    bucket = new_bucket(api)
    upload = initiate(api, bucket, 4)
    requests.put(upload["parts"][0]["url"], data=b"too long", timeout=30)

    status, refusal = complete(api, bucket, upload["id"])

    assert status == 400
    assert "has 8 bytes, not the declared 4" in refusal["message"]
    assert aws.s3().list_objects_v2(Bucket="vellum-local-data").get("KeyCount") == 0


def test_quota_is_reserved_at_initiation_and_released_by_abort(api: Client) -> None:
    bucket = new_bucket(api, quota_size=10)
    first = initiate(api, bucket, 8)

    status, refusal, _ = call(api, "post", object_path(bucket, "other") + "?uploads", {"size": 5})
    assert status == 400
    assert refusal["errors"] == [{"field": "size", "message": "exceeds the bucket's quota: 2 bytes are left"}]

    assert call(api, "delete", f"{object_path(bucket)}?uploadId={first['id']}")[0] == 204
    assert bucket_counters(bucket) == (0, 0)
    initiate(api, bucket, 5, key="other")


def test_concurrent_uploads_never_push_a_bucket_over_its_quota(api: Client, moto_aws: Settings) -> None:
    bucket = new_bucket(api, quota_size=100)
    alice = Principal(sub="alice")
    outcomes: list[str] = []

    def start(number: int) -> None:
        try:
            uploads.initiate_upload(alice, bucket, f"file-{number}", uploads.NewUpload(size=10))
            outcomes.append("started")
        except Exception as refusal:
            outcomes.append(str(refusal))

    threads = [threading.Thread(target=start, args=(n,)) for n in range(16)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()

    quota = "The size is invalid: it exceeds the bucket's quota: 0 bytes are left."
    assert sorted(outcomes) == sorted(["started"] * 10 + [quota] * 6)
    assert bucket_counters(bucket) == (0, 100)


def test_a_file_above_the_buckets_max_file_size_is_refused(api: Client) -> None:
    bucket = new_bucket(api, max_file_size=100)

    status, refusal, _ = call(api, "post", object_path(bucket) + "?uploads", {"size": 101})

    assert status == 400
    assert refusal["errors"][0]["field"] == "size"


def test_a_locked_bucket_takes_no_uploads(api: Client) -> None:
    bucket = new_bucket(api)
    call(api, "patch", f"/files/{bucket}", {"locked": True})

    status, refusal, _ = call(api, "post", object_path(bucket) + "?uploads", {"size": 1})

    assert (status, refusal["message"]) == (403, "The bucket is locked: its files cannot change.")


def test_others_cannot_see_or_touch_an_upload(api: Client) -> None:
    bucket = new_bucket(api)
    upload = initiate(api, bucket, 5)

    assert call(api, "get", f"{object_path(bucket)}?uploadId={upload['id']}", headers=BOB)[0] == 404
    assert call(api, "post", f"{object_path(bucket)}?uploadId={upload['id']}", headers=BOB)[0] == 404
    assert call(api, "delete", f"{object_path(bucket)}?uploadId={upload['id']}", headers=BOB)[0] == 404
    assert call(api, "post", object_path(bucket) + "?uploads", {"size": 1}, headers={})[0] == 404
    # Refused for who they are before what they sent is judged: a bad size tells them nothing either.
    assert call(api, "post", object_path(bucket) + "?uploads", {"size": -1}, headers={})[0] == 404
    assert call(api, "post", object_path(bucket) + "?uploads", {"size": 0}, headers=BOB)[0] == 404


def test_uploads_in_progress_are_listed(api: Client) -> None:
    bucket = new_bucket(api)
    upload = initiate(api, bucket, 5)

    status, body, _ = call(api, "get", f"/files/{bucket}?uploads")

    assert status == 200
    assert [u["id"] for u in body["uploads"]] == [upload["id"]]


@pytest.mark.parametrize(
    ("body", "field"),
    [
        ({}, "size"),
        ({"size": "12"}, "size"),
        ({"size": 0}, "size"),
        ({"size": 10, "part_size": MiB}, "part_size"),
        ({"size": 10, "checksum": "md5:abc"}, "checksum"),
        ({"size": 10, "content_type": "not a type"}, "content_type"),
        ({"size": 10, "content_type": "text/plain;,text/html"}, "content_type"),
        ({"size": 10, "content_type": "text/plain\r\nX: y"}, "content_type"),
        ({"size": 10, "colour": "red"}, "colour"),
    ],
)
def test_bad_upload_requests_are_refused_naming_the_field(api: Client, body: Any, field: str) -> None:
    bucket = new_bucket(api)

    status, refusal, _ = call(api, "post", object_path(bucket) + "?uploads", body)

    assert status == 400
    assert field in {error["field"] for error in refusal["errors"]}
    assert bucket_counters(bucket) == (0, 0)


@pytest.mark.parametrize("key", ["a/../b", "bad\nkey"])
def test_invalid_keys_are_refused(api: Client, key: str) -> None:
    bucket = new_bucket(api)

    status, refusal, _ = call(api, "post", object_path(bucket, key) + "?uploads", {"size": 1})

    assert status == 400
    assert refusal["errors"][0]["field"] == "key"


@pytest.mark.parametrize("numbers", ["0", "4", "1-4", "x"])
def test_part_numbers_outside_the_plan_are_refused(api: Client, numbers: str) -> None:
    bucket = new_bucket(api)
    upload = initiate(api, bucket, 15 * MiB, part_size=5 * MiB)

    status, refusal, _ = call(
        api, "get", f"{object_path(bucket)}?uploadId={upload['id']}&partNumbers={numbers}"
    )

    assert status == 400
    assert refusal["errors"][0]["field"] == "partNumbers"


def test_the_longest_key_completes_and_a_longer_one_is_refused_at_once(api: Client) -> None:
    bucket = new_bucket(api)
    longest = "k" * MAX_KEY_BYTES

    upload = initiate(api, bucket, 3, key=longest)
    put(upload["parts"][0], b"abc")
    assert complete(api, bucket, upload["id"], key=longest)[0] == 200
    status, refusal, _ = call(api, "post", f"{object_path(bucket, longest + 'k')}?uploads", {"size": 3})
    assert (status, refusal["errors"][0]["field"]) == (400, "key")
    assert bucket_counters(bucket) == (3, 3)  # nothing reserved for the refused one


def test_a_failure_after_the_claim_gives_it_back_so_the_upload_can_be_aborted(
    api: Client, monkeypatch: pytest.MonkeyPatch
) -> None:
    bucket = new_bucket(api)
    upload = initiate(api, bucket, 5)
    put(upload["parts"][0], b"12345")

    def crash(*args: Any) -> None:
        raise RuntimeError("DynamoDB refused the transaction")

    monkeypatch.setattr(completion, "_record", crash)
    assert complete(api, bucket, upload["id"])[0] == 500

    assert call(api, "get", f"{object_path(bucket)}?uploadId={upload['id']}")[1]["state"] == "pending"
    assert call(api, "delete", f"{object_path(bucket)}?uploadId={upload['id']}")[0] == 204
    assert bucket_counters(bucket) == (0, 0)


def test_an_unknown_upload_is_a_404(api: Client) -> None:
    bucket = new_bucket(api)

    assert call(api, "post", f"{object_path(bucket)}?uploadId=nope")[0] == 404


def test_a_new_upload_to_the_same_key_becomes_the_head_and_keeps_the_old_version(api: Client) -> None:
    bucket = new_bucket(api)
    versions = []
    for content in (b"one", b"two!"):
        upload = initiate(api, bucket, len(content))
        put(upload["parts"][0], content)
        versions.append(complete(api, bucket, upload["id"])[1]["version_id"])

    assert download(api, bucket).content == b"two!"
    assert download(api, bucket, query=f"?versionId={versions[0]}").content == b"one"
    assert bucket_counters(bucket) == (7, 7)


def test_a_completion_recorded_after_a_newer_version_keeps_that_one_the_head(
    api: Client, monkeypatch: pytest.MonkeyPatch
) -> None:
    # Two completions of one key racing: the one whose version was made first commits last.
    bucket = new_bucket(api)
    late, early = initiate(api, bucket, 3), initiate(api, bucket, 4)
    put(late["parts"][0], b"new")
    put(early["parts"][0], b"old!")
    newer = complete(api, bucket, late["id"])[1]
    monkeypatch.setattr(completion, "new_version_id", lambda: "0" * 12 + "ab" * 10)

    status, older = complete(api, bucket, early["id"])

    assert status == 200, older
    assert (older["is_head"], older["size"]) == (False, 4)
    assert download(api, bucket).content == b"new"
    assert call(api, "get", f"{object_path(bucket)}?meta")[1]["version_id"] == newer["version_id"]
    assert bucket_counters(bucket) == (7, 7)
