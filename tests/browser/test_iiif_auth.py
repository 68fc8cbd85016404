"""Restricted images in viewers on other origins, in Chromium: stock Mirador 4 (IIIF Auth 1.0), and
the Authorization Flow 2.0 client of the specification scripted in a page (docs/iiif-auth.md).

The record is public and its files restricted to their owner, alice. The viewers' site is another
origin of the same site (another port of 127.0.0.1), and another site (viewer.test, mapped to
127.0.0.1), whose frames Chromium sends no third-party cookie.
"""

from __future__ import annotations

import io
import time
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any
from urllib.parse import urlencode

import pytest
import requests
from PIL import Image
from playwright.sync_api import Browser, Page, Response, expect

from tests.browser.conftest import CHROMIUM, CHROMIUM_FLAGS
from tests.browser.records import publish_record
from tests.browser.site import viewer_site
from tests.stack import Stack

pytestmark = pytest.mark.e2e

OTHER_SITE = "viewer.test"  # resolved to 127.0.0.1 by the browsers launched here


@dataclass
class Restricted:
    record: str
    manifest: str
    canvas: str
    image: str  # the image's IIIF identifier
    pdf: str  # the PDF's version id


def publish_restricted(stack: Stack, **access: Any) -> Restricted:
    """A published public record of a 1200x800 JPEG and a PDF, its files restricted to alice."""
    access = {"record": "public", "files": "restricted", **access}
    picture = io.BytesIO()
    Image.new("RGB", (1200, 800), (30, 110, 200)).save(picture, format="JPEG")
    files = {"letter.jpg": picture.getvalue(), "transcript.pdf": b"%PDF-1.4\n%%EOF\n"}
    record = publish_record(stack, "alice", {"metadata": {"title": "Letters"}, "access": access}, files)
    versions = record["versions"]
    manifest = f"{stack.api}/iiif/presentation/{record['id']}/manifest"
    [canvas] = requests.get(manifest, timeout=30).json()["items"]
    return Restricted(
        record["id"], manifest, canvas["id"], versions["letter.jpg"], versions["transcript.pdf"]
    )


@pytest.fixture(scope="module")
def restricted(stack: Stack) -> Restricted:
    return publish_restricted(stack)


@pytest.fixture(scope="module")
def tiered(stack: Stack) -> Restricted:
    """The same, with a degraded copy of its image for anyone: at most 300 pixels a side."""
    return publish_restricted(stack, degraded_size=300)


@pytest.fixture(scope="module")
def port() -> Iterator[int]:
    with viewer_site() as running:
        yield running


@pytest.fixture(scope="module")
def chromium_here(chromium: Browser) -> Iterator[Browser]:
    """Chromium as the suite starts it, resolving viewer.test to 127.0.0.1 too."""
    flags = [flag for flag in CHROMIUM_FLAGS if not flag.startswith("--host-resolver-rules")]
    rules = f"--host-resolver-rules=MAP {OTHER_SITE} 127.0.0.1, MAP * ~NOTFOUND, EXCLUDE 127.0.0.1"
    browser = chromium.browser_type.launch(
        executable_path=CHROMIUM, args=[*flags, rules], headless=True, timeout=60_000
    )
    yield browser
    browser.close()


class Watch:
    """The image service answers a page's viewer got: info.json and pixels, with their status."""

    def __init__(self, page: Page, image: str) -> None:
        self.answers: list[tuple[str, int]] = []
        self.errors: list[str] = []
        page.on("pageerror", lambda error: self.errors.append(f"pageerror: {error}"))
        page.on("console", lambda message: message.type == "error" and self.errors.append(message.text))
        page.on("response", self.on_response)
        self.image = image

    def on_response(self, response: Response) -> None:
        for identifier, tier in ((self.image, ""), (f"{self.image}~degraded", "degraded ")):
            if f"/iiif/3/{identifier}/" in response.url:
                kind = "info" if response.url.endswith("/info.json") else "pixels"
                self.answers.append((tier + kind, response.status))

    def saw(self, kind: str, status: int) -> bool:
        return (kind, status) in self.answers


def sign_in_in_the_window(page: Page, opens: Any, user: str) -> None:
    """The access service's window: the local stage's "sign in as", then it closes itself."""
    with page.expect_popup() as popup_info:
        opens()
    window = popup_info.value
    window.wait_for_load_state()
    expect(window.get_by_text("asks to show you restricted material")).to_be_visible()
    window.get_by_label("User name").fill(user)
    window.get_by_role("button", name="Sign in").click()
    window.wait_for_event("close", timeout=30_000)


def prompt(page: Page, tmp_path: Any) -> None:
    """Mirador's bar names the login service; Continue shows its header, description and button."""
    expect(page.get_by_role("button", name="Continue")).to_be_visible(timeout=30_000)
    page.get_by_role("button", name="Continue").click()
    expect(page.get_by_text("This is restricted material")).to_be_visible()
    page.screenshot(path=tmp_path / "1-prompt.png")


