"""The IIIF Authorization Flow's services (chalicelib/iiif/auth.py describes them; docs/iiif-auth.md).

- /auth/login: the access service, a page a viewer opens in a window: the console's sign-in, then
  POST /auth/access trades the bearer token for the access cookie;
- /auth/token (2.0) and /auth/1/token (1.0): pages a viewer frames, which post an access token
  for the cookie's session to the viewer's origin;
- /auth/probe/{identifier} (2.0): what the caller would get for a file or image;
- /auth/logout: ends the access session, and every token it gave, at once.
"""

from __future__ import annotations

import base64
import contextlib
import hashlib
import json
from collections.abc import Callable
from html import escape
from typing import Any

from chalice.app import Blueprint, Response

from chalicelib.auth.access import (
    access_session_principal,
    close_access_session,
    issue_access_token,
    open_access_session,
)
from chalicelib.auth.context import current_principal
from chalicelib.auth.cookies import ACCESS_COOKIE, access_cookie, session_key_from_cookies
from chalicelib.auth.principal import Principal
from chalicelib.console.routes import console_page
from chalicelib.cors import IIIF_PREFLIGHT_HEADERS, answer_preflights
from chalicelib.errors import BadRequest, NotFound, Unauthorized, VellumError
from chalicelib.iiif import auth, images
from chalicelib.iiif.identifiers import DEGRADED_SUFFIX
from chalicelib.iiif.probe import probe_status
from chalicelib.links import base_url
from chalicelib.settings import get_settings

blueprint = Blueprint(__name__)
Headers = dict[str, str | list[str]]

# The token page's one script: it posts the message the page holds to the origin it names. Fixed,
# so that its hash is the page's whole script-src; what varies is data, which never runs.
POST_MESSAGE = (
    'const m=document.getElementById("message");'
    "window.parent.postMessage(JSON.parse(m.textContent),m.dataset.origin);"
)
POST_MESSAGE_HASH = base64.b64encode(hashlib.sha256(POST_MESSAGE.encode()).digest()).decode()


@blueprint.route("/auth/login", methods=["GET"])
def login() -> Response:
    """The access service: the console's sign-in page, saying which viewer's origin asked."""
    request = blueprint.current_request
    origin = dict(request.query_params or {}).get("origin")
    access: dict[str, Any] = {"origin": origin if auth.valid_origin(origin) else None}
    # Signed in already (a page reloaded, another viewer): the window says so and closes at once.
    key = _access_key()
    if key is not None:
        with contextlib.suppress(Unauthorized):
            access["signedInAs"] = access_session_principal(key).sub
    return console_page(request, access)


@blueprint.route("/auth/access", methods=["POST"])
def open_access() -> Response:
    """Trade the API's bearer token (never an access token: those only read) for the access cookie."""
    principal = current_principal()
    if principal.anonymous:
        raise Unauthorized("Send the bearer token to trade for an access cookie.")
    key, lifetime = open_access_session(principal, get_settings().iiif_access_max_age_seconds)
    headers: Headers = {"Set-Cookie": access_cookie(key, max_age=lifetime), "Cache-Control": "no-store"}
    return Response(body="", status_code=204, headers=headers)


@blueprint.route("/auth/token", methods=["GET"])
def token2() -> Response:
    message_id, origin = _token_request(required=True)
    assert message_id is not None  # required: refused (400) without one
    return _message_page(_token_message(message_id, origin, auth.token2, auth.token_error2), origin)


@blueprint.route("/auth/1/token", methods=["GET"])
def token1() -> Response:
    """1.0's token service: a page for a viewer's frame (with a messageId), else plain JSON."""
    message_id, origin = _token_request(required=False)
    if message_id is not None:
        return _message_page(_token_message(message_id, origin, auth.token1, auth.token_error1), origin)
    refusal, token = _token_for(origin)
    if token is not None:
        return Response(body=auth.token1(None, *token), headers={"Cache-Control": "no-store"})
    assert refusal is not None
    status = 400 if refusal[0] in ("invalidRequest", "invalidOrigin") else 401
    # 1.0's error object, inside Vellum's own error shape, which every client of the API reads.
    body = {"status": status, "message": refusal[1], **auth.token_error1(None, *refusal)}
    return Response(body=body, status_code=status, headers={"Cache-Control": "no-store"})


@blueprint.route("/auth/logout", methods=["GET"])
def logout() -> Response:
    """End the access session at once, wherever its cookie or tokens went; a page says so."""
    key = _access_key()
    if key is not None:
        close_access_session(key)
    body = (
        '<!doctype html><html lang="en"><head><meta charset="utf-8"><title>Signed out</title>'
        '<meta name="viewport" content="width=device-width,initial-scale=1"></head><body>'
        "<main><h1>Signed out</h1><p>Viewers no longer show you restricted material of this repository. "
        "You may close this window.</p></main></body></html>"
    )
    headers: Headers = {
        "Content-Type": "text/html; charset=utf-8",
        "Set-Cookie": access_cookie("", max_age=0),
        "Cache-Control": "no-store",
        "Content-Security-Policy": "default-src 'none'; frame-ancestors 'none'",
    }
    return Response(body=body.encode(), headers=headers)


