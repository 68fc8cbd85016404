"""Validating a record's metadata against its JSON Schema (the shipped one, or one configured).

The shipped schema asks only for a title; an installation replaces it by pointing
VELLUM_RECORD_SCHEMA at its own file. Every violation is reported, one entry per field.
"""

from __future__ import annotations

import functools
import json
from pathlib import Path
from typing import Any

from chalicelib.errors import BadRequest, FieldError
from chalicelib.settings import get_settings

SHIPPED_SCHEMA = Path(__file__).parent / "schemas" / "record-v1.json"


@functools.cache
def record_schema() -> dict[str, Any]:
    """The JSON Schema a record's metadata must satisfy, as clients (the console's form) read it."""
    from jsonschema import Draft202012Validator

    schema: dict[str, Any] = json.loads(Path(get_settings().record_schema or SHIPPED_SCHEMA).read_text())
    Draft202012Validator.check_schema(schema)  # a broken schema fails at start, not per request
    return schema


# The pattern of a string that must hold more than white space (the shipped schema's title).
NOT_BLANK = r"\S"


@functools.cache
def _validator() -> Any:
    from jsonschema import Draft202012Validator

    return Draft202012Validator(record_schema())


def validate_metadata(metadata: object) -> dict[str, Any]:
    """``metadata`` if it satisfies the schema; else BadRequest with one entry per failing field."""
    errors = []
    for error in sorted(_validator().iter_errors(metadata), key=lambda e: list(e.absolute_path)):
        path = ".".join(str(part) for part in error.absolute_path)
        if error.validator == "required" and isinstance(error.instance, dict):
            for name in error.validator_value:
                if name not in error.instance:
                    errors.append(FieldError(".".join(filter(None, ["metadata", path, name])), "is required"))
        else:
            errors.append(FieldError(".".join(filter(None, ["metadata", path])), _sentence(error)))
    if errors:
        raise BadRequest("Some of the metadata is missing or not valid: each field says what.", errors)
    assert isinstance(metadata, dict)
    return metadata


def _sentence(error: Any) -> str:
    """The error as a person reads it: jsonschema's own words quote the value and the rule."""
    if error.validator == "pattern" and error.validator_value == NOT_BLANK:
        return "must not be blank"
    if error.validator == "minLength" and error.validator_value == 1:
        return "must not be empty"
    return str(error.message)
