"""The Chalice app served over HTTP, as `chalice local` serves it (threaded, one request per thread)."""

from __future__ import annotations

import argparse
import functools
import json
import signal
import threading
from http.server import BaseHTTPRequestHandler
from typing import Any

from chalice.config import Config
from chalice.local import (
    ChaliceRequestHandler,
    ForbiddenError,
    LambdaEventConverter,
    LocalGateway,
    LocalGatewayException,
    MatchResult,
    RouteMatcher,
    create_local_server,
)

from chalicelib.errors import error_body
from chalicelib.resources import UNKNOWN_ROUTE_MESSAGE, UNKNOWN_ROUTE_STATUS
from local.lambda_host import load_local_config

# Never part of an HTTP request line, so it cannot collide with what a client sent.
_SEMICOLON = "\x00"


class PathMatcher(RouteMatcher):
    """Chalice's route matcher, keeping `;` in the path as API Gateway does.

    Chalice splits the URL with `urlparse`, which cuts `;params` off the last segment, so
    `/iiif/3/x/full/max/0/;junk.jpg` became a 404 instead of the 400 the deployed API answers.
    """

    def match_route(self, url: str) -> MatchResult:
        path, question, query = url.partition("?")
        match = super().match_route(path.replace(";", _SEMICOLON) + question + query)
        captured = {name: value.replace(_SEMICOLON, ";") for name, value in match.captured.items()}
        return match._replace(captured=captured)


class Gateway(LocalGateway):
    def __init__(self, app_object: Any, config: Config) -> None:
        super().__init__(app_object, config)
        self.event_converter = LambdaEventConverter(
            PathMatcher(list(app_object.routes)), app_object.api.binary_types
        )


class GatewayRequestHandler(ChaliceRequestHandler):
    """Chalice's local gateway, with API Gateway's paths and its response for unknown paths."""

    # Headers and body go out in separate writes: with Nagle's algorithm the body waits for the
    # client's delayed ACK, 40 ms on Linux, which API Gateway never adds.
    disable_nagle_algorithm = True

    def __init__(self, *args: Any, app_object: Any, config: Config) -> None:
        # The base class serves the request inside __init__, so the gateway must be ours before.
        self.local_gateway = Gateway(app_object, config)
        BaseHTTPRequestHandler.__init__(self, *args)

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
    app = config.chalice_app
    # Chalice's factory also makes the app's current_request thread-local; then our handler goes in.
    server = create_local_server(app, config, "127.0.0.1", args.port)
    server.server.RequestHandlerClass = functools.partial(
        GatewayRequestHandler, app_object=app, config=config
    )

    def shut_down(*_: object) -> None:
        # shutdown() blocks until serve_forever returns, so not from the serving thread.
        threading.Thread(target=server.shutdown).start()

    for sig in (signal.SIGINT, signal.SIGTERM):
        signal.signal(sig, shut_down)
    server.serve_forever()


if __name__ == "__main__":
    main()
