"""The IIIF calculator: which pixels a request takes, the size it returns, its 400s and canonical form.

Most examples are the spec's own, on its 300x200 example image (3.0 and 2.1 sections 4.1 and 4.2).
"""

from __future__ import annotations

from typing import Any, NamedTuple

import pytest
from hypothesis import assume, event, given, settings
from hypothesis import strategies as st

from chalicelib.errors import BadRequest
from chalicelib.iiif.geometry import ImagePlan, Limits, canonical_path, plan_image
from chalicelib.iiif.request import parse_image_request

# No example database: a run leaves no files behind in the tree.
FAST = settings(max_examples=200, deadline=None, database=None)
NO_LIMITS = Limits()
WIDTH, HEIGHT = 300, 200  # the spec's example image


def plan(
    version: str,
    region: str = "full",
    size: str = "max",
    rotation: str = "0",
    *,
    image: tuple[int, int] = (WIDTH, HEIGHT),
    limits: Limits = NO_LIMITS,
    tail: str = "default.jpg",
) -> ImagePlan:
    request = parse_image_request(version, region, size, rotation, tail)
    return plan_image(request, image[0], image[1], limits)


def box(version: str, region: str, image: tuple[int, int] = (WIDTH, HEIGHT)) -> tuple[int, int, int, int]:
    planned = plan(version, region, image=image)
    return planned.x, planned.y, planned.w, planned.h


def scaled(
    version: str,
    size: str,
    region: str = "full",
    *,
    image: tuple[int, int] = (WIDTH, HEIGHT),
    limits: Limits = NO_LIMITS,
) -> tuple[int, int]:
    planned = plan(version, region, size, image=image, limits=limits)
    return planned.width, planned.height


def rejection(
    version: str,
    region: str = "full",
    size: str = "max",
    *,
    image: tuple[int, int] = (WIDTH, HEIGHT),
    limits: Limits = NO_LIMITS,
) -> str:
    with pytest.raises(BadRequest) as raised:
        plan(version, region, size, image=image, limits=limits)
    assert raised.value.status == 400
    return raised.value.message


def canonical(
    version: str,
    region: str = "full",
    size: str = "max",
    rotation: str = "0",
    *,
    image: tuple[int, int] = (WIDTH, HEIGHT),
    limits: Limits = NO_LIMITS,
    tail: str = "default.jpg",
) -> str:
    request = parse_image_request(version, region, size, rotation, tail)
    return canonical_path(request, plan_image(request, *image, limits), *image)


# Region (section 4.1)


@pytest.mark.parametrize("version", ["3", "2"])
@pytest.mark.parametrize(
    ("region", "expected"),
    [
        ("full", (0, 0, 300, 200)),
        ("125,15,120,140", (125, 15, 120, 140)),
        ("pct:41.6,7.5,40,70", (125, 15, 120, 140)),
        # "N.B. Returned image is 175,185 px": a region beyond the edge is cropped at it.
        ("125,15,200,200", (125, 15, 175, 185)),
        ("pct:41.6,7.5,66.6,100", (125, 15, 175, 185)),
        ("0,0,99999,99999", (0, 0, 300, 200)),
        ("299,199,1,1", (299, 199, 1, 1)),
        ("pct:0,0,100,100", (0, 0, 300, 200)),
        ("pct:50,50,500,500", (150, 100, 150, 100)),
    ],
)
def test_the_spec_region_examples_take_these_pixels(
    version: str, region: str, expected: tuple[int, int, int, int]
) -> None:
    assert box(version, region) == expected


@pytest.mark.parametrize(
    ("image", "expected"),
    [
        ((300, 200), (50, 0, 200, 200)),
        ((200, 300), (0, 50, 200, 200)),
        ((500, 500), (0, 0, 500, 500)),
        ((3, 2), (0, 0, 2, 2)),
    ],
)
def test_square_is_the_largest_centred_square(
    image: tuple[int, int], expected: tuple[int, int, int, int]
) -> None:
    assert box("3", "square", image) == expected


