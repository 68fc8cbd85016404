"""pynamodb's models share the container's one botocore client, built once however many threads ask."""

from __future__ import annotations

import threading

import botocore.session
import pytest

from chalicelib import dynamodb
from chalicelib.auth.models import SessionItem
from chalicelib.files.models import CHECKS_PK, DELETED_BUCKETS_PK, BucketItem, FileItem, ObjectVersionItem
from chalicelib.records.models import RecordItem
from chalicelib.settings import Settings

MODELS = (BucketItem, FileItem, ObjectVersionItem, RecordItem, SessionItem)


@pytest.fixture
def fresh_connections(monkeypatch: pytest.MonkeyPatch) -> list[int]:
    """No model has connected yet, as in a new container; counts the botocore clients built."""
    dynamodb._connection.cache_clear()
    for model in MODELS:
        monkeypatch.setattr(model, "_connection", None)
    built: list[int] = []
    create = botocore.session.Session.create_client

    def counted(self: botocore.session.Session, *args: object, **kwargs: object) -> object:
        built.append(1)
        return create(self, *args, **kwargs)  # type: ignore[arg-type]

    monkeypatch.setattr(botocore.session.Session, "create_client", counted)
    yield built
    dynamodb._connection.cache_clear()


def test_threads_using_every_model_at_once_build_one_client(
    moto_aws: Settings, fresh_connections: list[int]
) -> None:
    start = threading.Barrier(len(MODELS) * 4)

    def first_use(model: type) -> None:
        start.wait()
        model.count(hash_key="nothing-here")

    threads = [threading.Thread(target=first_use, args=(model,)) for model in MODELS * 4]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()

    assert len(fresh_connections) == 1
    assert len({model._get_connection().connection.client for model in MODELS}) == 1


def test_each_model_still_queries_its_own_indexes(moto_aws: Settings, fresh_connections: list[int]) -> None:
    # Models of one table declare different indexes; a connection shared whole would know only
    # the first model's.
    assert list(BucketItem.deleted_buckets.query(DELETED_BUCKETS_PK, limit=1)) == []
    assert list(FileItem.by_last_check.query(CHECKS_PK, limit=1)) == []
    assert list(ObjectVersionItem.by_version_id.query("VER#none", limit=1)) == []
