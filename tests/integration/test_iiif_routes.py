"""The IIIF Image API over Chalice's test client, on moto: identifiers, info.json, pixels, access."""

from __future__ import annotations

import hashlib
import io
import json
import time
from typing import Any
from urllib.parse import urlsplit

import pytest
import requests
from chalice.test import Client
from PIL import Image

from chalicelib import aws
from chalicelib.files.keys import encode_key
from tests.helpers import (
    ALICE,
    BOB,
    bearer,
    call,
    complete,
    create,
    drain,
    initiate,
    new_bucket,
    png,
    put,
    store,
    stored_key,
)


def picture(width: int = 400, height: int = 300) -> bytes:
    image = Image.new("RGB", (width, height), (255, 0, 0))
    image.paste((0, 0, 255), (width // 2, 0, width, height))  # right half blue
    buffer = io.BytesIO()
    image.save(buffer, format="PNG")
    return buffer.getvalue()


@pytest.fixture
def identifier(api: Client, pump: Any) -> tuple[str, str]:
    """A public bucket's ingested picture: (bucket id, IIIF identifier)."""
    bucket = new_bucket(api, public_read=True)
    drain(pump)
    content = picture()
    upload = initiate(api, bucket, len(content), key="pics/red-blue.png", content_type="image/png")
    put(upload["parts"][0], content)
    _, version = complete(api, bucket, upload["id"], key="pics/red-blue.png")
    drain(pump)
    return bucket, version["version_id"]


def get(api: Client, path: str, headers: dict[str, str] | None = None) -> Any:
    return api.http.get(path, headers=headers or {})


def test_info_json_describes_the_image_from_stored_facts(api: Client, identifier: tuple[str, str]) -> None:
    _, image_id = identifier

    response = get(api, f"/iiif/3/{image_id}/info.json")

    assert response.status_code == 200
    info = json.loads(response.body)
    assert (info["type"], info["profile"]) == ("ImageService3", "level2")
    assert (info["width"], info["height"]) == (400, 300)
    assert info["id"].endswith(f"/iiif/3/{image_id}")
    assert info["tiles"] == [{"width": 512, "scaleFactors": [1]}]
    assert info["preferredFormats"] == ["jpg"]  # the pyramid's format: viewers then get stored tiles
    assert response.headers["Access-Control-Allow-Origin"] == "*"
    assert response.headers["Link"] == '<http://iiif.io/api/image/3/level2.json>;rel="profile"'


def test_info_json_2_1_has_its_own_shape(api: Client, identifier: tuple[str, str]) -> None:
    _, image_id = identifier

    info = json.loads(get(api, f"/iiif/2/{image_id}/info.json").body)

    assert info["@context"] == "http://iiif.io/api/image/2/context.json"
    assert info["profile"][0] == "http://iiif.io/api/image/2/level2.json"


def test_json_ld_is_served_to_clients_that_ask_for_it(api: Client, identifier: tuple[str, str]) -> None:
    _, image_id = identifier

    response = get(api, f"/iiif/3/{image_id}/info.json", {"Accept": "application/ld+json"})

    assert (
        response.headers["Content-Type"]
        == 'application/ld+json;profile="http://iiif.io/api/image/3/context.json"'
    )


def test_the_base_uri_redirects_to_info_json(api: Client, identifier: tuple[str, str]) -> None:
    _, image_id = identifier

    response = get(api, f"/iiif/3/{image_id}")

    assert response.status_code == 303
    assert response.headers["Location"].endswith(f"/iiif/3/{image_id}/info.json")


def test_a_region_is_cut_scaled_and_encoded(api: Client, identifier: tuple[str, str]) -> None:
    _, image_id = identifier

    response = get(api, f"/iiif/3/{image_id}/200,0,200,300/100,/0/default.png")

    assert response.status_code == 200
    assert response.headers["Content-Type"] == "image/png"
    image = Image.open(io.BytesIO(response.body))
    assert image.size == (100, 150)
    assert image.convert("RGB").getpixel((50, 75)) == (0, 0, 255)
    assert response.headers["Cache-Control"] == "public, max-age=3600, s-maxage=31536000"
    assert 'rel="canonical"' in response.headers["Link"]


def test_gray_mirror_and_rotation_apply(api: Client, identifier: tuple[str, str]) -> None:
    _, image_id = identifier

    response = get(api, f"/iiif/3/{image_id}/full/max/!90/gray.jpg")

    image = Image.open(io.BytesIO(response.body))
    assert image.mode == "L"
    assert image.size == (300, 400)


def test_a_matching_etag_answers_304_without_rendering(api: Client, identifier: tuple[str, str]) -> None:
    _, image_id = identifier
    first = get(api, f"/iiif/3/{image_id}/full/max/0/default.jpg")

    again = get(api, f"/iiif/3/{image_id}/full/max/0/default.jpg", {"If-None-Match": first.headers["ETag"]})

    assert again.status_code == 304


def test_bad_requests_are_400_and_unknown_identifiers_404(api: Client, identifier: tuple[str, str]) -> None:
    _, image_id = identifier

    assert get(api, f"/iiif/3/{image_id}/full/max/0/default.bmp").status_code == 400
    assert get(api, f"/iiif/3/{image_id}/500,500,10,10/max/0/default.jpg").status_code == 400
    assert get(api, "/iiif/3/no-such-image/info.json").status_code == 404
    assert get(api, f"/iiif/4/{image_id}/info.json").status_code == 404
    assert get(api, "/iiif/3/no-such-image/info.json").headers["Access-Control-Allow-Origin"] == "*"


def test_a_private_image_is_hidden_from_others_and_never_cached_publicly(api: Client, pump: Any) -> None:
    bucket = new_bucket(api)
    drain(pump)
    content = picture(64, 64)
    upload = initiate(api, bucket, len(content), key="secret.png")
    put(upload["parts"][0], content)
    image_id = complete(api, bucket, upload["id"], key="secret.png")[1]["version_id"]
    drain(pump)

    assert get(api, f"/iiif/3/{image_id}/info.json").status_code == 404
    assert get(api, f"/iiif/3/{image_id}/info.json", BOB).status_code == 404
    mine = get(api, f"/iiif/3/{image_id}/full/max/0/default.jpg", ALICE)
    assert mine.status_code == 200
    assert mine.headers["Cache-Control"].startswith("private")
    assert get(api, f"/iiif/3/{image_id}/info.json", bearer("root", admin=True)).status_code == 200


def test_a_file_that_is_not_an_image_has_no_iiif_service(api: Client, pump: Any) -> None:
    bucket = new_bucket(api, public_read=True)
    drain(pump)
    upload = initiate(api, bucket, 5, key="notes.txt")
    put(upload["parts"][0], b"words")
    image_id = complete(api, bucket, upload["id"], key="notes.txt")[1]["version_id"]
    drain(pump)

    response = get(api, f"/iiif/3/{image_id}/info.json")

    assert response.status_code == 404
    assert json.loads(response.body)["message"].startswith("This file is not an image")


def test_an_image_still_being_ingested_is_a_503_no_cache_keeps(api: Client, pump: Any) -> None:
    bucket = new_bucket(api, public_read=True)
    drain(pump)
    content = picture()
    upload = initiate(api, bucket, len(content), key="pics/pending.png", content_type="image/png")
    put(upload["parts"][0], content)
    image_id = complete(api, bucket, upload["id"], key="pics/pending.png")[1]["version_id"]
    paths = [f"/iiif/{v}/{image_id}/info.json" for v in ("3", "2")] + [
        f"/iiif/3/{image_id}/full/max/0/default.jpg"
    ]

    for path in paths:
        waiting = get(api, path)
        assert (waiting.status_code, json.loads(waiting.body)["status"]) == (503, 503), path
        assert waiting.headers["Retry-After"] == "5"
        assert waiting.headers["Cache-Control"] == "no-store"  # else a cache would keep "not yet"

    drain(pump)
    for path in paths:
        assert get(api, path).status_code == 200, path


def test_only_those_who_may_see_an_image_learn_that_it_is_being_ingested(api: Client, pump: Any) -> None:
    bucket = new_bucket(api)
    drain(pump)
    version = store(api, bucket, "pics/private.png", picture())

    stranger = get(api, f"/iiif/3/{version['version_id']}/info.json", BOB)
    missing = get(api, "/iiif/3/0123456789abcdef0123456789abcdef/info.json", BOB)
    assert (stranger.status_code, stranger.body) == (404, missing.body)
    assert get(api, f"/iiif/3/{version['version_id']}/info.json", ALICE).status_code == 503


def test_info_json_has_an_etag_of_its_bytes_and_answers_a_match_with_a_304(
    api: Client, identifier: tuple[str, str]
) -> None:
    _, image_id = identifier
    for version in ("3", "2"):
        first = get(api, f"/iiif/{version}/{image_id}/info.json")
        assert first.headers["ETag"] == f'"{hashlib.sha256(first.body).hexdigest()[:32]}"'
        again = get(api, f"/iiif/{version}/{image_id}/info.json", {"If-None-Match": first.headers["ETag"]})
        assert (again.status_code, again.body) == (304, b"")
        assert again.headers["ETag"] == first.headers["ETag"]
    head = api.http.head(f"/iiif/3/{image_id}/info.json")
    assert head.headers["ETag"] == get(api, f"/iiif/3/{image_id}/info.json").headers["ETag"]


def big_picture_identifier(api: Client, pump: Any, content: bytes | None = None) -> tuple[str, str]:
    bucket = new_bucket(api, public_read=True)
    drain(pump)
    content = content or picture(1300, 900)
    upload = initiate(api, bucket, len(content), key="pics/big.png")
    put(upload["parts"][0], content)
    version = complete(api, bucket, upload["id"], key="pics/big.png")[1]
    drain(pump)
    return bucket, version["version_id"]


def test_ingest_stores_tiles_so_tile_requests_never_read_the_source(
    api: Client, pump: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    from chalicelib.iiif import images

    monkeypatch.setattr(images, "TILES_ABOVE_PIXELS", 1_000_000)  # as if 1300x900 were a large image
    bucket, image_id = big_picture_identifier(api, pump)
    info = json.loads(get(api, f"/iiif/3/{image_id}/info.json").body)
    assert info["tiles"] == [{"width": 512, "scaleFactors": [1, 2, 4]}]
    assert [size["width"] for size in info["sizes"]] == [128, 256, 325, 512, 650, 1300]  # levels, thumbnails
    # Remove the source: what a viewer asks for next must come from what ingest stored.
    aws.s3().delete_object(Bucket="vellum-local-data", Key=stored_key(api, bucket, "pics/big.png"))

    tile = get(api, f"/iiif/3/{image_id}/1024,0,276,512/276,512/0/default.jpg")
    scaled = get(api, f"/iiif/3/{image_id}/0,0,1024,900/256,/0/default.jpg")
    thumbnail = get(api, f"/iiif/3/{image_id}/full/256,177/0/default.jpg")
    other = get(api, f"/iiif/3/{image_id}/full/300,/0/gray.png")  # no tile: rendered from a level
    # Full resolution off the grid, across four tiles: pieced together from them.
    crop = get(api, f"/iiif/3/{image_id}/100,400,600,300/600,300/0/default.png")

    assert [r.status_code for r in (tile, scaled, thumbnail, other, crop)] == [200] * 5
    assert Image.open(io.BytesIO(tile.body)).size == (276, 512)
    assert Image.open(io.BytesIO(other.body)).size == (300, 208)
    pieced = Image.open(io.BytesIO(crop.body))
    assert pieced.size == (600, 300)
    assert list(pieced.getpixel((500, 150))) == pytest.approx([255, 0, 0], abs=8)  # x 600: red
    assert list(pieced.getpixel((560, 150))) == pytest.approx([0, 0, 255], abs=8)  # x 660: blue


def test_an_answer_too_large_for_lambda_is_a_303_to_s3(
    api: Client,
    pump: Any,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    from chalicelib.iiif import images

    _, image_id = big_picture_identifier(api, pump)
    monkeypatch.setattr(images, "MAX_INLINE_BYTES", 1_000)

    response = get(api, f"/iiif/3/{image_id}/full/max/0/default.png")

    assert response.status_code == 303
    # Kept at most half as long as the presigned URL it names lives (900 s here), never a year.
    assert response.headers["Cache-Control"] == "public, max-age=450"
    fetched = requests.get(response.headers["Location"], timeout=30)
    assert Image.open(io.BytesIO(fetched.content)).size == (1300, 900)


def test_the_consoles_viewer_may_show_an_answer_redirected_to_s3(
    api: Client, pump: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    from chalicelib.iiif import images

    _, image_id = big_picture_identifier(api, pump)
    monkeypatch.setattr(images, "MAX_INLINE_BYTES", 1_000)
    redirected = get(api, f"/iiif/3/{image_id}/full/max/0/default.png").headers["Location"]

    viewer = api.http.get("/console/viewer/0f8fad5b-d9cb-469f-a165-70867728950e")

    policy = dict(part.split(" ", 1) for part in viewer.headers["Content-Security-Policy"].split("; "))
    target = urlsplit(redirected)
    assert f"{target.scheme}://{target.netloc}" in policy["img-src"].split()  # a CSP checks redirects too


def test_an_images_json_links_to_its_iiif_service_and_thumbnail(api: Client, pump: Any) -> None:
    bucket, image_id = big_picture_identifier(api, pump)

    meta = call(api, "get", f"/files/{bucket}/{encode_key('pics/big.png')}?meta")[1]

    assert meta["links"]["iiif_info"].endswith(f"/iiif/3/{image_id}/info.json")
    assert meta["links"]["iiif_base"].endswith(f"/iiif/3/{image_id}")
    thumbnail = get(api, meta["links"]["thumbnail"].split("localhost", 1)[1])
    assert Image.open(io.BytesIO(thumbnail.body)).size == (256, 177)


def test_a_repeated_ingest_notice_makes_the_derivatives_once(api: Client, pump: Any) -> None:
    from chalicelib.ingest.derivatives import make_derivatives
    from chalicelib.ingest.handler import ingest_file

    bucket, _ = big_picture_identifier(api, pump)
    file_id = stored_key(api, bucket, "pics/big.png").removeprefix("data/")

    ingest_file(file_id)  # as if SQS delivered the notice again

    assert make_derivatives(file_id) == 0


def test_every_size_info_json_lists_is_served(
    api: Client, pump: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    from chalicelib.iiif import images
    from chalicelib.iiif.info import ImageLimits

    _, image_id = big_picture_identifier(api, pump)
    monkeypatch.setattr(images, "limits", lambda: ImageLimits(8192, 8192, 500_000, 512))  # under 1300x900

    info = json.loads(get(api, f"/iiif/3/{image_id}/info.json").body)

    assert [size["width"] for size in info["sizes"]] == [128, 256, 325, 512, 650]  # not the full 1300x900
    for size in info["sizes"]:
        assert (
            get(api, f"/iiif/3/{image_id}/full/{size['width']},{size['height']}/0/default.jpg").status_code
            == 200
        )


def encoded(image: Image.Image, format: str, **options: Any) -> bytes:
    buffer = io.BytesIO()
    image.save(buffer, format=format, **options)
    return buffer.getvalue()


def halves(mode: str, left: Any, right: Any) -> Image.Image:
    image = Image.new(mode, (1300, 900), left)
    image.paste(Image.new(mode, (650, 900), right), (650, 0))  # a colour would be clipped to 8 bits
    return image


def palette_gif() -> bytes:
    image = halves("P", 0, 1)
    image.putpalette([255, 0, 0, 0, 0, 255])
    return encoded(image, "GIF")


# Sources in modes Pillow cannot halve or smoothly scale as they are: each must be ingested into a
# pyramid whose tiles show the source's colours (red left, blue right; grey: dark left, light right).
SOURCES = {
    "palette GIF": (palette_gif, [(255, 0, 0), (0, 0, 255)]),
    "16-bit grey PNG": (lambda: encoded(halves("I;16", 10_000, 50_000), "PNG"), [39, 195]),
    "bilevel TIFF": (lambda: encoded(halves("1", 0, 1), "TIFF"), [0, 255]),
    "CMYK JPEG": (lambda: encoded(halves("CMYK", (0, 255, 255, 0), (255, 255, 0, 0)), "JPEG"), None),
    "RGBA PNG": (lambda: encoded(halves("RGBA", (255, 0, 0, 255), (0, 0, 255, 255)), "PNG"), None),
}


@pytest.mark.parametrize("name", SOURCES)
def test_images_of_every_mode_get_a_pyramid_in_their_colours(api: Client, pump: Any, name: str) -> None:
    make, expected = SOURCES[name]
    _, image_id = big_picture_identifier(api, pump, make())

    tile = get(api, f"/iiif/3/{image_id}/0,0,1024,900/512,450/0/default.jpg")  # scale 2: from level 1
    thumbnail = get(api, f"/iiif/3/{image_id}/full/128,89/0/default.jpg")

    assert (tile.status_code, thumbnail.status_code) == (200, 200)
    pixels = Image.open(io.BytesIO(tile.body))
    assert pixels.size == (512, 450)
    left, right = pixels.getpixel((100, 200)), pixels.getpixel((500, 200))
    if expected is None:  # colour sources: red left, blue right, as the CMYK/RGBA halves above are
        expected = [(255, 0, 0), (0, 0, 255)]
    if pixels.mode == "L":
        assert (left, right) == pytest.approx(expected, abs=4)
    else:
        assert list(left) == pytest.approx(expected[0], abs=12)
        assert list(right) == pytest.approx(expected[1], abs=12)


def test_a_photo_taken_sideways_is_served_upright(api: Client, pump: Any) -> None:
    # Stored 900 wide and 1300 high, red on top, with EXIF orientation 6: turn it 90 degrees clockwise.
    sideways = Image.new("RGB", (900, 1300), (255, 0, 0))
    sideways.paste((0, 0, 255), (0, 650, 900, 1300))
    exif = Image.Exif()
    exif[0x0112] = 6
    _, image_id = big_picture_identifier(api, pump, encoded(sideways, "JPEG", exif=exif.tobytes()))

    info = json.loads(get(api, f"/iiif/3/{image_id}/info.json").body)
    tile = Image.open(io.BytesIO(get(api, f"/iiif/3/{image_id}/0,0,1024,900/512,450/0/default.jpg").body))

    assert (info["width"], info["height"]) == (1300, 900)
    assert list(tile.getpixel((100, 200))) == pytest.approx([0, 0, 255], abs=12)  # the bottom, now left
    assert list(tile.getpixel((500, 200))) == pytest.approx([255, 0, 0], abs=12)


def test_a_warm_function_serves_a_tile_again_from_memory(api: Client, pump: Any) -> None:
    _, image_id = big_picture_identifier(api, pump)
    tile = f"/iiif/3/{image_id}/1024,0,276,512/276,512/0/default.jpg"
    first = get(api, tile)
    # Everything stored goes: only the function's memory can answer now.
    listed = aws.s3().list_objects_v2(Bucket="vellum-local-data")["Contents"]
    aws.s3().delete_objects(
        Bucket="vellum-local-data", Delete={"Objects": [{"Key": item["Key"]} for item in listed]}
    )

    again = get(api, tile)

    assert (first.status_code, again.status_code) == (200, 200)
    assert again.body == first.body


def test_access_is_read_again_once_the_cache_time_has_passed(
    api: Client, pump: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    from chalicelib.iiif import images
    from chalicelib.settings import get_settings

    settings = get_settings().model_copy(update={"iiif_access_cache_seconds": 0.2})
    monkeypatch.setattr(images, "get_settings", lambda: settings)
    images.recent.cache_clear()
    bucket, image_id = big_picture_identifier(api, pump)
    info = f"/iiif/3/{image_id}/info.json"
    assert get(api, info).status_code == 200  # public, and now cached

    made_private = api.http.patch(
        f"/files/{bucket}",
        headers={**ALICE, "Content-Type": "application/json"},
        body=json.dumps({"public_read": False}),
    )
    assert made_private.status_code == 200

    deadline = time.monotonic() + 5  # far beyond the 0.2 s the cache may keep the old answer
    while get(api, info).status_code != 404:
        assert time.monotonic() < deadline, "the image stayed public"
        time.sleep(0.02)
    assert get(api, info, ALICE).status_code == 200


def test_a_published_records_images_are_anyones_at_once(api: Client, pump: Any) -> None:
    record = create(api)
    version = store(api, record["bucket_id"], "map.png", png(600, 400))
    drain(pump)
    info = f"/iiif/3/{version['version_id']}/info.json"
    assert get(api, info, ALICE).status_code == 200  # the owner's look, kept in the warm cache
    assert get(api, info, BOB).status_code == 404

    assert call(api, "post", f"/records/{record['id']}/publish")[0] == 200

    assert get(api, info, BOB).status_code == 200  # not 10 s later, when the cache expires
    assert get(api, info).status_code == 200


def test_a_file_that_is_not_an_image_answers_others_as_a_missing_one_does(api: Client, pump: Any) -> None:
    bucket = new_bucket(api)
    version = store(api, bucket, "notes.txt", b"not an image")
    drain(pump)

    for stranger in ({}, BOB):
        answer = api.http.get(f"/iiif/3/{version['version_id']}/info.json", headers=stranger)
        missing = api.http.get("/iiif/3/0123456789abcdef0123456789abcdef/info.json", headers=stranger)
        assert (answer.status_code, answer.body) == (missing.status_code, missing.body) == (404, missing.body)
    owner = api.http.get(f"/iiif/3/{version['version_id']}/info.json", headers=ALICE)
    assert json.loads(owner.body)["message"].startswith("This file is not an image")


def test_a_turn_cannot_take_an_answer_beyond_the_limits(api: Client, pump: Any) -> None:
    _, image_id = big_picture_identifier(api, pump)

    refused = get(api, f"/iiif/3/{image_id}/full/^8192,2048/45/default.png")

    assert refused.status_code == 400
    assert "Turned by 45 degrees" in json.loads(refused.body)["message"]


def derivative_keys() -> set[str]:
    listed = aws.s3().list_objects_v2(Bucket="vellum-local-data", Prefix="derivatives/")
    return {item["Key"] for item in listed.get("Contents", [])}


def rendered_objects() -> dict[str, int]:
    """What S3 keeps of the (only) image's answers rendered on demand: key -> bytes."""
    [file_id] = {key.split("/")[1] for key in derivative_keys()}
    listed = aws.s3().list_objects_v2(Bucket="vellum-local-data", Prefix=f"rendered/{file_id}/")
    return {item["Key"]: item["Size"] for item in listed.get("Contents", [])}


def with_settings(monkeypatch: pytest.MonkeyPatch, **changes: Any) -> None:
    from chalicelib.iiif import images
    from chalicelib.settings import get_settings

    changed = get_settings().model_copy(update=changes)
    monkeypatch.setattr(images, "get_settings", lambda: changed)


def test_answers_rendered_on_demand_are_kept_where_they_expire(
    api: Client, identifier: tuple[str, str]
) -> None:
    _, image_id = identifier
    made_by_ingest = derivative_keys()

    assert get(api, f"/iiif/3/{image_id}/full/123,/0/default.png").status_code == 200

    assert derivative_keys() == made_by_ingest
    assert len(rendered_objects()) == 1
    rules = aws.s3().get_bucket_lifecycle_configuration(Bucket="vellum-local-data")["Rules"]
    [expiry] = [rule for rule in rules if rule["ID"] == "expire-rendered-answers"]
    assert (expiry["Filter"]["Prefix"], expiry["Expiration"]["Days"]) == ("rendered/", 30)


def test_an_image_stores_no_more_rendered_bytes_than_its_budget(
    api: Client, identifier: tuple[str, str], monkeypatch: pytest.MonkeyPatch
) -> None:
    _, image_id = identifier
    first = get(api, f"/iiif/3/{image_id}/full/101,/0/default.png")
    budget = len(first.body) + 10
    with_settings(monkeypatch, iiif_rendered_budget_bytes=budget)

    answers = [get(api, f"/iiif/3/{image_id}/full/{width},/0/default.png") for width in range(102, 112)]

    # Every answer is served; only what fits the budget is stored.
    assert [answer.status_code for answer in answers] == [200] * 10
    assert Image.open(io.BytesIO(answers[-1].body)).size[0] == 111
    assert sum(rendered_objects().values()) <= budget
    assert len(rendered_objects()) == 1


def test_a_large_answer_beyond_the_budget_is_a_429(
    api: Client, identifier: tuple[str, str], monkeypatch: pytest.MonkeyPatch
) -> None:
    from chalicelib.iiif import images

    _, image_id = identifier
    with_settings(monkeypatch, iiif_rendered_budget_bytes=0)
    monkeypatch.setattr(images, "MAX_INLINE_BYTES", 100)  # every answer is one to redirect to

    refused = get(api, f"/iiif/3/{image_id}/full/300,/0/default.png")

    assert refused.status_code == 429
    assert "smaller size" in json.loads(refused.body)["message"]
    assert rendered_objects() == {}


def test_no_request_decodes_more_pixels_than_the_bound(
    api: Client, identifier: tuple[str, str], monkeypatch: pytest.MonkeyPatch
) -> None:
    _, image_id = identifier  # 400x300, small enough to have no tiles: every answer decodes it
    with_settings(monkeypatch, iiif_max_decode_pixels=400 * 300 - 1)

    refused = get(api, f"/iiif/3/{image_id}/0,0,200,150/max/0/default.png")

    assert refused.status_code == 400
    assert json.loads(refused.body)["message"] == (
        "Answering this would decode the whole 400x300 image, more than the 119999 pixels one "
        "request may decode: ask for a smaller size, or a tile."
    )
    with_settings(monkeypatch, iiif_max_decode_pixels=400 * 300)
    assert get(api, f"/iiif/3/{image_id}/0,0,200,150/max/0/default.png").status_code == 200


def half_clear_picture(width: int = 1300, height: int = 900) -> bytes:
    """Left half fully transparent, right half opaque red."""
    image = Image.new("RGBA", (width, height), (0, 0, 255, 0))
    image.paste((255, 0, 0, 255), (width // 2, 0, width, height))
    buffer = io.BytesIO()
    image.save(buffer, format="PNG")
    return buffer.getvalue()


def test_an_image_with_transparency_is_served_from_its_own_pyramid_alpha_kept(
    api: Client, pump: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    from chalicelib.iiif import images

    bucket = new_bucket(api, public_read=True)
    drain(pump)
    version = store(api, bucket, "clear.png", half_clear_picture(), content_type="image/png")
    drain(pump)
    image_id = version["version_id"]
    assert {"alpha/level/1", "alpha/cell/0,0", "alpha/cell/2,1"} <= {
        key.split("/", 2)[2] for key in derivative_keys()
    }
    # No request may decode the source now, and full resolution comes from stored cells at any size.
    with_settings(monkeypatch, iiif_max_decode_pixels=1000)
    monkeypatch.setattr(images, "TILES_ABOVE_PIXELS", 0)

    region = get(api, f"/iiif/3/{image_id}/600,100,200,200/max/0/default.png")
    scaled = get(api, f"/iiif/3/{image_id}/full/325,/0/default.png")

    assert (region.status_code, scaled.status_code) == (200, 200), (region.body, scaled.body)
    cut = Image.open(io.BytesIO(region.body))
    assert (cut.size, cut.mode) == ((200, 200), "RGBA")
    assert cut.getpixel((10, 10))[3] == 0 and cut.getpixel((190, 10)) == (255, 0, 0, 255)
    small = Image.open(io.BytesIO(scaled.body))
    assert small.size == (325, 225) and small.mode == "RGBA"
    assert small.getpixel((10, 100))[3] == 0 and small.getpixel((300, 100)) == (255, 0, 0, 255)


@pytest.mark.parametrize("narrowing", ["bucket made private", "head deleted", "bucket deleted"])
def test_the_function_that_narrows_access_stops_answering_from_its_warm_cache_at_once(
    api: Client, identifier: tuple[str, str], narrowing: str
) -> None:
    bucket, image_id = identifier
    tile = f"/iiif/3/{image_id}/full/100,/0/default.jpg"
    assert get(api, tile).status_code == 200  # public, found, and now in the 10 s access cache
    path = f"/files/{bucket}"
    if narrowing == "bucket made private":
        changed = api.http.patch(
            path,
            headers={**ALICE, "Content-Type": "application/json"},
            body=json.dumps({"public_read": False}),
        )
    elif narrowing == "head deleted":
        changed = api.http.delete(f"{path}/{encode_key('pics/red-blue.png')}", headers=ALICE)
    else:
        changed = api.http.delete(path, headers=ALICE)
    assert changed.status_code in (200, 204), changed.body

    # A version no longer the head asks for a signed-in reader (401); the others are gone (404).
    assert get(api, tile).status_code == (401 if narrowing == "head deleted" else 404)


@pytest.mark.parametrize(
    "path",
    [
        "/iiif/3/some-id/info.json",
        "/iiif/2/some-id/full/max/0/default.jpg",
        "/iiif/3/some-id",
        "/iiif/presentation/some-record/manifest",
    ],
)
def test_iiif_routes_answer_a_viewers_preflight_from_any_origin(api: Client, path: str) -> None:
    # A viewer on another site sending a bearer token, or an Accept naming a JSON-LD profile, asks first.
    response = api.http.request(
        "OPTIONS",
        path,
        headers={
            "Origin": "https://viewer.example",
            "Access-Control-Request-Method": "GET",
            "Access-Control-Request-Headers": "authorization, accept",
        },
    )

    assert response.status_code == 204
    # Its own origin, with credentials: a viewer may send the IIIF access cookie (chalicelib.cors).
    assert response.headers["Access-Control-Allow-Origin"] == "https://viewer.example"
    assert response.headers["Access-Control-Allow-Credentials"] == "true"
    assert response.headers["Vary"] == "Origin"
    allowed = {name.strip().lower() for name in response.headers["Access-Control-Allow-Headers"].split(",")}
    assert {"authorization", "accept"} <= allowed
    assert "GET" in response.headers["Access-Control-Allow-Methods"]