def test_percent_edges_round_half_up_so_neighbouring_regions_abut() -> None:
    # Thirds of 100 px: 33.3 px, 66.6 px; each edge is rounded once, so no pixel is lost or doubled.
    thirds = [box("3", f"pct:{x},0,33.333,100", image=(100, 10)) for x in (0, 33.333, 66.666)]

    assert [(x, w) for x, _, w, _ in thirds] == [(0, 33), (33, 34), (67, 33)]
    assert box("3", "pct:0,0,50,50", image=(3, 3)) == (0, 0, 2, 2)  # 1.5 rounds up


@pytest.mark.parametrize("version", ["3", "2"])
@pytest.mark.parametrize(
    "region",
    [
        "300,0,10,10",
        "0,200,10,10",
        "1000,1000,10,10",
        "pct:100,0,10,10",
        "pct:0,100,10,10",
        "pct:99.9,0,10,10",
    ],
)
def test_a_region_entirely_outside_the_image_is_a_400(version: str, region: str) -> None:
    message = rejection(version, region)

    assert "lies outside the 300x200 image" in message
    assert "section 4.1)" in message


@pytest.mark.parametrize("version", ["3", "2"])
@pytest.mark.parametrize("region", ["pct:0,0,0.1,50", "pct:0,0,50,0.2", "pct:10,10,0.001,0.001"])
def test_a_percent_region_under_a_pixel_is_a_400(version: str, region: str) -> None:
    assert "less than a pixel" in rejection(version, region)


# Size in 3.0 (section 4.2)


@pytest.mark.parametrize(
    ("size", "limits", "expected"),
    [
        # The spec's examples, left column then right column.
        ("max", NO_LIMITS, (300, 200)),
        ("max", Limits(max_width=200), (200, 133)),  # "Assuming that the image has a maxWidth of 200px"
        ("^max", Limits(max_width=360), (360, 240)),  # "Assuming that the image has a maxWidth of 360px"
        ("150,", NO_LIMITS, (150, 100)),
        ("^360,", NO_LIMITS, (360, 240)),
        (",150", NO_LIMITS, (225, 150)),
        ("^,240", NO_LIMITS, (360, 240)),
        ("pct:50", NO_LIMITS, (150, 100)),
        ("^pct:120", NO_LIMITS, (360, 240)),
        ("225,100", NO_LIMITS, (225, 100)),
        ("^360,360", NO_LIMITS, (360, 360)),
        ("!225,100", NO_LIMITS, (150, 100)),  # "N.B. Returned image is 150,100 px"
        ("^!360,360", NO_LIMITS, (360, 240)),  # "N.B. Returned image is 360,240 px"
        # Beyond the examples.
        ("max", Limits(max_height=50), (75, 50)),
        ("max", Limits(max_area=600), (30, 20)),
        ("max", Limits(max_width=1000, max_height=1000, max_area=10**6), (300, 200)),
        ("^max", NO_LIMITS, (300, 200)),  # no limit: nothing to grow to
        ("^max", Limits(max_width=100), (100, 67)),  # ^max may also shrink
        ("^max", Limits(max_area=240_000), (600, 400)),
        ("^150,", NO_LIMITS, (150, 100)),  # ^ allows upscaling, it does not require it
        ("!1000,100", NO_LIMITS, (150, 100)),
        ("!300,500", NO_LIMITS, (300, 200)),  # the box is larger, the fit is not
        ("!225,100", Limits(max_width=120), (120, 80)),  # the limits confine !w,h like the box
        ("^!1000,1000", Limits(max_width=450), (450, 300)),
        ("300,200", NO_LIMITS, (300, 200)),
        ("1,1", NO_LIMITS, (1, 1)),
        ("pct:100", NO_LIMITS, (300, 200)),
        ("pct:0.5", NO_LIMITS, (2, 1)),  # 1.5 x 1.0
    ],
)
def test_the_3_0_size_examples_give_these_sizes(size: str, limits: Limits, expected: tuple[int, int]) -> None:
    assert scaled("3", size, limits=limits) == expected


def test_the_3_0_order_of_implementation_example() -> None:
    planned = plan("3", "125,15,120,140", "90,", "!345", tail="gray.jpg")

    assert planned == ImagePlan(
        125, 15, 120, 140, 90, 105, rotation=345, mirror=True, quality="gray", format="jpg"
    )
    assert planned.crop_box == (125, 15, 245, 155)


