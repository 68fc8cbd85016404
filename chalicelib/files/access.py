"""Who may read a bucket's files has changed: whoever keeps what it learnt of them forgets it.

The files domain cannot reach the features above it (IIIF's caches of who may see an image, and
the CDN's copies of public answers), so they register here and are told, in the function that made
the change, the moment it commits. Narrowing matters most (nobody may keep seeing what is hidden
now); widening too, or what was just published stays hidden from others until a cache expires.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass


@dataclass(frozen=True)
class Narrowing:
    bucket_id: str
    # Anyone could read the bucket's current files until now, so shared caches may hold answers
    # about them (an older version may have been current once).
    was_public: bool
    # The versions no longer readable as before; None: every current version of the bucket.
    version_ids: tuple[str, ...] | None = None


_listeners: list[Callable[[Narrowing], None]] = []


def on_access_narrowed(listener: Callable[[Narrowing], None]) -> None:
    """Call ``listener`` whenever fewer may read some of a bucket's files than before."""
    _listeners.append(listener)


def access_narrowed(narrowing: Narrowing) -> None:
    for listener in _listeners:
        listener(narrowing)


_widened: list[Callable[[str], None]] = []


def on_access_widened(listener: Callable[[str], None]) -> None:
    """Call ``listener`` with the bucket's id whenever more may read its files than before."""
    _widened.append(listener)


def access_widened(bucket_id: str) -> None:
    for listener in _widened:
        listener(bucket_id)
