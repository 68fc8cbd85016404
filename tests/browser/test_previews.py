"""Preview pages in Debian's Chromium, from the embedded stack: what they show, and that nothing a
file carries runs. Each hostile sample tries to run script (an alert, a global); the page must
show its content and no script of the file's may run."""

from __future__ import annotations

import io
import time
import zipfile
from typing import Any

import pytest
import requests
from PIL import Image, ImageDraw
from playwright.sync_api import Page

from chalicelib.files.keys import encode_key
from tests.helpers import hostile_notebook
from tests.samples import pdf_file, tiff, video
from tests.stack import Stack, make_token

pytestmark = pytest.mark.e2e

HOSTILE_MARKDOWN = b"""# Field notes

<script>window.pwned = "script"; alert("script")</script>
<img src=x onerror="window.pwned='onerror'; alert('onerror')">
[a link](javascript:alert('link')) and <a href="javascript:alert('raw')">raw</a>
<iframe src="javascript:alert('frame')"></iframe>
"""
HOSTILE_SVG = b"""<svg xmlns="http://www.w3.org/2000/svg" onload="alert('svg')">
<script>window.pwned = 'svg'; alert('svg')</script><circle r="40"/></svg>"""
XML_BOMB = b"""<?xml version="1.0"?><!DOCTYPE b [<!ENTITY a "aaaaaaaaaa">
<!ENTITY b "&a;&a;&a;&a;&a;&a;&a;&a;&a;&a;"><!ENTITY c "&b;&b;&b;&b;&b;&b;&b;&b;&b;&b;">]><r>&c;</r>"""


def multi_page_pdf(pages: int) -> bytes:
    images = []
    for number in range(1, pages + 1):
        page = Image.new("RGB", (612, 792), "white")
        ImageDraw.Draw(page).rectangle((50, 50, 562, 742), outline=(0, 0, 60 * number), width=8)
        images.append(page)
    buffer = io.BytesIO()
    images[0].save(buffer, format="PDF", save_all=True, append_images=images[1:])
    return buffer.getvalue()


def jpeg2000_pdf() -> bytes:
    """One page showing one red JPEG 2000 image (/JPXDecode), as scanned documents often are."""
    buffer = io.BytesIO()
    Image.new("RGB", (64, 64), (220, 20, 20)).save(buffer, format="JPEG2000")
    jpx = buffer.getvalue()
    content = b"q 200 0 0 200 0 0 cm /Im1 Do Q"
    objects = [
        b"<< /Type /Catalog /Pages 2 0 R >>",
        b"<< /Type /Pages /Kids [3 0 R] /Count 1 >>",
        b"<< /Type /Page /Parent 2 0 R /MediaBox [0 0 200 200] /Resources << /XObject << /Im1 4 0 R >> >>"
        b" /Contents 5 0 R >>",
        b"<< /Type /XObject /Subtype /Image /Width 64 /Height 64 /Filter /JPXDecode /Length %d >>\nstream\n"
        % len(jpx)
        + jpx
        + b"\nendstream",
        b"<< /Length %d >>\nstream\n" % len(content) + content + b"\nendstream",
    ]
    return pdf_file(objects)


