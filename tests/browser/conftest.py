"""Browser tests: Debian's Chromium, driven by Playwright, on a page served by a same-origin front.

`bash tests/setup.sh` installs Chromium and the Uppy bundles first (the Makefile runs it).
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from urllib.parse import urlsplit

import pytest
from playwright.sync_api import Browser, ConsoleMessage, Page, Request, Response, sync_playwright

from tests.browser.front import BUNDLES, Front
from tests.stack import Stack

CHROMIUM = Path("/usr/bin/chromium")
# Playwright gives every launch a fresh temporary profile (its own --user-data-dir) and adds
# --headless for headless=True; these are the flags the project starts Chromium with. The resolver
# rule keeps the browser off every host but loopback, whatever a bundle might try to fetch.
CHROMIUM_FLAGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--host-resolver-rules=MAP * ~NOTFOUND, EXCLUDE 127.0.0.1",
]
SETUP_HINT = "run `bash tests/setup.sh` first"


@pytest.fixture(scope="session")
def chromium() -> Iterator[Browser]:
    if not CHROMIUM.is_file():
        pytest.fail(f"{CHROMIUM} is missing: {SETUP_HINT}")
    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(
            executable_path=CHROMIUM, args=CHROMIUM_FLAGS, headless=True, timeout=60_000
        )
        yield browser
        browser.close()


@pytest.fixture(scope="session")
def front(stack: Stack) -> Iterator[Front]:
    for bundle in BUNDLES.values():
        if not (bundle / "uppy.min.mjs").is_file():
            pytest.fail(f"{bundle / 'uppy.min.mjs'} is missing: {SETUP_HINT}")
    running = Front(stack.api)
    running.start()
    yield running
    running.stop()


@dataclass
class PageWatch:
    """What a page did besides running its script: console, errors, and its traffic to other origins."""

    origin: str
    console: list[str] = field(default_factory=list)
    page_errors: list[str] = field(default_factory=list)
    failed_requests: list[str] = field(default_factory=list)
    foreign_hosts: set[str] = field(default_factory=set)
    # Responses from origins other than the front's (the embedded S3): method, URL path, status, headers.
    s3_responses: list[tuple[str, str, int, dict[str, str]]] = field(default_factory=list)

    def on_console(self, message: ConsoleMessage) -> None:
        if message.type in ("error", "warning"):
            self.console.append(f"{message.type}: {message.text}")

    def on_request(self, request: Request) -> None:
        parts = urlsplit(request.url)
        if parts.scheme in ("http", "https", "ws", "wss") and parts.hostname != "127.0.0.1":
            self.foreign_hosts.add(parts.hostname or request.url)

    def on_request_failed(self, request: Request) -> None:
        self.failed_requests.append(f"{request.method} {_short(request.url)}: {request.failure}")

    def on_response(self, response: Response) -> None:
        if not response.url.startswith(self.origin):
            self.s3_responses.append(
                (response.request.method, _short(response.url), response.status, response.headers)
            )

    def report(self) -> str:
        lines = ["console:", *self.console, "page errors:", *self.page_errors]
        lines += ["failed requests:", *self.failed_requests, "responses from S3:"]
        lines += [
            f"{method} {url} -> {status} {headers}" for method, url, status, headers in self.s3_responses
        ]
        return "\n  ".join(lines)


def _short(url: str) -> str:
    """A URL without its query: presigned signatures are long and say nothing useful here."""
    parts = urlsplit(url)
    return f"{parts.scheme}://{parts.netloc}{parts.path}"


@pytest.fixture
def browser_page(chromium: Browser, front: Front) -> Iterator[tuple[Page, PageWatch]]:
    """A page in a fresh browser context: no cookies, cache or storage from other tests."""
    context = chromium.new_context()
    page = context.new_page()
    watch = PageWatch(origin=front.origin)
    page.on("console", watch.on_console)
    page.on("pageerror", lambda error: watch.page_errors.append(str(error)))
    page.on("request", watch.on_request)
    page.on("requestfailed", watch.on_request_failed)
    page.on("response", watch.on_response)
    yield page, watch
    context.close()


@pytest.fixture
def page(chromium: Browser) -> Iterator[Page]:
    """A page in a fresh context that records and dismisses every dialog (a script's alert) in
    ``page.dialogs``, and takes downloads (an attachment opened) without failing."""
    context = chromium.new_context(accept_downloads=True)
    opened = context.new_page()
    dialogs: list[str] = []
    opened.on("dialog", lambda dialog: (dialogs.append(dialog.message), dialog.dismiss()))
    opened.dialogs = dialogs  # type: ignore[attr-defined]
    yield opened
    context.close()
