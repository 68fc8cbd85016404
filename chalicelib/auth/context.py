"""The principal of the request being served.

The HTTP middleware authenticates once per request and stores the result here;
routes read it with ``current_principal()``. A context variable keeps concurrent
requests apart on the threaded local server as on Lambda.
"""

from __future__ import annotations

import functools
from contextvars import ContextVar

from chalice.app import Request

from chalicelib.auth.cookies import (
    check_cookie_origin,
    read_from_own_pages,
    reads_with_session,
    session_key_from_cookies,
    takes_session,
)
from chalicelib.auth.principal import ANONYMOUS, Principal
from chalicelib.auth.session import session_principal
from chalicelib.auth.tokens import TokenVerifier, principal_from_authorization
from chalicelib.errors import Unauthorized
from chalicelib.links import base_url, origin
from chalicelib.settings import get_settings

_principal: ContextVar[Principal] = ContextVar("principal", default=ANONYMOUS)


@functools.cache
def verifier() -> TokenVerifier:
    # Once per container, so the JWKS cache outlives a single request.
    return TokenVerifier.from_settings(get_settings())


def authenticate(request: Request) -> Principal:
    """The Authorization header's principal; without one, the session cookie's on the session's
    routes and for reading files and images; else anonymous."""
    authorization = request.headers.get("authorization")
    principal = ANONYMOUS
    if authorization is not None:
        principal = principal_from_authorization(str(authorization), verifier())
    elif takes_session(request.path):
        key = session_key(request)
        principal = session_principal(key) if key else ANONYMOUS
    elif reads_with_session(request.method, request.path):
        principal = _reader(request)
    _principal.set(principal)
    return principal


def _reader(request: Request) -> Principal:
    """Who reads with the session cookie: its principal for Vellum's own pages, else anyone. An
    ended session reads as anyone too, so a stale cookie never breaks a public file."""
    key = session_key_from_cookies(request.headers.get("cookie"))
    if key is None or not read_from_own_pages(request.headers):
        return ANONYMOUS
    try:
        return session_principal(key)
    except Unauthorized:
        return ANONYMOUS


def session_key(request: Request) -> str | None:
    """The session key the request's cookie holds, once the request is known to come from an
    origin allowed to use it."""
    key = session_key_from_cookies(request.headers.get("cookie"))
    if key is not None:
        named = [origin for origin in get_settings().cors_origins if origin != "*"]
        check_cookie_origin(request.headers, origin(base_url(request)), named)
    return key


def current_principal() -> Principal:
    return _principal.get()
