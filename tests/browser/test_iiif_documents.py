"""Records with more than still images, in stock IIIF viewers (Chromium): a PDF's pages as
canvases, paged through and searched in Mirador 4's search panel, which highlights the hit; and a
video that plays in Mirador 4 and the Universal Viewer 4."""

from __future__ import annotations

import io
import re
import time
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any
from urllib.parse import urlencode

import pytest
import requests
from PIL import Image
from playwright.sync_api import Browser, Page

from tests import samples
from tests.browser.records import publish_record
from tests.browser.site import viewer_site
from tests.stack import Stack

pytestmark = pytest.mark.e2e

VIEWPORT = {"width": 1400, "height": 900}
PAGES = ["Chapter one begins here", "The harbour of Zanzibar at dawn", "Chapter three ends it"]


@pytest.fixture(scope="module")
def site() -> Iterator[str]:
    with viewer_site() as port:
        yield f"http://127.0.0.1:{port}"


@dataclass
class Record:
    manifest: str
    canvases: list[str]
    labels: list[str]


@pytest.fixture(scope="module")
def record(stack: Stack) -> Record:
    picture = io.BytesIO()
    Image.new("RGB", (1600, 1200), (40, 90, 160)).save(picture, format="JPEG")
    files = {
        "cover.jpg": picture.getvalue(),
        "book.pdf": samples.pdf(PAGES),
        "tour.mp4": samples.video(seconds=3),
    }
    published = publish_record(stack, "curator", {"metadata": {"title": "A harbour book"}}, files)
    manifest = requests.get(published["links"]["iiif_manifest"], timeout=30).json()
    return Record(
        published["links"]["iiif_manifest"],
        [canvas["id"] for canvas in manifest["items"]],
        [canvas["label"]["none"][0] for canvas in manifest["items"]],
    )


def mirador(chromium: Browser, site: str, record: Record, **params: str) -> tuple[Page, list[str]]:
    """Mirador on the record, and the IIIF URLs it requests, as they come."""
    page = chromium.new_context(viewport=VIEWPORT).new_page()
    requested: list[str] = []
    page.on("request", lambda request: requested.append(request.url))
    page.goto(f"{site}/pages/mirador.html?{urlencode({'manifest': record.manifest, **params})}")
    loaded = "() => Object.values(window.mirador.store.getState().manifests).some((m) => m.json)"
    page.wait_for_function(loaded, timeout=60_000)
    return page, requested


def current_canvas(page: Page) -> str:
    return str(page.evaluate("() => Object.values(window.mirador.store.getState().windows)[0].canvasId"))


def tile_of(requested: list[str], number: int) -> bool:
    """Whether a tile of page ``number`` was requested (not a thumbnail, which viewers ask of any page)."""
    return any(re.search(rf"~p{number}/\d+,\d+,\d+,\d+/", url) for url in requested)


def wait_for(page: Page, condition: Any, what: str, timeout: float = 30) -> None:
    """Poll ``condition``, letting the page's events in meanwhile (Playwright's sync API delivers
    them only while it is called: time.sleep would keep them out)."""
    deadline = time.monotonic() + timeout
    while not condition():
        assert time.monotonic() < deadline, what
        page.wait_for_timeout(200)


def test_mirador_pages_through_a_pdf_s_pages_each_its_own_image(
    chromium: Browser, site: str, record: Record
) -> None:
    page, requested = mirador(chromium, site, record)

    assert record.labels == [
        "cover.jpg",
        "book.pdf, page 1",
        "book.pdf, page 2",
        "book.pdf, page 3",
        "tour.mp4",
    ]
    for number in (1, 2, 3):
        page.get_by_role("button", name="Next item").click()
        wait_for(
            page, lambda number=number: current_canvas(page) == record.canvases[number], f"canvas {number}"
        )
        wait_for(
            page, lambda number=number: tile_of(requested, number), f"no tile of page {number} was requested"
        )
    page.context.close()


def test_mirador_plays_the_record_s_video_on_its_canvas(chromium: Browser, site: str, record: Record) -> None:
    page, _ = mirador(chromium, site, record, canvas=record.canvases[4])

    video = page.locator("video")
    video.wait_for(state="attached", timeout=30_000)
    assert "/content" in (
        video.get_attribute("src") or video.locator("source").first.get_attribute("src") or ""
    )
    playing = (
        "() => { const v = document.querySelector('video'); v.muted = true; v.play();"
        " return v.currentTime > 0.5; }"
    )
    page.wait_for_function(playing, timeout=30_000)
    page.context.close()


def test_mirador_s_search_panel_finds_a_word_on_page_two_and_highlights_it(
    chromium: Browser, site: str, record: Record
) -> None:
    page, requested = mirador(chromium, site, record, sidebar="1")
    assert highlighted(page) == 0

    page.get_by_role("tab", name="Search").click()
    field = page.get_by_role("form", name="Search").get_by_role("combobox")
    field.fill("zanzibar")
    field.press("Enter")

    hit = page.get_by_role("listitem").filter(has_text="Zanzibar")
    hit.first.wait_for(timeout=30_000)
    assert any("/iiif/search/1/" in url and "q=zanzibar" in url for url in requested)
    # Mirador goes to the first hit's canvas, page 2 of the PDF, and fills the word's box yellow.
    wait_for(page, lambda: current_canvas(page) == record.canvases[2], "Mirador did not go to page 2")
    wait_for(page, lambda: highlighted(page) > 200, "no highlight drawn over the word", timeout=60)
    page.context.close()


def highlighted(page: Page) -> int:
    """Pixels of the viewer tinted by Mirador's selected-hit yellow (#ffff00 at 0.3 over white)."""
    shot = Image.open(io.BytesIO(page.locator(".openseadragon-canvas").first.screenshot())).convert("RGB")
    return sum(1 for r, g, b in shot.get_flattened_data() if r > 230 and g > 230 and 150 < b < 215)


def test_the_universal_viewer_pages_through_a_pdf_s_pages(
    chromium: Browser, site: str, record: Record
) -> None:
    page = chromium.new_context(viewport=VIEWPORT).new_page()
    requested: list[str] = []
    page.on("request", lambda request: requested.append(request.url))

    page.goto(f"{site}/uv/uv.html#?{urlencode({'manifest': record.manifest, 'cv': 1})}")

    wait_for(page, lambda: tile_of(requested, 1), "the Universal Viewer drew no tile of page 1", timeout=60)
    assert not tile_of(requested, 2)
    page.locator("button.next:visible").first.click()
    wait_for(page, lambda: tile_of(requested, 2), "the Universal Viewer did not go on to page 2")
    page.context.close()


def test_the_universal_viewer_plays_the_record_s_video(chromium: Browser, site: str, record: Record) -> None:
    page = chromium.new_context(viewport=VIEWPORT).new_page()

    page.goto(f"{site}/uv/uv.html#?{urlencode({'manifest': record.manifest, 'cv': 4})}")

    page.locator("video").wait_for(state="attached", timeout=60_000)
    playing = (
        "() => { const v = document.querySelector('video'); v.muted = true; v.play();"
        " return v.currentTime > 0.5; }"
    )
    page.wait_for_function(playing, timeout=30_000)
    # Its thumbnail in UV's list is the poster, from the IIIF image ingest made of the video.
    assert page.locator("img[src*='~poster/']").count() >= 1
    page.context.close()
