"""HTTP routes of the files API. Each reads the request, calls one service function, shapes the response."""

from __future__ import annotations

from chalice.app import Blueprint, Response

from chalicelib.auth.context import current_principal
from chalicelib.bodies import parse_body
from chalicelib.files import buckets
from chalicelib.files.serializers import bucket_json
from chalicelib.links import base_url

blueprint = Blueprint(__name__)


@blueprint.route("/files", methods=["POST"])
def create_bucket() -> Response:
    request = blueprint.current_request
    spec = parse_body(buckets.NewBucket, request, allow_empty=True)
    bucket = buckets.create_bucket(current_principal(), spec)
    body = bucket_json(bucket, base_url(request))
    return Response(body=body, status_code=201, headers={"Location": body["links"]["self"]})


@blueprint.route("/files/{bucket_id}", methods=["GET"])
def read_bucket(bucket_id: str) -> Response:
    request = blueprint.current_request
    bucket = buckets.get_bucket(current_principal(), bucket_id)
    return Response(body=bucket_json(bucket, base_url(request)))


@blueprint.route("/files/{bucket_id}", methods=["HEAD"])
def bucket_exists(bucket_id: str) -> Response:
    buckets.get_bucket(current_principal(), bucket_id)
    return Response(body="", status_code=200)


@blueprint.route("/files/{bucket_id}", methods=["PATCH"])
def update_bucket(bucket_id: str) -> Response:
    request = blueprint.current_request
    changes = parse_body(buckets.BucketChanges, request)
    bucket = buckets.update_bucket(current_principal(), bucket_id, changes)
    return Response(body=bucket_json(bucket, base_url(request)))


@blueprint.route("/files/{bucket_id}", methods=["DELETE"])
def delete_bucket(bucket_id: str) -> Response:
    buckets.delete_bucket(current_principal(), bucket_id)
    return Response(body="", status_code=204)
