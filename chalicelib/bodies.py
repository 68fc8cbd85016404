"""Request bodies: JSON in, a validated pydantic model out, or a 400 naming each bad field."""

from __future__ import annotations

import json
from typing import Any, TypeVar

from chalice.app import Request
from pydantic import BaseModel, ValidationError

from chalicelib.errors import BadRequest, FieldError, UnsupportedMediaType

Body = TypeVar("Body", bound=BaseModel)

MAX_BODY_BYTES = 256 * 1024
# As deep as a DynamoDB document may nest; deeper bodies are no request Vellum takes, and would
# reach Python's recursion limit in the JSON parser or the schema validator.
MAX_BODY_DEPTH = 32


class _DuplicateName(ValueError):
    def __init__(self, name: str) -> None:
        super().__init__(name)
        self.name = name


def _refuse_duplicate_names(pairs: list[tuple[str, Any]]) -> dict[str, Any]:
    # json.loads keeps the last of two equal names; a client sending both meant something else.
    result: dict[str, Any] = {}
    for name, value in pairs:
        if name in result:
            raise _DuplicateName(name)
        result[name] = value
    return result


def parse_body(model: type[Body], request: Request, *, allow_empty: bool = False) -> Body:
    raw = request.raw_body or b""
    if isinstance(raw, str):
        raw = raw.encode("utf-8")
    if len(raw) > MAX_BODY_BYTES:
        raise BadRequest(f"The body is larger than {MAX_BODY_BYTES} bytes.")
    if not raw.strip():
        if not allow_empty:
            raise BadRequest("The body must be a JSON object.")
        raw = b"{}"
    elif not _declared_json(request):
        raise UnsupportedMediaType()
    try:
        data: Any = json.loads(raw, object_pairs_hook=_refuse_duplicate_names)
    except _DuplicateName as duplicate:
        raise BadRequest(f"The body names {duplicate.name!r} twice in one object.") from None
    except (ValueError, UnicodeDecodeError):
        raise BadRequest("The body is not valid JSON.") from None
    except RecursionError:
        raise BadRequest(f"The body nests deeper than {MAX_BODY_DEPTH} levels.") from None
    if not isinstance(data, dict):
        raise BadRequest("The body must be a JSON object.")
    if _depth(data) > MAX_BODY_DEPTH:
        raise BadRequest(f"The body nests deeper than {MAX_BODY_DEPTH} levels.")
    try:
        return model.model_validate(data)
    except ValidationError as exc:
        errors = [
            # A model's own checks raise ValueError, which pydantic prefixes: the sentence is ours.
            FieldError(
                ".".join(str(part) for part in error["loc"]) or "body",
                str(error["msg"]).removeprefix("Value error, "),
            )
            for error in exc.errors()
        ]
        raise BadRequest("The body is invalid.", errors) from None


def _declared_json(request: Request) -> bool:
    # Chalice takes a body without Content-Type for JSON; a browser sends one for a typeless Blob,
    # which any page may post to any origin without asking. A JSON body must say it is one.
    declared = request.headers.get("content-type") or ""
    return declared.split(";", 1)[0].strip().lower() == "application/json"


def _depth(value: Any) -> int:
    """How deeply ``value`` nests objects and arrays, counted without recursion."""
    deepest, waiting = 0, [(value, 1)]
    while waiting:
        item, depth = waiting.pop()
        children = item.values() if isinstance(item, dict) else item if isinstance(item, list) else None
        if children is None:
            continue
        deepest = max(deepest, depth)
        waiting.extend((child, depth + 1) for child in children)
    return deepest
