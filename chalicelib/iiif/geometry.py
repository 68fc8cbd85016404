"""The pure calculator of a IIIF image request: which source pixels, scaled to what size.

``plan_image`` checks a parsed request against the image's dimensions and the server's limits and
returns an ``ImagePlan`` the renderer executes without further checks, or raises the spec's 400s.
``canonical_path`` writes a plan's canonical parameters, the key of the derivative cache.
Whole pixels come from exact fractions rounded half up, so the same request always gives the same
plan, on any machine.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from fractions import Fraction

from chalicelib.errors import BadRequest
from chalicelib.iiif.request import Format, ImageRequest, Quality, format_decimal, spec_section


@dataclass(frozen=True)
class Limits:
    """The largest image the server returns (3.0 section 5.2, 2.1 section 5.3); None is no limit."""

    max_width: int | None = None
    max_height: int | None = None
    max_area: int | None = None

    def __post_init__(self) -> None:
        for name, value in (("max_width", self.max_width), ("max_height", self.max_height)):
            if value is not None and value < 1:
                raise ValueError(f"{name} must be at least 1 pixel, not {value}")
        if self.max_area is not None and self.max_area < 1:
            raise ValueError(f"max_area must be at least 1 pixel, not {self.max_area}")

    @property
    def height_limit(self) -> int | None:
        # Section 5.2: "If maxWidth is specified and maxHeight is not, then clients should infer that
        # maxHeight = maxWidth". Clients plan with that limit, so the server keeps to it too.
        return self.max_height if self.max_height is not None else self.max_width

    def admit(self, width: int, height: int) -> bool:
        return (
            (self.max_width is None or width <= self.max_width)
            and (self.height_limit is None or height <= self.height_limit)
            and (self.max_area is None or width * height <= self.max_area)
        )

    def __str__(self) -> str:
        named = (("maxWidth", self.max_width), ("maxHeight", self.height_limit), ("maxArea", self.max_area))
        return ", ".join(f"{name} {value}" for name, value in named if value is not None) or "none"


@dataclass(frozen=True)
class ImagePlan:
    """What to render: the region ``x, y, w, h`` in source pixels (inside the image), scaled to
    ``width`` x ``height`` (at least 1x1, within the limits), then mirrored if ``mirror``, turned
    ``rotation`` degrees clockwise (0 <= rotation < 360), in ``quality``, encoded as ``format``."""

    x: int
    y: int
    w: int
    h: int
    width: int
    height: int
    rotation: float
    mirror: bool
    quality: Quality
    format: Format

    @property
    def crop_box(self) -> tuple[int, int, int, int]:
        """The region as Pillow's (left, upper, right, lower) box."""
        return self.x, self.y, self.x + self.w, self.y + self.h

    @property
    def upscaled(self) -> bool:
        return self.width > self.w or self.height > self.h


def plan_image(request: ImageRequest, width: int, height: int, limits: Limits) -> ImagePlan:
    """The plan for ``request`` on a ``width`` x ``height`` image, or BadRequest for the spec's 400s."""
    if width < 1 or height < 1:
        raise ValueError(f"an image has at least one pixel, not {width}x{height}")
    x, y, w, h = _region_box(request, width, height)
    scaled_width, scaled_height = _fit_turned(request, *_scaled_size(request, w, h, limits), limits)
    return ImagePlan(
        x=x,
        y=y,
        w=w,
        h=h,
        width=scaled_width,
        height=scaled_height,
        # 360 degrees turns the image as 0 does: one plan, one cache entry.
        rotation=request.rotation.degrees % 360,
        mirror=request.rotation.mirror,
        quality=request.quality,
        format=request.format,
    )


