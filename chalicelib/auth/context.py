"""The principal of the request being served.

The HTTP middleware authenticates once per request and stores the result here;
routes read it with ``current_principal()``. A context variable keeps concurrent
requests apart on the threaded local server as on Lambda.
"""

from __future__ import annotations

import functools
from contextvars import ContextVar

from chalice.app import Request

from chalicelib.auth.cookies import check_cookie_origin, origin_of, session_key_from_cookies, takes_session
from chalicelib.auth.principal import ANONYMOUS, Principal
from chalicelib.auth.session import session_principal
from chalicelib.auth.tokens import TokenVerifier, principal_from_authorization
from chalicelib.links import base_url
from chalicelib.settings import get_settings

_principal: ContextVar[Principal] = ContextVar("principal", default=ANONYMOUS)


@functools.cache
def verifier() -> TokenVerifier:
    # Once per container, so the JWKS cache outlives a single request.
    return TokenVerifier.from_settings(get_settings())


def authenticate(request: Request) -> Principal:
    """The Authorization header's principal; without one, on the session's routes alone, the
    session cookie's; else anonymous."""
    authorization = request.headers.get("authorization")
    principal = ANONYMOUS
    if authorization is not None:
        principal = principal_from_authorization(str(authorization), verifier())
    elif takes_session(request.path):
        key = session_key(request)
        principal = session_principal(key) if key else ANONYMOUS
    _principal.set(principal)
    return principal


def session_key(request: Request) -> str | None:
    """The session key the request's cookie holds, once the request is known to come from an
    origin allowed to use it."""
    key = session_key_from_cookies(request.headers.get("cookie"))
    if key is not None:
        named = [origin for origin in get_settings().cors_origins if origin != "*"]
        check_cookie_origin(request.headers, origin_of(base_url(request)), named)
    return key


def current_principal() -> Principal:
    return _principal.get()
