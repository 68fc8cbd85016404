"""What S3 checks before it acts on a request that carries no Authorization header.

Presigned URLs (SigV4 query-string authentication) and browser form uploads (POST policies), checked
as the S3 API reference describes them ("Authenticating Requests: Using Query Parameters",
"Browser-Based Uploads Using POST") and refused with the codes, messages and detail elements S3
itself answers with. Plain logic for `local.s3_gate`, which puts it in front of moto.

Written apart from `chalicelib.files.signing` on purpose: a verifier that shared the signer's
canonical form would agree with the signer's mistakes. The tests check it against botocore's signer.
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import hmac
import json
import re
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any, Final
from urllib.parse import quote, unquote, unquote_to_bytes
from xml.etree.ElementTree import Element, SubElement, tostring

ALGORITHM: Final = "AWS4-HMAC-SHA256"
UNSIGNED_PAYLOAD: Final = "UNSIGNED-PAYLOAD"
MAX_EXPIRES: Final = 7 * 24 * 3600
CLOCK_SKEW: Final = timedelta(minutes=15)  # how far ahead of S3's clock a signing time may be
QUERY_AUTH: Final = (
    "X-Amz-Algorithm",
    "X-Amz-Credential",
    "X-Amz-Signature",
    "X-Amz-Date",
    "X-Amz-SignedHeaders",
    "X-Amz-Expires",
)
# S3 takes this one header unsigned; every other x-amz-* header must be signed.
_UNSIGNED_ALLOWED: Final = frozenset({"x-amz-content-sha256"})
# Form fields a POST policy need not name (S3 API reference, "Creating a POST policy").
_POLICY_EXEMPT: Final = frozenset({"policy", "x-amz-signature", "file"})
_AMZ_DATE = re.compile(r"\d{8}T\d{6}Z")
_POLICY_FAILED = "Invalid according to Policy: Policy Condition failed: "
_NOT_SIGNED = "There were headers present in the request which were not signed"
_MISMATCH = (
    "The request signature we calculated does not match the signature you provided. "
    "Check your key and signing method."
)


class Refusal(Exception):
    """S3's answer to a request it will not carry out: status, error code, message, detail elements."""

    def __init__(
        self, status: int, code: str, message: str, details: Mapping[str, str] | None = None
    ) -> None:
        super().__init__(f"{status} {code}: {message}")
        self.status, self.code, self.message = status, code, message
        self.details = dict(details or {})


@dataclass(frozen=True)
class Keys:
    """The credentials the embedded S3 knows, and the region it is in."""

    secrets: Mapping[str, str]  # access key id -> secret access key
    region: str


@dataclass(frozen=True)
class Request:
    method: str
    path: str  # as sent: percent-encoded, without the query
    query: str  # as sent
    headers: Mapping[str, str]  # names lowercased


def check_framing(method: str, headers: Mapping[str, str]) -> None:
    """S3 takes a body only with a Content-Length: no chunked transfer coding (`curl -T -` sends one)."""
    if method not in ("PUT", "POST"):
        return
    if "transfer-encoding" in headers:
        raise Refusal(
            501,
            "NotImplemented",
            "A header you provided implies functionality that is not implemented",
            {"Header": "Transfer-Encoding"},
        )
    if "content-length" not in headers:
        raise Refusal(411, "MissingContentLength", "You must provide the Content-Length HTTP header.")


def query_pairs(query: str) -> list[tuple[str, str]]:
    """The decoded (name, value) pairs of a query string, in order; a bare name has an empty value."""
    pairs = []
    for item in query.split("&"):
        if item:
            name, _, value = item.partition("=")
            pairs.append((unquote(name), unquote(value)))
    return pairs


def is_presigned(pairs: list[tuple[str, str]]) -> bool:
    return any(name in QUERY_AUTH for name, _ in pairs)