def canonical_path(request: ImageRequest, plan: ImagePlan, width: int, height: int) -> str:
    """``{region}/{size}/{rotation}/{quality}.{format}`` in the canonical form of the request's version
    (3.0 section 4.8, 2.1 section 4.7), for ``plan`` on a ``width`` x ``height`` image.

    It depends on the plan alone, so requests for the same pixels share it, and it never depends on
    the limits: ``max`` is written only when the region is returned unscaled, which ``max`` means under
    any limits; a size the limits shrank is written as its explicit ``w,h``, so that a cached image
    stays right if the limits change. Parsing and planning the result gives ``plan`` again.
    """
    whole = (plan.x, plan.y, plan.w, plan.h) == (0, 0, width, height)
    region = "full" if whole else f"{plan.x},{plan.y},{plan.w},{plan.h}"
    size = _canonical_size_3(plan) if request.version == "3" else _canonical_size_2(plan)
    # Both versions: "!" if mirrored, then an integer if possible, else a float without trailing zeros.
    rotation = ("!" if plan.mirror else "") + format_decimal(plan.rotation)
    return f"{region}/{size}/{rotation}/{plan.quality}.{plan.format}"


def _canonical_size_3(plan: ImagePlan) -> str:
    # 3.0 section 4.8: "max" for the maximum size without upscaling, else "w,h", or "^w,h" when the
    # region is upscaled. An upscaled "^max" is written "^w,h" too, for the limits' sake (see above).
    if (plan.width, plan.height) == (plan.w, plan.h):
        return "max"
    return f"{'^' if plan.upscaled else ''}{plan.width},{plan.height}"


def _canonical_size_2(plan: ImagePlan) -> str:
    # 2.1 section 4.7: "full" for the region's own size, "w," when the aspect ratio is kept and "w,h"
    # when it changes. "max" is never canonical in 2.1: "the w, syntax should be considered the
    # canonical form of request for the max size" (section 4.2, deprecation warning). "Kept" means
    # what this server computes for "w,", so that "w," reads back as this very height.
    if (plan.width, plan.height) == (plan.w, plan.h):
        return "full"
    if plan.height == _divide_half_up(plan.h * plan.width, plan.w):
        return f"{plan.width},"
    return f"{plan.width},{plan.height}"


def _region_box(request: ImageRequest, width: int, height: int) -> tuple[int, int, int, int]:
    region = request.region
    if region.kind == "full":
        return 0, 0, width, height
    if region.kind == "square":
        # Section 4.1 lets the server place the square; "centered is often a reasonable default".
        side = min(width, height)
        return (width - side) // 2, (height - side) // 2, side, side
    if region.kind == "pixels":
        left, top = int(region.x), int(region.y)
        right, bottom = left + int(region.w), top + int(region.h)
    else:
        # Percentages of the full image (section 4.1). Each edge is rounded on its own, so regions
        # that share an edge in percent share it in pixels: tiles neither overlap nor leave a gap.
        x, y, w, h = (Fraction(value) for value in (region.x, region.y, region.w, region.h))
        left, right = _percent_of(x, width), _percent_of(x + w, width)
        top, bottom = _percent_of(y, height), _percent_of(y + h, height)
    section = spec_section(request.version, "4.1")
    if left >= width or top >= height:
        raise BadRequest(f"The region '{region}' lies outside the {width}x{height} image {section}.")
    # Section 4.1: a region beyond the image's edge is cropped at the edge, without empty space.
    right, bottom = min(right, width), min(bottom, height)
    if right <= left or bottom <= top:
        raise BadRequest(
            f"The region '{region}' is less than a pixel wide or high "
            f"on the {width}x{height} image {section}."
        )
    return left, top, right - left, bottom - top


