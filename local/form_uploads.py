"""What moto's server leaves out of S3's answer to a browser form upload (POST Object).

S3 answers a successful form upload with the object's ETag and Location headers, and lets the
browser read them when the bucket's CORS rules expose them; moto 5.2 sends neither header nor the
bucket's exposed headers, and Uppy 5 waits for the ETag forever. This WSGI middleware, in front of
moto, adds them from moto's own records, so browsers meet the embedded S3 as they would meet S3.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from typing import Any
from urllib.parse import quote

from moto.core.models import DEFAULT_ACCOUNT_ID
from moto.s3.models import s3_backends

from local.s3_gate import bucket_of, read_form

StartResponse = Callable[..., Any]


class FormUploadAnswers:
    def __init__(self, app: Callable[[dict[str, Any], StartResponse], Iterable[bytes]]) -> None:
        self.app = app

    def __call__(self, environ: dict[str, Any], start_response: StartResponse) -> Iterable[bytes]:
        content_type = environ.get("CONTENT_TYPE", "")
        if environ.get("REQUEST_METHOD") != "POST" or not content_type.startswith("multipart/form-data"):
            return self.app(environ, start_response)
        key = read_form(environ).fields.get("key")
        bucket = bucket_of(environ)

        def respond(status: str, headers: list[tuple[str, str]], exc_info: Any = None) -> Any:
            if status.startswith("2") and key and bucket:
                backend = s3_backends[DEFAULT_ACCOUNT_ID]["global"]
                stored = backend.get_object(bucket, key)
                if stored is not None:
                    host = environ.get("HTTP_HOST", "127.0.0.1")
                    headers = [
                        *headers,
                        ("ETag", stored.etag),
                        ("Location", f"http://{host}/{bucket}/{quote(key)}"),
                    ]
                    exposed = [
                        name
                        for rule in backend.get_bucket(bucket).cors
                        for name in rule.exposed_headers or []
                    ]
                    if exposed and environ.get("HTTP_ORIGIN"):
                        headers.append(("Access-Control-Expose-Headers", ", ".join(exposed)))
            return start_response(status, headers, exc_info)

        return self.app(environ, respond)
