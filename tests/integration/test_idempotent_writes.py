"""A write that was applied and then retried (its answer lost) is applied once."""

from __future__ import annotations

from typing import Any

import pytest
from botocore.exceptions import ClientError
from chalice.test import Client
from pynamodb.transactions import TransactWrite

from chalicelib import aws
from chalicelib.files import completion
from chalicelib.settings import Settings
from tests.helpers import bucket_counters, call, complete, initiate, new_bucket, object_path, put

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


def answer_lost_once(monkeypatch: pytest.MonkeyPatch, module: Any) -> list[int]:
    """Transactions made by ``module`` have their first answer lost: botocore sends them again."""
    made = module.transaction
    made_attempts: list[int] = []

    def retry_once(attempts: int, **_: Any) -> int | None:  # botocore's own keyword
        made_attempts.append(attempts)
        return 0 if attempts == 1 else None  # 0: retry at once

    def lossy() -> TransactWrite:
        writes = made()
        writes._connection.client.meta.events.register_first("needs-retry.dynamodb.TransactWriteItems", retry_once)
        return writes

    monkeypatch.setattr(module, "transaction", lossy)
    return made_attempts


def test_a_completion_whose_recording_answer_was_lost_answers_its_version(
    api: Client, monkeypatch: pytest.MonkeyPatch
) -> None:
    bucket = new_bucket(api)
    upload = initiate(api, bucket, 5)
    put(upload["parts"][0], b"12345")
    attempts = answer_lost_once(monkeypatch, completion)

    status, version = complete(api, bucket, upload["id"])

    assert attempts[:2] == [1, 2]  # the recording transaction was sent twice
    assert status == 200, version
    assert bucket_counters(bucket) == (5, 5)
    assert [v["version_id"] for v in call(api, "get", f"/files/{bucket}?versions")[1]["contents"]] == [
        version["version_id"]
    ]
    assert call(api, "get", f"{object_path(bucket)}?uploadId={upload['id']}")[1]["state"] == "completed"
