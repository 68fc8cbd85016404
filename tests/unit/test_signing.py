"""Presigned S3 URLs: the same bytes as botocore's for the same time and inputs, only faster.

botocore is the oracle: ``generate_presigned_url`` for the operations (it signs content-length,
content-md5 and x-amz-checksum-sha256 itself), ``S3SigV4QueryAuth`` for arbitrary signed headers.
Its clock is frozen where ``SigV4Auth.add_auth`` reads it, ``botocore.auth.get_current_datetime``.
"""

from __future__ import annotations

import base64
import functools
import hashlib
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta, timezone
from pathlib import Path
from typing import Any, NamedTuple
from unittest import mock
from urllib.parse import parse_qs, urlsplit

import boto3
import pytest
import requests
from botocore.auth import S3SigV4QueryAuth
from botocore.awsrequest import AWSRequest
from botocore.config import Config
from botocore.credentials import Credentials
from botocore.utils import percent_encode_sequence
from moto.server import ThreadedMotoServer

from chalicelib.files.signing import (
    MAX_EXPIRES_IN,
    AddressingStyle,
    S3Presigner,
    SigningCredentials,
    credentials_from,
)


class Target(NamedTuple):
    """Where URLs point and how buckets are addressed: the three inputs both signers share."""

    region: str
    endpoint_url: str
    addressing_style: AddressingStyle


SIGNED_AT = datetime(2026, 11, 28, 17, 30, 5, tzinfo=UTC)
ACCESS_KEY = "AKIDEXAMPLE"
SECRET_KEY = "wJalrXUtnFEMI/K7MDENG+bPxRfiCYEXAMPLEKEY"
SESSION_TOKEN = "IQoJb3JpZ2luX2VjE/fake+session=token//=="
BUCKET = "vellum-data"
UPLOAD_ID = "2~iCw_lDY8VoDs.zDSlA9wbXwIfE4Rj7xG3Tk-P0N0nRz"
EXPIRES_IN = 900

EU_VIRTUAL = Target("eu-west-1", "https://s3.eu-west-1.amazonaws.com", "virtual")
US_PATH = Target("us-east-1", "https://s3.us-east-1.amazonaws.com", "path")
US_GLOBAL_VIRTUAL = Target("us-east-1", "https://s3.amazonaws.com", "virtual")
EMBEDDED = Target("us-east-1", "http://127.0.0.1:4566", "auto")
CONFIGURATIONS = [EU_VIRTUAL, US_PATH, US_GLOBAL_VIRTUAL, EMBEDDED]

KEYS = [
    "plain.bin",
    "deep/folder/file.txt",
    "with space.txt",
    "a+b.txt",
    "100%.txt",
    "~home/file",
    "query=1&x?y#z",
    "it's (1) [a] {b} *;:@,$!.txt",
    "café/résumé.pdf",
    "中文/文件.pdf",
    "emoji 😀.png",
    "/leading//double/trailing/",
    "ké/" * 256,  # 1,024 bytes of UTF-8, S3's maximum key length
]
assert len(KEYS[-1].encode()) == 1024