def test_max_keeps_within_the_spec_example_limits() -> None:
    # 3.0 section 5.2's example: a 6000x4000 image with maxWidth 3000, maxHeight 2000, maxArea 4000000.
    limits = Limits(max_width=3000, max_height=2000, max_area=4_000_000)
    width, height = scaled("3", "max", image=(6000, 4000), limits=limits)

    assert (width, height) == (2449, 1633)
    assert width * height <= 4_000_000
    assert (width + 1) * 1633 > 4_000_000  # and nothing wider fits


def test_max_height_is_max_width_when_only_max_width_is_given() -> None:
    # Section 5.2: "If maxWidth is specified and maxHeight is not, clients should infer maxHeight = maxWidth".
    assert scaled("3", "max", image=(1000, 3000), limits=Limits(max_width=500)) == (167, 500)
    assert "beyond this server's limits" in rejection(
        "3", size=",600", image=(1000, 3000), limits=Limits(500)
    )


def test_max_of_a_sliver_keeps_one_pixel_rather_than_none() -> None:
    assert scaled("3", "max", image=(20000, 1), limits=Limits(max_width=1000)) == (1000, 1)


@pytest.mark.parametrize(
    ("size", "image"),
    [
        # The validator's size_noup test, on its 1000x1000 image (REFERENCE.md): each must be a 400.
        ("1500,1500", (1000, 1000)),
        (",1500", (1000, 1000)),
        ("1500,", (1000, 1000)),
        ("!2000,3000", (1000, 1000)),
        # And on the spec's image.
        ("301,", (300, 200)),
        (",201", (300, 200)),
        ("301,200", (300, 200)),
        ("300,201", (300, 200)),
        ("!400,300", (300, 200)),
    ],
)
def test_a_3_0_size_above_the_region_without_caret_is_a_400(size: str, image: tuple[int, int]) -> None:
    message = rejection("3", size=size, image=image)

    assert "upscaling needs the '^' prefix" in message
    assert "(IIIF Image API 3.0, section 4.2)" in message


def test_a_3_0_size_is_judged_against_the_region_not_the_image() -> None:
    assert scaled("3", "120,", "0,0,150,100") == (120, 80)
    assert "more than the 150x100 region" in rejection("3", "0,0,150,100", "200,")
    assert "more than the 175x185 region" in rejection("3", "125,15,200,200", "176,")


@pytest.mark.parametrize(
    ("size", "limits"),
    [
        ("^400,", Limits(max_width=360)),
        ("^,300", Limits(max_width=1000, max_height=250)),
        ("^pct:200", Limits(max_area=200_000)),
        ("^360,360", Limits(max_width=360, max_height=300)),
        ("200,", Limits(max_width=150)),
        ("pct:100", Limits(max_area=50_000)),
    ],
)
def test_a_3_0_size_beyond_the_limits_is_a_400(size: str, limits: Limits) -> None:
    assert "beyond this server's limits" in rejection("3", size=size, limits=limits)


@pytest.mark.parametrize("version", ["3", "2"])
@pytest.mark.parametrize(
    ("size", "image"), [("10,", (1000, 10)), (",10", (10, 1000)), ("pct:0.01", (300, 200))]
)
def test_a_size_under_one_pixel_is_a_400(version: str, size: str, image: tuple[int, int]) -> None:
    assert "less than a pixel" in rejection(version, size=size, image=image)


# Size in 2.1 (section 4.2)


@pytest.mark.parametrize(
    ("size", "limits", "expected"),
    [
        # The spec's examples.
        ("full", NO_LIMITS, (300, 200)),
        ("max", Limits(max_width=200), (200, 133)),
        ("150,", NO_LIMITS, (150, 100)),
        (",150", NO_LIMITS, (225, 150)),
        ("pct:50", NO_LIMITS, (150, 100)),
        ("225,100", NO_LIMITS, (225, 100)),
        ("!225,100", NO_LIMITS, (150, 100)),
        # "max ... is the same as full if none of these properties are provided".
        ("max", NO_LIMITS, (300, 200)),
        # "The image server MAY support scaling above the full size": 2.1 upscales without '^'.
        ("600,", NO_LIMITS, (600, 400)),
        (",400", NO_LIMITS, (600, 400)),
        ("pct:200", NO_LIMITS, (600, 400)),
        ("600,600", NO_LIMITS, (600, 600)),
        ("!600,600", NO_LIMITS, (600, 400)),
        ("!600,600", Limits(max_width=450), (450, 300)),
        ("600,", Limits(max_width=600, max_height=400, max_area=240_000), (600, 400)),
    ],
)
def test_the_2_1_size_examples_give_these_sizes(size: str, limits: Limits, expected: tuple[int, int]) -> None:
    assert scaled("2", size, limits=limits) == expected


