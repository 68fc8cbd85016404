"""Uploads over real HTTP, as a client of `make run` sees them: the API plans and signs, S3 carries the bytes.

Every byte goes from this client to the embedded S3 through presigned URLs and comes back through the
API's 302; boto3 on the embedded AWS is used only to look at what S3 holds, never to upload.
"""

from __future__ import annotations

import hashlib
import os
import threading
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from typing import Any
from urllib.parse import parse_qs, quote, unquote, urlsplit

import pytest
import requests

from chalicelib.files.keys import encode_key
from tests.stack import Stack, make_token

pytestmark = pytest.mark.e2e

MiB = 1024**2
PART_SIZE = 5 * MiB  # S3's smallest part but the last
AWKWARD_KEY = "dir one/ünïcødé+plus %25 & more.bin"
DATA_BUCKET = "vellum-local-data"
TIMEOUT = 30


def random_bytes(size: int) -> bytes:
    """Incompressible content: no part looks like another, so a misplaced part cannot go unnoticed."""
    return os.urandom(size)


class FilesClient:
    """A client of the files API over HTTP, holding nothing but the API's address and a token."""

    def __init__(self, api: str, token: str) -> None:
        self.api = api
        self.session = requests.Session()
        self.session.headers["Authorization"] = f"Bearer {token}"

    def object_url(self, bucket: str, key: str) -> str:
        return f"{self.api}/files/{bucket}/{encode_key(key)}"

    def new_bucket(self) -> str:
        response = self.session.post(f"{self.api}/files", json={}, timeout=TIMEOUT)
        assert response.status_code == 201, response.text
        return str(response.json()["id"])

    def bucket(self, bucket: str) -> dict[str, Any]:
        response = self.session.get(f"{self.api}/files/{bucket}", timeout=TIMEOUT)
        assert response.status_code == 200, response.text
        return response.json()  # type: ignore[no-any-return]

    def initiate(self, bucket: str, key: str, size: int, part_size: int | None = None) -> dict[str, Any]:
        body = {"size": size} if part_size is None else {"size": size, "part_size": part_size}
        response = self.session.post(f"{self.object_url(bucket, key)}?uploads", json=body, timeout=TIMEOUT)
        assert response.status_code == 201, response.text
        return response.json()  # type: ignore[no-any-return]

    def sign(self, bucket: str, key: str, upload_id: str, numbers: str) -> list[dict[str, Any]]:
        response = self.session.get(
            self.object_url(bucket, key),
            params={"uploadId": upload_id, "partNumbers": numbers},
            timeout=TIMEOUT,
        )
        assert response.status_code == 200, response.text
        return response.json()["parts"]  # type: ignore[no-any-return]

    def upload_state(self, bucket: str, key: str, upload_id: str) -> dict[str, Any]:
        response = self.session.get(
            self.object_url(bucket, key), params={"uploadId": upload_id}, timeout=TIMEOUT
        )
        assert response.status_code == 200, response.text
        return response.json()  # type: ignore[no-any-return]

    def complete(
        self, bucket: str, key: str, upload_id: str, parts: list[dict[str, Any]] | None = None
    ) -> requests.Response:
        # A session is not promised to be thread-safe: racing completions each send a request of their own.
        return requests.post(
            self.object_url(bucket, key),
            params={"uploadId": upload_id},
            json=None if parts is None else {"parts": parts},
            headers={"Authorization": self.session.headers["Authorization"]},
            timeout=TIMEOUT,
        )

    def download_location(self, bucket: str, key: str, version_id: str | None = None) -> str:
        params = {} if version_id is None else {"versionId": version_id}
        response = self.session.get(
            self.object_url(bucket, key), params=params, allow_redirects=False, timeout=TIMEOUT
        )
        assert response.status_code == 302, response.text
        return response.headers["Location"]

    def download(self, bucket: str, key: str, version_id: str | None = None) -> bytes:
        # The presigned URL is the credential: the bearer token never goes to S3.
        response = requests.get(self.download_location(bucket, key, version_id), timeout=TIMEOUT)
        assert response.status_code == 200, response.text
        return response.content


def put_part(part: dict[str, Any], data: bytes) -> str:
    """PUT exactly the signed size with exactly the signed headers, as a browser would; S3's ETag."""
    assert part["method"] == "PUT"
    assert len(data) == part["size"]
    response = requests.put(part["url"], data=data, headers=part["headers"], timeout=TIMEOUT)
    assert response.status_code == 200, response.text
    return response.headers["ETag"]


def chunk(data: bytes, number: int, part_size: int = PART_SIZE) -> bytes:
    return data[(number - 1) * part_size : number * part_size]


