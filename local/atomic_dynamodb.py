"""Giving moto's DynamoDB the atomicity DynamoDB has.

DynamoDB applies each conditional write and each transaction atomically, and Vellum's concurrency
control (quota reservations, claiming a completion, revisions) rests on that. moto 5.2 checks a
condition and then writes without a lock, so two threads of its server can both pass one
condition. One lock around moto's writes gives the embedded AWS, and the tests, DynamoDB's
guarantee; Vellum's own code takes no lock anywhere.
"""

from __future__ import annotations

import functools
import threading
from collections.abc import Callable
from typing import Any

from moto.dynamodb.models import DynamoDBBackend

WRITES = ("put_item", "update_item", "delete_item", "transact_write_items", "batch_write_item")
_lock = threading.RLock()


def make_dynamodb_writes_atomic() -> None:
    for name in WRITES:
        method = getattr(DynamoDBBackend, name)
        if getattr(method, "_atomic", False):
            continue
        setattr(DynamoDBBackend, name, _serialised(method))


def _serialised(method: Callable[..., Any]) -> Callable[..., Any]:
    @functools.wraps(method)
    def atomic(*args: Any, **kwargs: Any) -> Any:
        with _lock:
            return method(*args, **kwargs)

    atomic._atomic = True  # type: ignore[attr-defined]
    return atomic
