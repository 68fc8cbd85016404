"""Parsing the path parameters of a IIIF image request: region, size, rotation, quality and format.

Pure syntax, for the Image API 3.0 and 2.1 (https://iiif.io/api/image/3.0/#4-image-requests,
https://iiif.io/api/image/2.1/#image-request-parameters). Whatever needs the image's dimensions or the
server's limits (a region outside the image, a size above the region) is left to ``geometry``.
Every malformed parameter is a 400 whose message names the parameter and the spec's section.
"""

from __future__ import annotations

import math
import re
from dataclasses import dataclass
from decimal import Decimal
from typing import Literal

from chalicelib.errors import BadRequest

Version = Literal["2", "3"]
RegionKind = Literal["full", "square", "pixels", "percent"]
# "width" is w, ; "height" is ,h ; "exact" is w,h ; "confined" is !w,h ; "full" exists in 2.1 only.
SizeKind = Literal["max", "full", "width", "height", "percent", "exact", "confined"]
Quality = Literal["default", "color", "gray", "bitonal"]
Format = Literal["jpg", "png", "webp", "gif", "tif"]

SPEC_NAMES: dict[Version, str] = {"3": "IIIF Image API 3.0", "2": "IIIF Image API 2.1"}
# The parameters' sections, numbered alike in 3.0 and 2.1.
_SECTIONS = {"region": "4.1", "size": "4.2", "rotation": "4.3", "quality": "4.4", "format": "4.5"}
# The qualities of section 4.4 (the same four in 2.1) and the formats Vellum renders: jp2 and pdf
# are in the spec's table but unsupported here, and an unsupported format is a 400 (section 4.5).
_QUALITIES: dict[str, Quality] = {
    "default": "default",
    "color": "color",
    "gray": "gray",
    "bitonal": "bitonal",
}
_FORMATS: dict[str, Format] = {"jpg": "jpg", "png": "png", "webp": "webp", "gif": "gif", "tif": "tif"}

# Pixel values are non-negative integers; percentages and degrees "MUST consist only of decimal digits
# and '.'" (3.0 section 4.7): so no sign, exponent, whitespace, "nan" or "inf". A leading 0 and no
# trailing zeros are only SHOULDs there, so ".5" and "2.50" are accepted and canonicalised later.
# [0-9] rather than \d, which would also match other scripts' digits.
_INTEGER = r"[0-9]+"
_DECIMAL = r"(?:[0-9]+(?:\.[0-9]*)?|\.[0-9]+)"
_PIXEL_REGION = re.compile(rf"({_INTEGER}),({_INTEGER}),({_INTEGER}),({_INTEGER})")
_PERCENT_REGION = re.compile(rf"pct:({_DECIMAL}),({_DECIMAL}),({_DECIMAL}),({_DECIMAL})")
_PERCENT_SIZE = re.compile(rf"pct:({_DECIMAL})")
_BOX_SIZE = re.compile(rf"(!?)({_INTEGER})?,({_INTEGER})?")
_ROTATION = re.compile(rf"(!?)({_DECIMAL})")
_QUOTED_LENGTH = 48  # enough to recognise a parameter in an error message, never a whole path


@dataclass(frozen=True)
class Region:
    """The region parameter (section 4.1). For "pixels" x, y, w, h are whole numbers of pixels; for
    "percent" they are percentages of the full image; for "full" and "square" they are unused (0)."""

    kind: RegionKind
    x: float = 0
    y: float = 0
    w: float = 0
    h: float = 0

    def __str__(self) -> str:
        if self.kind == "pixels":
            return f"{int(self.x)},{int(self.y)},{int(self.w)},{int(self.h)}"
        if self.kind == "percent":
            return "pct:" + ",".join(format_decimal(value) for value in (self.x, self.y, self.w, self.h))
        return self.kind


