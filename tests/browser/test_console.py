"""The web console in Chromium on the embedded stack: signing in, a record from form to published,
what another user sees, and no accessibility violation that axe-core calls serious or critical."""

from __future__ import annotations

import hashlib
import io
import os
import re
import time
from collections.abc import Iterator
from pathlib import Path
from urllib.parse import parse_qs, urlsplit

import pytest
import requests
from PIL import Image
from playwright.sync_api import Browser, Page, expect

from chalicelib.files.keys import encode_key
from tests.stack import Stack, make_token

pytestmark = pytest.mark.e2e

MiB = 1024 * 1024
AXE = Path(__file__).resolve().parent / "node_modules/axe-core/axe.min.js"


class Console:
    """One person's browser on the console, recording what went wrong on the page."""

    def __init__(self, page: Page, shots: Path) -> None:
        self.page = page
        self.shots = shots
        self.problems: list[str] = []
        self.refusals: list[tuple[str, str, int]] = []  # (method, path, status) of each 4xx/5xx
        self.viewer_images: list[tuple[int, str]] = []  # (status, URL) of Mirador's IIIF pixels
        page.on(
            "response",
            lambda response: (
                "/console/viewer/" in response.frame.url
                and response.url.endswith("/default.jpg")
                and self.viewer_images.append((response.status, response.url))
            ),
        )
        page.on("pageerror", lambda error: self.problems.append(f"error: {error}"))
        # Chromium logs each refused request too; those are counted in refusals instead. Stock
        # Mirador 4 warns about its own bundled code (React 19's element.ref): not the console's.
        page.on(
            "console",
            lambda message: (
                message.type == "error"
                and not message.text.startswith("Failed to load resource")
                and "/vendor/mirador-" not in message.location.get("url", "")
                and self.problems.append(f"console: {message.text} ({message.location.get('url')})")
            ),
        )
        page.on(
            "response",
            lambda response: (
                response.status >= 400
                and self.refusals.append(
                    (response.request.method, urlsplit(response.url).path, response.status)
                )
            ),
        )

    def shot(self, name: str) -> None:
        self.page.screenshot(path=self.shots / f"{name}.png", full_page=True)

    def accessible(self) -> None:
        """axe-core's serious and critical violations on the page as it is now: none."""
        # evaluate() runs outside the page's CSP, which rightly forbids injected scripts.
        self.page.evaluate(AXE.read_text())
        violations = self.page.evaluate(
            """async () => (await axe.run(document, {resultTypes: ['violations']})).violations
                 .filter((v) => v.impact === 'serious' || v.impact === 'critical')
                 .map((v) => `${v.id}: ${v.help} (${v.nodes.map((n) => n.target).join(', ')})`)"""
        )
        assert violations == [], violations

    def sees_pixels_in_mirador(self) -> None:
        """Mirador, framed in the console, has drawn an image: its pixels came back, none refused."""
        frame = self.page.frame_locator("iframe.mirador")
        expect(frame.locator(".openseadragon-canvas").first).to_be_visible(timeout=30_000)
        deadline = time.monotonic() + 30
        while not self.viewer_images:
            assert time.monotonic() < deadline, ("Mirador asked for no pixels", self.refusals)
            self.page.wait_for_timeout(200)
        # 304: a restricted image's answers are revalidated each time (private, no-cache).
        assert all(status in (200, 304) for status, _ in self.viewer_images), self.viewer_images

    def sign_in(self, api: str, user: str, admin: bool = False) -> None:
        self.page.goto(f"{api}/")
        self.sign_in_here(user, admin)

    def sign_in_here(self, user: str, admin: bool = False) -> None:
        self.page.get_by_label("User name").fill(user)
        self.page.get_by_label("Administrator").set_checked(admin)
        self.page.get_by_role("button", name="Sign in").click()
        expect(self.page.get_by_text(f"Signed in as {user}")).to_be_visible()


# Every bucket listing the page reads afterwards answers two seconds late, as on a slow network.
SLOW_LISTINGS = """() => {
  const real = window.fetch;
  window.fetch = async (input, init) => {
    const answer = await real(input, init);
    const listing = String(input).includes("/files/") && (!init || !init.method || init.method === "GET");
    if (listing) await new Promise((resolve) => setTimeout(resolve, 2000));
    return answer;
  };
}"""


