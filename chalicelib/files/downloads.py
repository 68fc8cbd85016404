"""How a file is handed to a browser: which types may render inline, and the headers S3 answers with.

Invenio's rule: only a short list of types that cannot run script is served inline; everything
else (HTML, SVG, JavaScript, XML, ...) is served as an attachment of type
application/octet-stream, so a browser saves it instead of rendering it. Downloads come from the
data bucket's own origin, never the API's, so even a rendered file could not reach the API's
cookies. S3's presigned overrides can set Content-Type, Content-Disposition and Cache-Control,
but not X-Content-Type-Options or Content-Security-Policy; the octet-stream attachment makes
sniffing moot for everything outside the list, and nothing on it can run script.
"""

from __future__ import annotations

import posixpath
from urllib.parse import quote

from chalicelib.files.media_types import stated_media_type

INLINE_TYPES = frozenset(
    {
        "application/pdf",
        "text/plain",
        "text/csv",
        "image/png",
        "image/jpeg",
        "image/gif",
        "image/webp",
        "image/avif",
        "image/bmp",
        "image/tiff",
        "audio/mpeg",
        "audio/ogg",
        "audio/wav",
        "audio/flac",
        "audio/webm",
        "video/mp4",
        "video/webm",
        "video/ogg",
    }
)
ATTACHMENT_TYPE = "application/octet-stream"


def content_disposition(disposition: str, key: str) -> str:
    """RFC 6266 with an ASCII fallback name and the exact name as RFC 5987 ``filename*``."""
    name = posixpath.basename(key.rstrip("/")) or "file"
    fallback = "".join(c if 0x20 <= ord(c) < 0x7F and c not in '"\\' else "_" for c in name)
    return f"{disposition}; filename=\"{fallback}\"; filename*=UTF-8''{quote(name, safe='')}"


def response_headers(key: str, mimetype: str | None, *, download: bool) -> dict[str, str]:
    """The ``response-*`` overrides for a presigned GET of this file: the recorded type is stated
    again only in the canonical form Vellum rebuilds, never as the depositor wrote it."""
    stated = stated_media_type(mimetype)
    inline = stated is not None and stated.split(";")[0] in INLINE_TYPES and not download
    return {
        "response-content-type": stated if stated is not None and inline else ATTACHMENT_TYPE,
        "response-content-disposition": content_disposition("inline" if inline else "attachment", key),
        "response-cache-control": "private, max-age=300",
    }