def _scaled_size(request: ImageRequest, width: int, height: int, limits: Limits) -> tuple[int, int]:
    """The output size for the ``width`` x ``height`` region (3.0 and 2.1 section 4.2)."""
    size = request.size
    # 2.1 has no '^' and "MAY support scaling above the full size": every 2.1 form may upscale.
    may_upscale = size.upscale or request.version == "2"
    if size.kind == "max":
        if size.upscale:
            # ^max grows the region to the limits; with no limit set there is nothing to grow to.
            if limits.max_width is None and limits.height_limit is None and limits.max_area is None:
                return width, height
            return _largest_fit(width, height, limits.max_width, limits.height_limit, limits.max_area)
        # max (both versions): the region's own size, shrunk to fit the limits, never upscaled.
        bound_width, bound_height = _least(limits.max_width, width), _least(limits.height_limit, height)
        return _largest_fit(width, height, bound_width, bound_height, limits.max_area)
    if size.kind == "confined":
        assert size.width is not None and size.height is not None  # the parser sets both for !w,h
        if not may_upscale:
            # "!w,h" in 3.0 is "not larger than the extracted region", which one could read as a
            # silent cap; the validator's size_noup wants a 400 for !2000,3000 on a 1000 px image,
            # as for every other size that would need '^'. So: a fit above the region is an error.
            natural = _largest_fit(width, height, size.width, size.height, None)
            if natural[0] > width or natural[1] > height:
                raise _needs_upscaling(request, natural, width, height)
        # The limits confine !w,h like the box does: "as large as possible but not larger than ... w,
        # h, or server-imposed limits" (3.0), so they shrink it rather than refuse it.
        return _largest_fit(
            width,
            height,
            _least(size.width, limits.max_width),
            _least(size.height, limits.height_limit),
            limits.max_area,
        )
    scaled = _explicit_size(request, width, height)
    version = request.version
    if scaled[0] < 1 or scaled[1] < 1:
        # Section 4.2: the scaled region "MUST NOT be less than 1 pixel" (2.1: "is zero").
        raise BadRequest(
            f"The size '{size}' gives less than a pixel ({scaled[0]}x{scaled[1]}) for the {width}x{height} "
            f"region {spec_section(version, '4.2')}."
        )
    if not may_upscale and (scaled[0] > width or scaled[1] > height):
        raise _needs_upscaling(request, scaled, width, height)
    if not limits.admit(*scaled):
        # 3.0 section 4.2 makes this a 400. 2.1's error table (section 7.2) lists "the requested size
        # is greater than the limits" under 404, but it is the client's request that is wrong: 400.
        raise BadRequest(
            f"The size '{size}' asks for {scaled[0]}x{scaled[1]} pixels, beyond this server's limits "
            f"({limits}) {_limits_section(request)}."
        )
    return scaled


def _limits_section(request: ImageRequest) -> str:
    return spec_section(request.version, "4.2" if request.version == "3" else "5.3")


def turned_size(width: int, height: int, degrees: float) -> tuple[int, int]:
    """The canvas a ``width`` x ``height`` image needs once turned ``degrees`` clockwise, as Pillow's
    ``rotate(-degrees, expand=True)`` (render.py) sizes it: the rotated corners' bounding box."""
    angle = -degrees % 360.0  # Pillow's own angle, counter-clockwise
    if angle in (0.0, 180.0):
        return width, height
    if angle in (90.0, 270.0):
        return height, width
    radians = -math.radians(angle)
    cos, sin = round(math.cos(radians), 15), round(math.sin(radians), 15)
    # Pillow turns about the centre, and rounds the turned corners outwards from there.
    middle_x, middle_y = width / 2, height / 2
    shift_x = -cos * middle_x - sin * middle_y + middle_x
    shift_y = sin * middle_x - cos * middle_y + middle_y
    corners = ((0, 0), (width, 0), (width, height), (0, height))
    xs = [cos * x + sin * y + shift_x for x, y in corners]
    ys = [-sin * x + cos * y + shift_y for x, y in corners]
    return math.ceil(max(xs)) - math.floor(min(xs)), math.ceil(max(ys)) - math.floor(min(ys))


def _fit_turned(request: ImageRequest, width: int, height: int, limits: Limits) -> tuple[int, int]:
    """The scaled size, such that the image as sent, turned, is within the limits too: a turn of 45
    degrees needs a canvas up to twice the area. ``max`` and ``!w,h`` shrink to fit; a size the
    client spelled out that does not fit is a 400, as an unturned one is."""
    degrees = request.rotation.degrees % 360
    turned = turned_size(width, height, degrees)
    if limits.admit(*turned):
        return width, height
    if request.size.kind not in ("max", "confined"):
        raise BadRequest(
            f"Turned by {format_decimal(degrees)} degrees, the size '{request.size}' needs "
            f"{turned[0]}x{turned[1]} pixels, beyond this server's limits ({limits}) "
            f"{_limits_section(request)}."
        )

    # The largest width (its height by the aspect ratio, as the canonical "w," form has it) whose
    # turned canvas fits; none (0) is a 400 too.
    def sized(new_width: int) -> tuple[int, int]:
        return new_width, max(1, _divide_half_up(height * new_width, width))

    low, high = 0, width
    while low < high:
        middle = (low + high + 1) // 2
        if limits.admit(*turned_size(*sized(middle), degrees)):
            low = middle
        else:
            high = middle - 1
    if low == 0:
        raise BadRequest(
            f"Turned by {format_decimal(degrees)} degrees, no size of this region is within this "
            f"server's limits ({limits}) {_limits_section(request)}."
        )
    return sized(low)


