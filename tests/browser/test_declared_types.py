"""Declared types in Debian's Chromium: whatever type a depositor declares for a file of HTML, no
download or preview of it runs its script. A type that is not one media type is refused at upload;
every other is served as the type Vellum rebuilt, inline only when it cannot run script."""

from __future__ import annotations

from typing import Any

import pytest
import requests
from playwright.sync_api import Error as PlaywrightError
from playwright.sync_api import Page

from chalicelib.files.keys import encode_key
from tests.stack import Stack, make_token

pytestmark = pytest.mark.e2e

PAYLOAD = (
    b"<html><body><p>declared</p><script>window.pwned = 'script'; alert('script')</script>"
    b"<img src=x onerror=\"window.pwned = 'onerror'; alert('onerror')\">"
    b"<svg xmlns='http://www.w3.org/2000/svg' onload=\"window.pwned = 'svg'\"></svg></body></html>"
)
# Refused at upload: not one media type.
REFUSED = [
    "text/plain;,text/html",
    "text/plain, text/html",
    "image/png,text/html",
    "text/plain; charset=utf-8,text/html",
    "text/plain\r\nContent-Type: text/html",
    "text/html\n",
    "",
    "text/" + "h" * 10_000,
]
# Accepted, and served so that nothing runs: as an attachment, or inline as inert text.
ACCEPTED = [
    "text/html",
    "TEXT/HTML",
    "text/HtMl; charset=utf-8",
    "image/svg+xml",
    "application/xhtml+xml",
    "text/xml",
    "multipart/x-mixed-replace; boundary=frame",
    "text/plain",
    'text/plain; charset="utf-8"',
    "application/octet-stream",
]


@pytest.fixture(scope="module")
def shelf(stack: Stack) -> dict[str, Any]:
    auth = {"Authorization": f"Bearer {make_token(stack, 'declared-types')}"}
    bucket = requests.post(f"{stack.api}/files", json={"public_read": True}, headers=auth, timeout=10).json()
    return {"bucket": bucket["id"], "auth": auth}


def _initiate(stack: Stack, shelf: dict[str, Any], key: str, declared: str) -> requests.Response:
    target = f"{stack.api}/files/{shelf['bucket']}/{encode_key(key)}"
    body = {"size": len(PAYLOAD), "content_type": declared}
    return requests.post(f"{target}?uploads", json=body, headers=shelf["auth"], timeout=10)


def _visit(page: Page, url: str) -> None:
    try:
        page.goto(url, timeout=15_000)
    except PlaywrightError as error:
        # An attachment starts a download instead of a page: that is one way of not running it.
        assert "Download is starting" in str(error) or "ERR_ABORTED" in str(error), str(error)
    page.wait_for_timeout(300)  # let anything that could run try
    assert page.dialogs == []  # type: ignore[attr-defined]
    assert page.evaluate("typeof window.pwned") == "undefined"


@pytest.mark.parametrize("declared", REFUSED, ids=range(len(REFUSED)))
def test_a_type_that_is_not_one_media_type_is_refused_at_upload(
    stack: Stack, shelf: dict[str, Any], declared: str
) -> None:
    refused = _initiate(stack, shelf, "refused.html", declared)

    assert refused.status_code == 400
    assert refused.json()["errors"][0]["field"] == "content_type"


@pytest.mark.parametrize("declared", ACCEPTED)
def test_no_download_or_preview_of_uploaded_html_runs_its_script(
    page: Page, stack: Stack, shelf: dict[str, Any], declared: str
) -> None:
    key = f"declared/{ACCEPTED.index(declared)}.html"
    upload = _initiate(stack, shelf, key, declared)
    assert upload.status_code == 201, upload.text
    [part] = upload.json()["parts"]
    assert requests.put(part["url"], data=PAYLOAD, headers=part["headers"], timeout=30).status_code == 200
    object_url = f"{stack.api}/files/{shelf['bucket']}/{encode_key(key)}"
    completed = requests.post(
        f"{object_url}?uploadId={upload.json()['id']}", headers=shelf["auth"], timeout=30
    )
    assert completed.status_code == 200, completed.text

    served = requests.get(object_url, allow_redirects=False, timeout=10).headers["Location"]
    type_served = requests.get(served, timeout=10).headers["Content-Type"]
    assert type_served in ("application/octet-stream", "text/plain", "text/plain; charset=utf-8")
    _visit(page, object_url)  # the download, through the API's redirect to the data bucket
    _visit(page, f"{object_url}?preview")
