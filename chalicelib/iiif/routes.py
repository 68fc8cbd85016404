"""The IIIF routes: the Image API (3.0 under /iiif/3, 2.1 under /iiif/2), records' manifests, and
Content Search in their text."""

from __future__ import annotations

import hashlib
import json

from chalice.app import Blueprint, Response

from chalicelib.auth.context import current_principal
from chalicelib.cors import IIIF_PREFLIGHT_HEADERS, answer_preflights
from chalicelib.errors import NotFound
from chalicelib.iiif import auth, cdn, images, manifests, search, searches
from chalicelib.iiif.info import MEDIA_TYPE, PROFILE
from chalicelib.iiif.render import MEDIA_TYPES
from chalicelib.iiif.request import parse_image_request
from chalicelib.links import base_url
from chalicelib.settings import get_settings

blueprint = Blueprint(__name__)

VERSIONS = ("3", "2")


def _version(version: str) -> str:
    if version not in VERSIONS:
        raise NotFound("The IIIF Image API is served as /iiif/3 (3.0) and /iiif/2 (2.1).")
    return version


def _service_id(version: str, identifier: str) -> str:
    return f"{base_url(blueprint.current_request)}/iiif/{version}/{identifier}"


def _caching(source: images.ImageSource) -> str:
    # Restricted images never go to shared caches (CloudFront, proxies). Version-pinned identifiers
    # never change what they name (images.py), but who may see them can: browsers keep a public
    # answer a bounded time (then revalidate by ETag), the CDN until told to forget it (cdn.py).
    # A restricted one is kept by the browser alone, and asked again each time (an ETag: 304), so
    # that signing out, or another person at the same browser, is refused at once.
    if not source.public:
        return "private, no-cache"
    max_age = get_settings().iiif_max_age_seconds
    if source.full is not None:
        # A degraded tier is anyone's while its record is, and withdrawing a record of restricted
        # files invalidates nothing in the CDN: shared caches keep it no longer than browsers do.
        return f"public, max-age={max_age}"
    return f"public, max-age={max_age}, s-maxage={cdn.SHARED_MAX_AGE}"


def _profile_link(version: str) -> str:
    return f'<{PROFILE[version]}>;rel="profile"'


@blueprint.route("/iiif/{version}/{identifier}", methods=["GET"])
def base_uri(version: str, identifier: str) -> Response:
    """3.0 section 2.2: the base URI redirects to the image information."""
    version = _version(version)
    return Response(
        body=b"", status_code=303, headers={"Location": f"{_service_id(version, identifier)}/info.json"}
    )


@blueprint.route("/iiif/{version}/{identifier}/info.json", methods=["GET", "HEAD"])
def info(version: str, identifier: str) -> Response:
    """The image information; for a restricted image, with the Authorization Flow's services, and
    also to those who may not see it (401 or 403, as Auth 1.0 clients need to learn how to sign in)."""
    version = _version(version)
    request = blueprint.current_request
    status, refusal_headers = 200, {}
    try:
        source = images.find_image(current_principal(), identifier)
    except images.RestrictedImage as refusal:
        source, status, refusal_headers = refusal.source, refusal.status, refusal.headers
        if source.degraded_identifier:
            # Auth 1.0 section 3.2: to a lower tier, whose info.json carries the way to sign in.
            location = f"{_service_id(version, source.degraded_identifier)}/info.json"
            return Response(
                body=b"", status_code=302, headers={"Location": location, "Cache-Control": "no-store"}
            )
    document = images.image_info(source, version, _service_id(version, identifier))
    # Where anyone may know of the image (a public record's restricted files): a draft's, seen
    # only by its owners on Vellum's own pages, needs no sign-in prompt in their viewer.
    if source.listed and not source.public:
        document = auth.with_services(document, _auth_services().services(identifier))
    elif source.full is not None:
        # A degraded tier offers 1.0's sign-in, which leads a client back to the full image; not
        # 2.0's probe, whose client learns of tiers from the full image's probe (2.0 section 7.1).
        document = auth.with_services(document, [_auth_services().login1()])
    # 3.0 section 5.1: JSON-LD for clients that ask for it, plain JSON otherwise.
    wants_ld = "application/ld+json" in request.headers.get("accept", "")
    # Bytes: to Chalice every body here is binary (chalicelib.api), and JSON-LD is not JSON to it.
    body = json.dumps(document).encode()
    headers: dict[str, str | list[str]] = {
        "Content-Type": MEDIA_TYPE[version] if wants_ld else "application/json",
        "Link": _profile_link(version),
        "Cache-Control": _caching(source) if status == 200 else "no-store",
        # Of the bytes themselves: a document that ever changed (the record's licence) changes it too.
        "ETag": f'"{hashlib.sha256(body).hexdigest()[:32]}"',
        **refusal_headers,
    }
    if status == 200 and headers["ETag"] in request.headers.get("if-none-match", ""):
        return Response(body=b"", status_code=304, headers=headers)
    return Response(body=b"" if request.method == "HEAD" else body, status_code=status, headers=headers)