@pytest.fixture(autouse=True)
def no_aws_configuration(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    """botocore reads endpoints and S3 options from the environment and ~/.aws; none may leak in."""
    for name in ("AWS_ENDPOINT_URL", "AWS_ENDPOINT_URL_S3", "AWS_PROFILE", "AWS_DEFAULT_PROFILE"):
        monkeypatch.delenv(name, raising=False)
    monkeypatch.setenv("AWS_CONFIG_FILE", str(tmp_path / "no-config"))
    monkeypatch.setenv("AWS_SHARED_CREDENTIALS_FILE", str(tmp_path / "no-credentials"))


@functools.cache
def botocore_client(target: Target, token: str | None) -> Any:
    return boto3.session.Session().client(
        "s3",
        region_name=target.region,
        endpoint_url=target.endpoint_url,
        aws_access_key_id=ACCESS_KEY,
        aws_secret_access_key=SECRET_KEY,
        aws_session_token=token,
        config=Config(signature_version="s3v4", s3={"addressing_style": target.addressing_style}),
    )


def botocore_url(
    configuration: Target, operation: str, params: dict[str, Any], token: str | None = None
) -> str:
    client = botocore_client(configuration, token)
    with mock.patch("botocore.auth.get_current_datetime", return_value=SIGNED_AT.replace(tzinfo=None)):
        url: str = client.generate_presigned_url(operation, Params=params, ExpiresIn=EXPIRES_IN)
    return url


def presigner(
    configuration: Target, token: str | None = None, signed_at: datetime = SIGNED_AT
) -> S3Presigner:
    return S3Presigner(
        region=configuration.region,
        endpoint_url=configuration.endpoint_url,
        addressing_style=configuration.addressing_style,
        credentials=SigningCredentials(ACCESS_KEY, SECRET_KEY, token),
        signed_at=signed_at,
    )


def b64(digest: bytes) -> str:
    return base64.b64encode(digest).decode()


def query_of(url: str) -> dict[str, list[str]]:
    return parse_qs(urlsplit(url).query)


# --- Multipart parts -------------------------------------------------------------------------


@pytest.mark.parametrize("configuration", CONFIGURATIONS, ids=lambda t: f"{t.region}-{t.addressing_style}")
@pytest.mark.parametrize("key", KEYS)
@pytest.mark.parametrize("token", [None, SESSION_TOKEN], ids=["long-term", "session"])
@pytest.mark.parametrize("part_number", [1, 10_000])
def test_a_part_url_is_botocores_byte_for_byte(
    configuration: Target, key: str, token: str | None, part_number: int
) -> None:
    expected = botocore_url(
        configuration,
        "upload_part",
        {
            "Bucket": BUCKET,
            "Key": key,
            "PartNumber": part_number,
            "UploadId": UPLOAD_ID,
            "ContentLength": 16 * 1024 * 1024,
        },
        token,
    )

    actual = presigner(configuration, token).presign_upload_part(
        BUCKET, key, UPLOAD_ID, part_number, content_length=16 * 1024 * 1024, expires_in=EXPIRES_IN
    )

    assert actual == expected


@pytest.mark.parametrize("configuration", CONFIGURATIONS, ids=lambda t: f"{t.region}-{t.addressing_style}")
@pytest.mark.parametrize(
    ("sha256", "md5"), [(True, False), (False, True), (True, True)], ids=["sha256", "md5", "both"]
)
def test_a_part_url_pins_the_checksums_as_botocore_does(
    configuration: Target, sha256: bool, md5: bool
) -> None:
    body = b"part bytes"
    checksum = b64(hashlib.sha256(body).digest()) if sha256 else None
    content_md5 = b64(hashlib.md5(body).digest()) if md5 else None  # noqa: S324  # S3's integrity header
    params: dict[str, Any] = {
        "Bucket": BUCKET,
        "Key": "checked/part.bin",
        "PartNumber": 42,
        "UploadId": UPLOAD_ID,
        "ContentLength": len(body),
    }
    if checksum:
        params["ChecksumSHA256"] = checksum
    if content_md5:
        params["ContentMD5"] = content_md5

    actual = presigner(configuration, SESSION_TOKEN).presign_upload_part(
        BUCKET,
        "checked/part.bin",
        UPLOAD_ID,
        42,
        content_length=len(body),
        expires_in=EXPIRES_IN,
        checksum_sha256_b64=checksum,
        content_md5_b64=content_md5,
    )

    assert actual == botocore_url(configuration, "upload_part", params, SESSION_TOKEN)


def test_a_part_url_signs_host_content_length_and_the_checksum() -> None:
    url = presigner(EU_VIRTUAL).presign_upload_part(
        BUCKET, "k", UPLOAD_ID, 7, content_length=5, expires_in=60, checksum_sha256_b64="c2hhMjU2"
    )

    query = query_of(url)
    assert query["X-Amz-SignedHeaders"] == ["content-length;host;x-amz-checksum-sha256"]
    assert query["partNumber"] == ["7"]
    assert query["uploadId"] == [UPLOAD_ID]
    assert query["X-Amz-Expires"] == ["60"]
    assert query["X-Amz-Date"] == ["20261128T173005Z"]
    assert query["X-Amz-Credential"] == [f"{ACCESS_KEY}/20261128/eu-west-1/s3/aws4_request"]
    assert "X-Amz-Security-Token" not in query


# --- Single PUT and GET ----------------------------------------------------------------------


@pytest.mark.parametrize("configuration", CONFIGURATIONS, ids=lambda t: f"{t.region}-{t.addressing_style}")
@pytest.mark.parametrize("key", ["report.pdf", "dir/a b+c%d~é中😀.txt"])
@pytest.mark.parametrize("content_type", [None, "text/plain; charset=utf-8", "application/octet-stream"])
@pytest.mark.parametrize("with_checksum", [False, True], ids=["no-checksum", "checksum"])
def test_a_put_url_is_botocores_byte_for_byte(
    configuration: Target, key: str, content_type: str | None, with_checksum: bool
) -> None:
    checksum = b64(hashlib.sha256(b"hello").digest()) if with_checksum else None
    params: dict[str, Any] = {"Bucket": BUCKET, "Key": key, "ContentLength": 5, "IfNoneMatch": "*"}
    if content_type is not None:
        params["ContentType"] = content_type
    if checksum is not None:
        params["ChecksumSHA256"] = checksum

    actual = presigner(configuration, SESSION_TOKEN).presign_put_object(
        BUCKET,
        key,
        content_length=5,
        content_type=content_type,
        expires_in=EXPIRES_IN,
        checksum_sha256_b64=checksum,
    )

    assert actual == botocore_url(configuration, "put_object", params, SESSION_TOKEN)


@pytest.mark.parametrize("configuration", CONFIGURATIONS, ids=lambda t: f"{t.region}-{t.addressing_style}")
@pytest.mark.parametrize("key", ["report.pdf", "dir/a b+c%d~é中😀.txt"])
@pytest.mark.parametrize("token", [None, SESSION_TOKEN], ids=["long-term", "session"])
def test_a_get_url_with_response_overrides_is_botocores_byte_for_byte(
    configuration: Target, key: str, token: str | None
) -> None:
    # RFC 6266 with an RFC 5987 extended value: quotes, '*', ';', '%' and a fallback name.
    disposition = "attachment; filename=\"resume.pdf\"; filename*=UTF-8''r%C3%A9sum%C3%A9%20(1).pdf"
    overrides = {
        "response-content-disposition": disposition,
        "response-content-type": "application/pdf",
        "response-cache-control": "private, max-age=3600",
        "response-content-language": "fr-CH",
        "response-content-encoding": "identity",
        "response-expires": "Tue, 01 Dec 2026 16:00:00 GMT",
    }
    expected = botocore_url(
        configuration,
        "get_object",
        {
            "Bucket": BUCKET,
            "Key": key,
            "VersionId": "3/L4kqtJlcpXroDTDmJ+rmSpXd3dIbrHY+MTRCxf3vjVBH40Nr8X8gdRQBpUMLUo",
            "ResponseContentDisposition": disposition,
            "ResponseContentType": "application/pdf",
            "ResponseCacheControl": "private, max-age=3600",
            "ResponseContentLanguage": "fr-CH",
            "ResponseContentEncoding": "identity",
            "ResponseExpires": "Tue, 01 Dec 2026 16:00:00 GMT",
        },
        token,
    )

    actual = presigner(configuration, token).presign_get_object(
        BUCKET,
        key,
        expires_in=EXPIRES_IN,
        response_headers=overrides,
        version_id="3/L4kqtJlcpXroDTDmJ+rmSpXd3dIbrHY+MTRCxf3vjVBH40Nr8X8gdRQBpUMLUo",
    )

    assert actual == expected
    assert query_of(actual)["response-content-disposition"] == [disposition]


@pytest.mark.parametrize("configuration", CONFIGURATIONS, ids=lambda t: f"{t.region}-{t.addressing_style}")
def test_a_plain_get_url_is_botocores_byte_for_byte(configuration: Target) -> None:
    actual = presigner(configuration).presign_get_object(BUCKET, "a/b.txt", expires_in=EXPIRES_IN)

    assert actual == botocore_url(configuration, "get_object", {"Bucket": BUCKET, "Key": "a/b.txt"})


def test_a_get_url_matches_the_example_in_the_sigv4_specification() -> None:
    # "Example: GET object" in the S3 API reference, "Authenticating Requests: Using Query Parameters".
    signer = S3Presigner(
        region="us-east-1",
        endpoint_url="https://s3.amazonaws.com",
        addressing_style="virtual",
        credentials=SigningCredentials(
            "AKIAIOSFODNN7EXAMPLE", "wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY", None
        ),
        signed_at=datetime(2013, 5, 24, tzinfo=UTC),
    )

    url = signer.presign_get_object("examplebucket", "test.txt", expires_in=86400)

    assert url == (
        "https://examplebucket.s3.amazonaws.com/test.txt"
        "?X-Amz-Algorithm=AWS4-HMAC-SHA256"
        "&X-Amz-Credential=AKIAIOSFODNN7EXAMPLE%2F20130524%2Fus-east-1%2Fs3%2Faws4_request"
        "&X-Amz-Date=20130524T000000Z&X-Amz-Expires=86400&X-Amz-SignedHeaders=host"
        "&X-Amz-Signature=aeeed9bbccd4d02ee5c0109b86d86835f995330da4c265957d157751f604d404"
    )


# --- Any request, any signed headers ---------------------------------------------------------


@pytest.mark.parametrize("configuration", CONFIGURATIONS, ids=lambda t: f"{t.region}-{t.addressing_style}")
@pytest.mark.parametrize("token", [None, SESSION_TOKEN], ids=["long-term", "session"])
def test_presign_signs_any_headers_as_botocores_query_signer_does(
    configuration: Target, token: str | None
) -> None:
    key = "any/ké y+%.bin"
    query = {"uploads": "", "tagging": "a=b&c", "Zeta": "1", "a-b": "2", "a": "3"}
    headers = {
        "Content-Length": "5",
        "X-Amz-Meta-Title": "  a   title\twith  spaces  ",
        "x-amz-storage-class": "STANDARD_IA",
        "If-None-Match": "*",
    }
    signed = presigner(configuration, token).presign(
        "post", BUCKET, key, expires_in=EXPIRES_IN, query=query, headers=headers
    )
    # The same unsigned request, handed to botocore's signer.
    unsigned = signed.split("?")[0] + "?" + percent_encode_sequence(query)
    request = AWSRequest(method="POST", url=unsigned, headers=headers)
    credentials = Credentials(ACCESS_KEY, SECRET_KEY, token)
    with mock.patch("botocore.auth.get_current_datetime", return_value=SIGNED_AT.replace(tzinfo=None)):
        S3SigV4QueryAuth(credentials, "s3", configuration.region, expires=EXPIRES_IN).add_auth(request)

    assert signed == request.url
    assert query_of(signed)["X-Amz-SignedHeaders"] == [
        "content-length;host;if-none-match;x-amz-meta-title;x-amz-storage-class"
    ]


def test_a_signing_time_in_another_zone_is_the_same_instant_in_utc() -> None:
    in_zurich = SIGNED_AT.astimezone(timezone(timedelta(hours=1)))

    assert presigner(EU_VIRTUAL, signed_at=in_zurich).presign_get_object(
        BUCKET, "k", expires_in=60
    ) == presigner(EU_VIRTUAL).presign_get_object(BUCKET, "k", expires_in=60)


def test_without_a_signing_time_the_url_is_signed_now() -> None:
    signer = S3Presigner(
        region="eu-west-1",
        endpoint_url="https://s3.eu-west-1.amazonaws.com",
        addressing_style="auto",
        credentials=SigningCredentials(ACCESS_KEY, SECRET_KEY, None),
    )

    url = signer.presign_get_object(BUCKET, "k", expires_in=60)

    signed_at = datetime.strptime(query_of(url)["X-Amz-Date"][0], "%Y%m%dT%H%M%SZ").replace(tzinfo=UTC)
    assert abs(signed_at - datetime.now(UTC)) < timedelta(minutes=1)


# --- Addressing ------------------------------------------------------------------------------

HOSTABLE_OR_NOT = ["vellum-data", "my.dotted.bucket", "Legacy_Bucket", "ab", "192.168.1.1", "bucket-"]


@pytest.mark.parametrize(
    "endpoint_url", ["https://s3.eu-west-1.amazonaws.com", "http://s3.eu-west-1.amazonaws.com"]
)
@pytest.mark.parametrize("bucket", HOSTABLE_OR_NOT)
def test_auto_on_an_aws_endpoint_is_botocores_virtual_host_style(endpoint_url: str, bucket: str) -> None:
    # With an explicit endpoint_url botocore's own "auto" is path style; virtual-host style is what it
    # picks when it chooses the endpoint itself, and what "virtual" gives on this one.
    expected = botocore_url(
        Target("eu-west-1", endpoint_url, "virtual"), "get_object", {"Bucket": bucket, "Key": "k"}
    )

    actual = presigner(Target("eu-west-1", endpoint_url, "auto")).presign_get_object(
        bucket, "k", expires_in=EXPIRES_IN
    )

    assert actual == expected


def test_auto_puts_a_dns_compatible_bucket_in_the_host_of_an_aws_endpoint() -> None:
    url = presigner(Target("eu-west-1", "https://s3.eu-west-1.amazonaws.com", "auto")).presign_get_object(
        "vellum-data", "k", expires_in=60
    )

    assert url.startswith("https://vellum-data.s3.eu-west-1.amazonaws.com/k?")


@pytest.mark.parametrize(
    "endpoint_url", ["http://127.0.0.1:4566", "http://[::1]:4566", "http://localhost:4566"]
)
@pytest.mark.parametrize("bucket", HOSTABLE_OR_NOT)
def test_auto_on_any_other_endpoint_is_botocores_path_style(endpoint_url: str, bucket: str) -> None:
    expected = botocore_url(
        Target("us-east-1", endpoint_url, "auto"), "get_object", {"Bucket": bucket, "Key": "k"}
    )

    actual = presigner(Target("us-east-1", endpoint_url, "auto")).presign_get_object(
        bucket, "k", expires_in=EXPIRES_IN
    )

    assert actual == expected
    assert urlsplit(actual).path == f"/{bucket}/k"


@pytest.mark.parametrize("bucket", HOSTABLE_OR_NOT)
def test_virtual_falls_back_to_path_style_as_botocore_does(bucket: str) -> None:
    configuration = Target("eu-west-1", "https://minio.example.com:9000", "virtual")
    expected = botocore_url(configuration, "get_object", {"Bucket": bucket, "Key": "k"})

    assert presigner(configuration).presign_get_object(bucket, "k", expires_in=EXPIRES_IN) == expected


def test_virtual_on_an_ip_endpoint_is_path_style_even_for_a_dotted_bucket() -> None:
    # botocore would sign for http://my.dotted.bucket.127.0.0.1:4566, a host no resolver knows.
    url = presigner(Target("us-east-1", "http://127.0.0.1:4566", "virtual")).presign_get_object(
        "my.dotted.bucket", "k", expires_in=60
    )

    assert url.startswith("http://127.0.0.1:4566/my.dotted.bucket/k?")


# --- Refusals --------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "header", ["Host", "User-Agent", "expect", "Transfer-Encoding", "bad name", "x:y", ""]
)
def test_headers_that_cannot_be_signed_are_refused(header: str) -> None:
    with pytest.raises(ValueError, match="cannot sign the header"):
        presigner(EU_VIRTUAL).presign("PUT", BUCKET, "k", expires_in=60, headers={header: "v"})


