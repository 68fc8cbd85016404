"""The Chalice app served over HTTP, as `chalice local` serves it (threaded, one request per thread)."""

from __future__ import annotations

import argparse
import signal
import threading

from chalice.local import create_local_server

from local.lambda_host import load_local_config


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--port", type=int, required=True)
    args = parser.parse_args()
    config = load_local_config()
    server = create_local_server(config.chalice_app, config, "127.0.0.1", args.port)

    def shut_down(*_: object) -> None:
        # shutdown() blocks until serve_forever returns, so not from the serving thread.
        threading.Thread(target=server.shutdown).start()

    for sig in (signal.SIGINT, signal.SIGTERM):
        signal.signal(sig, shut_down)
    server.serve_forever()


if __name__ == "__main__":
    main()
