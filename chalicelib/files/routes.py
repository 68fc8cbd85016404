"""HTTP routes of the files API. Each reads the request, calls one service function, shapes the response.

Object routes name the key base64url-encoded (chalicelib.files.keys); the Invenio-style upload
protocol lives under the object route, told apart by query parameters, as in invenio-files-rest.
"""

from __future__ import annotations

from collections.abc import Callable
from email.utils import format_datetime
from typing import Any
from urllib.parse import urlencode

from chalice.app import Blueprint, Response
from pydantic import BaseModel, ConfigDict

from chalicelib.auth.context import current_principal
from chalicelib.bodies import parse_body
from chalicelib.cors import answer_preflights
from chalicelib.errors import BadRequest, invalid_field
from chalicelib.files import buckets, completion, integrity, objects, uploads
from chalicelib.files.keys import decode_key
from chalicelib.files.serializers import (
    bucket_json,
    object_meta_json,
    signed_request_json,
    timestamp,
    upload_json,
    upload_progress_json,
    version_json,
)
from chalicelib.files.stored import stored_files
from chalicelib.files.tags import TagSet, validate_tags
from chalicelib.links import base_url
from chalicelib.settings import get_settings

blueprint = Blueprint(__name__)


class Rename(BaseModel):
    model_config = ConfigDict(extra="forbid")

    to: str


DEFAULT_PAGE_SIZE = 100
MAX_PAGE_SIZE = 1000


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
    query = _query()
    principal = current_principal()
    base = base_url(request)
    if "uploads" in query:
        found = uploads.list_uploads(principal, bucket_id)
        return _json({"uploads": [upload_json(upload, base) for upload in found]})
    if "tags" in query:
        return _json({"tags": buckets.get_bucket(principal, bucket_id).tags})
    page = objects.list_objects(
        principal,
        bucket_id,
        prefix=query.get("prefix", ""),
        versions="versions" in query,
        limit=_limit(query),
        cursor=query.get("cursor"),
    )
    body = bucket_json(page.bucket, base)
    # Each entry is the object's own JSON (`?meta`): a gallery needs no request per file.
    files = stored_files([version.file_id for version in page.versions if version.file_id])
    body["contents"] = [
        object_meta_json(version, files.get(version.file_id or ""), base) for version in page.versions
    ]
    if page.cursor:
        following = {key: value for key, value in query.items() if key != "cursor"}
        following["cursor"] = page.cursor
        body["links"]["next"] = f"{body['links']['self']}?{urlencode(following)}"
    return _json(body)


def _limit(query: dict[str, str]) -> int:
    text = query.get("limit", str(DEFAULT_PAGE_SIZE))
    if not text.isdigit() or not 1 <= int(text) <= MAX_PAGE_SIZE:
        raise invalid_field("limit", f"must be a whole number from 1 to {MAX_PAGE_SIZE}")
    return int(text)


@blueprint.route("/files/{bucket_id}", methods=["PUT"])
def put_bucket_tags(bucket_id: str) -> Response:
    request = blueprint.current_request
    if "tags" not in _query():
        raise BadRequest("PUT to a bucket needs ?tags (replace its tags).")
    tags = validate_tags(parse_body(TagSet, request).root)
    bucket = buckets.set_bucket_tags(current_principal(), bucket_id, tags)
    return _json({"tags": bucket.tags})


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


# What GET and POST on an object do is told apart by a query flag, as in invenio-files-rest. Each
# flag has its handler, which is handed the bucket id, the decoded key and the query; the first
# flag (in registration order) present in the query wins.
ObjectHandler = Callable[[str, str, dict[str, str]], Response]
GET_HANDLERS: dict[str, ObjectHandler] = {}
POST_HANDLERS: dict[str, ObjectHandler] = {}


def on_object_query(
    handlers: dict[str, ObjectHandler], flag: str
) -> Callable[[ObjectHandler], ObjectHandler]:
    """Register the handler of ``?flag`` on an object (other packages add theirs: previews)."""

    def register(handler: ObjectHandler) -> ObjectHandler:
        handlers[flag] = handler
        return handler

    return register


def _handler(handlers: dict[str, ObjectHandler], query: dict[str, str]) -> ObjectHandler | None:
    return next((handler for flag, handler in handlers.items() if flag in query), None)


@blueprint.route("/files/{bucket_id}/{key}", methods=["POST"])
def post_object(bucket_id: str, key: str) -> Response:
    query = _query()
    handler = _handler(POST_HANDLERS, query)
    if handler is None:
        raise BadRequest(
            "POST to an object needs ?uploads (start an upload), ?uploadId= (complete one), "
            "?rename, ?restore&versionId= or ?check."
        )
    return handler(bucket_id, decode_key(key), query)


@on_object_query(POST_HANDLERS, "uploads")
def initiate_upload(bucket_id: str, key: str, query: dict[str, str]) -> Response:
    request = blueprint.current_request
    spec = parse_body(uploads.NewUpload, request)
    upload, signed = uploads.initiate_upload(current_principal(), bucket_id, key, spec)
    body = upload_json(upload, base_url(request))
    if signed:
        body["parts"] = [signed_request_json(item) for item in signed]
    return _json(body, 201, {"Location": body["links"]["self"]})


