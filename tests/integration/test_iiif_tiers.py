"""Tiered access in-process, on moto: a public record's restricted images shown to anyone as a
degraded copy no larger than the record allows, with the way to sign in for the rest (IIIF Auth 1.0
section 3.2, 2.0 section 7.1)."""

from __future__ import annotations

import io
import json
from typing import Any

import pytest
from chalice.test import Client
from PIL import Image

from tests.helpers import ALICE, BOB, call, create, drain, png, store
from tests.integration.test_iiif_auth import VIEWER, get, open_access, services_of, token2

DEGRADED = "~degraded"
WIDE, HIGH = 1200, 800


def gradient() -> bytes:
    """Left to right from black to red: any column's colour says where in the image it came from."""
    image = Image.new("RGB", (WIDE, HIGH))
    image.putdata([(x * 255 // (WIDE - 1), 0, 0) for _ in range(HIGH) for x in range(WIDE)])
    buffer = io.BytesIO()
    image.save(buffer, format="PNG")
    return buffer.getvalue()


def tiered_record(api: Client, pump: Any, size: int = 300) -> dict[str, Any]:
    access = {"record": "public", "files": "restricted", "degraded_size": size}
    record = create(api, {"title": "Maps"}, access=access)
    image = store(api, record["bucket_id"], "map.png", gradient())
    pdf = store(api, record["bucket_id"], "notes.pdf", b"%PDF-1.4\n%%EOF\n")
    drain(pump)
    assert call(api, "post", f"/records/{record['id']}/publish")[0] == 200
    return {"record": record, "image": image["version_id"], "pdf": pdf["version_id"]}


def pixels(response: Any) -> Image.Image:
    assert response.status_code == 200, response.body
    return Image.open(io.BytesIO(response.body))


def test_a_record_keeps_its_degraded_size_and_refuses_one_that_means_nothing(api: Client) -> None:
    record = create(api, access={"record": "public", "files": "restricted", "degraded_size": 400})
    assert record["access"] == {"record": "public", "files": "restricted", "degraded_size": 400}
    assert create(api)["access"] == {"record": "public", "files": "public"}  # none unless asked for

    for access, field in (
        ({"record": "public", "files": "public", "degraded_size": 400}, "access"),
        ({"record": "restricted", "files": "restricted", "degraded_size": 400}, "access"),
        ({"record": "public", "files": "restricted", "degraded_size": 10}, "access.degraded_size"),
        ({"record": "public", "files": "restricted", "degraded_size": 100_000}, "access.degraded_size"),
        ({"record": "public", "files": "restricted", "degraded_size": "big"}, "access.degraded_size"),
    ):
        status, body, _ = call(api, "post", "/records", {"metadata": {"title": "A"}, "access": access})
        assert status == 400, body
        assert field in {error["field"] for error in body["errors"]}, body
        if field == "access":  # our own sentence, without pydantic's "Value error, "
            assert body["errors"][0]["message"].startswith("degraded_size is for a public record")
    # The refused ones left nothing behind.
    assert len(call(api, "get", "/records?owner=me")[1]["records"]) == 2


@pytest.mark.parametrize("api_version", ["3", "2"])
def test_those_who_may_not_see_the_image_are_sent_to_its_degraded_tier(
    api: Client, pump: Any, api_version: str
) -> None:
    made = tiered_record(api, pump)
    full = f"/iiif/{api_version}/{made['image']}"
    degraded = f"http://localhost/iiif/{api_version}/{made['image']}{DEGRADED}"

    for headers in ({"Origin": VIEWER}, BOB):
        redirect = get(api, f"{full}/info.json", headers)
        assert redirect.status_code == 302, redirect.body
        assert redirect.headers["Location"] == f"{degraded}/info.json"
        assert redirect.headers["Cache-Control"] == "no-store"
    assert get(api, f"{full}/info.json", {"Origin": VIEWER}).headers["Access-Control-Allow-Origin"] == VIEWER
    owner = get(api, f"{full}/info.json", ALICE)
    assert owner.status_code == 200 and json.loads(owner.body)["width"] == WIDE

    tier = get(api, f"/iiif/{api_version}/{made['image']}{DEGRADED}/info.json")
    assert tier.status_code == 200
    document = json.loads(tier.body)
    assert document.get("id", document.get("@id")) == degraded  # not the full one: how 1.0 clients tell
    assert (document["width"], document["height"]) == (300, 200)
    # 1.0's sign-in, for the full image; no 2.0 probe, which must differ between tiers.
    assert list(services_of(document)) == ["AuthCookieService1"]
    assert tier.headers["Cache-Control"] == "public, max-age=3600"  # no year in the CDN (routes.py)


def test_the_degraded_tier_holds_no_more_than_its_size_of_the_image(api: Client, pump: Any) -> None:
    made = tiered_record(api, pump)
    tier = f"/iiif/3/{made['image']}{DEGRADED}"

    whole = pixels(get(api, f"{tier}/full/max/0/default.png"))
    assert whole.size == (300, 200)
    # The right half of the tier is the right half of the image, at the tier's resolution.
    right = pixels(get(api, f"{tier}/150,0,150,200/max/0/default.png"))
    assert right.size == (150, 200)
    assert abs(right.getpixel((0, 100))[0] - 128) <= 3 and right.getpixel((149, 100))[0] >= 250
    # Zooming into the tier gives its pixels larger, never the full image's detail.
    zoomed = pixels(get(api, f"{tier}/0,0,30,20/^600,/0/default.png"))
    assert zoomed.size == (600, 400)
    assert len({zoomed.getpixel((x, 200))[0] for x in range(600)}) <= 32  # 30 source columns' worth
    # A region past its edge is cut at the edge (Image API 3.0 section 4.1), as for any image.
    assert pixels(get(api, f"{tier}/0,0,4000,2000/max/0/default.png")).size == (300, 200)
    # The full image stays refused to them.
    assert get(api, f"/iiif/3/{made['image']}/full/max/0/default.png").status_code == 401
    assert get(api, f"/iiif/3/{made['image']}/0,0,30,20/max/0/default.png", BOB).status_code == 403


def test_the_probe_offers_the_degraded_tier_to_those_who_may_not_see_the_image(
    api: Client, pump: Any
) -> None:
    made = tiered_record(api, pump)
    service = f"http://localhost/iiif/3/{made['image']}{DEGRADED}"
    substitute = {
        "id": f"{service}/full/max/0/default.jpg",
        "type": "Image",
        "format": "image/jpeg",
        "width": 300,
        "height": 200,
        "label": {"en": ["A smaller copy anyone may see, at most 300 pixels a side"]},
        "service": [{"id": service, "type": "ImageService3", "profile": "level2"}],
    }
    anonymous = json.loads(get(api, f"/auth/probe/{made['image']}").body)
    assert (anonymous["status"], anonymous["substitute"]) == (401, [substitute])
    bobs = token2(api, open_access(api, BOB))["accessToken"]
    bob = json.loads(get(api, f"/auth/probe/{made['image']}", {"Authorization": f"Bearer {bobs}"}).body)
    assert (bob["status"], bob["substitute"]) == (403, [substitute])
    alices = token2(api, open_access(api))["accessToken"]
    owner = json.loads(get(api, f"/auth/probe/{made['image']}", {"Authorization": f"Bearer {alices}"}).body)
    assert owner["status"] == 200 and "substitute" not in owner  # section 5.3.3: only when denied
    pdf = json.loads(get(api, f"/auth/probe/{made['pdf']}").body)
    assert pdf["status"] == 401 and "substitute" not in pdf  # no lower tier of a PDF
    assert get(api, substitute["id"]).status_code == 200  # anyone may load what it names


def test_no_tier_is_there_where_the_record_offers_none(api: Client, pump: Any) -> None:
    untiered = create(api, access={"record": "public", "files": "restricted"})
    restricted = store(api, untiered["bucket_id"], "a.png", png(600, 400))["version_id"]
    public = create(api)
    shown = store(api, public["bucket_id"], "b.png", png(600, 400))["version_id"]
    draft = create(api, access={"record": "public", "files": "restricted", "degraded_size": 100})
    unpublished = store(api, draft["bucket_id"], "c.png", png(600, 400))["version_id"]
    drain(pump)
    for record in (untiered, public):
        assert call(api, "post", f"/records/{record['id']}/publish")[0] == 200
    made = tiered_record(api, pump)

    assert get(api, f"/iiif/3/{restricted}/info.json").status_code == 401  # no lower tier: 1.0's 401
    for identifier in (restricted, shown, unpublished, made["pdf"]):
        assert get(api, f"/iiif/3/{identifier}{DEGRADED}/info.json").status_code == 404, identifier
    for identifier in (f"{made['image']}~other", f"{made['image']}{DEGRADED}{DEGRADED}"):
        assert get(api, f"/iiif/3/{identifier}/info.json").status_code == 404
    # A draft's owner sees the draft's image itself; nobody else learns it exists.
    assert get(api, f"/iiif/3/{unpublished}/info.json", ALICE).status_code == 200
    assert get(api, f"/iiif/3/{unpublished}/info.json").status_code == 404


def test_the_manifest_shows_everyone_thumbnails_from_the_degraded_copy(api: Client, pump: Any) -> None:
    made = tiered_record(api, pump)
    manifest = json.loads(get(api, f"/iiif/presentation/{made['record']['id']}/manifest").body)

    [canvas] = manifest["items"]
    [thumbnail] = canvas["thumbnail"]
    tier = f"http://localhost/iiif/3/{made['image']}{DEGRADED}"
    assert thumbnail["id"].startswith(f"{tier}/full/")
    assert thumbnail["service"] == [{"id": tier, "type": "ImageService3", "profile": "level2"}]
    assert max(thumbnail["width"], thumbnail["height"]) <= 300
    shown = pixels(get(api, thumbnail["id"].removeprefix("http://localhost")))
    assert shown.size == (thumbnail["width"], thumbnail["height"])
    assert manifest["thumbnail"] == canvas["thumbnail"]
    # What the canvas paints stays the full image, with the way to sign in for it.
    body = canvas["items"][0]["items"][0]["body"]
    [image_service] = body["service"]
    assert image_service["id"] == f"http://localhost/iiif/3/{made['image']}"
    assert "AuthProbeService2" in services_of(image_service)