def test_a_header_given_twice_is_refused() -> None:
    with pytest.raises(ValueError, match="cannot sign the header"):
        presigner(EU_VIRTUAL).presign(
            "PUT", BUCKET, "k", expires_in=60, headers={"Content-Type": "a/b", "content-type": "c/d"}
        )


@pytest.mark.parametrize("name", ["X-Amz-Signature", "x-amz-expires", "X-Amz-Security-Token"])
def test_query_parameters_of_the_signer_cannot_be_set(name: str) -> None:
    with pytest.raises(ValueError, match="signer's to set"):
        presigner(EU_VIRTUAL).presign("GET", BUCKET, "k", expires_in=60, query={name: "v"})


@pytest.mark.parametrize("expires_in", [0, -1, MAX_EXPIRES_IN + 1])
def test_a_lifetime_beyond_sigv4s_limits_is_refused(expires_in: int) -> None:
    with pytest.raises(ValueError, match="expires_in"):
        presigner(EU_VIRTUAL).presign_get_object(BUCKET, "k", expires_in=expires_in)


def test_the_longest_lifetime_is_seven_days() -> None:
    url = presigner(EU_VIRTUAL).presign_get_object(BUCKET, "k", expires_in=7 * 24 * 3600)

    assert query_of(url)["X-Amz-Expires"] == ["604800"]


