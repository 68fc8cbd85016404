from __future__ import annotations

from chalice.app import Blueprint, Response

from chalicelib.health.checks import OK, check_components

blueprint = Blueprint(__name__)


@blueprint.route("/health", methods=["GET"])
def health() -> Response:
    components = check_components()
    healthy = all(state == OK for state in components.values())
    return Response(
        body={"status": "ok" if healthy else "unavailable", "components": components},
        status_code=200 if healthy else 503,
        headers={"Cache-Control": "no-store"},
    )
