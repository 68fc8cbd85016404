from __future__ import annotations

from typing import Any

from chalice.app import Blueprint, Response

from chalicelib.auth.context import current_principal, session_key
from chalicelib.auth.cookies import expired_session_cookie, session_cookie
from chalicelib.auth.session import close_session, open_session
from chalicelib.errors import Unauthorized
from chalicelib.settings import get_settings

blueprint = Blueprint(__name__)


@blueprint.route("/me", methods=["GET"])
def me() -> dict[str, Any]:
    """Who the caller is, so a client can check its token."""
    return current_principal().to_json()


@blueprint.route("/session", methods=["POST"])
def start_session() -> Response:
    """Trade the bearer token for a session cookie (for clients that send no headers: Uppy v6)."""
    authorization = blueprint.current_request.headers.get("authorization", "")
    principal = current_principal()
    if principal.anonymous or not authorization.lower().startswith("bearer "):
        raise Unauthorized("Send the bearer token to trade for a session cookie.")
    settings = get_settings()
    key, lifetime = open_session(principal, settings.max_token_lifetime_seconds)
    cookie = session_cookie(key, secure=settings.stage != "local", max_age=lifetime)
    return Response(body="", status_code=204, headers={"Set-Cookie": cookie, "Cache-Control": "no-store"})


@blueprint.route("/session", methods=["DELETE"])
def end_session() -> Response:
    """End the cookie's session for good: the key stops working wherever it was copied to."""
    key = session_key(blueprint.current_request)
    if key is not None:
        close_session(key)
    cookie = expired_session_cookie(secure=get_settings().stage != "local")
    return Response(body="", status_code=204, headers={"Set-Cookie": cookie, "Cache-Control": "no-store"})
