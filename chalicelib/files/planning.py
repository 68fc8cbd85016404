"""Planning an upload: one presigned PUT, or a multipart upload cut into parts.

Pure arithmetic on S3's limits, so it is tested exhaustively without AWS.
"""

from __future__ import annotations

from dataclasses import dataclass

from chalicelib.errors import invalid_field

MiB = 1024**2
GiB = 1024**3
TiB = 1024**4

# S3's limits (https://docs.aws.amazon.com/AmazonS3/latest/userguide/qfacts.html).
MIN_PART_SIZE = 5 * MiB  # every part but the last
MAX_PART_SIZE = 5 * GiB
MAX_PARTS = 10_000
MAX_OBJECT_SIZE = 5 * TiB
MAX_SINGLE_PUT_SIZE = 5 * GiB

DEFAULT_PART_SIZE = 16 * MiB


@dataclass(frozen=True)
class UploadPlan:
    size: int
    part_size: int  # equals size for a single PUT
    part_count: int  # 1 for a single PUT

    @property
    def multipart(self) -> bool:
        return self.part_count > 1 or self.part_size < self.size

    def part_length(self, number: int) -> int:
        """The exact byte count of part ``number`` (1-based): the signed Content-Length."""
        if not 1 <= number <= self.part_count:
            raise ValueError(f"part {number} is outside 1..{self.part_count}")
        if number < self.part_count:
            return self.part_size
        return self.size - self.part_size * (self.part_count - 1)


def plan_upload(size: object, part_size: object = None, multipart_threshold: int = 100 * MiB) -> UploadPlan:
    """Plan an upload of ``size`` bytes, with the client's suggested ``part_size`` if any.

    A file above ``multipart_threshold``, or one the client asks to cut into smaller parts,
    goes in parts; smaller files go in one PUT. Part sizes stay within S3's limits and the
    part count within 10,000, growing the part size for very large files.
    """
    size = _whole_number(size, "size")
    if size < 1:
        raise invalid_field("size", "must be at least 1 byte")
    if size > MAX_OBJECT_SIZE:
        raise invalid_field("size", f"must be at most {MAX_OBJECT_SIZE} bytes (S3's largest object)")
    if part_size is not None:
        part_size = _whole_number(part_size, "part_size")
        if not MIN_PART_SIZE <= part_size <= MAX_PART_SIZE:
            raise invalid_field("part_size", f"must be between {MIN_PART_SIZE} and {MAX_PART_SIZE} bytes")
        if -(-size // part_size) > MAX_PARTS:
            raise invalid_field("part_size", f"cuts the file into more than {MAX_PARTS} parts")
    if part_size is None and size <= min(multipart_threshold, MAX_SINGLE_PUT_SIZE):
        return UploadPlan(size=size, part_size=size, part_count=1)
    if part_size is not None and size <= part_size:
        return UploadPlan(size=size, part_size=size, part_count=1)
    chosen = part_size if part_size is not None else max(DEFAULT_PART_SIZE, _smallest_part_size_for(size))
    return UploadPlan(size=size, part_size=chosen, part_count=-(-size // chosen))


def parse_part_numbers(text: str, part_count: int, limit: int) -> list[int]:
    """Part numbers from "1-500", "2,5,9" or "7" (mixed too), each within the plan, at most ``limit``."""
    numbers: set[int] = set()
    try:
        for piece in text.split(","):
            first, _, last = piece.strip().partition("-")
            start, end = int(first), int(last or first)
            if start > end:
                raise ValueError(piece)
            if end - start + 1 + len(numbers) > limit:
                raise invalid_field("partNumbers", f"asks for more than {limit} parts at once")
            numbers.update(range(start, end + 1))
    except ValueError:
        raise invalid_field("partNumbers", 'must look like "1-500" or "1,2,5"') from None
    if not numbers or min(numbers) < 1 or max(numbers) > part_count:
        raise invalid_field("partNumbers", f"must be between 1 and {part_count}")
    return sorted(numbers)


def _smallest_part_size_for(size: int) -> int:
    """The smallest whole-MiB part size that keeps ``size`` within 10,000 parts."""
    per_part = -(-size // MAX_PARTS)
    return -(-per_part // MiB) * MiB


def _whole_number(value: object, field: str) -> int:
    # bool is an int in Python; JSON true is not a size.
    if isinstance(value, bool) or not isinstance(value, int):
        raise invalid_field(field, "must be a whole number of bytes")
    return value
