"""The embedded S3's checks of presigned URLs and POST policies, against what botocore signs."""

from __future__ import annotations

import base64
import json
from datetime import UTC, datetime, timedelta
from typing import Any
from urllib.parse import urlsplit
from xml.etree.ElementTree import fromstring

import boto3
import pytest
from botocore.config import Config

from chalicelib.files.signing import S3Presigner, SigningCredentials
from local.s3_auth import (
    Form,
    Keys,
    Refusal,
    Request,
    check_framing,
    check_post_policy,
    check_presigned,
    error_document,
)

ENDPOINT = "http://127.0.0.1:9000"
REGION = "eu-west-1"
KEYS = Keys({"AKLOCAL": "secret-local"}, REGION)
BUCKET = "data"
KEY = "dir one/ünïcødé+plus %25 & more~.bin"


@pytest.fixture(scope="module")
def s3() -> Any:
    return boto3.client(
        "s3",
        endpoint_url=ENDPOINT,
        region_name=REGION,
        aws_access_key_id="AKLOCAL",
        aws_secret_access_key="secret-local",
        config=Config(signature_version="s3v4", s3={"addressing_style": "path"}),
    )


def as_request(url: str, method: str = "GET", headers: dict[str, str] | None = None) -> Request:
    parts = urlsplit(url)
    sent = {"host": parts.netloc, **{name.lower(): value for name, value in (headers or {}).items()}}
    return Request(method, parts.path, parts.query, sent)


def now() -> datetime:
    return datetime.now(UTC)


def refused(request: Request, at: datetime | None = None) -> Refusal:
    with pytest.raises(Refusal) as caught:
        check_presigned(request, KEYS, at or now())
    return caught.value


def put_url(s3: Any, **params: Any) -> str:
    params = {"Bucket": BUCKET, "Key": KEY, "ContentLength": 5, "ContentType": "image/png", **params}
    return str(s3.generate_presigned_url("put_object", Params=params, ExpiresIn=900))


PUT_HEADERS = {"Content-Length": "5", "Content-Type": "image/png"}


def test_what_botocore_presigns_is_accepted_when_sent_as_signed(s3: Any) -> None:
    check_presigned(as_request(put_url(s3), "PUT", PUT_HEADERS), KEYS, now())
    get = s3.generate_presigned_url(
        "get_object",
        Params={
            "Bucket": BUCKET,
            "Key": KEY,
            "VersionId": "v1",
            "ResponseContentDisposition": 'inline; filename="a b"',
        },
        ExpiresIn=60,
    )
    check_presigned(as_request(get), KEYS, now())
    part = s3.generate_presigned_url(
        "upload_part",
        Params={"Bucket": BUCKET, "Key": KEY, "UploadId": "up/1+2", "PartNumber": 3, "ContentLength": 7},
        ExpiresIn=60,
    )
    check_presigned(as_request(part, "PUT", {"Content-Length": "7"}), KEYS, now())


def test_what_vellums_own_signer_presigns_is_accepted() -> None:
    signer = S3Presigner(
        region=REGION,
        endpoint_url=ENDPOINT,
        addressing_style="auto",
        credentials=SigningCredentials("AKLOCAL", "secret-local"),
    )
    url = signer.presign_put_object(
        BUCKET, KEY, content_length=5, content_type="text/csv", expires_in=60, checksum_sha256_b64="abc="
    )
    headers = {
        "Content-Length": "5",
        "Content-Type": "text/csv",
        "If-None-Match": "*",
        "x-amz-checksum-sha256": "abc=",
    }
    check_presigned(as_request(url, "PUT", headers), KEYS, now())


def test_a_tampered_signature_is_refused_with_the_canonical_request_s3_computed(s3: Any) -> None:
    url = put_url(s3)
    tampered = url[:-1] + ("0" if url[-1] != "0" else "1")
    refusal = refused(as_request(tampered, "PUT", PUT_HEADERS))
    assert (refusal.status, refusal.code) == (403, "SignatureDoesNotMatch")
    assert refusal.details["CanonicalRequest"].startswith("PUT\n/data/dir%20one/")
    assert refusal.details["SignatureProvided"] == tampered.rsplit("=", 1)[1]