@pytest.mark.parametrize(
    ("size", "limits"),
    [
        ("full", Limits(max_width=200)),
        ("601,", Limits(max_width=600)),
        ("pct:200", Limits(max_area=200_000)),
        (",401", Limits(max_width=1000, max_height=400)),
    ],
)
def test_a_2_1_size_beyond_the_limits_is_a_400(size: str, limits: Limits) -> None:
    message = rejection("2", size=size, limits=limits)

    assert "beyond this server's limits" in message
    assert "(IIIF Image API 2.1, section 5.3)" in message


# Rotation, quality, format


@pytest.mark.parametrize(
    ("rotation", "degrees", "mirror"),
    [
        ("0", 0, False),
        ("90", 90, False),
        ("!0", 0, True),
        ("22.5", 22.5, False),
        ("360", 0, False),
        ("!360", 0, True),
    ],
)
def test_rotation_is_planned_in_0_to_360_exclusive(rotation: str, degrees: float, mirror: bool) -> None:
    planned = plan("3", rotation=rotation)

    assert (planned.rotation, planned.mirror) == (degrees, mirror)


def test_quality_and_format_pass_through() -> None:
    planned = plan("2", tail="bitonal.png")

    assert (planned.quality, planned.format) == ("bitonal", "png")


def test_limits_below_one_pixel_are_a_programming_error() -> None:
    with pytest.raises(ValueError, match="max_area"):
        Limits(max_area=0)


# Canonical form (3.0 section 4.8, 2.1 section 4.7)


@pytest.mark.parametrize(
    ("region", "size", "rotation", "options", "expected"),
    [
        ("full", "max", "0", {}, "full/max/0/default.jpg"),
        ("0,0,300,200", "300,200", "0", {}, "full/max/0/default.jpg"),
        ("pct:0,0,100,100", "pct:100", "360", {}, "full/max/0/default.jpg"),
        ("square", "max", "0", {}, "50,0,200,200/max/0/default.jpg"),
        ("square", "max", "0", {"image": (200, 200)}, "full/max/0/default.jpg"),
        ("125,15,120,140", "90,", "!345", {"tail": "gray.jpg"}, "125,15,120,140/90,105/!345/gray.jpg"),
        ("pct:41.6,7.5,66.6,100", "max", "22.50", {}, "125,15,175,185/max/22.5/default.jpg"),
        ("full", "150,", "90.0", {}, "full/150,100/90/default.jpg"),
        ("full", "!225,100", "!0", {}, "full/150,100/!0/default.jpg"),
        ("full", "^360,", "0", {}, "full/^360,240/0/default.jpg"),
        ("full", "^!360,360", "0", {}, "full/^360,240/0/default.jpg"),
        ("full", "^max", "0", {"limits": Limits(max_width=360)}, "full/^360,240/0/default.jpg"),
        ("full", "^max", "0", {}, "full/max/0/default.jpg"),
        ("full", "max", "0", {"limits": Limits(max_width=200)}, "full/200,133/0/default.jpg"),
        ("full", "^100,", "0", {}, "full/100,67/0/default.jpg"),
        ("full", "225,100", "0.5", {"tail": "color.png"}, "full/225,100/0.5/color.png"),
    ],
)
def test_the_3_0_canonical_form(
    region: str, size: str, rotation: str, options: dict[str, Any], expected: str
) -> None:
    assert canonical("3", region, size, rotation, **options) == expected


