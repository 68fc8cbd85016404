"""Presigned S3 URLs (SigV4 query-string authentication), fast enough for 10,000-part uploads.

Written from the SigV4 specification
(https://docs.aws.amazon.com/AmazonS3/latest/API/sigv4-query-string-auth.html) and checked byte
for byte against botocore 1.44's ``S3SigV4QueryAuth``: same URL, same signature, for the same
time and inputs (tests/unit/test_signing.py).

Why not ``generate_presigned_url``: it re-runs botocore's whole request pipeline per URL (parameter
validation, endpoint ruleset, serialisation, the event system, four HMACs for the signing key),
about 215 µs a URL here (docs/benchmarks.md). Here everything that is constant for one (time,
region, credentials) is computed once in ``S3Presigner.__init__``: the signing key, the credential
scope, the X-Amz-Date string, the start of the string to sign and the encoded authentication
parameters. The encoded path of a (bucket, key) is cached, since every part of an upload shares it.
What remains per URL is one canonical request, one SHA-256 and one HMAC.

What botocore signs by itself (checked by reading botocore 1.44 and by experiment): for
``generate_presigned_url("upload_part", ...)`` it signs content-length, and content-md5 and
x-amz-checksum-sha256 when given, so X-Amz-SignedHeaders is
``content-length;content-md5;host;x-amz-checksum-sha256`` (``put_object`` adds content-type). The
reason: the S3 model places ``ContentLength``, ``ContentMD5`` and ``ChecksumSHA256`` in headers, the
serialiser puts them on the request, and ``SigV4Auth.headers_to_sign`` signs every request header
but the hop-by-hop and tracing ones of ``SIGNED_HEADERS_BLACKLIST`` (user-agent, expect, ...);
``SigV4QueryAuth`` only drops a Content-Type of exactly "application/x-www-form-urlencoded;
charset=utf-8", the one botocore adds itself to query-protocol requests. A presigned URL never has
a body, so nothing removes Content-Length. Hence our signer signs what botocore signs, and the tests
compare with ``generate_presigned_url`` itself; ``presign()`` with arbitrary headers is compared with
``S3SigV4QueryAuth`` applied to the same request.

Addressing: with an explicit ``endpoint_url`` botocore's "auto" means path style on every endpoint
(botocore/args.py forces path style unless "virtual" is asked for); without one it presigns on the
global endpoint, virtual-host style. Our "auto" keeps the intent of the latter on the endpoint we are
given: virtual-host style on AWS's own endpoints (``*.amazonaws.com``) when the bucket name can be a
host name, path style everywhere else (IP addresses such as the embedded S3 on 127.0.0.1, other
hosts), which is what botocore does there. "virtual" follows botocore's rule for which bucket names
can be host names and falls back to path style like it does; it also falls back on an IP endpoint,
where botocore would put a dotted bucket name in front of the IP address.
"""

from __future__ import annotations

import functools
import hashlib
import hmac
import ipaddress
import re
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import TYPE_CHECKING, Final, Literal
from urllib.parse import quote, urlsplit

from chalicelib.files.planning import MAX_PARTS

if TYPE_CHECKING:
    from botocore.credentials import ReadOnlyCredentials

AddressingStyle = Literal["auto", "virtual", "path"]

ALGORITHM: Final = "AWS4-HMAC-SHA256"
SERVICE: Final = "s3"
# A presigned URL says nothing about the bytes it will carry; S3 expects this literal instead.
UNSIGNED_PAYLOAD: Final = "UNSIGNED-PAYLOAD"
# SigV4 query authentication: X-Amz-Expires is 1 second to 7 days.
MAX_EXPIRES_IN: Final = 7 * 24 * 3600
# UploadPart's partNumber is 1 to 10,000 (S3 API reference).

# The only response-* overrides GetObject accepts (S3 API reference, GetObject).
RESPONSE_OVERRIDES: Final = frozenset(
    {
        "response-cache-control",
        "response-content-disposition",
        "response-content-encoding",
        "response-content-language",
        "response-content-type",
        "response-expires",
    }
)

# botocore never signs these (auth.SIGNED_HEADERS_BLACKLIST): proxies and HTTP clients add, drop or
# rewrite them. Asking to sign one would silently give a URL that pins nothing, so it is refused.
UNSIGNABLE_HEADERS: Final = frozenset(
    {
        "baggage",
        "connection",
        "expect",
        "keep-alive",
        "proxy-authenticate",
        "proxy-authorization",
        "te",
        "traceparent",
        "tracestate",
        "trailer",
        "transfer-encoding",
        "upgrade",
        "user-agent",
        "x-amzn-trace-id",
    }
)

