"""The HTML document around a preview, and the headers that keep the file's content inert.

Every page gets a Content-Security-Policy that allows nothing by default: no script but Vellum's
own static ones, no style but the page's own (by hash), images only from the API and the IIIF
service, no form, no base URL, no embedding except where ``preview_frame_ancestors`` allows. So
even markup that escaped sanitising could neither run nor load anything.
"""

from __future__ import annotations

import base64
import hashlib
from html import escape

from chalicelib.previews.registry import Page, PreviewFile

BASE_CSS = """
body{font:15px/1.5 system-ui,sans-serif;margin:0;color:#1b1b1b;background:#fff}
header{padding:1rem 1.5rem;border-bottom:1px solid #ddd;background:#f7f7f7}
header h1{font-size:1.2rem;margin:0 0 .25rem;overflow-wrap:anywhere}
.facts{margin:0;color:#555}
.download{display:inline-block;margin-top:.5rem}
dl.metadata{display:grid;grid-template-columns:max-content 1fr;gap:.1rem 1rem;margin:.5rem 0 0}
dl.metadata dt{font-weight:600}dl.metadata dd{margin:0;overflow-wrap:anywhere}
main{padding:1rem 1.5rem}
pre{white-space:pre-wrap;overflow-wrap:anywhere;font:13px/1.45 ui-monospace,monospace;margin:0}
table{border-collapse:collapse;font-size:13px}
td,th{border:1px solid #ccc;padding:.2rem .5rem;vertical-align:top;text-align:left}
th{background:#f0f0f0}
.note{margin:1rem 1.5rem;padding:.5rem .75rem;background:#fff8e1;border-left:4px solid #f0b400}
.empty{color:#777}
"""


def _hash(source: str) -> str:
    return "'sha256-" + base64.b64encode(hashlib.sha256(source.encode()).digest()).decode() + "'"


def human_size(nbytes: int) -> str:
    value = float(nbytes)
    for unit in ("bytes", "KiB", "MiB", "GiB", "TiB"):
        if value < 1024 or unit == "TiB":
            return f"{int(value)} bytes" if unit == "bytes" else f"{value:.1f} {unit}"
        value /= 1024
    raise AssertionError("unreachable")


def content_security_policy(page: Page, frame_ancestors: str) -> str:
    directives = {
        "default-src": ["'none'"],
        "style-src": [_hash(BASE_CSS), *(_hash(style) for style in page.styles)],
        "img-src": ["'self'", "data:", *page.images],
        "script-src": list(page.scripts and ["'self'"]),
        "connect-src": list(page.connect),
        "worker-src": list(page.workers),
        "media-src": list(page.media),
        "base-uri": ["'none'"],
        "form-action": ["'none'"],
        "frame-ancestors": [frame_ancestors],
    }
    return "; ".join(f"{name} {' '.join(values)}" for name, values in directives.items() if values)


# Lambda answers at most 6 MB, and API Gateway carries these pages base64-encoded (a third larger).
MAX_PAGE_BYTES = 4 * 1024**2
TOO_LARGE = "The preview of this file would be too large to send: download the file to open it."


GENERIC_TYPES = ("application/octet-stream", "text/plain")


def document(
    file: PreviewFile,
    page: Page,
    *,
    download: str,
    frame_ancestors: str,
    links: tuple[tuple[str, str], ...] = (),
) -> tuple[str, dict[str, str]]:
    """The page's HTML and its response headers (a short page instead, if it would be too large);
    ``links`` are (label, URL) pairs shown beside the download link."""
    if len(page.body) + sum(map(len, page.styles)) > MAX_PAGE_BYTES:
        page = message(TOO_LARGE)
    name = file.key.rsplit("/", 1)[-1] or file.key
    # The file's own type (declared, or known from its name) says more than a sniffer's generic
    # answer: libmagic calls Markdown and CSV plain text, or just bytes.
    specific = file.mimetype not in (None, *GENERIC_TYPES)
    kind = (file.mimetype if specific else file.sniffed_type or file.mimetype) or "unknown type"
    others = "".join(f' <a href="{escape(url)}" rel="noopener">{escape(label)}</a>' for label, url in links)
    metadata = "".join(
        f"<dt>{escape(str(key))}</dt><dd>{escape(str(value))}</dd>"
        for key, value in file.metadata.items()
        if key != "previewer"
    )
    notes = "".join(f'<p class="note">{escape(note)}</p>' for note in page.notes)
    styles = "".join(f"<style>{style}</style>" for style in page.styles)
    scripts = "".join(
        f'<script src="{escape(url)}"{" type=module" if url.endswith(".mjs") else ""}></script>'
        for url in page.scripts
    )
    html = (
        '<!doctype html><html lang="en"><head><meta charset="utf-8">'
        '<meta name="viewport" content="width=device-width,initial-scale=1">'
        f'<meta name="referrer" content="no-referrer"><title>{escape(name)} - preview</title>'
        f"<style>{BASE_CSS}</style>{styles}</head><body>"
        f'<header><h1>{escape(file.key)}</h1><p class="facts">{human_size(file.size)} · {escape(kind)}</p>'
        f'<a class="download" href="{escape(download)}" rel="noopener">Download</a>{others}'
        f"{f'<dl class=metadata>{metadata}</dl>' if metadata else ''}</header>"
        f"<main>{page.body}</main>{notes}{scripts}</body></html>"
    )
    headers = {
        "Content-Type": "text/html; charset=utf-8",
        "Content-Security-Policy": content_security_policy(page, frame_ancestors),
        "X-Content-Type-Options": "nosniff",
        "Referrer-Policy": "no-referrer",
        # The page may hold a presigned URL of the bytes: never kept by a shared cache.
        "Cache-Control": "private, no-store",
    }
    return html, headers


def preformatted(text: str) -> str:
    """Text shown as it is. Element content needs only <, > and & escaped: quotes stay quotes,
    which keeps a page of JSON or CSV from growing sixfold."""
    return f"<pre>{escape(text, quote=False)}</pre>"


def message(text: str) -> Page:
    """A page that only says something (no preview, too large, unsupported)."""
    return Page(body=f'<p class="empty">{escape(text)}</p>')
