from __future__ import annotations

import io

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from PIL import Image

from chalicelib.errors import BadRequest
from chalicelib.iiif.geometry import Limits, plan_image
from chalicelib.iiif.info import scale_factors
from chalicelib.iiif.pyramid import cache_key, derivatives, tile_plan
from chalicelib.iiif.request import parse_image_request

NO_LIMITS = Limits()


@settings(max_examples=150, deadline=None)
@given(st.integers(1, 20_000), st.integers(1, 20_000), st.sampled_from([256, 512, 1024]), st.data())
def test_every_tile_a_viewer_asks_for_is_the_tile_ingest_stored(
    width: int, height: int, tile: int, data: st.DataObject
) -> None:
    scale = data.draw(st.sampled_from(scale_factors(width, height, tile)))
    column = data.draw(st.integers(0, -(-width // (tile * scale)) - 1))
    row = data.draw(st.integers(0, -(-height // (tile * scale)) - 1))
    stored = tile_plan(width, height, tile, scale, column, row)
    region = f"{stored.x},{stored.y},{stored.w},{stored.h}"

    # The exact form (3.0 viewers), and "w," wherever it names the same pixels (2.1 viewers).
    for version, size in (
        ("3", f"{stored.width},{stored.height}"),
        ("3", f"{stored.width},"),
        ("2", f"{stored.width},"),
    ):
        request = parse_image_request(version, region, size, "0", "default.jpg")
        try:
            plan = plan_image(request, width, height, NO_LIMITS)
        except BadRequest:
            # "w," on a sliver one pixel thick is less than a pixel high: viewers ask "w,h" there.
            assert size.endswith(","), "the exact size is always valid"
            continue
        if (plan.width, plan.height) == (stored.width, stored.height):
            assert cache_key(plan) == cache_key(stored), (version, region, size)
        else:
            assert size.endswith(","), "the exact size must always find the stored tile"


def test_a_typical_2_1_tile_request_finds_its_stored_tile() -> None:
    request = parse_image_request("2", "1024,512,512,512", "256,", "0", "default.jpg")

    plan = plan_image(request, 4000, 3000, NO_LIMITS)

    assert cache_key(plan) == cache_key(tile_plan(4000, 3000, 256, 2, 2, 1))


def test_ingest_stores_every_tile_level_and_thumbnail_from_one_image() -> None:
    image = Image.new("RGB", (1100, 700), (10, 200, 30))

    made = {
        derivative.key: derivative.body
        for derivative in derivatives(image, tile=512, thumbnails=[128, 256, 2000])
    }

    tiles = [key for key in made if not key.startswith("level/")]
    assert scale_factors(1100, 700, 512) == [1, 2, 4]
    assert sorted(key for key in made if key.startswith("level/")) == ["level/1", "level/2"]
    assert "1024,0,76,700/38,350/0/default.jpg" in tiles  # scale 2, column 1
    assert "0,0,1100,700/128,81/0/default.jpg" in tiles  # a thumbnail
    assert len(tiles) == 6 + 2 + 1 + 2  # tiles at scales 1, 2, 4, and two thumbnails (2000 is no thumbnail)
    tile = Image.open(io.BytesIO(made["1024,0,76,700/38,350/0/default.jpg"]))
    assert tile.size == (38, 350)
    assert tile.getpixel((10, 10)) == pytest.approx((10, 200, 30), abs=3)


def test_an_image_with_transparency_also_gets_its_levels_and_grid_in_png_alpha_kept() -> None:
    image = Image.new("RGBA", (1100, 700), (10, 200, 30, 40))

    made = {derivative.key: derivative for derivative in derivatives(image, 512, [128], alpha=True)}

    alpha = sorted(key for key in made if key.startswith("alpha/"))
    assert alpha == [
        "alpha/cell/0,0",
        "alpha/cell/0,1",
        "alpha/cell/1,0",
        "alpha/cell/1,1",
        "alpha/cell/2,0",
        "alpha/cell/2,1",
        "alpha/level/1",
        "alpha/level/2",
    ]
    assert {made[key].media_type for key in alpha} == {"image/png"}
    corner = Image.open(io.BytesIO(made["alpha/cell/2,1"].body))
    assert corner.size == (1100 - 1024, 700 - 512)
    assert corner.getpixel((5, 5)) == (10, 200, 30, 40)
    assert Image.open(io.BytesIO(made["alpha/level/2"].body)).size == (275, 175)
    opaque = derivatives(Image.new("RGB", (1100, 700)), 512, [128])
    assert not [derivative for derivative in opaque if derivative.key.startswith("alpha/")]


def test_an_image_ingest_accepted_opens_whatever_pillows_default_limit(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    from chalicelib.iiif.render import open_upright

    buffer = io.BytesIO()
    Image.new("RGB", (100, 100)).save(buffer, format="PNG")
    # As a 300 MP image meets Pillow's default limit of about 89 MP (twice that raises).
    monkeypatch.setattr(Image, "MAX_IMAGE_PIXELS", 1_000)

    assert open_upright(buffer.getvalue(), max_pixels=500_000_000).size == (100, 100)


@pytest.mark.parametrize("format", ["JPEG", "PNG", "JPEG2000"])
def test_a_source_opens_reduced_with_sizes_rounded_up_as_pillow_reduces(format: str) -> None:
    from chalicelib.iiif.render import open_upright

    buffer = io.BytesIO()
    Image.new("RGB", (1301, 901), (10, 200, 30)).save(buffer, format=format)

    half = open_upright(buffer.getvalue(), max_pixels=500_000_000, reduce=2)

    assert half.size == Image.new("RGB", (1301, 901)).reduce(2).size == (651, 451)
    assert half.getpixel((300, 300)) == pytest.approx((10, 200, 30), abs=3)


def test_a_jpeg_2000_half_is_decoded_from_its_lower_resolution_levels_alone() -> None:
    from chalicelib.iiif.render import open_upright

    buffer = io.BytesIO()
    Image.new("RGB", (1301, 901), (10, 200, 30)).save(buffer, format="JPEG2000", num_resolutions=4)

    half = open_upright(buffer.getvalue(), max_pixels=500_000_000, reduce=2)

    # OpenJPEG's own reduction, not a decode at full size reduced after (which would be a plain Image).
    assert half.format == "JPEG2000" and half.size == (651, 451)


def test_ingest_given_a_cheaper_half_uses_it_for_level_1_and_below() -> None:
    image = Image.new("RGB", (1100, 700), (10, 200, 30))
    halves = []

    def half() -> Image.Image:
        halves.append(1)
        return Image.new("RGB", (550, 350), (200, 10, 30))  # unlike the full size, to tell them apart

    made = {d.key: d.body for d in derivatives(image, tile=512, thumbnails=[128], half=half)}

    assert halves == [1]
    assert sorted(key for key in made if key.startswith("level/")) == ["level/1", "level/2"]
    level_2 = Image.open(io.BytesIO(made["level/2"]))
    assert level_2.size == (275, 175)
    assert level_2.getpixel((10, 10)) == pytest.approx((200, 10, 30), abs=3)
    assert Image.open(io.BytesIO(made["0,0,512,512/512,512/0/default.jpg"])).getpixel(
        (5, 5)
    ) == pytest.approx((10, 200, 30), abs=3)
