"""The caller of a request, as established from its bearer token (or its absence)."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any


@dataclass(frozen=True)
class Principal:
    sub: str | None
    roles: frozenset[str] = frozenset()
    is_admin: bool = False
    # When the credential that established this principal stops being valid (epoch seconds): a
    # session started with it ends then too. Not part of who the principal is.
    expires_at: int | None = field(default=None, compare=False)

    @property
    def anonymous(self) -> bool:
        return self.sub is None

    def to_json(self) -> dict[str, Any]:
        if self.anonymous:
            return {"anonymous": True}
        return {"anonymous": False, "sub": self.sub, "roles": sorted(self.roles), "admin": self.is_admin}


ANONYMOUS = Principal(sub=None)