def upload_whole(client: FilesClient, bucket: str, key: str, data: bytes) -> dict[str, Any]:
    """Initiate, PUT every part in parallel, complete naming the ETags: the version JSON."""
    upload = client.initiate(bucket, key, len(data), PART_SIZE)
    if upload["multipart"]:
        signed = client.sign(bucket, key, upload["id"], f"1-{upload['part_count']}")
    else:
        signed = [{**upload["parts"][0], "part_number": 1}]
    with ThreadPoolExecutor(max_workers=len(signed)) as pool:
        etags = list(pool.map(lambda part: put_part(part, chunk(data, part["part_number"])), signed))
    completion = [
        {"part_number": part["part_number"], "etag": etag} for part, etag in zip(signed, etags, strict=True)
    ]
    response = client.complete(bucket, key, upload["id"], completion if upload["multipart"] else None)
    assert response.status_code == 200, response.text
    return response.json()  # type: ignore[no-any-return]


def multipart_upload_ids(stack: Stack) -> set[str]:
    listed = stack.client("s3").list_multipart_uploads(Bucket=DATA_BUCKET)
    return {upload["UploadId"] for upload in listed.get("Uploads", [])}


@pytest.fixture(scope="module")
def alice(stack: Stack) -> Iterator[FilesClient]:
    client = FilesClient(stack.api, make_token(stack, "alice"))
    yield client
    client.session.close()


def test_a_25_mib_file_sent_in_parallel_parts_comes_back_byte_for_byte(
    alice: FilesClient, stack: Stack
) -> None:
    bucket = alice.new_bucket()
    data = random_bytes(25 * MiB)
    upload = alice.initiate(bucket, AWKWARD_KEY, len(data), PART_SIZE)
    assert (upload["multipart"], upload["part_count"], upload["key"]) == (True, 5, AWKWARD_KEY)
    parts = alice.sign(bucket, AWKWARD_KEY, upload["id"], "1-5")
    assert [(p["part_number"], p["size"]) for p in parts] == [(n, PART_SIZE) for n in range(1, 6)]

    with ThreadPoolExecutor(max_workers=5) as pool:
        etags = list(pool.map(lambda part: put_part(part, chunk(data, part["part_number"])), parts))
    response = alice.complete(
        bucket,
        AWKWARD_KEY,
        upload["id"],
        [{"part_number": n, "etag": etag} for n, etag in enumerate(etags, start=1)],
    )

    assert response.status_code == 200, response.text
    version = response.json()
    assert (version["key"], version["size"], version["is_head"]) == (AWKWARD_KEY, len(data), True)
    location = alice.download_location(bucket, AWKWARD_KEY)
    fetched = requests.get(location, timeout=TIMEOUT)
    assert fetched.status_code == 200
    assert len(fetched.content) == len(data)
    assert hashlib.sha256(fetched.content).hexdigest() == hashlib.sha256(data).hexdigest()
    assert fetched.content == data
    assert fetched.headers["Content-Disposition"].endswith(
        "filename*=UTF-8''" + quote("ünïcødé+plus %25 & more.bin", safe="")
    )
    # S3 holds one object under an opaque key of its own, never built from the awkward user key.
    s3_key = urlsplit(location).path.removeprefix(f"/{DATA_BUCKET}/")
    assert s3_key.startswith("data/") and "ünïcødé" not in s3_key
    assert stack.client("s3").head_object(Bucket=DATA_BUCKET, Key=s3_key)["ContentLength"] == len(data)
    assert alice.bucket(bucket)["size"] == len(data)


def test_an_upload_resumes_after_a_crash_from_what_s3_holds(alice: FilesClient) -> None:
    bucket = alice.new_bucket()
    data = random_bytes(2 * PART_SIZE + 12_345)
    upload = alice.initiate(bucket, AWKWARD_KEY, len(data), PART_SIZE)
    signed = alice.sign(bucket, AWKWARD_KEY, upload["id"], "1-3")
    put_part(signed[0], chunk(data, 1))
    put_part(signed[2], chunk(data, 3))
    upload_id = upload["id"]
    del upload, signed  # the crash: only the bucket, the key and the upload id survive

    state = alice.upload_state(bucket, AWKWARD_KEY, upload_id)
    assert state["state"] == "pending"
    assert [(p["part_number"], p["size"]) for p in state["parts"]] == [(1, PART_SIZE), (3, 12_345)]
    missing = sorted(set(range(1, state["part_count"] + 1)) - {p["part_number"] for p in state["parts"]})
    assert missing == [2]
    (second,) = alice.sign(bucket, AWKWARD_KEY, upload_id, ",".join(map(str, missing)))
    put_part(second, chunk(data, second["part_number"], state["part_size"]))
    response = alice.complete(bucket, AWKWARD_KEY, upload_id)

    assert response.status_code == 200, response.text
    assert response.json()["size"] == len(data)
    assert alice.upload_state(bucket, AWKWARD_KEY, upload_id)["state"] == "completed"
    assert alice.download(bucket, AWKWARD_KEY) == data


