"""The IIIF Authorization Flow's documents: service descriptions, token messages, probe results.

Plain data, no AWS. Two generations side by side, since clients speak one or the other:

- 2.0 (https://iiif.io/api/auth/2.0/): a probe service on the resource, holding the access
  service, which holds the access token and logout services;
- 1.0 (https://iiif.io/api/auth/1.0/), what Mirador 4 and the Universal Viewer 4 implement: a
  login (access cookie) service holding the token and logout services.

Both share one access service page, one cookie and one logout; each has its own token service,
as their messages differ.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Any
from urllib.parse import urlsplit

AUTH2_CONTEXT = "http://iiif.io/api/auth/2/context.json"
AUTH1_CONTEXT = "http://iiif.io/api/auth/1/context.json"
AUTH1_PROFILE = "http://iiif.io/api/auth/1/"
# 1.0's names for 2.0's access service profiles.
AUTH1_PATTERN = {"active": "login", "kiosk": "kiosk", "external": "external"}
# An origin as postMessage takes it: a scheme, a host and perhaps a port, nothing after.
ORIGIN = re.compile(r"https?://[A-Za-z0-9.-]+(:[0-9]{1,5})?|https?://\[[0-9A-Fa-f:.]+\](:[0-9]{1,5})?")
# Mirador 4 sends the token service's own URL.
MESSAGE_ID = re.compile(r"[\x20-\x7e]{1,1024}")


def _text(text: str) -> dict[str, list[str]]:
    return {"en": [text]}


@dataclass(frozen=True)
class AuthServices:
    """Where one installation's services are, and how its access service behaves."""

    base: str  # the API's base URL
    profile: str = "active"  # of the access service: active, kiosk or external

    @property
    def realm(self) -> str:
        # Logout's label must name where one signs out from (2.0 section 6.1): the API's host.
        return urlsplit(self.base).netloc

    def probe2(self, identifier: str) -> dict[str, Any]:
        """The 2.0 probe service of a restricted resource, with everything nested in it."""
        access: dict[str, Any] = {
            "id": f"{self.base}/auth/login",
            "type": "AuthAccessService2",
            "profile": self.profile,
            "label": _text(f"Sign in at {self.realm}"),
            "service": [
                {"id": f"{self.base}/auth/token", "type": "AuthAccessTokenService2"},
                {
                    "id": f"{self.base}/auth/logout",
                    "type": "AuthLogoutService2",
                    "label": _text(f"Sign out at {self.realm}"),
                },
            ],
        }
        if self.profile == "active":
            access["heading"] = _text("This is restricted material")
            access["note"] = _text(f"Sign in at {self.realm} to see it, if you may: a window opens for it.")
            access["confirmLabel"] = _text("Sign in")
        return {
            "id": f"{self.base}/auth/probe/{identifier}",
            "type": "AuthProbeService2",
            # Not 2.0's, which has no profile here: Mirador 4 reads every service's profile as a
            # string, and without one stops loading the image.
            "profile": "http://iiif.io/api/auth/2/probe",
            "service": [access],
            "errorHeading": _text("Restricted"),
            "errorNote": _text("You may not see this as who you are."),
        }

    def login1(self) -> dict[str, Any]:
        """The 1.0 access cookie service, with its token and logout services."""
        pattern = AUTH1_PATTERN[self.profile]
        service: dict[str, Any] = {
            "@context": AUTH1_CONTEXT,
            "@id": f"{self.base}/auth/login",
            "@type": "AuthCookieService1",
            "profile": AUTH1_PROFILE + pattern,
            "label": f"Sign in at {self.realm}",
            "service": [
                {
                    "@id": f"{self.base}/auth/1/token",
                    "@type": "AuthTokenService1",
                    "profile": AUTH1_PROFILE + "token",
                },
                {
                    "@id": f"{self.base}/auth/logout",
                    "@type": "AuthLogoutService1",
                    "profile": AUTH1_PROFILE + "logout",
                    "label": f"Sign out at {self.realm}",
                },
            ],
        }
        if pattern == "login":
            service["header"] = "This is restricted material"
            service["description"] = f"Sign in at {self.realm} to see it, if you may."
            service["confirmLabel"] = "Sign in"
            service["failureHeader"] = "Restricted"
            service["failureDescription"] = "You may not see this as who you are."
        return service

    def services(self, identifier: str) -> list[dict[str, Any]]:
        """What a restricted resource carries for both generations of clients."""
        return [self.probe2(identifier), self.login1()]


