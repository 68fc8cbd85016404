"""The local gateway hands the handlers path parameters as API Gateway does: decoded, segment by segment."""

from __future__ import annotations

import pytest

from local.api import PathMatcher

ROUTES = [
    "/iiif/{version}/{identifier}",
    "/iiif/{version}/{identifier}/info.json",
    "/iiif/{version}/{identifier}/{region}/{size}/{rotation}/{quality_format}",
    "/files/{bucket_id}/{key}",
    "/",
]
MATCHER = PathMatcher(ROUTES)


@pytest.mark.parametrize(
    ("url", "region", "size", "rotation", "quality_format"),
    [
        ("/iiif/3/x/full/max/0/default.jpg", "full", "max", "0", "default.jpg"),
        ("/iiif/3/x/full/%5Emax/0/default.jpg", "full", "^max", "0", "default.jpg"),
        (
            "/iiif/3/x/0%2C0%2C10%2C10/%5E%2110%2C10/%2190/gray%2Epng",
            "0,0,10,10",
            "^!10,10",
            "!90",
            "gray.png",
        ),
        ("/iiif/3/x/pct%3A1,2,3,4/pct%3a50/22.5/default.jpg", "pct:1,2,3,4", "pct:50", "22.5", "default.jpg"),
        ("/iiif/3/x/full/max/0/;x.jpg", "full", "max", "0", ";x.jpg"),  # urlparse would cut ";x.jpg" off
        ("/iiif/3/x/full/max/0/a+b.jpg", "full", "max", "0", "a+b.jpg"),  # a plus is no space in a path
        ("/iiif/3/x/full/%25/0/default.jpg", "full", "%", "0", "default.jpg"),  # decoded once, not twice
    ],
)
def test_iiif_parameters_arrive_decoded_whether_or_not_the_client_encoded_them(
    url: str, region: str, size: str, rotation: str, quality_format: str
) -> None:
    match = MATCHER.match_route(url)

    assert match.route == "/iiif/{version}/{identifier}/{region}/{size}/{rotation}/{quality_format}"
    assert match.captured == {
        "version": "3",
        "identifier": "x",
        "region": region,
        "size": size,
        "rotation": rotation,
        "quality_format": quality_format,
    }


def test_an_encoded_slash_stays_inside_its_segment() -> None:
    match = MATCHER.match_route("/files/b/a%2Fb")

    assert (match.route, match.captured) == ("/files/{bucket_id}/{key}", {"bucket_id": "b", "key": "a/b"})


def test_concrete_segments_match_encoded_or_not_and_before_captures() -> None:
    assert MATCHER.match_route("/iiif/3/x/info%2Ejson").route == "/iiif/{version}/{identifier}/info.json"
    assert MATCHER.match_route("/iiif/3/x/info.json/").route == "/iiif/{version}/{identifier}/info.json"
    assert MATCHER.match_route("/").route == "/"


def test_the_query_is_parsed_and_an_unknown_path_is_no_match() -> None:
    assert MATCHER.match_route("/files/b/k?uploadId=u%2B1&versions").query_params == {
        "uploadId": ["u+1"],
        "versions": [""],
    }
    with pytest.raises(ValueError, match="No matching route"):
        MATCHER.match_route("/iiif/3")
