"""The event pump: Lambda's SQS event source mappings and EventBridge's schedules, on the embedded AWS.

It long-polls each queue a Chalice ``@app.on_sqs_message`` handler consumes,
hands batches to the handler in the event shape Lambda delivers, deletes the
records that succeeded and, honouring a partial batch response
(``batchItemFailures``), leaves the failed ones to be received again; the
queue's redrive policy moves them to the dead-letter queue after its
``maxReceiveCount``, as in AWS.
"""

from __future__ import annotations

import argparse
import json
import os
import signal
import threading
import uuid
from collections.abc import Callable
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from chalice.local import LambdaContext

from chalicelib import aws
from chalicelib.observability import logger
from local.environment import state_dir

Handler = Callable[[dict[str, Any], Any], Any]


def lambda_event(messages: list[dict[str, Any]], queue_arn: str, region: str) -> dict[str, Any]:
    """The SQS event Lambda would build for these received messages."""
    return {
        "Records": [
            {
                "messageId": message["MessageId"],
                "receiptHandle": message["ReceiptHandle"],
                "body": message["Body"],
                "attributes": message.get("Attributes", {}),
                "messageAttributes": {
                    name: {
                        "stringValue": value.get("StringValue"),
                        "binaryValue": value.get("BinaryValue"),
                        "stringListValues": value.get("StringListValues", []),
                        "binaryListValues": value.get("BinaryListValues", []),
                        "dataType": value["DataType"],
                    }
                    for name, value in message.get("MessageAttributes", {}).items()
                },
                "md5OfBody": message["MD5OfBody"],
                "eventSource": "aws:sqs",
                "eventSourceARN": queue_arn,
                "awsRegion": region,
            }
            for message in messages
        ]
    }


def failed_message_ids(result: Any) -> set[str]:
    """The records a partial batch response reports as failed."""
    if not isinstance(result, dict):
        return set()
    return {str(item["itemIdentifier"]) for item in result.get("batchItemFailures", [])}


class EventPump:
    def __init__(
        self, queue_name: str, handler: Handler, batch_size: int, region: str, retry_delay_seconds: int = 2
    ) -> None:
        self.handler = handler
        self.batch_size = min(batch_size, 10)  # ReceiveMessage returns at most 10
        self.region = region
        self.retry_delay_seconds = retry_delay_seconds
        self.queue_url = aws.sqs().get_queue_url(QueueName=queue_name)["QueueUrl"]
        attributes = aws.sqs().get_queue_attributes(QueueUrl=self.queue_url, AttributeNames=["QueueArn"])
        self.queue_arn = attributes["Attributes"]["QueueArn"]

    def poll_once(self, wait_seconds: int = 1) -> int:
        """Receive one batch and deliver it; return how many messages it held."""
        messages: list[dict[str, Any]] = (
            aws.sqs()
            .receive_message(  # type: ignore[assignment]
                QueueUrl=self.queue_url,
                MaxNumberOfMessages=self.batch_size,
                WaitTimeSeconds=wait_seconds,
                MessageSystemAttributeNames=["All"],
                MessageAttributeNames=["All"],
            )
            .get("Messages", [])
        )
        if not messages:
            return 0
        context = LambdaContext(function_name="ingest", memory_size=1024, max_runtime_ms=300_000)
        try:
            failed = failed_message_ids(
                self.handler(lambda_event(messages, self.queue_arn, self.region), context)
            )
        except Exception:
            # An invocation error fails the whole batch, as in Lambda.
            logger.exception("SQS handler raised; the whole batch will be retried")
            failed = {message["MessageId"] for message in messages}
        done = [m for m in messages if m["MessageId"] not in failed]
        retry = [m for m in messages if m["MessageId"] in failed]
        if done:
            aws.sqs().delete_message_batch(
                QueueUrl=self.queue_url,
                Entries=[{"Id": str(i), "ReceiptHandle": m["ReceiptHandle"]} for i, m in enumerate(done)],
            )
        if retry:
            # Lambda waits out the queue's visibility timeout; locally a short delay keeps retries visible.
            aws.sqs().change_message_visibility_batch(
                QueueUrl=self.queue_url,
                Entries=[
                    {
                        "Id": str(i),
                        "ReceiptHandle": m["ReceiptHandle"],
                        "VisibilityTimeout": self.retry_delay_seconds,
                    }
                    for i, m in enumerate(retry)
                ],
            )
        return len(messages)

    def run(self, stop: threading.Event) -> None:
        while not stop.is_set():
            try:
                self.poll_once()
            except Exception:
                logger.exception("event pump could not poll %s", self.queue_url)
                stop.wait(1)


