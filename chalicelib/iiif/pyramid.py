"""The derivatives ingest makes once, so that viewers never wait for a full decode.

From one decode of the source: every tile of the grid info.json advertises, at every scale
factor; the thumbnails it lists as sizes; and downscaled levels (halvings) that any other request
is rendered from, the smallest one that still has enough pixels. Each tile and thumbnail is stored
as the answer to the exact IIIF request a viewer makes for it (its cache key), so serving it is
reading one small object. Pure Pillow: it is handed an image and returns bytes; storing is the
caller's.
"""

from __future__ import annotations

import io
from collections.abc import Callable, Iterator
from dataclasses import dataclass

from PIL import Image

from chalicelib.iiif.geometry import ImagePlan
from chalicelib.iiif.info import scale_factors
from chalicelib.iiif.render import normalised

LEVEL_QUALITY = 92  # levels are sources for further scaling: keep them close to the original
TILE_QUALITY = 85


def cache_key(plan: ImagePlan) -> str:
    """The pixels a plan asks for, as one string: the same for every request (3.0 or 2.1) that
    asks for them."""
    region = f"{plan.x},{plan.y},{plan.w},{plan.h}"
    rotation = f"{'!' if plan.mirror else ''}{plan.rotation:g}"
    return f"{region}/{plan.width},{plan.height}/{rotation}/{plan.quality}.{plan.format}"


