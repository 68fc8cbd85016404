"""The Chalice application class Vellum runs as."""

from __future__ import annotations

from typing import Any

from chalice.app import Chalice


class VellumChalice(Chalice):
    """Chalice, answering binary bodies (IIIF images) to clients that send no Accept header.

    API Gateway is configured with ``*/*`` as its binary media type (``api.binary_types``), so it
    passes every body through whatever a client accepts. Chalice itself refuses a binary answer to a
    request whose Accept header does not name a binary type; a request without one accepts anything
    (RFC 9110 section 12.5.1), and is handed to Chalice saying so.
    """

    def __call__(self, event: Any, context: Any) -> dict[str, Any]:
        headers = event.get("headers") or {}
        if isinstance(event, dict) and not any(name.lower() == "accept" for name in headers):
            event = {**event, "headers": {**headers, "accept": "*/*"}}
            if event.get("multiValueHeaders") is not None:
                event["multiValueHeaders"] = {**event["multiValueHeaders"], "accept": ["*/*"]}
        return super().__call__(event, context)