@blueprint.route("/auth/probe/{identifier}", methods=["GET"])
def probe(identifier: str) -> Response:
    """2.0's probe: HTTP 200 with the status the caller would get. Unknown and hidden alike are 404:
    a probe is only there for what anyone may know exists."""
    principal = current_principal()
    status = probe_status(principal, identifier)
    if status is None:
        raise NotFound("No file or image with this identifier.")
    substitutes = [] if status == 200 else _substitutes(principal, identifier)
    headers: Headers = {"Content-Type": "application/ld+json", "Cache-Control": "no-store"}
    return Response(body=json.dumps(auth.probe_result(status, substitutes)).encode(), headers=headers)


def _substitutes(principal: Principal, identifier: str) -> list[dict[str, Any]]:
    """The lower tiers the caller may see instead: a restricted image's degraded copy, if its
    record offers one."""
    try:
        tier = images.find_image(principal, identifier + DEGRADED_SUFFIX)
    except VellumError:
        return []  # not an image, or no tier below it
    assert tier.full is not None and tier.full.degraded_size is not None
    service_id = f"{base_url(blueprint.current_request)}/iiif/3/{tier.identifier}"
    return [auth.image_substitute(service_id, tier.width, tier.height, tier.full.degraded_size)]


def _token_request(*, required: bool) -> tuple[str | None, str]:
    """The token request's messageId and origin; a request without a usable origin has nobody to
    post an answer to, so it is refused plainly (400)."""
    asked = dict(blueprint.current_request.query_params or {})
    message_id, origin = asked.get("messageId"), asked.get("origin")
    if (required or message_id is not None) and not auth.valid_message_id(message_id):
        raise BadRequest("The token service needs a messageId: a string of printable characters.")
    if message_id is not None and not auth.valid_origin(origin):
        raise BadRequest(
            "The token service needs the viewer's origin, as postMessage names it (https://viewer.example)."
        )
    return message_id, str(origin or "").removesuffix("/")


def _token_for(origin: str) -> tuple[tuple[str, str] | None, tuple[str, int] | None]:
    """An access token for the request's access cookie, or the error profile and note saying why not."""
    settings = get_settings()
    if origin and not auth.origin_allowed(origin, settings.iiif_auth_origins):
        return (
            "invalidOrigin",
            f"Viewers at {origin} may not show this repository's restricted material.",
        ), None
    key = _access_key()
    if key is None:
        # Also what a browser that blocks third-party cookies shows a viewer on another site.
        return ("missingAspect", "Sign in first: the access service opens a window for it."), None
    try:
        return None, issue_access_token(key, settings.iiif_access_token_seconds)
    except Unauthorized:
        return ("expiredAspect", "The sign-in has ended or was signed out: sign in again."), None


def _token_message(
    message_id: str,
    origin: str,
    token_message: Callable[[str, str, int], dict[str, Any]],
    error_message: Callable[[str, str, str], dict[str, Any]],
) -> dict[str, Any]:
    """What a token page posts, in its generation's words: the token, or why there is none."""
    refusal, token = _token_for(origin)
    if refusal is not None:
        return error_message(message_id, *refusal)
    assert token is not None
    return token_message(message_id, *token)


def _access_key() -> str | None:
    return session_key_from_cookies(blueprint.current_request.headers.get("cookie"), ACCESS_COOKIE)


def _message_page(message: dict[str, Any], origin: str) -> Response:
    """The page a viewer frames: it posts ``message`` to ``origin``, and only there (spec: 200 always)."""
    # In a <script> element, "<" could end it: JSON's escape keeps the text inert.
    data = json.dumps(message).replace("<", "\\u003c").replace(">", "\\u003e").replace("&", "\\u0026")
    body = (
        '<!doctype html><html lang="en"><head><meta charset="utf-8"><title>Token service</title></head><body>'
        f'<script type="application/json" id="message" data-origin="{escape(origin)}">{data}</script>'
        f"<script>{POST_MESSAGE}</script></body></html>"
    )
    headers: Headers = {
        "Content-Type": "text/html; charset=utf-8",
        "Cache-Control": "no-store",
        "Content-Security-Policy": (
            f"default-src 'none'; script-src 'sha256-{POST_MESSAGE_HASH}'; frame-ancestors {origin}"
        ),
        "Referrer-Policy": "no-referrer",
        "X-Content-Type-Options": "nosniff",
    }
    return Response(body=body.encode(), headers=headers)


answer_preflights(blueprint, ["/auth/probe/{identifier}"], IIIF_PREFLIGHT_HEADERS)