@pytest.mark.parametrize(
    ("region", "size", "rotation", "options", "expected"),
    [
        ("full", "full", "0", {}, "full/full/0/default.jpg"),
        ("full", "max", "0", {}, "full/full/0/default.jpg"),
        ("full", "300,", "0", {}, "full/full/0/default.jpg"),
        ("square", "full", "0", {"image": (200, 200)}, "full/full/0/default.jpg"),  # "including a square"
        ("full", "max", "0", {"limits": Limits(max_width=200)}, "full/200,/0/default.jpg"),
        ("full", "150,100", "0", {}, "full/150,/0/default.jpg"),
        ("full", ",100", "0", {}, "full/150,/0/default.jpg"),
        ("full", "!225,100", "0", {}, "full/150,/0/default.jpg"),
        ("full", "225,100", "0", {}, "full/225,100/0/default.jpg"),  # a changed aspect ratio keeps w,h
        ("full", "pct:200", "!90.00", {}, "full/600,/!90/default.jpg"),
        ("125,15,200,200", "full", "22.5", {"tail": "gray.png"}, "125,15,175,185/full/22.5/gray.png"),
    ],
)
def test_the_2_1_canonical_form(
    region: str, size: str, rotation: str, options: dict[str, Any], expected: str
) -> None:
    assert canonical("2", region, size, rotation, **options) == expected


@pytest.mark.parametrize(
    ("version", "requests"),
    [
        (
            "3",
            [
                ("full", "150,"),
                ("full", ",100"),
                ("full", "pct:50"),
                ("full", "150,100"),
                ("full", "!150,150"),
                ("0,0,300,200", "^150,"),
                ("pct:0,0,100,100", "^pct:50"),
                ("0,0,1000,1000", "!150,100"),
            ],
        ),
        ("3", [("square", "max"), ("50,0,200,200", "200,"), ("pct:16.667,0,66.667,100", "^!200,200")]),
        (
            "2",
            [
                ("full", "150,"),
                ("full", ",100"),
                ("full", "pct:50"),
                ("full", "150,100"),
                ("full", "!150,150"),
            ],
        ),
    ],
)
def test_requests_for_the_same_pixels_share_one_canonical_form(
    version: str, requests: list[tuple[str, str]]
) -> None:
    assert len({canonical(version, region, size) for region, size in requests}) == 1


# Properties, on random images and limits


_IMAGE_SIDES = st.integers(1, 20000)
_LIMITS = st.builds(
    Limits,
    st.none() | st.integers(1, 20000),
    st.none() | st.integers(1, 20000),
    st.none() | st.integers(1, 400_000_000),
)


def _decimal_text(maximum: int) -> st.SearchStrategy[str]:
    return st.builds(
        lambda whole, fraction: f"{whole}.{fraction}" if fraction else str(whole),
        st.integers(0, maximum),
        st.text(alphabet="0123456789", max_size=3),
    )


class Case(NamedTuple):
    """An image of ``width`` x ``height`` and the four path segments of a request for it."""

    version: str
    width: int
    height: int
    path: tuple[str, str, str, str]


@st.composite
def _requests(draw: st.DrawFn, versions: tuple[str, ...] = ("3", "2"), caret: bool = True) -> Case:
    """Requests the grammar allows, sized to the image so that most of them are served."""
    version = draw(st.sampled_from(versions))
    width, height = draw(_IMAGE_SIDES), draw(_IMAGE_SIDES)
    side = st.integers(1, 2 * max(width, height))
    region = draw(
        st.one_of(
            st.sampled_from(["full", "square"]),
            st.builds(
                lambda x, y, w, h: f"{x},{y},{w},{h}",
                st.integers(0, width - 1),
                st.integers(0, height - 1),
                side,
                side,
            ),
            st.builds(
                lambda x, y, w, h: f"pct:{x},{y},{w},{h}",
                _decimal_text(99),
                _decimal_text(99),
                _decimal_text(120).filter(lambda text: float(text) > 0),
                _decimal_text(120).filter(lambda text: float(text) > 0),
            ),
        )
    )
    prefix = draw(st.sampled_from(["", "^"])) if version == "3" and caret else ""
    percent_top = 100 if version == "3" and not prefix else 300
    size = prefix + draw(
        st.one_of(
            st.just("max"),
            st.builds(lambda w: f"{w},", side),
            st.builds(lambda h: f",{h}", side),
            st.builds(lambda w, h: f"{w},{h}", side, side),
            st.builds(lambda w, h: f"!{w},{h}", side, side),
            _decimal_text(percent_top)
            .filter(lambda text: 0 < float(text) <= percent_top)
            .map(lambda n: f"pct:{n}"),
            *([st.just("full")] if version == "2" else []),
        )
    )
    rotation = draw(st.sampled_from(["", "!"])) + draw(
        _decimal_text(360).filter(lambda text: float(text) <= 360)
    )
    tail = (
        draw(st.sampled_from(["default", "color", "gray", "bitonal"]))
        + "."
        + draw(st.sampled_from(["jpg", "png", "webp", "gif", "tif"]))
    )
    return Case(version, width, height, (region, size, rotation, tail))


