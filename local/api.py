"""The Chalice app served over HTTP, as `chalice local` serves it (threaded, one request per thread)."""

from __future__ import annotations

import argparse
import functools
import json
import signal
import threading

from chalice.local import ChaliceRequestHandler, ForbiddenError, LocalGatewayException, create_local_server

from chalicelib.errors import error_body
from chalicelib.resources import UNKNOWN_ROUTE_MESSAGE, UNKNOWN_ROUTE_STATUS
from local.lambda_host import load_local_config


class GatewayRequestHandler(ChaliceRequestHandler):
    """Chalice's local gateway, with the gateway response the deployed API has for unknown paths."""

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
