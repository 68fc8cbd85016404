"""The syntax of IIIF image requests, version 3.0 and 2.1, section by section of the spec."""

from __future__ import annotations

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from chalicelib.errors import BadRequest
from chalicelib.iiif.request import (
    ImageRequest,
    Region,
    Rotation,
    Size,
    format_decimal,
    parse_image_request,
)

# No example database: a run leaves no files behind in the tree.
FAST = settings(max_examples=200, deadline=None, database=None)


def parse(
    version: str, region: str = "full", size: str = "max", rotation: str = "0", tail: str = "default.jpg"
) -> ImageRequest:
    return parse_image_request(version, region, size, rotation, tail)


def rejection(version: str, **parameters: str) -> str:
    with pytest.raises(BadRequest) as raised:
        parse(version, **parameters)
    assert raised.value.status == 400
    return raised.value.message


# 4.1 Region


@pytest.mark.parametrize("version", ["3", "2"])
@pytest.mark.parametrize(
    ("text", "region"),
    [
        # The spec's examples (3.0 and 2.1 section 4.1).
        ("full", Region("full")),
        ("square", Region("square")),
        ("125,15,120,140", Region("pixels", 125, 15, 120, 140)),
        ("pct:41.6,7.5,40,70", Region("percent", 41.6, 7.5, 40, 70)),
        ("125,15,200,200", Region("pixels", 125, 15, 200, 200)),
        ("pct:41.6,7.5,66.6,100", Region("percent", 41.6, 7.5, 66.6, 100)),
        # Beyond the examples.
        ("0,0,1,1", Region("pixels", 0, 0, 1, 1)),
        ("pct:0,0,100,100", Region("percent", 0, 0, 100, 100)),
        ("pct:0.5,.5,2.50,150", Region("percent", 0.5, 0.5, 2.5, 150)),
        ("007,0,10,10", Region("pixels", 7, 0, 10, 10)),
    ],
)
def test_every_region_form_parses(version: str, text: str, region: Region) -> None:
    assert parse(version, region=text).region == region


@pytest.mark.parametrize("version", ["3", "2"])
@pytest.mark.parametrize(
    "text",
    [
        "",
        "Full",
        "FULL",
        "squared",
        "abcdef",
        "0,0,10",
        "0,0,10,10,10",
        "0,0,10,",
        ",0,10,10",
        "-1,0,10,10",
        "+1,0,10,10",
        "0,0,-10,10",
        " 0,0,10,10",
        "0,0,10,10 ",
        "0, 0,10,10",
        "0,0,10,10\n",
        "0.5,0,10,10",
        "1e3,0,10,10",
        "0,0,0,10",
        "0,0,10,0",
        "pct:",
        "pct:0,0,0,10",
        "pct:0,0,10,0",
        "pct:-1,0,10,10",
        "pct:+1,0,10,10",
        "pct:1e1,0,10,10",
        "pct:nan,0,10,10",
        "pct:inf,0,10,10",
        "pct:0,0,10",
        "pct:.,0,10,10",
        "pct:1..5,0,10,10",
        "PCT:0,0,10,10",
        "pct 0,0,10,10",
        "\u0661,0,10,10",  # an Arabic-Indic digit is no IIIF digit
        "1" * 5000 + ",0,10,10",
    ],
)
def test_a_malformed_region_is_a_400_naming_the_region(version: str, text: str) -> None:
    message = rejection(version, region=text)

    assert message.startswith("The region '")
    assert "section 4.1)" in message


def test_a_region_error_message_cites_the_version_and_section() -> None:
    assert rejection("3", region="abc") == "The region 'abc' is not valid (IIIF Image API 3.0, section 4.1)."
    assert rejection("2", region="abc") == "The region 'abc' is not valid (IIIF Image API 2.1, section 4.1)."


def test_a_long_parameter_is_shortened_in_the_message() -> None:
    message = rejection("3", region="x" * 500)

    assert len(message) < 150


# 4.2 Size


