"""The IIIF Authorization Flow in-process, on moto: the services restricted images carry, the
access cookie, both token services, the probe, and what none of them may do."""

from __future__ import annotations

import json
import re
from typing import Any

import pytest
from chalice.test import Client

from chalicelib.iiif import auth_routes
from chalicelib.settings import get_settings
from tests.helpers import ALICE, BOB, call, create, drain, object_path, png, store

VIEWER = "https://viewer.example"
AUTH1 = "http://iiif.io/api/auth/1/"


def restricted_record(api: Client, pump: Any) -> dict[str, Any]:
    """A published record anyone may read, whose files only its owner (alice) may."""
    record = create(api, {"title": "Letters"}, access={"record": "public", "files": "restricted"})
    image = store(api, record["bucket_id"], "secret letter.png", png(600, 400))
    pdf = store(api, record["bucket_id"], "transcript.pdf", b"%PDF-1.4\n%%EOF\n")
    drain(pump)
    assert call(api, "post", f"/records/{record['id']}/publish")[0] == 200
    return {"record": record, "image": image["version_id"], "pdf": pdf["version_id"]}


def get(api: Client, path: str, headers: dict[str, str] | None = None) -> Any:
    return api.http.get(path, headers=headers or {})


def open_access(api: Client, headers: dict[str, str] = ALICE) -> str:
    """The access cookie POST /auth/access sets, as a browser sends it back."""
    response = api.http.post("/auth/access", headers=headers)
    assert response.status_code == 204, response.body
    cookie = response.headers["Set-Cookie"]
    assert re.fullmatch(
        r"vellum_access=[\w-]{40,}; Path=/; HttpOnly; Secure; SameSite=None; Max-Age=28800", cookie
    )
    return cookie.split(";", 1)[0]


def posted(response: Any) -> tuple[dict[str, Any], str]:
    """The message a token service page posts, and the origin it posts it to."""
    assert response.status_code == 200
    assert response.headers["Content-Type"] == "text/html; charset=utf-8"
    found = re.search(
        r'<script type="application/json" id="message" data-origin="([^"]*)">(.*?)</script>',
        response.body.decode(),
    )
    assert found, response.body
    return json.loads(found.group(2)), found.group(1)


def token2(api: Client, cookie: str | None, origin: str = VIEWER, message_id: str = "m1") -> dict[str, Any]:
    headers = {"Cookie": cookie} if cookie else {}
    message, target = posted(get(api, f"/auth/token?messageId={message_id}&origin={origin}", headers))
    assert target == origin
    assert message["messageId"] == message_id
    return message


def services_of(document: dict[str, Any]) -> dict[str, dict[str, Any]]:
    return {service.get("type") or service["@type"]: service for service in document["service"]}


def test_a_restricted_image_says_how_to_sign_in_to_those_who_may_not_see_it(api: Client, pump: Any) -> None:
    made = restricted_record(api, pump)
    info = f"/iiif/3/{made['image']}/info.json"

    anonymous = get(api, info, {"Origin": VIEWER})
    signed_in_as_bob = get(api, info, BOB)
    owner = get(api, info, ALICE)

    assert (anonymous.status_code, signed_in_as_bob.status_code, owner.status_code) == (401, 403, 200)
    assert anonymous.headers["WWW-Authenticate"] == "Bearer"
    assert anonymous.headers["Cache-Control"] == "no-store"
    assert anonymous.headers["Access-Control-Allow-Origin"] == VIEWER  # the viewer reads the 401's body
    assert anonymous.headers["Access-Control-Allow-Credentials"] == "true"
    for answer in (anonymous, signed_in_as_bob, owner):
        document = json.loads(answer.body)
        assert document["@context"] == [
            "http://iiif.io/api/auth/2/context.json",
            "http://iiif.io/api/image/3/context.json",
        ]
        assert document["width"] == 600
        services = services_of(document)
        probe, login = services["AuthProbeService2"], services["AuthCookieService1"]
        assert probe["id"] == f"http://localhost/auth/probe/{made['image']}"
        [access] = probe["service"]
        assert (access["type"], access["profile"], access["id"]) == (
            "AuthAccessService2",
            "active",
            "http://localhost/auth/login",
        )
        assert {s["type"]: s["id"] for s in access["service"]} == {
            "AuthAccessTokenService2": "http://localhost/auth/token",
            "AuthLogoutService2": "http://localhost/auth/logout",
        }
        # What Mirador 4 and the Universal Viewer 4 look for: full 1.0 profiles, plain-string labels.
        assert login["profile"] == AUTH1 + "login" and isinstance(login["label"], str)
        assert {s["profile"]: s["@id"] for s in login["service"]} == {
            AUTH1 + "token": "http://localhost/auth/1/token",
            AUTH1 + "logout": "http://localhost/auth/logout",
        }
        assert all(isinstance(service["profile"], str) for service in document["service"])
    assert owner.headers["Cache-Control"].startswith("private")


