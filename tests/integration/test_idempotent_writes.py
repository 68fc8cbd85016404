"""A write that was applied and then retried (its answer lost) is applied once."""

from __future__ import annotations

import sys
import threading
from typing import Any

import pytest
from botocore.exceptions import ClientError
from chalice.test import Client

from chalicelib import aws
from chalicelib.files.keys import encode_key
from chalicelib.settings import Settings
from tests.helpers import (
    ALICE,
    bucket_counters,
    call,
    complete,
    drain,
    initiate,
    new_bucket,
    object_path,
    png,
    put,
    store,
    upload,
)

TABLE = "vellum-local-files"


def add_used(bucket: str, nbytes: int) -> dict[str, Any]:
    return {
        "Update": {
            "TableName": TABLE,
            "Key": {"pk": {"S": f"B#{bucket}"}, "sk": {"S": "#BUCKET"}},
            "UpdateExpression": "ADD used :n",
            "ExpressionAttributeValues": {":n": {"N": str(nbytes)}},
        }
    }


def test_the_embedded_dynamodb_applies_a_transaction_once_per_client_token(
    api: Client, moto_aws: Settings
) -> None:
    bucket = new_bucket(api)

    for _ in range(3):  # botocore sends the same token with each of its retries
        aws.dynamodb().transact_write_items(TransactItems=[add_used(bucket, 5)], ClientRequestToken="t-1")
    aws.dynamodb().transact_write_items(TransactItems=[add_used(bucket, 5)], ClientRequestToken="t-2")

    assert bucket_counters(bucket) == (0, 10)
    with pytest.raises(ClientError) as refused:
        aws.dynamodb().transact_write_items(TransactItems=[add_used(bucket, 7)], ClientRequestToken="t-1")
    assert refused.value.response["Error"]["Code"] == "IdempotentParameterMismatchException"
    assert bucket_counters(bucket) == (0, 10)


WRITES = {"PutItem", "UpdateItem", "DeleteItem", "TransactWriteItems"}


def test_a_read_of_the_embedded_dynamodb_never_sees_a_write_half_done(moto_aws: Settings) -> None:
    """moto applies an update's actions one by one: without the lock, a racing read saw a record
    published with its old revision (tests/integration/test_records.py, racing publishes)."""
    client = aws.dynamodb()
    key = {"pk": {"S": "B#torn"}, "sk": {"S": "#BUCKET"}}
    names = [f"a{n}" for n in range(30)]
    client.put_item(TableName=TABLE, Item={**key, **{name: {"N": "0"} for name in names}})
    torn: list[set[str]] = []
    stop = threading.Event()

    def read() -> None:
        while not stop.is_set():
            item = client.get_item(TableName=TABLE, Key=key, ConsistentRead=True)["Item"]
            seen = {item[name]["N"] for name in names}
            if len(seen) > 1:
                torn.append(seen)

    previous = sys.getswitchinterval()
    sys.setswitchinterval(1e-6)  # switch threads as often as possible: mid-update, if it can be
    reader = threading.Thread(target=read)
    reader.start()
    try:
        for value in range(1, 150):
            client.update_item(
                TableName=TABLE,
                Key=key,
                UpdateExpression="SET " + ", ".join(f"{name} = :v" for name in names),
                ExpressionAttributeValues={":v": {"N": str(value)}},
            )
    finally:
        stop.set()
        reader.join()
        sys.setswitchinterval(previous)
    assert torn == []


