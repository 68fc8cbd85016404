"""The image information document (info.json), from stored facts: the image is never read here.

3.0: https://iiif.io/api/image/3.0/#5-image-information; 2.1: https://iiif.io/api/image/2.1/#image-information
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

CONTEXT = {"3": "http://iiif.io/api/image/3/context.json", "2": "http://iiif.io/api/image/2/context.json"}
PROFILE = {"3": "http://iiif.io/api/image/3/level2.json", "2": "http://iiif.io/api/image/2/level2.json"}
MEDIA_TYPE = {
    "3": 'application/ld+json;profile="http://iiif.io/api/image/3/context.json"',
    "2": 'application/ld+json;profile="http://iiif.io/api/image/2/context.json"',
}
EXTRA_FORMATS = ["png", "webp", "gif", "tif"]  # beyond level 2's jpg (3.0) - png is level 2 already
EXTRA_QUALITIES = ["color", "gray", "bitonal"]
# Features beyond level 2 (3.0 section 6, 2.1 section 6): what this server does besides it.
EXTRA_FEATURES = [
    "baseUriRedirect",
    "canonicalLinkHeader",
    "cors",
    "jsonldMediaType",
    "mirroring",
    "profileLinkHeader",
    "regionByPct",
    "regionByPx",
    "regionSquare",
    "rotationArbitrary",
    "rotationBy90s",
    "sizeByConfinedWh",
    "sizeByH",
    "sizeByPct",
    "sizeByW",
    "sizeByWh",
    "sizeUpscaling",
]
SMALLEST_SIZE = 64  # the downscaled sizes offered stop at about a thumbnail


@dataclass(frozen=True)
class ImageLimits:
    max_width: int
    max_height: int
    max_area: int
    tile_size: int


def scale_factors(width: int, height: int, tile: int) -> list[int]:
    """Powers of two, until the whole image fits in one tile: the levels a viewer zooms through."""
    factors = [1]
    while max(width, height) / factors[-1] > tile:
        factors.append(factors[-1] * 2)
    return factors


def sizes(width: int, height: int, limits: ImageLimits) -> list[dict[str, int]]:
    """Whole-image sizes, halving down to about a thumbnail, within the limits; smallest first."""
    offered = []
    factor = 1
    while True:
        w, h = -(-width // factor), -(-height // factor)
        if w <= limits.max_width and h <= limits.max_height and w * h <= limits.max_area:
            offered.append({"width": w, "height": h})
        if max(w, h) <= SMALLEST_SIZE:
            return offered[::-1]
        factor *= 2


def info_json(version: str, service_id: str, width: int, height: int, limits: ImageLimits) -> dict[str, Any]:
    tiles = [{"width": limits.tile_size, "scaleFactors": scale_factors(width, height, limits.tile_size)}]
    caps = {"maxWidth": limits.max_width, "maxHeight": limits.max_height, "maxArea": limits.max_area}
    if version == "3":
        return {
            "@context": CONTEXT["3"],
            "id": service_id,
            "type": "ImageService3",
            "protocol": "http://iiif.io/api/image",
            "profile": "level2",
            "width": width,
            "height": height,
            **caps,
            "sizes": sizes(width, height, limits),
            "tiles": tiles,
            # The pyramid's format: a viewer asking for it gets stored tiles (a format it lists first wins).
            "preferredFormats": ["jpg"],
            "extraFormats": EXTRA_FORMATS,
            "extraQualities": EXTRA_QUALITIES,
            "extraFeatures": EXTRA_FEATURES,
        }
    return {
        "@context": CONTEXT["2"],
        "@id": service_id,
        "protocol": "http://iiif.io/api/image",
        "width": width,
        "height": height,
        "sizes": sizes(width, height, limits),
        "tiles": tiles,
        "profile": [
            PROFILE["2"],
            {
                "formats": ["jpg", *EXTRA_FORMATS],
                "qualities": ["default", *EXTRA_QUALITIES],
                "supports": EXTRA_FEATURES,
                **caps,
            },
        ],
    }
