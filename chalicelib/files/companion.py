"""Uppy's front door: the routes of Uppy Companion's S3 API, so the stock @uppy/aws-s3 plugin uploads
to Vellum with no custom code (v5 with `endpoint` + `headers`, v6 with `companionEndpoint` + the
session cookie). Each route adapts Companion's shapes to the same upload service the Invenio-style
door uses.

Companion's later calls name an upload by its id and the object key alone, so the upload id given
to Uppy carries the bucket too: "{bucket id}.{upload id}". The target bucket comes in
`metadata.bucket`; the key is `metadata.key`, else the file name. Stock Uppy declares no size when
it starts a multipart upload: with `metadata.size` the parts are planned and signed with their
exact lengths (Uppy's own part size, max(5 MiB, size / 10,000)); without it, completion checks the
parts instead. Errors carry `error` besides `status` and `message`, as Uppy reads them.
"""

from __future__ import annotations

from collections.abc import Callable
from functools import wraps
from typing import Any, ParamSpec

from chalice.app import Blueprint, Response
from pydantic import BaseModel, ConfigDict

from chalicelib.auth.context import current_principal
from chalicelib.bodies import parse_body
from chalicelib.cors import answer_preflights
from chalicelib.errors import NotFound, VellumError, error_body, invalid_field
from chalicelib.files import completion, uploads
from chalicelib.files.buckets import writable_bucket
from chalicelib.files.media_types import UnsafeMediaType, canonical_media_type
from chalicelib.files.models import UploadState
from chalicelib.files.planning import MAX_PARTS, MIN_PART_SIZE, UploadPlan, parse_part_numbers, plan_upload
from chalicelib.files.serializers import object_url
from chalicelib.links import base_url
from chalicelib.settings import get_settings

blueprint = Blueprint(__name__)
Params = ParamSpec("Params")


def companion_errors(view: Callable[Params, Any]) -> Callable[Params, Any]:
    """Answer Vellum's errors in the shape Uppy shows to its user."""

    @wraps(view)
    def adapted(*args: Params.args, **kwargs: Params.kwargs) -> Any:
        try:
            return view(*args, **kwargs)
        except VellumError as error:
            body = {**error_body(error.status, error.message, error.errors), "error": error.message}
            return Response(body=body, status_code=error.status, headers=dict(error.headers.items()))

    return adapted


class NewMultipart(BaseModel):
    model_config = ConfigDict(extra="ignore")

    filename: str
    type: str | None = None
    metadata: dict[str, Any] = {}


class CompanionPart(BaseModel):
    model_config = ConfigDict(extra="ignore")

    PartNumber: int
    ETag: str


class CompanionCompletion(BaseModel):
    model_config = ConfigDict(extra="ignore")

    parts: list[CompanionPart]


def _declared_size(value: object) -> int | None:
    if value is None or value == "":
        return None
    if isinstance(value, int) and not isinstance(value, bool):
        return value
    if isinstance(value, str) and value.isdigit():
        return int(value)
    raise invalid_field("metadata.size", "must be a whole number of bytes")


def _declared_type(value: str | None) -> str | None:
    """The canonical type of what Uppy declares (the file's ``type``); None when it declares none."""
    if not value:
        return None
    try:
        return canonical_media_type(value)
    except UnsafeMediaType as refusal:
        raise invalid_field("type", str(refusal)) from None


