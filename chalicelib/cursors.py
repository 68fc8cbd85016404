"""Listing cursors: DynamoDB's last evaluated key, handed to clients as an opaque token.

A cursor names a position in one partition (a bucket, an owner's records, the public records);
one given back for another partition would read outside the listing it came from, so decoding
checks the partition it names.
"""

from __future__ import annotations

import base64
import json
from typing import Any

from chalicelib.errors import invalid_field

TABLE_KEY = frozenset({"pk", "sk"})


def encode_cursor(last_key: dict[str, Any] | None) -> str | None:
    """The cursor of the next page; None on the last page."""
    if not last_key:
        return None
    return base64.urlsafe_b64encode(json.dumps(last_key).encode()).decode().rstrip("=")


def decode_cursor(
    cursor: str | None, partition: tuple[str, str], key_names: frozenset[str] = TABLE_KEY
) -> dict[str, Any] | None:
    """The key to start after, if ``cursor`` came from the listing of ``partition`` (attribute,
    value) whose keys are ``key_names`` (the table's, and an index's when the listing reads one)."""
    if not cursor:
        return None
    attribute, value = partition
    try:
        last_key = json.loads(base64.urlsafe_b64decode(cursor + "=" * (-len(cursor) % 4)))
        # DynamoDB refuses a start key that is not exactly the listing's key attributes (a 500).
        if set(last_key) != key_names or not all(
            set(typed) == {"S"} and isinstance(typed["S"], str) for typed in last_key.values()
        ):
            raise ValueError("not the key of this listing")
        if last_key[attribute]["S"] != value:
            raise ValueError("a cursor of another listing")
    except (ValueError, KeyError, TypeError, AttributeError):
        raise invalid_field("cursor", "is not a cursor this listing gave out") from None
    return dict(last_key)
