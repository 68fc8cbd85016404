"""S3 notifications flow to the app's SQS handler through the event pump, as Lambda would deliver them."""

from __future__ import annotations

import logging

import pytest

from chalicelib import aws
from chalicelib.resources import INGEST_MAX_RECEIVE_COUNT
from chalicelib.settings import Settings
from local.pump import EventPump


def _queue_depth(queue_name: str) -> int:
    url = aws.sqs().get_queue_url(QueueName=queue_name)["QueueUrl"]
    attributes = aws.sqs().get_queue_attributes(
        QueueUrl=url, AttributeNames=["ApproximateNumberOfMessages", "ApproximateNumberOfMessagesNotVisible"]
    )["Attributes"]
    return int(attributes["ApproximateNumberOfMessages"]) + int(
        attributes["ApproximateNumberOfMessagesNotVisible"]
    )


def _drain(pump: EventPump) -> None:
    while pump.poll_once(wait_seconds=0):
        pass


def test_a_new_data_object_reaches_the_ingest_handler_and_its_message_is_deleted(
    moto_aws: Settings, pump: EventPump, caplog: pytest.LogCaptureFixture
) -> None:
    _drain(pump)  # the notification configuration's s3:TestEvent, if any
    aws.s3().put_object(Bucket=moto_aws.data_bucket, Key="data/a b+c/ü.txt", Body=b"hello")

    with caplog.at_level(logging.INFO, logger="vellum"):
        _drain(pump)

    landed = [r for r in caplog.records if r.getMessage() == "object landed"]
    assert [(r.key, r.size) for r in landed] == [("data/a b+c/ü.txt", 5)]  # type: ignore[attr-defined]
    assert _queue_depth(moto_aws.ingest_queue) == 0


def test_objects_outside_the_data_prefix_are_not_announced(moto_aws: Settings, pump: EventPump) -> None:
    _drain(pump)
    aws.s3().put_object(Bucket=moto_aws.data_bucket, Key="derivatives/thumb.jpg", Body=b"x")

    assert pump.poll_once(wait_seconds=0) == 0


def test_a_message_that_always_fails_ends_in_the_dead_letter_queue_without_holding_back_others(
    moto_aws: Settings, pump: EventPump, caplog: pytest.LogCaptureFixture
) -> None:
    _drain(pump)
    url = aws.sqs().get_queue_url(QueueName=moto_aws.ingest_queue)["QueueUrl"]
    aws.sqs().send_message(QueueUrl=url, MessageBody="this is not an S3 notification")
    aws.s3().put_object(Bucket=moto_aws.data_bucket, Key="data/good", Body=b"ok")

    with caplog.at_level(logging.INFO, logger="vellum"):
        for _ in range(INGEST_MAX_RECEIVE_COUNT + 1):
            pump.poll_once(wait_seconds=0)

    assert [r.key for r in caplog.records if r.getMessage() == "object landed"] == ["data/good"]  # type: ignore[attr-defined]
    assert _queue_depth(moto_aws.ingest_queue) == 0
    dlq_url = aws.sqs().get_queue_url(QueueName=moto_aws.ingest_dlq)["QueueUrl"]
    [dead] = aws.sqs().receive_message(QueueUrl=dlq_url)["Messages"]
    assert dead["Body"] == "this is not an S3 notification"
