"""Uploads from a browser with the stock Uppy bundles and @uppy/aws-s3, to the embedded stack.

Uppy asks Vellum's Companion-compatible routes under /s3 to sign, through the same-origin front, and
sends the bytes straight to the embedded S3 with the presigned URLs. Then, as any client would, the
test finds the object in the bucket listing and downloads it through the API's 302 to S3.

- Uppy 5 (`uppy@5.2.4`, @uppy/aws-s3 5.1): `endpoint` + `headers` (the bearer token on every call).
- Uppy 6 (`uppy@6.0.1`, @uppy/aws-s3 6.1): `companionEndpoint` and plain fetches without headers, so
  it authenticates with the `vellum_session` cookie the page gets from `POST /session`.

Neither bundle signs parts in batches: both ask `GET /s3/multipart/{uploadId}/{partNumber}` per part.
Uppy 5 finishes a form upload only with the ETag S3 answers it with, which the embedded S3 adds to
moto's answer (local/form_uploads.py).
"""

from __future__ import annotations

import hashlib
import re
import struct
import time
from dataclasses import dataclass
from functools import cache
from typing import Any

import pytest
import requests
from playwright.sync_api import Page
from playwright.sync_api import TimeoutError as PlaywrightTimeout

from chalicelib.files.keys import encode_key
from tests.browser.conftest import PageWatch
from tests.browser.front import Exchange, Front
from tests.stack import Stack, make_token

pytestmark = pytest.mark.e2e

MiB = 1024**2
PART_SIZE = 5 * MiB  # both majors' choice up to 10,000 parts: S3's smallest part
MULTIPART_ABOVE = 16 * MiB  # the page's shouldUseMultipart: single POST below, parts above
MAJORS = [5, 6]
# Every wait is bounded; together they keep a test under three minutes.
PAGE_LOAD_SECONDS = 15
UPLOAD_SECONDS = 120
LISTING_SECONDS = 20
HTTP_SECONDS = 30


