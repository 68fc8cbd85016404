"""Preview pages (an object's ``?preview``, a record's ``/preview/{key}``), and /static: the
scripts and libraries they load (Chalice has no greedy path parameter, so one route per depth)."""

from __future__ import annotations

from chalice.app import Blueprint, Response

from chalicelib.auth.context import current_principal
from chalicelib.errors import NotFound
from chalicelib.files.keys import decode_key
from chalicelib.files.routes import GET_HANDLERS, on_object_query
from chalicelib.links import base_url
from chalicelib.previews import assets, service

blueprint = Blueprint(__name__)


@on_object_query(GET_HANDLERS, "preview")
def preview_object(bucket_id: str, key: str, query: dict[str, str]) -> Response:
    html, headers = service.preview_object(
        current_principal(), bucket_id, key, query.get("versionId"), base_url(blueprint.current_request)
    )
    return Response(body=html.encode(), headers=dict(headers))


@blueprint.route("/records/{record_id}/preview/{key}", methods=["GET"])
def preview_record_file(record_id: str, key: str) -> Response:
    html, headers = service.preview_record_file(
        current_principal(), record_id, decode_key(key), base_url(blueprint.current_request)
    )
    return Response(body=html.encode(), headers=dict(headers))


def _serve(*parts: str) -> Response:
    relative = "/".join(parts)
    found = assets.read(relative)
    if found is None:
        raise NotFound("No such static file.")
    body, media_type = found
    caching = "public, max-age=31536000, immutable" if assets.immutable(relative) else "public, max-age=300"
    return Response(
        body=body,
        headers={"Content-Type": media_type, "Cache-Control": caching, "X-Content-Type-Options": "nosniff"},
    )


@blueprint.route("/static/{a}/{b}", methods=["GET"])
def static_2(a: str, b: str) -> Response:
    return _serve(a, b)


@blueprint.route("/static/{a}/{b}/{c}", methods=["GET"])
def static_3(a: str, b: str, c: str) -> Response:
    return _serve(a, b, c)


@blueprint.route("/static/{a}/{b}/{c}/{d}", methods=["GET"])
def static_4(a: str, b: str, c: str, d: str) -> Response:
    return _serve(a, b, c, d)