def test_the_embedded_dynamodb_undoes_every_write_of_a_cancelled_transaction(
    api: Client, moto_aws: Settings
) -> None:
    bucket = new_bucket(api)
    taken = {"pk": {"S": "taken"}, "sk": {"S": "item"}}
    aws.dynamodb().put_item(TableName=TABLE, Item=taken)
    refused = {"Put": {"TableName": TABLE, "Item": taken, "ConditionExpression": "attribute_not_exists(pk)"}}
    new = {"pk": {"S": "new"}, "sk": {"S": "item"}}
    created = {"Put": {"TableName": TABLE, "Item": new}}

    with pytest.raises(ClientError) as cancelled:
        aws.dynamodb().transact_write_items(TransactItems=[add_used(bucket, 5), created, refused])

    assert cancelled.value.response["Error"]["Code"] == "TransactionCanceledException"
    assert bucket_counters(bucket) == (0, 0)
    assert "Item" not in aws.dynamodb().get_item(
        TableName=TABLE, Key={"pk": {"S": "new"}, "sk": {"S": "item"}}
    )
    assert call(api, "get", f"/files/{bucket}")[0] == 200  # the bucket item itself is whole


class LostAnswers:
    """Once started, every DynamoDB write is applied, then its answer lost: botocore sends it
    again, as it does after a read timeout. ``resent`` names the writes sent twice."""

    def __init__(self) -> None:
        self.started = False
        self.resent: list[str] = []


@pytest.fixture
def lost(monkeypatch: pytest.MonkeyPatch) -> LostAnswers:
    from botocore.endpoint import Endpoint

    needs_retry = Endpoint._needs_retry
    answers = LostAnswers()

    def lost_once(self: Endpoint, attempts: int, operation_model: Any, *args: Any, **kwargs: Any) -> bool:
        name = operation_model.name
        dynamodb = operation_model.service_model.service_name == "dynamodb"
        if answers.started and dynamodb and name in WRITES and attempts == 1:
            answers.resent.append(name)
            return True
        return needs_retry(self, attempts, operation_model, *args, **kwargs)  # type: ignore[no-any-return]

    monkeypatch.setattr(Endpoint, "_needs_retry", lost_once)
    return answers


def test_an_upload_whose_write_answers_are_lost_is_counted_once(api: Client, lost: LostAnswers) -> None:
    bucket = new_bucket(api)
    lost.started = True
    upload = initiate(api, bucket, 5)

    assert "TransactWriteItems" in lost.resent
    assert bucket_counters(bucket) == (0, 5)  # reserved once
    put(upload["parts"][0], b"12345")
    status, version = complete(api, bucket, upload["id"])
    assert status == 200, version
    assert bucket_counters(bucket) == (5, 5)
    assert [v["version_id"] for v in call(api, "get", f"/files/{bucket}?versions")[1]["contents"]] == [
        version["version_id"]
    ]
    assert call(api, "get", f"{object_path(bucket)}?uploadId={upload['id']}")[1]["state"] == "completed"


def test_an_abort_whose_write_answers_are_lost_releases_once(api: Client, lost: LostAnswers) -> None:
    bucket = new_bucket(api)
    upload = initiate(api, bucket, 5)
    second = initiate(api, bucket, 7)
    lost.started = True

    assert call(api, "delete", f"{object_path(bucket)}?uploadId={upload['id']}")[0] == 204

    assert bucket_counters(bucket) == (0, 7)  # the other upload's reservation stays whole
    assert call(api, "get", f"{object_path(bucket)}?uploadId={second['id']}")[1]["state"] == "pending"


def test_a_file_over_quota_whose_write_answers_are_lost_leaks_nothing(api: Client, lost: LostAnswers) -> None:
    bucket = new_bucket(api, quota_size=10)
    lost.started = True
    upload = initiate(api, bucket, 8, key="a")
    put(upload["parts"][0], b"x" * 8)
    assert complete(api, bucket, upload["id"], key="a")[0] == 200

    assert call(api, "post", f"{object_path(bucket, 'b')}?uploads", {"size": 3})[0] == 400

    assert bucket_counters(bucket) == (8, 8)


