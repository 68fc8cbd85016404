"""The embedded stack keeps every acknowledged write across a crash: a journal, folded into snapshots."""

from __future__ import annotations

import json
import os
import threading
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any
from urllib.parse import unquote_plus

import pytest
from moto.backends import get_backend

from chalicelib import aws
from chalicelib.settings import Settings
from local import journal, provision, snapshot

KEYS = ["data/plain.txt", "data/with space/and+plus%25/ünïcödé.bin", "elsewhere/derivative.jpg"]
ITEM = {"pk": {"S": "bucket#1"}, "sk": {"S": "meta"}, "size": {"N": "42"}, "tags": {"M": {"a": {"S": "b"}}}}


@pytest.fixture
def journaled(moto_aws: Settings, tmp_path: Path) -> Iterator[journal.Journal]:
    """The embedded AWS as `make run` leaves it after its start: everything written is journaled."""
    snapshot.restore(moto_aws, tmp_path)
    _queued_bodies(moto_aws)  # S3's test event for the new notification configuration
    writes = journal.Journal(tmp_path, after=0)
    journal.start(writes)
    yield writes
    journal.start(None)
    writes.close()


def _after_a_crash(settings: Settings, directory: Path) -> Iterator[snapshot.State]:
    """A new, empty embedded AWS restored from what the killed one left on disk (no last save)."""
    journal.start(None)
    for service in ("dynamodb", "s3", "sqs"):
        get_backend(service).reset()  # type: ignore[call-overload]
    provision.create_tables(settings)
    provision.create_queues(settings)
    provision.create_data_bucket(settings)
    yield snapshot.restore(settings, directory)


def _item(settings: Settings, pk: str, sk: str) -> dict[str, Any] | None:
    found = aws.dynamodb().get_item(TableName=settings.files_table, Key={"pk": {"S": pk}, "sk": {"S": sk}})
    return found.get("Item")


def _keys(settings: Settings) -> set[str]:
    listed = aws.s3().list_objects_v2(Bucket=settings.data_bucket).get("Contents", [])
    return {entry["Key"] for entry in listed}


def _queued_bodies(settings: Settings) -> list[str]:
    url = aws.sqs().get_queue_url(QueueName=settings.ingest_queue)["QueueUrl"]
    bodies = []
    while answer := aws.sqs().receive_message(QueueUrl=url, MaxNumberOfMessages=10).get("Messages"):
        bodies += [message["Body"] for message in answer]
        for message in answer:
            aws.sqs().delete_message(QueueUrl=url, ReceiptHandle=message["ReceiptHandle"])
    return bodies


def test_what_was_written_before_a_kill_comes_back_without_any_save(
    moto_aws: Settings, tmp_path: Path, journaled: journal.Journal
) -> None:
    aws.dynamodb().put_item(TableName=moto_aws.files_table, Item=ITEM)
    written = {}
    for number, key in enumerate(KEYS):
        aws.s3().put_object(
            Bucket=moto_aws.data_bucket,
            Key=key,
            Body=bytes([number]) * (1000 + number),
            ContentType="application/x-test",
            Metadata={"origin": f"n{number}"},
            ChecksumAlgorithm="SHA256",
        )
        written[key] = aws.s3().head_object(Bucket=moto_aws.data_bucket, Key=key, ChecksumMode="ENABLED")
    queued = aws.sqs().get_queue_attributes(
        QueueUrl=aws.sqs().get_queue_url(QueueName=moto_aws.ingest_queue)["QueueUrl"],
        AttributeNames=["ApproximateNumberOfMessages"],
    )["Attributes"]["ApproximateNumberOfMessages"]
    assert queued == "2"  # the two new objects under data/, not yet consumed

    for state in _after_a_crash(moto_aws, tmp_path):
        assert state.size() == 1 + len(KEYS) + 2
        assert _item(moto_aws, "bucket#1", "meta") == ITEM
        for number, key in enumerate(KEYS):
            restored = aws.s3().get_object(Bucket=moto_aws.data_bucket, Key=key, ChecksumMode="ENABLED")
            assert restored["Body"].read() == bytes([number]) * (1000 + number)
            for field in ("ContentType", "Metadata", "ETag", "ChecksumSHA256", "LastModified"):
                assert restored[field] == written[key][field], field
        events = [json.loads(body)["Records"][0]["s3"]["object"]["key"] for body in _queued_bodies(moto_aws)]
        assert sorted(map(unquote_plus, events)) == sorted(KEYS[:2])  # S3 events encode keys


