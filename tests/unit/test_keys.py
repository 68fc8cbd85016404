from __future__ import annotations

import pytest

from chalicelib.errors import BadRequest
from chalicelib.files.keys import MAX_KEY_BYTES, decode_key, encode_key, validate_key
from chalicelib.files.models import new_version_id

AWKWARD_KEYS = [
    "plain.txt",
    "a/b/c.csv",
    "with space and+plus and %25 percent",
    "ünïcödé/中文/😀.png",
    "trailing/",
    "~tilde=equals&amp?query#hash",
    "é" * (MAX_KEY_BYTES // 2) + "x",  # exactly 989 bytes
]


@pytest.mark.parametrize("key", AWKWARD_KEYS)
def test_every_valid_key_round_trips_through_its_path_form(key: str) -> None:
    segment = encode_key(key)

    assert decode_key(segment) == key
    assert set(segment) <= set("ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_")


@pytest.mark.parametrize(
    ("key", "problem"),
    [
        ("", "must be a non-empty string"),
        (42, "must be a non-empty string"),
        ("a" * (MAX_KEY_BYTES + 1), "must be at most 989 bytes in UTF-8"),
        ("é" * (MAX_KEY_BYTES // 2 + 1), "must be at most 989 bytes in UTF-8"),
        ("line\nbreak", "must not contain control characters"),
        ("nul\x00", "must not contain control characters"),
        ("del\x7f", "must not contain control characters"),
        ("c1\x85", "must not contain control characters"),
        ("a/./b", "must not contain '.' or '..' segments"),
        ("../escape", "must not contain '.' or '..' segments"),
        ("..", "must not contain '.' or '..' segments"),
    ],
)
def test_invalid_keys_are_refused_with_the_reason(key: object, problem: str) -> None:
    with pytest.raises(BadRequest) as error:
        validate_key(key)

    assert error.value.errors[0].field == "key"
    assert error.value.errors[0].message == problem


@pytest.mark.parametrize("key", ["..a", "a..b", ".hidden", "a/.b"])
def test_dots_inside_a_segment_are_fine(key: str) -> None:
    assert validate_key(key) == key


@pytest.mark.parametrize("segment", ["not base64!", "YQ=", "YWJj=", "_w", "Li4"])
def test_a_path_segment_that_is_not_a_canonical_encoding_of_a_valid_key_is_refused(segment: str) -> None:
    # "_w" decodes to invalid UTF-8; "Li4" is ".."; "YQ=" and "YWJj=" carry padding.
    with pytest.raises(BadRequest):
        decode_key(segment)


def test_the_longest_key_fits_the_longest_sort_key_it_is_stored_in() -> None:
    from chalicelib.files.models import version_sk

    longest = "é" * (MAX_KEY_BYTES // 2) + "x"
    assert len(version_sk(validate_key(longest), new_version_id()).encode()) == 1024  # DynamoDB's limit


@pytest.mark.parametrize(
    "key", ["invoice\u202efdp.exe", "zero\u200bwidth.txt", "bom\ufeff.csv", "soft\u00adhyphen"]
)
def test_keys_with_invisible_format_characters_are_refused(key: str) -> None:
    with pytest.raises(BadRequest, match="invisible format characters"):
        validate_key(key)


def test_a_key_is_kept_in_nfc_so_one_name_is_one_key() -> None:
    decomposed = "re\u0301sume\u0301.pdf"  # as macOS writes "résumé.pdf"

    assert validate_key(decomposed) == "résumé.pdf"
    assert decode_key(encode_key(decomposed)) == "résumé.pdf"
