"""The embedded S3 refuses what S3 refuses, so a client that works on `make run` works on AWS.

Each request here is one a real client might send by mistake: a URL it mangled, a header it forgot, a
chunked body, a URL it kept too long, a form that breaks its policy. Each gets S3's status and XML
error, and nothing is written.
"""

from __future__ import annotations

import os
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from typing import Any
from urllib.parse import unquote, urlsplit

import pytest
import requests
from botocore.exceptions import ClientError

from chalicelib.files.signing import S3Presigner, SigningCredentials
from local.environment import REGION
from tests.e2e.test_uploads_over_http import DATA_BUCKET, TIMEOUT, FilesClient
from tests.stack import Stack, make_token

pytestmark = pytest.mark.e2e

ORIGIN = "http://127.0.0.1:5173"  # any origin: the data bucket's CORS rules allow every one locally


@pytest.fixture(scope="module")
def carol(stack: Stack) -> Iterator[FilesClient]:
    client = FilesClient(stack.api, make_token(stack, "carol"))
    yield client
    client.session.close()


def single_put(client: FilesClient, size: int, content_type: str = "text/csv") -> dict[str, Any]:
    bucket = client.new_bucket()
    response = client.session.post(
        f"{client.object_url(bucket, 'data.csv')}?uploads",
        json={"size": size, "content_type": content_type},
        timeout=TIMEOUT,
    )
    assert response.status_code == 201, response.text
    (part,) = response.json()["parts"]
    return part  # type: ignore[no-any-return]


def s3_key(url: str) -> str:
    return unquote(urlsplit(url).path.removeprefix(f"/{DATA_BUCKET}/"))


def assert_s3_error(response: requests.Response, status: int, code: str) -> None:
    assert response.status_code == status, response.text
    assert response.headers["Content-Type"] == "application/xml"
    assert f"<Code>{code}</Code>" in response.text, response.text


def assert_nothing_stored(stack: Stack, url: str) -> None:
    with pytest.raises(ClientError) as missing:
        stack.client("s3").head_object(Bucket=DATA_BUCKET, Key=s3_key(url))
    assert missing.value.response["Error"]["Code"] == "404"


def test_a_tampered_signature_writes_nothing_and_the_true_url_still_works(
    carol: FilesClient, stack: Stack
) -> None:
    data = b"a,b\n1,2\n"
    part = single_put(carol, len(data))
    signature = part["url"].rsplit("=", 1)[1]
    tampered = part["url"].replace(signature, signature[::-1])

    refused = requests.put(tampered, data=data, headers=part["headers"], timeout=TIMEOUT)

    assert_s3_error(refused, 403, "SignatureDoesNotMatch")
    assert "<CanonicalRequest>PUT\n/vellum-local-data/" in refused.text  # what S3 tells a client's developer
    assert_nothing_stored(stack, part["url"])
    assert requests.put(part["url"], data=data, headers=part["headers"], timeout=TIMEOUT).status_code == 200


def test_a_put_without_its_signed_content_type_is_refused(carol: FilesClient, stack: Stack) -> None:
    data = b"x" * 100
    part = single_put(carol, len(data))
    headers = {name: value for name, value in part["headers"].items() if name != "Content-Type"}

    refused = requests.put(part["url"], data=data, headers=headers, timeout=TIMEOUT)

    assert_s3_error(refused, 403, "SignatureDoesNotMatch")
    assert_nothing_stored(stack, part["url"])


def test_a_chunked_put_is_refused_and_the_connection_stays_usable(carol: FilesClient, stack: Stack) -> None:
    data = os.urandom(64 * 1024)
    part = single_put(carol, len(data))
    headers = {name: value for name, value in part["headers"].items() if name != "Content-Length"}

    with requests.Session() as session:
        # A generator body is sent chunked, as `curl -T -` sends a pipe: no Content-Length at all.
        chunked = session.put(
            part["url"], data=iter([data[:1000], data[1000:]]), headers=headers, timeout=TIMEOUT
        )
        assert_s3_error(chunked, 501, "NotImplemented")
        assert "<Header>Transfer-Encoding</Header>" in chunked.text
        assert_nothing_stored(stack, part["url"])
        sent = session.put(part["url"], data=data, headers=part["headers"], timeout=TIMEOUT)
    assert sent.status_code == 200, sent.text