def _uppy_plan(size: int | None) -> UploadPlan | None:
    """The parts stock Uppy cuts a file into: max(5 MiB, ceil(size / 10,000)) bytes each."""
    if size is None:
        return None
    part_size = max(MIN_PART_SIZE, -(-size // MAX_PARTS))
    return plan_upload(size, part_size) if size > part_size else UploadPlan(size, part_size, 1)


def _split(upload_id: str) -> tuple[str, str]:
    bucket_id, _, own_id = upload_id.partition(".")
    if not bucket_id or not own_id:
        raise NotFound("No upload with this id.")
    return bucket_id, own_id


def _object_key(key: str | None) -> str:
    if not key:
        raise invalid_field("key", "must be given as ?key=, as Uppy does")
    return key


def _query() -> dict[str, str]:
    return dict(blueprint.current_request.query_params or {})


@blueprint.route("/s3/params", methods=["GET"])
@companion_errors
def form_upload() -> dict[str, Any]:
    """A single upload from a browser: a presigned POST form, recorded by ingest when S3 has it."""
    query = _query()
    bucket = writable_bucket(current_principal(), query.get("metadata[bucket]", ""))
    size = _declared_size(query.get("metadata[size]"))
    key = query.get("metadata[key]") or query.get("filename", "")
    plan = UploadPlan(size, size, 1) if size else None
    if plan is None and "metadata[size]" in query:
        raise invalid_field("metadata.size", "must be at least 1 byte")
    content_type = _declared_type(query.get("type"))
    item = uploads.begin_upload(current_principal(), bucket, key, "post", plan, content_type)
    return {**uploads.presigned_post(item), "headers": {}}


@blueprint.route("/s3/multipart", methods=["POST"])
@companion_errors
def start_multipart() -> dict[str, str]:
    spec = parse_body(NewMultipart, blueprint.current_request)
    bucket = writable_bucket(current_principal(), str(spec.metadata.get("bucket", "")))
    plan = _uppy_plan(_declared_size(spec.metadata.get("size")))
    key = str(spec.metadata.get("key") or spec.filename)
    content_type = _declared_type(spec.type)
    item = uploads.begin_upload(current_principal(), bucket, key, "multipart", plan, content_type)
    return {"key": item.key, "uploadId": f"{bucket.id}.{item.id}", "bucket": bucket.id}


@blueprint.route("/s3/multipart/{upload_id}/batch", methods=["GET"])
@companion_errors
def sign_batch(upload_id: str) -> dict[str, Any]:
    query = _query()
    bucket_id, own_id = _split(upload_id)
    key = _object_key(query.get("key"))
    numbers = parse_part_numbers(
        query.get("partNumbers", ""), MAX_PARTS, get_settings().max_parts_per_signing
    )
    _, signed = uploads.sign_upload(current_principal(), bucket_id, key, own_id, numbers)
    return {"presignedUrls": {str(item.part_number): item.url for item in signed}}


@blueprint.route("/s3/multipart/{upload_id}/complete", methods=["POST"])
@companion_errors
def complete(upload_id: str) -> dict[str, str]:
    request = blueprint.current_request
    bucket_id, own_id = _split(upload_id)
    key = _object_key(_query().get("key"))
    spec = parse_body(CompanionCompletion, request)
    given = uploads.Completion(
        parts=[uploads.CompletedPart(part_number=part.PartNumber, etag=part.ETag) for part in spec.parts]
    )
    version = completion.complete_upload(current_principal(), bucket_id, key, own_id, given)
    return {
        "location": object_url(base_url(request), bucket_id, version.key),
        "key": version.key,
        "bucket": bucket_id,
    }


@blueprint.route("/s3/multipart/{upload_id}/{part_number}", methods=["GET"])
@companion_errors
def sign_part(upload_id: str, part_number: str) -> dict[str, Any]:
    bucket_id, own_id = _split(upload_id)
    key = _object_key(_query().get("key"))
    [number] = parse_part_numbers(part_number, MAX_PARTS, 1)
    _, [signed] = uploads.sign_upload(current_principal(), bucket_id, key, own_id, [number])
    return {"url": signed.url, "expires": get_settings().presign_expiry_seconds}


@blueprint.route("/s3/multipart/{upload_id}", methods=["GET"])
@companion_errors
def list_parts(upload_id: str) -> list[dict[str, Any]]:
    bucket_id, own_id = _split(upload_id)
    key = _object_key(_query().get("key"))
    upload, parts = uploads.upload_progress(current_principal(), bucket_id, key, own_id)
    if upload.state != UploadState.PENDING:
        raise NotFound("No upload in progress with this id.")  # S3's NoSuchUpload, which Uppy expects
    return [{"PartNumber": p.number, "ETag": p.etag, "Size": p.size} for p in parts]


@blueprint.route("/s3/multipart/{upload_id}", methods=["DELETE"])
@companion_errors
def abort(upload_id: str) -> dict[str, Any]:
    bucket_id, own_id = _split(upload_id)
    uploads.abort_upload(current_principal(), bucket_id, _object_key(_query().get("key")), own_id)
    return {}


# Browsers ask before cross-origin calls with an Authorization header (Uppy 5 on another origin).
answer_preflights(
    blueprint,
    [
        "/s3/params",
        "/s3/multipart",
        "/s3/multipart/{upload_id}",
        "/s3/multipart/{upload_id}/batch",
        "/s3/multipart/{upload_id}/complete",
        "/s3/multipart/{upload_id}/{part_number}",
    ],
)
