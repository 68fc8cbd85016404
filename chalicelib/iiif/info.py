"""The image information document (info.json), from stored facts: the image is never read here.

3.0: https://iiif.io/api/image/3.0/#5-image-information; 2.1: https://iiif.io/api/image/2.1/#image-information
"""

from __future__ import annotations

from collections.abc import Sequence
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


def sizes(
    width: int, height: int, limits: ImageLimits, thumbnails: Sequence[Sequence[int]] = ()
) -> list[dict[str, int]]:
    """The whole-image sizes a viewer may ask for, smallest first: the image at each scale factor
    (``ceil(w / sf) x ceil(h / sf)``, the tile grid's levels) and the stored thumbnails, within the
    limits (3.0 section 5.4: a listed size must be one the server serves).

    OpenSeadragon 2.x to 5.x (5.0.1 is inside Mirador 4) take ``sizes`` as their zoom levels,
    smallest first, whenever there are as many as scale factors or one fewer (then they add the full
    size), and otherwise work the levels out themselves; 6.x first checks each against its scale
    factor. Thumbnails besides the levels could make such a count and be drawn as levels, so they
    are left out whenever the list would then be mistaken for levels it is not.
    """

    def servable(size: tuple[int, int]) -> bool:
        w, h = size
        return w <= limits.max_width and h <= limits.max_height and w * h <= limits.max_area

    factors = scale_factors(width, height, limits.tile_size)
    levels = [(-(-width // factor), -(-height // factor)) for factor in reversed(factors)]
    listed = sorted(filter(servable, {*levels, *((int(w), int(h)) for w, h in thumbnails)}))
    served_levels = [size for size in levels if servable(size)]
    if len(listed) in (len(factors) - 1, len(factors)) and listed != served_levels:
        listed = served_levels
    return [{"width": w, "height": h} for w, h in listed]


def info_json(
    version: str,
    service_id: str,
    width: int,
    height: int,
    limits: ImageLimits,
    thumbnails: Sequence[Sequence[int]] = (),
) -> dict[str, Any]:
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
            "sizes": sizes(width, height, limits, thumbnails),
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
        "sizes": sizes(width, height, limits, thumbnails),
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
