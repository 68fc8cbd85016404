"""/static: the scripts and libraries preview pages load (Chalice has no greedy path parameter,
so one route per depth)."""

from __future__ import annotations

from chalice.app import Blueprint, Response

from chalicelib.errors import NotFound
from chalicelib.previews import assets

blueprint = Blueprint(__name__)


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
