"""The console's server side: the page at /, the local stage's sign-in, the record schema it renders."""

from __future__ import annotations

import html
import json
import re

import pytest
from chalice.test import Client
from pydantic import AnyHttpUrl

from chalicelib.files import storage
from chalicelib.settings import get_settings
from tests.helpers import ALICE, call


def test_the_console_page_loads_only_vellums_own_script_and_style(api: Client) -> None:
    page = api.http.get("/")

    assert page.status_code == 200
    assert page.headers["Content-Type"] == "text/html; charset=utf-8"
    policy = dict(part.split(" ", 1) for part in page.headers["Content-Security-Policy"].split("; "))
    assert policy["script-src"] == policy["style-src"] == "'self'"  # no inline code, no CDN
    assert (policy["default-src"], policy["frame-ancestors"]) == ("'none'", "'none'")
    assert policy["connect-src"] == f"'self' {storage.data_origin()}"  # Uppy sends the bytes to S3
    body = page.body.decode()
    assert '<script type="module" src="http://localhost/static/console/console.js">' in body
    assert "&quot;signIn&quot;: &quot;local&quot;" in body  # the config, escaped into an attribute


def test_the_local_stage_signs_anyone_in_and_the_token_works(api: Client) -> None:
    status, body, headers = call(api, "post", "/console/local-token", {"user": "carol", "admin": True}, {})
    assert (status, headers["Cache-Control"]) == (200, "no-store")

    status, me, _ = call(api, "get", "/me", headers={"Authorization": f"Bearer {body['token']}"})
    assert (status, me["sub"], me["admin"]) == (200, "carol", True)


@pytest.mark.parametrize("user", ["", "a b", "x" * 65, "<script>"])
def test_a_user_name_that_is_not_one_is_a_400(api: Client, user: str) -> None:
    status, body, _ = call(api, "post", "/console/local-token", {"user": user}, {})
    assert (status, body["status"]) == (400, 400)


def test_outside_the_local_stage_there_is_no_sign_in_as(api: Client, monkeypatch: pytest.MonkeyPatch) -> None:
    production = get_settings().model_copy(update={"stage": "prod", "local_token_secret": None})
    monkeypatch.setattr("chalicelib.console.routes.get_settings", lambda: production)

    status, body, _ = call(api, "post", "/console/local-token", {"user": "mallory", "admin": True}, {})

    assert (status, body["status"]) == (404, 404)
    assert "&quot;signIn&quot;: null" in api.http.get("/").body.decode()


def test_with_an_openid_provider_configured_the_console_signs_in_there(
    api: Client, monkeypatch: pytest.MonkeyPatch
) -> None:
    configured = get_settings().model_copy(
        update={
            "console_authorize_url": AnyHttpUrl("https://id.example/oauth2/authorize"),
            "console_token_url": AnyHttpUrl("https://login.example:8443/oauth2/token"),
            "console_client_id": "vellum-console",
        }
    )
    monkeypatch.setattr("chalicelib.console.routes.get_settings", lambda: configured)

    page = api.http.get("/")

    found = re.search(r'data-config="([^"]*)"', page.body.decode())
    assert found is not None
    assert json.loads(html.unescape(found.group(1)))["signIn"] == {
        "authorize": "https://id.example/oauth2/authorize",
        "token": "https://login.example:8443/oauth2/token",
        "clientId": "vellum-console",
        "scope": "openid",
        "issuer": "vellum-local",  # the local stage's: whose tokens its API accepts
    }
    policy = dict(part.split(" ", 1) for part in page.headers["Content-Security-Policy"].split("; "))
    # The page fetches tokens from the provider; it only navigates to the authorize endpoint.
    assert policy["connect-src"] == f"'self' {storage.data_origin()} https://login.example:8443"


def test_the_record_schema_is_served_for_forms(api: Client) -> None:
    answer = api.http.get("/schemas/record", headers=ALICE)

    assert answer.headers["Content-Type"] == "application/schema+json"
    schema = json.loads(answer.body)
    assert schema["required"] == ["title"]
    assert api.http.get("/schemas/record").status_code == 200  # anonymous too: it is no secret


def test_the_viewer_page_frames_mirador_on_the_records_manifest_and_only_for_the_console(api: Client) -> None:
    record_id = "0f8fad5b-d9cb-469f-a165-70867728950e"
    page = api.http.get(f"/console/viewer/{record_id}")

    assert page.status_code == 200
    body = page.body.decode()
    assert f'data-manifest="http://localhost/iiif/presentation/{record_id}/manifest"' in body
    assert '<script src="http://localhost/static/vendor/mirador-4.0.0/dist/mirador.min.js">' in body
    policy = dict(part.split(" ", 1) for part in page.headers["Content-Security-Policy"].split("; "))
    assert (policy["script-src"], policy["frame-ancestors"]) == ("'self'", "'self'")
    assert api.http.get("/console/viewer/..%2Fsecret").status_code == 404
