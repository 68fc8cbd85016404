"""Uppy's front door (Companion's S3 API) in-process, on moto: the requests stock @uppy/aws-s3 makes."""

from __future__ import annotations

import base64
import json
from typing import Any
from urllib.parse import parse_qs, urlencode, urlsplit

import pytest
import requests
from chalice.test import Client

from chalicelib.files.keys import encode_key
from chalicelib.files.planning import MiB
from chalicelib.settings import get_settings
from local.pump import EventPump
from tests.helpers import ALICE, BOB, bucket_counters, call, download, drain, new_bucket


def companion(api: Client, method: str, path: str, body: Any = None, headers: dict[str, str] = ALICE) -> Any:
    status, answer, _ = call(api, method, path, body, headers)
    return status, answer


def start(api: Client, bucket: str, filename: str, **metadata: Any) -> dict[str, Any]:
    status, body = companion(
        api,
        "post",
        "/s3/multipart",
        {
            "filename": filename,
            "type": "application/octet-stream",
            "metadata": {"bucket": bucket, **metadata},
        },
    )
    assert status == 200, body
    return body  # type: ignore[no-any-return]


def batch(api: Client, started: dict[str, Any], numbers: str) -> dict[str, str]:
    status, body = companion(
        api, "get", f"/s3/multipart/{started['uploadId']}/batch?key={started['key']}&partNumbers={numbers}"
    )
    assert status == 200, body
    return body["presignedUrls"]  # type: ignore[no-any-return]


def send_parts(urls: dict[str, str], chunks: list[bytes]) -> list[dict[str, Any]]:
    parts = []
    for number, chunk in enumerate(chunks, start=1):
        response = requests.put(urls[str(number)], data=chunk, timeout=30)
        assert response.status_code == 200
        parts.append({"PartNumber": number, "ETag": response.headers["ETag"]})
    return parts


def test_a_multipart_upload_without_a_declared_size_is_checked_at_completion(api: Client) -> None:
    bucket = new_bucket(api)
    started = start(api, bucket, "big file.bin")
    assert started["key"] == "big file.bin"
    assert started["uploadId"].startswith(bucket + ".")
    data = b"a" * (5 * MiB) + b"b" * (5 * MiB) + b"tail"
    urls = batch(api, started, "1,2,3")
    assert parse_qs(urlsplit(urls["1"]).query)["X-Amz-SignedHeaders"] == ["host"]  # no size to pin
    parts = send_parts(urls, [data[: 5 * MiB], data[5 * MiB : 10 * MiB], data[10 * MiB :]])

    status, listed = companion(api, "get", f"/s3/multipart/{started['uploadId']}?key={started['key']}")
    assert [p["PartNumber"] for p in listed] == [1, 2, 3]
    status, done = companion(
        api, "post", f"/s3/multipart/{started['uploadId']}/complete?key={started['key']}", {"parts": parts}
    )

    assert status == 200, done
    assert (done["key"], done["bucket"]) == ("big file.bin", bucket)
    assert done["location"].endswith("/YmlnIGZpbGUuYmlu")
    assert download(api, bucket, "big file.bin").content == data
    assert bucket_counters(bucket) == (len(data), len(data))


def test_a_declared_size_plans_and_pins_uppys_part_lengths(api: Client) -> None:
    bucket = new_bucket(api)
    started = start(api, bucket, "sized.bin", size=str(12 * MiB))

    status, single = companion(api, "get", f"/s3/multipart/{started['uploadId']}/3?key={started['key']}")

    assert status == 200
    assert parse_qs(urlsplit(single["url"]).query)["X-Amz-SignedHeaders"] == ["content-length;host"]
    assert bucket_counters(bucket) == (0, 12 * MiB)  # reserved at the start


