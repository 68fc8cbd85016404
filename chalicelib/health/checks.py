"""Is each AWS service Vellum depends on reachable, with the resources it expects?"""

from __future__ import annotations

from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor

from botocore.exceptions import BotoCoreError, ClientError

from chalicelib import aws
from chalicelib.observability import logger, tracer
from chalicelib.resources import TABLES
from chalicelib.settings import get_settings

OK = "ok"


def _probe_s3() -> None:
    aws.s3().head_bucket(Bucket=get_settings().data_bucket)


def _probe_dynamodb() -> None:
    settings = get_settings()
    for table in TABLES:
        aws.dynamodb().describe_table(TableName=getattr(settings, table.setting))


def _probe_sqs() -> None:
    settings = get_settings()
    for queue in (settings.ingest_queue, settings.ingest_dlq):
        aws.sqs().get_queue_url(QueueName=queue)


PROBES: dict[str, Callable[[], None]] = {"s3": _probe_s3, "dynamodb": _probe_dynamodb, "sqs": _probe_sqs}


def _run(name: str, probe: Callable[[], None]) -> str:
    try:
        probe()
    except ClientError as exc:
        code = exc.response.get("Error", {}).get("Code", "unknown")
        logger.warning("health probe failed", extra={"component": name, "error": str(exc)})
        return f"{name} answered with error {code}."
    except BotoCoreError as exc:
        logger.warning("health probe failed", extra={"component": name, "error": str(exc)})
        return f"{name} cannot be reached."
    return OK


@tracer.capture_method
def check_components() -> dict[str, str]:
    """Each component's state: "ok" or a sentence saying what is wrong."""
    # In parallel, so one dependency timing out does not add up with the others.
    with ThreadPoolExecutor(max_workers=len(PROBES)) as pool:
        futures = {name: pool.submit(_run, name, probe) for name, probe in PROBES.items()}
        return {name: future.result() for name, future in futures.items()}