# RFC 3986 unreserved characters stay as they are; everything else is %XX of its UTF-8 bytes.
_QUERY_SAFE: Final = "-_.~"
_PATH_SAFE: Final = "/~"  # S3 keeps the slashes of a key (a "greedy" label in the API model)

# botocore's handlers.VALID_BUCKET: what it accepts as a bucket name (legacy names included).
_BUCKET_NAME = re.compile(r"[a-zA-Z0-9.\-_]{1,255}")
# RFC 1123 host label, as botocore's endpoint_provider.VALID_HOST_LABEL_RE.
_HOST_LABEL = re.compile(r"(?!-)[a-zA-Z\d-]{1,63}(?<!-)")
_IPV4_LIKE = re.compile(r"(?:[0-9]{1,3}\.){3}[0-9]{1,3}")
_HEADER_NAME = re.compile(r"[!#$%&'*+\-.^_`|~0-9a-zA-Z]+")  # an HTTP token (RFC 9110 section 5.6.2)
_AWS_DOMAINS: Final = (".amazonaws.com", ".amazonaws.com.cn")
_DEFAULT_PORTS: Final = {"http": 80, "https": 443}


@dataclass(frozen=True)
class SigningCredentials:
    access_key: str
    secret_key: str = field(repr=False)
    token: str | None = field(default=None, repr=False)


def credentials_from(session_credentials: ReadOnlyCredentials) -> SigningCredentials:
    """Take botocore's frozen credentials (``session.get_credentials().get_frozen_credentials()``).

    Frozen, because refreshable credentials may rotate between reading the key and the token.
    """
    access_key, secret_key = session_credentials.access_key, session_credentials.secret_key
    if not access_key or not secret_key:
        raise ValueError("credentials without an access key and a secret key cannot sign")
    return SigningCredentials(access_key=access_key, secret_key=secret_key, token=session_credentials.token)


@dataclass(frozen=True)
class _BucketLocation:
    origin: str  # scheme://[bucket.]authority
    path_prefix: str  # "" (virtual host) or "/bucket" (path style); the encoded key follows
    host: str  # the signed Host header