def check_presigned(request: Request, keys: Keys, now: datetime) -> None:
    """Refuse a presigned request as S3 would: parameters, credential, signed headers, signature, time."""
    pairs = query_pairs(request.query)
    auth = {name: value for name, value in pairs if name in QUERY_AUTH}
    if len(auth) < len(QUERY_AUTH):
        raise _query_error(
            "Query-string authentication version 4 requires the X-Amz-Algorithm, X-Amz-Credential, "
            "X-Amz-Signature, X-Amz-Date, X-Amz-SignedHeaders, and X-Amz-Expires parameters."
        )
    if auth["X-Amz-Algorithm"] != ALGORITHM:
        raise _query_error(f'X-Amz-Algorithm only supports "{ALGORITHM}"')
    amz_date = auth["X-Amz-Date"]
    access_key, scope = _credential(auth["X-Amz-Credential"], amz_date, keys, _query_error)
    expires = auth["X-Amz-Expires"]
    if not expires.isdigit():
        raise _query_error("X-Amz-Expires should be a number")
    if int(expires) > MAX_EXPIRES:
        raise _query_error(
            f"X-Amz-Expires must be less than a week (in seconds) that is; {MAX_EXPIRES} seconds"
        )
    secret = _secret(keys, access_key)

    signed = auth["X-Amz-SignedHeaders"].split(";")
    if "host" not in signed:
        raise Refusal(403, "AccessDenied", _NOT_SIGNED, {"HeadersNotSigned": "host"})
    unsigned = [
        name
        for name in request.headers
        if name.startswith("x-amz-") and name not in signed and name not in _UNSIGNED_ALLOWED
    ]
    if unsigned:
        raise Refusal(403, "AccessDenied", _NOT_SIGNED, {"HeadersNotSigned": ", ".join(sorted(unsigned))})

    canonical = "\n".join(
        (
            request.method,
            quote(unquote_to_bytes(request.path), safe="/~"),
            "&".join(
                f"{name}={value}"
                for name, value in sorted(
                    (quote(name, safe="-_.~"), quote(value, safe="-_.~"))
                    for name, value in pairs
                    if name != "X-Amz-Signature"
                )
            ),
            "".join(f"{name}:{' '.join(request.headers.get(name, '').split())}\n" for name in signed),
            ";".join(signed),
            dict(pairs).get("X-Amz-Content-Sha256", UNSIGNED_PAYLOAD),
        )
    )
    string_to_sign = "\n".join((ALGORITHM, amz_date, scope, hashlib.sha256(canonical.encode()).hexdigest()))
    _check_signature(
        secret,
        access_key,
        scope,
        string_to_sign,
        auth["X-Amz-Signature"],
        {
            "StringToSignBytes": _spaced_hex(string_to_sign),
            "CanonicalRequest": canonical,
            "CanonicalRequestBytes": _spaced_hex(canonical),
        },
    )

    signed_at = datetime.strptime(amz_date, "%Y%m%dT%H%M%SZ").replace(tzinfo=UTC)
    ends = signed_at + timedelta(seconds=int(expires))
    times = {"X-Amz-Expires": expires, "Expires": _iso(ends), "ServerTime": _iso(now)}
    if signed_at - now > CLOCK_SKEW:
        raise Refusal(403, "AccessDenied", "Request is not yet valid", times)
    if now > ends:
        raise Refusal(403, "AccessDenied", "Request has expired", times)


@dataclass(frozen=True)
class Form:
    fields: Mapping[str, str]  # as sent, the file's part excluded
    file_size: int | None  # None: no file part