@pytest.mark.parametrize(
    "headers",
    [
        {"Content-Length": "5"},  # the signed Content-Type left out
        {"Content-Length": "5", "Content-Type": "text/html"},
        {"Content-Length": "6", "Content-Type": "image/png"},  # not the signed length
    ],
)
def test_a_signed_header_missing_or_changed_is_refused(s3: Any, headers: dict[str, str]) -> None:
    assert refused(as_request(put_url(s3), "PUT", headers)).code == "SignatureDoesNotMatch"


def test_a_changed_query_or_method_or_host_is_refused(s3: Any) -> None:
    url = put_url(s3)
    assert (
        refused(as_request(url.replace("/data/", "/other/"), "PUT", PUT_HEADERS)).code
        == "SignatureDoesNotMatch"
    )
    assert refused(as_request(url, "POST", PUT_HEADERS)).code == "SignatureDoesNotMatch"
    moved = as_request(url, "PUT", {**PUT_HEADERS, "Host": "127.0.0.1:9001"})
    assert refused(moved).code == "SignatureDoesNotMatch"


def test_a_url_works_until_it_expires_and_not_far_before_it_was_signed(s3: Any) -> None:
    signed_at = now().replace(microsecond=0)
    request = as_request(put_url(s3), "PUT", PUT_HEADERS)
    check_presigned(request, KEYS, signed_at + timedelta(seconds=899))
    check_presigned(request, KEYS, signed_at - timedelta(minutes=14))  # a client's clock a little ahead
    late = refused(request, signed_at + timedelta(seconds=902))
    assert (late.status, late.code, late.message) == (403, "AccessDenied", "Request has expired")
    assert late.details["X-Amz-Expires"] == "900"
    early = refused(request, signed_at - timedelta(minutes=16))
    assert (early.code, early.message) == ("AccessDenied", "Request is not yet valid")


@pytest.mark.parametrize(
    ("change", "message"),
    [
        (lambda url: url.replace("X-Amz-Algorithm=", "X-Amz-Nothing="), "requires the X-Amz-Algorithm"),
        (lambda url: url.replace("X-Amz-Expires=900", "X-Amz-Expires=604801"), "less than a week"),
        (lambda url: url.replace("X-Amz-Expires=900", "X-Amz-Expires=soon"), "should be a number"),
        (lambda url: url.replace("AWS4-HMAC-SHA256", "AWS4-HMAC-SHA1"), "only supports"),
        (lambda url: url.replace("%2Feu-west-1%2F", "%2Fus-east-1%2F"), "the region 'us-east-1' is wrong"),
        (lambda url: url.replace("%2Fs3%2F", "%2Fs4%2F"), "the Credential is mal-formed"),
    ],
)
def test_broken_authentication_parameters_are_s3s_400(s3: Any, change: Any, message: str) -> None:
    refusal = refused(as_request(change(put_url(s3)), "PUT", PUT_HEADERS))
    assert (refusal.status, refusal.code) == (400, "AuthorizationQueryParametersError")
    assert message in refusal.message


def test_an_unknown_access_key_is_refused(s3: Any) -> None:
    refusal = refused(as_request(put_url(s3).replace("AKLOCAL", "AKOTHER"), "PUT", PUT_HEADERS))
    assert (refusal.status, refusal.code, refusal.details["AWSAccessKeyId"]) == (
        403,
        "InvalidAccessKeyId",
        "AKOTHER",
    )


def test_an_x_amz_header_the_url_does_not_sign_is_refused(s3: Any) -> None:
    url = put_url(s3)
    refusal = refused(as_request(url, "PUT", {**PUT_HEADERS, "x-amz-acl": "public-read"}))
    assert (refusal.code, refusal.details["HeadersNotSigned"]) == ("AccessDenied", "x-amz-acl")
    check_presigned(
        as_request(url, "PUT", {**PUT_HEADERS, "x-amz-content-sha256": "UNSIGNED-PAYLOAD"}), KEYS, now()
    )