def test_uneven_parts_fail_the_upload(api: Client) -> None:
    bucket = new_bucket(api)
    started = start(api, bucket, "uneven.bin")
    parts = send_parts(batch(api, started, "1-3"), [b"x" * (5 * MiB), b"y" * (6 * MiB), b"z"])

    status, refusal = companion(
        api, "post", f"/s3/multipart/{started['uploadId']}/complete?key={started['key']}", {"parts": parts}
    )

    assert status == 400
    assert refusal["error"] == refusal["message"]
    assert "part 2 has 6291456 bytes" in refusal["error"]
    assert bucket_counters(bucket) == (0, 0)


def test_an_undeclared_upload_over_quota_fails_at_completion(api: Client) -> None:
    bucket = new_bucket(api, quota_size=8 * MiB)
    started = start(api, bucket, "too big.bin")
    parts = send_parts(batch(api, started, "1-2"), [b"x" * (5 * MiB), b"y" * (4 * MiB)])

    status, refusal = companion(
        api, "post", f"/s3/multipart/{started['uploadId']}/complete?key={started['key']}", {"parts": parts}
    )

    assert status == 400
    assert "quota" in refusal["error"]
    assert bucket_counters(bucket) == (0, 0)


def test_abort_answers_an_empty_object(api: Client) -> None:
    bucket = new_bucket(api)
    started = start(api, bucket, "gone.bin")

    status, body = companion(api, "delete", f"/s3/multipart/{started['uploadId']}?key={started['key']}")

    assert (status, body) == (200, {})


def test_errors_carry_an_error_field_for_uppy(api: Client) -> None:
    status, body = companion(api, "post", "/s3/multipart", {"filename": "x", "metadata": {"bucket": "nope"}})

    assert status == 404
    assert body == {"status": 404, "message": "No bucket with this id.", "error": "No bucket with this id."}


def test_another_user_cannot_start_uploads_in_a_bucket(api: Client) -> None:
    bucket = new_bucket(api)

    status, _ = companion(
        api, "post", "/s3/multipart", {"filename": "x", "metadata": {"bucket": bucket}}, BOB
    )

    assert status == 404


def test_a_form_of_undeclared_size_takes_no_more_than_the_form_limit(api: Client) -> None:
    roomy = new_bucket(api)  # the default limits: 50 GiB of quota and per file
    tight = new_bucket(api, quota_size=4096)

    limits = []
    for bucket in (roomy, tight):
        status, form = companion(
            api, "get", f"/s3/params?filename=a.bin&type=text/plain&metadata[bucket]={bucket}"
        )
        assert status == 200, form
        policy = json.loads(base64.b64decode(form["fields"]["policy"]))
        [limit] = [condition for condition in policy["conditions"] if isinstance(condition, list)]
        limits.append(limit)

    assert limits == [
        ["content-length-range", 1, get_settings().form_upload_max_bytes],
        ["content-length-range", 1, 4096],
    ]


def test_a_form_posted_again_after_recording_cannot_change_the_recorded_bytes(
    api: Client, pump: EventPump
) -> None:
    bucket = new_bucket(api)
    _, form = companion(api, "get", f"/s3/params?filename=f.txt&type=text/plain&metadata[bucket]={bucket}")

    def post(content: bytes) -> None:
        answer = requests.post(
            form["url"], data=form["fields"], files={"file": ("f.txt", content)}, timeout=30
        )
        assert answer.status_code in (200, 204), answer.text

    post(b"R")
    drain(pump)
    assert download(api, bucket, "f.txt").content == b"R"

    # S3 cannot condition a form POST: the policy lives on (900 s) and the bytes land. Ingest
    # sees them land on a recorded file and puts the recorded bytes back.
    post(b"replaced, and 3 MiB in the finding")
    drain(pump)

    assert download(api, bucket, "f.txt").content == b"R"
    _, listing, _ = call(api, "get", f"/files/{bucket}")
    assert [(item["key"], item["size"]) for item in listing["contents"]] == [("f.txt", 1)]
    assert bucket_counters(bucket) == (1, 1)
    _, meta, _ = call(api, "get", f"/files/{bucket}/{encode_key('f.txt')}?meta")
    assert meta["overwrite_undone_at"] is not None


