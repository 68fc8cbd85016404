"""HTTP routes of records. A record's revision travels as its ETag; PUT takes it back as If-Match."""

from __future__ import annotations

import json
from typing import Any
from urllib.parse import urlencode

from chalice.app import Blueprint, Response
from pydantic import RootModel

from chalicelib.auth.context import current_principal
from chalicelib.bodies import parse_body
from chalicelib.cors import answer_preflights
from chalicelib.errors import invalid_field
from chalicelib.files import routes as files_routes
from chalicelib.files.keys import decode_key
from chalicelib.files.serializers import version_json
from chalicelib.links import base_url
from chalicelib.records import files, schema, service, versions
from chalicelib.records.serializers import files_json, record_json, record_summary_json

blueprint = Blueprint(__name__)

MAX_PAGE_SIZE = 100


def _answer(record: service.Record, status: int = 200) -> Response:
    """A record with its files' entries, as the caller may see them; its revision is the ETag."""
    principal = current_principal()
    body = record_json(record, files.entries(principal, record), base_url(blueprint.current_request))
    headers: dict[str, str | list[str]] = {"ETag": f'"{record.revision_id}"', "Cache-Control": "no-store"}
    if status == 201:
        headers["Location"] = body["links"]["self"]
    return Response(body=body, status_code=status, headers=headers)


def _if_match() -> int | None:
    header = blueprint.current_request.headers.get("if-match")
    if header is None:
        return None
    value = header.strip().removeprefix("W/").strip('"')
    if not value.isdigit():
        raise invalid_field("If-Match", "must be the ETag a read of the record answered")
    return int(value)


@blueprint.route("/records", methods=["POST"])
def create() -> Response:
    spec = parse_body(service.RecordSpec, blueprint.current_request)
    return _answer(service.create_record(current_principal(), spec), 201)


@blueprint.route("/schemas/record", methods=["GET"])
def record_schema() -> Response:
    """The JSON Schema of a record's metadata (VELLUM_RECORD_SCHEMA, else the shipped one)."""
    return Response(
        body=json.dumps(schema.record_schema()).encode(),
        headers={"Content-Type": "application/schema+json", "Cache-Control": "public, max-age=300"},
    )


@blueprint.route("/records", methods=["GET"])
def listing() -> Response:
    query = dict(blueprint.current_request.query_params or {})
    text = query.get("limit", "20")
    if not text.isdigit() or not 1 <= int(text) <= MAX_PAGE_SIZE:
        raise invalid_field("limit", f"must be a whole number from 1 to {MAX_PAGE_SIZE}")
    mine = query.get("owner") == "me"
    page = service.list_records(current_principal(), mine=mine, limit=int(text), cursor=query.get("cursor"))
    base = base_url(blueprint.current_request)
    body: dict[str, Any] = {
        "records": [record_summary_json(record, base) for record in page.records],
        "links": {},
    }
    if page.cursor:
        body["links"]["next"] = f"{base}/records?{urlencode({**query, 'cursor': page.cursor})}"
    return Response(body=body, headers={"Cache-Control": "no-store"})


@blueprint.route("/records/{record_id}", methods=["GET"])
def read(record_id: str) -> Response:
    return _answer(service.get_record(current_principal(), record_id))


@blueprint.route("/records/{record_id}", methods=["PUT"])
def update(record_id: str) -> Response:
    spec = parse_body(service.RecordSpec, blueprint.current_request)
    return _answer(service.update_record(current_principal(), record_id, spec, _if_match()))


@blueprint.route("/records/{record_id}", methods=["DELETE"])
def delete(record_id: str) -> Response:
    reason = dict(blueprint.current_request.query_params or {}).get("reason")
    service.delete_record(current_principal(), record_id, reason)
    return Response(body="", status_code=204)


@blueprint.route("/records/{record_id}/publish", methods=["POST"])
def publish(record_id: str) -> Response:
    return _answer(service.publish_record(current_principal(), record_id))


