"""Giving moto's DynamoDB the atomicity and the idempotent transactions DynamoDB has.

DynamoDB applies each conditional write and each transaction atomically, and Vellum's concurrency
control (quota reservations, claiming a completion, revisions) rests on that. moto 5.2 checks a
condition and then writes without a lock, so two threads of its server can both pass one
condition. One lock around moto's writes gives the embedded AWS, and the tests, DynamoDB's
guarantee; Vellum's own code takes no lock anywhere.

DynamoDB also applies a transaction once per ``ClientRequestToken`` for 10 minutes, which botocore
fills in for every TransactWriteItems call and sends again with each of its own retries. moto
ignores the token, so a transaction that was applied but whose answer timed out was applied again
on the retry, every condition then failing: the embedded stack answered 500 for a completion it
had recorded. Here a token already applied answers as it did, and the same token with other
items is refused as DynamoDB refuses it.
"""

from __future__ import annotations

import functools
import json
import threading
import time
from collections import OrderedDict
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from typing import Any

from moto.dynamodb.exceptions import ERROR_TYPE_PREFIX, DynamodbException
from moto.dynamodb.models import DynamoDBBackend
from moto.dynamodb.responses import DynamoHandler

WRITES = ("put_item", "update_item", "delete_item", "transact_write_items", "batch_write_item")
TOKEN_LIFETIME_SECONDS = 600  # DynamoDB's idempotency window
_lock = threading.RLock()
# Token -> (when applied, the items it applied, the answer), oldest first.
_applied: OrderedDict[str, tuple[float, str, Any]] = OrderedDict()


class IdempotentParameterMismatch(DynamodbException):
    def __init__(self) -> None:
        super().__init__(
            ERROR_TYPE_PREFIX + "IdempotentParameterMismatchException",
            message="The request uses the same client token as a previous, but non-identical request.",
        )


def make_dynamodb_writes_atomic() -> None:
    for name in WRITES:
        method = getattr(DynamoDBBackend, name)
        if getattr(method, "_atomic", False):
            continue
        setattr(DynamoDBBackend, name, _serialised(method))
    if not getattr(DynamoHandler.transact_write_items, "_atomic", False):
        DynamoHandler.transact_write_items = _once_per_token(  # type: ignore[method-assign,assignment]
            DynamoHandler.transact_write_items
        )


def _serialised(method: Callable[..., Any]) -> Callable[..., Any]:
    @functools.wraps(method)
    def atomic(*args: Any, **kwargs: Any) -> Any:
        with _lock:
            return method(*args, **kwargs)

    atomic._atomic = True  # type: ignore[attr-defined]
    return atomic


def _once_per_token(method: Callable[[DynamoHandler], Any]) -> Callable[[DynamoHandler], Any]:
    @functools.wraps(method)
    def transact(handler: DynamoHandler) -> Any:
        token = handler.body.get("ClientRequestToken")
        if not token:
            return method(handler)
        items = json.dumps(handler.body["TransactItems"], sort_keys=True)
        with _lock:
            now = time.monotonic()
            while _applied and now - next(iter(_applied.values()))[0] > TOKEN_LIFETIME_SECONDS:
                _applied.popitem(last=False)
            if token in _applied:
                _, applied_items, answer = _applied[token]
                if applied_items != items:
                    raise IdempotentParameterMismatch
                return answer
            answer = method(handler)  # a cancelled transaction raises: only applied ones are kept
            _applied[token] = (now, items, answer)
            return answer

    transact._atomic = True  # type: ignore[attr-defined]
    return transact


@contextmanager
def writes_paused() -> Iterator[None]:
    """No DynamoDB write lands while inside: what is read meanwhile is one point in time."""
    with _lock:
        yield
