"""HTTP routes of the files API. Each reads the request, calls one service function, shapes the response.

Object routes name the key base64url-encoded (chalicelib.files.keys); the Invenio-style upload
protocol lives under the object route, told apart by query parameters, as in invenio-files-rest.
"""

from __future__ import annotations

from typing import Any

from chalice.app import Blueprint, Response

from chalicelib.auth.context import current_principal
from chalicelib.bodies import parse_body
from chalicelib.errors import BadRequest
from chalicelib.files import buckets, objects, uploads
from chalicelib.files.keys import decode_key
from chalicelib.files.planning import parse_part_numbers
from chalicelib.files.serializers import (
    bucket_json,
    signed_request_json,
    upload_json,
    version_json,
)
from chalicelib.links import base_url
from chalicelib.settings import get_settings

blueprint = Blueprint(__name__)


def _query() -> dict[str, str]:
    return dict(blueprint.current_request.query_params or {})


def _json(body: Any, status: int = 200, headers: dict[str, str] | None = None) -> Response:
    return Response(body=body, status_code=status, headers={"Cache-Control": "no-store", **(headers or {})})


@blueprint.route("/files", methods=["POST"])
def create_bucket() -> Response:
    request = blueprint.current_request
    spec = parse_body(buckets.NewBucket, request, allow_empty=True)
    bucket = buckets.create_bucket(current_principal(), spec)
    body = bucket_json(bucket, base_url(request))
    return _json(body, 201, {"Location": body["links"]["self"]})


@blueprint.route("/files/{bucket_id}", methods=["GET"])
def read_bucket(bucket_id: str) -> Response:
    request = blueprint.current_request
    if "uploads" in _query():
        found = uploads.list_uploads(current_principal(), bucket_id)
        return _json({"uploads": [upload_json(upload, base_url(request)) for upload in found]})
    bucket = buckets.get_bucket(current_principal(), bucket_id)
    return _json(bucket_json(bucket, base_url(request)))


@blueprint.route("/files/{bucket_id}", methods=["HEAD"])
def bucket_exists(bucket_id: str) -> Response:
    buckets.get_bucket(current_principal(), bucket_id)
    return Response(body="", status_code=200)


@blueprint.route("/files/{bucket_id}", methods=["PATCH"])
def update_bucket(bucket_id: str) -> Response:
    request = blueprint.current_request
    changes = parse_body(buckets.BucketChanges, request)
    bucket = buckets.update_bucket(current_principal(), bucket_id, changes)
    return _json(bucket_json(bucket, base_url(request)))


@blueprint.route("/files/{bucket_id}", methods=["DELETE"])
def delete_bucket(bucket_id: str) -> Response:
    buckets.delete_bucket(current_principal(), bucket_id)
    return Response(body="", status_code=204)


@blueprint.route("/files/{bucket_id}/{key}", methods=["POST"])
def post_object(bucket_id: str, key: str) -> Response:
    request = blueprint.current_request
    query = _query()
    principal = current_principal()
    if "uploads" in query:
        spec = parse_body(uploads.NewUpload, request)
        upload = uploads.initiate_upload(principal, bucket_id, decode_key(key), spec)
        body = upload_json(upload, base_url(request))
        if not upload.multipart:
            # A single PUT needs one URL: hand it over now and save the client a round trip.
            _, signed = uploads.sign_upload(principal, bucket_id, upload.key, upload.id, None)
            body["parts"] = [signed_request_json(item) for item in signed]
        return _json(body, 201, {"Location": body["links"]["self"]})
    if "uploadId" in query:
        completion = parse_body(uploads.Completion, request, allow_empty=True)
        version = uploads.complete_upload(
            principal, bucket_id, decode_key(key), query["uploadId"], completion
        )
        return _json(version_json(version, base_url(request)))
    raise BadRequest("POST to an object needs ?uploads (start an upload) or ?uploadId= (complete one).")


@blueprint.route("/files/{bucket_id}/{key}", methods=["GET"])
def get_object(bucket_id: str, key: str) -> Response:
    request = blueprint.current_request
    query = _query()
    principal = current_principal()
    object_key = decode_key(key)
    if "uploadId" in query:
        upload_id = query["uploadId"]
        if "partNumbers" in query:
            upload = uploads.get_upload(principal, bucket_id, object_key, upload_id)
            numbers = parse_part_numbers(
                query["partNumbers"], upload.part_count, get_settings().max_parts_per_signing
            )
            upload, signed = uploads.sign_upload(principal, bucket_id, object_key, upload_id, numbers)
            return _json(
                {
                    "upload_id": upload.id,
                    "expires_in": get_settings().presign_expiry_seconds,
                    "parts": [signed_request_json(item) for item in signed],
                }
            )
        upload = uploads.get_upload(principal, bucket_id, object_key, upload_id)
        parts = uploads.uploaded_parts(principal, bucket_id, object_key, upload_id)
        body = upload_json(upload, base_url(request))
        body["parts"] = [{"part_number": p.number, "etag": p.etag, "size": p.size} for p in parts]
        return _json(body)
    url = objects.download_url(
        principal, bucket_id, object_key, query.get("versionId"), download="download" in query
    )
    return Response(body="", status_code=302, headers={"Location": url, "Cache-Control": "no-store"})


@blueprint.route("/files/{bucket_id}/{key}", methods=["DELETE"])
def delete_object(bucket_id: str, key: str) -> Response:
    query = _query()
    if "uploadId" in query:
        uploads.abort_upload(current_principal(), bucket_id, decode_key(key), query["uploadId"])
        return Response(body="", status_code=204)
    raise BadRequest("DELETE of an object needs ?uploadId= for now.")
