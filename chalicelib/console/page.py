"""The console's HTML shell and the headers it is sent with.

The page holds no content of its own: a script built from web/console renders everything from the
public API. Its Content-Security-Policy is as strict as the preview pages': scripts and styles only
from the API's own /static, no inline code, no framing.
"""

from __future__ import annotations

import json
from html import escape
from typing import Any


def content_security_policy(reached: list[str]) -> str:
    """Nothing but the API's own scripts, styles and frames; it reaches only the API and the
    origins in ``reached`` (S3, where uploads go; the sign-in provider's token endpoint)."""
    return "; ".join(
        (
            "default-src 'none'",
            "script-src 'self'",
            "style-src 'self'",
            "img-src 'self' data: blob:",  # blob: Uppy's previews of the files chosen
            f"connect-src 'self' {' '.join(reached)}",
            "frame-src 'self'",
            "base-uri 'none'",
            "form-action 'none'",
            "frame-ancestors 'none'",
        )
    )


def shell(static: str, reached: list[str], config: dict[str, Any]) -> tuple[str, dict[str, str]]:
    """The page, and its headers; ``config`` is what the script needs to start (stage, sign-in)."""
    body = (
        f'<div id="console" data-config="{escape(json.dumps(config))}">'
        "<noscript>Vellum's console needs JavaScript.</noscript></div>"
        f'<script type="module" src="{escape(static)}/console/console.js"></script>'
    )
    return _page("Vellum", f"{static}/console/console.css", body, content_security_policy(reached))


def viewer_content_security_policy(data_origin: str) -> str:
    """Mirador draws with MUI, whose styles arrive as <style> elements: this page alone allows
    inline styles. It holds nothing but the viewer, loads only the API's own scripts, and only the
    console may frame it. Its images come from the API, or from S3 (``data_origin``) when an answer
    too large for Lambda is a redirect there."""
    return "; ".join(
        (
            "default-src 'none'",
            "script-src 'self'",
            "style-src 'self' 'unsafe-inline'",
            f"img-src 'self' data: blob: {data_origin}",
            "font-src 'self' data:",
            "connect-src 'self'",
            "frame-src 'self'",  # Mirador frames the IIIF token service for a restricted image
            "base-uri 'none'",
            "form-action 'none'",
            "frame-ancestors 'self'",
        )
    )


def viewer(static: str, mirador: str, manifest: str, data_origin: str) -> tuple[str, dict[str, str]]:
    """A page with stock Mirador on one manifest, for the console to frame."""
    body = (
        f'<div id="viewer" data-manifest="{escape(manifest)}"></div>'
        f'<script src="{escape(static)}/{escape(mirador)}/dist/mirador.min.js"></script>'
        f'<script src="{escape(static)}/console/viewer.js"></script>'
    )
    return _page("Mirador", f"{static}/console/viewer.css", body, viewer_content_security_policy(data_origin))


def _page(title: str, stylesheet: str, body: str, policy: str) -> tuple[str, dict[str, str]]:
    html = (
        '<!doctype html><html lang="en"><head><meta charset="utf-8">'
        '<meta name="viewport" content="width=device-width,initial-scale=1">'
        f'<meta name="referrer" content="no-referrer"><title>{escape(title)}</title>'
        '<link rel="icon" href="data:,">'
        f'<link rel="stylesheet" href="{escape(stylesheet)}"></head><body>{body}</body></html>'
    )
    headers = {
        "Content-Type": "text/html; charset=utf-8",
        "Content-Security-Policy": policy,
        "X-Content-Type-Options": "nosniff",
        "Referrer-Policy": "no-referrer",
        "Cache-Control": "no-cache",
    }
    return html, headers