def with_services(document: dict[str, Any], services: list[dict[str, Any]]) -> dict[str, Any]:
    """An Image API or Presentation API document with the services added. In a 3.0 document, 2.0
    asks for its context before the document's own (section 2.1); Image API 2.1 has no place for
    extension contexts, and clients read its version from its one context, so that stays alone."""
    context = document["@context"]
    with_services = {**document, "service": [*document.get("service", []), *services]}
    if isinstance(context, str) and "/2/" in context:
        return with_services
    contexts = context if isinstance(context, list) else [context]
    return with_services | {"@context": [AUTH2_CONTEXT, *(c for c in contexts if c != AUTH2_CONTEXT)]}


def valid_origin(origin: str | None) -> bool:
    """An origin, or one with a trailing slash (as Auth 1.0's own example writes it)."""
    return bool(origin) and ORIGIN.fullmatch(str(origin).removesuffix("/")) is not None


def origin_allowed(origin: str, allowed: list[str]) -> bool:
    return "*" in allowed or origin in allowed


def valid_message_id(message_id: str | None) -> bool:
    return message_id is not None and MESSAGE_ID.fullmatch(message_id) is not None


def token2(message_id: str, token: str, expires_in: int) -> dict[str, Any]:
    return {
        "@context": AUTH2_CONTEXT,
        "type": "AuthAccessToken2",
        "accessToken": token,
        "expiresIn": expires_in,
        "messageId": message_id,
    }


# 2.0's error profiles, and 1.0's names for them.
ERRORS1 = {
    "invalidRequest": "invalidRequest",
    "invalidOrigin": "invalidOrigin",
    "missingAspect": "missingCredentials",
    "invalidAspect": "invalidCredentials",
    "expiredAspect": "invalidCredentials",
    "unavailable": "unavailable",
}
HEADINGS = {
    "invalidRequest": "The viewer's request was not understood",
    "invalidOrigin": "This viewer may not show restricted material",
    "missingAspect": "Not signed in",
    "invalidAspect": "Not signed in",
    "expiredAspect": "Signed out",
    "unavailable": "Unavailable",
}


def token_error2(message_id: str, profile: str, note: str) -> dict[str, Any]:
    return {
        "@context": AUTH2_CONTEXT,
        "type": "AuthAccessTokenError2",
        "profile": profile,
        "heading": _text(HEADINGS[profile]),
        "note": _text(note),
        "messageId": message_id,
    }


def token1(message_id: str | None, token: str, expires_in: int) -> dict[str, Any]:
    message: dict[str, Any] = {"accessToken": token, "expiresIn": expires_in}
    return message | ({"messageId": message_id} if message_id is not None else {})


def token_error1(message_id: str | None, profile: str, note: str) -> dict[str, Any]:
    message: dict[str, Any] = {"error": ERRORS1[profile], "description": note}
    return message | ({"messageId": message_id} if message_id is not None else {})


def probe_result(status: int, substitutes: list[dict[str, Any]] | None = None) -> dict[str, Any]:
    result: dict[str, Any] = {"@context": AUTH2_CONTEXT, "type": "AuthProbeResult2", "status": status}
    if substitutes and status in (401, 403):  # section 5.3.3: only where access would be denied
        result["substitute"] = substitutes
    if status == 401:
        result |= {"heading": _text("Sign in to see this"), "note": _text("This is restricted material.")}
    elif status == 403:
        result |= {"heading": _text("Restricted"), "note": _text("You may not see this as who you are.")}
    return result


def image_substitute(service_id: str, width: int, height: int, longest: int) -> dict[str, Any]:
    """A lower tier of a restricted image, as a probe result names it (2.0 section 5.3.3): the
    whole of it as an Image with its own image service, and no Authorization Flow services, as
    anyone may see it."""
    return {
        "id": f"{service_id}/full/max/0/default.jpg",
        "type": "Image",
        "format": "image/jpeg",
        "width": width,
        "height": height,
        "label": _text(f"A smaller copy anyone may see, at most {longest} pixels a side"),
        "service": [{"id": service_id, "type": "ImageService3", "profile": "level2"}],
    }
