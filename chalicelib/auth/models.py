"""The auth domain's items in the sessions table (generic pk/sk keys, see chalicelib.resources).

    S#{sha256 of the session key}   #SESSION   a browser session: who it is, until when
    A#{sha256 of the access key}    #ACCESS    an access session (IIIF viewers' reads): who, until when
    T#{sha256 of the access token}  #TOKEN     an access token, bound to an access session

The table holds the key's digest, never the key itself: whoever reads the table cannot sign in
with what is in it. DynamoDB's TTL removes an ended session within days; readers check
``expires_at`` themselves for the time in between.
"""

from __future__ import annotations

from pynamodb.attributes import BooleanAttribute, NumberAttribute, UnicodeAttribute, UnicodeSetAttribute

from chalicelib.dynamodb import TableModel
from chalicelib.settings import get_settings

SESSION_SK = "#SESSION"
ACCESS_SK = "#ACCESS"
TOKEN_SK = "#TOKEN"  # noqa: S105 - a sort key


def session_pk(digest: str) -> str:
    return f"S#{digest}"


def access_pk(digest: str) -> str:
    return f"A#{digest}"


def token_pk(digest: str) -> str:
    return f"T#{digest}"


class SessionItem(TableModel):
    class Meta:
        table_name = get_settings().sessions_table
        region = get_settings().region

    pk = UnicodeAttribute(hash_key=True)
    sk = UnicodeAttribute(range_key=True, default=SESSION_SK)
    sub = UnicodeAttribute()
    roles = UnicodeSetAttribute(null=True)  # DynamoDB has no empty set: no roles is no attribute
    is_admin = BooleanAttribute(default=False)
    created_at = NumberAttribute()
    expires_at = NumberAttribute()  # epoch seconds; the table's TTL attribute
    session = UnicodeAttribute(null=True)  # an access token's: the digest of its access session
