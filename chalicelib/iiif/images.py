"""IIIF images: finding the stored file behind an identifier, and serving its info and pixels.

An identifier is an object version's id, so what it names never changes and its responses can be
cached forever. Access follows the file's bucket: anyone may see a public bucket's current
versions; older versions, and everything in a private bucket, are for its owners and admins.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from pynamodb.exceptions import DoesNotExist

from chalicelib.auth.policy import Action
from chalicelib.auth.principal import Principal
from chalicelib.errors import NotFound
from chalicelib.files import storage
from chalicelib.files.buckets import get_bucket
from chalicelib.files.models import FILE_SK, FileItem, ObjectVersionItem, bucket_pk, file_pk, head_sk
from chalicelib.iiif.geometry import Limits, canonical_path, plan_image
from chalicelib.iiif.info import ImageLimits, info_json
from chalicelib.iiif.render import Pixels, open_upright, render
from chalicelib.iiif.request import ImageRequest
from chalicelib.settings import get_settings

NOT_AN_IMAGE = "No image with this identifier."


@dataclass(frozen=True)
class ImageSource:
    identifier: str
    s3_key: str
    width: int
    height: int
    public: bool  # anyone may see it: responses may sit in shared caches


def limits() -> ImageLimits:
    settings = get_settings()
    return ImageLimits(
        max_width=settings.iiif_max_width,
        max_height=settings.iiif_max_height,
        max_area=settings.iiif_max_area,
        tile_size=settings.iiif_tile_size,
    )


def find_image(principal: Principal, identifier: str) -> ImageSource:
    """The image an identifier names, if ``principal`` may see it (404 alike for hidden and missing)."""
    found = list(ObjectVersionItem.by_version_id.query(f"VER#{identifier}", limit=1)) if identifier else []
    if not found or found[0].delete_marker or found[0].file_id is None:
        raise NotFound(NOT_AN_IMAGE)
    version = found[0]
    try:
        head = ObjectVersionItem.get(bucket_pk(version.bucket_id), head_sk(version.key))
        is_head = head.version_id == version.version_id
    except DoesNotExist:
        is_head = False
    try:
        bucket = get_bucket(
            principal, version.bucket_id, Action.OBJECT_READ if is_head else Action.OBJECT_READ_VERSION
        )
    except NotFound:
        raise NotFound(NOT_AN_IMAGE) from None
    try:
        stored = FileItem.get(file_pk(version.file_id), FILE_SK)
    except DoesNotExist:
        raise NotFound(NOT_AN_IMAGE) from None
    if not stored.image or stored.ingest != "done":
        raise NotFound("This file is not an image, or has not been ingested yet.")
    return ImageSource(
        identifier=identifier,
        s3_key=stored.s3_key,
        width=int(stored.image["width"]),
        height=int(stored.image["height"]),
        public=bucket.public_read and is_head,
    )


def image_info(source: ImageSource, version: str, service_id: str) -> dict[str, Any]:
    return info_json(version, service_id, source.width, source.height, limits())


def plan_pixels(source: ImageSource, request: ImageRequest) -> tuple[str, Callable[[], bytes]]:
    """The request's canonical path (which keys caches), and how to render its pixels.

    Planning is cheap and validates the request (400s); rendering is left to the caller, who
    may not need it (a conditional request whose ETag matches).
    """
    caps = limits()
    plan = plan_image(
        request, source.width, source.height, Limits(caps.max_width, caps.max_height, caps.max_area)
    )
    pixels = Pixels(
        region=(plan.x, plan.y, plan.w, plan.h),
        size=(plan.width, plan.height),
        rotation=plan.rotation,
        mirror=plan.mirror,
        quality=plan.quality,
        format=plan.format,
    )

    def rendered() -> bytes:
        # Until ingest cuts a pyramid, the whole source is decoded for each request.
        return render(open_upright(storage.read_all(source.s3_key)), pixels)

    return canonical_path(request, plan, source.width, source.height), rendered
