"""Request bodies: JSON in, a validated pydantic model out, or a 400 naming each bad field."""

from __future__ import annotations

import json
from typing import Any, TypeVar

from chalice.app import Request
from pydantic import BaseModel, ValidationError

from chalicelib.errors import BadRequest, FieldError

Body = TypeVar("Body", bound=BaseModel)

MAX_BODY_BYTES = 256 * 1024


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
    try:
        data: Any = json.loads(raw)
    except (ValueError, UnicodeDecodeError):
        raise BadRequest("The body is not valid JSON.") from None
    if not isinstance(data, dict):
        raise BadRequest("The body must be a JSON object.")
    try:
        return model.model_validate(data)
    except ValidationError as exc:
        errors = [
            FieldError(".".join(str(part) for part in error["loc"]) or "body", error["msg"])
            for error in exc.errors()
        ]
        raise BadRequest("The body is invalid.", errors) from None
