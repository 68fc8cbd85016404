"""IIIF Presentation API 3.0 manifests for records: one canvas per image, in the record's file order.

https://iiif.io/api/presentation/3.0/ - viewers (Mirador, the Universal Viewer) open a manifest and
find each image's Image API service on its canvas.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from chalicelib.iiif.auth import AUTH2_CONTEXT, AuthServices
from chalicelib.iiif.identifiers import DEGRADED_SUFFIX
from chalicelib.iiif.pyramid import thumbnail_plan

CONTEXT = "http://iiif.io/api/presentation/3/context.json"


@dataclass(frozen=True)
class CanvasImage:
    identifier: str  # the Image API identifier: the file version's id
    width: int
    height: int
    label: str
    thumbnail: tuple[int, int] | None
    degraded_size: int | None = None  # restricted, with a copy anyone may see (tiered access)


def _language_map(text: str) -> dict[str, list[str]]:
    return {"none": [text]}  # the record does not say which language its metadata is in


def manifest(
    base: str,
    record_id: str,
    metadata: dict[str, Any],
    images: list[CanvasImage],
    auth: AuthServices | None = None,
) -> dict[str, Any]:
    """The record's manifest; with ``auth``, its images are restricted, and each image service says
    how to sign in (Auth 2.0 allows it there as well as in info.json; Mirador 4 reads it from the
    manifest first)."""
    own = f"{base}/iiif/presentation/{record_id}/manifest"
    document: dict[str, Any] = {
        "@context": CONTEXT,
        "id": own,
        "type": "Manifest",
        "label": _language_map(str(metadata.get("title", record_id))),
        "items": [_canvas(base, own, number, image, auth) for number, image in enumerate(images, start=1)],
    }
    if auth is not None and images:
        document["@context"] = [AUTH2_CONTEXT, CONTEXT]
    if isinstance(metadata.get("description"), str):
        document["summary"] = _language_map(metadata["description"])
    license_url = metadata.get("license")
    if isinstance(license_url, str) and license_url.startswith(("http://", "https://")):
        document["rights"] = license_url  # section 3.3.1: a URI, e.g. a Creative Commons licence
    attribution = metadata.get("attribution") or metadata.get("creator")
    if isinstance(attribution, str):
        document["requiredStatement"] = {
            "label": {"en": ["Attribution"]},
            "value": _language_map(attribution),
        }
    if images:
        document["thumbnail"] = _canvas(base, own, 1, images[0], auth)["thumbnail"]
    return document


def _canvas(
    base: str, manifest_id: str, number: int, image: CanvasImage, auth: AuthServices | None
) -> dict[str, Any]:
    service_id = f"{base}/iiif/3/{image.identifier}"
    service: list[dict[str, Any]] = [{"id": service_id, "type": "ImageService3", "profile": "level2"}]
    if auth is not None:
        service[0]["service"] = auth.services(image.identifier)
    canvas_id = f"{manifest_id}/canvas/{number}"
    thumb_w, thumb_h = image.thumbnail or (image.width, image.height)
    thumb_service, thumb_service_id = service, service_id
    if auth is not None and image.degraded_size:
        # From the copy anyone may see: a viewer's thumbnails then show for everyone.
        thumb_service_id = f"{service_id}{DEGRADED_SUFFIX}"
        thumb_service = [{"id": thumb_service_id, "type": "ImageService3", "profile": "level2"}]
        tier = thumbnail_plan(image.width, image.height, image.degraded_size)
        if max(thumb_w, thumb_h) > max(tier.width, tier.height):
            thumb_w, thumb_h = tier.width, tier.height
    return {
        "id": canvas_id,
        "type": "Canvas",
        "label": _language_map(image.label),
        "width": image.width,
        "height": image.height,
        "thumbnail": [
            {
                "id": f"{thumb_service_id}/full/{thumb_w},{thumb_h}/0/default.jpg",
                "type": "Image",
                "format": "image/jpeg",
                "width": thumb_w,
                "height": thumb_h,
                "service": thumb_service,
            }
        ],
        "items": [
            {
                "id": f"{canvas_id}/page",
                "type": "AnnotationPage",
                "items": [
                    {
                        "id": f"{canvas_id}/page/painting",
                        "type": "Annotation",
                        "motivation": "painting",
                        "target": canvas_id,
                        "body": {
                            "id": f"{service_id}/full/max/0/default.jpg",
                            "type": "Image",
                            "format": "image/jpeg",
                            "width": image.width,
                            "height": image.height,
                            "service": service,
                        },
                    }
                ],
            }
        ],
    }
