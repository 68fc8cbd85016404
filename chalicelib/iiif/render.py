"""The pixels of a IIIF image request: crop, scale, mirror, rotate, quality, encode (Pillow).

It is handed the source's bytes and an already validated plan (chalicelib.iiif.geometry); it never
fetches anything. The steps follow the Image API's order of implementation (3.0 section 4.6):
region, size, rotation (mirroring first), quality, format.
"""

from __future__ import annotations

import functools
import io
from dataclasses import dataclass
from pathlib import Path

from PIL import Image, ImageOps

MEDIA_TYPES = {
    "jpg": "image/jpeg",
    "png": "image/png",
    "webp": "image/webp",
    "gif": "image/gif",
    "tif": "image/tiff",
}
_PILLOW_FORMATS = {"jpg": "JPEG", "png": "PNG", "webp": "WEBP", "gif": "GIF", "tif": "TIFF"}
# Formats that can show what lies outside a rotated image as transparent (3.0 section 4.3).
_TRANSPARENT = frozenset({"png", "webp", "gif", "tif"})


@dataclass(frozen=True)
class Pixels:
    region: tuple[float, float, float, float]  # x, y, width, height in the upright source (or a level)
    size: tuple[int, int]  # width, height after scaling, before rotation
    rotation: float
    mirror: bool
    quality: str
    format: str


# ISO base media file brands (ftyp) of HEIF images that Pillow reads only with pillow-heif's
# plugin (libheif). AVIF, the same container with AV1 inside, Pillow reads itself.
HEIF_BRANDS = frozenset(
    {b"heic", b"heix", b"hevc", b"hevx", b"heim", b"heis", b"hevm", b"hevs", b"mif1", b"msf1"}
)
AVIF_BRANDS = frozenset({b"avif", b"avis"})


def iso_brands(head: bytes) -> set[bytes]:
    """The major and compatible brands of an ISO base media file's ftyp box; none if it has none."""
    if head[4:8] != b"ftyp":
        return set()
    size = int.from_bytes(head[:4], "big")
    return {head[8:12], *(head[start : start + 4] for start in range(16, min(size, len(head)) - 3, 4))}


def open_image(source: bytes | Path) -> Image.Image:
    """``Image.open``, able to read HEIF (phone photos) too. pillow-heif is imported only for a
    HEIF file: it costs a tenth of a second, which a tile request should not pay."""
    head = source[:64] if isinstance(source, bytes) else _head(source)
    brands = iso_brands(head)
    if brands & HEIF_BRANDS and not brands & AVIF_BRANDS:
        _register_heif()
    return Image.open(io.BytesIO(source) if isinstance(source, bytes) else source)


def _head(path: Path) -> bytes:
    with path.open("rb") as file:
        return file.read(64)


@functools.cache
def _register_heif() -> None:
    import pillow_heif

    # libheif applies the image's own rotation and mirroring (irot, imir) as it decodes, and
    # sets the EXIF orientation it read to 1, so the image is upright as it opens.
    pillow_heif.register_heif_opener()


