"""Domain errors, and the one place that turns them into JSON HTTP responses.

Every error a client sees has the body ``{"status", "message", "errors"?}``.
The classes derive from Chalice's ``ChaliceUnhandledError`` for one reason:
Chalice converts every other exception raised in a view into its own
``{"Code", "Message"}`` body before middleware runs, and we want the
middleware in ``chalicelib.middleware`` to be that one place.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from chalice.app import ChaliceUnhandledError, Response


@dataclass(frozen=True)
class FieldError:
    field: str
    message: str


class VellumError(ChaliceUnhandledError):
    status = 500
    default_message = "The request could not be completed."

    def __init__(
        self,
        message: str | None = None,
        errors: list[FieldError] | None = None,
        headers: dict[str, str] | None = None,
    ) -> None:
        self.message = message or self.default_message
        self.errors = errors or []
        self.headers = headers or {}
        super().__init__(self.message)


class BadRequest(VellumError):
    status = 400
    default_message = "The request is malformed."


class Unauthorized(VellumError):
    status = 401
    default_message = "Authentication is required."

    def __init__(self, message: str | None = None, *, invalid_token: bool = False) -> None:
        # RFC 6750 section 3: tell the client which kind of failure it was.
        challenge = "Bearer"
        if invalid_token:
            challenge += ' error="invalid_token"'
        super().__init__(message, headers={"WWW-Authenticate": challenge})


class Forbidden(VellumError):
    status = 403
    default_message = "You may not do this."


class NotFound(VellumError):
    status = 404
    default_message = "Not found."


class Conflict(VellumError):
    status = 409
    default_message = "The request conflicts with the current state."


class Gone(VellumError):
    status = 410
    default_message = "This was removed."


class PreconditionFailed(VellumError):
    status = 412
    default_message = "The resource has changed since you read it."


class UnsupportedMediaType(VellumError):
    status = 415
    default_message = "The body must be sent as Content-Type: application/json."


class TooManyRequests(VellumError):
    status = 429
    default_message = "Too many requests: try again later."


class ServiceUnavailable(VellumError):
    status = 503
    default_message = "This is not ready yet: try again shortly."

    def __init__(self, message: str | None = None, *, retry_after: int) -> None:
        # RFC 9110 section 10.2.3. no-store: a cache that kept "not yet" would keep it once ready.
        super().__init__(message, headers={"Retry-After": str(retry_after), "Cache-Control": "no-store"})


class QuotaExceeded(BadRequest):
    """The bytes asked for do not fit in what is left of a bucket's quota."""

    def __init__(self, left: int) -> None:
        self.reason = f"exceeds the bucket's quota: {left} bytes are left"
        super().__init__(f"The size is invalid: it {self.reason}.", [FieldError("size", self.reason)])


class UploadRefused(BadRequest):
    """Completion refused what S3 holds for an upload."""


class UploadIncomplete(UploadRefused):
    """Bytes are still missing: the upload stays open for the client to send them."""


class UploadFailed(UploadRefused):
    """What S3 holds breaks the upload's plan or a limit: the upload ended, its data deleted."""

    def __init__(self, reason: str) -> None:
        self.reason = reason
        super().__init__(f"The upload failed: {reason}. Its data was deleted; start a new upload.")


def error_body(status: int, message: str, errors: list[FieldError] | None = None) -> dict[str, Any]:
    body: dict[str, Any] = {"status": status, "message": message}
    if errors:
        body["errors"] = [{"field": e.field, "message": e.message} for e in errors]
    return body


def error_response(error: VellumError) -> Response:
    return Response(
        body=error_body(error.status, error.message, error.errors),
        status_code=error.status,
        headers={"Content-Type": "application/json", **error.headers},
    )


def invalid_field(field: str, problem: str) -> BadRequest:
    """A 400 for one bad field: ``problem`` completes "The <field> is invalid: it ..."."""
    return BadRequest(f"The {field} is invalid: it {problem}.", [FieldError(field, problem)])
