"""Stock IIIF viewers in Chromium against a record's manifest on the embedded stack.

Mirador 4.0.0 (OpenSeadragon 5.0.1 inside), the Universal Viewer 4.4.0 (OpenSeadragon 6.0.2
inside) and OpenSeadragon 6.1.1 open images whose shapes broke Mirador (issue 13): each must load
its home view with tiles that keep their region's aspect, and the finest level it loads must cover
the whole image. The viewers are served from their own origin, as on another site; the manifest,
info.json and tiles come from the API cross-origin, anonymously, as any reader's viewer gets them.
"""

from __future__ import annotations

import io
import itertools
import re
import time
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any
from urllib.parse import urlencode, urlsplit

import pytest
import requests
from PIL import Image, ImageDraw
from playwright.sync_api import Browser, Page

from chalicelib.files.keys import encode_key
from tests.browser.site import viewer_site
from tests.stack import Stack, make_token

pytestmark = pytest.mark.e2e

SHAPES = [(1200, 1600), (3000, 2000), (4032, 3024), (6000, 4000)]
VIEWPORT = {"width": 1600, "height": 1000}
IMAGE_REQUEST = re.compile(
    r"/iiif/(?:2|3)/(?P<image>[^/]+)/(?P<region>[^/]+)/(?P<size>[^/]+)/[^/]+/[^/.]+\.\w+$"
)
SETTLE_SECONDS = 60


@pytest.fixture(scope="module")
def site() -> Iterator[str]:
    with viewer_site() as port:
        yield f"http://127.0.0.1:{port}"


def photo(width: int, height: int) -> bytes:
    """A picture with detail everywhere, so a misplaced or squashed tile would show."""
    image = Image.linear_gradient("L").resize((width, height)).convert("RGB")
    draw = ImageDraw.Draw(image)
    for step in range(0, max(width, height), 200):
        draw.line((step, 0, 0, step), fill=(200, 40, 40), width=9)
    buffer = io.BytesIO()
    image.save(buffer, format="JPEG", quality=80)
    return buffer.getvalue()


@dataclass
class Published:
    manifest: str
    canvases: list[str]
    images: dict[str, tuple[int, int]]  # IIIF identifier -> (width, height)
    infos: list[str]  # each canvas's info.json, in canvas order


@pytest.fixture(scope="module")
def published(stack: Stack) -> Published:
    auth = {"Authorization": f"Bearer {make_token(stack, 'curator')}"}

    def call(method: str, path: str, body: Any = None) -> requests.Response:
        response = requests.request(method, f"{stack.api}{path}", json=body, headers=auth, timeout=60)
        assert response.ok, f"{method} {path}: {response.status_code} {response.text}"
        return response

    record = call("POST", "/records", {"metadata": {"title": "Shapes that broke Mirador"}}).json()
    for width, height in SHAPES:
        content = photo(width, height)
        path = f"/records/{record['id']}/files/{encode_key(f'{width}x{height}.jpg')}"
        upload = call("POST", f"{path}?uploads", {"size": len(content)}).json()
        [part] = upload["parts"]
        requests.put(part["url"], data=content, headers=part["headers"], timeout=60).raise_for_status()
        call("POST", f"{path}?uploadId={upload['id']}")
    links = call("GET", f"/records/{record['id']}").json()["links"]
    deadline = time.monotonic() + 180
    # Done: every derivative stored, thumbnails included, so info.json is what it stays.
    listing = links["files"].removeprefix(stack.api)
    while {entry["ingest"]["state"] for entry in call("GET", listing).json()["contents"]} != {"done"}:
        assert time.monotonic() < deadline, "ingest did not finish every image"
        time.sleep(0.5)
    call("POST", f"/records/{record['id']}/publish")
    manifest_url = links["iiif_manifest"]
    manifest = requests.get(manifest_url, timeout=30).json()  # anonymous, as a reader's viewer

    images, infos = {}, []
    for canvas in manifest["items"]:
        body = canvas["items"][0]["items"][0]["body"]
        [service] = body["service"]
        info = requests.get(f"{service['id']}/info.json", timeout=30).json()  # anonymous, as a reader's
        images[service["id"].rsplit("/", 1)[1]] = (info["width"], info["height"])
        infos.append(f"{service['id']}/info.json")
    assert sorted(images.values()) == sorted(SHAPES)
    return Published(manifest_url, [canvas["id"] for canvas in manifest["items"]], images, infos)


@dataclass(frozen=True)
class ImageRequest:
    image: str
    region: tuple[int, int, int, int]
    size: tuple[int, int] | None  # None: not "w,h" (a viewer's thumbnail or "max")
    url: str


def parse(url: str, images: dict[str, tuple[int, int]]) -> ImageRequest | None:
    match = IMAGE_REQUEST.search(urlsplit(url).path)
    if match is None or match["image"] not in images:
        return None
    width, height = images[match["image"]]
    region = match["region"]
    box = (0, 0, width, height) if region == "full" else tuple(int(n) for n in region.split(","))
    size = match["size"].lstrip("!")
    sized = tuple(int(n) for n in size.split(",")) if re.fullmatch(r"\d+,\d+", size) else None
    return ImageRequest(match["image"], box, sized, url)  # type: ignore[arg-type]


def keeps_aspect(request: ImageRequest) -> bool:
    """Whether a w,h size has its region's aspect, to within the pixel a viewer rounds to."""
    assert request.size is not None
    _, _, rw, rh = request.region
    w, h = request.size
    return abs(h - w * rh / rw) <= 1 or abs(w - h * rw / rh) <= 1


def scale(request: ImageRequest) -> int:
    """The scale factor of a w,h request: source pixels per pixel served (ceil rounding aside)."""
    assert request.size is not None
    _, _, rw, rh = request.region
    w, h = request.size
    return round(max(rw / w, rh / h))