def test_public_and_hidden_images_carry_no_services_and_hidden_ones_stay_hidden(
    api: Client, pump: Any
) -> None:
    public = create(api)
    shown = store(api, public["bucket_id"], "map.png", png(60, 40))
    draft = create(api)
    hidden = store(api, draft["bucket_id"], "draft.png", png(60, 40))
    drain(pump)
    assert call(api, "post", f"/records/{public['id']}/publish")[0] == 200

    document = json.loads(get(api, f"/iiif/3/{shown['version_id']}/info.json").body)
    assert "service" not in document and document["@context"] == "http://iiif.io/api/image/3/context.json"
    missing = get(api, "/iiif/3/0123456789abcdef0123456789abcdef/info.json")
    for stranger in ({}, BOB):
        answer = get(api, f"/iiif/3/{hidden['version_id']}/info.json", stranger)
        assert (answer.status_code, answer.body) == (404, missing.body)
        probe = get(api, f"/auth/probe/{hidden['version_id']}", stranger)
        unknown = get(api, "/auth/probe/0123456789abcdef0123456789abcdef", stranger)
        assert (probe.status_code, probe.body) == (unknown.status_code, unknown.body)
        assert probe.status_code == 404


def test_the_access_cookie_reads_restricted_images_from_any_site(api: Client, pump: Any) -> None:
    made = restricted_record(api, pump)
    cookie = open_access(api)
    cross_site = {"Cookie": cookie, "Sec-Fetch-Site": "cross-site", "Origin": VIEWER}

    info = get(api, f"/iiif/3/{made['image']}/info.json", cross_site)
    tile = get(api, f"/iiif/3/{made['image']}/full/60,/0/default.jpg", cross_site)
    download = get(api, object_path(made["record"]["bucket_id"], "transcript.pdf"), cross_site)

    assert (info.status_code, tile.status_code) == (200, 200)
    assert tile.headers["Cache-Control"].startswith("private")
    assert tile.headers["Access-Control-Allow-Origin"] == VIEWER
    assert download.status_code == 302, download.body
    # Not the console's session: the JSON API, and everything it writes, never take it.
    assert get(api, f"/records/{made['record']['id']}/files", cross_site).status_code in (200, 404)
    assert json.loads(get(api, "/me", {"Cookie": cookie}).body) == {"anonymous": True}