def test_bodies_need_a_length_and_no_chunked_coding() -> None:
    with pytest.raises(Refusal) as chunked:
        check_framing("PUT", {"transfer-encoding": "chunked"})
    assert (chunked.value.status, chunked.value.code, chunked.value.details) == (
        501,
        "NotImplemented",
        {"Header": "Transfer-Encoding"},
    )
    with pytest.raises(Refusal) as unsized:
        check_framing("PUT", {})
    assert (unsized.value.status, unsized.value.code) == (411, "MissingContentLength")
    check_framing("PUT", {"content-length": "0"})
    check_framing("GET", {})


# --- browser form uploads (POST policies) ---


def form_for(s3: Any, size_range: tuple[int, int] = (1, 10), expires_in: int = 900) -> dict[str, str]:
    post = s3.generate_presigned_post(
        Bucket=BUCKET,
        Key="uploads/k1",
        Fields={"Content-Type": "image/png"},
        Conditions=[{"Content-Type": "image/png"}, ["content-length-range", *size_range]],
        ExpiresIn=expires_in,
    )
    return dict(post["fields"])


def post_refused(
    fields: dict[str, str], size: int | None = 5, bucket: str = BUCKET, at: datetime | None = None
) -> Refusal:
    with pytest.raises(Refusal) as caught:
        check_post_policy(bucket, Form(fields, size), KEYS, at or now())
    return caught.value


def test_a_form_as_botocore_signs_it_is_accepted(s3: Any) -> None:
    fields = form_for(s3)
    check_post_policy(BUCKET, Form(fields, 5), KEYS, now())
    check_post_policy(BUCKET, Form({**fields, "x-ignore-note": "anything"}, 10), KEYS, now())


def test_a_form_that_breaks_its_policy_is_refused_as_s3_refuses_it(s3: Any) -> None:
    fields = form_for(s3)
    changed_type = post_refused({**fields, "Content-Type": "text/html"})
    assert (changed_type.status, changed_type.code) == (403, "AccessDenied")
    assert changed_type.message == (
        'Invalid according to Policy: Policy Condition failed: ["eq", "$Content-Type", "image/png"]'
    )
    assert "Policy Condition failed" in post_refused({**fields, "key": "uploads/other"}).message
    assert "Policy Condition failed" in post_refused(fields, bucket="other").message
    extra = post_refused({**fields, "acl": "public-read"})
    assert extra.message == "Invalid according to Policy: Extra input fields: acl"
    large, small = post_refused(fields, size=11), post_refused(fields, size=0)
    assert (large.status, large.code, large.details["MaxSizeAllowed"]) == (400, "EntityTooLarge", "10")
    assert (small.status, small.code, small.details["MinSizeAllowed"]) == (400, "EntityTooSmall", "1")


def test_a_forged_or_expired_policy_is_refused(s3: Any) -> None:
    fields = form_for(s3)
    policy = json.loads(base64.b64decode(fields["policy"]))
    policy["conditions"] = [c for c in policy["conditions"] if "content-length-range" not in c]
    forged = {**fields, "policy": base64.b64encode(json.dumps(policy).encode()).decode()}
    assert post_refused(forged, size=10**9).code == "SignatureDoesNotMatch"
    late = post_refused(fields, at=now() + timedelta(seconds=901))
    assert (late.code, late.message) == ("AccessDenied", "Invalid according to Policy: Policy expired.")


def test_a_form_without_its_parts_is_refused(s3: Any) -> None:
    fields = form_for(s3)
    assert post_refused({"key": "uploads/k1"}).message == "Access Denied"
    no_key = post_refused({name: value for name, value in fields.items() if name != "key"})
    assert (no_key.status, no_key.code, no_key.details["ArgumentName"]) == (400, "InvalidArgument", "key")
    no_file = post_refused(fields, size=None)
    assert (no_file.code, no_file.details["ArgumentName"]) == ("InvalidArgument", "file")


def test_the_error_document_is_s3s_xml() -> None:
    refusal = Refusal(403, "AccessDenied", "Request has expired", {"X-Amz-Expires": "60"})
    root = fromstring(error_document(refusal, "REQ1"))  # noqa: S314 (our own document)
    assert [(child.tag, child.text) for child in root] == [
        ("Code", "AccessDenied"),
        ("Message", "Request has expired"),
        ("X-Amz-Expires", "60"),
        ("RequestId", "REQ1"),
        ("HostId", "REQ1"),
    ]
