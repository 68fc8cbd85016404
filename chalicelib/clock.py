"""The one clock: every timestamp Vellum records is UTC, and tests can move it in one place."""

from __future__ import annotations

from datetime import UTC, datetime


def now() -> datetime:
    return datetime.now(UTC)