def open_upright(source: bytes | Path, max_pixels: int, *, reduce: int = 1, frame: int = 0) -> Image.Image:
    """The source's ``frame`` (its first, or a page of a multi-page TIFF), turned as its EXIF
    orientation says (IIIF coordinates are upright).

    ``max_pixels`` is ingest's limit: an image ingest accepted must open here too, however much
    larger than Pillow's own default limit (about 89 MP) it is. A path is read as it is decoded,
    and closed after, so the encoded bytes are never held beside the pixels. ``reduce`` shrinks it
    by that factor (1, 2, 4 or 8), sizes rounded up as ``Image.reduce`` rounds them: a JPEG is
    decoded at that size by libjpeg's DCT scaling, a JPEG 2000 by OpenJPEG from its lower
    resolution levels, never at full size.
    """
    Image.MAX_IMAGE_PIXELS = max_pixels
    image = open_image(source)
    image.seek(frame)
    if reduce > 1:
        width, height = image.size
        if image.format == "JPEG2000" and reduce == 2:
            # OpenJPEG decodes only the resolution levels asked for: one fewer is half the size,
            # rounded up as Image.reduce rounds it (the plugin's attribute shadows that method).
            image.reduce = 1  # type: ignore[method-assign, assignment]
            image.load()
        else:
            image.draft(None, (max(1, width // reduce), max(1, height // reduce)))
        if image.size != (-(-width // reduce), -(-height // reduce)):  # neither: decode, then reduce
            image = Image.Image.reduce(normalised(image), reduce)
    # In place: otherwise exif_transpose returns a copy, even of an upright image (900 MB at 300 MP).
    ImageOps.exif_transpose(image, in_place=True)
    return image


def normalised(image: Image.Image) -> Image.Image:
    """The image at 8 bits a channel in L, RGB or RGBA, which every step here handles (Pillow
    cannot reduce or smoothly resize a palette or bilevel image); as it is, no copy, when it is."""
    if image.mode in ("L", "RGB", "RGBA"):
        return image
    if image.mode == "I" or image.mode.startswith("I;16"):
        # 16-bit grey: Pillow's own conversion clips every value above 255 to white.
        return image.point(lambda value: value / 256).convert("L")
    if image.mode == "1":
        return image.convert("L")
    alpha = "A" in image.mode or "a" in image.mode or "transparency" in image.info
    return image.convert("RGBA" if alpha else "RGB")


def render(image: Image.Image, pixels: Pixels) -> bytes:
    x, y, width, height = pixels.region
    # One step for crop and scale: Pillow reduces by whole factors first, then resamples the rest.
    result = normalised(image).resize(
        pixels.size, Image.Resampling.LANCZOS, box=(x, y, x + width, y + height), reducing_gap=3.0
    )
    if pixels.mirror:
        result = ImageOps.mirror(result)
    result = _rotated(result, pixels.rotation, transparent=pixels.format in _TRANSPARENT)
    result = _with_quality(result, pixels.quality, pixels.format)
    return _encoded(result, pixels.format)


def _rotated(image: Image.Image, degrees: float, *, transparent: bool) -> Image.Image:
    turns = {
        90.0: Image.Transpose.ROTATE_270,
        180.0: Image.Transpose.ROTATE_180,
        270.0: Image.Transpose.ROTATE_90,
    }
    degrees = degrees % 360
    if degrees == 0:
        return image
    if degrees in turns:  # IIIF turns clockwise, Pillow's transposes name counter-clockwise turns
        return image.transpose(turns[degrees])
    if transparent:
        image = image.convert("RGBA")
        fill: tuple[int, ...] = (0, 0, 0, 0)
    else:
        fill = (255, 255, 255)
    return image.rotate(-degrees, resample=Image.Resampling.BICUBIC, expand=True, fillcolor=fill)


def _with_quality(image: Image.Image, quality: str, format: str) -> Image.Image:
    if quality == "gray":
        return image.convert("LA" if image.mode == "RGBA" and format in _TRANSPARENT else "L")
    if quality == "bitonal":
        # A threshold, not a dither: every pixel is black or white (3.0 section 4.4).
        return image.convert("L").point(lambda value: 255 if value >= 128 else 0).convert("1")
    if image.mode == "RGBA" and format not in _TRANSPARENT:
        return image.convert("RGB")
    return image


def _encoded(image: Image.Image, format: str) -> bytes:
    buffer = io.BytesIO()
    options: dict[str, object] = {}
    if format == "jpg":
        options = {"quality": 85, "optimize": False, "progressive": False}
        if image.mode not in ("RGB", "L", "1"):
            image = image.convert("RGB")
    elif format == "webp":
        options = {"quality": 85, "method": 2}
    elif format == "tif":
        options = {"compression": "tiff_deflate"}
    image.save(buffer, format=_PILLOW_FORMATS[format], **options)
    return buffer.getvalue()
