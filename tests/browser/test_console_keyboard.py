"""The console on a phone with a keyboard only: a depositor signs in, creates a record, uploads with
the stock Uppy Dashboard and publishes without a pointer, every control reached with Tab shows
where the focus is, and no page is wider than the phone."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
from playwright.sync_api import Browser, Locator, Page, expect

from tests.browser.test_console import Console, picture
from tests.stack import Stack

pytestmark = pytest.mark.e2e

PHONE = {"width": 375, "height": 812}
MOST_TABS = 80  # more stops than any page of the console has before the control sought

FOCUS_SHOWN = """(e) => {
  const style = getComputedStyle(e);
  return (style.outlineStyle !== "none" && parseFloat(style.outlineWidth) > 0) || style.boxShadow !== "none";
}"""


@pytest.fixture
def phone(chromium: Browser, tmp_path: Path) -> Iterator[Console]:
    context = chromium.new_context(viewport=PHONE, has_touch=True)
    yield Console(context.new_page(), tmp_path)
    context.close()


def tab_to(page: Page, target: Locator) -> None:
    """Press Tab until ``target`` has the focus, checking that each control passed shows it has."""
    for _ in range(MOST_TABS):
        page.keyboard.press("Tab")
        focused = page.locator("*:focus")
        if focused.count():
            assert focused.evaluate(FOCUS_SHOWN), (
                f"no focus indicator on {focused.evaluate('e => e.outerHTML')[:200]}"
            )
        if target.evaluate("(e) => e === document.activeElement"):
            return
    raise AssertionError(f"{target} is not reached with Tab")


def fits(page: Page) -> None:
    """Nothing on the page reaches past the phone's width: no sideways scrolling."""
    width = page.evaluate("() => document.documentElement.scrollWidth")
    assert width <= PHONE["width"], f"the page is {width} px wide on a {PHONE['width']} px phone"


def test_a_depositor_on_a_phone_publishes_a_record_with_the_keyboard_alone(
    stack: Stack, phone: Console, tmp_path: Path
) -> None:
    page = phone.page
    page.goto(f"{stack.api}/")
    tab_to(page, page.get_by_label("User name"))
    page.keyboard.type("carol")
    tab_to(page, page.get_by_role("button", name="Sign in"))
    page.keyboard.press("Enter")
    expect(page.get_by_text("Signed in as carol")).to_be_visible()
    fits(page)

    tab_to(page, page.get_by_role("button", name="New record"))
    page.keyboard.press("Enter")
    tab_to(page, page.get_by_label("title"))
    page.keyboard.type("Keyboard notes")
    tab_to(page, page.get_by_role("button", name="Create record"))
    page.keyboard.press("Enter")
    expect(page.get_by_role("heading", name="Keyboard notes")).to_be_visible()
    expect(page.locator(".uppy-Dashboard")).to_be_visible()
    fits(page)
    phone.accessible()
    phone.shot("keyboard-1-draft-on-a-phone")

    chosen = tmp_path / "photo.png"
    chosen.write_bytes(picture(640, 480))
    with page.expect_file_chooser() as chooser:
        tab_to(page, page.get_by_role("button", name="browse files"))
        page.keyboard.press("Enter")
    chooser.value.set_files(chosen)
    expect(page.get_by_role("button", name="Upload 1 file")).to_be_visible()
    fits(page)
    phone.shot("keyboard-2-upload-on-a-phone")
    tab_to(page, page.get_by_role("button", name="Upload 1 file"))
    page.keyboard.press("Enter")
    expect(page.get_by_role("link", name="photo.png")).to_be_visible(timeout=30_000)

    tab_to(page, page.get_by_role("button", name="Publish"))
    page.keyboard.press("Enter")
    expect(page.locator(".bar .state")).to_have_text("published")
    fits(page)
    phone.accessible()
    assert phone.problems == [] and phone.refusals == [], (phone.problems, phone.refusals)
