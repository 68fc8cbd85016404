"""Access sessions and access tokens: how IIIF viewers on other sites read restricted material.

The IIIF Authorization Flow (2.0, and 1.0 before it) signs a person in through an access service
page on Vellum's origin, which sets a cookie; a token service framed by the viewer then trades that
cookie for an access token the viewer sends with its requests. Both name items in DynamoDB, by
digest, so that logging out ends the session and every token it gave at once.

Both only ever **read**: chalicelib.auth.context consults them for GET and HEAD of the read routes
and nowhere else, so neither can change anything, wherever it is replayed.
"""

from __future__ import annotations

import secrets

from chalicelib import clock
from chalicelib.auth.models import ACCESS_SK, TOKEN_SK, SessionItem, access_pk, token_pk
from chalicelib.auth.principal import Principal
from chalicelib.auth.session import digest, live_item, principal_of, save_item
from chalicelib.errors import Unauthorized

# Access tokens carry this prefix, so the API tells them from its bearer tokens (JWTs) at a glance.
TOKEN_PREFIX = "vellum-access."  # noqa: S105 - a marker, not a secret


def open_access_session(principal: Principal, max_age_seconds: int) -> tuple[str, int]:
    """A new access session for ``principal``: the key for its cookie, and how long it lasts."""
    if principal.sub is None:
        raise Unauthorized("Sign in to open an access session.")
    key = secrets.token_urlsafe(32)
    save_item(access_pk(digest(key)), ACCESS_SK, principal, max_age_seconds)
    return key, max_age_seconds


def access_session_principal(key: str) -> Principal:
    return principal_of(live_item(access_pk(digest(key)), ACCESS_SK, "The access session has ended."))


def issue_access_token(key: str, lifetime_seconds: int) -> tuple[str, int]:
    """An access token bound to the cookie's session, and its lifetime in seconds (never past the
    session's end). Refused when the session has ended."""
    session_digest = digest(key)
    session = live_item(access_pk(session_digest), ACCESS_SK, "The access session has ended.")
    now = int(clock.now().timestamp())
    lifetime = min(lifetime_seconds, int(session.expires_at) - now)
    token = TOKEN_PREFIX + secrets.token_urlsafe(32)
    save_item(token_pk(digest(token)), TOKEN_SK, principal_of(session), lifetime, session=session_digest)
    return token, lifetime


def access_token_principal(token: str) -> Principal:
    """Whose access token this is, while both it and its session last."""
    item = live_item(token_pk(digest(token)), TOKEN_SK, "The access token is not valid (or has expired).")
    live_item(access_pk(str(item.session)), ACCESS_SK, "The access session of this token has ended.")
    return principal_of(item)


def close_access_session(key: str) -> None:
    SessionItem(pk=access_pk(digest(key)), sk=ACCESS_SK).delete()


def is_access_token(token: str) -> bool:
    return token.startswith(TOKEN_PREFIX)