@pytest.mark.parametrize("part_number", [0, 10_001])
def test_part_numbers_outside_s3s_range_are_refused(part_number: int) -> None:
    with pytest.raises(ValueError, match="part_number"):
        presigner(EU_VIRTUAL).presign_upload_part(
            BUCKET, "k", UPLOAD_ID, part_number, content_length=1, expires_in=60
        )


def test_a_negative_content_length_is_refused() -> None:
    with pytest.raises(ValueError, match="content_length"):
        presigner(EU_VIRTUAL).presign_put_object(
            BUCKET, "k", content_length=-1, content_type=None, expires_in=60
        )


def test_an_empty_key_is_refused() -> None:
    with pytest.raises(ValueError, match="key"):
        presigner(EU_VIRTUAL).presign_get_object(BUCKET, "", expires_in=60)


@pytest.mark.parametrize("bucket", ["", "a/b", "a b", "bücket", "x" * 256])
def test_an_invalid_bucket_name_is_refused(bucket: str) -> None:
    with pytest.raises(ValueError, match="bucket"):
        presigner(EU_VIRTUAL).presign_get_object(bucket, "k", expires_in=60)


def test_only_s3s_response_overrides_are_accepted() -> None:
    with pytest.raises(ValueError, match="response-content-length"):
        presigner(EU_VIRTUAL).presign_get_object(
            BUCKET, "k", expires_in=60, response_headers={"response-content-length": "1"}
        )


