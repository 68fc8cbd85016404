"""Declared media types: parsed as MIME parses them, kept only in a canonical form Vellum rebuilt.

A depositor's declared type is untrusted text. Browsers read more into it than its first part:
Chromium, given ``text/plain;,text/html``, renders the last comma-separated type, HTML. So a type
is parsed by the standard library's MIME header parser (RFC 2045 grammar, which reports every
defect), refused if the parser found any, and rebuilt from ``type/subtype`` and the one parameter
kept (``charset``, a short token). Nothing of the declared string is stored or echoed beyond that.
"""

from __future__ import annotations

import re
from email.headerregistry import ContentTypeHeader, HeaderRegistry

MAX_DECLARED_LENGTH = 255
# RFC 9110 section 5.6.2 token characters, lower-cased: what a type or subtype may be made of.
_TCHARS = r"[a-z0-9!#$%&'*+.^_`|~-]+"
_ESSENCE = re.compile(rf"{_TCHARS}/{_TCHARS}")
_CHARSET = re.compile(r"[A-Za-z0-9._:+-]{1,40}")
_HEADERS = HeaderRegistry()


class UnsafeMediaType(ValueError):
    """The declared type is not one media type Vellum can state again exactly."""


def canonical_media_type(declared: str) -> str:
    """``type/subtype`` (lower case), with ``; charset=...`` when one was declared; else UnsafeMediaType."""
    if len(declared) > MAX_DECLARED_LENGTH:
        raise UnsafeMediaType(f"is longer than {MAX_DECLARED_LENGTH} characters")
    if any(not char.isprintable() for char in declared):
        raise UnsafeMediaType("holds control characters")
    header = _HEADERS("content-type", declared)
    assert isinstance(header, ContentTypeHeader)  # what the registry makes of a content-type
    essence = header.content_type.lower()
    # The parser falls back to text/plain for what it cannot read, and says so in its defects.
    if header.defects or not _ESSENCE.fullmatch(essence):
        raise UnsafeMediaType("is not a single media type such as text/csv or image/png")
    charset = header.params.get("charset")
    if charset is None:
        return essence
    if not _CHARSET.fullmatch(charset):
        raise UnsafeMediaType("names a charset that is not a short token such as utf-8")
    return f"{essence}; charset={charset.lower()}"


def stated_media_type(recorded: str | None) -> str | None:
    """The canonical form of a recorded type, or None if it has none (a type recorded before types
    were parsed is not trusted either)."""
    if not recorded:
        return None
    try:
        return canonical_media_type(recorded)
    except UnsafeMediaType:
        return None
