from __future__ import annotations

import json
from typing import Any

import pytest

from chalicelib.ingest.events import (
    LandedObject,
    MalformedEvent,
    PagesDue,
    PublicAccessNarrowed,
    RecordedFile,
    ingest_requests,
    landed_objects,
)


def s3_notification(key: str, event_name: str = "ObjectCreated:Put") -> dict[str, Any]:
    # The shape moto sends: no userIdentity, requestParameters, responseElements or sequencer.
    return {
        "Records": [
            {
                "eventVersion": "2.1",
                "eventSource": "aws:s3",
                "awsRegion": "us-east-1",
                "eventTime": "2026-11-28T12:00:00.000Z",
                "eventName": event_name,
                "s3": {
                    "s3SchemaVersion": "1.0",
                    "configurationId": "ingest-new-objects",
                    "bucket": {"name": "vellum-local-data", "arn": "arn:aws:s3:::vellum-local-data"},
                    "object": {"key": key, "size": 42, "eTag": "abc123"},
                },
            }
        ]
    }


def test_keys_are_decoded_from_their_form_encoding() -> None:
    # "+" is a space; "%2B" a literal plus; "%2F" a slash (moto encodes even that).
    body = json.dumps(s3_notification("data%2Fmy+file%2B1%25+%C3%BC.txt"))

    assert landed_objects(body) == [
        LandedObject(
            bucket="vellum-local-data",
            key="data/my file+1% ü.txt",
            size=42,
            etag="abc123",
            event_name="ObjectCreated:Put",
        )
    ]


def test_the_test_event_s3_sends_when_notifications_are_configured_announces_nothing() -> None:
    body = json.dumps({"Service": "Amazon S3", "Event": "s3:TestEvent", "Bucket": "vellum-local-data"})

    assert landed_objects(body) == []


def test_events_other_than_object_creation_announce_nothing() -> None:
    assert landed_objects(json.dumps(s3_notification("data/x", "ObjectRemoved:Delete"))) == []


@pytest.mark.parametrize(
    "body",
    [
        "not json",
        "[1, 2]",
        json.dumps({"Records": "nope"}),
        json.dumps({"Records": [{"eventName": "ObjectCreated:Put"}]}),
    ],
)
def test_a_message_that_is_not_an_s3_notification_is_malformed(body: str) -> None:
    with pytest.raises(MalformedEvent):
        landed_objects(body)


def test_a_notice_of_a_recorded_file_asks_for_that_file() -> None:
    body = json.dumps({"type": "vellum:file-recorded", "file_id": "f-1"})

    assert ingest_requests(body) == [RecordedFile("f-1")]


def test_a_notice_without_a_file_id_is_malformed() -> None:
    with pytest.raises(MalformedEvent):
        ingest_requests(json.dumps({"type": "vellum:file-recorded"}))


VERSION = "019ad5c3b2e1" + "ab" * 10


@pytest.mark.parametrize(("version_ids", "expected"), [([VERSION], (VERSION,)), (None, None)])
def test_a_notice_of_narrowed_access_names_the_versions_or_all(
    version_ids: list[str] | None, expected: tuple[str, ...] | None
) -> None:
    body = json.dumps(
        {"type": "vellum:public-access-narrowed", "bucket_id": "b-1", "version_ids": version_ids}
    )

    assert ingest_requests(body) == [PublicAccessNarrowed("b-1", expected)]


@pytest.mark.parametrize(
    "notice",
    [
        {"version_ids": [VERSION]},  # no bucket
        {"bucket_id": "b-1", "version_ids": VERSION},  # not a list
        {"bucket_id": "b-1", "version_ids": ["*"]},  # would invalidate everything
        {"bucket_id": "b-1", "version_ids": [f"{VERSION}/../../*"]},
        {"bucket_id": "b-1", "version_ids": [VERSION.upper()]},
    ],
)
def test_a_notice_of_narrowed_access_names_only_version_ids_vellum_makes(notice: dict[str, Any]) -> None:
    with pytest.raises(MalformedEvent):
        ingest_requests(json.dumps({"type": "vellum:public-access-narrowed", **notice}))


def test_s3_notifications_pass_through_as_landed_objects() -> None:
    [landed] = ingest_requests(json.dumps(s3_notification("data%2Fx")))

    assert isinstance(landed, LandedObject)
    assert landed.key == "data/x"


def test_a_notice_of_pages_due_asks_for_that_batch() -> None:
    body = json.dumps({"type": "vellum:pages-due", "file_id": "f-1", "first": 21, "last": 40})

    assert ingest_requests(body) == [PagesDue("f-1", 21, 40)]


@pytest.mark.parametrize(
    "notice",
    [
        {"first": 1, "last": 2},  # no file
        {"file_id": "f-1", "first": 0, "last": 2},  # pages count from 1
        {"file_id": "f-1", "first": 3, "last": 2},
        {"file_id": "f-1", "first": "1", "last": 2},
        {"file_id": "f-1", "first": True, "last": 2},
        {"file_id": "f-1", "first": 1, "last": 1_000},  # more than a batch may hold
    ],
)
def test_a_notice_of_pages_due_names_a_file_and_a_batch_in_order(notice: dict[str, Any]) -> None:
    with pytest.raises(MalformedEvent):
        ingest_requests(json.dumps({"type": "vellum:pages-due", **notice}))