@pytest.mark.parametrize(
    ("text", "size"),
    [
        # The spec's examples (3.0 section 4.2), left and right columns.
        ("max", Size("max")),
        ("^max", Size("max", upscale=True)),
        ("150,", Size("width", width=150)),
        ("^360,", Size("width", width=360, upscale=True)),
        (",150", Size("height", height=150)),
        ("^,240", Size("height", height=240, upscale=True)),
        ("pct:50", Size("percent", percent=50)),
        ("^pct:120", Size("percent", percent=120, upscale=True)),
        ("225,100", Size("exact", width=225, height=100)),
        ("^360,360", Size("exact", width=360, height=360, upscale=True)),
        ("!225,100", Size("confined", width=225, height=100)),
        ("^!360,360", Size("confined", width=360, height=360, upscale=True)),
        # Beyond the examples.
        ("pct:100", Size("percent", percent=100)),
        ("pct:0.5", Size("percent", percent=0.5)),
        ("pct:.5", Size("percent", percent=0.5)),
        ("pct:12.50", Size("percent", percent=12.5)),
        ("^pct:1000", Size("percent", percent=1000, upscale=True)),
        ("1,1", Size("exact", width=1, height=1)),
    ],
)
def test_every_3_0_size_form_parses(text: str, size: Size) -> None:
    assert parse("3", size=text).size == size


@pytest.mark.parametrize(
    ("text", "size"),
    [
        # The spec's examples (2.1 section 4.2).
        ("full", Size("full")),
        ("max", Size("max")),
        ("150,", Size("width", width=150)),
        (",150", Size("height", height=150)),
        ("pct:50", Size("percent", percent=50)),
        ("225,100", Size("exact", width=225, height=100)),
        ("!225,100", Size("confined", width=225, height=100)),
        # 2.1 "MAY support scaling above the full size" without any prefix.
        ("pct:120", Size("percent", percent=120)),
    ],
)
def test_every_2_1_size_form_parses(text: str, size: Size) -> None:
    assert parse("2", size=text).size == size


@pytest.mark.parametrize("version", ["3", "2"])
@pytest.mark.parametrize(
    "text",
    [
        "",
        "abc",
        "abcdef",
        "MAX",
        "max,",
        "150",
        ",",
        "!",
        "!,",
        "!150,",
        "!,150",
        "0,",
        ",0",
        "0,0",
        "150,0",
        "!0,10",
        "pct:",
        "pct:0",
        "pct:0.0",
        "pct:-5",
        "pct:+5",
        "pct:1e3",
        "pct:5%",
        "pct:nan",
        "+150,",
        "-150,",
        " 150,",
        "150, ",
        "150,,",
        "150,100,",
        "1e3,",
        "150.5,",
        "150,100.5",
        "^^max",
        "!^150,150",
        "^",
        "max^",
        "^full",
        "150,\t",
    ],
)
def test_a_malformed_size_is_a_400_naming_the_size(version: str, text: str) -> None:
    message = rejection(version, size=text)

    assert message.startswith("The size '")
    assert "section 4.2)" in message


def test_a_size_error_message_reads_as_a_sentence() -> None:
    assert rejection("3", size="abc") == "The size 'abc' is not valid (IIIF Image API 3.0, section 4.2)."


@pytest.mark.parametrize("text", ["full", "pct:101", "pct:100.5", "pct:200"])
def test_3_0_has_no_full_size_and_no_percent_above_100_without_caret(text: str) -> None:
    assert "IIIF Image API 3.0, section 4.2" in rejection("3", size=text)


@pytest.mark.parametrize("text", ["^max", "^150,", "^,150", "^pct:50", "^150,100", "^!150,100"])
def test_2_1_has_no_caret_forms(text: str) -> None:
    message = rejection("2", size=text)

    assert "'^'" in message
    assert "IIIF Image API 2.1, section 4.2" in message


# 4.3 Rotation


