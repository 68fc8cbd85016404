"""Vellum's Chalice app. It only wires: every behaviour lives in chalicelib."""

from __future__ import annotations

from aws_lambda_powertools.utilities.batch.types import PartialItemFailureResponse
from chalice.app import CloudWatchEvent, Rate, SQSEvent

from chalicelib.api import VellumChalice
from chalicelib.auth.routes import blueprint as auth_routes
from chalicelib.console.routes import blueprint as console_routes
from chalicelib.files import jobs
from chalicelib.files.companion import blueprint as companion_routes
from chalicelib.files.routes import blueprint as files_routes
from chalicelib.health.routes import blueprint as health_routes
from chalicelib.iiif.auth_routes import blueprint as iiif_auth_routes
from chalicelib.iiif.routes import blueprint as iiif_routes
from chalicelib.ingest.handler import handle_batch
from chalicelib.middleware import handle_http
from chalicelib.observability import SERVICE
from chalicelib.previews.routes import blueprint as static_routes
from chalicelib.records.routes import blueprint as records_routes
from chalicelib.settings import get_settings

# Fails here, at cold start, with a message naming any missing or malformed variable.
settings = get_settings()

# configure_logs=False: the Powertools logger (same name) formats Chalice's log lines too.
app = VellumChalice(app_name=SERVICE, configure_logs=False)
# Every response may be binary (IIIF images whatever the client's Accept): API Gateway then passes
# bodies through as Chalice encodes them, and JSON stays JSON.
app.api.binary_types = ["*/*"]
app.register_middleware(handle_http, "http")
app.register_blueprint(health_routes)
app.register_blueprint(auth_routes)
app.register_blueprint(files_routes)
app.register_blueprint(companion_routes)
app.register_blueprint(iiif_routes)
app.register_blueprint(iiif_auth_routes)
app.register_blueprint(records_routes)
app.register_blueprint(static_routes)
app.register_blueprint(console_routes)


@app.on_sqs_message(queue=settings.ingest_queue, batch_size=10)
def ingest(event: SQSEvent) -> PartialItemFailureResponse:
    return handle_batch(event.to_dict(), event.context)


@app.schedule(Rate(1, unit=Rate.HOURS))
def housekeeping(event: CloudWatchEvent) -> None:
    jobs.housekeeping()


@app.schedule(Rate(10, unit=Rate.MINUTES))
def monitor_integrity(event: CloudWatchEvent) -> None:
    jobs.monitor_integrity()
