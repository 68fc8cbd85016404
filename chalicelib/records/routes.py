"""HTTP routes of records. A record's revision travels as its ETag; PUT takes it back as If-Match."""

from __future__ import annotations

from typing import Any
from urllib.parse import urlencode

from chalice.app import Blueprint, Response

from chalicelib.auth.context import current_principal
from chalicelib.bodies import parse_body
from chalicelib.cors import answer_preflights
from chalicelib.errors import invalid_field
from chalicelib.files.serializers import timestamp
from chalicelib.links import base_url
from chalicelib.records import service

blueprint = Blueprint(__name__)

MAX_PAGE_SIZE = 100


def record_json(record: service.Record, base: str) -> dict[str, Any]:
    own = f"{base}/records/{record.id}"
    return {
        "id": record.id,
        "metadata": record.metadata,
        "revision_id": record.revision_id,
        "state": record.state,
        "access": record.access,
        "bucket_id": record.bucket_id,
        "owners": sorted(record.owners),
        "created": timestamp(record.created),
        "updated": timestamp(record.updated),
        "publication_date": record.publication_date,
        "links": {"self": own, "files": f"{base}/files/{record.bucket_id}", "publish": f"{own}/publish"},
    }


def _answer(record: service.Record, status: int = 200) -> Response:
    body = record_json(record, base_url(blueprint.current_request))
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


@blueprint.route("/records", methods=["GET"])
def listing() -> Response:
    query = dict(blueprint.current_request.query_params or {})
    text = query.get("limit", "20")
    if not text.isdigit() or not 1 <= int(text) <= MAX_PAGE_SIZE:
        raise invalid_field("limit", f"must be a whole number from 1 to {MAX_PAGE_SIZE}")
    mine = query.get("owner") == "me"
    page = service.list_records(current_principal(), mine=mine, limit=int(text), cursor=query.get("cursor"))
    base = base_url(blueprint.current_request)
    body: dict[str, Any] = {"records": [record_json(record, base) for record in page.records], "links": {}}
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
    service.delete_record(current_principal(), record_id)
    return Response(body="", status_code=204)


@blueprint.route("/records/{record_id}/publish", methods=["POST"])
def publish(record_id: str) -> Response:
    return _answer(service.publish_record(current_principal(), record_id))


answer_preflights(blueprint, ["/records", "/records/{record_id}", "/records/{record_id}/publish"])