@dataclass(frozen=True)
class Upload:
    name: str
    size: int
    seed: int

    @property
    def parts(self) -> int:
        return -(-self.size // PART_SIZE)


# Names with a space and a non-ASCII letter, as people name files; odd sizes, so the last part is short.
SMALL = Upload(name="field notes ü.bin", size=200 * 1024 + 3, seed=0x5EED0001)
LARGE = Upload(name="scan ü 120 MiB.bin", size=120 * MiB + 4321, seed=0x5EED0002)


@cache
def _base_block(seed: int) -> int:
    """The page's 1 MiB xorshift32 block, as a little-endian integer (cheap to XOR whole)."""
    words = bytearray(MiB)
    x = seed
    for offset in range(0, MiB, 4):
        x ^= (x << 13) & 0xFFFFFFFF
        x ^= x >> 17
        x ^= (x << 5) & 0xFFFFFFFF
        struct.pack_into("<I", words, offset, x)
    return int.from_bytes(words, "little")


def content_sha256(upload: Upload) -> str:
    """SHA-256 of the bytes uppy.html generates: MiB ``i`` is the base block XOR a word of its own."""
    block = _base_block(upload.seed)
    digest = hashlib.sha256()
    for index, offset in enumerate(range(0, upload.size, MiB)):
        mask = ((index + 1) * 0x9E3779B1) & 0xFFFFFFFF
        chunk = (block ^ int.from_bytes(struct.pack("<I", mask) * (MiB // 4), "little")).to_bytes(
            MiB, "little"
        )
        digest.update(chunk[: upload.size - offset])
    return digest.hexdigest()


class FilesApi:
    """The files API over HTTP, straight to the API (not through the front), with a bearer token."""

    def __init__(self, stack: Stack, token: str) -> None:
        self.api = stack.api
        self.token = token
        self.session = requests.Session()
        self.session.headers["Authorization"] = f"Bearer {token}"

    def new_bucket(self) -> str:
        response = self.session.post(f"{self.api}/files", json={}, timeout=HTTP_SECONDS)
        assert response.status_code == 201, response.text
        return str(response.json()["id"])

    def wait_for_object(self, bucket: str, key: str) -> dict[str, Any]:
        """The object's entry in the bucket listing. A single POST upload is recorded by the ingest
        handler when S3 announces the object, so it may take a moment to appear."""
        deadline = time.monotonic() + LISTING_SECONDS
        while True:
            response = self.session.get(f"{self.api}/files/{bucket}", timeout=HTTP_SECONDS)
            assert response.status_code == 200, response.text
            found = [entry for entry in response.json()["contents"] if entry["key"] == key]
            if found:
                return found[0]  # type: ignore[no-any-return]
            assert time.monotonic() < deadline, (
                f"{key!r} is not in bucket {bucket} after {LISTING_SECONDS} s: {response.json()['contents']}"
            )
            time.sleep(0.25)

    def downloaded_sha256(self, bucket: str, key: str) -> str:
        url = f"{self.api}/files/{bucket}/{encode_key(key)}"
        response = self.session.get(url, allow_redirects=False, timeout=HTTP_SECONDS)
        assert response.status_code == 302, response.text
        digest = hashlib.sha256()
        # The presigned URL is the credential: the bearer token never goes to S3.
        with requests.get(response.headers["Location"], stream=True, timeout=HTTP_SECONDS) as download:
            assert download.status_code == 200, download.text
            for chunk in download.iter_content(MiB):
                digest.update(chunk)
        return digest.hexdigest()


@pytest.fixture
def files_api(stack: Stack) -> FilesApi:
    return FilesApi(stack, make_token(stack, "uppy-user"))


@dataclass
class Outcome:
    """How one Uppy upload went: the page's own account, the API conversation and the browser's view."""

    state: dict[str, Any]
    exchanges: list[Exchange]
    watch: PageWatch

    def report(self) -> str:
        state = {name: value for name, value in self.state.items() if name != "done"}
        conversation = "\n  ".join(str(exchange) for exchange in self.exchanges) or "(none)"
        return f"page state: {state}\nrequests through the front:\n  {conversation}\n{self.watch.report()}"

    def routes(self) -> list[tuple[str, str, int]]:
        """The API calls, with upload ids and part numbers folded so runs compare."""
        folded = []
        for exchange in self.exchanges:
            path = exchange.path.split("?", 1)[0]
            path = re.sub(r"^/s3/multipart/[^/]+", "/s3/multipart/{uploadId}", path)
            path = re.sub(r"/\{uploadId\}/\d+$", "/{uploadId}/{partNumber}", path)
            folded.append((exchange.method, path, exchange.status))
        return folded

    def signed_part_numbers(self) -> set[int]:
        numbers = set()
        for exchange in self.exchanges:
            found = re.fullmatch(r"/s3/multipart/[^/?]+/(\d+)(\?.*)?", exchange.path)
            if exchange.method == "GET" and found and exchange.status == 200:
                numbers.add(int(found.group(1)))
        return numbers

    def s3_requests(self, method: str) -> list[tuple[int, dict[str, str]]]:
        return [(status, headers) for m, _, status, headers in self.watch.s3_responses if m == method]


def upload_with_uppy(
    browser_page: tuple[Page, PageWatch], front: Front, major: int, token: str, bucket: str, upload: Upload
) -> Outcome:
    page, watch = browser_page
    mark = front.mark()
    page.goto(f"{front.origin}/?major={major}", timeout=PAGE_LOAD_SECONDS * 1000)
    page.wait_for_function(
        "() => window.vellum && window.vellum.state.phase !== 'loading'", timeout=PAGE_LOAD_SECONDS * 1000
    )
    spec = {
        "token": token,
        "bucket": bucket,
        "name": upload.name,
        "size": upload.size,
        "seed": upload.seed,
        "multipartAbove": MULTIPART_ABOVE,
    }
    page.evaluate("spec => { window.vellum.start(spec) }", spec)  # returns at once; the upload goes on
    try:
        page.wait_for_function("() => window.vellum.state.done", timeout=UPLOAD_SECONDS * 1000, polling=250)
    except PlaywrightTimeout:
        outcome = Outcome(page.evaluate("window.vellum.state"), front.exchanges_since(mark), watch)
        pytest.fail(f"Uppy {major} did not finish within {UPLOAD_SECONDS} s\n{outcome.report()}")
    return Outcome(page.evaluate("window.vellum.state"), front.exchanges_since(mark), watch)


def assert_uppy_succeeded(outcome: Outcome, upload: Upload) -> None:
    state = outcome.state
    assert state["errors"] == [], outcome.report()
    assert state["uploadErrors"] == [], outcome.report()
    assert state["result"] == {"successful": [upload.name], "failed": []}, outcome.report()


def assert_page_behaved(outcome: Outcome, major: int, upload: Upload) -> None:
    assert outcome.state["generatedSha256"] == content_sha256(upload), (
        "uppy.html and content_sha256 generate different bytes"
    )
    assert not outcome.watch.foreign_hosts, f"the page reached beyond loopback: {outcome.watch.foreign_hosts}"
    if major == 6:
        assert_session_cookie_set(outcome)


def assert_session_cookie_set(outcome: Outcome) -> None:
    """POST /session answered 204 with an HttpOnly, SameSite=Strict cookie for the whole origin."""
    sessions = [e for e in outcome.exchanges if (e.method, e.path) == ("POST", "/session")]
    assert [e.status for e in sessions] == [204], outcome.report()
    cookies = [value for name, value in sessions[0].response_headers if name.lower() == "set-cookie"]
    session_cookies = [value for value in cookies if value.startswith("vellum_session=")]
    assert len(session_cookies) == 1, cookies
    attributes = {part.strip().lower() for part in session_cookies[0].split(";")[1:]}
    assert {"httponly", "samesite=strict", "path=/"} <= attributes, session_cookies[0]


def assert_stored_intact(files_api: FilesApi, bucket: str, upload: Upload) -> None:
    entry = files_api.wait_for_object(bucket, upload.name)
    assert entry["size"] == upload.size, entry
    assert files_api.downloaded_sha256(bucket, upload.name) == content_sha256(upload)


@pytest.mark.parametrize("major", MAJORS, ids=lambda major: f"uppy{major}")
def test_a_small_file_goes_to_s3_in_one_presigned_post_and_downloads_intact(
    browser_page: tuple[Page, PageWatch], front: Front, files_api: FilesApi, major: int
) -> None:
    bucket = files_api.new_bucket()

    outcome = upload_with_uppy(browser_page, front, major, files_api.token, bucket, SMALL)

    assert_uppy_succeeded(outcome, SMALL)
    assert_page_behaved(outcome, major, SMALL)
    routes = outcome.routes()
    assert ("GET", "/s3/params", 200) in routes, outcome.report()
    assert not [route for route in routes if route[1].startswith("/s3/multipart")], outcome.report()
    assert [status for status, _ in outcome.s3_requests("POST")] in ([200], [201], [204]), outcome.report()
    assert_stored_intact(files_api, bucket, SMALL)


@pytest.mark.parametrize("major", MAJORS, ids=lambda major: f"uppy{major}")
def test_a_large_file_goes_to_s3_in_parts_is_completed_and_downloads_intact(
    browser_page: tuple[Page, PageWatch], front: Front, files_api: FilesApi, major: int
) -> None:
    bucket = files_api.new_bucket()

    outcome = upload_with_uppy(browser_page, front, major, files_api.token, bucket, LARGE)

    assert_uppy_succeeded(outcome, LARGE)
    assert_page_behaved(outcome, major, LARGE)
    routes = outcome.routes()
    assert routes.count(("POST", "/s3/multipart", 200)) == 1, outcome.report()
    assert outcome.signed_part_numbers() == set(range(1, LARGE.parts + 1)), outcome.report()
    assert routes.count(("POST", "/s3/multipart/{uploadId}/complete", 200)) == 1, outcome.report()
    assert ("GET", "/s3/params", 200) not in routes, outcome.report()
    puts = outcome.s3_requests("PUT")
    assert [status for status, _ in puts] == [200] * LARGE.parts, outcome.report()
    assert all("etag" in headers for _, headers in puts), outcome.report()
    assert_stored_intact(files_api, bucket, LARGE)
