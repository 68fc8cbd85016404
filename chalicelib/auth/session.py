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
    save_item(session_pk(digest(key)), SESSION_SK, principal, ends - now)
    return key, ends - now


def session_principal(key: str) -> Principal:
    """The principal of a live session; a session ended, expired or never opened is refused."""
    return principal_of(
        live_item(session_pk(digest(key)), SESSION_SK, "The session has ended: sign in again.")
    )


def close_session(key: str) -> None:
    SessionItem(pk=session_pk(digest(key))).delete()


# What this module and chalicelib.auth.access share: items that name a principal until they expire.


def save_item(pk: str, sk: str, principal: Principal, lifetime: int, session: str | None = None) -> None:
    now = int(clock.now().timestamp())
    SessionItem(
        pk=pk,
        sk=sk,
        sub=principal.sub,
        roles=set(principal.roles) or None,
        is_admin=principal.is_admin,
        created_at=now,
        expires_at=now + lifetime,
        session=session,
    ).save()


def live_item(pk: str, sk: str, refusal: str) -> SessionItem:
    """The item, unless it is missing or has expired (DynamoDB's TTL removes it only within days)."""
    try:
        item = SessionItem.get(pk, sk, consistent_read=True)
    except SessionItem.DoesNotExist:
        item = None
    if item is None or item.expires_at <= clock.now().timestamp():
        raise Unauthorized(refusal, invalid_token=True)
    return item


def principal_of(item: SessionItem) -> Principal:
    return Principal(
        sub=item.sub,
        roles=frozenset(item.roles or ()),
        is_admin=item.is_admin,
        expires_at=int(item.expires_at),
    )


def digest(key: str) -> str:
    return hashlib.sha256(key.encode()).hexdigest()