def check_post_policy(bucket: str, form: Form, keys: Keys, now: datetime) -> None:
    """Refuse a browser form upload as S3 would: signature, expiry, every condition, no field unnamed."""
    fields = {name.lower(): value for name, value in form.fields.items()}
    if "policy" not in fields and "x-amz-signature" not in fields:
        raise Refusal(403, "AccessDenied", "Access Denied")
    for name in ("key", "policy", "x-amz-algorithm", "x-amz-credential", "x-amz-date", "x-amz-signature"):
        if name not in fields:
            raise _missing_field(name)
    if form.file_size is None:
        raise Refusal(
            400,
            "InvalidArgument",
            "POST requires exactly one file upload per request.",
            {"ArgumentName": "file", "ArgumentValue": "0"},
        )
    if fields["x-amz-algorithm"] != ALGORITHM:
        raise _post_error(f'X-Amz-Algorithm only supports "{ALGORITHM}"')
    access_key, scope = _credential(fields["x-amz-credential"], fields["x-amz-date"], keys, _post_error)
    secret = _secret(keys, access_key)
    policy_text = fields["policy"]
    _check_signature(secret, access_key, scope, policy_text, fields["x-amz-signature"])
    policy = _policy(policy_text)
    if now > _policy_time(policy.get("expiration")):
        raise Refusal(403, "AccessDenied", "Invalid according to Policy: Policy expired.")

    named = set()
    for condition in policy.get("conditions") or []:
        named.update(_check_condition(condition, bucket, fields, form.file_size))
    extra = [
        name for name in fields if name not in named | _POLICY_EXEMPT and not name.startswith("x-ignore-")
    ]
    if extra:
        raise Refusal(
            403, "AccessDenied", f"Invalid according to Policy: Extra input fields: {', '.join(extra)}"
        )


def error_document(refusal: Refusal, request_id: str) -> bytes:
    """S3's XML error body."""
    root = Element("Error")
    SubElement(root, "Code").text = refusal.code
    SubElement(root, "Message").text = refusal.message
    for name, value in refusal.details.items():
        SubElement(root, name).text = value
    SubElement(root, "RequestId").text = request_id
    SubElement(root, "HostId").text = request_id
    return b'<?xml version="1.0" encoding="UTF-8"?>\n' + tostring(root)


def _check_condition(condition: Any, bucket: str, fields: Mapping[str, str], size: int) -> set[str]:
    """Check one policy condition; the form fields it names."""
    if isinstance(condition, dict) and len(condition) == 1:
        ((name, expected),) = condition.items()
        operator, field = "eq", f"${name}"
    elif isinstance(condition, list) and len(condition) == 3 and condition[0] == "content-length-range":
        _, low, high = condition
        if size > int(high):
            raise Refusal(
                400,
                "EntityTooLarge",
                "Your proposed upload exceeds the maximum allowed size",
                {"ProposedSize": str(size), "MaxSizeAllowed": str(high)},
            )
        if size < int(low):
            raise Refusal(
                400,
                "EntityTooSmall",
                "Your proposed upload is smaller than the minimum allowed size",
                {"ProposedSize": str(size), "MinSizeAllowed": str(low)},
            )
        return set()
    elif (
        isinstance(condition, list)
        and len(condition) == 3
        and str(condition[0]).lower() in ("eq", "starts-with")
        and str(condition[1]).startswith("$")
    ):
        operator, field, expected = str(condition[0]).lower(), str(condition[1]), condition[2]
    else:
        raise Refusal(
            400, "InvalidPolicyDocument", f"Invalid Policy: Invalid Condition: {json.dumps(condition)}"
        )
    name = field[1:].lower()
    actual = bucket if name == "bucket" else fields.get(name)
    held = actual is not None and (
        actual == expected if operator == "eq" else actual.startswith(str(expected))
    )
    if not held:
        raise Refusal(
            403,
            "AccessDenied",
            _POLICY_FAILED + json.dumps([operator, field, expected]),
        )
    return {name}


