"""Shared fixtures: the local stage's settings, and an embedded AWS in-process (moto)."""

# ruff: noqa: E402 (the environment is set before Vellum's modules are imported; see below)
from __future__ import annotations

import os

from local.environment import REGION, stage_variables

LOCAL_SECRET = "a-local-test-secret-that-is-long-enough-0123456789"


def _local_stage_environment() -> dict[str, str]:
    return {
        **stage_variables(),
        "VELLUM_LOCAL_TOKEN_SECRET": LOCAL_SECRET,
        "AWS_REGION": REGION,
        "AWS_DEFAULT_REGION": REGION,
        "AWS_ACCESS_KEY_ID": "testing",
        "AWS_SECRET_ACCESS_KEY": "testing",
    }


# Vellum's modules read the environment when imported, as on Lambda (the pynamodb models' tables,
# Powertools' metrics namespace), and test modules import them at collection, before any fixture
# runs: the local stage's environment comes first.
for _name, _value in _local_stage_environment().items():
    os.environ.setdefault(_name, _value)

from collections.abc import Iterator
from typing import Any

import pytest
from chalice.test import Client
from moto import mock_aws

from chalicelib import aws
from chalicelib.auth import context
from chalicelib.iiif import images
from chalicelib.settings import Settings, get_settings
from local import provision
from local.atomic_dynamodb import make_dynamodb_writes_atomic
from local.pump import EventPump


def _forget_cached_state() -> None:
    get_settings.cache_clear()
    context.verifier.cache_clear()
    images.recent.cache_clear()
    aws.reset_clients()


@pytest.fixture
def local_env(monkeypatch: pytest.MonkeyPatch) -> Iterator[Settings]:
    """The `local` stage's variables from .chalice/config.json, with fake credentials and no endpoints."""
    for name, value in _local_stage_environment().items():
        monkeypatch.setenv(name, value)
    for name in ("AWS_ENDPOINT_URL", "AWS_PROFILE", "AWS_SESSION_TOKEN"):
        monkeypatch.delenv(name, raising=False)
    _forget_cached_state()
    yield get_settings()
    _forget_cached_state()


@pytest.fixture
def moto_aws(local_env: Settings) -> Iterator[Settings]:
    """moto in-process with Vellum's resources provisioned as the embedded stack does."""
    make_dynamodb_writes_atomic()  # as DynamoDB itself: see local/atomic_dynamodb.py
    with mock_aws():
        provision.create_tables(local_env)
        queue_arn = provision.create_queues(local_env)
        provision.create_data_bucket(local_env)
        provision.connect_notifications(local_env, queue_arn)
        yield local_env


@pytest.fixture
def api(moto_aws: Settings) -> Iterator[Client]:
    """The real app behind Chalice's test client, on moto."""
    import importlib

    with Client(importlib.import_module("app").app) as client:
        yield client


@pytest.fixture
def pump(moto_aws: Settings) -> EventPump:
    """The event pump on moto, delivering the ingest queue to the app's handler at once when asked."""
    import importlib

    app_module: Any = importlib.import_module("app")
    return EventPump(
        moto_aws.ingest_queue, app_module.ingest, batch_size=10, region=moto_aws.region, retry_delay_seconds=0
    )


# One embedded stack for the whole session, shared by the e2e and browser suites: a session fixture
# is cached per place it is defined, so it is defined once, here.
from tests.stack import stack  # noqa: F401
