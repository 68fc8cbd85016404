"""The embedded AWS: moto in server mode on loopback, provisioned like the IaC, with its data kept on disk.

Run by `local.run`; stop it with SIGINT or SIGTERM. Every write it answers is journaled to disk
first (`local.journal`), so even `kill -9` loses nothing it acknowledged.
"""

from __future__ import annotations

import argparse
import logging
import os
import signal
import threading
from pathlib import Path

from moto.moto_server.werkzeug_app import DomainDispatcherApplication, MotoRequestHandler, create_backend_app
from werkzeug.serving import make_server

from chalicelib.settings import load_settings
from local import journal, provision, snapshot
from local.atomic_dynamodb import make_dynamodb_writes_atomic
from local.form_uploads import FormUploadAnswers
from local.s3_auth import Keys
from local.s3_gate import SignatureGate

CHECKPOINT_SECONDS = 30  # how often the journal is folded into the snapshot (the next start folds the rest)
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
    settings = load_settings()
    # The stack's processes sign with the credentials they were started with (local.environment).
    keys = Keys({os.environ["AWS_ACCESS_KEY_ID"]: os.environ["AWS_SECRET_ACCESS_KEY"]}, settings.region)
    app = SignatureGate(FormUploadAnswers(DomainDispatcherApplication(create_backend_app)), keys)
    server = make_server("127.0.0.1", args.port, app, threaded=True, request_handler=RequestHandler)
    threading.Thread(target=server.serve_forever, name="moto", daemon=True).start()
    snapshots = args.state / "aws"
    try:
        provision.create_tables(settings)
        queue_arn = provision.create_queues(settings)
        provision.create_data_bucket(settings)
        # Restore before S3 notifications are on, so old objects are not ingested again.
        state = snapshot.restore(settings, snapshots)
        provision.connect_notifications(settings, queue_arn)
        writes = journal.Journal(snapshots, after=state.folded_through)
        journal.start(writes)
        print(
            f"embedded AWS ready on http://127.0.0.1:{args.port} ({state.size()} items restored)", flush=True
        )
        ready.write_text(str(args.port))
        while not stop.wait(CHECKPOINT_SECONDS):
            _checkpoint(state, snapshots, writes)
        _checkpoint(state, snapshots, writes)
    finally:
        ready.unlink(missing_ok=True)
        server.shutdown()


def _checkpoint(state: snapshot.State, snapshots: Path, writes: journal.Journal) -> None:
    # The journal already holds every write: a failed checkpoint costs only a longer next start.
    try:
        snapshot.checkpoint(state, snapshots, writes)
    except Exception:
        logging.getLogger(__name__).exception("checkpoint failed; the journal keeps every write")


if __name__ == "__main__":
    main()
