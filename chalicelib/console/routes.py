"""The console at /, and the local stage's "sign in as" (a token for any user, for trying Vellum)."""

from __future__ import annotations

import re
from typing import Any

from chalice.app import Blueprint, Request, Response
from pydantic import BaseModel, Field

from chalicelib.auth.tokens import LOCAL_ISSUER, issue_local_token
from chalicelib.bodies import parse_body
from chalicelib.console.page import shell, viewer
from chalicelib.errors import NotFound
from chalicelib.files import storage
from chalicelib.links import base_url, origin
from chalicelib.previews import assets
from chalicelib.settings import Settings, get_settings

blueprint = Blueprint(__name__)

LOCAL_TOKEN_SECONDS = 12 * 3600
RECORD_ID = re.compile(r"[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}")


class LocalSignIn(BaseModel):
    user: str = Field(min_length=1, max_length=64, pattern=r"^[A-Za-z0-9._@-]+$")
    admin: bool = False


@blueprint.route("/", methods=["GET"])
def console() -> Response:
    return console_page(blueprint.current_request)


def console_page(request: Request, access: dict[str, Any] | None = None) -> Response:
    """The console's page; with ``access``, as the IIIF access service (chalicelib/iiif/auth_routes.py)."""
    settings = get_settings()
    base = base_url(request)
    config: dict[str, Any] = {"stage": settings.stage, "signIn": _sign_in(settings)}
    if access is not None:
        config["access"] = access
    token_url = settings.console_token_url
    reached = [storage.data_origin()] + ([origin(str(token_url))] if token_url else [])
    html, headers = shell(f"{base}/static", reached, config)
    return Response(body=html.encode(), headers=dict(headers))


def _sign_in(settings: Settings) -> dict[str, str] | str | None:
    """How the console signs people in: the OpenID Connect provider when one is configured, else
    "sign in as" on the local stage, else not at all (the console says so)."""
    if settings.console_client_id:
        return {
            "authorize": str(settings.console_authorize_url),
            "token": str(settings.console_token_url),
            "clientId": settings.console_client_id,
            "scope": settings.console_scope,
            # Whose ID token the provider answers with: the issuer the API trusts.
            "issuer": settings.token_issuer or LOCAL_ISSUER,
        }
    return "local" if settings.stage == "local" else None


@blueprint.route("/console/viewer/{record_id}", methods=["GET"])
def record_viewer(record_id: str) -> Response:
    """Mirador on the record's manifest (which says, as ever, what the caller may see)."""
    if not RECORD_ID.fullmatch(record_id):
        raise NotFound("No record with this id.")
    base = base_url(blueprint.current_request)
    manifest = f"{base}/iiif/presentation/{record_id}/manifest"
    html, headers = viewer(f"{base}/static", assets.library("mirador"), manifest, storage.data_origin())
    return Response(body=html.encode(), headers=dict(headers))


@blueprint.route("/console/local-token", methods=["POST"])
def local_token() -> Response:
    """A token for whoever the form names: only where tokens are signed with the local secret."""
    settings = get_settings()
    if settings.stage != "local" or not settings.local_token_secret:
        raise NotFound("No such route.")
    spec = parse_body(LocalSignIn, blueprint.current_request)
    roles = [settings.admin_role] if spec.admin else []
    token = issue_local_token(settings.local_token_secret, spec.user, roles, ttl_seconds=LOCAL_TOKEN_SECONDS)
    return Response(
        body={"token": token, "expires_in": LOCAL_TOKEN_SECONDS}, headers={"Cache-Control": "no-store"}
    )