@on_object_query(POST_HANDLERS, "uploadId")
def complete_upload(bucket_id: str, key: str, query: dict[str, str]) -> Response:
    request = blueprint.current_request
    given = parse_body(uploads.Completion, request, allow_empty=True)
    version = completion.complete_upload(current_principal(), bucket_id, key, query["uploadId"], given)
    return _json(version_json(version, base_url(request)))


@on_object_query(POST_HANDLERS, "rename")
def rename_object(bucket_id: str, key: str, query: dict[str, str]) -> Response:
    request = blueprint.current_request
    target = parse_body(Rename, request)
    version = objects.rename_object(current_principal(), bucket_id, key, target.to)
    return _json(version_json(version, base_url(request)))


@on_object_query(POST_HANDLERS, "restore")
def restore_version(bucket_id: str, key: str, query: dict[str, str]) -> Response:
    if not query.get("versionId"):
        raise BadRequest("?restore needs ?versionId=: the version to make current again.")
    version = objects.restore_version(current_principal(), bucket_id, key, query["versionId"])
    return _json(version_json(version, base_url(blueprint.current_request)))


@on_object_query(POST_HANDLERS, "check")
def check_object(bucket_id: str, key: str, query: dict[str, str]) -> Response:
    result = integrity.request_check(current_principal(), bucket_id, key, query.get("versionId"))
    if result is None:
        return _json({"message": "The file is too large to check within a request: it is next in line."}, 202)
    return _json(
        {"last_check": result.ok, "last_check_at": timestamp(result.checked_at), "reason": result.reason}
    )


@blueprint.route("/files/{bucket_id}/{key}", methods=["GET"])
def get_object(bucket_id: str, key: str) -> Response:
    query = _query()
    handler = _handler(GET_HANDLERS, query) or download_object
    return handler(bucket_id, decode_key(key), query)


@on_object_query(GET_HANDLERS, "uploadId")
def read_upload(bucket_id: str, key: str, query: dict[str, str]) -> Response:
    """The upload and the parts S3 holds; with ``partNumbers``, signed requests for those parts."""
    principal = current_principal()
    if "partNumbers" in query:
        upload, signed = uploads.sign_requested_parts(
            principal, bucket_id, key, query["uploadId"], query["partNumbers"]
        )
        return _json(
            {
                "upload_id": upload.id,
                "expires_in": get_settings().presign_expiry_seconds,
                "parts": [signed_request_json(item) for item in signed],
            }
        )
    upload, parts = uploads.upload_progress(principal, bucket_id, key, query["uploadId"])
    return _json(upload_progress_json(upload, parts, base_url(blueprint.current_request)))


@on_object_query(GET_HANDLERS, "meta")
def read_object_meta(bucket_id: str, key: str, query: dict[str, str]) -> Response:
    version, stored = objects.describe_object(current_principal(), bucket_id, key, query.get("versionId"))
    return _json(object_meta_json(version, stored, base_url(blueprint.current_request)))


@on_object_query(GET_HANDLERS, "tags")
def read_object_tags(bucket_id: str, key: str, query: dict[str, str]) -> Response:
    version = objects.read_object(current_principal(), bucket_id, key, query.get("versionId"))
    return _json({"tags": version.tags})


def download_object(bucket_id: str, key: str, query: dict[str, str]) -> Response:
    url = objects.download_url(
        current_principal(), bucket_id, key, query.get("versionId"), download="download" in query
    )
    return Response(body="", status_code=302, headers={"Location": url, "Cache-Control": "no-store"})


@blueprint.route("/files/{bucket_id}/{key}", methods=["HEAD"])
def object_exists(bucket_id: str, key: str) -> Response:
    version = objects.read_object(current_principal(), bucket_id, decode_key(key), _query().get("versionId"))
    return Response(
        body="",
        status_code=200,
        headers={
            "ETag": f'"{version.version_id}"',
            "Last-Modified": format_datetime(version.created, usegmt=True),
        },
    )


@blueprint.route("/files/{bucket_id}/{key}", methods=["PUT"])
def put_object_tags(bucket_id: str, key: str) -> Response:
    request = blueprint.current_request
    query = _query()
    if "tags" not in query:
        raise BadRequest("PUT to an object needs ?tags: its bytes go straight to S3 (POST ?uploads).")
    tags = validate_tags(parse_body(TagSet, request).root)
    version = objects.set_tags(current_principal(), bucket_id, decode_key(key), query.get("versionId"), tags)
    return _json({"tags": version.tags})


@blueprint.route("/files/{bucket_id}/{key}", methods=["DELETE"])
def delete_object(bucket_id: str, key: str) -> Response:
    query = _query()
    principal = current_principal()
    object_key = decode_key(key)
    if "uploadId" in query:
        uploads.abort_upload(principal, bucket_id, object_key, query["uploadId"])
    elif "versionId" in query:
        objects.delete_version(principal, bucket_id, object_key, query["versionId"])
    else:
        objects.delete_object(principal, bucket_id, object_key)
    return Response(body="", status_code=204)


answer_preflights(blueprint, ["/files", "/files/{bucket_id}", "/files/{bucket_id}/{key}"])
