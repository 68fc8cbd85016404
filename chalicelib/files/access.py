"""Who may read a bucket's files has narrowed: whoever keeps what it learnt of them forgets it.

The files domain cannot reach the features above it (IIIF's caches of who may see an image), so
they register here and are told, in the function that made the change, the moment it commits.
"""

from __future__ import annotations

from collections.abc import Callable

_listeners: list[Callable[[str], None]] = []


def on_access_narrowed(listener: Callable[[str], None]) -> None:
    """Call ``listener(bucket_id)`` whenever fewer may read that bucket's files than before."""
    _listeners.append(listener)


def access_narrowed(bucket_id: str) -> None:
    for listener in _listeners:
        listener(bucket_id)
