from __future__ import annotations

import pytest

from chalicelib.files.downloads import content_disposition, response_headers


def test_non_ascii_names_get_an_rfc_5987_filename_and_an_ascii_fallback() -> None:
    assert content_disposition("attachment", "folder/résumé 2026.pdf") == (
        "attachment; filename=\"r_sum_ 2026.pdf\"; filename*=UTF-8''r%C3%A9sum%C3%A9%202026.pdf"
    )


def test_quotes_and_backslashes_cannot_break_out_of_the_fallback_name() -> None:
    header = content_disposition("inline", 'evil"; filename=x.html\\')

    assert header.startswith('inline; filename="evil_; filename=x.html_"; filename*=')


@pytest.mark.parametrize(
    "mimetype", ["image/png", "application/pdf", "text/plain; charset=utf-8", "video/mp4"]
)
def test_safe_types_are_served_inline_with_their_type(mimetype: str) -> None:
    headers = response_headers("a/file", mimetype, download=False)

    assert headers["response-content-type"] == mimetype
    assert headers["response-content-disposition"].startswith("inline;")


@pytest.mark.parametrize(
    "mimetype",
    [
        "text/html",
        "image/svg+xml",
        "application/javascript",
        "text/xml",
        "application/xhtml+xml",
        None,
        "TEXT/HTML",
    ],
)
def test_types_that_can_run_script_are_attachments_of_an_inert_type(mimetype: str | None) -> None:
    headers = response_headers("page.html", mimetype, download=False)

    assert headers["response-content-type"] == "application/octet-stream"
    assert headers["response-content-disposition"].startswith("attachment;")


def test_a_download_is_always_an_attachment() -> None:
    headers = response_headers("photo.png", "image/png", download=True)

    assert headers["response-content-disposition"].startswith("attachment;")


@pytest.mark.parametrize(
    "recorded",
    [
        "text/plain;,text/html",  # Chromium renders the last comma-separated type
        "text/plain, text/html",
        "image/png,text/html",
        "text/plain; charset=utf-8,text/html",
        "text/plain\r\nContent-Type: text/html",
        "",
    ],
)
def test_a_recorded_type_that_does_not_parse_is_never_stated_again(recorded: str) -> None:
    headers = response_headers("page.txt", recorded, download=False)

    assert headers["response-content-type"] == "application/octet-stream"
    assert headers["response-content-disposition"].startswith("attachment;")


def test_an_inline_type_is_stated_in_its_canonical_form_not_as_declared() -> None:
    headers = response_headers("notes.txt", 'Text/Plain; Charset="UTF-8"; x-run=script', download=False)

    assert headers["response-content-type"] == "text/plain; charset=utf-8"
