"""The data bucket, as the files service needs it: multipart uploads, object facts, presigned URLs.

Object keys in S3 are opaque and immutable (``data/{file id}``), never built from user keys,
so no user key can reach another bucket's bytes and a renamed or snapshotted file is never copied.
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

from botocore.exceptions import ClientError

from chalicelib import aws
from chalicelib.files.signing import S3Presigner, credentials_from
from chalicelib.links import origin
from chalicelib.resources import DATA_PREFIX, DERIVATIVES_PREFIX, RENDERED_PREFIX
from chalicelib.settings import get_settings


@dataclass(frozen=True)
class StoredPart:
    number: int
    etag: str
    size: int


@dataclass(frozen=True)
class StoredObject:
    size: int
    etag: str


def s3_key(file_id: str) -> str:
    return f"{DATA_PREFIX}{file_id}"


def presigner() -> S3Presigner:
    """A signer for URLs signed now, with the credentials in force now."""
    settings = get_settings()
    endpoint = aws.s3().meta.endpoint_url
    if urlsplit(endpoint).hostname in (None, "s3.amazonaws.com"):
        # The regional endpoint: the global one redirects requests for buckets outside us-east-1.
        endpoint = f"https://s3.{settings.region}.amazonaws.com"
    return S3Presigner(
        region=settings.region,
        endpoint_url=endpoint,
        addressing_style=settings.s3_addressing_style,
        credentials=credentials_from(aws.frozen_credentials()),
    )


def data_origin() -> str:
    """The origin every presigned URL of the data bucket points at (uploads, redirected reads):
    what a page's Content-Security-Policy must allow."""
    return origin(presigner().bucket_url(get_settings().data_bucket))


def start_multipart(key: str, content_type: str | None) -> str:
    params = {"Bucket": get_settings().data_bucket, "Key": key}
    if content_type:
        params["ContentType"] = content_type
    return aws.s3().create_multipart_upload(**params)["UploadId"]  # type: ignore[arg-type]


def list_parts(key: str, upload_id: str) -> list[StoredPart] | None:
    """Every part S3 holds for the upload (ListParts pages hold 1,000 parts); None once S3 no longer
    has the upload (assembled, or aborted)."""
    parts: list[StoredPart] = []
    pages = (
        aws.s3()
        .get_paginator("list_parts")
        .paginate(Bucket=get_settings().data_bucket, Key=key, UploadId=upload_id)
    )
    try:
        for page in pages:
            parts.extend(
                StoredPart(number=part["PartNumber"], etag=part["ETag"], size=part["Size"])
                for part in page.get("Parts", [])
            )
    except ClientError as exc:
        if _code(exc) == "NoSuchUpload":
            return None
        raise
    return parts


def multipart_etag(part_etags: list[str]) -> str:
    """The ETag S3 gives an object assembled from parts with these ETags: the MD5 of their MD5s."""
    joined = b"".join(bytes.fromhex(etag.strip('"')) for etag in part_etags)
    return f"{hashlib.md5(joined, usedforsecurity=False).hexdigest()}-{len(part_etags)}"


def complete_multipart(key: str, upload_id: str, parts: list[StoredPart]) -> None:
    # Only while nothing has the key: the assembled object never replaces recorded bytes.
    aws.s3().complete_multipart_upload(
        Bucket=get_settings().data_bucket,
        Key=key,
        UploadId=upload_id,
        IfNoneMatch="*",
        MultipartUpload={"Parts": [{"PartNumber": p.number, "ETag": p.etag} for p in parts]},
    )


def abort_multipart(key: str, upload_id: str) -> None:
    try:
        aws.s3().abort_multipart_upload(Bucket=get_settings().data_bucket, Key=key, UploadId=upload_id)
    except ClientError as exc:
        if _code(exc) != "NoSuchUpload":
            raise


def stat(key: str) -> StoredObject | None:
    try:
        head = aws.s3().head_object(Bucket=get_settings().data_bucket, Key=key)
    except ClientError as exc:
        if _code(exc) in ("404", "NoSuchKey", "NotFound"):
            return None
        raise
    return StoredObject(size=head["ContentLength"], etag=head["ETag"])


def _code(exc: ClientError) -> str | None:
    return exc.response.get("Error", {}).get("Code")


def restore_version(key: str, etag: str) -> bool:
    """Make the object version with ``etag`` current again by deleting every version written over
    it (the data bucket keeps versions); False when no such version is left."""
    bucket = get_settings().data_bucket
    listed = aws.s3().list_object_versions(Bucket=bucket, Prefix=key)
    # Newest first, as S3 lists the versions of one key.
    versions = [version for version in listed.get("Versions", []) if version["Key"] == key]
    etags = [version["ETag"].strip('"') for version in versions]
    recorded = etag.strip('"')
    if recorded not in etags:
        return False  # nothing to go back to: leave what there is
    for version in versions[: etags.index(recorded)]:
        aws.s3().delete_object(Bucket=bucket, Key=key, VersionId=version["VersionId"])
    return True


