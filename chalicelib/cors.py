"""Cross-origin access for browsers on the configured origins (VELLUM_CORS_ORIGINS).

The middleware adds the response headers to every answer; ``answer_preflights`` registers the
OPTIONS routes a browser asks before a cross-origin request with an Authorization header.
"""

from __future__ import annotations

from chalice.app import Blueprint, Response

from chalicelib.iiif.auth import origin_allowed
from chalicelib.settings import get_settings

EXPOSED_HEADERS = "ETag, Location, X-Request-Id"
PREFLIGHT_HEADERS: dict[str, str | list[str]] = {
    "Access-Control-Allow-Methods": "GET, HEAD, POST, PUT, PATCH, DELETE, OPTIONS",
    "Access-Control-Allow-Headers": "Authorization, Content-Type, Uppy-Versions",
    "Access-Control-Max-Age": "600",
}
# What IIIF viewers send across origins: a bearer token for restricted images, and an Accept naming
# a JSON-LD profile (its quotes make it a header that needs a preflight). Any origin (see below).
IIIF_PREFLIGHT_HEADERS: dict[str, str | list[str]] = {
    "Access-Control-Allow-Methods": "GET, HEAD, OPTIONS",
    "Access-Control-Allow-Headers": "Authorization, Accept, If-None-Match, Range",
    "Access-Control-Max-Age": "600",
}


# Routes read from anywhere: IIIF (Image API 3.0 section 7.1), and the Authorization Flow's probe.
ANYWHERE_PATHS = ("/iiif/", "/auth/probe/")


def cors_headers(origin: str | None, path: str = "", caching: str = "") -> dict[str, str]:
    """CORS for the configured origins; credentials only for origins named explicitly, never for "*".

    IIIF is made to be embedded anywhere: its routes answer every origin. What shared caches may
    keep (``caching`` public) is anyone's, with a literal "*", the same for every origin, so that a
    CDN may keep it. Anything else (restricted images, their refusals) answers the viewers that the
    IIIF access cookie serves (VELLUM_IIIF_AUTH_ORIGINS) with their own origin and credentials, so
    that a viewer may send the cookie; these answers are never kept by shared caches.
    """
    if path.startswith(ANYWHERE_PATHS):
        if (
            caching.startswith("public")
            or not origin
            or not origin_allowed(origin, get_settings().iiif_auth_origins)
        ):
            return {"Access-Control-Allow-Origin": "*"}
        return {
            "Access-Control-Allow-Origin": origin,
            "Access-Control-Allow-Credentials": "true",
            "Vary": "Origin",
        }
    allowed = get_settings().cors_origins
    if not origin or (origin not in allowed and "*" not in allowed):
        return {}
    headers = {
        "Access-Control-Allow-Origin": origin,
        "Vary": "Origin",
        "Access-Control-Expose-Headers": EXPOSED_HEADERS,
    }
    if origin in allowed:
        headers["Access-Control-Allow-Credentials"] = "true"
    return headers


def answer_preflights(
    blueprint: Blueprint, paths: list[str], headers: dict[str, str | list[str]] = PREFLIGHT_HEADERS
) -> None:
    def preflight(**_: str) -> Response:
        return Response(body="", status_code=204, headers=dict(headers))

    for path in paths:
        blueprint.route(path, methods=["OPTIONS"], name=f"preflight {path}")(preflight)
