"""Browser sessions in-process, on moto: the cookie Uppy 6 authenticates with, who may use it, and
that ending it ends it."""

from __future__ import annotations

import json
from typing import Any

import pytest
from chalice.test import Client

from chalicelib import aws
from chalicelib.auth import context
from chalicelib.auth.tokens import issue_local_token
from chalicelib.files.keys import encode_key
from chalicelib.settings import get_settings
from tests.helpers import ALICE, LOCAL_SECRET, call, create, drain, new_bucket, png, store, upload

HOST = "api.example"
OWN = {"Host": HOST, "Origin": f"http://{HOST}"}
STARTED = {"filename": "a.bin", "metadata": {}}


def sign_in(api: Client) -> str:
    """The cookie POST /session sets, as a browser would send it back."""
    response = api.http.post("/session", headers=ALICE)
    assert response.status_code == 204
    cookie = response.headers["Set-Cookie"]
    assert "HttpOnly" in cookie and "SameSite=Strict" in cookie and "Max-Age=" in cookie
    return cookie.split(";", 1)[0]


def start_upload(api: Client, cookie: str, bucket: str, **headers: str) -> tuple[int, Any]:
    body = json.dumps({**STARTED, "metadata": {"bucket": bucket}})
    response = api.http.post(
        "/s3/multipart",
        body=body,
        headers={"Content-Type": "application/json", "Cookie": cookie, **headers},
    )
    return response.status_code, json.loads(response.body)


def test_the_session_cookie_authenticates_uppy_requests_from_the_own_origin(api: Client) -> None:
    bucket = new_bucket(api)
    cookie = sign_in(api)

    assert start_upload(api, cookie, bucket, **OWN)[0] == 200
    assert start_upload(api, cookie, bucket, Host=HOST, **{"Sec-Fetch-Site": "same-origin"})[0] == 200
    assert api.http.post("/session").status_code == 401
    assert start_upload(api, "vellum_session=forged", bucket, **OWN)[0] == 401


@pytest.mark.parametrize(
    "headers",
    [
        {"Host": HOST},  # neither header: not a browser on the own origin
        {"Host": HOST, "Origin": "http://127.0.0.1:9"},  # a sibling origin of the same site
        {"Host": HOST, "Origin": "null"},  # a sandboxed frame
        {"Host": HOST, "Origin": f"https://{HOST}"},  # another scheme is another origin
        {"Host": HOST, "Sec-Fetch-Site": "same-site", "Origin": "http://other.example"},
    ],
    ids=["no-origin", "sibling", "null", "scheme", "same-site"],
)
def test_the_session_cookie_is_refused_from_any_other_origin(api: Client, headers: dict[str, str]) -> None:
    bucket = new_bucket(api)
    cookie = sign_in(api)

    status, body = start_upload(api, cookie, bucket, **headers)

    assert status == 403
    assert "own origin" in body["message"]
    _, uploads, _ = call(api, "get", f"/files/{bucket}?uploads")
    assert uploads["uploads"] == []


def test_a_configured_origin_may_use_the_cookie_but_a_wildcard_names_nobody(
    api: Client, monkeypatch: pytest.MonkeyPatch
) -> None:
    bucket = new_bucket(api)
    cookie = sign_in(api)
    configured = get_settings().model_copy(update={"cors_origins": ["*", "https://console.example"]})
    monkeypatch.setattr(context, "get_settings", lambda: configured)

    assert start_upload(api, cookie, bucket, Host=HOST, Origin="https://console.example")[0] == 200
    assert start_upload(api, cookie, bucket, Host=HOST, Origin="https://elsewhere.example")[0] == 403


def test_the_cookie_authenticates_nothing_outside_the_uppy_routes(api: Client) -> None:
    cookie = sign_in(api)
    headers = {"Content-Type": "application/json", "Cookie": cookie, **OWN}

    assert json.loads(api.http.get("/me", headers=headers).body) == {"anonymous": True}
    created = api.http.post("/records", body=json.dumps({"metadata": {"title": "T"}}), headers=headers)
    assert created.status_code == 401


def draft_with_an_image(api: Client, pump: Any) -> tuple[dict[str, Any], dict[str, Any]]:
    """A draft with a CSV and an image ingest has described, and the image's object JSON."""
    record = create(api, {"title": "Draft"})
    assert upload(api, record, "data.csv", b"a,b\n1,2\n") == 200
    assert upload(api, record, "map.png", png(300, 200)) == 200
    drain(pump)
    image = call(api, "get", f"/files/{record['bucket_id']}/{encode_key('map.png')}?meta")[1]
    return record, image


def reads(record: dict[str, Any], image: dict[str, Any]) -> dict[str, str]:
    """What a browser opens from the console without script: pages, bytes, a viewer's requests."""
    links = image["links"]
    return {
        "preview": f"/records/{record['id']}/preview/{encode_key('data.csv')}",
        "object preview": f"/files/{record['bucket_id']}/{encode_key('data.csv')}?preview",
        "download": f"/files/{record['bucket_id']}/{encode_key('data.csv')}?download",
        "manifest": f"/iiif/presentation/{record['id']}/manifest",
        "info.json": links["iiif_info"].split("localhost", 1)[1],
        "thumbnail": links["thumbnail"].split("localhost", 1)[1],
    }


