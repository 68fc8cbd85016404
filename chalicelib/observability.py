"""Powertools logger, metrics and tracer, one of each per container.

They are configured by Powertools' own variables (POWERTOOLS_SERVICE_NAME,
POWERTOOLS_METRICS_NAMESPACE, POWERTOOLS_TRACE_DISABLED, POWERTOOLS_METRICS_DISABLED,
POWERTOOLS_LOG_LEVEL), set by `.chalice/config.json` and the IaC. The logger's
service name is also the Chalice app's name, so Chalice's own log lines come out
through the same JSON formatter.
"""

from __future__ import annotations

from aws_lambda_powertools import Logger, Metrics, Tracer

SERVICE = "vellum"

logger = Logger(service=SERVICE)
metrics = Metrics(service=SERVICE)
tracer = Tracer(service=SERVICE)


def flush_metrics() -> None:
    """Publish the metrics recorded since the last flush, if any (Powertools warns on an empty flush)."""
    if metrics.metric_set:
        metrics.flush_metrics()