def test_the_token_service_trades_the_cookie_for_a_token_the_probe_and_images_take(
    api: Client, pump: Any
) -> None:
    made = restricted_record(api, pump)
    cookie = open_access(api)

    message = token2(api, cookie)
    bearer = {"Authorization": f"Bearer {message['accessToken']}"}

    assert message["@context"] == "http://iiif.io/api/auth/2/context.json"
    assert message["type"] == "AuthAccessToken2"
    assert 0 < message["expiresIn"] <= 3600
    assert message["accessToken"] not in cookie
    for identifier in (made["image"], made["pdf"]):
        assert json.loads(get(api, f"/auth/probe/{identifier}").body)["status"] == 401
        probe = get(api, f"/auth/probe/{identifier}", {**bearer, "Origin": VIEWER})
        assert probe.status_code == 200
        assert json.loads(probe.body) == {
            "@context": "http://iiif.io/api/auth/2/context.json",
            "type": "AuthProbeResult2",
            "status": 200,
        }
        assert probe.headers["Access-Control-Allow-Origin"] == VIEWER
    assert get(api, f"/iiif/3/{made['image']}/info.json", bearer).status_code == 200
    assert get(api, f"/iiif/2/{made['image']}/full/60,/0/default.png", bearer).status_code == 200
    bobs = token2(api, open_access(api, BOB))
    bob_probe = json.loads(
        get(api, f"/auth/probe/{made['image']}", {"Authorization": f"Bearer {bobs['accessToken']}"}).body
    )
    assert (bob_probe["status"], bob_probe["heading"]) == (403, {"en": ["Restricted"]})


def test_the_token_page_posts_only_to_the_origin_it_was_given(api: Client, pump: Any) -> None:
    cookie = open_access(api)
    response = get(api, f"/auth/token?messageId=</script><b>&origin={VIEWER}", {"Cookie": cookie})

    message, target = posted(response)
    policy = response.headers["Content-Security-Policy"]
    assert target == VIEWER and message["messageId"] == "</script><b>"
    assert "</script><b>" not in response.body.decode()  # data, never markup
    assert re.fullmatch(
        rf"default-src 'none'; script-src 'sha256-[A-Za-z0-9+/=]+'; frame-ancestors {VIEWER}", policy
    )
    assert response.headers["Cache-Control"] == "no-store"


@pytest.mark.parametrize(
    ("query", "problem"),
    [
        ("messageId=m1", "origin"),
        ("messageId=m1&origin=javascript:alert(1)", "origin"),
        (f"messageId=m1&origin={VIEWER}/path", "origin"),
        (f"origin={VIEWER}", "messageId"),
    ],
)
def test_a_token_request_without_a_usable_origin_or_message_id_is_refused_plainly(
    api: Client, query: str, problem: str
) -> None:
    response = get(api, f"/auth/token?{query}", {"Cookie": open_access(api)})

    assert response.status_code == 400
    assert problem in json.loads(response.body)["message"]


def test_the_token_service_answers_the_specs_errors(api: Client, monkeypatch: pytest.MonkeyPatch) -> None:
    cookie = open_access(api)
    assert token2(api, None)["profile"] == "missingAspect"
    assert token2(api, "vellum_access=forged")["profile"] == "expiredAspect"
    configured = get_settings().model_copy(update={"iiif_auth_origins": ["https://trusted.example"]})
    monkeypatch.setattr(auth_routes, "get_settings", lambda: configured)
    refused = token2(api, cookie, origin="https://elsewhere.example")
    allowed = token2(api, cookie, origin="https://trusted.example")

    assert refused["type"] == "AuthAccessTokenError2" and refused["profile"] == "invalidOrigin"
    assert "accessToken" not in refused
    assert allowed["type"] == "AuthAccessToken2"


def test_the_1_0_token_service_answers_a_frame_or_plain_json(api: Client, pump: Any) -> None:
    made = restricted_record(api, pump)
    cookie = open_access(api)

    message, target = posted(get(api, f"/auth/1/token?messageId=1&origin={VIEWER}", {"Cookie": cookie}))
    plain = get(api, "/auth/1/token", {"Cookie": cookie})
    without = get(api, "/auth/1/token")
    framed_without, _ = posted(get(api, f"/auth/1/token?messageId=1&origin={VIEWER}"))

    assert target == VIEWER and set(message) == {"accessToken", "expiresIn", "messageId"}
    assert plain.status_code == 200 and set(json.loads(plain.body)) == {"accessToken", "expiresIn"}
    assert (without.status_code, json.loads(without.body)["error"]) == (401, "missingCredentials")
    assert framed_without["error"] == "missingCredentials" and framed_without["messageId"] == "1"
    bearer = {"Authorization": f"Bearer {message['accessToken']}"}
    assert get(api, f"/iiif/3/{made['image']}/info.json", bearer).status_code == 200