def _planned(case: Case, limits: Limits) -> ImagePlan | None:
    """The plan, or None for a 400 (any other exception fails the test)."""
    try:
        planned = plan_image(parse_image_request(case.version, *case.path), case.width, case.height, limits)
    except BadRequest:
        event("a 400")
        return None
    event("served")
    return planned


@FAST
@given(_requests(), _LIMITS)
def test_canonicalising_is_idempotent_and_keeps_the_plan(case: Case, limits: Limits) -> None:
    first = _planned(case, limits)
    assume(first is not None)
    assert first is not None
    path = canonical_path(parse_image_request(case.version, *case.path), first, case.width, case.height)

    again = parse_image_request(case.version, *path.split("/"))
    second = plan_image(again, case.width, case.height, limits)

    assert second == first
    assert canonical_path(again, second, case.width, case.height) == path


@FAST
@given(_requests(), _LIMITS)
def test_every_plan_lies_inside_the_image_and_within_the_limits(case: Case, limits: Limits) -> None:
    result = _planned(case, limits)
    if result is None:
        return
    width, height = case.width, case.height

    assert 0 <= result.x < width and 0 <= result.y < height
    assert 1 <= result.w <= width - result.x and 1 <= result.h <= height - result.y
    assert result.width >= 1 and result.height >= 1
    assert limits.admit(result.width, result.height)
    assert 0 <= result.rotation < 360


@FAST
@given(_requests(versions=("3",), caret=False), _LIMITS)
def test_without_caret_3_0_never_returns_more_than_the_region(case: Case, limits: Limits) -> None:
    result = _planned(case, limits)
    if result is None:
        return

    assert result.width <= result.w and result.height <= result.h
    assert not result.upscaled


@FAST
@given(_IMAGE_SIDES, _IMAGE_SIDES, _LIMITS, st.sampled_from(["3", "2"]))
def test_max_is_always_served_and_never_upscales(
    width: int, height: int, limits: Limits, version: str
) -> None:
    result = plan(version, "full", "max", image=(width, height), limits=limits)

    assert result.width <= width and result.height <= height
    assert limits.admit(result.width, result.height)


SERVER_LIMITS = Limits(max_width=8192, max_height=8192, max_area=16_777_216)  # the settings' defaults


@settings(max_examples=60, deadline=None)
@given(
    st.integers(1, 400), st.integers(1, 400), st.floats(0, 360, allow_nan=False).map(lambda d: round(d, 2))
)
def test_a_turned_canvas_is_sized_as_pillow_sizes_it(width: int, height: int, degrees: float) -> None:
    from PIL import Image

    from chalicelib.iiif.geometry import turned_size

    turned = Image.new("L", (width, height)).rotate(-degrees, expand=True)
    assert turned_size(width, height, degrees) == turned.size


def test_limits_bound_the_turned_image_not_only_the_scaled_one() -> None:
    # The review's request: 8192x2048 fits the limits, but turned 45 degrees it needs 7242x7242.
    with pytest.raises(BadRequest, match=r"Turned by 45 degrees, .* 7242x7242 pixels"):
        plan("3", size="^8192,2048", rotation="45", image=(1600, 1200), limits=SERVER_LIMITS)


def test_max_turned_shrinks_until_the_turned_canvas_fits() -> None:
    from chalicelib.iiif.geometry import turned_size

    planned = plan("3", size="^max", rotation="45", image=(4096, 4096), limits=SERVER_LIMITS)

    assert SERVER_LIMITS.admit(*turned_size(planned.width, planned.height, 45))
    assert planned.width == planned.height
    assert not SERVER_LIMITS.admit(*turned_size(planned.width + 1, planned.height + 1, 45))  # the largest
    assert plan("3", size="^max", rotation="90", image=(4096, 4096), limits=SERVER_LIMITS).width == 4096