class S3Presigner:
    """Signs presigned S3 URLs for one signing time, region and set of credentials.

    Cheap to build (four HMACs); build one per request or per upload, since every URL it signs
    carries its signing time and expires relative to it.
    """

    def __init__(
        self,
        *,
        region: str,
        endpoint_url: str,
        addressing_style: AddressingStyle,
        credentials: SigningCredentials,
        signed_at: datetime | None = None,
    ) -> None:
        if signed_at is None:
            signed_at = datetime.now(UTC)
        elif signed_at.tzinfo is None:
            # A naive time is ambiguous and would give URLs that S3 finds expired or not yet valid.
            raise ValueError("signed_at must be timezone-aware")
        endpoint = urlsplit(endpoint_url)
        if endpoint.scheme not in _DEFAULT_PORTS or not endpoint.hostname:
            raise ValueError(f"endpoint_url must be http(s)://host[:port], not {endpoint_url!r}")
        if endpoint.path not in ("", "/") or endpoint.query or endpoint.fragment:
            raise ValueError(f"endpoint_url must have no path, query or fragment: {endpoint_url!r}")

        self._scheme = endpoint.scheme
        self._authority = endpoint.netloc  # kept as written, as botocore puts it in the URL
        self._host = _host_header(endpoint.scheme, endpoint.hostname, endpoint.port)
        self._endpoint_is_ip = _is_ip_address(endpoint.hostname)
        self._endpoint_is_aws = endpoint.hostname.endswith(_AWS_DOMAINS)
        self._addressing_style = addressing_style

        amz_date = signed_at.astimezone(UTC).strftime("%Y%m%dT%H%M%SZ")
        scope = f"{amz_date[:8]}/{region}/{SERVICE}/aws4_request"
        # A keyed HMAC to copy per URL: copying skips hashing the key's two pads again.
        self._keyed_hmac = hmac.new(
            _signing_key(credentials.secret_key, amz_date[:8], region), digestmod=hashlib.sha256
        )
        self._string_to_sign_prefix = f"{ALGORITHM}\n{amz_date}\n{scope}\n"
        # Already percent-encoded: the URL and the canonical query string share these bytes.
        self._algorithm_param = ("X-Amz-Algorithm", ALGORITHM)
        self._credential_param = ("X-Amz-Credential", _quote_query(f"{credentials.access_key}/{scope}"))
        self._date_param = ("X-Amz-Date", amz_date)
        self._token_param = (
            None if credentials.token is None else ("X-Amz-Security-Token", _quote_query(credentials.token))
        )
        self._locations: dict[str, _BucketLocation] = {}

    def presign(
        self,
        method: str,
        bucket: str,
        key: str,
        *,
        expires_in: int,
        query: dict[str, str] | None = None,
        headers: dict[str, str] | None = None,
    ) -> str:
        """A URL that lets its holder send this one request, with exactly these headers, for a while.

        ``headers`` are signed (names lowercased): the client must send them with these values.
        """
        if not 1 <= expires_in <= MAX_EXPIRES_IN:
            raise ValueError(f"expires_in must be 1..{MAX_EXPIRES_IN} seconds, not {expires_in}")
        if not key:
            raise ValueError("an object key is at least one character long")
        location = self._location(bucket)
        path = location.path_prefix + _quote_key(key)

        signed = {"host": location.host}
        if headers:
            for name, value in headers.items():
                lowered = name.lower()
                # "host" is signed already; a name given twice (any case) would be signed ambiguously.
                if lowered in signed or lowered in UNSIGNABLE_HEADERS or not _HEADER_NAME.fullmatch(name):
                    raise ValueError(f"cannot sign the header {name!r}")
                # SigV4 canonical header values: trimmed, inner runs of whitespace made one space.
                signed[lowered] = " ".join(value.split())
        names = sorted(signed)
        signed_headers = ";".join(names)
        canonical_headers = "".join([f"{name}:{signed[name]}\n" for name in names])

        # In the URL: the operation's parameters, then the authentication ones, in botocore's order.
        params: list[tuple[str, str]] = []
        if query:
            for name, value in query.items():
                if name.lower().startswith("x-amz-"):
                    raise ValueError(f"the query parameter {name!r} is the signer's to set")
                params.append((_quote_query(name), _quote_query(value)))
        params.append(self._algorithm_param)
        params.append(self._credential_param)
        params.append(self._date_param)
        params.append(("X-Amz-Expires", str(expires_in)))
        params.append(("X-Amz-SignedHeaders", _quote_query(signed_headers)))
        if self._token_param is not None:
            params.append(self._token_param)

        # The canonical query string sorts the encoded (name, value) pairs, as the spec asks.
        canonical_request = "\n".join(
            (
                method.upper(),
                path,
                "&".join([f"{name}={value}" for name, value in sorted(params)]),
                canonical_headers,
                signed_headers,
                UNSIGNED_PAYLOAD,
            )
        )
        string_to_sign = self._string_to_sign_prefix + hashlib.sha256(canonical_request.encode()).hexdigest()
        mac = self._keyed_hmac.copy()
        mac.update(string_to_sign.encode())
        signature = mac.hexdigest()
        url_query = "&".join([f"{name}={value}" for name, value in params])
        return f"{location.origin}{path}?{url_query}&X-Amz-Signature={signature}"

    def presign_upload_part(
        self,
        bucket: str,
        key: str,
        upload_id: str,
        part_number: int,
        *,
        content_length: int,
        expires_in: int,
        checksum_sha256_b64: str | None = None,
        content_md5_b64: str | None = None,
    ) -> str:
        """A PUT URL for one part that S3 accepts only with this length (and checksum, if given)."""
        if not 1 <= part_number <= MAX_PARTS:
            raise ValueError(f"part_number must be 1..{MAX_PARTS}, not {part_number}")
        headers = {"content-length": _content_length(content_length)}
        if checksum_sha256_b64 is not None:
            headers["x-amz-checksum-sha256"] = checksum_sha256_b64
        if content_md5_b64 is not None:
            headers["content-md5"] = content_md5_b64
        return self.presign(
            "PUT",
            bucket,
            key,
            expires_in=expires_in,
            query={"partNumber": str(part_number), "uploadId": upload_id},
            headers=headers,
        )

    def presign_put_object(
        self,
        bucket: str,
        key: str,
        *,
        content_length: int,
        content_type: str | None,
        expires_in: int,
        checksum_sha256_b64: str | None = None,
    ) -> str:
        """A PUT URL for a whole object of exactly this length (and type and checksum, if given),
        which S3 takes only while no object has the key: once written, its bytes cannot be replaced
        through it (``If-None-Match: *``, S3's conditional write)."""
        headers = {"content-length": _content_length(content_length), "if-none-match": "*"}
        if content_type is not None:
            headers["content-type"] = content_type
        if checksum_sha256_b64 is not None:
            headers["x-amz-checksum-sha256"] = checksum_sha256_b64
        return self.presign("PUT", bucket, key, expires_in=expires_in, headers=headers)

    def presign_get_object(
        self,
        bucket: str,
        key: str,
        *,
        expires_in: int,
        response_headers: dict[str, str] | None = None,
        version_id: str | None = None,
    ) -> str:
        """A GET URL; ``response_headers`` (``response-content-disposition``...) override S3's reply."""
        query: dict[str, str] = {}
        if version_id is not None:
            query["versionId"] = version_id
        if response_headers:
            unknown = set(response_headers) - RESPONSE_OVERRIDES
            if unknown:
                raise ValueError(f"S3 cannot override the response headers {sorted(unknown)}")
            query.update(response_headers)
        return self.presign("GET", bucket, key, expires_in=expires_in, query=query)

    def bucket_url(self, bucket: str) -> str:
        """The bucket's own URL, ending in "/", where the URLs this signs for it point."""
        location = self._location(bucket)
        return f"{location.origin}{location.path_prefix}/"

    def _location(self, bucket: str) -> _BucketLocation:
        location = self._locations.get(bucket)
        if location is None:
            if not _BUCKET_NAME.fullmatch(bucket):
                raise ValueError(f"invalid bucket name {bucket!r}")
            if self._virtual_host_style(bucket):
                location = _BucketLocation(
                    origin=f"{self._scheme}://{bucket}.{self._authority}",
                    path_prefix="",
                    host=f"{bucket}.{self._host}",
                )
            else:
                location = _BucketLocation(
                    origin=f"{self._scheme}://{self._authority}",
                    path_prefix=f"/{bucket}",
                    host=self._host,
                )
            self._locations[bucket] = location
        return location

    def _virtual_host_style(self, bucket: str) -> bool:
        if self._addressing_style == "path" or self._endpoint_is_ip:
            return False
        if self._addressing_style == "auto" and not self._endpoint_is_aws:
            return False
        # A dotted name breaks the wildcard TLS certificate of *.s3.<region>.amazonaws.com, so botocore
        # takes dots only over plain http.
        return _is_virtual_hostable(bucket, allow_dots=self._scheme == "http")