def test_access_credentials_never_write(api: Client, pump: Any) -> None:
    draft = create(api)
    store(api, draft["bucket_id"], "notes.txt", b"keep me")
    cookie = open_access(api)
    token = token2(api, cookie)["accessToken"]
    bucket = draft["bucket_id"]

    notes = object_path(bucket, "notes.txt")
    with_token = api.http.delete(notes, headers={"Authorization": f"Bearer {token}"})
    with_cookie = api.http.delete(notes, headers={"Cookie": cookie, "Sec-Fetch-Site": "same-origin"})
    new_record = api.http.post(
        "/records",
        body=json.dumps({"metadata": {"title": "B"}}),
        headers={"Cookie": cookie, "Content-Type": "application/json"},
    )
    trade = api.http.post("/auth/access", headers={"Authorization": f"Bearer {token}"})

    assert with_token.status_code == 401
    assert "only reads" in json.loads(with_token.body)["message"]
    assert (with_cookie.status_code, new_record.status_code, trade.status_code) == (404, 401, 401)
    assert get(api, notes, ALICE).status_code == 302


def test_logging_out_ends_the_cookie_and_every_token_at_once(api: Client, pump: Any) -> None:
    made = restricted_record(api, pump)
    cookie = open_access(api)
    bearer = {"Authorization": f"Bearer {token2(api, cookie)['accessToken']}"}
    info = f"/iiif/3/{made['image']}/info.json"
    assert get(api, info, bearer).status_code == 200

    out = get(api, "/auth/logout", {"Cookie": cookie})

    assert out.status_code == 200 and "Signed out" in out.body.decode()
    assert (
        out.headers["Set-Cookie"].startswith("vellum_access=; ") and "Max-Age=0" in out.headers["Set-Cookie"]
    )
    assert get(api, info, bearer).status_code == 401  # a forgotten token reads as anyone's
    assert get(api, info, {"Cookie": cookie}).status_code == 401
    assert json.loads(get(api, f"/auth/probe/{made['image']}", bearer).body)["status"] == 401
    assert token2(api, cookie)["profile"] == "expiredAspect"


def test_a_restricted_records_manifest_lists_its_images_unnamed_with_the_services(
    api: Client, pump: Any
) -> None:
    made = restricted_record(api, pump)
    path = f"/iiif/presentation/{made['record']['id']}/manifest"

    anyone = json.loads(get(api, path).body)
    owner = json.loads(get(api, path, ALICE).body)

    assert anyone["@context"] == [
        "http://iiif.io/api/auth/2/context.json",
        "http://iiif.io/api/presentation/3/context.json",
    ]
    [canvas] = anyone["items"]  # the image; the PDF is no canvas
    assert canvas["label"] == {"none": ["Image 1"]}
    assert "secret letter" not in json.dumps(anyone)
    [service] = canvas["items"][0]["items"][0]["body"]["service"]
    assert {s.get("type") or s["@type"] for s in service["service"]} == {
        "AuthProbeService2",
        "AuthCookieService1",
    }
    assert owner["items"][0]["label"] == {"none": ["secret letter.png"]}


def test_an_origin_with_auth_1_0s_trailing_slash_is_posted_to_as_the_origin(api: Client) -> None:
    cookie = open_access(api)

    message, target = posted(get(api, f"/auth/1/token?messageId=1&origin={VIEWER}/", {"Cookie": cookie}))

    assert target == VIEWER and "accessToken" in message
