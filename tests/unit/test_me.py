from __future__ import annotations

import importlib
import json
from collections.abc import Iterator

import pytest
from chalice.test import Client

from chalicelib.auth.tokens import issue_local_token
from chalicelib.settings import Settings
from tests.helpers import LOCAL_SECRET


@pytest.fixture
def client(local_env: Settings) -> Iterator[Client]:
    app = importlib.import_module("app").app
    with Client(app) as test_client:
        yield test_client


def test_me_without_a_token_is_the_anonymous_principal(client: Client) -> None:
    response = client.http.get("/me")

    assert response.status_code == 200
    assert json.loads(response.body) == {"anonymous": True}


def test_me_with_a_token_names_the_caller_and_roles(client: Client) -> None:
    token = issue_local_token(LOCAL_SECRET, "alice", ["admin", "curator"])

    response = client.http.get("/me", headers={"Authorization": f"Bearer {token}"})

    assert json.loads(response.body) == {
        "anonymous": False,
        "sub": "alice",
        "roles": ["admin", "curator"],
        "admin": True,
    }


def test_me_with_an_expired_token_is_refused(client: Client) -> None:
    token = issue_local_token(LOCAL_SECRET, "alice", [], ttl_seconds=60, now=1_000_000)

    response = client.http.get("/me", headers={"Authorization": f"Bearer {token}"})

    assert response.status_code == 401
    assert json.loads(response.body) == {"status": 401, "message": "The token has expired."}