def picture(width: int, height: int) -> bytes:
    image = Image.new("RGB", (width, height), (30, 120, 200))
    buffer = io.BytesIO()
    image.save(buffer, format="PNG")
    return buffer.getvalue()


@pytest.fixture
def people(chromium: Browser, tmp_path: Path) -> Iterator[dict[str, Console]]:
    contexts = []
    consoles = {}
    for name, width in (("alice", 1280), ("bob", 375)):  # a desktop and a phone
        context = chromium.new_context(viewport={"width": width, "height": 900})
        contexts.append(context)
        consoles[name] = Console(context.new_page(), tmp_path)
    yield consoles
    for context in contexts:
        context.close()
    print(f"screenshots: {tmp_path}")


def test_a_depositor_signs_in_and_takes_a_record_from_form_to_published(
    stack: Stack, people: dict[str, Console], tmp_path: Path
) -> None:
    alice, bob = people["alice"], people["bob"]
    page = alice.page
    page.goto(f"{stack.api}/")
    expect(page.get_by_role("heading", name="Sign in")).to_be_visible()
    alice.accessible()
    alice.shot("1-sign-in")
    alice.sign_in(stack.api, "alice")
    expect(page.get_by_text("You have no records yet")).to_be_visible()
    alice.accessible()

    page.get_by_role("button", name="New record").click()
    page.get_by_role("button", name="Create record").click()  # no title yet
    expect(page.get_by_role("alert")).to_have_text(
        "Some of the metadata is missing or not valid: each field says what."
    )
    expect(page.get_by_text("is required")).to_be_visible()  # at the field, from the API's errors
    alice.accessible()
    alice.shot("2-form-error")
    page.get_by_label("title").fill("Field survey 2026")
    page.get_by_role("button", name="Create record").click()
    expect(page.get_by_role("heading", name="Field survey 2026")).to_be_visible()
    expect(page.locator(".bar .state")).to_have_text("draft")
    alice.accessible()

    page.get_by_role("button", name="Publish").click()
    expect(page.get_by_role("alert")).to_have_text("A record is published with at least one file.")
    published = page.url.rsplit("/", 1)[1]
    # An upload another client of alice's started and left: it holds quota until it is aborted.
    token = {"Authorization": f"Bearer {make_token(stack, 'alice')}"}
    bucket = requests.get(f"{stack.api}/records/{published}", headers=token, timeout=30).json()["bucket_id"]
    left = requests.post(
        f"{stack.api}/records/{published}/files/{encode_key('left behind.bin')}?uploads",
        json={"size": 7_000_000},
        headers=token,
        timeout=30,
    )
    assert left.status_code == 201, left.text

    # Four files dropped on the stock Uppy Dashboard, one of them 120 MiB: they go straight to S3,
    # then ingest describes them. The page is reloaded in the middle of the large one.
    chosen = tmp_path / "chosen"
    chosen.mkdir()
    dropped = {
        "data.csv": b"site,count\nA,3\n",
        "map.png": picture(900, 600),
        "scratch.txt": b"not for the record",
        "survey.bin": os.urandom(120 * MiB),
    }
    for name, content in dropped.items():
        (chosen / name).write_bytes(content)
    parts: list[tuple[int, str]] = []  # (page load, part number) of each part S3 took
    loads = [0]
    page.on(
        "response",
        lambda response: (
            response.request.method == "PUT"
            and "partNumber=" in response.url
            and response.ok
            and parts.append((loads[0], parse_qs(urlsplit(response.url).query)["partNumber"][0]))
        ),
    )
    page.locator("input.uppy-Dashboard-input").first.set_input_files([chosen / name for name in dropped])
    page.get_by_role("button", name="Upload 4 files").click()
    expect(page.get_by_role("link", name="scratch.txt")).to_be_visible(timeout=30_000)
    deadline = time.monotonic() + 60
    while len(parts) < 3:
        assert time.monotonic() < deadline, "the large file's parts never reached S3"
        page.wait_for_timeout(100)
    loads[0] = 1
    page.reload()  # which signs out: the token was in memory only
    alice.sign_in_here("alice")
    expect(page.get_by_role("heading", name="Field survey 2026")).to_be_visible()
    dashboard = page.locator(".uppy-Dashboard")
    expect(dashboard).to_contain_text("Please re-select it and resume the upload.")
    alice.shot("3-restored-upload")
    dashboard.get_by_role("button", name="Re-select").click()
    page.locator("input.uppy-Dashboard-input").first.set_input_files([chosen / "survey.bin"])
    expect(dashboard).to_contain_text("You can now resume the upload.")
    dashboard.get_by_role("button", name=re.compile(r"^Upload")).click()
    big = page.locator(".file", has_text="survey.bin")
    expect(big.get_by_text("120.0 MiB")).to_be_visible(timeout=120_000)
    before = {part for load, part in parts if load == 0}
    after = [part for load, part in parts if load == 1]
    assert before and after, parts
    # It went on from where it was: no part S3 held was sent again (of 24: 120 MiB in 5 MiB parts;
    # one in flight at the reload may have landed unseen), and S3 holds the very bytes chosen.
    assert before.isdisjoint(after) and len(after) == len(set(after)) < 24 - len(before) + 1, parts
    expect(big.get_by_text("Ready")).to_be_visible(timeout=60_000)
    meta = requests.get(
        f"{stack.api}/files/{bucket}/{encode_key('survey.bin')}?meta", headers=token, timeout=30
    ).json()
    assert meta["checksum"] == f"sha256:{hashlib.sha256(dropped['survey.bin']).hexdigest()}"
    alice.shot("3-resumed")
    page.get_by_role("button", name="Delete scratch.txt").click()
    expect(page.get_by_role("link", name="scratch.txt")).to_have_count(0)
    expect(page.locator(".file", has_text="map.png").get_by_text("Ready")).to_be_visible(timeout=60_000)
    expect(page.get_by_text(re.compile(r"^\d+\.\d MiB of \d+\.\d [KMGT]iB used$"))).to_be_visible()
    thumbnail = page.locator(".file", has_text="map.png").locator("img")  # IIIF, read with the cookie
    expect(thumbnail).to_have_js_property("naturalWidth", 256)
    names = page.locator(".file > span > a")
    expect(names).to_have_count(3)
    first, second, third = names.all_inner_texts()  # the order they were recorded in
    page.get_by_role("button", name=f"Move {second} up").click()
    expect(names).to_have_text([second, first, third])  # the record's order now
    rows = page.locator(".files > li")
    rows.nth(1).locator(".thumb").drag_to(rows.nth(0))  # and dragged back
    expect(names).to_have_text([first, second, third])
    page.get_by_text("Describe map.png").click()
    page.get_by_label("Description of map.png").fill("The survey's sites, on a map.")
    page.get_by_role("button", name="Save description").click()
    expect(page.locator(".file", has_text="map.png").locator(".description")).to_have_text(
        "The survey's sites, on a map."
    )
    # Renamed, the file keeps its description and its place.
    page.get_by_text("Rename map.png").click()
    page.get_by_label("New name for map.png").fill("site map.png")
    page.get_by_role("button", name="Rename", exact=True).click()
    renamed = [name.replace("map.png", "site map.png") for name in (first, second, third)]
    expect(names).to_have_text(renamed)
    expect(page.locator(".file", has_text="site map.png").locator(".description")).to_have_text(
        "The survey's sites, on a map."
    )
    uploads = page.get_by_role("region", name="Uploads in progress")
    expect(uploads.get_by_text("left behind.bin")).to_be_visible()
    page.get_by_role("button", name="Abort the upload of left behind.bin").click()
    expect(uploads).to_have_count(0)
    assert requests.get(f"{stack.api}/files/{bucket}?uploads", headers=token, timeout=30).json() == {
        "uploads": []
    }
    alice.accessible()
    alice.shot("3-files")
    # A draft's image in Mirador and a draft's CSV in its preview page: both read with the session
    # cookie, since neither can send the token; the preview opens in a tab of its own.
    alice.sees_pixels_in_mirador()
    with page.context.expect_page() as opened:
        page.get_by_role("link", name="data.csv").click()
    preview = Console(opened.value, alice.shots)
    expect(preview.page.get_by_role("columnheader", name="site")).to_be_visible()
    expect(preview.page.get_by_role("cell", name="A")).to_be_visible()
    preview.accessible()
    preview.shot("3-preview")
    preview.page.close()
    assert preview.problems == [] and preview.refusals == []
    map_row = page.locator(".file", has_text="site map.png")
    map_row.get_by_text("Links to site map.png").click()
    info = map_row.get_by_label("IIIF image information").input_value()
    pasted = page.context.new_page()  # the link pasted into a new tab: the person's own navigation
    assert pasted.goto(info).status == 200
    expect(pasted.locator("body")).to_contain_text('"type": "ImageService3"')
    pasted.close()
    page.get_by_role("button", name="Publish").click()
    expect(page.locator(".bar .state")).to_have_text("published")
    expect(page.get_by_label("IIIF manifest")).to_have_value(re.compile(r"/iiif/presentation/.+/manifest$"))
    alice.shot("4-published")

    # A new version: a draft with the files of the first, one of them replaced, then published.
    # Its listing comes slowly, so what shows meanwhile must not be the first version's files.
    page.evaluate(SLOW_LISTINGS)
    page.get_by_role("button", name="New version").click()
    expect(page.get_by_text("Version 2 (this one)")).to_be_visible()
    expect(page.locator(".bar .state")).to_have_text("draft")
    expect(page.get_by_role("link", name="map.png")).to_be_visible()
    page.locator("input.uppy-Dashboard-input").first.set_input_files(
        [{"name": "data.csv", "mimeType": "text/csv", "buffer": b"site,count\nA,3\nB,5\n"}]
    )
    page.get_by_role("button", name="Upload 1 file").click()
    csv = page.locator(".file", has_text="data.csv")
    expect(csv.get_by_text("19 bytes")).to_be_visible(timeout=60_000)
    # Its history: the first version's file and the replacement; the older one comes back, then
    # the replacement again.
    csv.get_by_text("History of data.csv").click()
    history = csv.locator(".history li")
    expect(history).to_have_count(2)
    expect(history.nth(0)).to_contain_text("19 bytes · sha256:")
    expect(history.nth(0)).to_contain_text("current")
    history.nth(1).get_by_role("button", name=re.compile("^Restore the version of data.csv")).click()
    expect(csv.locator(".quiet").first).to_contain_text("15 bytes")
    expect(history).to_have_count(3)
    alice.accessible()
    history.nth(1).get_by_role("button", name=re.compile("^Restore")).click()  # the replacement
    expect(csv.locator(".quiet").first).to_contain_text("19 bytes")
    page.get_by_role("button", name="Publish").click()
    expect(page.locator(".bar .state")).to_have_text("published")
    expect(page.locator(".versions li", has_text="Version 2").get_by_text("(the latest)")).to_be_visible()
    alice.accessible()
    alice.shot("5-second-version")
    page.get_by_role("link", name="Version 1").click()
    expect(page.locator(".file", has_text="data.csv").get_by_text("15 bytes")).to_be_visible()  # kept
    page.get_by_role("link", name="← Records").click()
    page.get_by_role("button", name="New record").click()
    page.get_by_label("title").fill("Unfinished notes")
    page.get_by_role("button", name="Create record").click()
    expect(page.get_by_role("heading", name="Unfinished notes")).to_be_visible()

    bob.sign_in(stack.api, "bob")
    expect(bob.page.get_by_role("link", name="Field survey 2026")).to_be_visible()
    expect(bob.page.get_by_text("Unfinished notes")).to_have_count(0)  # alice's draft is hers
    bob.page.get_by_role("link", name="Field survey 2026").click()
    expect(bob.page.get_by_role("link", name="map.png")).to_be_visible()
    expect(bob.page.get_by_role("button", name="New version")).to_have_count(0)  # not his to change
    bob.sees_pixels_in_mirador()  # a published record's images, for anyone
    bob.accessible()
    bob.shot("6-another-user-on-a-phone")
    # alice deletes her draft; an administrator removes the published record, leaving a reason.
    page.get_by_role("link", name="← Records").click()
    page.get_by_role("link", name="Unfinished notes").click()
    page.get_by_role("button", name="Delete draft").click()
    expect(page.get_by_role("heading", name="Records", exact=True)).to_be_visible()
    expect(page.get_by_text("Unfinished notes")).to_have_count(0)
    bob.page.get_by_role("button", name="Sign out").click()
    bob.sign_in(stack.api, "root", admin=True)
    bob.page.get_by_role("link", name="Field survey 2026").click()
    expect(bob.page.get_by_text("Version 2 (this one)")).to_be_visible()
    removed = bob.page.url.rsplit("/", 1)[1]
    bob.page.get_by_label("Reason").fill("Withdrawn at the depositor's request.")
    bob.page.get_by_role("button", name="Remove record").click()
    expect(bob.page.get_by_role("heading", name="Records", exact=True)).to_be_visible()
    bob.page.goto(f"{stack.api}/#/records/{removed}")
    expect(bob.page.get_by_role("alert")).to_have_text(
        "This record was removed: Withdrawn at the depositor's request."
    )

    # Signing out leaves nothing of the uploads in this browser for the next person.
    databases = "async () => (await indexedDB.databases()).map((database) => database.name)"
    assert "uppy-blobs" in page.evaluate(databases)
    page.get_by_role("button", name="Sign out").click()
    expect(page.get_by_role("heading", name="Sign in")).to_be_visible()
    deadline = time.monotonic() + 10
    while "uppy-blobs" in page.evaluate(databases):
        assert time.monotonic() < deadline, "the uploads' state outlived the sign-out"
        page.wait_for_timeout(100)
    assert alice.problems == bob.problems == [], (alice.problems, bob.problems)
    assert [(method, path) for method, path, _ in alice.refusals] == [
        ("POST", "/records"),  # the form without a title
        ("POST", f"/records/{published}/publish"),  # no file yet
    ], alice.refusals
    assert bob.refusals == [("GET", f"/records/{removed}", 410)], bob.refusals


