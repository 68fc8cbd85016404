"""Absolute URLs for the links in responses."""

from __future__ import annotations

from urllib.parse import urlsplit

from chalice.app import Request

from chalicelib.settings import get_settings


def base_url(request: Request) -> str:
    """Where clients reach the API: the configured public URL, else what the request came to."""
    settings = get_settings()
    if settings.public_base_url:
        return str(settings.public_base_url).rstrip("/")
    headers = request.headers
    forwarded = headers.get(settings.public_host_header) if settings.public_host_header else None
    if forwarded:
        # Only a proxy that serves HTTPS alone sets it (CloudFront redirects http:// viewers).
        return f"https://{forwarded.strip()}"
    scheme = headers.get("x-forwarded-proto", "http").split(",")[0].strip()
    host = headers.get("host", "localhost")
    # API Gateway's own domain serves the API under its stage name; a custom domain does not.
    stage = request.context.get("stage") if host.endswith(".amazonaws.com") else None
    return f"{scheme}://{host}" + (f"/{stage}" if stage else "")


def origin(url: str) -> str:
    """The origin of a URL (scheme and authority), as a CSP source or an Origin header names it."""
    parts = urlsplit(url)
    return f"{parts.scheme}://{parts.netloc}"
