"""The principal of the request being served.

The HTTP middleware authenticates once per request and stores the result here;
routes read it with ``current_principal()``. A context variable keeps concurrent
requests apart on the threaded local server as on Lambda.
"""

from __future__ import annotations

import functools
from contextvars import ContextVar

from chalicelib.auth.principal import ANONYMOUS, Principal
from chalicelib.auth.tokens import TokenVerifier, principal_from_authorization
from chalicelib.settings import get_settings

_principal: ContextVar[Principal] = ContextVar("principal", default=ANONYMOUS)


@functools.cache
def verifier() -> TokenVerifier:
    # Once per container, so the JWKS cache outlives a single request.
    return TokenVerifier.from_settings(get_settings())


def authenticate(authorization: str | None) -> Principal:
    principal = principal_from_authorization(authorization, verifier())
    _principal.set(principal)
    return principal


def current_principal() -> Principal:
    return _principal.get()
