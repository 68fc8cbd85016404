from __future__ import annotations

import pytest

from chalicelib.errors import BadRequest
from chalicelib.files.planning import (
    DEFAULT_PART_SIZE,
    MAX_OBJECT_SIZE,
    MAX_PART_SIZE,
    MAX_PARTS,
    MIN_PART_SIZE,
    GiB,
    MiB,
    TiB,
    UploadPlan,
    parse_part_numbers,
    plan_upload,
)


def assert_within_s3_limits(plan: UploadPlan) -> None:
    lengths = [plan.part_length(n) for n in range(1, plan.part_count + 1)]
    assert sum(lengths) == plan.size
    assert plan.part_count <= MAX_PARTS
    assert all(MIN_PART_SIZE <= length <= MAX_PART_SIZE for length in lengths[:-1])
    assert 1 <= lengths[-1] <= plan.part_size


def test_a_small_file_goes_in_one_put() -> None:
    plan = plan_upload(1234)

    assert plan == UploadPlan(size=1234, part_size=1234, part_count=1)
    assert not plan.multipart


def test_a_client_can_ask_for_parts_of_a_small_file() -> None:
    plan = plan_upload(25 * MiB, part_size=5 * MiB)

    assert (plan.part_size, plan.part_count, plan.multipart) == (5 * MiB, 5, True)


def test_a_file_above_the_threshold_goes_in_default_parts() -> None:
    plan = plan_upload(120 * MiB)

    assert (plan.part_size, plan.part_count) == (DEFAULT_PART_SIZE, 8)
    assert plan.part_length(8) == 120 * MiB - 7 * DEFAULT_PART_SIZE


@pytest.mark.parametrize(
    "size",
    [
        1,
        MIN_PART_SIZE,
        100 * MiB,
        100 * MiB + 1,
        5 * GiB,
        5 * GiB + 1,
        160 * GiB,
        TiB,
        MAX_OBJECT_SIZE,
        999_999_999_999,
    ],
)
def test_every_plan_stays_within_s3_limits(size: int) -> None:
    assert_within_s3_limits(plan_upload(size))


def test_the_largest_object_fits_in_ten_thousand_parts() -> None:
    plan = plan_upload(MAX_OBJECT_SIZE)

    assert plan.part_count <= MAX_PARTS
    assert plan.part_size % MiB == 0


def test_a_part_size_that_would_need_more_than_ten_thousand_parts_is_refused() -> None:
    with pytest.raises(BadRequest, match="more than 10000 parts"):
        plan_upload(10_001 * MIN_PART_SIZE, part_size=MIN_PART_SIZE)


@pytest.mark.parametrize(
    ("size", "part_size", "field"),
    [
        (0, None, "size"),
        (-5, None, "size"),
        ("12", None, "size"),
        (1.5, None, "size"),
        (True, None, "size"),
        (None, None, "size"),
        (MAX_OBJECT_SIZE + 1, None, "size"),
        (100, MIN_PART_SIZE - 1, "part_size"),
        (100, MAX_PART_SIZE + 1, "part_size"),
        (100, "5MiB", "part_size"),
    ],
)
def test_bad_sizes_are_refused_naming_the_field(size: object, part_size: object, field: str) -> None:
    with pytest.raises(BadRequest) as error:
        plan_upload(size, part_size)

    assert error.value.errors[0].field == field


def test_part_numbers_outside_the_plan_have_no_length() -> None:
    plan = plan_upload(25 * MiB, part_size=5 * MiB)

    with pytest.raises(ValueError):
        plan.part_length(0)
    with pytest.raises(ValueError):
        plan.part_length(6)


@pytest.mark.parametrize(
    ("text", "numbers"),
    [("1-5", [1, 2, 3, 4, 5]), ("7", [7]), ("2,5,9", [2, 5, 9]), ("1-3,2-4, 10", [1, 2, 3, 4, 10])],
)
def test_part_numbers_are_read_from_ranges_and_lists(text: str, numbers: list[int]) -> None:
    assert parse_part_numbers(text, part_count=10, limit=100) == numbers


@pytest.mark.parametrize("text", ["", "a-b", "5-1", "0", "11", "1-11", "1,,2", "-3"])
def test_part_numbers_outside_the_plan_or_malformed_are_refused(text: str) -> None:
    with pytest.raises(BadRequest) as error:
        parse_part_numbers(text, part_count=10, limit=100)

    assert error.value.errors[0].field == "partNumbers"


def test_too_many_part_numbers_at_once_are_refused() -> None:
    with pytest.raises(BadRequest, match="more than 500 parts"):
        parse_part_numbers("1-501", part_count=10_000, limit=500)