@pytest.mark.parametrize("version", ["3", "2"])
@pytest.mark.parametrize(
    ("text", "rotation"),
    [
        # The spec's examples (section 4.3).
        ("0", Rotation(0)),
        ("180", Rotation(180)),
        ("90", Rotation(90)),
        ("22.5", Rotation(22.5)),
        ("!0", Rotation(0, mirror=True)),
        ("!180", Rotation(180, mirror=True)),
        ("!345", Rotation(345, mirror=True)),
        # The range is inclusive: "from 0 up to 360".
        ("360", Rotation(360)),
        ("!360", Rotation(360, mirror=True)),
        ("0.5", Rotation(0.5)),
        ("359.99", Rotation(359.99)),
        ("90.0", Rotation(90)),
        ("22.50", Rotation(22.5)),
        (".5", Rotation(0.5)),
        ("090", Rotation(90)),
    ],
)
def test_every_rotation_form_parses(version: str, text: str, rotation: Rotation) -> None:
    assert parse(version, rotation=text).rotation == rotation


@pytest.mark.parametrize("version", ["3", "2"])
@pytest.mark.parametrize(
    "text",
    [
        "",
        "-10",
        "-0",
        "361",
        "360.0001",
        "720",
        "abc",
        "abcd",
        "!",
        "!!90",
        "90!",
        "! 90",
        " 90",
        "90 ",
        "+90",
        "1e2",
        "nan",
        "inf",
        "9" * 400,
        "90,0",
        ".",
        "1.2.3",
        "\u0669\u0660",
    ],
)
def test_a_malformed_or_out_of_range_rotation_is_a_400(version: str, text: str) -> None:
    message = rejection(version, rotation=text)

    assert message.startswith("The rotation '")
    assert "section 4.3)" in message


# 4.4 Quality and 4.5 Format


@pytest.mark.parametrize("version", ["3", "2"])
@pytest.mark.parametrize("quality", ["default", "color", "gray", "bitonal"])
@pytest.mark.parametrize("format", ["jpg", "png", "webp", "gif", "tif"])
def test_every_quality_and_format_parses(version: str, quality: str, format: str) -> None:
    request = parse(version, tail=f"{quality}.{format}")

    assert (request.quality, request.format) == (quality, format)


@pytest.mark.parametrize("version", ["3", "2"])
@pytest.mark.parametrize(
    "tail", ["native.jpg", "grey.jpg", "Default.jpg", "colour.png", ".jpg", "default.tar.jpg", " default.jpg"]
)
def test_an_unknown_quality_is_a_400(version: str, tail: str) -> None:
    message = rejection(version, tail=tail)

    assert message.startswith("The quality '")
    assert "section 4.4)" in message


@pytest.mark.parametrize("version", ["3", "2"])
@pytest.mark.parametrize(
    "tail", ["default.jp2", "default.pdf", "default.JPG", "default.jpeg", "default.", "default.jpg "]
)
def test_an_unknown_or_unsupported_format_is_a_400(version: str, tail: str) -> None:
    message = rejection(version, tail=tail)

    assert message.startswith("The format '")
    assert "section 4.5)" in message


def test_a_missing_format_is_a_400() -> None:
    message = rejection("3", tail="default")

    assert message == (
        "The quality and format 'default' are not valid: the format is missing "
        "(IIIF Image API 3.0, section 4.5)."
    )


# The request as a whole


def test_the_spec_order_of_implementation_example_parses_whole() -> None:
    request = parse_image_request("3", "125,15,120,140", "90,", "!345", "gray.jpg")

    assert request == ImageRequest(
        version="3",
        region=Region("pixels", 125, 15, 120, 140),
        size=Size("width", width=90),
        rotation=Rotation(345, mirror=True),
        quality="gray",
        format="jpg",
    )
    assert str(request) == "125,15,120,140/90,/!345/gray.jpg"


@pytest.mark.parametrize("version", ["1", "2.1", "3.0", "", "4"])
def test_only_versions_3_and_2_are_served(version: str) -> None:
    with pytest.raises(BadRequest, match="version"):
        parse_image_request(version, "full", "max", "0", "default.jpg")