def test_a_multipart_object_keeps_its_etag(
    moto_aws: Settings, tmp_path: Path, journaled: journal.Journal
) -> None:
    # Ingest compares a landing's ETag with the recorded one: a new ETag after a restart would look
    # like a replaced upload.
    s3, bucket = aws.s3(), moto_aws.data_bucket
    upload = s3.create_multipart_upload(Bucket=bucket, Key="data/big")["UploadId"]
    parts = [
        {
            "PartNumber": number,
            "ETag": s3.upload_part(
                Bucket=bucket,
                Key="data/big",
                UploadId=upload,
                PartNumber=number,
                Body=bytes([number]) * 5 * 2**20,
            )["ETag"],
        }
        for number in (1, 2)
    ]
    s3.complete_multipart_upload(
        Bucket=bucket, Key="data/big", UploadId=upload, MultipartUpload={"Parts": parts}
    )
    etag = s3.head_object(Bucket=bucket, Key="data/big")["ETag"]
    assert etag.endswith('-2"')

    for _ in _after_a_crash(moto_aws, tmp_path):
        assert aws.s3().head_object(Bucket=bucket, Key="data/big")["ETag"] == etag


def test_deletes_updates_and_consumed_messages_stay_done(
    moto_aws: Settings, tmp_path: Path, journaled: journal.Journal
) -> None:
    table, bucket = moto_aws.files_table, moto_aws.data_bucket
    for sk in ("kept", "gone"):
        aws.dynamodb().put_item(TableName=table, Item={"pk": {"S": "p"}, "sk": {"S": sk}, "n": {"N": "1"}})
    aws.dynamodb().update_item(
        TableName=table,
        Key={"pk": {"S": "p"}, "sk": {"S": "kept"}},
        UpdateExpression="ADD n :one",
        ExpressionAttributeValues={":one": {"N": "1"}},
    )
    aws.dynamodb().delete_item(TableName=table, Key={"pk": {"S": "p"}, "sk": {"S": "gone"}})
    for key in ("data/kept", "data/gone"):
        aws.s3().put_object(Bucket=bucket, Key=key, Body=key.encode())
    aws.s3().delete_object(Bucket=bucket, Key="data/gone")
    assert len(_queued_bodies(moto_aws)) == 2  # consumed and deleted

    for _ in _after_a_crash(moto_aws, tmp_path):
        assert _item(moto_aws, "p", "kept") == {"pk": {"S": "p"}, "sk": {"S": "kept"}, "n": {"N": "2"}}
        assert _item(moto_aws, "p", "gone") is None
        assert _keys(moto_aws) == {"data/kept"}
        assert _queued_bodies(moto_aws) == []


def test_a_cancelled_transaction_leaves_nothing_and_an_applied_one_everything(
    moto_aws: Settings, tmp_path: Path, journaled: journal.Journal
) -> None:
    table = moto_aws.files_table
    aws.dynamodb().put_item(
        TableName=table, Item={"pk": {"S": "bucket"}, "sk": {"S": "meta"}, "used": {"N": "5"}}
    )

    def reserve(amount: int, upload: str) -> None:
        aws.dynamodb().transact_write_items(
            TransactItems=[
                {
                    "Update": {
                        "TableName": table,
                        "Key": {"pk": {"S": "bucket"}, "sk": {"S": "meta"}},
                        "UpdateExpression": "ADD used :n",
                        "ConditionExpression": "used <= :limit",
                        "ExpressionAttributeValues": {":n": {"N": str(amount)}, ":limit": {"N": "10"}},
                    }
                },
                {"Put": {"TableName": table, "Item": {"pk": {"S": "upload"}, "sk": {"S": upload}}}},
                {
                    "ConditionCheck": {
                        "TableName": table,
                        "Key": {"pk": {"S": "bucket"}, "sk": {"S": "open"}},
                        "ConditionExpression": "attribute_exists(pk)",
                    }
                },
            ]
        )

    aws.dynamodb().put_item(TableName=table, Item={"pk": {"S": "bucket"}, "sk": {"S": "open"}})
    reserve(3, "applied")
    aws.dynamodb().delete_item(TableName=table, Key={"pk": {"S": "bucket"}, "sk": {"S": "open"}})
    with pytest.raises(aws.dynamodb().exceptions.TransactionCanceledException):
        reserve(1, "cancelled")  # the condition check fails after the first two writes applied

    for _ in _after_a_crash(moto_aws, tmp_path):
        assert _item(moto_aws, "bucket", "meta") == {
            "pk": {"S": "bucket"},
            "sk": {"S": "meta"},
            "used": {"N": "8"},
        }
        assert _item(moto_aws, "upload", "applied") is not None
        assert _item(moto_aws, "upload", "cancelled") is None


