"""Tags on buckets and object versions: a small map of strings, checked at the edge."""

from __future__ import annotations

from pydantic import RootModel

from chalicelib.errors import BadRequest, FieldError

MAX_TAG_LENGTH = 255
MAX_TAGS = 64


class TagSet(RootModel[dict[str, object]]):
    """A body that is one JSON object of tag names to values."""


def validate_tags(tags: object) -> dict[str, str]:
    """``tags`` as a dict, if it is an object of 1-255 character strings; else a 400 per bad tag.

    Duplicate names cannot reach here: the JSON body parser refuses duplicate keys.
    """
    if not isinstance(tags, dict):
        raise BadRequest(
            "The tags must be a JSON object of names to values.", [FieldError("tags", "not an object")]
        )
    if len(tags) > MAX_TAGS:
        raise BadRequest(
            f"At most {MAX_TAGS} tags are allowed.", [FieldError("tags", f"more than {MAX_TAGS}")]
        )
    errors = []
    for name, value in tags.items():
        if not 1 <= len(name) <= MAX_TAG_LENGTH:
            errors.append(
                FieldError(f"tags.{name}", f"a tag name must have 1 to {MAX_TAG_LENGTH} characters")
            )
        if not isinstance(value, str) or not 1 <= len(value) <= MAX_TAG_LENGTH:
            errors.append(
                FieldError(
                    f"tags.{name}", f"a tag value must be a string of 1 to {MAX_TAG_LENGTH} characters"
                )
            )
    if errors:
        raise BadRequest("Some tags are invalid.", errors)
    return dict(tags)