def test_the_cookie_opens_a_drafts_previews_bytes_and_images_on_the_own_origin(
    api: Client, pump: Any
) -> None:
    record, image = draft_with_an_image(api, pump)
    cookie = sign_in(api)

    for name, path in reads(record, image).items():
        for fetch_site in ("same-origin", "none"):  # a link in the console; a link opened, typed, bookmarked
            answer = api.http.get(
                path, headers={"Cookie": cookie, "Host": HOST, "Sec-Fetch-Site": fetch_site}
            )
            assert answer.status_code in (200, 302, 303), (name, fetch_site, answer.body[:200])
            assert "public" not in answer.headers.get("Cache-Control", ""), name  # never in a shared cache
        assert api.http.get(path, headers={"Host": HOST}).status_code == 404, name  # a draft is hers alone


@pytest.mark.parametrize(
    "headers",
    [
        {"Sec-Fetch-Site": "same-site"},  # a sibling origin's page (another port, a subdomain)
        {"Sec-Fetch-Site": "cross-site"},  # a browser that sent a Strict cookie anyway
    ],
    ids=["same-site", "cross-site"],
)
def test_the_cookie_reads_nothing_for_another_origin(api: Client, pump: Any, headers: dict[str, str]) -> None:
    record, image = draft_with_an_image(api, pump)
    cookie = sign_in(api)

    for name, path in reads(record, image).items():
        answer = api.http.get(path, headers={"Cookie": cookie, "Host": HOST, **headers})
        assert answer.status_code == 404, name  # as for anyone: the cookie is not looked at


def test_the_cookie_changes_nothing_outside_the_uppy_routes(api: Client, pump: Any) -> None:
    record, _ = draft_with_an_image(api, pump)
    cookie = sign_in(api)
    own = {
        "Cookie": cookie,
        "Host": HOST,
        "Sec-Fetch-Site": "same-origin",
        "Content-Type": "application/json",
    }
    data = f"/files/{record['bucket_id']}/{encode_key('data.csv')}"

    assert api.http.delete(data, headers=own).status_code == 404  # as for anyone: not seen
    assert api.http.put(f"{data}?tags", body=json.dumps({"a": "b"}), headers=own).status_code in (401, 404)
    assert api.http.post(f"/records/{record['id']}/publish", headers=own).status_code in (401, 404)
    assert api.http.get(f"/records/{record['id']}", headers=own).status_code == 404  # JSON: the token's
    assert call(api, "get", f"/records/{record['id']}")[1]["state"] == "draft"
    assert call(api, "get", f"{data}?tags")[1] == {"tags": {}}
    assert call(api, "get", f"{data}?meta")[0] == 200  # still there


def test_an_ended_session_reads_as_anyone_and_public_files_stay_readable(api: Client, pump: Any) -> None:
    record, image = draft_with_an_image(api, pump)
    cookie = sign_in(api)
    own = {"Cookie": cookie, "Host": HOST, "Sec-Fetch-Site": "same-origin"}
    api.http.delete("/session", headers={"Cookie": cookie, **OWN})

    assert api.http.get(reads(record, image)["preview"], headers=own).status_code == 404
    public = new_bucket(api, public_read=True)
    store(api, public, "open.txt", b"open")
    assert api.http.get(f"/files/{public}/{encode_key('open.txt')}?preview", headers=own).status_code == 200


def test_ending_the_session_ends_it_wherever_the_cookie_was_copied(api: Client) -> None:
    bucket = new_bucket(api)
    cookie = sign_in(api)
    assert start_upload(api, cookie, bucket, **OWN)[0] == 200

    ended = api.http.delete("/session", headers={"Cookie": cookie, **OWN})

    assert ended.status_code == 204
    assert "Max-Age=0" in ended.headers["Set-Cookie"]
    status, body = start_upload(api, cookie, bucket, **OWN)
    assert status == 401
    assert body["message"] == "The session has ended: sign in again."
    # Ending an ended session is no error; another origin cannot end one.
    assert api.http.delete("/session", headers={"Cookie": cookie, **OWN}).status_code == 204
    other = sign_in(api)
    assert api.http.delete("/session", headers={"Cookie": other, "Host": HOST}).status_code == 403
    assert start_upload(api, other, bucket, **OWN)[0] == 200


def test_the_sessions_table_holds_no_usable_key(api: Client) -> None:
    key = sign_in(api).split("=", 1)[1]

    items = aws.dynamodb().scan(TableName=get_settings().sessions_table)["Items"]

    assert items and all(key not in json.dumps(item) for item in items)
    mine = [item for item in items if item["sub"]["S"] == "alice"]
    assert mine and all(int(item["expires_at"]["N"]) > 0 for item in mine)


def test_a_session_ends_when_its_token_would_have(api: Client) -> None:
    token = issue_local_token(LOCAL_SECRET, "alice", [], ttl_seconds=600)

    cookie = api.http.post("/session", headers={"Authorization": f"Bearer {token}"}).headers["Set-Cookie"]

    assert 590 <= int(cookie.split("Max-Age=", 1)[1].split(";", 1)[0]) <= 600