def tile_plan(width: int, height: int, tile: int, scale: int, column: int, row: int) -> ImagePlan:
    """The plan of the tile request a viewer makes (3.0 section 5.6): a region of ``tile * scale``
    source pixels, scaled down by ``scale``, in jpg."""
    x, y = column * tile * scale, row * tile * scale
    w, h = min(tile * scale, width - x), min(tile * scale, height - y)
    return ImagePlan(x, y, w, h, -(-w // scale), -(-h // scale), 0.0, False, "default", "jpg")


def thumbnail_plan(width: int, height: int, longest: int) -> ImagePlan:
    """The whole image within a ``longest`` x ``longest`` box, as a ``w,h`` request asks for it."""
    factor = min(1.0, longest / max(width, height))
    return ImagePlan(
        0,
        0,
        width,
        height,
        max(1, round(width * factor)),
        max(1, round(height * factor)),
        0.0,
        False,
        "default",
        "jpg",
    )


def thumbnail_plans(width: int, height: int, sides: list[int]) -> list[ImagePlan]:
    """The thumbnails ingest makes, smallest first: one per configured side that is a reduction."""
    plans = (thumbnail_plan(width, height, side) for side in sorted(set(sides)))
    return [plan for plan in plans if plan.width < width]


def thumbnail_sizes(width: int, height: int, sides: list[int]) -> list[list[int]]:
    """The [width, height] of each thumbnail ingest makes of an image this size."""
    return [[plan.width, plan.height] for plan in thumbnail_plans(width, height, sides)]


def shown_thumbnail(sizes: list[list[int]]) -> list[int] | None:
    """Of the thumbnails ingest made (smallest first), the one listings and canvases show: the
    second smallest, when there are two."""
    return sizes[min(1, len(sizes) - 1)] if sizes else None


# An image that may have transparency (by its mode) also gets its levels, and its full-resolution
# grid, in PNG (JPEG has no alpha) under these keys, so no answer of it needs the whole source
# decoded either.
ALPHA_PREFIX = "alpha/"
ALPHA_MODES = frozenset({"RGBA", "RGBa", "LA", "La", "PA", "P"})  # a palette may name a clear colour


def level_key(index: int, *, alpha: bool = False) -> str:
    """Level ``index`` of the pyramid: the source halved that many times. Level 0, the source's
    pixels, is stored only for pages, whose source is not an image (a PDF)."""
    return f"{ALPHA_PREFIX if alpha else ''}level/{index}"


def page_prefix(number: int) -> str:
    """Where the derivatives of a multi-page file's page ``number`` (from 1) are kept: each page
    has the keys a still image has, under this."""
    return f"page/{number}/"


def level_count(width: int, height: int, tile: int) -> int:
    """How many levels ingest's pyramid of an image has, the source itself included."""
    return len(scale_factors(width, height, tile))


def alpha_cell_key(column: int, row: int) -> str:
    return f"{ALPHA_PREFIX}cell/{column},{row}"


@dataclass(frozen=True)
class Derivative:
    key: str  # cache_key() of the request it answers, or level_key() / alpha_cell_key()
    body: bytes
    media_type: str = "image/jpeg"


def derivatives(
    image: Image.Image,
    tile: int,
    thumbnails: list[int],
    half: Callable[[], Image.Image] | None = None,
    *,
    alpha: bool = False,
    source_format: str | None = None,
) -> Iterator[Derivative]:
    """Tiles at every scale factor, thumbnails, and levels 1, 2, ... of ``image`` (upright); with
    ``alpha``, its levels and full-resolution grid in PNG too; with ``source_format`` ("jpg" or
    "png"), level 0 too, in that format (a page, whose pixels no request could otherwise decode
    from its file).

    Only the level being cut and the next one are alive at a time, so hand ``image`` over, keeping
    no reference of your own: Pillow holds RGB in 4 bytes a pixel, 1.2 GB for 300 MP. ``half``, if
    given, opens the source at half size more cheaply than halving ``image`` (a JPEG decoded at
    1/2): then the full size is dropped before level 1 is made, never alive beside it.
    Thumbnails are scaled from the smallest level still twice their size.
    """
    width, height = image.size
    pending = thumbnail_plans(width, height, thumbnails)[::-1]  # largest first
    level = normalised(image)
    del image
    factors = scale_factors(width, height, tile)
    for index, scale in enumerate(factors):
        if source_format and not index:
            if source_format == "png":
                yield Derivative(level_key(0), _png(level), "image/png")
            else:
                yield Derivative(level_key(0), _jpeg(level, LEVEL_QUALITY))
            if alpha:
                yield Derivative(level_key(0, alpha=True), _png(level), "image/png")
        if index:
            if index == 1 and half is not None:
                del level
                level = normalised(half())
            else:
                level = level.reduce(2)  # a box filter: halving is exact, and fast
            yield Derivative(level_key(index), _jpeg(level, LEVEL_QUALITY))
            if alpha:
                yield Derivative(level_key(index, alpha=True), _png(level), "image/png")
        elif alpha:
            yield from _alpha_cells(level, tile)
        yield from _tiles(level, width, height, tile, scale)
        last = index + 1 == len(factors)
        # The next level would be less than twice as wide as the largest pending thumbnail (or there
        # is none): scale it from this one.
        while pending and (last or -(-level.width // 2) < 2 * pending[0].width):
            plan = pending.pop(0)
            scaled = level.resize((plan.width, plan.height), Image.Resampling.LANCZOS, reducing_gap=3.0)
            yield Derivative(cache_key(plan), _jpeg(scaled, TILE_QUALITY))


def _tiles(level: Image.Image, width: int, height: int, tile: int, scale: int) -> Iterator[Derivative]:
    columns, rows = -(-width // (tile * scale)), -(-height // (tile * scale))
    for row in range(rows):
        for column in range(columns):
            plan = tile_plan(width, height, tile, scale, column, row)
            # The level holds the source scaled by 1/scale: the tile is its tile-sized cell.
            cell = _cell(level, tile, column, row)
            if cell.size != (plan.width, plan.height):  # the level's rounding at the far edges
                cell = cell.resize((plan.width, plan.height), Image.Resampling.LANCZOS)
            yield Derivative(cache_key(plan), _jpeg(cell, TILE_QUALITY))


def _alpha_cells(level: Image.Image, tile: int) -> Iterator[Derivative]:
    """The full-resolution grid of an image with transparency, alpha kept."""
    for row in range(-(-level.height // tile)):
        for column in range(-(-level.width // tile)):
            yield Derivative(alpha_cell_key(column, row), _png(_cell(level, tile, column, row)), "image/png")


def _cell(level: Image.Image, tile: int, column: int, row: int) -> Image.Image:
    """The level's tile-sized cell at (column, row); smaller at the far edges."""
    left, upper = column * tile, row * tile
    return level.crop((left, upper, min(left + tile, level.width), min(upper + tile, level.height)))


def _png(image: Image.Image) -> bytes:
    buffer = io.BytesIO()
    image.save(buffer, format="PNG", compress_level=3)  # lossless; level 3 encodes ~3x faster than 6
    return buffer.getvalue()


def _jpeg(image: Image.Image, quality: int) -> bytes:
    buffer = io.BytesIO()
    if image.mode not in ("RGB", "L"):  # no copy otherwise: level 1 of a 300 MP source is 225 MB
        image = image.convert("RGB")
    image.save(buffer, format="JPEG", quality=quality)
    return buffer.getvalue()