def _auth_services() -> auth.AuthServices:
    return auth.AuthServices(base_url(blueprint.current_request), get_settings().iiif_access_profile)


@blueprint.route(
    "/iiif/{version}/{identifier}/{region}/{size}/{rotation}/{quality_format}", methods=["GET", "HEAD"]
)
def image(
    version: str, identifier: str, region: str, size: str, rotation: str, quality_format: str
) -> Response:
    version = _version(version)
    source = images.find_image(current_principal(), identifier)
    request = blueprint.current_request
    parsed = parse_image_request(version, region, size, rotation, quality_format)
    canonical, produce = images.plan_pixels(source, parsed)
    # Weak: the same pixels always, though another encoder (a Pillow upgrade) may give other bytes.
    etag = f'W/"{hashlib.sha256(f"{identifier}/{canonical}".encode()).hexdigest()[:32]}"'
    headers: dict[str, str | list[str]] = {
        "Content-Type": MEDIA_TYPES[parsed.format],
        "Link": f'<{_service_id(version, identifier)}/{canonical}>;rel="canonical", {_profile_link(version)}',
        "Cache-Control": _caching(source),
        "ETag": etag,
    }
    # The pixels behind an identifier and a canonical path never change: a matching ETag needs no render.
    if etag in request.headers.get("if-none-match", ""):
        return Response(body=b"", status_code=304, headers=headers)
    if request.method == "HEAD":
        return Response(body=b"", headers=headers)
    answer = produce()
    if isinstance(answer, images.Redirect):
        # The presigned URL dies long before a year: nobody may keep the redirect longer than it lives.
        lifetime = get_settings().presign_expiry_seconds // 2
        kept = f"{'public' if source.public else 'private'}, max-age={lifetime}"
        return Response(
            body=b"", status_code=303, headers={**headers, "Cache-Control": kept, "Location": answer.url}
        )
    return Response(body=answer, headers=headers)


@blueprint.route("/iiif/presentation/{record_id}/manifest", methods=["GET"])
def record_manifest(record_id: str) -> Response:
    """A IIIF Presentation 3.0 manifest of the record's images, for viewers."""
    document, public = manifests.record_manifest(
        current_principal(), record_id, base_url(blueprint.current_request), _auth_services()
    )
    headers: dict[str, str | list[str]] = {
        "Content-Type": 'application/ld+json;profile="http://iiif.io/api/presentation/3/context.json"',
        # A record changes while a draft: revalidate, and keep restricted ones out of shared caches.
        "Cache-Control": "public, max-age=300" if public else "private, no-cache",
    }
    return Response(body=json.dumps(document).encode(), headers=headers)


@blueprint.route("/iiif/search/{version}/{record_id}", methods=["GET"])
def search_record(version: str, record_id: str) -> Response:
    """IIIF Content Search over the words of the record's PDFs: 2.0 under /iiif/search/2, and
    1.0, which Mirador 4 reads, under /iiif/search/1."""
    if version not in ("1", "2"):
        raise NotFound("IIIF Content Search is served as /iiif/search/2 (2.0) and /iiif/search/1 (1.0).")
    query = dict(blueprint.current_request.query_params or {})
    results, public = searches.search_record(
        current_principal(),
        record_id,
        base_url(blueprint.current_request),
        version,
        query.get("q"),
        query.get("page"),
    )
    document = search.search2(results) if version == "2" else search.search1(results)
    context = search.SEARCH2_CONTEXT if version == "2" else search.SEARCH1_CONTEXT
    headers: dict[str, str | list[str]] = {
        "Content-Type": f'application/ld+json;profile="{context}"',
        "Cache-Control": "public, max-age=300" if public else "private, no-cache",
    }
    return Response(body=json.dumps(document, ensure_ascii=False).encode(), headers=headers)


answer_preflights(
    blueprint,
    [
        "/iiif/{version}/{identifier}",
        "/iiif/{version}/{identifier}/info.json",
        "/iiif/{version}/{identifier}/{region}/{size}/{rotation}/{quality_format}",
        "/iiif/presentation/{record_id}/manifest",
        "/iiif/search/{version}/{record_id}",
    ],
    IIIF_PREFLIGHT_HEADERS,
)
