"""Forged requests in Debian's Chromium: a page on another origin of the same site rides no session.

SameSite=Strict does not separate sibling origins of one site: another port of 127.0.0.1 here,
another subdomain in production. A depositor with a session cookie opens such a page, and the page
fires `no-cors` requests at the API with the browser's credentials, the way a forged form or fetch
would. None of them may act in her name; the same requests from the API's own origin still do.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any
from urllib.parse import urlsplit

import pytest
import requests
from playwright.sync_api import Page

from chalicelib.files.keys import encode_key
from tests.browser.front import Front
from tests.helpers import png
from tests.stack import Stack, make_token

pytestmark = pytest.mark.e2e

TIMEOUT = 15
SIBLING_PAGE = b"<!doctype html><title>sibling</title><p>another origin of the same site</p>"


class _SiblingPage(BaseHTTPRequestHandler):
    def do_GET(self) -> None:
        self.send_response(200)
        self.send_header("Content-Type", "text/html")
        self.send_header("Content-Length", str(len(SIBLING_PAGE)))
        self.end_headers()
        self.wfile.write(SIBLING_PAGE)

    def log_message(self, format: str, *args: object) -> None:
        pass


@pytest.fixture(scope="module")
def sibling() -> Iterator[str]:
    """A page on another port of 127.0.0.1: same site as the front, another origin. A real server,
    so Chromium sees a page on the loopback network, as a sibling subdomain is to its API."""
    server = ThreadingHTTPServer(("127.0.0.1", 0), _SiblingPage)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{server.server_address[1]}"
    server.shutdown()
    server.server_close()


class Depositor:
    def __init__(self, stack: Stack, front: Front, name: str) -> None:
        self.api = front.origin
        self.auth = {"Authorization": f"Bearer {make_token(stack, name)}"}

    def call(self, method: str, path: str, body: Any = None) -> requests.Response:
        return requests.request(method, f"{self.api}{path}", json=body, headers=self.auth, timeout=TIMEOUT)

    def draft_with_a_file(self) -> dict[str, Any]:
        draft = self.call("POST", "/records", {"metadata": {"title": "Unpublished work"}}).json()
        path = f"/records/{draft['id']}/files/{encode_key('notes.txt')}"
        started = self.call("POST", f"{path}?uploads", {"size": 5}).json()
        [part] = started["parts"]
        requests.put(part["url"], data=b"notes", headers=part["headers"], timeout=TIMEOUT).raise_for_status()
        assert self.call("POST", f"{path}?uploadId={started['id']}").status_code == 200
        return draft  # type: ignore[no-any-return]

    def image_in(self, draft: dict[str, Any]) -> str:
        """A PNG added to the draft, once ingest is done with it: its thumbnail's path."""
        path = f"/records/{draft['id']}/files/{encode_key('map.png')}"
        content = png(120, 80)
        started = self.call("POST", f"{path}?uploads", {"size": len(content)}).json()
        [part] = started["parts"]
        requests.put(part["url"], data=content, headers=part["headers"], timeout=TIMEOUT).raise_for_status()
        assert self.call("POST", f"{path}?uploadId={started['id']}").status_code == 200
        deadline = time.monotonic() + 30
        while (meta := self.call("GET", f"/files/{draft['bucket_id']}/{encode_key('map.png')}?meta").json())[
            "ingest"
        ]["state"] != "done":
            assert time.monotonic() < deadline, meta
            time.sleep(0.2)
        return urlsplit(meta["links"]["thumbnail"]).path

    def record_titles(self) -> list[str]:
        listing = self.call("GET", "/records?owner=me").json()
        return sorted(record["metadata"]["title"] for record in listing["records"])


def _sign_in(page: Page, depositor: Depositor) -> None:
    """What a page on the API's own origin does for Uppy 6: trade the bearer token for the cookie."""
    page.goto(f"{depositor.api}/health", timeout=TIMEOUT * 1000)
    status = page.evaluate(
        "async (auth) => (await fetch('/session', {method: 'POST', headers: auth})).status",
        depositor.auth,
    )
    assert status == 204


def _forge(page: Page, sibling: str, api: str, requests_to_forge: list[dict[str, Any]]) -> None:
    """Open the page on the sibling origin and fire each request from it, blind (`no-cors`)."""
    page.goto(sibling, timeout=TIMEOUT * 1000)
    failures = page.evaluate(
        """async ([api, forged]) => {
            const failures = []
            for (const one of forged) {
                const init = {method: one.method, mode: "no-cors", credentials: "include"}
                // A Blob without a type sends no Content-Type at all: the body a server that
                // defaults to JSON parses as JSON.
                if (one.body !== undefined) init.body = new Blob([JSON.stringify(one.body)])
                await fetch(api + one.path, init).catch((error) => failures.push(`${one.path}: ${error}`))
            }
            return failures
        }""",
        [api, requests_to_forge],
    )
    assert failures == []


def test_a_sibling_origin_cannot_act_with_the_session_cookie(
    stack: Stack, front: Front, sibling: str, page: Page
) -> None:
    alice = Depositor(stack, front, "forgery-victim")
    draft = alice.draft_with_a_file()
    bucket = alice.call("POST", "/files", {}).json()["id"]
    _sign_in(page, alice)

    _forge(
        page,
        sibling,
        alice.api,
        [
            {"method": "POST", "path": f"/records/{draft['id']}/publish"},
            {"method": "POST", "path": "/records", "body": {"metadata": {"title": "Forged"}}},
            {"method": "GET", "path": f"/s3/params?filename=f.bin&type=text/plain&metadata[bucket]={bucket}"},
            {
                "method": "POST",
                "path": "/s3/multipart",
                "body": {"filename": "f.bin", "metadata": {"bucket": bucket}},
            },
        ],
    )

    assert alice.call("GET", f"/records/{draft['id']}").json()["state"] == "draft"
    assert alice.record_titles() == ["Unpublished work"]
    assert alice.call("GET", f"/files/{bucket}?uploads").json()["uploads"] == []
    # The same kind of request from the API's own origin still works: the session was not ended
    # from outside, and the cookie does what it is for.
    page.goto(f"{alice.api}/health", timeout=TIMEOUT * 1000)
    started = page.evaluate(
        """async (bucket) => {
            const response = await fetch('/s3/multipart', {
                method: 'POST', headers: {'Content-Type': 'application/json'},
                body: JSON.stringify({filename: 'own.bin', metadata: {bucket}}),
            })
            return response.status
        }""",
        bucket,
    )
    assert started == 200
    assert [upload["key"] for upload in alice.call("GET", f"/files/{bucket}?uploads").json()["uploads"]] == [
        "own.bin"
    ]


def test_a_sibling_origin_sees_nothing_with_the_session_cookie(
    stack: Stack, front: Front, sibling: str, page: Page
) -> None:
    alice = Depositor(stack, front, "peeping-victim")
    draft = alice.draft_with_a_file()
    thumbnail = f"{alice.api}{alice.image_in(draft)}"
    _sign_in(page, alice)
    drawn = """async (src) => {
        const image = new Image()
        image.src = src
        await image.decode().catch(() => {})
        return image.naturalWidth
    }"""

    assert page.evaluate(drawn, thumbnail) > 0  # the console's own origin: the draft's image, by cookie
    page.goto(sibling, timeout=TIMEOUT * 1000)
    # Another size: the browser keeps what the own origin read, and this is about what Vellum answers.
    smaller = thumbnail.replace("/full/max/", "/full/60,/")
    assert smaller != thumbnail
    assert page.evaluate(drawn, smaller) == 0  # a sibling origin: read as anyone's, so not found