@dataclass(frozen=True)
class Size:
    """The size parameter (section 4.2): ``upscale`` is the 3.0 ``^`` prefix. ``width`` and ``height``
    are set as the form has them, ``percent`` only for pct:n."""

    kind: SizeKind
    width: int | None = None
    height: int | None = None
    percent: float | None = None
    upscale: bool = False

    def __str__(self) -> str:
        caret = "^" if self.upscale else ""
        width = "" if self.width is None else str(self.width)
        height = "" if self.height is None else str(self.height)
        if self.kind in ("max", "full"):
            return caret + self.kind
        if self.kind == "percent":
            return f"{caret}pct:{format_decimal(self.percent or 0)}"
        bang = "!" if self.kind == "confined" else ""
        return f"{caret}{bang}{width},{height}"


@dataclass(frozen=True)
class Rotation:
    """The rotation parameter (section 4.3): clockwise degrees in 0..360, mirrored first if ``mirror``."""

    degrees: float
    mirror: bool = False

    def __str__(self) -> str:
        return ("!" if self.mirror else "") + format_decimal(self.degrees)


@dataclass(frozen=True)
class ImageRequest:
    """An image request's parameters, parsed but not yet checked against an image."""

    version: Version
    region: Region
    size: Size
    rotation: Rotation
    quality: Quality
    format: Format

    def __str__(self) -> str:
        """The parameters as a path, in the form they were asked for (not the canonical form)."""
        return f"{self.region}/{self.size}/{self.rotation}/{self.quality}.{self.format}"


def parse_image_request(
    version: str, region: str, size: str, rotation: str, quality_and_format: str
) -> ImageRequest:
    """Parse the four path segments after the identifier, for Image API ``version`` "3" or "2"."""
    if version not in SPEC_NAMES:
        raise BadRequest(f"The IIIF Image API version {_quoted(version)} is not supported: use 3 or 2.")
    known: Version = "3" if version == "3" else "2"
    quality, format = _parse_quality_and_format(quality_and_format, known)
    return ImageRequest(
        version=known,
        region=_parse_region(region, known),
        size=_parse_size(size, known),
        rotation=_parse_rotation(rotation, known),
        quality=quality,
        format=format,
    )


def format_decimal(value: float) -> str:
    """A number as the spec writes floats (3.0 section 4.7): positional, a leading 0 below 1, no
    trailing zeros, an integer when it is one. ``float(format_decimal(v)) == v`` for every float."""
    # repr is the shortest text that reads back as the same float; Decimal spells it without exponent.
    text = format(Decimal(repr(float(value))), "f")
    if "." in text:
        text = text.rstrip("0").rstrip(".")
    return text


def spec_section(version: Version, section: str) -> str:
    """The citation that ends every IIIF error message, e.g. "(IIIF Image API 3.0, section 4.2)"."""
    return f"({SPEC_NAMES[version]}, section {section})"


def _parse_region(text: str, version: Version) -> Region:
    if text == "full":
        return Region(kind="full")
    if text == "square":
        return Region(kind="square")
    region: Region
    pixels = _PIXEL_REGION.fullmatch(text)
    percent = _PERCENT_REGION.fullmatch(text)
    if pixels:
        x, y, w, h = (_integer(group, "region", text, version) for group in pixels.groups())
        region = Region(kind="pixels", x=x, y=y, w=w, h=h)
    elif percent:
        px, py, pw, ph = (_decimal(group, "region", text, version) for group in percent.groups())
        region = Region(kind="percent", x=px, y=py, w=pw, h=ph)
    else:
        raise _invalid("region", text, version, "4.1")
    if region.w == 0 or region.h == 0:
        # Section 4.1: a region of zero width or height is a 400, whatever the image.
        raise _invalid("region", text, version, "4.1", "its width and height must be above 0")
    return region


