"""The principal of the request being served.

The HTTP middleware authenticates once per request and stores the result here;
routes read it with ``current_principal()``. A context variable keeps concurrent
requests apart on the threaded local server as on Lambda.
"""

from __future__ import annotations

import contextlib
import functools
from contextvars import ContextVar

from chalice.app import Request

from chalicelib.auth.access import access_session_principal, access_token_principal, is_access_token
from chalicelib.auth.cookies import (
    ACCESS_COOKIE,
    check_cookie_origin,
    read_from_own_pages,
    reads_with_access,
    reads_with_session,
    session_key_from_cookies,
    takes_session,
)
from chalicelib.auth.principal import ANONYMOUS, Principal
from chalicelib.auth.session import session_principal
from chalicelib.auth.tokens import TokenVerifier, bearer_token, principal_from_authorization
from chalicelib.errors import Unauthorized
from chalicelib.links import base_url, origin
from chalicelib.settings import get_settings

_principal: ContextVar[Principal] = ContextVar("principal", default=ANONYMOUS)


@functools.cache
def verifier() -> TokenVerifier:
    # Once per container, so the JWKS cache outlives a single request.
    return TokenVerifier.from_settings(get_settings())


def authenticate(request: Request) -> Principal:
    """Who the request is from. The Authorization header says it when there is one: the API's
    bearer token, or on the read routes an access token of the IIIF token service. Without one,
    the session cookie on the session's routes; on the read routes, the session cookie of Vellum's
    own pages, else the access cookie of the IIIF access service. Else anonymous."""
    authorization = request.headers.get("authorization")
    principal = ANONYMOUS
    if authorization is not None:
        principal = _bearer(request, str(authorization))
    elif takes_session(request.path):
        key = session_key(request)
        principal = session_principal(key) if key else ANONYMOUS
    elif reads_with_session(request.method, request.path) or reads_with_access(request.method, request.path):
        principal = _reader(request)
    _principal.set(principal)
    return principal


def _bearer(request: Request, authorization: str) -> Principal:
    token = bearer_token(authorization) if authorization.strip() else ""
    if not is_access_token(token):
        return principal_from_authorization(authorization, verifier())
    if not reads_with_access(request.method, request.path):
        raise Unauthorized(
            "This is an access token of the IIIF token service: it only reads images and files. "
            "Send the API's bearer token.",
            invalid_token=True,
        )
    # One that has expired, ended or never was reads as anyone's: the image then answers 401 with
    # the services that say how to sign in again, which is what a viewer needs to see.
    try:
        return access_token_principal(token)
    except Unauthorized:
        return ANONYMOUS


def _reader(request: Request) -> Principal:
    """Who reads with a cookie: the session's principal for Vellum's own pages, else the access
    session's, else anyone. An ended session reads as anyone too, so that a stale cookie never
    breaks a public file."""
    cookies = request.headers.get("cookie")
    key = session_key_from_cookies(cookies)
    access_key = session_key_from_cookies(cookies, ACCESS_COOKIE)
    if (
        key is not None
        and read_from_own_pages(request.headers)
        and reads_with_session(request.method, request.path)
    ):
        with contextlib.suppress(Unauthorized):
            return session_principal(key)
    if access_key is not None and reads_with_access(request.method, request.path):
        with contextlib.suppress(Unauthorized):
            return access_session_principal(access_key)
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