def test_a_part_of_the_wrong_size_fails_the_upload_and_leaves_nothing_behind(
    alice: FilesClient, stack: Stack
) -> None:
    bucket = alice.new_bucket()
    uploads_before = multipart_upload_ids(stack)
    upload = alice.initiate(bucket, AWKWARD_KEY, 2 * PART_SIZE, PART_SIZE)
    first, second = alice.sign(bucket, AWKWARD_KEY, upload["id"], "1-2")
    put_part(first, random_bytes(PART_SIZE))
    # S3 (and the embedded S3's signature gate) refuses a body whose length is not the signed one...
    short = requests.put(second["url"], data=b"short", timeout=TIMEOUT)
    assert (short.status_code, "<Code>SignatureDoesNotMatch</Code>" in short.text) == (403, True)
    # ...so the short part goes in with credentials, to show that completion checks sizes itself.
    signed = urlsplit(second["url"])
    s3_key = unquote(signed.path.removeprefix(f"/{DATA_BUCKET}/"))
    upload_id = parse_qs(signed.query)["uploadId"][0]
    s3 = stack.client("s3")
    s3.upload_part(Bucket=DATA_BUCKET, Key=s3_key, UploadId=upload_id, PartNumber=2, Body=b"short")

    response = alice.complete(bucket, AWKWARD_KEY, upload["id"])

    assert response.status_code == 400
    assert response.json()["status"] == 400
    assert "part 2 has 5 bytes, not the planned 5242880" in response.json()["message"]
    state = alice.upload_state(bucket, AWKWARD_KEY, upload["id"])
    assert (state["state"], state["parts"]) == ("failed", [])
    assert alice.bucket(bucket)["size"] == 0
    missing = alice.session.get(alice.object_url(bucket, AWKWARD_KEY), allow_redirects=False, timeout=TIMEOUT)
    assert missing.status_code == 404
    assert missing.json()["status"] == 404
    assert multipart_upload_ids(stack) == uploads_before  # the S3 upload was aborted, its parts gone


def test_racing_completions_over_http_agree_on_one_version_and_later_uploads_keep_it(
    alice: FilesClient, stack: Stack
) -> None:
    bucket = alice.new_bucket()
    data = random_bytes(2 * PART_SIZE)
    upload = alice.initiate(bucket, AWKWARD_KEY, len(data), PART_SIZE)
    for part in alice.sign(bucket, AWKWARD_KEY, upload["id"], "1-2"):
        put_part(part, chunk(data, part["part_number"]))
    racers = 4
    start_line = threading.Barrier(racers)

    def race(_: int) -> requests.Response:
        start_line.wait(timeout=TIMEOUT)
        return alice.complete(bucket, AWKWARD_KEY, upload["id"])

    with ThreadPoolExecutor(max_workers=racers) as pool:
        answers = list(pool.map(race, range(racers)))

    assert [answer.status_code for answer in answers] == [200] * racers, [a.text for a in answers]
    version_ids = {answer.json()["version_id"] for answer in answers}
    assert len(version_ids) == 1
    (first_version,) = version_ids
    assert alice.bucket(bucket)["size"] == len(data)  # counted once
    location = alice.download_location(bucket, AWKWARD_KEY)
    s3_key = urlsplit(location).path.removeprefix(f"/{DATA_BUCKET}/")
    assert stack.client("s3").head_object(Bucket=DATA_BUCKET, Key=s3_key)["ContentLength"] == len(data)
    assert requests.get(location, timeout=TIMEOUT).content == data

    newer = upload_whole(alice, bucket, AWKWARD_KEY, b"the second version")

    assert newer["is_head"] is True and newer["version_id"] != first_version
    assert alice.download(bucket, AWKWARD_KEY) == b"the second version"
    assert alice.download(bucket, AWKWARD_KEY, version_id=first_version) == data
    late_retry = alice.complete(bucket, AWKWARD_KEY, upload["id"])
    assert late_retry.status_code == 200
    assert (late_retry.json()["version_id"], late_retry.json()["is_head"]) == (first_version, False)


def test_a_range_request_on_the_download_url_answers_206_with_those_bytes(alice: FilesClient) -> None:
    bucket = alice.new_bucket()
    data = random_bytes(4096)
    upload_whole(alice, bucket, AWKWARD_KEY, data)

    response = requests.get(
        alice.download_location(bucket, AWKWARD_KEY), headers={"Range": "bytes=100-199"}, timeout=TIMEOUT
    )

    assert response.status_code == 206
    assert response.headers["Content-Range"] == f"bytes 100-199/{len(data)}"
    assert response.content == data[100:200]


def test_a_completed_single_put_url_cannot_replace_the_recorded_bytes(alice: FilesClient) -> None:
    bucket = alice.new_bucket()
    upload = alice.initiate(bucket, "frozen.txt", 8)
    [signed] = upload["parts"]
    assert signed["headers"]["If-None-Match"] == "*"
    put_part(signed, b"recorded")
    assert alice.complete(bucket, "frozen.txt", upload["id"]).status_code == 200

    # The URL still lives (900 s), and its signature still holds: S3 refuses the write itself.
    again = requests.put(signed["url"], data=b"replaced", headers=signed["headers"], timeout=TIMEOUT)

    assert again.status_code == 412, again.text
    assert alice.download(bucket, "frozen.txt") == b"recorded"