def test_a_depositor_chooses_who_may_see_the_record_and_offers_a_smaller_copy(
    stack: Stack, people: dict[str, Console]
) -> None:
    alice = people["alice"]
    page = alice.page
    alice.sign_in(stack.api, "alice")
    page.get_by_role("button", name="New record").click()
    page.get_by_label("title").fill("Embargoed maps")
    page.get_by_role("button", name="Create record").click()
    expect(page.get_by_role("heading", name="Embargoed maps")).to_be_visible()
    record = page.url.rsplit("/", 1)[1]

    files = page.get_by_role("group", name="Who may see its files")
    files.get_by_label("Its owners only").check()
    copy = page.get_by_label("Let anyone see its images scaled down, also in IIIF viewers")
    copy.check()
    page.get_by_label("At most this many pixels a side (64 to 2048)").fill("300")
    alice.accessible()
    page.get_by_role("button", name="Save access").click()
    expect(page.locator("form.access").get_by_role("status")).to_have_text("Saved.")
    token = {"Authorization": f"Bearer {make_token(stack, 'alice')}"}
    saved = requests.get(f"{stack.api}/records/{record}", headers=token, timeout=30).json()
    assert saved["access"] == {"record": "public", "files": "restricted", "degraded_size": 300}

    # A copy means nothing where nobody but the owners sees the record: it is not offered then.
    seen_by = page.get_by_role("group", name="Who may see the record, once published")
    seen_by.get_by_label("Its owners only").check()
    expect(copy).to_be_hidden()
    page.get_by_role("button", name="Save access").click()
    expect(page.locator("form.access").get_by_role("status")).to_have_text("Saved.")
    saved = requests.get(f"{stack.api}/records/{record}", headers=token, timeout=30).json()
    assert saved["access"] == {"record": "restricted", "files": "restricted"}
    assert alice.problems == []
