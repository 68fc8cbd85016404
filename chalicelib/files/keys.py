"""Object keys: what a valid key is, and how a key travels in a URL path.

Keys may hold any Unicode, '/', spaces, '+' and '%', so a key cannot be a plain path
segment: API Gateway decodes percent-escapes before routing (an escaped '/' splits the
path) and Chalice has no greedy path parameters. A key in a path is therefore the
base64url encoding (RFC 4648 section 5, no padding) of its UTF-8 bytes: an alphabet
of letters, digits, '-' and '_' that no proxy rewrites. Object JSON carries ready-made
links, so most clients never encode a key themselves.
"""

from __future__ import annotations

import base64
import binascii
import unicodedata

from chalicelib.errors import invalid_field

# A key is part of DynamoDB sort keys, which hold at most 1,024 bytes; the longest is a version's,
# "V#" + key + "\x00" + a 32-character version id (chalicelib.files.models.version_sk).
MAX_KEY_BYTES = 1024 - len("V#") - 1 - 32

ENCODING_PROBLEM = "is not written in the path as base64url (without padding) of its UTF-8 bytes"


def validate_key(key: object, field: str = "key") -> str:
    """The key in Unicode NFC if it is a valid object key, else BadRequest naming ``field``.

    NFC, because one name typed on two systems (macOS writes NFD) must be one key. Format
    characters (category Cf, such as U+202E RIGHT-TO-LEFT OVERRIDE) are refused: they make
    ``invoice\u202efdp.exe`` display as ``invoiceexe.pdf``.
    """
    if not isinstance(key, str) or not key:
        raise invalid_field(field, "must be a non-empty string")
    key = unicodedata.normalize("NFC", key)
    if len(key.encode("utf-8")) > MAX_KEY_BYTES:
        raise invalid_field(field, f"must be at most {MAX_KEY_BYTES} bytes in UTF-8")
    if any(unicodedata.category(char) in ("Cc", "Cs") for char in key):
        raise invalid_field(field, "must not contain control characters")
    if any(unicodedata.category(char) == "Cf" for char in key):
        raise invalid_field(field, "must not contain invisible format characters (such as U+202E)")
    if any(segment in (".", "..") for segment in key.split("/")):
        raise invalid_field(field, "must not contain '.' or '..' segments")
    return key


def encode_key(key: str) -> str:
    """The key's form in URL paths."""
    return base64.urlsafe_b64encode(key.encode("utf-8")).rstrip(b"=").decode("ascii")


def decode_key(segment: str) -> str:
    """The key a path segment names; BadRequest if it is not a base64url-encoded valid key."""
    padded = segment + "=" * (-len(segment) % 4)
    try:
        raw = base64.urlsafe_b64decode(padded.encode("ascii"))
        key = raw.decode("utf-8")
    except (binascii.Error, UnicodeError, ValueError):
        raise invalid_field("key", ENCODING_PROBLEM) from None
    # Two encodings of one key would make two URLs for one object; accept only the canonical one.
    if encode_key(key) != segment:
        raise invalid_field("key", ENCODING_PROBLEM)
    return validate_key(key)
