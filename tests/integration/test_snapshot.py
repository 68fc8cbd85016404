"""The embedded stack's data survives a restart through snapshots."""

from __future__ import annotations

import json
import threading
from pathlib import Path
from typing import Any

import pytest
from moto import mock_aws

from chalicelib import aws
from chalicelib.settings import Settings
from local import provision, snapshot

KEYS = ["data/plain.txt", "data/with space/and+plus%25/ünïcödé.bin", "elsewhere/derivative.jpg"]


def _provision(settings: Settings) -> None:
    provision.create_tables(settings)
    provision.create_queues(settings)
    provision.create_data_bucket(settings)


def test_items_and_objects_come_back_after_a_restart(moto_aws: Settings, tmp_path: Path) -> None:
    item = {
        "pk": {"S": "bucket#1"},
        "sk": {"S": "meta"},
        "size": {"N": "42"},
        "tags": {"M": {"a": {"S": "b"}}},
    }
    aws.dynamodb().put_item(TableName=moto_aws.files_table, Item=item)
    for number, key in enumerate(KEYS):
        aws.s3().put_object(
            Bucket=moto_aws.data_bucket,
            Key=key,
            Body=bytes([number]) * (1000 + number),
            ContentType="application/x-test",
            Metadata={"origin": f"n{number}"},
        )
    snapshot.save(moto_aws, tmp_path)

    with mock_aws():  # a new, empty embedded AWS: what the next `make run` starts with
        aws.reset_clients()
        _provision(moto_aws)
        assert snapshot.restore(moto_aws, tmp_path) == 1 + len(KEYS)

        assert (
            aws.dynamodb().get_item(TableName=moto_aws.files_table, Key={"pk": item["pk"], "sk": item["sk"]})[
                "Item"
            ]
            == item
        )
        for number, key in enumerate(KEYS):
            restored = aws.s3().get_object(Bucket=moto_aws.data_bucket, Key=key)
            assert restored["Body"].read() == bytes([number]) * (1000 + number)
            assert restored["ContentType"] == "application/x-test"
            assert restored["Metadata"] == {"origin": f"n{number}"}


def test_a_save_writes_only_changed_objects_and_drops_deleted_ones(
    moto_aws: Settings, tmp_path: Path
) -> None:
    aws.s3().put_object(Bucket=moto_aws.data_bucket, Key="data/kept", Body=b"kept")
    aws.s3().put_object(Bucket=moto_aws.data_bucket, Key="data/gone", Body=b"gone")
    snapshot.save(moto_aws, tmp_path)
    blobs = {path.name: path.stat().st_mtime_ns for path in (tmp_path / "blobs").iterdir()}

    aws.s3().delete_object(Bucket=moto_aws.data_bucket, Key="data/gone")
    aws.s3().put_object(Bucket=moto_aws.data_bucket, Key="data/new", Body=b"new")
    snapshot.save(moto_aws, tmp_path)

    after = {path.name: path.stat().st_mtime_ns for path in (tmp_path / "blobs").iterdir()}
    assert len(after) == 2
    kept = snapshot._blob_name(
        "data/kept", aws.s3().head_object(Bucket=moto_aws.data_bucket, Key="data/kept")["ETag"]
    )
    assert after[kept] == blobs[kept]  # not written again


def test_restoring_without_a_snapshot_loads_nothing(moto_aws: Settings, tmp_path: Path) -> None:
    assert snapshot.restore(moto_aws, tmp_path) == 0


def test_a_later_save_reads_only_new_objects_and_keeps_what_it_knew_of_the_others(
    moto_aws: Settings, tmp_path: Path
) -> None:
    aws.s3().put_object(
        Bucket=moto_aws.data_bucket,
        Key="data/old",
        Body=b"old",
        ContentType="text/x-old",
        Metadata={"a": "1"},
    )
    snapshot.save(moto_aws, tmp_path)
    aws.s3().put_object(Bucket=moto_aws.data_bucket, Key="data/new", Body=b"new", ContentType="text/x-new")
    heads: list[str] = []
    aws.s3().meta.events.register(
        "provide-client-params.s3.HeadObject", lambda params, **_: heads.append(params["Key"])
    )

    snapshot.save(moto_aws, tmp_path)

    assert set(heads) == {"data/new"}  # the download HEADs it too
    with mock_aws():
        aws.reset_clients()
        _provision(moto_aws)
        snapshot.restore(moto_aws, tmp_path)
        old = aws.s3().head_object(Bucket=moto_aws.data_bucket, Key="data/old")
        assert (old["ContentType"], old["Metadata"]) == ("text/x-old", {"a": "1"})


def test_an_object_deleted_while_a_save_runs_is_left_out_and_the_save_succeeds(
    moto_aws: Settings, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    for key in ("data/kept", "data/aborted"):
        aws.s3().put_object(Bucket=moto_aws.data_bucket, Key=key, Body=b"x")
    listed = snapshot._list_objects

    def listed_then_deleted(bucket: str) -> list[dict[str, Any]]:
        found = listed(bucket)
        aws.s3().delete_object(Bucket=bucket, Key="data/aborted")  # an abort between list and read
        return found

    monkeypatch.setattr(snapshot, "_list_objects", listed_then_deleted)

    snapshot.save(moto_aws, tmp_path)

    saved = json.loads((tmp_path / snapshot.MANIFEST).read_text())
    assert [entry["key"] for entry in saved["objects"]] == ["data/kept"]


def test_a_save_is_one_point_in_time_no_table_write_lands_while_it_reads(
    moto_aws: Settings, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    # A write arriving while a save reads the tables waits for it (the writes' own lock), so the
    # snapshot never holds an item without what it names, or the reverse.
    listed = snapshot._list_objects
    landed: list[bool] = []

    def write_meanwhile(bucket: str) -> list[dict[str, Any]]:
        writer = threading.Thread(
            target=lambda: aws.dynamodb().put_item(
                TableName=moto_aws.files_table, Item={"pk": {"S": "late"}, "sk": {"S": "x"}}
            )
        )
        writer.start()
        writer.join(0.5)
        landed.append(not writer.is_alive())
        return listed(bucket)

    monkeypatch.setattr(snapshot, "_list_objects", write_meanwhile)

    snapshot.save(moto_aws, tmp_path)

    assert landed == [False]  # the write waited for the save
    saved = json.loads((tmp_path / snapshot.MANIFEST).read_text())
    assert {"pk": {"S": "late"}, "sk": {"S": "x"}} not in saved["tables"]["files_table"]