def _signing_key(secret_key: str, date: str, region: str) -> bytes:
    """kSigning = HMAC(HMAC(HMAC(HMAC("AWS4" + secret, date), region), service), "aws4_request")."""
    key = f"AWS4{secret_key}".encode()
    for part in (date, region, SERVICE, "aws4_request"):
        key = hmac.new(key, part.encode(), hashlib.sha256).digest()
    return key


@functools.lru_cache(maxsize=1024)
def _quote_query(value: str) -> str:
    """Percent-encode a query name or value. Cached: names, upload ids and header lists repeat."""
    return quote(value, safe=_QUERY_SAFE)


@functools.lru_cache(maxsize=256)
def _quote_key(key: str) -> str:
    """The encoded path of a key: "/" plus its UTF-8 bytes percent-encoded, slashes kept.

    Cached: the 10,000 parts of an upload share one key, which can be 1,024 bytes long.
    """
    return "/" + quote(key, safe=_PATH_SAFE)


def _content_length(value: int) -> str:
    if value < 0:
        raise ValueError(f"content_length must not be negative, not {value}")
    return str(value)


def _host_header(scheme: str, hostname: str, port: int | None) -> str:
    # As botocore's auth._host_from_url: lowercase (urlsplit does it), IPv6 in brackets, and the
    # port only when it is not the scheme's default.
    host = f"[{hostname}]" if ":" in hostname else hostname
    if port is not None and port != _DEFAULT_PORTS[scheme]:
        host = f"{host}:{port}"
    return host


def _is_ip_address(hostname: str) -> bool:
    try:
        ipaddress.ip_address(hostname)
    except ValueError:
        return False
    return True


def _is_virtual_hostable(bucket: str, *, allow_dots: bool) -> bool:
    """botocore's endpoint_provider.aws_is_virtual_hostable_s3_bucket."""
    if len(bucket) < 3 or bucket.lower() != bucket or _IPV4_LIKE.fullmatch(bucket):
        return False
    labels = bucket.split(".") if allow_dots else [bucket]
    return all(_HOST_LABEL.fullmatch(label) for label in labels)
