"""The session cookie: a bearer token a browser keeps, for clients that cannot send headers.

Uppy v6's Companion client uses plain fetch with no custom headers, so a page first trades its
bearer token for this cookie (POST /session) on the API's own origin. HttpOnly keeps it from
page scripts; SameSite=Strict keeps other sites from riding on it (no CSRF); Secure outside
the local stage, which runs on plain http://127.0.0.1.
"""

from __future__ import annotations

from http.cookies import CookieError, SimpleCookie

SESSION_COOKIE = "vellum_session"


def token_from_cookies(header: str | None) -> str | None:
    if not header:
        return None
    cookies: SimpleCookie = SimpleCookie()
    try:
        cookies.load(header)
    except CookieError:
        return None
    morsel = cookies.get(SESSION_COOKIE)
    return morsel.value if morsel and morsel.value else None


def session_cookie(token: str, *, secure: bool) -> str:
    attributes = f"{SESSION_COOKIE}={token}; Path=/; HttpOnly; SameSite=Strict"
    return attributes + ("; Secure" if secure else "")


def expired_session_cookie(*, secure: bool) -> str:
    return session_cookie("", secure=secure) + "; Max-Age=0"