def mirador(page: Page, site: str, restricted: Restricted) -> None:
    query = urlencode({"manifest": restricted.manifest, "canvas": restricted.canvas})
    page.goto(f"{site}/pages/mirador.html?{query}")


def test_mirador_4_signs_in_shows_the_tiles_and_signs_out(
    chromium_here: Browser, stack: Stack, port: int, restricted: Restricted, tmp_path: Any
) -> None:
    page = chromium_here.new_page(viewport={"width": 1280, "height": 900})
    watch = Watch(page, restricted.image)
    mirador(page, f"http://127.0.0.1:{port}", restricted)

    prompt(page, tmp_path)
    assert watch.saw("info", 401) and not watch.saw("pixels", 200)
    sign_in_in_the_window(page, page.get_by_role("button", name="Sign in", exact=True).click, "alice")
    sign_out = page.get_by_role("button", name=f"Sign out at {stack.api.removeprefix('http://')}")
    expect(sign_out).to_be_visible(timeout=30_000)
    until(watch, ("info", 200), page, tmp_path)  # with the access token

    # Mirador 4 adds a tile source once: the tiles that failed before signing in stay failed until
    # the page is opened again (docs/iiif-auth.md). Then the cookie brings them at once, and
    # signing in again needs no form: the access service's window closes by itself.
    page.reload()
    until(watch, ("pixels", 200), page, tmp_path)
    expect(page.get_by_role("button", name="Continue")).to_be_visible(timeout=30_000)
    page.get_by_role("button", name="Continue").click()
    with page.expect_popup() as window:
        page.get_by_role("button", name="Sign in", exact=True).click()
    window.value.wait_for_event("close", timeout=30_000)
    expect(sign_out).to_be_visible(timeout=30_000)
    page.screenshot(path=tmp_path / "2-signed-in.png")

    before = len(watch.answers)
    with page.expect_popup() as logout:
        sign_out.click()
    expect(logout.value.get_by_role("heading", name="Signed out")).to_be_visible()
    logout.value.close()
    expect(page.get_by_role("button", name="Continue")).to_be_visible(timeout=30_000)
    until(watch, ("info", 401), page, tmp_path, since=before)  # Mirador asks again 2 s later
    page.screenshot(path=tmp_path / "3-signed-out.png")
    assert [error for error in watch.errors if "pageerror" in error] == []


def until(watch: Watch, answer: tuple[str, int], page: Page, tmp_path: Any, since: int = 0) -> None:
    deadline = time.monotonic() + 30
    while answer not in watch.answers[since:]:
        if time.monotonic() > deadline:
            page.screenshot(path=tmp_path / "timed-out.png")
            raise AssertionError((answer, watch.answers, watch.errors))
        page.wait_for_timeout(200)


def test_mirador_4_shows_anyone_the_degraded_copy_and_the_owner_the_image(
    chromium_here: Browser, stack: Stack, port: int, tiered: Restricted, tmp_path: Any
) -> None:
    page = chromium_here.new_context(viewport={"width": 1280, "height": 900}).new_page()
    watch = Watch(page, tiered.image)
    mirador(page, f"http://127.0.0.1:{port}", tiered)

    until(watch, ("degraded pixels", 200), page, tmp_path)
    prompt(page, tmp_path)
    assert watch.saw("info", 302) and watch.saw("degraded info", 200) and not watch.saw("pixels", 200)
    page.screenshot(path=tmp_path / "tier-1-degraded.png")
    sign_in_in_the_window(page, page.get_by_role("button", name="Sign in", exact=True).click, "alice")
    until(watch, ("info", 200), page, tmp_path)  # the full image's, with the access token
    page.wait_for_timeout(1500)
    # Mirador 4 keeps the tile source it added (the degraded one) while the canvas stays on screen
    # (docs/iiif-auth.md): any view change draws the canvas anew, now from the full image.
    assert not watch.saw("pixels", 200)
    for view in ("Gallery", "Single"):
        page.get_by_role("button", name="Window views & thumbnail display").click()
        page.get_by_role("menuitemradio", name=view).click()
    until(watch, ("pixels", 200), page, tmp_path)
    page.screenshot(path=tmp_path / "tier-2-signed-in.png")
    assert [error for error in watch.errors if "pageerror" in error] == []


def test_mirador_4_shows_another_user_that_they_may_not_see_it(
    chromium_here: Browser, port: int, restricted: Restricted, tmp_path: Any
) -> None:
    page = chromium_here.new_context(viewport={"width": 1280, "height": 900}).new_page()
    watch = Watch(page, restricted.image)
    mirador(page, f"http://127.0.0.1:{port}", restricted)

    prompt(page, tmp_path)
    sign_in_in_the_window(page, page.get_by_role("button", name="Sign in", exact=True).click, "bob")

    until(watch, ("info", 403), page, tmp_path)
    page.wait_for_timeout(1000)
    page.screenshot(path=tmp_path / "bob.png")
    assert not watch.saw("pixels", 200)