def _parse_size(text: str, version: Version) -> Size:
    upscale = text.startswith("^")
    body = text[1:] if upscale else text
    if upscale and version == "2":
        raise _invalid("size", text, version, "4.2", "the '^' prefix arrived in version 3.0")
    if body == "max":
        return Size(kind="max", upscale=upscale)
    if body == "full":
        if version == "3" or upscale:  # 3.0 replaced "full" with "max" (2.1 section 4.2, deprecation)
            raise _invalid("size", text, version, "4.2")
        return Size(kind="full")
    percent = _PERCENT_SIZE.fullmatch(body)
    if percent:
        value = _decimal(percent.group(1), "size", text, version)
        if value == 0:
            raise _invalid("size", text, version, "4.2", "a size of 0 percent has no pixels")
        if version == "3" and not upscale and value > 100:
            # 3.0 section 4.2: "The value of n MUST NOT be greater than 100" without '^'.
            raise _invalid("size", text, version, "4.2", "above 100 percent needs the '^' prefix")
        return Size(kind="percent", percent=value, upscale=upscale)
    box = _BOX_SIZE.fullmatch(body)
    if not box:
        raise _invalid("size", text, version, "4.2")
    bang, width_text, height_text = box.groups()
    width = None if width_text is None else _integer(width_text, "size", text, version)
    height = None if height_text is None else _integer(height_text, "size", text, version)
    if width is None and height is None:
        raise _invalid("size", text, version, "4.2")
    if width == 0 or height == 0:
        # Section 4.2: the scaled region must not be less than 1 pixel wide or high.
        raise _invalid("size", text, version, "4.2", "a width or height of 0 has no pixels")
    if bang:
        if width is None or height is None:
            raise _invalid("size", text, version, "4.2", "'!' needs both a width and a height")
        return Size(kind="confined", width=width, height=height, upscale=upscale)
    if width is None:
        return Size(kind="height", height=height, upscale=upscale)
    if height is None:
        return Size(kind="width", width=width, upscale=upscale)
    return Size(kind="exact", width=width, height=height, upscale=upscale)


def _parse_rotation(text: str, version: Version) -> Rotation:
    rotation = _ROTATION.fullmatch(text)
    if not rotation:
        raise _invalid("rotation", text, version, "4.3")
    degrees = _decimal(rotation.group(2), "rotation", text, version)
    if degrees > 360:
        raise _invalid("rotation", text, version, "4.3", "degrees run from 0 to 360")
    return Rotation(degrees=degrees, mirror=rotation.group(1) == "!")


def _parse_quality_and_format(text: str, version: Version) -> tuple[Quality, Format]:
    quality_text, dot, format_text = text.rpartition(".")
    if not dot:
        raise BadRequest(
            f"The quality and format {_quoted(text)} are not valid: the format is missing "
            f"{spec_section(version, '4.5')}."
        )
    quality = _QUALITIES.get(quality_text)
    if quality is None:
        raise _invalid("quality", quality_text, version, "4.4", "use default, color, gray or bitonal")
    format = _FORMATS.get(format_text)
    if format is None:
        raise _invalid("format", format_text, version, "4.5", "use jpg, png, webp, gif or tif")
    return quality, format


def _integer(text: str, parameter: str, whole: str, version: Version) -> int:
    try:
        return int(text)
    except ValueError:  # more digits than Python converts (sys.get_int_max_str_digits)
        raise _invalid(parameter, whole, version, _SECTIONS[parameter]) from None


def _decimal(text: str, parameter: str, whole: str, version: Version) -> float:
    value = float(text)
    if not math.isfinite(value):  # hundreds of digits overflow to inf
        raise _invalid(parameter, whole, version, _SECTIONS[parameter])
    return value


def _invalid(parameter: str, text: str, version: Version, section: str, reason: str = "") -> BadRequest:
    because = f": {reason}" if reason else ""
    return BadRequest(
        f"The {parameter} {_quoted(text)} is not valid{because} {spec_section(version, section)}."
    )


def _quoted(text: str) -> str:
    if len(text) > _QUOTED_LENGTH:
        text = text[:_QUOTED_LENGTH] + "..."
    return f"'{text}'"