def test_a_browser_form_upload_is_recorded_when_s3_reports_the_object(api: Client, pump: EventPump) -> None:
    bucket = new_bucket(api, max_file_size=1000)
    drain(pump)
    status, form = companion(
        api, "get", f"/s3/params?filename=photo%20one.png&type=image/png&metadata[bucket]={bucket}"
    )
    assert status == 200, form
    assert form["method"] == "POST"
    policy = json.loads(base64.b64decode(form["fields"]["policy"]))
    assert ["content-length-range", 1, 1000] in policy["conditions"]
    assert {"Content-Type": "image/png"} in policy["conditions"]

    posted = requests.post(
        form["url"], data=form["fields"], files={"file": ("photo one.png", b"\x89PNG...")}, timeout=30
    )
    assert posted.status_code in (200, 204), posted.text
    drain(pump)

    _, listing, _ = call(api, "get", f"/files/{bucket}")
    assert [(item["key"], item["size"], item["mimetype"]) for item in listing["contents"]] == [
        ("photo one.png", 7, "image/png")
    ]
    assert download(api, bucket, "photo one.png").content == b"\x89PNG..."
    drain(pump)  # a repeated event changes nothing
    assert bucket_counters(bucket) == (7, 7)


def test_preflight_and_cors_answer_configured_origins(api: Client) -> None:
    response = api.http.request(
        "OPTIONS",
        "/s3/multipart",
        headers={"Origin": "http://app.example", "Access-Control-Request-Method": "POST"},
    )

    assert response.status_code == 204
    assert response.headers["Access-Control-Allow-Origin"] == "http://app.example"
    assert "Authorization" in response.headers["Access-Control-Allow-Headers"]
    # The local stage allows "*": any origin, but never with credentials.
    assert "Access-Control-Allow-Credentials" not in response.headers


def test_the_invenio_door_answers_preflights_too(api: Client) -> None:
    response = api.http.request(
        "OPTIONS", "/files/some-bucket/a2V5", headers={"Origin": "http://app.example"}
    )

    assert response.status_code == 204
    assert "PATCH" in response.headers["Access-Control-Allow-Methods"]
    assert response.headers["Access-Control-Expose-Headers"] == "ETag, Location, X-Request-Id"


@pytest.mark.parametrize(
    "declared",
    ["text/plain;,text/html", "text/plain, text/html", "text/plain\r\nX-Amz-Meta: 1", "a/" + "b" * 300],
)
def test_both_uppy_doors_refuse_a_type_that_is_not_one_media_type(api: Client, declared: str) -> None:
    bucket = new_bucket(api)

    status, refusal = companion(
        api, "post", "/s3/multipart", {"filename": "a.txt", "type": declared, "metadata": {"bucket": bucket}}
    )
    assert (status, refusal["errors"][0]["field"]) == (400, "type")
    assert refusal["error"] == refusal["message"]
    query = urlencode({"filename": "a.txt", "type": declared, "metadata[bucket]": bucket})
    status, refusal = companion(api, "get", f"/s3/params?{query}")
    assert (status, refusal["errors"][0]["field"]) == (400, "type")
    assert call(api, "get", f"/files/{bucket}?uploads")[1]["uploads"] == []  # nothing half-begun


def test_a_form_upload_states_the_canonical_type_in_its_policy(api: Client) -> None:
    bucket = new_bucket(api)
    query = urlencode(
        {"filename": "a.txt", "type": 'Text/Plain; Charset="UTF-8"', "metadata[bucket]": bucket}
    )

    status, form = companion(api, "get", f"/s3/params?{query}")

    assert status == 200, form
    assert form["fields"]["Content-Type"] == "text/plain; charset=utf-8"


def test_signing_a_part_beyond_the_declared_plan_is_a_400(api: Client) -> None:
    bucket = new_bucket(api)
    started = start(api, bucket, "big.bin", size=12 * MiB)  # Uppy's 5 MiB parts: 3 of them

    status, refusal = companion(api, "get", f"/s3/multipart/{started['uploadId']}/4?key=big.bin")

    assert (status, refusal["errors"][0]["field"]) == (400, "partNumbers")
