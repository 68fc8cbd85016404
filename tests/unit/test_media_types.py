"""Declared media types: one type, rebuilt from what MIME parses, or refused."""

from __future__ import annotations

import pytest

from chalicelib.files.media_types import UnsafeMediaType, canonical_media_type, stated_media_type


@pytest.mark.parametrize(
    ("declared", "canonical"),
    [
        ("text/csv", "text/csv"),
        ("TEXT/HTML", "text/html"),
        ("image/svg+xml", "image/svg+xml"),
        ('text/plain; charset="UTF-8"', "text/plain; charset=utf-8"),
        ("text/plain ; charset=utf-8", "text/plain; charset=utf-8"),
        ("text/csv; header=present", "text/csv"),  # parameters other than charset are dropped
        ("multipart/x-mixed-replace; boundary=frame", "multipart/x-mixed-replace"),
        ("image/png;", "image/png"),
        (
            "application/vnd.openxmlformats-officedocument.wordprocessingml.document",
            "application/vnd.openxmlformats-officedocument.wordprocessingml.document",
        ),
    ],
)
def test_a_single_media_type_is_kept_in_canonical_form(declared: str, canonical: str) -> None:
    assert canonical_media_type(declared) == canonical


@pytest.mark.parametrize(
    "declared",
    [
        "text/plain;,text/html",
        "text/plain, text/html",
        "text/plain; charset=utf-8,text/html",
        "text/plain; charset=a,text/html",
        'text/plain; charset="utf-8, text/html"',
        "text/plain; charset=utf-8; charset=latin1",
        "text/plain\r\nContent-Type: text/html",
        "text/html\n",
        "text/html\x00",
        "text",
        "/html",
        "",
        "text/" + "a" * 10_000,
    ],
)
def test_anything_else_is_refused(declared: str) -> None:
    with pytest.raises(UnsafeMediaType):
        canonical_media_type(declared)


def test_a_recorded_type_is_trusted_only_if_it_still_parses() -> None:
    assert stated_media_type("text/plain;,text/html") is None
    assert stated_media_type(None) is None
    assert stated_media_type("IMAGE/PNG") == "image/png"
