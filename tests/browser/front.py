"""A same-origin front for the browser tests: a stand-in for CloudFront in front of API Gateway.

It serves the test page and the stock Uppy bundles itself and forwards every other request to the API
unchanged (method, path, query, body, headers, cookies both ways; redirects are passed back, not
followed). Page and API then share one origin, which Uppy 6's cookie authentication needs. Presigned
URLs still point at the embedded S3 on its own port, so the browser's uploads to S3 stay cross-origin,
as they are in production.
"""

from __future__ import annotations

import http.client
import threading
from dataclasses import dataclass
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from urllib.parse import urlsplit

HERE = Path(__file__).resolve().parent
PAGE = HERE / "uppy.html"
BUNDLES = {"uppy5": HERE / "node_modules/uppy5/dist", "uppy6": HERE / "node_modules/uppy6/dist"}
CONTENT_TYPES = {
    ".mjs": "text/javascript",
    ".js": "text/javascript",
    ".css": "text/css",
    ".map": "application/json",
    ".html": "text/html; charset=utf-8",
}
# RFC 9110 section 7.6.1: connection-specific fields end at each hop.
HOP_BY_HOP = {
    "connection",
    "keep-alive",
    "proxy-authenticate",
    "proxy-authorization",
    "te",
    "trailer",
    "transfer-encoding",
    "upgrade",
}
FORWARD_TIMEOUT_SECONDS = 60
BODY_EXCERPT = 600


@dataclass(frozen=True)
class Exchange:
    """One request the front forwarded to the API, and what came back."""

    method: str
    path: str
    status: int
    request_body: bytes
    response_body: bytes
    response_headers: tuple[tuple[str, str], ...]

    def __str__(self) -> str:
        line = f"{self.method} {self.path} -> {self.status}"
        if self.request_body:
            line += f"\n    sent: {self.request_body[:BODY_EXCERPT]!r}"
        if self.response_body:
            line += f"\n    got:  {self.response_body[:BODY_EXCERPT]!r}"
        return line


class Front:
    def __init__(self, api: str) -> None:
        parts = urlsplit(api)
        assert parts.hostname and parts.port, api
        self.api_host, self.api_port = parts.hostname, parts.port
        self.exchanges: list[Exchange] = []
        self._lock = threading.Lock()
        self._server = ThreadingHTTPServer(("127.0.0.1", 0), self._handler_class())
        self._server.daemon_threads = True
        self.origin = f"http://127.0.0.1:{self._server.server_address[1]}"
        self._thread = threading.Thread(target=self._server.serve_forever, name="front", daemon=True)

    def start(self) -> None:
        self._thread.start()

    def stop(self) -> None:
        self._server.shutdown()
        self._server.server_close()
        self._thread.join(timeout=10)

    def exchanges_since(self, mark: int) -> list[Exchange]:
        with self._lock:
            return self.exchanges[mark:]

    def mark(self) -> int:
        with self._lock:
            return len(self.exchanges)

    def _record(self, exchange: Exchange) -> None:
        with self._lock:
            self.exchanges.append(exchange)

    def _handler_class(self) -> type[BaseHTTPRequestHandler]:
        front = self

        class Handler(BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"  # keep-alive: every answer carries Content-Length

            def log_message(self, format: str, *args: object) -> None:
                pass  # the exchanges are kept for failure messages instead

            def handle_one(self) -> None:
                static = front._static_file(self.path)
                if static is not None:
                    self._send_file(static)
                else:
                    self._forward()

            do_GET = do_HEAD = do_POST = do_PUT = do_PATCH = do_DELETE = do_OPTIONS = handle_one

            def _send_file(self, path: Path) -> None:
                body = path.read_bytes()
                self.send_response(200)
                self.send_header("Content-Type", CONTENT_TYPES.get(path.suffix, "application/octet-stream"))
                self.send_header("Content-Length", str(len(body)))
                self.send_header("Cache-Control", "no-store")
                self.end_headers()
                if self.command != "HEAD":
                    self.wfile.write(body)

            def _forward(self) -> None:
                length = int(self.headers.get("Content-Length") or 0)
                body = self.rfile.read(length) if length else b""
                headers = {
                    name: value for name, value in self.headers.items() if name.lower() not in HOP_BY_HOP
                }
                headers["X-Forwarded-For"] = self.client_address[0]
                headers["X-Forwarded-Proto"] = "http"
                connection = http.client.HTTPConnection(
                    front.api_host, front.api_port, timeout=FORWARD_TIMEOUT_SECONDS
                )
                try:
                    # Host goes through as the browser sent it, so the API's links name the front.
                    connection.request(self.command, self.path, body=body or None, headers=headers)
                    response = connection.getresponse()
                    answer = response.read()
                    answer_headers = response.getheaders()  # repeated fields (Set-Cookie) stay apart
                    status, reason = response.status, response.reason
                except OSError as error:
                    status, reason, answer_headers = 502, "Bad Gateway", [("Content-Type", "text/plain")]
                    answer = f"the front could not reach the API: {error}".encode()
                finally:
                    connection.close()
                front._record(Exchange(self.command, self.path, status, body, answer, tuple(answer_headers)))
                self.send_response(status, reason)
                for name, value in answer_headers:
                    # send_response wrote Server and Date already; the length is set below.
                    if name.lower() not in HOP_BY_HOP | {"content-length", "server", "date"}:
                        self.send_header(name, value)
                self.send_header("Content-Length", str(len(answer)))
                self.end_headers()
                if self.command != "HEAD":
                    self.wfile.write(answer)

        return Handler

    @staticmethod
    def _static_file(raw_path: str) -> Path | None:
        path = urlsplit(raw_path).path
        if path == "/":
            return PAGE
        top, _, name = path.lstrip("/").partition("/")
        if top in BUNDLES and name.startswith("uppy.") and "/" not in name:
            candidate = BUNDLES[top] / name
            return candidate if candidate.is_file() else None
        return None
