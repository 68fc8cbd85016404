"""The one S3 origin a page reaches: what the console's and viewer's policies allow must be where
every URL Vellum gives them points (form uploads, part uploads, redirected image answers)."""

from __future__ import annotations

from urllib.parse import urlsplit

import pytest

from chalicelib import aws
from chalicelib.files import storage
from chalicelib.settings import Settings


def origin(url: str) -> str:
    parts = urlsplit(url)
    return f"{parts.scheme}://{parts.netloc}"


@pytest.mark.parametrize("region", ["us-east-1", "eu-west-1"])
@pytest.mark.parametrize("bucket", ["vellum-data", "vellum.data"])
def test_every_presigned_url_is_at_the_data_origin_in_production(
    local_env: Settings, monkeypatch: pytest.MonkeyPatch, region: str, bucket: str
) -> None:
    # Production: S3's own endpoints, none configured (boto3 would sign form uploads for the
    # global s3.amazonaws.com, our signer for the regional endpoint).
    monkeypatch.delenv("AWS_ENDPOINT_URL_S3", raising=False)
    monkeypatch.setenv("AWS_REGION", region)
    monkeypatch.setenv("VELLUM_DATA_BUCKET", bucket)
    from chalicelib.settings import get_settings

    get_settings.cache_clear()
    aws.reset_clients()

    allowed = storage.data_origin()
    form = storage.presigned_post("k", {}, [], expires_in=60)
    part = storage.presigner().presign_upload_part(bucket, "k", "upload", 1, expires_in=60, content_length=5)

    assert allowed.startswith("https://")
    assert origin(form["url"]) == origin(part) == origin(storage.presign_derivative("f", "x")) == allowed
    assert urlsplit(form["url"]).path in ("/", f"/{bucket}/")
