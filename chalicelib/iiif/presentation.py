"""IIIF Presentation API 3.0 manifests for records: one canvas per image, in the record's file order;
a multi-page file (a PDF, a multi-page TIFF) has one canvas per page and a range (3.0 section
5.5) holding them, so viewers show its structure, and each of its canvases names the file itself
as its ``rendering``.

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
class SourceFile:
    """The file a multi-page file's canvases come from."""

    url: str  # where it is downloaded
    label: str
    format: str  # its media type


@dataclass(frozen=True)
class CanvasImage:
    identifier: str  # the Image API identifier: the file version's id, with its page for a page
    width: int
    height: int
    label: str
    thumbnail: tuple[int, int] | None
    degraded_size: int | None = None  # restricted, with a copy anyone may see (tiered access)
    source: SourceFile | None = None  # a page's: its file (consecutive pages of one share it)


@dataclass(frozen=True)
class CanvasMedia:
    """A sound or a video: a canvas as long as it lasts, painted with the file itself."""

    identifier: str  # its file version's id (the probe's, when it is restricted)
    url: str  # where the file is read (a redirect to S3, which serves ranges)
    format: str  # its media type
    kind: str  # "Sound" or "Video"
    duration: float
    width: int | None  # a video's
    height: int | None
    label: str
    still: CanvasImage  # a video's poster or a sound's waveform: the canvas's thumbnail
    source: None = None  # it is no page of a file

    def body(self, auth: AuthServices | None) -> dict[str, Any]:
        body: dict[str, Any] = {
            "id": self.url,
            "type": self.kind,
            "format": self.format,
            "duration": self.duration,
        }
        if self.width and self.height:
            body |= {"width": self.width, "height": self.height}
        if auth is not None:  # Auth 2.0 section 4: a restricted resource names its probe
            body["service"] = [auth.probe2(self.identifier)]
        return body


Item = CanvasImage | CanvasMedia


def manifest_id(base: str, record_id: str) -> str:
    return f"{base}/iiif/presentation/{record_id}/manifest"


def canvas_id(base: str, record_id: str, number: int) -> str:
    """The id of the record's canvas ``number`` (from 1, in the order of the manifest's items)."""
    return f"{manifest_id(base, record_id)}/canvas/{number}"


def _language_map(text: str) -> dict[str, list[str]]:
    return {"none": [text]}  # the record does not say which language its metadata is in


def manifest(
    base: str,
    record_id: str,
    metadata: dict[str, Any],
    images: list[Item],
    auth: AuthServices | None = None,
) -> dict[str, Any]:
    """The record's manifest; with ``auth``, its images are restricted, and each image service says
    how to sign in (Auth 2.0 allows it there as well as in info.json; Mirador 4 reads it from the
    manifest first)."""
    own = manifest_id(base, record_id)
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
    ranges = _ranges(own, images)
    if ranges:
        document["structures"] = ranges
    return document


def _ranges(own: str, images: list[Item]) -> list[dict[str, Any]]:
    """A range per multi-page file, holding its pages' canvases in order."""
    ranges: list[dict[str, Any]] = []
    previous = None
    for number, image in enumerate(images, start=1):
        canvas = {"id": f"{own}/canvas/{number}", "type": "Canvas"}
        if image.source is not None and image.source is previous:
            ranges[-1]["items"].append(canvas)
        elif image.source is not None:
            label = _language_map(image.source.label)
            range_id = f"{own}/range/{len(ranges) + 1}"
            ranges.append({"id": range_id, "type": "Range", "label": label, "items": [canvas]})
        previous = image.source
    return ranges


def _canvas(base: str, own: str, number: int, item: Item, auth: AuthServices | None) -> dict[str, Any]:
    if isinstance(item, CanvasMedia):
        return _media_canvas(base, own, number, item, auth)
    return _image_canvas(base, own, number, item, auth)


def _media_canvas(
    base: str, own: str, number: int, media: CanvasMedia, auth: AuthServices | None
) -> dict[str, Any]:
    canvas_uri = f"{own}/canvas/{number}"
    canvas: dict[str, Any] = {
        "id": canvas_uri,
        "type": "Canvas",
        "label": _language_map(media.label),
        "duration": media.duration,
        "thumbnail": _image_canvas(base, own, number, media.still, auth)["thumbnail"],
        "items": [_painting(canvas_uri, media.body(auth))],
    }
    if media.width and media.height:
        canvas |= {"width": media.width, "height": media.height}
    return canvas


def _painting(canvas_uri: str, body: dict[str, Any]) -> dict[str, Any]:
    return {
        "id": f"{canvas_uri}/page",
        "type": "AnnotationPage",
        "items": [
            {
                "id": f"{canvas_uri}/page/painting",
                "type": "Annotation",
                "motivation": "painting",
                "target": canvas_uri,
                "body": body,
            }
        ],
    }


def _image_canvas(
    base: str, own: str, number: int, image: CanvasImage, auth: AuthServices | None
) -> dict[str, Any]:
    service_id = f"{base}/iiif/3/{image.identifier}"
    service: list[dict[str, Any]] = [{"id": service_id, "type": "ImageService3", "profile": "level2"}]
    if auth is not None:
        service[0]["service"] = auth.services(image.identifier)
    canvas_uri = f"{own}/canvas/{number}"
    thumb_w, thumb_h = image.thumbnail or (image.width, image.height)
    thumb_service, thumb_service_id = service, service_id
    if auth is not None and image.degraded_size:
        # From the copy anyone may see: a viewer's thumbnails then show for everyone.
        thumb_service_id = f"{service_id}{DEGRADED_SUFFIX}"
        thumb_service = [{"id": thumb_service_id, "type": "ImageService3", "profile": "level2"}]
        tier = thumbnail_plan(image.width, image.height, image.degraded_size)
        if max(thumb_w, thumb_h) > max(tier.width, tier.height):
            thumb_w, thumb_h = tier.width, tier.height
    canvas: dict[str, Any] = {
        "id": canvas_uri,
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
            _painting(
                canvas_uri,
                {
                    "id": f"{service_id}/full/max/0/default.jpg",
                    "type": "Image",
                    "format": "image/jpeg",
                    "width": image.width,
                    "height": image.height,
                    "service": service,
                },
            )
        ],
    }
    if image.source is not None:  # 3.0 section 3.3.2: the file the canvas is one page of
        canvas["rendering"] = [
            {
                "id": image.source.url,
                "type": "Image" if image.source.format.startswith("image/") else "Text",
                "label": _language_map(image.source.label),
                "format": image.source.format,
            }
        ]
    return canvas