def _credential(value: str, amz_date: str, keys: Keys, error: Callable[..., Refusal]) -> tuple[str, str]:
    """(access key, credential scope) of "<key>/<yyyymmdd>/<region>/s3/aws4_request"."""
    parts = value.split("/")
    if (
        len(parts) != 5
        or parts[3] != "s3"
        or parts[4] != "aws4_request"
        or not re.fullmatch(r"\d{8}", parts[1])
    ):
        raise error(
            "Error parsing the X-Amz-Credential parameter; the Credential is mal-formed; "
            'expecting "<YOUR-AKID>/YYYYMMDD/REGION/SERVICE/aws4_request".'
        )
    if not _AMZ_DATE.fullmatch(amz_date):
        raise error("X-Amz-Date must be in the ISO8601 Long Format \"yyyyMMdd'T'HHmmss'Z'\"")
    if parts[1] != amz_date[:8]:
        raise error(
            f'Invalid credential date "{parts[1]}". '
            f'This date is not the same as X-Amz-Date: "{amz_date[:8]}".'
        )
    if parts[2] != keys.region:
        raise error(
            f"Error parsing the X-Amz-Credential parameter; the region '{parts[2]}' is wrong; "
            f"expecting '{keys.region}'",
            {"Region": keys.region},
        )
    return parts[0], "/".join(parts[1:])


def _secret(keys: Keys, access_key: str) -> str:
    secret = keys.secrets.get(access_key)
    if secret is None:
        raise Refusal(
            403,
            "InvalidAccessKeyId",
            "The AWS Access Key Id you provided does not exist in our records.",
            {"AWSAccessKeyId": access_key},
        )
    return secret


def _check_signature(
    secret: str,
    access_key: str,
    scope: str,
    string_to_sign: str,
    provided: str,
    details: Mapping[str, str] | None = None,
) -> None:
    if not hmac.compare_digest(_sign(secret, scope, string_to_sign), provided):
        raise Refusal(
            403,
            "SignatureDoesNotMatch",
            _MISMATCH,
            {
                "AWSAccessKeyId": access_key,
                "StringToSign": string_to_sign,
                "SignatureProvided": provided,
                **(details or {}),
            },
        )


def _sign(secret: str, scope: str, string_to_sign: str) -> str:
    key = f"AWS4{secret}".encode()
    for part in scope.split("/"):
        key = hmac.new(key, part.encode(), hashlib.sha256).digest()
    return hmac.new(key, string_to_sign.encode(), hashlib.sha256).hexdigest()


def _policy(text: str) -> dict[str, Any]:
    try:
        policy = json.loads(base64.b64decode(text, validate=True))
    except (binascii.Error, ValueError):
        raise Refusal(400, "InvalidPolicyDocument", "Invalid Policy: Invalid JSON.") from None
    if not isinstance(policy, dict):
        raise Refusal(400, "InvalidPolicyDocument", "Invalid Policy: Invalid JSON.")
    return policy


def _policy_time(value: Any) -> datetime:
    if not isinstance(value, str):
        raise Refusal(400, "InvalidPolicyDocument", "Invalid Policy: Policy missing expiration.")
    try:
        moment = datetime.fromisoformat(value)
    except ValueError:
        raise Refusal(
            400, "InvalidPolicyDocument", f"Invalid Policy: Invalid 'expiration' value: '{value}'"
        ) from None
    return moment if moment.tzinfo else moment.replace(tzinfo=UTC)


def _query_error(message: str, details: Mapping[str, str] | None = None) -> Refusal:
    return Refusal(400, "AuthorizationQueryParametersError", message, details)


def _post_error(message: str, details: Mapping[str, str] | None = None) -> Refusal:
    return Refusal(400, "InvalidArgument", message, details)


def _missing_field(name: str) -> Refusal:
    return Refusal(
        400,
        "InvalidArgument",
        f"Bucket POST must contain a field named '{name}'.  "
        "If it is specified, please check the order of the fields.",
        {"ArgumentName": name, "ArgumentValue": ""},
    )


def _spaced_hex(text: str) -> str:
    return " ".join(f"{byte:02x}" for byte in text.encode())


def _iso(moment: datetime) -> str:
    return moment.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")