RATE_SECONDS = {"MINUTES": 60, "HOURS": 3600, "DAYS": 86_400}
SCHEDULES_FILE = "schedules.json"  # in the state directory: when each schedule last ran


class ScheduleLog:
    """When each scheduled handler last ran, kept with the stack's data: a stack restarted more
    often than a schedule's period still runs it when it is due."""

    def __init__(self, state: Path) -> None:
        self.path = state / SCHEDULES_FILE
        self.lock = threading.Lock()

    def last_run(self, name: str) -> datetime | None:
        with self.lock:
            when = self._read().get(name)
        return datetime.fromisoformat(when) if when else None

    def record(self, name: str, when: datetime) -> None:
        with self.lock:
            runs = {**self._read(), name: when.isoformat()}
            partial = self.path.with_suffix(".part")
            partial.write_text(json.dumps(runs))
            os.replace(partial, self.path)

    def _read(self) -> dict[str, str]:
        try:
            found = json.loads(self.path.read_text())
        except (OSError, ValueError):
            return {}
        return found if isinstance(found, dict) else {}


def due_in(last_run: datetime | None, every_seconds: float, now: datetime) -> float:
    """Seconds until a schedule is due: at once if it never ran or is overdue."""
    if last_run is None:
        return 0.0
    return max(0.0, (last_run - now).total_seconds() + every_seconds)


def scheduled_event(rule: str, region: str) -> dict[str, Any]:
    """The event EventBridge hands a scheduled Lambda."""
    return {
        "version": "0",
        "id": str(uuid.uuid4()),
        "detail-type": "Scheduled Event",
        "source": "aws.events",
        "account": "123456789012",
        "time": datetime.now(UTC).strftime("%Y-%m-%dT%H:%M:%SZ"),
        "region": region,
        "resources": [f"arn:aws:events:{region}:123456789012:rule/{rule}"],
        "detail": {},
    }


def run_scheduled(name: str, handler: Handler, region: str, log: ScheduleLog) -> None:
    """Call a scheduled handler once, as EventBridge would, and note when."""
    log.record(name, datetime.now(UTC))
    try:
        handler(scheduled_event(name, region), LambdaContext(function_name=name, memory_size=1024))
    except Exception:
        logger.exception("scheduled handler %s raised", name)


def run_schedule(
    name: str, handler: Handler, every_seconds: float, region: str, stop: threading.Event, log: ScheduleLog
) -> None:
    """Call a scheduled handler at its rate, from when it last ran, until stopped."""
    wait = due_in(log.last_run(name), every_seconds, datetime.now(UTC))
    while not stop.wait(wait):
        run_scheduled(name, handler, region, log)
        wait = every_seconds


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument(
        "--retry-delay", type=int, default=2, help="seconds before a failed message is retried"
    )
    args = parser.parse_args()

    from chalice.app import Rate, ScheduledEventConfig, SQSEventConfig

    from local.lambda_host import app_module, load_local_config

    config = load_local_config()
    chalice_app = config.chalice_app  # imports the app module
    module = app_module()
    settings = module.settings
    stop = threading.Event()
    for sig in (signal.SIGINT, signal.SIGTERM):
        signal.signal(sig, lambda *_: stop.set())
    threads = []
    log = ScheduleLog(state_dir())
    for source in chalice_app.event_sources:
        if isinstance(source, ScheduledEventConfig) and isinstance(source.schedule_expression, Rate):
            rate = source.schedule_expression
            every = rate.value * RATE_SECONDS[rate.unit]
            thread = threading.Thread(
                target=run_schedule,
                args=(source.name, getattr(module, source.name), every, settings.region, stop, log),
                name=f"schedule-{source.name}",
            )
            thread.start()
            threads.append(thread)
        if isinstance(source, SQSEventConfig) and source.queue:
            pump = EventPump(
                source.queue,
                getattr(module, source.name),
                source.batch_size,
                settings.region,
                args.retry_delay,
            )
            thread = threading.Thread(target=pump.run, args=(stop,), name=f"pump-{source.queue}")
            thread.start()
            threads.append(thread)
    print(f"event pump running {len(threads)} queue poller(s) and schedule(s)", flush=True)
    for thread in threads:
        thread.join()


if __name__ == "__main__":
    main()