@pytest.mark.parametrize(
    "endpoint_url", ["s3.eu-west-1.amazonaws.com", "ftp://host", "https://host/prefix", "https://host/?a=b"]
)
def test_an_endpoint_must_be_a_bare_http_origin(endpoint_url: str) -> None:
    with pytest.raises(ValueError, match="endpoint_url"):
        presigner(Target("eu-west-1", endpoint_url, "path"))


def test_a_naive_signing_time_is_refused() -> None:
    with pytest.raises(ValueError, match="timezone-aware"):
        presigner(EU_VIRTUAL, signed_at=datetime(2026, 11, 28, 17, 30, 5))  # the point


# --- Credentials -----------------------------------------------------------------------------


@pytest.mark.parametrize("token", [None, SESSION_TOKEN])
def test_credentials_come_from_botocores_frozen_credentials(token: str | None) -> None:
    frozen = Credentials(ACCESS_KEY, SECRET_KEY, token).get_frozen_credentials()

    assert credentials_from(frozen) == SigningCredentials(ACCESS_KEY, SECRET_KEY, token)


def test_credentials_without_a_secret_cannot_sign() -> None:
    frozen = Credentials(ACCESS_KEY, "", None).get_frozen_credentials()

    with pytest.raises(ValueError, match="secret key"):
        credentials_from(frozen)


