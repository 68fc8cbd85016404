"""A SigV4 gate in front of the embedded S3: it refuses what S3 refuses, so clients meet AWS's rules here.

moto's server carries out any request, whatever its signature, expiry or headers. So a client bug,
such as a chunked PUT, a header it was told to send and did not send, or a URL used after it expired,
would show up only on AWS. This WSGI middleware checks, with `local.s3_auth`, every request that
reaches S3 without a SigV4 Authorization header: presigned URLs, browser form uploads, anonymous
requests (a private bucket refuses them) and requests with some other Authorization (an API token
sent on to S3). A refusal gets S3's status and XML error. On it go: requests signed with SigV4 in
an Authorization header, which here come only from the stack's own boto3 clients, and CORS
preflights, which S3 answers without credentials.
Local only: on AWS, S3 itself does all this.
"""

from __future__ import annotations

import io
import uuid
from collections.abc import Callable, Iterable
from datetime import UTC, datetime
from http import HTTPStatus
from typing import Any

from moto.core.models import DEFAULT_ACCOUNT_ID
from moto.s3.exceptions import MissingBucket
from moto.s3.models import s3_backends
from moto.s3.utils import cors_matches_origin
from werkzeug.datastructures import EnvironHeaders
from werkzeug.formparser import parse_form_data

from local.s3_auth import (
    ALGORITHM,
    Form,
    Keys,
    Refusal,
    Request,
    check_framing,
    check_post_policy,
    check_presigned,
    error_document,
    is_presigned,
    query_pairs,
)

StartResponse = Callable[..., Any]
WsgiApp = Callable[[dict[str, Any], StartResponse], Iterable[bytes]]
FORM_KEY = "vellum.s3_form"  # the parsed form of a POST upload, for `local.form_uploads` to reuse


class SignatureGate:
    def __init__(self, app: WsgiApp, keys: Keys) -> None:
        self.app = app
        self.keys = keys

    def __call__(self, environ: dict[str, Any], start_response: StartResponse) -> Iterable[bytes]:
        authorization = environ.get("HTTP_AUTHORIZATION", "")
        if environ.get("REQUEST_METHOD") == "OPTIONS" or authorization.startswith(f"{ALGORITHM} "):
            return self.app(environ, start_response)
        if "HTTP_X_AMZ_TARGET" in environ:  # DynamoDB's and SQS's JSON protocols, never S3
            return self.app(environ, start_response)
        try:
            self._check(environ)
        except Refusal as refusal:
            _drain(environ)
            return _refuse(environ, start_response, refusal)
        return self.app(environ, start_response)

    def _check(self, environ: dict[str, Any]) -> None:
        method = environ["REQUEST_METHOD"]
        headers = {name.lower(): value for name, value in EnvironHeaders(environ).items()}
        check_framing(method, headers)
        pairs = query_pairs(environ.get("QUERY_STRING", ""))
        authorization = environ.get("HTTP_AUTHORIZATION")
        if authorization is not None:  # not SigV4: a client sending its API token on to S3, say
            if is_presigned(pairs):
                raise Refusal(
                    400,
                    "InvalidArgument",
                    "Only one auth mechanism allowed; only the X-Amz-Algorithm query parameter, Signature "
                    "query string parameter or the Authorization header should be specified",
                    {"ArgumentName": "Authorization", "ArgumentValue": authorization},
                )
            raise Refusal(
                400,
                "InvalidArgument",
                "Unsupported Authorization Type",
                {"ArgumentName": "Authorization", "ArgumentValue": authorization},
            )
        if is_presigned(pairs):
            path = str(environ.get("RAW_URI") or environ.get("PATH_INFO", "/")).split("?", 1)[0]
            request = Request(method, path, environ.get("QUERY_STRING", ""), headers)
            check_presigned(request, self.keys, datetime.now(UTC))
        elif any(name in ("AWSAccessKeyId", "Signature") for name, _ in pairs):
            raise Refusal(
                400,
                "InvalidRequest",
                "The authorization mechanism you have provided is not supported. "
                "Please use AWS4-HMAC-SHA256.",
            )
        elif method == "POST" and environ.get("CONTENT_TYPE", "").startswith("multipart/form-data"):
            check_post_policy(bucket_of(environ), read_form(environ), self.keys, datetime.now(UTC))
        else:
            raise Refusal(403, "AccessDenied", "Access Denied")


def read_form(environ: dict[str, Any]) -> Form:
    """A form upload's fields and file size, parsed once per request; the body stays readable."""
    form = environ.get(FORM_KEY)
    if form is None:
        body = environ["wsgi.input"].read(int(environ.get("CONTENT_LENGTH") or 0))
        _, fields, files = parse_form_data({**environ, "wsgi.input": io.BytesIO(body)})
        upload = files.get("file")
        size = None if upload is None else len(upload.read())
        form = Form(fields=dict(fields.items()), file_size=size)
        environ[FORM_KEY] = form
        environ["wsgi.input"] = io.BytesIO(body)
    return form


def bucket_of(environ: dict[str, Any]) -> str:
    return str(environ.get("PATH_INFO", "")).strip("/").split("/")[0]  # path-style addressing


def _drain(environ: dict[str, Any]) -> None:
    # S3 reads what it refuses; an unread body would be taken for the next request on the connection.
    stream = environ["wsgi.input"]
    if environ.get("wsgi.input_terminated"):  # chunked: the stream ends where the body does
        while stream.read(65536):
            pass
        return
    remaining = int(environ.get("CONTENT_LENGTH") or 0)
    while remaining > 0:
        chunk = stream.read(min(65536, remaining))
        if not chunk:
            break
        remaining -= len(chunk)


def _refuse(environ: dict[str, Any], start_response: StartResponse, refusal: Refusal) -> Iterable[bytes]:
    request_id = uuid.uuid4().hex[:16].upper()
    body = b"" if environ["REQUEST_METHOD"] == "HEAD" else error_document(refusal, request_id)
    headers = [
        ("Content-Type", "application/xml"),
        ("Content-Length", str(len(body))),
        ("x-amz-request-id", request_id),
        *_cors_headers(environ),
    ]
    start_response(f"{refusal.status} {HTTPStatus(refusal.status).phrase}", headers)
    return [body]


def _cors_headers(environ: dict[str, Any]) -> list[tuple[str, str]]:
    """S3 puts a matching CORS rule's headers on its errors too, so a browser can read why."""
    origin = environ.get("HTTP_ORIGIN")
    bucket = bucket_of(environ)
    if not origin or not bucket:
        return []
    try:
        rules = s3_backends[DEFAULT_ACCOUNT_ID]["global"].get_bucket(bucket).cors
    except MissingBucket:
        return []
    for rule in rules:
        if cors_matches_origin(origin, rule.allowed_origins or []):
            headers = [("Access-Control-Allow-Origin", origin), ("Vary", "Origin")]
            if rule.exposed_headers:
                headers.append(("Access-Control-Expose-Headers", ", ".join(rule.exposed_headers)))
            return headers
    return []
