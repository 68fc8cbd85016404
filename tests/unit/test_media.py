from __future__ import annotations

import io

import pytest
from PIL import Image

from chalicelib.ingest.media import NotAnImage, image_facts, sniff
from tests import samples


def encoded(image: Image.Image, format: str, **options: object) -> bytes:
    buffer = io.BytesIO()
    image.save(buffer, format=format, **options)
    return buffer.getvalue()


@pytest.mark.parametrize(
    ("format", "mimetype"),
    [
        ("JPEG", "image/jpeg"),
        ("PNG", "image/png"),
        ("GIF", "image/gif"),
        ("TIFF", "image/tiff"),
        ("BMP", "image/bmp"),
        ("WEBP", "image/webp"),
        ("JPEG2000", "image/jp2"),
    ],
)
def test_images_are_recognised_by_their_bytes(format: str, mimetype: str) -> None:
    assert sniff(encoded(Image.new("RGB", (8, 8)), format)) == mimetype


@pytest.mark.parametrize(
    ("head", "mimetype"),
    [
        (b"%PDF-1.7\n", "application/pdf"),
        (b"PK\x03\x04rest", "application/zip"),
        (b"<html>", None),
        (b"", None),
    ],
)
def test_other_types_are_recognised_or_left_unknown(head: bytes, mimetype: str | None) -> None:
    assert sniff(head) == mimetype


def test_an_images_facts_come_from_its_header() -> None:
    facts = image_facts(encoded(Image.new("RGB", (640, 480)), "PNG"), max_pixels=10**6)

    assert (facts.width, facts.height, facts.mode, facts.format, facts.orientation) == (
        640,
        480,
        "RGB",
        "PNG",
        1,
    )


def test_a_photo_turned_by_exif_is_described_upright() -> None:
    exif = Image.Exif()
    exif[0x0112] = 6  # stored sideways: turned 90 degrees when shown
    data = encoded(Image.new("RGB", (640, 480)), "JPEG", exif=exif)

    facts = image_facts(data, max_pixels=10**6)

    assert (facts.width, facts.height, facts.orientation) == (480, 640, 6)


@pytest.mark.parametrize(("format", "mimetype"), [("HEIF", "image/heic"), ("AVIF", "image/avif")])
def test_a_phone_photo_is_recognised_and_described_upright(format: str, mimetype: str) -> None:
    data = samples.phone_photo(format, orientation=6)

    facts = image_facts(data, max_pixels=10**6)

    assert sniff(data) == mimetype
    assert (facts.width, facts.height) == (200, 300)


def test_a_multi_page_tiff_counts_its_pages() -> None:
    pages = [Image.new("L", (32, 32), shade) for shade in (0, 128, 255)]
    buffer = io.BytesIO()
    pages[0].save(buffer, format="TIFF", save_all=True, append_images=pages[1:])

    assert image_facts(buffer.getvalue(), max_pixels=10**6).frames == 3


@pytest.mark.parametrize("side", [120, 200])  # above the limit, and above twice it (Pillow's own check)
def test_an_image_above_the_pixel_limit_is_refused_before_decoding(side: int) -> None:
    with pytest.raises(NotAnImage, match="more than the 10000 pixels allowed"):
        image_facts(encoded(Image.new("L", (side, side)), "PNG"), max_pixels=10_000)


def test_corrupt_bytes_are_refused_with_a_reason() -> None:
    with pytest.raises(NotAnImage, match="cannot be read"):
        image_facts(b"\xff\xd8\xff" + b"\x00" * 100, max_pixels=10**6)
