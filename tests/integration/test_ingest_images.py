"""Ingest describes what lands: the real type from the bytes, and an image's facts."""

from __future__ import annotations

import io
from typing import Any

import pytest
from chalice.test import Client
from PIL import Image

from chalicelib import aws
from chalicelib.resources import INGEST_MAX_RECEIVE_COUNT
from tests.helpers import call, complete, drain, initiate, land, new_bucket, object_path, png, put


def test_an_image_is_recognised_by_its_bytes_and_its_size_recorded(api: Client, pump: Any) -> None:
    bucket = new_bucket(api)
    drain(pump)

    described = land(api, pump, bucket, "photo.dat", png(300, 200))

    assert described["ingest"] == {
        "state": "done",
        "type": "image/png",
        "image": {"width": 300, "height": 200},
        "thumbnail": [256, 171],  # ingest made thumbnails of it
    }


def test_a_corrupt_image_is_a_failed_ingest_with_a_reason(api: Client, pump: Any) -> None:
    bucket = new_bucket(api)
    drain(pump)

    described = land(api, pump, bucket, "broken.png", b"\x89PNG\r\n\x1a\n" + b"\x00" * 64)

    assert described["ingest"]["state"] == "failed"
    assert described["ingest"]["reason"].startswith("the image cannot be read")


def test_a_file_that_is_not_an_image_is_described_and_done(api: Client, pump: Any) -> None:
    bucket = new_bucket(api)
    drain(pump)

    described = land(api, pump, bucket, "notes.txt", b"just words")

    assert described["ingest"] == {"state": "done", "type": "application/octet-stream"}


def test_a_file_ingest_keeps_failing_on_lands_in_the_dlq_with_the_failure_recorded(
    api: Client,
    pump: Any,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    from chalicelib.ingest import handler

    def broken(file_id: str) -> None:
        raise RuntimeError("the disk is on fire")

    monkeypatch.setattr(handler, "identify_file", broken)
    bucket = new_bucket(api)
    drain(pump)
    upload = initiate(api, bucket, 3, key="doomed.bin")
    put(upload["parts"][0], b"abc")
    complete(api, bucket, upload["id"], key="doomed.bin")

    for _ in range(INGEST_MAX_RECEIVE_COUNT + 1):
        pump.poll_once(wait_seconds=0)

    described = call(api, "get", f"{object_path(bucket, 'doomed.bin')}?meta")[1]
    # What went wrong is in the log; the file, which others may read, says only that it failed.
    assert described["ingest"] == {"state": "failed", "reason": "ingest failed 5 times"}
    dlq = aws.sqs().get_queue_url(QueueName="vellum-local-ingest-dlq")["QueueUrl"]
    assert len(aws.sqs().receive_message(QueueUrl=dlq, MaxNumberOfMessages=10).get("Messages", [])) == 1


def test_an_image_whose_header_reads_but_whose_pixels_do_not_fails_once(api: Client, pump: Any) -> None:
    bucket = new_bucket(api)
    drain(pump)
    gif = io.BytesIO()
    Image.new("P", (64, 64), 3).save(gif, format="GIF")
    polyglot = gif.getvalue()[:40] + b"<script>alert(1)</script>"  # the header, then no image data

    described = land(api, pump, bucket, "poly.gif", polyglot)

    assert described["ingest"]["state"] == "failed"
    assert described["ingest"]["reason"] == "the image cannot be decoded: its data is damaged or not an image"
    dlq = aws.sqs().get_queue_url(QueueName="vellum-local-ingest-dlq")["QueueUrl"]
    assert aws.sqs().receive_message(QueueUrl=dlq).get("Messages", []) == []  # not retried to death


def test_a_reason_never_carries_pillows_own_words(api: Client, pump: Any) -> None:
    bucket = new_bucket(api)
    drain(pump)

    described = land(api, pump, bucket, "broken.png", b"\x89PNG\r\n\x1a\n" + b"\x00" * 64)

    assert described["ingest"]["reason"] == "the image cannot be read: its header is damaged or not an image"
