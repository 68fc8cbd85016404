"""The embedded AWS: moto in server mode on loopback, provisioned like the IaC, with its data kept on disk.

Run by `local.run`; stop it with SIGINT or SIGTERM, which saves a last snapshot.
"""

from __future__ import annotations

import argparse
import logging
import signal
import threading
from pathlib import Path

from moto.moto_server.werkzeug_app import DomainDispatcherApplication, MotoRequestHandler, create_backend_app
from werkzeug.serving import make_server

from chalicelib.settings import Settings, load_settings
from local import provision, snapshot
from local.atomic_dynamodb import make_dynamodb_writes_atomic
from local.form_uploads import FormUploadAnswers

AUTOSAVE_SECONDS = 10
READY_FILE = "aws.ready"


class RequestHandler(MotoRequestHandler):
    # Werkzeug writes headers and body separately: without this each answer can wait 40 ms for
    # the client's delayed ACK (Nagle's algorithm), a delay S3 and DynamoDB do not have.
    disable_nagle_algorithm = True


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--port", type=int, required=True)
    parser.add_argument("--state", type=Path, required=True)
    args = parser.parse_args()

    stop = threading.Event()
    for sig in (signal.SIGINT, signal.SIGTERM):
        signal.signal(sig, lambda *_: stop.set())

    logging.getLogger("werkzeug").setLevel(logging.WARNING)  # one line per request drowns the app's logs
    ready = args.state / READY_FILE
    ready.unlink(missing_ok=True)
    make_dynamodb_writes_atomic()
    app = FormUploadAnswers(DomainDispatcherApplication(create_backend_app))
    server = make_server("127.0.0.1", args.port, app, threaded=True, request_handler=RequestHandler)
    threading.Thread(target=server.serve_forever, name="moto", daemon=True).start()
    settings = load_settings()
    snapshots = args.state / "aws"
    try:
        provision.create_tables(settings)
        queue_arn = provision.create_queues(settings)
        provision.create_data_bucket(settings)
        # Restore before S3 notifications are on, so old objects are not ingested again.
        restored = snapshot.restore(settings, snapshots)
        provision.connect_notifications(settings, queue_arn)
        print(f"embedded AWS ready on http://127.0.0.1:{args.port} ({restored} items restored)", flush=True)
        ready.write_text(str(args.port))
        while not stop.wait(AUTOSAVE_SECONDS):
            _autosave(settings, snapshots)
        snapshot.save(settings, snapshots)
    finally:
        ready.unlink(missing_ok=True)
        server.shutdown()


def _autosave(settings: Settings, snapshots: Path) -> None:
    # One failed save must not stop the embedded AWS or its later saves: the next one retries.
    try:
        snapshot.save(settings, snapshots)
    except Exception:
        logging.getLogger(__name__).exception("autosave failed; the previous snapshot stands")


if __name__ == "__main__":
    main()
