from __future__ import annotations

from typing import Any

from chalice.app import Blueprint

from chalicelib.auth.context import current_principal

blueprint = Blueprint(__name__)


@blueprint.route("/me", methods=["GET"])
def me() -> dict[str, Any]:
    """Who the caller is, so a client can check its token."""
    return current_principal().to_json()
