from __future__ import annotations

import importlib
import json
from collections.abc import Iterator

import pytest
from chalice.test import Client

from chalicelib import aws
from chalicelib.settings import Settings


@pytest.fixture
def client(moto_aws: Settings) -> Iterator[Client]:
    with Client(importlib.import_module("app").app) as test_client:
        yield test_client


def test_health_is_ok_when_every_component_answers(client: Client) -> None:
    response = client.http.get("/health")

    assert response.status_code == 200
    assert json.loads(response.body) == {
        "status": "ok",
        "components": {"s3": "ok", "dynamodb": "ok", "sqs": "ok"},
    }


def test_health_is_503_and_names_the_component_that_is_missing(client: Client, moto_aws: Settings) -> None:
    aws.dynamodb().delete_table(TableName=moto_aws.records_table)

    response = client.http.get("/health")

    assert response.status_code == 503
    assert json.loads(response.body) == {
        "status": "unavailable",
        "components": {
            "s3": "ok",
            "dynamodb": "dynamodb answered with error ResourceNotFoundException.",
            "sqs": "ok",
        },
    }


def test_health_says_when_aws_cannot_be_reached(client: Client, monkeypatch: pytest.MonkeyPatch) -> None:
    # Nothing listens on port 9 (discard) of loopback, so every call fails to connect.
    monkeypatch.setenv("AWS_ENDPOINT_URL", "http://127.0.0.1:9")
    aws.reset_clients()

    response = client.http.get("/health")

    assert response.status_code == 503
    assert json.loads(response.body)["components"] == {
        "s3": "s3 cannot be reached.",
        "dynamodb": "dynamodb cannot be reached.",
        "sqs": "sqs cannot be reached.",
    }
