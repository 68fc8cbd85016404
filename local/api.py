"""The Chalice app served over HTTP, as `chalice local` serves it (threaded, one request per thread).

Stopping it (Ctrl-C, SIGTERM) stops taking connections, then lets the requests under way finish:
a completion cut off between S3 and its recording would otherwise hold its upload for the lease.
"""

from __future__ import annotations

import argparse
import json
import signal
import sys
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from http.server import BaseHTTPRequestHandler
from typing import Any
from urllib.parse import parse_qs, unquote

from chalice.config import Config
from chalice.local import (
    ChaliceRequestHandler,
    CustomLocalChalice,
    ForbiddenError,
    LambdaEventConverter,
    LocalChalice,
    LocalDevServer,
    LocalGateway,
    LocalGatewayException,
    MatchResult,
    RouteMatcher,
    ThreadedHTTPServer,
)

from chalicelib.errors import error_body
from chalicelib.resources import UNKNOWN_ROUTE_MESSAGE, UNKNOWN_ROUTE_STATUS
from local.lambda_host import load_local_config

# How long a stop waits for requests under way; API Gateway would have given up on them at 29 s,
# and `make run` waits 30 s for the API to exit.
DRAIN_SECONDS = 25.0


class PathMatcher(RouteMatcher):
    """Chalice's route matcher, matching and capturing path segments as API Gateway does.

    Chalice splits the URL with `urlparse`, which cuts `;params` off the last segment, so
    `/iiif/3/x/full/max/0/;junk.jpg` became a 404 instead of the 400 the deployed API answers.
    And it compared and captured segments still percent-encoded, where API Gateway decodes path
    parameters (`%5Emax` is `^max`, `%2F` a slash within its segment; `+` stays a plus): Python
    `requests` encodes `^`, so every Python IIIF client's upscaled sizes were a 400 locally only.
    """

    def match_route(self, url: str) -> MatchResult:
        path, _, query = url.partition("?")
        if path != "/" and path.endswith("/"):
            path = path[:-1]  # as API Gateway, for every route but the root
        segments = [unquote(segment) for segment in path.split("/")]  # split first: %2F stays inside
        for route_url in self.route_urls:  # sorted: concrete segments before captures
            pattern = route_url.split("/")
            if len(pattern) != len(segments):
                continue
            captured = {}
            for segment, expected in zip(segments, pattern, strict=True):
                if expected.startswith("{") and expected.endswith("}"):
                    captured[expected[1:-1]] = segment
                elif segment != expected:
                    break
            else:
                return MatchResult(route_url, captured, parse_qs(query, keep_blank_values=True))
        raise ValueError(f"No matching route found for: {url}")


class Gateway(LocalGateway):
    def __init__(self, app_object: Any, config: Config) -> None:
        super().__init__(app_object, config)
        self.event_converter = LambdaEventConverter(
            PathMatcher(list(app_object.routes)), app_object.api.binary_types
        )


class Server(ThreadedHTTPServer):
    """Chalice's threaded server, counting the requests under way so a stop can wait for them."""

    # socketserver's default backlog of 5 reset connections when a few dozen clients arrived at once.
    request_queue_size = 128

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        self._under_way = 0
        self._changed = threading.Condition()
        super().__init__(*args, **kwargs)

    @contextmanager
    def request_under_way(self) -> Iterator[None]:
        with self._changed:
            self._under_way += 1
        try:
            yield
        finally:
            with self._changed:
                self._under_way -= 1
                self._changed.notify_all()

    def drain(self, timeout: float) -> int:
        """Wait until no request is under way, at most ``timeout`` seconds; how many still are."""
        with self._changed:
            self._changed.wait_for(lambda: self._under_way == 0, timeout)
            return self._under_way


class GatewayRequestHandler(ChaliceRequestHandler):
    """Chalice's local gateway, with API Gateway's paths and its response for unknown paths."""

    # Headers and body go out in separate writes: with Nagle's algorithm the body waits for the
    # client's delayed ACK, 40 ms on Linux, which API Gateway never adds.
    disable_nagle_algorithm = True

    def __init__(self, *args: Any, app_object: Any, config: Config) -> None:
        # The base class serves the request inside __init__, so the gateway must be ours before.
        self.local_gateway = Gateway(app_object, config)
        BaseHTTPRequestHandler.__init__(self, *args)

    def _generic_handle(self) -> None:
        # Only while a request is handled: a kept-alive connection waiting for its next one is idle.
        server: Server = self.server
        with server.request_under_way():
            super()._generic_handle()

    do_GET = do_PUT = do_POST = do_HEAD = do_DELETE = do_PATCH = do_OPTIONS = _generic_handle

    def _send_error_response(self, error: LocalGatewayException) -> None:
        # The local gateway raises ForbiddenError only when no route matches the path.
        if isinstance(error, ForbiddenError):
            body = json.dumps(error_body(UNKNOWN_ROUTE_STATUS, UNKNOWN_ROUTE_MESSAGE))
            self._send_http_response(UNKNOWN_ROUTE_STATUS, {"Content-Type": "application/json"}, body)
        else:
            super()._send_error_response(error)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--port", type=int, required=True)
    args = parser.parse_args()
    config = load_local_config()
    server = make_server(config.chalice_app, config, args.port)

    def shut_down(*_: object) -> None:
        # shutdown() blocks until serve_forever returns, so not from the serving thread.
        threading.Thread(target=server.shutdown).start()

    for sig in (signal.SIGINT, signal.SIGTERM):
        signal.signal(sig, shut_down)
    left = serve_until_stopped(server, DRAIN_SECONDS)
    if left:
        print(f"stopped with {left} requests still under way after {DRAIN_SECONDS:g} s", file=sys.stderr)


def make_server(app: Any, config: Config, port: int) -> LocalDevServer:
    # As chalice's create_local_server, which makes the app's current_request thread-local, with
    # our server and handler.
    CustomLocalChalice.__bases__ = (LocalChalice, app.__class__)
    app.__class__ = CustomLocalChalice
    return LocalDevServer(
        app, config, "127.0.0.1", port, handler_cls=GatewayRequestHandler, server_cls=Server
    )


def serve_until_stopped(server: LocalDevServer, drain_seconds: float) -> int:
    """Serve until ``server.shutdown()``, then take no connection more and let the requests under
    way finish; how many did not within ``drain_seconds``."""
    server.serve_forever()
    http: Server = server.server
    http.server_close()
    return http.drain(drain_seconds)


if __name__ == "__main__":
    main()