def picture(width: int, height: int) -> bytes:
    image = Image.new("RGB", (width, height), (30, 120, 200))
    ImageDraw.Draw(image).ellipse(
        (width // 4, height // 4, width * 3 // 4, height * 3 // 4), fill=(240, 200, 0)
    )
    buffer = io.BytesIO()
    image.save(buffer, format="PNG")
    return buffer.getvalue()


def tone(seconds: float = 1.0, rate: int = 8000) -> bytes:
    import math
    import struct
    import wave

    buffer = io.BytesIO()
    with wave.open(buffer, "wb") as audio:
        audio.setnchannels(1)
        audio.setsampwidth(2)
        audio.setframerate(rate)
        samples = (int(8000 * math.sin(2 * math.pi * 440 * n / rate)) for n in range(int(seconds * rate)))
        audio.writeframes(b"".join(struct.pack("<h", sample) for sample in samples))
    return buffer.getvalue()


def zip_bomb() -> bytes:
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", zipfile.ZIP_DEFLATED) as archive:
        for index in range(3):
            archive.writestr(f"zeros-{index}.bin", b"\0" * 20_000_000)
    return buffer.getvalue()


@pytest.fixture(scope="module")
def shelf(stack: Stack) -> dict[str, Any]:
    """A public bucket with the samples, ingested."""
    auth = {"Authorization": f"Bearer {make_token(stack, 'previews')}"}
    bucket = requests.post(f"{stack.api}/files", json={"public_read": True}, headers=auth, timeout=10).json()[
        "id"
    ]
    samples = {
        "notes/field.md": HOSTILE_MARKDOWN,
        "figures/logo.svg": HOSTILE_SVG,
        "data/bomb.xml": XML_BOMB,
        "data/zeros.zip": zip_bomb(),
        "report.pdf": multi_page_pdf(3),
        "notes/analysis.ipynb": hostile_notebook(),
        "photos/large.png": picture(2400, 1600),
        "photos/small.png": picture(400, 300),
        "sounds/a440.wav": tone(),
        "scans/plates.tif": tiff([(600, 400), (400, 600), (500, 500)]),
        "films/clip.mp4": video(seconds=3),
        "scans/page.pdf": jpeg2000_pdf(),
        "docs/README.md": b"# Read me\n\n![a small picture](../photos/small.png)\n\n"
        b"See [the report](../report.pdf).\n",
    }
    for key, content in samples.items():
        target = f"{stack.api}/files/{bucket}/{encode_key(key)}"
        upload = requests.post(
            f"{target}?uploads", json={"size": len(content)}, headers=auth, timeout=10
        ).json()
        [part] = upload["parts"]
        assert requests.put(part["url"], data=content, headers=part["headers"], timeout=30).status_code == 200
        assert requests.post(f"{target}?uploadId={upload['id']}", headers=auth, timeout=30).status_code == 200
    deadline = time.monotonic() + 30
    for key in samples:
        target = f"{stack.api}/files/{bucket}/{encode_key(key)}?meta"
        while requests.get(target, headers=auth, timeout=10).json()["ingest"]["state"] == "pending":
            assert time.monotonic() < deadline, f"ingest did not describe {key}"
            time.sleep(0.2)
    return {"bucket": bucket}


def open_preview(page: Page, stack: Stack, shelf: dict[str, Any], key: str) -> None:
    response = page.goto(f"{stack.api}/files/{shelf['bucket']}/{encode_key(key)}?preview", timeout=15_000)
    assert response is not None and response.status == 200
    assert "default-src 'none'" in response.headers["content-security-policy"]


def assert_nothing_ran(page: Page) -> None:
    page.wait_for_timeout(300)  # let anything that could run try
    assert page.dialogs == []  # type: ignore[attr-defined]
    assert page.evaluate("typeof window.pwned") == "undefined"


@pytest.mark.parametrize(
    ("key", "visible"),
    [
        ("notes/field.md", "Field notes"),
        ("figures/logo.svg", "<script>window.pwned"),
        ("data/bomb.xml", "unexpanded"),
        ("data/zeros.zip", "zeros-2.bin"),
        ("notes/analysis.ipynb", "ValueError: bad"),
    ],
)
def test_hostile_files_are_shown_and_nothing_in_them_runs(
    page: Page, stack: Stack, shelf: dict[str, Any], key: str, visible: str
) -> None:
    open_preview(page, stack, shelf, key)

    assert page.get_by_text(visible, exact=False).first.is_visible()
    assert_nothing_ran(page)


def test_a_pdf_is_drawn_page_by_page_by_pdfjs(page: Page, stack: Stack, shelf: dict[str, Any]) -> None:
    open_preview(page, stack, shelf, "report.pdf")

    page.wait_for_selector("body[data-rendered=pdf]", timeout=20_000)
    assert page.get_attribute("#pdf", "data-pages") == "3"
    assert page.locator("#pdf canvas").count() == 3
    assert page.locator("#pdf canvas[data-drawn=true]").count() >= 1
    assert_nothing_ran(page)


def test_a_large_image_opens_in_a_zoomable_iiif_viewer(
    page: Page, stack: Stack, shelf: dict[str, Any]
) -> None:
    open_preview(page, stack, shelf, "photos/large.png")

    page.wait_for_selector("body[data-rendered=image]", timeout=20_000)
    assert page.locator("#zoom canvas").count() >= 1  # OpenSeadragon draws the tiles it fetched
    assert_nothing_ran(page)


def test_a_multi_page_tiff_opens_its_pages_in_sequence_with_a_strip_of_them(
    page: Page, stack: Stack, shelf: dict[str, Any]
) -> None:
    requested: list[str] = []
    page.on("request", lambda request: requested.append(request.url))
    open_preview(page, stack, shelf, "scans/plates.tif")

    page.wait_for_selector("body[data-rendered=image]", timeout=20_000)
    assert page.locator(".referencestrip").count() == 1  # OpenSeadragon's strip of the pages
    page.get_by_title("Next page").click()
    page.wait_for_timeout(1000)  # Playwright delivers the page's request events meanwhile
    assert any("~p2/" in url and "/0/default.jpg" in url for url in requested), requested
    assert_nothing_ran(page)


def test_a_video_plays_in_its_player_after_showing_its_poster(
    page: Page, stack: Stack, shelf: dict[str, Any]
) -> None:
    open_preview(page, stack, shelf, "films/clip.mp4")

    player = page.locator("video")
    assert "~poster/" in (player.get_attribute("poster") or "")
    playing = (
        "() => { const v = document.querySelector('video'); v.muted = true; v.play();"
        " return v.currentTime > 0.5; }"
    )
    page.wait_for_function(playing, timeout=20_000)
    assert_nothing_ran(page)


def test_a_small_image_is_one_iiif_image(page: Page, stack: Stack, shelf: dict[str, Any]) -> None:
    open_preview(page, stack, shelf, "photos/small.png")

    image = page.locator("img.picture")
    image.wait_for(timeout=10_000)
    assert "/iiif/3/" in (image.get_attribute("src") or "")
    assert page.evaluate("document.querySelector('img.picture').naturalWidth") == 400


def test_a_notebooks_image_output_is_shown(page: Page, stack: Stack, shelf: dict[str, Any]) -> None:
    open_preview(page, stack, shelf, "notes/analysis.ipynb")

    assert page.evaluate("document.querySelector('.output img').naturalWidth") == 4
    assert_nothing_ran(page)


def test_audio_plays_from_its_short_lived_url(page: Page, stack: Stack, shelf: dict[str, Any]) -> None:
    open_preview(page, stack, shelf, "sounds/a440.wav")

    # The player read the file's header from S3: it knows how long the sound is.
    page.wait_for_function("document.querySelector('audio').readyState >= 1", timeout=10_000)
    assert page.evaluate("Math.round(document.querySelector('audio').duration)") == 1
    assert_nothing_ran(page)


def test_a_pdf_of_jpeg_2000_scans_is_drawn(page: Page, stack: Stack, shelf: dict[str, Any]) -> None:
    open_preview(page, stack, shelf, "scans/page.pdf")

    page.wait_for_selector("#pdf canvas[data-drawn=true]", timeout=20_000)
    centre = page.evaluate(
        "(() => { const c = document.querySelector('#pdf canvas');"
        " return Array.from(c.getContext('2d').getImageData(c.width / 2, c.height / 2, 1, 1).data); })()"
    )
    assert centre[:3] == pytest.approx([220, 20, 20], abs=30)  # the image, not a blank page


def test_a_readme_shows_the_buckets_own_images_and_links_to_its_files(
    page: Page, stack: Stack, shelf: dict[str, Any]
) -> None:
    open_preview(page, stack, shelf, "docs/README.md")

    page.wait_for_function("document.querySelector('article img').complete", timeout=10_000)
    assert page.evaluate("document.querySelector('article img').naturalWidth") == 400  # via S3
    link = page.get_by_role("link", name="the report")
    assert (
        link.get_attribute("href")
        == f"{stack.api}/files/{shelf['bucket']}/{encode_key('report.pdf')}?preview"
    )
    link.click()
    page.wait_for_selector("body[data-rendered=pdf]", timeout=20_000)
