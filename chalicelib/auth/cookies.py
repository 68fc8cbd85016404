"""The session cookie, and which requests it may authenticate. Plain HTTP logic: the sessions it
names live in chalicelib.auth.session.

HttpOnly keeps the key from page scripts; SameSite=Strict keeps other sites from sending it, and
``check_cookie_origin`` keeps other origins of the same site (sibling subdomains, other ports of
127.0.0.1) from riding on it. Secure outside the local stage, which runs on plain http://127.0.0.1.
"""

from __future__ import annotations

from collections.abc import Collection, Mapping
from http.cookies import CookieError, SimpleCookie

from chalicelib.errors import Forbidden

SESSION_COOKIE = "vellum_session"
# The IIIF access service's cookie (chalicelib.auth.access): sent by other sites' viewers too.
ACCESS_COOKIE = "vellum_access"
# The routes a session authenticates: those Uppy's Companion client calls. Everywhere else the
# cookie is ignored, so a forged request there is anonymous (DELETE /session only reads its key).
SESSION_PATHS = ("/s3/",)


def session_key_from_cookies(header: str | None, name: str = SESSION_COOKIE) -> str | None:
    if not header:
        return None
    cookies: SimpleCookie = SimpleCookie()
    try:
        cookies.load(header)
    except CookieError:
        return None
    morsel = cookies.get(name)
    return morsel.value if morsel and morsel.value else None


def session_cookie(key: str, *, secure: bool, max_age: int | None = None) -> str:
    attributes = f"{SESSION_COOKIE}={key}; Path=/; HttpOnly; SameSite=Strict"
    if max_age is not None:
        attributes += f"; Max-Age={max_age}"
    return attributes + ("; Secure" if secure else "")


def expired_session_cookie(*, secure: bool) -> str:
    return session_cookie("", secure=secure, max_age=0)


def access_cookie(key: str, *, max_age: int) -> str:
    """SameSite=None, so that the image requests of a viewer on any site carry it; browsers take
    SameSite=None only with Secure, and Chromium keeps Secure cookies from http://127.0.0.1 (a
    secure context), so the local stage sets it too. HttpOnly: no page script ever reads it."""
    return f"{ACCESS_COOKIE}={key}; Path=/; HttpOnly; Secure; SameSite=None; Max-Age={max_age}"


# What a browser opens from the console without script (a preview page, a download, the IIIF
# requests of a viewer framed on Vellum's own origin), as route templates. A session reads these
# too, and changes nothing there: only GET and HEAD.
READ_PATHS = ("/files/", "/iiif/", "/records/{record_id}/preview/")


# What the access cookie and access tokens authenticate, GET and HEAD alone: images, files and the
# probe of each. They are read-only by construction: nowhere else are they even looked at.
ACCESS_PATHS = ("/iiif/", "/files/", "/auth/probe/")


def reads_with_access(method: str, path: str) -> bool:
    return method in ("GET", "HEAD") and path.startswith(ACCESS_PATHS)


def takes_session(path: str) -> bool:
    return path.startswith(SESSION_PATHS)


def reads_with_session(method: str, path: str) -> bool:
    return method in ("GET", "HEAD") and path.startswith(READ_PATHS)


def read_from_own_pages(headers: Mapping[str, str]) -> bool:
    """A read the cookie may authenticate: the browser says Vellum's own pages asked for it, or the
    person did (a link opened in a new tab, typed or bookmarked: ``none``). Anything else is read
    as anyone's, so that another origin of the same site learns nothing from the cookie; no
    ``Sec-Fetch-Site`` at all is no browser this can vouch for."""
    return headers.get("sec-fetch-site") in ("same-origin", "none")


def check_cookie_origin(headers: Mapping[str, str], own_origin: str, allowed: Collection[str]) -> None:
    """Refuse a cookie-authenticated request that another origin made.

    Browsers send ``Sec-Fetch-Site`` and ``Origin`` themselves and let no page set them. A request
    the API's own page made says ``same-origin``; one from a configured origin (a console on its
    own domain) names it in ``Origin``. A wildcard in the CORS setting never counts: it names nobody.
    """
    if headers.get("sec-fetch-site") == "same-origin":
        return
    origin = headers.get("origin")
    if origin and (origin == own_origin or origin in allowed):
        return
    raise Forbidden(
        "A request authenticated by the session cookie must come from Vellum's own origin or one "
        "of VELLUM_CORS_ORIGINS; other clients send the bearer token in the Authorization header."
    )