def test_buckets_records_and_new_versions_whose_write_answers_are_lost_are_made_once(
    api: Client, lost: LostAnswers
) -> None:
    lost.started = True

    bucket = call(api, "post", "/files", {})
    record = call(api, "post", "/records", {"metadata": {"title": "T"}})
    assert (bucket[0], record[0]) == (201, 201), (bucket[1], record[1])
    assert "TransactWriteItems" in lost.resent
    lost.started = False
    assert upload(api, record[1], "a.txt", b"a") == 200
    assert call(api, "post", f"/records/{record[1]['id']}/publish")[0] == 200
    lost.started = True
    version = call(api, "post", f"/records/{record[1]['id']}/versions")

    assert version[0] == 201, version[1]
    lost.started = False
    chain = call(api, "get", f"/records/{record[1]['id']}/versions")[1]["versions"]
    assert [entry["versions"]["index"] for entry in chain] == [1, 2]


def test_an_ingest_whose_write_answers_are_lost_claims_once_and_finishes(
    api: Client, pump: Any, lost: LostAnswers
) -> None:
    bucket = new_bucket(api)
    drain(pump)
    store(api, bucket, "pic.png", png(600, 400), content_type="image/png")
    lost.started = True

    drain(pump)

    lost.started = False
    meta = call(api, "get", f"{object_path(bucket, 'pic.png')}?meta")[1]
    assert meta["ingest"]["state"] == "done" and meta["ingest"]["image"] == {"width": 600, "height": 400}
    assert "TransactWriteItems" in lost.resent  # the claim


def test_every_other_write_whose_answers_are_lost_is_answered_as_applied_once(
    api: Client, lost: LostAnswers
) -> None:
    """Each writing route with every DynamoDB answer lost once: botocore's resend must not turn an
    applied write into a refusal (409, 412) or a 500, nor apply it twice."""
    record = call(api, "post", "/records", {"metadata": {"title": "T"}})[1]
    assert upload(api, record, "a.txt", b"a") == 200
    assert upload(api, record, "b.txt", b"b") == 200
    bucket = new_bucket(api)
    store(api, bucket, "kept.txt", b"kept")
    store(api, bucket, "gone.txt", b"gone")
    files = f"/records/{record['id']}/files"
    revision = call(api, "get", f"/records/{record['id']}")[1]["revision_id"]
    lost.started = True

    answers = {
        "update a record": call(
            api,
            "put",
            f"/records/{record['id']}",
            {"metadata": {"title": "T2"}},
            headers={**ALICE, "If-Match": f'"{revision}"'},
        ),
        "describe a file": call(api, "put", f"{files}/{encode_key('a.txt')}/metadata", {"d": 1}),
        "order the files": call(api, "put", files, {"order": ["b.txt", "a.txt"]}),
        "delete a file": call(api, "delete", f"{files}/{encode_key('b.txt')}"),
        "tag a bucket": call(api, "put", f"/files/{bucket}?tags", {"a": "1"}),
        "tag an object": call(api, "put", f"{object_path(bucket, 'kept.txt')}?tags", {"b": "2"}),
        "lower a bucket's quota": call(api, "patch", f"/files/{bucket}", {"quota_size": 10**6}),
        "delete an object": call(api, "delete", object_path(bucket, "gone.txt")),
        "publish": call(api, "post", f"/records/{record['id']}/publish"),
        "open a session": call(api, "post", "/session"),
    }

    lost.started = False
    assert {what: (status, body) for what, (status, body, _) in answers.items() if status >= 300} == {}
    assert len(lost.resent) >= len(answers)
    read = call(api, "get", f"/records/{record['id']}")[1]
    assert (read["metadata"], read["state"]) == ({"title": "T2"}, "published")
    assert read["revision_id"] == revision + 4  # as without lost answers: each change counted once
    assert read["files"]["order"] == ["a.txt"]
    assert read["files"]["entries"]["a.txt"]["metadata"] == {"d": 1}
    listed = call(api, "get", f"/files/{bucket}?versions")[1]["contents"]
    assert sorted((v["key"], v["delete_marker"]) for v in listed) == [
        ("gone.txt", False),
        ("gone.txt", True),
        ("kept.txt", False),
    ]
    assert call(api, "get", f"/files/{bucket}?tags")[1] == {"tags": {"a": "1"}}