def delete(key: str) -> None:
    aws.s3().delete_object(Bucket=get_settings().data_bucket, Key=key)


def presigned_post(
    key: str, fields: dict[str, str], conditions: list[Any], expires_in: int
) -> dict[str, Any]:
    """A browser form upload (S3 POST policy); botocore signs it once per upload, so speed is no concern."""
    post = aws.s3().generate_presigned_post(
        Bucket=get_settings().data_bucket, Key=key, Fields=fields, Conditions=conditions, ExpiresIn=expires_in
    )
    # Posted where the other presigned URLs point (boto3 would name the global endpoint, which a
    # page's policy does not allow); the policy's signature does not cover the URL. The URL ends in
    # "/": clients (Uppy 6) append the key to it for the object's location.
    url = presigner().bucket_url(get_settings().data_bucket)
    return {"method": "POST", "url": url, "fields": post["fields"]}


def sha256(key: str) -> str:
    """The object's SHA-256 in hex, streamed in 1 MiB chunks so memory stays flat."""
    digest = hashlib.sha256()
    body = aws.s3().get_object(Bucket=get_settings().data_bucket, Key=key)["Body"]
    for chunk in body.iter_chunks(1024 * 1024):
        digest.update(chunk)
    return digest.hexdigest()


def s3_checksum(key: str) -> str | None:
    """S3's own full-object checksum of the object, when it keeps one."""
    attributes = (
        aws.s3()
        .get_object_attributes(Bucket=get_settings().data_bucket, Key=key, ObjectAttributes=["Checksum"])
        .get("Checksum", {})
    )
    for name in ("ChecksumCRC64NVME", "ChecksumCRC32C", "ChecksumCRC32", "ChecksumSHA256"):
        if attributes.get(name):
            return f"{name.removeprefix('Checksum').lower()}:{attributes[name]}"
    return None


def read_head(key: str, length: int) -> bytes:
    """The object's first ``length`` bytes (a range read: the rest is never transferred)."""
    return read_range(key, 0, length)


def read_range(key: str, start: int, length: int) -> bytes:
    """``length`` bytes from ``start`` (a range read: nothing else is transferred)."""
    response = aws.s3().get_object(
        Bucket=get_settings().data_bucket, Key=key, Range=f"bytes={start}-{start + length - 1}"
    )
    return response["Body"].read()


def read_all(key: str) -> bytes:
    return aws.s3().get_object(Bucket=get_settings().data_bucket, Key=key)["Body"].read()


def download(key: str, path: Path) -> None:
    """The object into a local file (Lambda's /tmp), streamed: never whole in memory."""
    aws.s3().download_file(get_settings().data_bucket, key, str(path))


# Derivatives (tiles, thumbnails, levels, rendered IIIF answers) live outside DATA_PREFIX, so
# writing them never triggers ingest, and under their file's id, so they go with it. Ingest's go
# under DERIVATIVES_PREFIX; answers rendered on demand under RENDERED_PREFIX (``prefix``), where
# they expire.


def derivative_key(file_id: str, name: str, prefix: str = DERIVATIVES_PREFIX) -> str:
    return f"{prefix}{file_id}/{name}"


def put_derivative(
    file_id: str, name: str, body: bytes, content_type: str, prefix: str = DERIVATIVES_PREFIX
) -> None:
    aws.s3().put_object(
        Bucket=get_settings().data_bucket,
        Key=derivative_key(file_id, name, prefix),
        Body=body,
        ContentType=content_type,
    )


def get_derivative(file_id: str, name: str, prefix: str = DERIVATIVES_PREFIX) -> bytes | None:
    try:
        response = aws.s3().get_object(
            Bucket=get_settings().data_bucket, Key=derivative_key(file_id, name, prefix)
        )
    except ClientError as exc:
        if _code(exc) in ("NoSuchKey", "404"):
            return None
        raise
    return response["Body"].read()


def delete_derivatives(file_id: str) -> None:
    """Every derivative of the file, those rendered on demand too."""
    for prefix in (DERIVATIVES_PREFIX, RENDERED_PREFIX):
        pages = (
            aws.s3()
            .get_paginator("list_objects_v2")
            .paginate(Bucket=get_settings().data_bucket, Prefix=derivative_key(file_id, "", prefix))
        )
        for page in pages:
            keys = [{"Key": item["Key"]} for item in page.get("Contents", [])]
            if keys:
                aws.s3().delete_objects(Bucket=get_settings().data_bucket, Delete={"Objects": keys})  # type: ignore[typeddict-item]


def presign_derivative(file_id: str, name: str, prefix: str = DERIVATIVES_PREFIX) -> str:
    settings = get_settings()
    return presigner().presign_get_object(
        settings.data_bucket,
        derivative_key(file_id, name, prefix),
        expires_in=settings.presign_expiry_seconds,
    )
