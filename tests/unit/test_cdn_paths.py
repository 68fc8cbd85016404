from __future__ import annotations

from chalicelib.iiif.cdn import EVERYTHING, VERSIONS_BY_PATH, invalidation_paths

A, B = "0" * 32, "f" * 32


def test_each_version_gets_its_3_0_and_2_1_paths_once() -> None:
    assert invalidation_paths((B, A, B)) == [
        f"/iiif/3/{A}/*",
        f"/iiif/2/{A}/*",
        f"/iiif/3/{B}/*",
        f"/iiif/2/{B}/*",
    ]


def test_past_a_handful_of_versions_one_path_covers_all_of_iiif() -> None:
    # CloudFront allows only 15 wildcard paths in progress at once.
    many = tuple(f"{n:032x}" for n in range(VERSIONS_BY_PATH + 1))

    assert len(invalidation_paths(many[:-1])) == 2 * VERSIONS_BY_PATH <= 15
    assert invalidation_paths(many) == invalidation_paths(None) == [EVERYTHING]