def uncovered(regions: set[tuple[int, int, int, int]], width: int, height: int) -> list[tuple[int, int]]:
    """The corners of the parts of a width x height image that no region covers."""
    xs = sorted({0, width, *(x for x, _, _, _ in regions), *(x + w for x, _, w, _ in regions)})
    ys = sorted({0, height, *(y for _, y, _, _ in regions), *(y + h for _, y, _, h in regions)})
    return [
        (x0, y0)
        for x0, x1 in itertools.pairwise(xs)
        for y0, y1 in itertools.pairwise(ys)
        if x1 <= width
        and y1 <= height
        and not any(x <= x0 and x1 <= x + w and y <= y0 and y1 <= y + h for x, y, w, h in regions)
    ]


class Watch:
    """Every image request a page makes to the IIIF service, and every failed answer."""

    def __init__(self, page: Page, images: dict[str, tuple[int, int]]) -> None:
        self.requests: list[ImageRequest] = []
        self.failures: list[str] = []
        self.waiting: set[str] = set()
        self.last = time.monotonic()
        page.on("request", lambda request: self._seen(request.url, images))
        page.on("requestfinished", lambda request: self._done(request.url))
        page.on("response", lambda response: self._answered(response.url, response.status))
        page.on("requestfailed", lambda request: self._failed(request.url, request.failure))

    def _seen(self, url: str, images: dict[str, tuple[int, int]]) -> None:
        parsed = parse(url, images)
        if parsed is not None:
            self.requests.append(parsed)
            self.waiting.add(url)
            self.last = time.monotonic()

    def _done(self, url: str) -> None:
        if url in self.waiting:
            self.waiting.discard(url)
            self.last = time.monotonic()

    def _answered(self, url: str, status: int) -> None:
        if "/iiif/" in url and status >= 400:
            self.failures.append(f"{url}: {status}")

    def _failed(self, url: str, failure: str | None) -> None:
        self.failures.append(f"{url}: {failure}")
        self._done(url)

    def settle(self, page: Page, quiet: float = 2.0) -> None:
        """Wait until every image asked for has come and none has been asked for a while: the
        viewers have drawn their home views. Quiet alone is not enough: on a loaded machine a
        viewer waits for slow tiles before it asks for the next ones."""
        deadline = time.monotonic() + SETTLE_SECONDS
        while self.waiting or time.monotonic() - self.last < quiet or not self.requests:
            assert time.monotonic() < deadline, f"the viewer never settled: {sorted(self.waiting)}"
            page.wait_for_timeout(250)


def check(watch: Watch, images: dict[str, tuple[int, int]], image: str, shown_width: float) -> None:
    """The image's tiles keep their regions' aspects, its finest level covers it, and that level
    has at least the pixels the image takes on screen (OpenSeadragon loads levels up to twice the
    screen's resolution: a level it mistook for a finer one shows fewer)."""
    assert not watch.failures, watch.failures
    squashed = [r.url for r in watch.requests if r.size and not keeps_aspect(r)]
    assert not squashed, squashed
    width, height = images[image]
    sized = [r for r in watch.requests if r.image == image and r.size]
    assert sized, f"no tile of the {width}x{height} image was asked for: {watch.requests}"
    finest = min(scale(r) for r in sized)
    regions = {r.region for r in sized if scale(r) == finest}
    gaps = uncovered(regions, width, height)
    assert not gaps, f"the {width}x{height} image's finest level (1/{finest}) leaves {gaps} bare"
    sharpest = max(r.size[0] / r.region[2] for r in sized if r.size) * width
    assert sharpest >= 0.75 * min(width, shown_width), (
        f"the {width}x{height} image is {shown_width:.0f} px wide on screen but its finest level "
        f"has {sharpest:.0f}: {sorted({urlsplit(r.url).path for r in sized})}"
    )


def shown_width(page: Page, width: int, height: int) -> float:
    """How wide the image is on screen at home: fitted into the largest OpenSeadragon canvas."""
    box = page.evaluate(
        """() => Math.max(...[...document.querySelectorAll('.openseadragon-canvas')].map((e) => {
                const r = e.getBoundingClientRect(); return r.width * 100000 + r.height; }))"""
    )
    canvas_width, canvas_height = divmod(box, 100000)
    return min(canvas_width, canvas_height * width / height)


def viewer_url(viewer: str, site: str, published: Published, index: int) -> str:
    if viewer == "Mirador 4":
        query = urlencode({"manifest": published.manifest, "canvas": published.canvases[index]})
        return f"{site}/pages/mirador.html?{query}"
    if viewer == "Universal Viewer 4":
        return f"{site}/uv/uv.html#?{urlencode({'manifest': published.manifest, 'cv': index})}"
    return f"{site}/pages/openseadragon.html?{urlencode({'info': published.infos[index]})}"


@pytest.mark.parametrize("shape", SHAPES, ids=[f"{w}x{h}" for w, h in SHAPES])
@pytest.mark.parametrize("viewer", ["Mirador 4", "Universal Viewer 4", "OpenSeadragon 6"])
def test_a_stock_viewer_draws_the_image_whole_and_sharp_with_true_tiles(
    chromium: Browser, site: str, published: Published, viewer: str, shape: tuple[int, int]
) -> None:
    index = list(published.images.values()).index(shape)
    image = list(published.images)[index]
    context = chromium.new_context(viewport=VIEWPORT)
    page = context.new_page()
    watch = Watch(page, published.images)
    page.goto(viewer_url(viewer, site, published, index))
    watch.settle(page)
    check(watch, published.images, image, shown_width(page, *shape))
    context.close()