def test_an_expired_url_is_refused_and_an_unsigned_request_is_denied(stack: Stack) -> None:
    s3 = stack.client("s3")
    s3.put_object(Bucket=DATA_BUCKET, Key="fidelity/old.txt", Body=b"kept")
    signer = S3Presigner(
        region=REGION,
        endpoint_url=stack.aws_endpoint,
        addressing_style="path",
        credentials=SigningCredentials("vellum-local", "vellum-local"),
        signed_at=datetime.now(UTC) - timedelta(hours=1),
    )
    url = signer.presign_get_object(DATA_BUCKET, "fidelity/old.txt", expires_in=600)

    expired = requests.get(url, timeout=TIMEOUT)

    assert_s3_error(expired, 403, "AccessDenied")
    assert "<Message>Request has expired</Message>" in expired.text
    assert_s3_error(requests.get(url.split("?")[0], timeout=TIMEOUT), 403, "AccessDenied")


def test_a_refusal_carries_cors_headers_so_a_browser_can_read_it(carol: FilesClient) -> None:
    part = single_put(carol, 10)
    refused = requests.put(part["url"], data=b"0123456789", headers={"Origin": ORIGIN}, timeout=TIMEOUT)
    assert_s3_error(refused, 403, "SignatureDoesNotMatch")
    assert refused.headers["Access-Control-Allow-Origin"] == ORIGIN


def form_upload(client: FilesClient, size: int, content_type: str = "image/png") -> dict[str, Any]:
    bucket = client.new_bucket()
    response = client.session.get(
        f"{client.api}/s3/params",
        params={
            "filename": "photo.png",
            "type": content_type,
            "metadata[bucket]": bucket,
            "metadata[size]": size,
        },
        timeout=TIMEOUT,
    )
    assert response.status_code == 200, response.text
    return response.json()  # type: ignore[no-any-return]


def post_form(form: dict[str, Any], body: bytes, **changes: str) -> requests.Response:
    fields = {**form["fields"], **changes}
    return requests.post(form["url"], data=fields, files={"file": ("photo.png", body)}, timeout=TIMEOUT)


def test_a_form_upload_that_breaks_its_policy_writes_nothing(carol: FilesClient, stack: Stack) -> None:
    form = form_upload(carol, 8)
    key = form["fields"]["key"]

    too_large = post_form(form, b"x" * 9)
    assert_s3_error(too_large, 400, "EntityTooLarge")
    other_type = post_form(form, b"x" * 8, **{"Content-Type": "text/html"})
    assert_s3_error(other_type, 403, "AccessDenied")
    assert "Policy Condition failed" in other_type.text
    other_key = post_form(form, b"x" * 8, key=key + ".html")
    assert_s3_error(other_key, 403, "AccessDenied")
    for written in (key, key + ".html"):
        with pytest.raises(ClientError):
            stack.client("s3").head_object(Bucket=DATA_BUCKET, Key=written)

    accepted = post_form(form, b"x" * 8)
    assert accepted.status_code in (200, 201, 204), accepted.text
    assert stack.client("s3").head_object(Bucket=DATA_BUCKET, Key=key)["ContentLength"] == 8


def test_an_api_token_sent_on_to_s3_is_refused_not_obeyed(carol: FilesClient, stack: Stack) -> None:
    part = single_put(carol, 4)
    bearer = {**part["headers"], "Authorization": carol.session.headers["Authorization"]}
    refused = requests.put(part["url"], data=b"abcd", headers=bearer, timeout=TIMEOUT)
    assert_s3_error(refused, 400, "InvalidArgument")
    assert "Only one auth mechanism allowed" in refused.text
    assert_nothing_stored(stack, part["url"])
