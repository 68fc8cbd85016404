"""Every error reaches the client as {"status", "message", "errors"?} from the one middleware."""

from __future__ import annotations

import json
from collections.abc import Iterator
from typing import Any

import pytest
from chalice import Chalice
from chalice.test import Client

from chalicelib.auth.context import current_principal
from chalicelib.auth.policy import Action, require
from chalicelib.auth.tokens import issue_local_token
from chalicelib.errors import BadRequest, FieldError, NotFound
from chalicelib.middleware import REQUEST_ID_HEADER, handle_http
from chalicelib.settings import Settings
from tests.helpers import LOCAL_SECRET


@pytest.fixture
def client(local_env: Settings) -> Iterator[Client]:
    app = Chalice(app_name="vellum-error-test", configure_logs=False)
    app.register_middleware(handle_http, "http")

    @app.route("/missing")
    def missing() -> None:
        raise NotFound("No bucket with that id.")

    @app.route("/invalid")
    def invalid() -> None:
        raise BadRequest("The body is invalid.", [FieldError("size", "must be an integer")])

    @app.route("/crash")
    def crash() -> None:
        raise RuntimeError("password=hunter2 in /internal/module.py")

    @app.route("/echo", methods=["POST"])
    def echo() -> Any:
        return app.current_request.json_body

    @app.route("/buckets", methods=["POST"])
    def create_bucket() -> dict[str, str]:
        require(current_principal(), Action.BUCKET_CREATE, None)
        return {"owner": str(current_principal().sub)}

    with Client(app) as test_client:
        yield test_client


def body(response: Any) -> Any:
    return json.loads(response.body)


def test_a_domain_error_keeps_its_status_and_sentence(client: Client) -> None:
    response = client.http.get("/missing")

    assert response.status_code == 404
    assert body(response) == {"status": 404, "message": "No bucket with that id."}
    assert response.headers["Content-Type"] == "application/json"


def test_field_errors_are_listed(client: Client) -> None:
    response = client.http.get("/invalid")

    assert body(response) == {
        "status": 400,
        "message": "The body is invalid.",
        "errors": [{"field": "size", "message": "must be an integer"}],
    }


def test_an_unexpected_error_is_a_500_that_reveals_nothing_but_the_request_id(client: Client) -> None:
    response = client.http.get("/crash")

    assert response.status_code == 500
    request_id = response.headers[REQUEST_ID_HEADER]
    assert body(response) == {
        "status": 500,
        "message": f"An unexpected error occurred. Quote request id {request_id} when reporting it.",
    }
    assert "hunter2" not in response.body.decode()


def test_malformed_json_is_a_400_in_the_same_shape(client: Client) -> None:
    response = client.http.post("/echo", body=b"{not json", headers={"Content-Type": "application/json"})

    assert response.status_code == 400
    assert body(response) == {"status": 400, "message": "Error Parsing JSON"}


def test_a_wrong_method_is_a_405_in_the_same_shape(client: Client) -> None:
    response = client.http.delete("/missing")

    assert response.status_code == 405
    assert body(response) == {"status": 405, "message": "Unsupported method: DELETE"}


def test_every_response_carries_a_request_id(client: Client) -> None:
    first = client.http.get("/missing").headers[REQUEST_ID_HEADER]
    second = client.http.get("/missing").headers[REQUEST_ID_HEADER]

    assert first and second and first != second


def test_an_anonymous_call_to_a_route_that_needs_identity_is_a_401_with_a_bearer_challenge(
    client: Client,
) -> None:
    response = client.http.post("/buckets")

    assert response.status_code == 401
    assert response.headers["WWW-Authenticate"] == "Bearer"
    assert body(response)["status"] == 401


def test_a_valid_token_reaches_the_route_as_its_principal(client: Client) -> None:
    token = issue_local_token(LOCAL_SECRET, "alice", [])

    response = client.http.post("/buckets", headers={"Authorization": f"Bearer {token}"})

    assert response.status_code == 200
    assert body(response) == {"owner": "alice"}


def test_a_tampered_token_is_a_401_even_on_a_route_open_to_anyone(client: Client) -> None:
    header, payload, signature = issue_local_token(LOCAL_SECRET, "alice", []).split(".")
    tampered = f"{header}.{payload}.{signature[:-4]}AAAA"

    response = client.http.get("/missing", headers={"Authorization": f"Bearer {tampered}"})

    assert response.status_code == 401
    assert response.headers["WWW-Authenticate"] == 'Bearer error="invalid_token"'
    assert body(response) == {"status": 401, "message": "The token signature is invalid."}