@pytest.mark.parametrize(
    ("value", "text"),
    [
        (0.0, "0"),
        (90.0, "90"),
        (22.5, "22.5"),
        (0.1, "0.1"),
        (1e-7, "0.0000001"),
        (359.99, "359.99"),
        (1e16, "1" + "0" * 16),
    ],
)
def test_decimals_are_written_as_the_spec_recommends(value: float, text: str) -> None:
    # 3.0 section 4.7: only digits and ".", a leading 0 below 1, no trailing zeros.
    assert format_decimal(value) == text


# Properties


@FAST
@given(st.floats(min_value=0, allow_nan=False, allow_infinity=False))
def test_a_written_decimal_reads_back_as_the_same_float(value: float) -> None:
    text = format_decimal(value)

    assert float(text) == value
    assert set(text) <= set("0123456789.")


def _decimal_texts(maximum: int) -> st.SearchStrategy[str]:
    whole = st.integers(min_value=0, max_value=maximum).map(str)
    fraction = st.text(alphabet="0123456789", min_size=1, max_size=4)
    return st.one_of(whole, st.builds(lambda w, f: f"{w}.{f}", whole, fraction))


def _positive(texts: st.SearchStrategy[str]) -> st.SearchStrategy[str]:
    return texts.filter(lambda text: float(text) > 0)


_REGIONS = st.one_of(
    st.sampled_from(["full", "square"]),
    st.builds(
        lambda x, y, w, h: f"{x},{y},{w},{h}",
        *(st.integers(0, 30000),) * 2,
        *(st.integers(1, 30000),) * 2,
    ),
    st.builds(
        lambda x, y, w, h: f"pct:{x},{y},{w},{h}",
        *(_decimal_texts(100),) * 2,
        *(_positive(_decimal_texts(150)),) * 2,
    ),
)
_PIXELS = st.integers(1, 30000).map(str)


def _sizes(version: str) -> st.SearchStrategy[str]:
    plain = st.one_of(
        st.just("max"),
        _PIXELS.map(lambda w: f"{w},"),
        _PIXELS.map(lambda h: f",{h}"),
        st.builds(lambda w, h: f"{w},{h}", _PIXELS, _PIXELS),
        st.builds(lambda w, h: f"!{w},{h}", _PIXELS, _PIXELS),
    )
    if version == "2":
        return st.one_of(plain, st.just("full"), _positive(_decimal_texts(500)).map(lambda n: f"pct:{n}"))
    return st.one_of(
        plain,
        plain.map(lambda text: "^" + text),
        _positive(_decimal_texts(100)).filter(lambda text: float(text) <= 100).map(lambda n: f"pct:{n}"),
        _positive(_decimal_texts(500)).map(lambda n: f"^pct:{n}"),
    )


_ROTATIONS = st.builds(
    lambda mirror, degrees: mirror + degrees,
    st.sampled_from(["", "!"]),
    _decimal_texts(360).filter(lambda text: float(text) <= 360),
)
_TAILS = st.builds(
    lambda quality, format: f"{quality}.{format}",
    st.sampled_from(["default", "color", "gray", "bitonal"]),
    st.sampled_from(["jpg", "png", "webp", "gif", "tif"]),
)


@FAST
@given(st.data(), st.sampled_from(["3", "2"]))
def test_any_request_the_grammar_allows_parses_and_reads_back_from_its_text(
    data: st.DataObject, version: str
) -> None:
    request = parse_image_request(
        version, data.draw(_REGIONS), data.draw(_sizes(version)), data.draw(_ROTATIONS), data.draw(_TAILS)
    )

    assert parse_image_request(version, *str(request).split("/")) == request


@FAST
@given(st.sampled_from(["3", "2"]), st.text(max_size=12), st.text(max_size=12), st.text(max_size=8))
def test_any_text_either_parses_or_is_a_400(version: str, region: str, size: str, rotation: str) -> None:
    try:
        parse_image_request(version, region, size, rotation, "default.jpg")
    except BadRequest as error:
        assert error.status == 400
        assert "IIIF Image API" in error.message
