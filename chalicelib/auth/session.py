"""Browser sessions, for clients that cannot send headers (Uppy v6's Companion client).

A page trades its bearer token for a session (POST /session) on the API's own origin. The cookie
(chalicelib.auth.cookies) holds only a random key naming a session item in DynamoDB, so ending the
session (DELETE /session) ends it everywhere at once, and no session outlives the token it was
traded for.
"""

from __future__ import annotations

import hashlib
import secrets

from chalicelib import clock
from chalicelib.auth.models import SESSION_SK, SessionItem, session_pk
from chalicelib.auth.principal import Principal
from chalicelib.errors import Unauthorized


def open_session(principal: Principal, max_lifetime_seconds: int) -> tuple[str, int]:
    """A new session for ``principal``: the key for its cookie, and how many seconds it lasts."""
    now = int(clock.now().timestamp())
    ends = min(principal.expires_at or now + max_lifetime_seconds, now + max_lifetime_seconds)
    if principal.sub is None or ends <= now:
        raise Unauthorized("Send a valid bearer token to trade for a session.")
    key = secrets.token_urlsafe(32)
    SessionItem(
        pk=session_pk(_digest(key)),
        sub=principal.sub,
        roles=set(principal.roles) or None,
        is_admin=principal.is_admin,
        created_at=now,
        expires_at=ends,
    ).save()
    return key, ends - now


def session_principal(key: str) -> Principal:
    """The principal of a live session; a session ended, expired or never opened is refused."""
    try:
        item = SessionItem.get(session_pk(_digest(key)), SESSION_SK, consistent_read=True)
    except SessionItem.DoesNotExist:
        item = None
    if item is None or item.expires_at <= clock.now().timestamp():
        raise Unauthorized("The session has ended: sign in again.", invalid_token=True)
    return Principal(
        sub=item.sub,
        roles=frozenset(item.roles or ()),
        is_admin=item.is_admin,
        expires_at=int(item.expires_at),
    )


def close_session(key: str) -> None:
    SessionItem(pk=session_pk(_digest(key))).delete()


def _digest(key: str) -> str:
    return hashlib.sha256(key.encode()).hexdigest()
