"""info.json's sizes, read as the stock viewers read them."""

from __future__ import annotations

import math

import pytest
from hypothesis import given
from hypothesis import strategies as st

from chalicelib.iiif.info import ImageLimits, info_json, scale_factors, sizes

LIMITS = ImageLimits(max_width=10_000, max_height=10_000, max_area=100_000_000, tile_size=512)
THUMBNAILS = (128, 256, 512)


def thumbnails(width: int, height: int) -> list[list[int]]:
    """What ingest stores: a thumbnail per configured longest side that is a reduction."""
    made = []
    for side in THUMBNAILS:
        if side < max(width, height):
            scale = side / max(width, height)
            made.append([max(1, round(width * scale)), max(1, round(height * scale))])
    return made


def openseadragon_levels(info: dict) -> list[tuple[int, int]]:  # type: ignore[type-arg]
    """The size of each zoom level, coarsest first, as OpenSeadragon 2.4-5.x's IIIFTileSource (5.0.1
    in Mirador 4) works them out: from ``sizes`` when there are as many as scale factors or one
    fewer (adding the full size then), else by halving the full size once per scale factor."""
    factors = info["tiles"][0]["scaleFactors"]
    max_level = round(math.log2(max(factors)))
    listed = sorted(info["sizes"], key=lambda size: size["width"])
    if len(listed) in (max_level, max_level + 1):
        levels = [(size["width"], size["height"]) for size in listed]
        if len(listed) == max_level:
            levels.append((info["width"], info["height"]))
        return levels
    return [
        (math.ceil(info["width"] / 2**n), math.ceil(info["height"] / 2**n)) for n in range(max_level, -1, -1)
    ]


def true_levels(width: int, height: int) -> list[tuple[int, int]]:
    return [
        (-(-width // f), -(-height // f)) for f in reversed(scale_factors(width, height, LIMITS.tile_size))
    ]


@pytest.mark.parametrize("shape", [(1200, 1600), (3000, 2000), (4032, 3024), (6000, 4000), (1300, 900)])
def test_openseadragon_reads_the_levels_right_for_the_images_that_broke_it(shape: tuple[int, int]) -> None:
    width, height = shape
    info = info_json("3", "https://x/iiif/3/i", width, height, LIMITS, thumbnails(width, height))
    assert openseadragon_levels(info) == true_levels(width, height)
    listed = {(size["width"], size["height"]) for size in info["sizes"]}
    assert set(true_levels(width, height)) <= listed  # every level is offered whole
    assert {tuple(size) for size in thumbnails(width, height)} <= listed  # and every thumbnail


def test_a_3000x2000_image_lists_its_levels_and_thumbnails() -> None:
    listed = sizes(3000, 2000, LIMITS, thumbnails(3000, 2000))
    assert [(size["width"], size["height"]) for size in listed] == [
        (128, 85),
        (256, 171),
        (375, 250),
        (512, 341),
        (750, 500),
        (1500, 1000),
        (3000, 2000),
    ]


@given(
    width=st.integers(1, 60_000),
    height=st.integers(1, 60_000),
    max_area=st.sampled_from([250_000, 4_000_000, 100_000_000]),
    extra=st.lists(st.tuples(st.integers(1, 600), st.integers(1, 600)), max_size=4),
)
def test_whatever_the_image_limits_and_thumbnails_openseadragon_gets_the_true_levels(
    width: int, height: int, max_area: int, extra: list[tuple[int, int]]
) -> None:
    limits = ImageLimits(max_width=20_000, max_height=20_000, max_area=max_area, tile_size=512)
    info = info_json("3", "https://x/iiif/3/i", width, height, limits, extra)
    factors = scale_factors(width, height, 512)
    expected = [(-(-width // f), -(-height // f)) for f in reversed(factors)]
    assert openseadragon_levels(info) == expected
    for size in info["sizes"]:  # each one servable
        assert size["width"] * size["height"] <= max_area
        assert size["width"] <= 20_000 and size["height"] <= 20_000


def test_version_2_lists_the_same_sizes() -> None:
    three = info_json("3", "https://x/iiif/3/i", 4032, 3024, LIMITS, thumbnails(4032, 3024))
    two = info_json("2", "https://x/iiif/2/i", 4032, 3024, LIMITS, thumbnails(4032, 3024))
    assert two["sizes"] == three["sizes"]
