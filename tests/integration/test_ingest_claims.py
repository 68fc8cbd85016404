"""Ingest claims: a file is ingested once, by one attempt at a time, whatever SQS delivers twice."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

import pytest
from chalice.test import Client

from chalicelib.files import stored
from chalicelib.files.models import FILE_SK, FileItem, file_pk
from chalicelib.settings import Settings
from tests.helpers import drain, land, new_bucket, png, stored_key


@pytest.fixture
def file_id(moto_aws: Settings) -> str:
    FileItem(
        pk=file_pk("f1"), sk=FILE_SK, id="f1", s3_key="data/f1", size=1, created=datetime.now(UTC)
    ).save()
    return "f1"


def test_a_second_claim_while_the_first_is_under_way_is_refused(file_id: str) -> None:
    assert stored.claim_ingest(file_id) is not None

    assert stored.claim_ingest(file_id) is None


def test_a_finished_ingest_is_never_claimed_again(file_id: str) -> None:
    stored.claim_ingest(file_id)
    stored.finish_ingest(file_id)

    assert stored.claim_ingest(file_id) is None


def test_a_failed_attempt_gives_its_claim_back_for_the_next_try(file_id: str) -> None:
    claimed = stored.claim_ingest(file_id)
    assert claimed is not None

    stored.release_ingest(file_id, claimed)

    assert stored.claim_ingest(file_id) is not None


def test_a_claim_older_than_the_function_timeout_is_taken_over(file_id: str) -> None:
    FileItem(pk=file_pk(file_id), sk=FILE_SK).update(
        actions=[
            FileItem.ingest_claimed_at.set(datetime.now(UTC) - stored.INGEST_LEASE - stored.INGEST_LEASE / 10)
        ]
    )

    assert stored.claim_ingest(file_id) is not None


def test_a_release_never_takes_back_a_claim_another_attempt_holds(file_id: str) -> None:
    stale = datetime.now(UTC) - 2 * stored.INGEST_LEASE
    FileItem(pk=file_pk(file_id), sk=FILE_SK).update(actions=[FileItem.ingest_claimed_at.set(stale)])
    assert stored.claim_ingest(file_id) is not None  # a new attempt takes the dead one's claim over

    stored.release_ingest(file_id, stale)  # the dead attempt, coming back late

    assert stored.claim_ingest(file_id) is None


def test_a_file_not_recorded_yet_is_not_claimed(moto_aws: Settings) -> None:
    assert stored.claim_ingest("no-such-file") is None


def test_a_notice_delivered_again_after_ingest_changes_nothing(api: Client, pump: Any) -> None:
    from chalicelib.ingest.handler import ingest_file

    bucket = new_bucket(api)
    drain(pump)
    land(api, pump, bucket, "photo.png", png(300, 200))
    file_id = stored_key(api, bucket, "photo.png").removeprefix("data/")
    before = FileItem.get(file_pk(file_id), FILE_SK)

    ingest_file(file_id)  # as SQS may deliver the same notice again

    after = FileItem.get(file_pk(file_id), FILE_SK)
    assert after.ingested_at == before.ingested_at is not None
    assert after.last_check_at == before.last_check_at  # not hashed a second time