def _explicit_size(request: ImageRequest, width: int, height: int) -> tuple[int, int]:
    """The size the client spelled out (full, w, ,h, pct:n, w,h); one side follows the aspect ratio."""
    size = request.size
    if size.kind == "full":
        return width, height
    if size.kind == "width":
        assert size.width is not None
        return size.width, _divide_half_up(height * size.width, width)
    if size.kind == "height":
        assert size.height is not None
        return _divide_half_up(width * size.height, height), size.height
    if size.kind == "percent":
        assert size.percent is not None
        factor = Fraction(size.percent) / 100
        return _round_half_up(width * factor), _round_half_up(height * factor)
    assert size.kind == "exact" and size.width is not None and size.height is not None
    return size.width, size.height


def _largest_fit(
    width: int, height: int, max_width: int | None, max_height: int | None, max_area: int | None
) -> tuple[int, int]:
    """The largest size with the aspect ratio of ``width`` x ``height``, as near as whole pixels allow,
    within the bounds given (at least one; None is unbounded), and never under 1x1.

    The longer side is chosen and the shorter one follows it, rounded half up: that keeps the aspect
    ratio closest. The implementation notes (3.0, section 4) leave this algorithm to the server.
    """
    landscape = width >= height
    long_side, short_side = (width, height) if landscape else (height, width)
    long_max, short_max = (max_width, max_height) if landscape else (max_height, max_width)

    def short_for(long: int) -> int:
        # A sliver of a region still gives a 1 pixel line rather than no image: the server, not the
        # client, chose this size, and 1 is the nearest to the aspect ratio that is an image.
        return max(1, _divide_half_up(short_side * long, long_side))

    bounds: list[int] = []
    if long_max is not None:
        bounds.append(long_max)
    if short_max is not None:
        # The longest side whose shorter side, rounded half up, stays within short_max.
        bounds.append(((2 * short_max + 1) * long_side - 1) // (2 * short_side))
    if max_area is not None:
        # The area grows with the longer side: bisect for the longest that fits.
        low, high = 1, max_area
        while low < high:
            middle = (low + high + 1) // 2
            if middle * short_for(middle) <= max_area:
                low = middle
            else:
                high = middle - 1
        bounds.append(low)
    if not bounds:
        raise ValueError("a fit needs at least one bound")
    long = max(1, min(bounds))
    return (long, short_for(long)) if landscape else (short_for(long), long)


def _needs_upscaling(request: ImageRequest, scaled: tuple[int, int], width: int, height: int) -> BadRequest:
    # 3.0 section 4.2: sizes without '^' that would upscale the region "SHOULD result in a 400".
    return BadRequest(
        f"The size '{request.size}' asks for {scaled[0]}x{scaled[1]} pixels, more than the {width}x{height} "
        f"region: upscaling needs the '^' prefix {spec_section(request.version, '4.2')}."
    )


def _least(value: int | None, bound: int | None) -> int | None:
    if value is None:
        return bound
    return value if bound is None else min(value, bound)


def _percent_of(percent: Fraction, length: int) -> int:
    return _round_half_up(percent * length / 100)


def _round_half_up(value: Fraction) -> int:
    return math.floor(value + Fraction(1, 2))


def _divide_half_up(numerator: int, denominator: int) -> int:
    """numerator / denominator rounded half up, for non-negative integers, without floats."""
    return (2 * numerator + denominator) // (2 * denominator)