@blueprint.route("/records/{record_id}/versions", methods=["POST"])
def new_version(record_id: str) -> Response:
    return _answer(versions.new_version(current_principal(), record_id), 201)


@blueprint.route("/records/{record_id}/versions", methods=["GET"])
def list_versions(record_id: str) -> Response:
    base = base_url(blueprint.current_request)
    chain = versions.versions(current_principal(), record_id)
    body = [
        {
            **record_summary_json(version.record, base),
            "versions": {"index": version.index, "is_latest": version.is_latest},
        }
        for version in chain
    ]
    return Response(body={"versions": body}, headers={"Cache-Control": "no-store"})


@blueprint.route("/records/{record_id}/latest", methods=["GET"])
def latest(record_id: str) -> Response:
    record = versions.latest(current_principal(), record_id)
    location = f"{base_url(blueprint.current_request)}/records/{record.id}"
    return Response(body="", status_code=302, headers={"Location": location, "Cache-Control": "no-store"})


@blueprint.route("/records/{record_id}/files", methods=["GET"])
def list_files(record_id: str) -> Response:
    record, listed = files.record_files(current_principal(), record_id)
    return Response(body=files_json(record, listed, base_url(blueprint.current_request)))


@blueprint.route("/records/{record_id}/files", methods=["PUT"])
def order(record_id: str) -> Response:
    keys = files.order_files(current_principal(), record_id, _json_body().get("order"))
    return Response(body={"order": keys})


# A record's file uploads, downloads and deletes are the files API's on the record's bucket, behind
# the record's own checks: the same protocol, not a second implementation of it.
@blueprint.route("/records/{record_id}/files/{key}", methods=["POST"])
def post_file(record_id: str, key: str) -> Response:
    request = blueprint.current_request
    if "rename" in (request.query_params or {}):  # the record's own say about the file moves with it
        target = parse_body(files_routes.Rename, request)
        moved = files.rename_file(current_principal(), record_id, decode_key(key), target.to)
        return Response(body=version_json(moved, base_url(request)), headers={"Cache-Control": "no-store"})
    response: Response = files_routes.post_object(
        service.get_draft(current_principal(), record_id).bucket_id, key
    )
    return response


@blueprint.route("/records/{record_id}/files/{key}", methods=["GET"])
def get_file(record_id: str, key: str) -> Response:
    response: Response = files_routes.get_object(
        service.get_record(current_principal(), record_id).bucket_id, key
    )
    return response


@blueprint.route("/records/{record_id}/files/{key}", methods=["DELETE"])
def delete_file(record_id: str, key: str) -> Response:
    response: Response = files_routes.delete_object(
        service.get_draft(current_principal(), record_id).bucket_id, key
    )
    return response


@blueprint.route("/records/{record_id}/files/{key}/content", methods=["GET"])
def content(record_id: str, key: str) -> Response:
    url = files.file_download_url(current_principal(), record_id, decode_key(key))
    return Response(body="", status_code=302, headers={"Location": url, "Cache-Control": "no-store"})


@blueprint.route("/records/{record_id}/files/{key}/metadata", methods=["GET"])
def read_file_metadata(record_id: str, key: str) -> Response:
    return Response(body=files.file_metadata(current_principal(), record_id, decode_key(key)))


@blueprint.route("/records/{record_id}/files/{key}/metadata", methods=["PUT"])
def write_file_metadata(record_id: str, key: str) -> Response:
    return Response(
        body=files.set_file_metadata(current_principal(), record_id, decode_key(key), _json_body())
    )


class JsonObject(RootModel[dict[str, Any]]):
    """Any JSON object."""


def _json_body() -> dict[str, Any]:
    return parse_body(JsonObject, blueprint.current_request).root


answer_preflights(
    blueprint,
    [
        "/records",
        "/records/{record_id}",
        "/records/{record_id}/publish",
        "/records/{record_id}/versions",
        "/records/{record_id}/latest",
        "/records/{record_id}/files",
        "/records/{record_id}/files/{key}",
        "/records/{record_id}/files/{key}/content",
        "/records/{record_id}/files/{key}/metadata",
    ],
)
