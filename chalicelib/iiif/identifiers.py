"""IIIF image identifiers: a file version's id, with a page and a tier after it where they apply.

- ``{version}``: the image of a still image file; of a multi-page file (a PDF, a multi-page TIFF),
  its first page.
- ``{version}~p{n}``: page ``n`` (from 1) of a multi-page file; ``~p1`` is the first page too.
- ``{version}~poster``, ``~strip``, ``~waveform``: the still images ingest makes of a video (a
  frame near its start, frames across its length) or of a sound (its loudness across its length).
- ``...~degraded``: the copy anyone may see of a restricted image (a record's tiered access).

"~" is unreserved in a URI path and no version id holds one, so an identifier says what it names
without a lookup, and viewers take it as it is (no percent-encoding).
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from chalicelib.files.models import VERSION_ID

DEGRADED_SUFFIX = "~degraded"
PAGE_MARK = "~p"
STILLS = ("poster", "strip", "waveform")
_IDENTIFIER = re.compile(
    rf"(?P<version>{VERSION_ID.pattern})"
    rf"(?:{PAGE_MARK}(?P<page>[1-9][0-9]{{0,5}})|~(?P<still>{'|'.join(STILLS)}))?"
    rf"(?P<degraded>{DEGRADED_SUFFIX})?"
)


@dataclass(frozen=True)
class ImageIdentifier:
    version_id: str
    page: int | None  # None: no page named (a still image, or a multi-page file's first page)
    degraded: bool
    still: str | None = None  # one of STILLS: an image made of audio or video

    @property
    def full(self) -> str:
        """The identifier of the image itself, without the tier."""
        if self.still:
            return still_identifier(self.version_id, self.still)
        return page_identifier(self.version_id, self.page)


def page_identifier(version_id: str, page: int | None) -> str:
    return version_id if page is None else f"{version_id}{PAGE_MARK}{page}"


def still_identifier(version_id: str, still: str) -> str:
    return f"{version_id}~{still}"


def parse_identifier(identifier: str) -> ImageIdentifier | None:
    """What an identifier names, or None if Vellum never makes such an identifier."""
    matched = _IDENTIFIER.fullmatch(identifier)
    if matched is None:
        return None
    page = matched["page"]
    return ImageIdentifier(
        matched["version"], int(page) if page else None, bool(matched["degraded"]), matched["still"]
    )