def test_secrets_stay_out_of_the_repr() -> None:
    text = repr(SigningCredentials(ACCESS_KEY, SECRET_KEY, SESSION_TOKEN))

    assert ACCESS_KEY in text
    assert SECRET_KEY not in text
    assert SESSION_TOKEN not in text


# --- A real HTTP PUT -------------------------------------------------------------------------


@pytest.fixture(scope="module")
def moto_endpoint() -> Iterator[str]:
    """moto's S3 over HTTP on a free loopback port (port 0: the OS picks one, no race)."""
    server = ThreadedMotoServer(ip_address="127.0.0.1", port=0, verbose=False)
    server.start()
    host, port = server.get_host_and_port()
    try:
        yield f"http://{host}:{port}"
    finally:
        server.stop()


def test_a_part_url_uploads_the_part_to_an_s3_server(moto_endpoint: str) -> None:
    # moto checks no signature, length or checksum: this proves the URL's shape is one S3 serves.
    s3 = boto3.session.Session().client(
        "s3",
        region_name="us-east-1",
        endpoint_url=moto_endpoint,
        aws_access_key_id="testing",
        aws_secret_access_key="testing",
        config=Config(signature_version="s3v4", s3={"addressing_style": "path"}),
    )
    key = "uploads/a b+c%é.bin"
    s3.create_bucket(Bucket="vellum-signing")
    upload_id = s3.create_multipart_upload(Bucket="vellum-signing", Key=key)["UploadId"]
    body = b"the only part, so it may be small"
    checksum = b64(hashlib.sha256(body).digest())
    signer = S3Presigner(
        region="us-east-1",
        endpoint_url=moto_endpoint,
        addressing_style="auto",
        credentials=SigningCredentials("testing", "testing", None),
    )
    url = signer.presign_upload_part(
        "vellum-signing",
        key,
        upload_id,
        1,
        content_length=len(body),
        expires_in=EXPIRES_IN,
        checksum_sha256_b64=checksum,
    )

    response = requests.put(url, data=body, headers={"x-amz-checksum-sha256": checksum}, timeout=10)

    assert response.status_code == 200, response.text
    etag = response.headers["ETag"]
    parts = s3.list_parts(Bucket="vellum-signing", Key=key, UploadId=upload_id)["Parts"]
    assert [(part["PartNumber"], part["Size"], part["ETag"]) for part in parts] == [(1, len(body), etag)]
    s3.complete_multipart_upload(
        Bucket="vellum-signing",
        Key=key,
        UploadId=upload_id,
        MultipartUpload={"Parts": [{"PartNumber": 1, "ETag": etag}]},
    )
    assert s3.get_object(Bucket="vellum-signing", Key=key)["Body"].read() == body