def test_checkpoints_fold_the_journal_while_writes_go_on_and_lose_none(
    moto_aws: Settings, tmp_path: Path, journaled: journal.Journal
) -> None:
    state = snapshot.load(moto_aws, tmp_path)
    acknowledged: list[int] = []
    stop = threading.Event()

    def write() -> None:
        number = 0
        while not stop.is_set() or number < 50:
            aws.dynamodb().put_item(
                TableName=moto_aws.files_table, Item={"pk": {"S": "w"}, "sk": {"S": f"{number:05d}"}}
            )
            aws.s3().put_object(Bucket=moto_aws.data_bucket, Key=f"other/{number:05d}", Body=b"%d" % number)
            acknowledged.append(number)
            number += 1

    writer = threading.Thread(target=write)
    writer.start()
    for _ in range(5):
        snapshot.checkpoint(state, tmp_path, journaled)
        time.sleep(0.02)
    stop.set()
    writer.join()
    assert json.loads((tmp_path / snapshot.MANIFEST).read_text())["folded_through"] >= 5
    assert len(journal.segments(tmp_path)) == 1  # the folded ones are gone

    for _ in _after_a_crash(moto_aws, tmp_path):
        listed = aws.dynamodb().query(
            TableName=moto_aws.files_table,
            KeyConditionExpression="pk = :w",
            ExpressionAttributeValues={":w": {"S": "w"}},
        )["Items"]
        assert len(listed) == len(acknowledged)
        assert _keys(moto_aws) == {f"other/{number:05d}" for number in acknowledged}


def test_a_line_torn_by_the_crash_is_dropped_and_what_came_before_kept(
    moto_aws: Settings, tmp_path: Path, journaled: journal.Journal
) -> None:
    aws.dynamodb().put_item(TableName=moto_aws.files_table, Item=ITEM)
    segment = journal.segments(tmp_path)[-1]
    with segment.open("ab") as torn:
        torn.write(b'{"table":"')  # killed mid-append: never fsynced, never answered

    for _ in _after_a_crash(moto_aws, tmp_path):
        assert _item(moto_aws, "bucket#1", "meta") == ITEM


def test_a_crash_after_a_checkpoint_saved_but_before_it_deleted_its_segments_folds_them_once(
    moto_aws: Settings, tmp_path: Path, journaled: journal.Journal
) -> None:
    aws.dynamodb().put_item(TableName=moto_aws.files_table, Item={"pk": {"S": "p"}, "sk": {"S": "x"}})
    aws.dynamodb().delete_item(TableName=moto_aws.files_table, Key={"pk": {"S": "p"}, "sk": {"S": "x"}})
    folded = journal.segments(tmp_path)
    kept = {path: path.read_bytes() for path in folded}
    snapshot.checkpoint(snapshot.load(moto_aws, tmp_path), tmp_path, journaled)
    for path, data in kept.items():
        path.write_bytes(data)  # as if the checkpoint died before unlinking them

    for state in _after_a_crash(moto_aws, tmp_path):
        assert _item(moto_aws, "p", "x") is None
        assert state.folded_through >= 1
    assert all(not path.exists() for path in folded)


def test_blobs_no_snapshot_or_journal_names_are_removed_once_old(
    moto_aws: Settings, tmp_path: Path, journaled: journal.Journal
) -> None:
    bucket = moto_aws.data_bucket
    aws.s3().put_object(Bucket=bucket, Key="other/a", Body=b"first")
    aws.s3().put_object(Bucket=bucket, Key="other/a", Body=b"second")
    aws.s3().put_object(Bucket=bucket, Key="other/b", Body=b"b")
    aws.s3().delete_object(Bucket=bucket, Key="other/b")
    blobs = tmp_path / journal.BLOBS
    assert len(list(blobs.iterdir())) == 3
    state = snapshot.load(moto_aws, tmp_path)

    snapshot.checkpoint(state, tmp_path, journaled)
    assert len(list(blobs.iterdir())) == 3  # too recent: a write may be about to name them

    old = time.time() - snapshot.BLOB_GRACE_SECONDS - 1
    for blob in blobs.iterdir():
        os.utime(blob, (old, old))
    snapshot.checkpoint(state, tmp_path, journaled)
    etag = aws.s3().head_object(Bucket=bucket, Key="other/a")["ETag"]
    assert [blob.name for blob in blobs.iterdir()] == [journal.blob_name("other/a", etag)]


def test_a_snapshot_from_before_the_journal_is_still_restored(moto_aws: Settings, tmp_path: Path) -> None:
    blob = journal.blob_name("data/old", '"etag"')
    (tmp_path / journal.BLOBS).mkdir()
    (tmp_path / journal.BLOBS / blob).write_bytes(b"old bytes")
    first_format = {
        "tables": {"files_table": [ITEM]},
        "objects": [{"key": "data/old", "blob": blob, "content_type": "text/x-old", "metadata": {"a": "1"}}],
    }
    (tmp_path / snapshot.MANIFEST).write_text(json.dumps(first_format))

    for state in _after_a_crash(moto_aws, tmp_path):
        assert state.size() == 2
        assert _item(moto_aws, "bucket#1", "meta") == ITEM
        old = aws.s3().get_object(Bucket=moto_aws.data_bucket, Key="data/old")
        assert (old["Body"].read(), old["ContentType"], old["Metadata"]) == (
            b"old bytes",
            "text/x-old",
            {"a": "1"},
        )


def test_restoring_nothing_loads_nothing(moto_aws: Settings, tmp_path: Path) -> None:
    assert snapshot.restore(moto_aws, tmp_path).size() == 0
