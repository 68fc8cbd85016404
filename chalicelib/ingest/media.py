"""What a file really is, from its bytes rather than its name, and an image's facts.

Pillow reads only an image's header to learn its size, mode and orientation; the pixels are
never decoded here. A decompression bomb (more pixels than ``max_pixels``) is refused before
anything is allocated.
"""

from __future__ import annotations

import warnings
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any

from chalicelib.iiif.render import AVIF_BRANDS, HEIF_BRANDS, iso_brands, open_image

# Magic numbers (the first bytes of a file) of the types Vellum treats specially.
SIGNATURES: tuple[tuple[bytes, int, str], ...] = (
    (b"\xff\xd8\xff", 0, "image/jpeg"),
    (b"\x89PNG\r\n\x1a\n", 0, "image/png"),
    (b"GIF87a", 0, "image/gif"),
    (b"GIF89a", 0, "image/gif"),
    (b"II*\x00", 0, "image/tiff"),
    (b"MM\x00*", 0, "image/tiff"),
    (b"II+\x00", 0, "image/tiff"),  # BigTIFF
    (b"MM\x00+", 0, "image/tiff"),
    (b"BM", 0, "image/bmp"),
    (b"\x00\x00\x00\x0cjP  \r\n\x87\n", 0, "image/jp2"),
    (b"\xffO\xffQ", 0, "image/jp2"),  # a raw JPEG 2000 codestream
    (b"%PDF-", 0, "application/pdf"),
    (b"PK\x03\x04", 0, "application/zip"),
    (b"ID3", 0, "audio/mpeg"),  # an MP3 with its tags first
    (b"fLaC", 0, "audio/flac"),
    (b"OggS", 0, "audio/ogg"),
    (b"\x1aE\xdf\xa3", 0, "video/webm"),  # Matroska's EBML header: WebM, MKV
)
IMAGE_TYPES = frozenset(
    {
        "image/jpeg",
        "image/png",
        "image/gif",
        "image/tiff",
        "image/bmp",
        "image/jp2",
        "image/webp",
        "image/heic",
        "image/heif",
        "image/avif",
    }
)

# Audio and video: ingest reads their facts and makes still images of them (chalicelib.ingest.stills).
TIMED_TYPES = frozenset(
    {
        "audio/wav",
        "audio/mpeg",
        "audio/flac",
        "audio/ogg",
        "audio/mp4",
        "video/mp4",
        "video/quicktime",
        "video/webm",
    }
)


class NotAnImage(ValueError):
    """The bytes are not an image Vellum can read, with the reason a person can act on."""


def sniff(head: bytes) -> str | None:
    """The MIME type the first bytes of a file announce, or None if Vellum does not know them."""
    if head[:4] == b"RIFF" and head[8:12] == b"WEBP":
        return "image/webp"
    if head[:4] == b"RIFF" and head[8:12] == b"WAVE":
        return "audio/wav"
    brands = iso_brands(head)
    if brands & AVIF_BRANDS:
        return "image/avif"
    if brands & HEIF_BRANDS:
        return "image/heic" if brands & {b"heic", b"heix", b"heim", b"heis"} else "image/heif"
    if brands:  # the ISO base media file format's other brands: MP4, QuickTime, 3GP, M4A
        return (
            "audio/mp4"
            if head[8:12] == b"M4A "
            else "video/quicktime"
            if head[8:12] == b"qt  "
            else "video/mp4"
        )
    if head[:2] in (b"\xff\xfb", b"\xff\xf3", b"\xff\xf2", b"\xff\xfa"):  # an MPEG audio frame's sync
        return "audio/mpeg"
    for signature, offset, mimetype in SIGNATURES:
        if head[offset : offset + len(signature)] == signature:
            return mimetype
    return None


@dataclass(frozen=True)
class ImageFacts:
    width: int  # as served: upright, after the EXIF orientation is applied
    height: int
    mode: str
    format: str
    orientation: int  # EXIF orientation 1-8 (1: upright)
    frames: int
    icc_profile: bool

    def to_json(self) -> dict[str, Any]:
        return asdict(self)


def image_facts(data: bytes, max_pixels: int) -> ImageFacts:
    """The facts of the image in ``data`` (its header suffices for most formats)."""
    from PIL import Image, UnidentifiedImageError

    # Pillow's own bomb check (it warns above MAX_IMAGE_PIXELS, refuses above twice that) follows ours.
    Image.MAX_IMAGE_PIXELS = max_pixels
    try:
        with warnings.catch_warnings():
            # Pillow warns between its limit and twice it; our own check below decides.
            warnings.simplefilter("ignore", Image.DecompressionBombWarning)
            opened = open_image(data)
        with opened as image:
            width, height = image.size
            if width * height > max_pixels:
                raise NotAnImage(f"the image has more than the {max_pixels} pixels allowed")
            orientation = _orientation(image)
            if orientation in (5, 6, 7, 8):  # a quarter turn: served upright, so width and height swap
                width, height = height, width
            return ImageFacts(
                width=width,
                height=height,
                mode=image.mode,
                format=str(image.format),
                orientation=orientation,
                frames=int(getattr(image, "n_frames", 1)),
                icc_profile="icc_profile" in image.info,
            )
    except Image.DecompressionBombError:
        raise NotAnImage(f"the image has more than the {max_pixels} pixels allowed") from None
    except (UnidentifiedImageError, OSError, SyntaxError, ValueError) as exc:
        if isinstance(exc, NotAnImage):
            raise
        # Pillow's own words can name object addresses and paths: the file shows ours; the log,
        # which reads the cause, shows Pillow's.
        raise NotAnImage("the image cannot be read: its header is damaged or not an image") from exc


def frame_sizes(path: Path, max_pixels: int, max_pages: int) -> list[list[int]]:
    """Each page's [width, height] (upright) of a multi-page image, as it is served, from the
    file's directories alone (no page is decoded)."""
    from PIL import Image

    Image.MAX_IMAGE_PIXELS = max_pixels
    sizes: list[list[int]] = []
    try:
        with open_image(path) as image:
            for index in range(int(getattr(image, "n_frames", 1))):
                if index >= max_pages:
                    raise NotAnImage(f"the image has more than the {max_pages} pages allowed")
                image.seek(index)
                width, height = image.size
                if width * height > max_pixels:
                    raise NotAnImage(f"page {index + 1} has more than the {max_pixels} pixels allowed")
                if _orientation(image) in (5, 6, 7, 8):
                    width, height = height, width
                sizes.append([width, height])
    except (OSError, SyntaxError, ValueError, Image.DecompressionBombError) as exc:
        if isinstance(exc, NotAnImage):
            raise
        raise NotAnImage("the image's pages cannot be read: its data is damaged") from exc
    return sizes


def _orientation(image: Any) -> int:
    orientation = int(image.getexif().get(0x0112, 1) or 1)  # EXIF Orientation tag
    return orientation if 1 <= orientation <= 8 else 1