def run_auth2_client(browser: Browser, site: str, stack: Stack, restricted: Restricted) -> dict[str, Any]:
    page = browser.new_context().new_page()
    query = urlencode({"manifest": restricted.manifest, "probe": f"{stack.api}/auth/probe/{restricted.pdf}"})
    page.goto(f"{site}/pages/auth2.html?{query}")
    page.wait_for_function("() => window.steps.length > 0")
    sign_in_in_the_window(page, page.get_by_role("button", name="Sign in").click, "alice")
    page.wait_for_function(
        "() => window.steps.some(([name]) => name === 'done' || name === 'error')", timeout=30_000
    )
    return dict(page.evaluate("window.steps"))


def status(result: dict[str, Any]) -> int:
    return int(result["status"])


def test_the_auth_2_client_flow_reads_a_restricted_image_and_file(
    chromium_here: Browser, stack: Stack, port: int, restricted: Restricted
) -> None:
    # The client's page is on another origin of the API's site: another port of 127.0.0.1.
    steps = run_auth2_client(chromium_here, f"http://127.0.0.1:{port}", stack, restricted)

    assert status(steps["probe before"]) == 401
    assert steps["token"] == {"type": "AuthAccessToken2", "profile": None}
    assert status(steps["probe after"]) == 200
    assert status(steps["file probe"]) == 200
    assert steps["image"] == 200  # the pixels, by the cookie alone
    assert steps["done"] is True


def test_the_auth_2_client_flow_shows_the_substitute_then_the_image(
    chromium_here: Browser, stack: Stack, port: int, tiered: Restricted
) -> None:
    steps = run_auth2_client(chromium_here, f"http://127.0.0.1:{port}", stack, tiered)

    before = steps["probe before"]
    assert status(before) == 401
    [substitute] = before["substitute"]
    assert substitute["id"] == f"{stack.api}/iiif/3/{tiered.image}~degraded/full/max/0/default.jpg"
    assert steps["substitute"] == 300  # drawn before signing in: 1200x800 to fit 300 a side
    assert status(steps["probe after"]) == 200 and "substitute" not in steps["probe after"]
    assert steps["image"] == 200
    assert steps["done"] is True


def test_on_another_site_the_token_service_gets_no_cookie_and_says_sign_in_first(
    chromium_here: Browser, stack: Stack, port: int, restricted: Restricted
) -> None:
    # Chromium sends the frame of a page on another site no third-party cookie (docs/iiif-auth.md).
    steps = run_auth2_client(chromium_here, f"http://{OTHER_SITE}:{port}", stack, restricted)

    assert status(steps["probe before"]) == 401
    assert steps["token"] == {"type": "AuthAccessTokenError2", "profile": "missingAspect"}
    assert steps["done"] is False


def test_the_universal_viewer_4_on_another_origin_signs_in_but_asks_for_tiles_without_the_cookie(
    chromium_here: Browser, stack: Stack, port: int, restricted: Restricted, tmp_path: Any
) -> None:
    page = chromium_here.new_context(viewport={"width": 1280, "height": 900}).new_page()
    watch = Watch(page, restricted.image)
    page.goto(f"http://127.0.0.1:{port}/uv/uv.html#?{urlencode({'manifest': restricted.manifest})}")
    until(watch, ("info", 401), page, tmp_path)
    page.screenshot(path=tmp_path / "uv-1-prompt.png")
    confirm = page.locator("a.confirm:visible")
    expect(confirm).to_have_text("Sign in")
    before = len(watch.answers)
    sign_in_in_the_window(page, confirm.click, "alice")
    until(watch, ("info", 200), page, tmp_path, since=before)  # with the access token
    until(watch, ("pixels", 401), page, tmp_path, since=before)
    page.screenshot(path=tmp_path / "uv-2-signed-in.png")

    # UV 4 asks for tiles as anonymous CORS requests (crossOrigin="anonymous"): to another origin
    # they carry no cookie and no token, and are refused (docs/iiif-auth.md).
    assert not watch.saw("pixels", 200)


def test_the_universal_viewer_4_on_another_origin_shows_anyone_the_degraded_copy(
    chromium_here: Browser, port: int, tiered: Restricted, tmp_path: Any
) -> None:
    page = chromium_here.new_context(viewport={"width": 1280, "height": 900}).new_page()
    watch = Watch(page, tiered.image)
    page.goto(f"http://127.0.0.1:{port}/uv/uv.html#?{urlencode({'manifest': tiered.manifest})}")

    # The tier is anyone's, so UV's anonymous tile requests get it; the sign-in stays offered.
    until(watch, ("degraded pixels", 200), page, tmp_path)
    assert watch.saw("info", 302) and watch.saw("degraded info", 200)
    page.screenshot(path=tmp_path / "uv-tier.png")
    # UV's bar for a degraded resource: the login service's label, with its own Sign in button.
    expect(page.get_by_text("Sign in at 127.0.0.1:").first).to_be_visible()
    assert not watch.saw("pixels", 200)
