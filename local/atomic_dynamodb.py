"""Giving moto's DynamoDB the atomicity and the idempotent transactions DynamoDB has.

DynamoDB applies each conditional write and each transaction atomically, and Vellum's concurrency
control (quota reservations, claiming a completion, revisions) rests on that. moto 5.2 checks a
condition and then writes without a lock, so two threads of its server can both pass one
condition, and a read can see a write half done. One lock around moto's writes and reads gives
the embedded AWS, and the tests, DynamoDB's guarantee; Vellum's own code takes no lock anywhere.

DynamoDB also applies a transaction once per ``ClientRequestToken`` for 10 minutes, which botocore
fills in for every TransactWriteItems call and sends again with each of its own retries. moto
ignores the token, so a transaction that was applied but whose answer timed out was applied again
on the retry, every condition then failing: the embedded stack answered 500 for a completion it
had recorded. Here a token already applied answers as it did, and the same token with other
items is refused as DynamoDB refuses it.

moto makes a transaction undoable by deep-copying every table it touches, once per write: a
5-write transaction on a table of 2,000 items took 616 ms. Here it keeps the items the
transaction touches instead, and puts them back if it is cancelled.

Listeners (`on_written`) learn, still under the lock and before the answer, which items each
outermost write touched: the journal keeps the embedded AWS's writes on disk from there.
"""

from __future__ import annotations

import copy
import functools
import inspect
import json
import threading
import time
from collections import OrderedDict
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from typing import Any

from moto.dynamodb import models as moto_dynamodb
from moto.dynamodb.exceptions import ERROR_TYPE_PREFIX, DynamodbException
from moto.dynamodb.models import DynamoDBBackend
from moto.dynamodb.models.table import Table
from moto.dynamodb.responses import DynamoHandler

WRITES = ("put_item", "update_item", "delete_item", "transact_write_items", "batch_write_item")
# moto applies an update's actions one by one to the live item, and serialises a read's answer
# from the live items: a read during a write could see half of it. DynamoDB reads whole items.
READS = ("get_item", "query", "scan", "batch_get_item", "transact_get_items")
TOKEN_LIFETIME_SECONDS = 600  # DynamoDB's idempotency window
_lock = threading.RLock()
# Token -> (when applied, the items it applied, the answer), oldest first.
_applied: OrderedDict[str, tuple[float, str, Any]] = OrderedDict()
Touched = list[tuple[str, dict[str, Any]]]  # (table name, key) of each item a write touched
_listeners: list[Callable[[DynamoDBBackend, Touched], None]] = []
_depth = 0  # of nested writes (a transaction's puts), under the lock
_written: Touched = []


class IdempotentParameterMismatch(DynamodbException):
    def __init__(self) -> None:
        super().__init__(
            ERROR_TYPE_PREFIX + "IdempotentParameterMismatchException",
            message="The request uses the same client token as a previous, but non-identical request.",
        )


def make_dynamodb_writes_atomic() -> None:
    if not getattr(DynamoDBBackend.transact_write_items, "_atomic", False):
        DynamoDBBackend.transact_write_items = _undone_by_item(  # type: ignore[method-assign]
            DynamoDBBackend.transact_write_items
        )
    for name in WRITES:
        method = getattr(DynamoDBBackend, name)
        if getattr(method, "_atomic", False):
            continue
        setattr(DynamoDBBackend, name, _serialised(method))
    for name in READS:
        handler = getattr(DynamoHandler, name)
        if not getattr(handler, "_atomic", False):
            setattr(DynamoHandler, name, _under_lock(handler))
    if not getattr(DynamoHandler.transact_write_items, "_atomic", False):
        DynamoHandler.transact_write_items = _once_per_token(  # type: ignore[method-assign,assignment]
            DynamoHandler.transact_write_items
        )


def on_written(listener: Callable[[DynamoDBBackend, Touched], None]) -> None:
    if listener not in _listeners:
        _listeners.append(listener)


def _serialised(method: Callable[..., Any]) -> Callable[..., Any]:
    signature = inspect.signature(method)

    @functools.wraps(method)
    def atomic(*args: Any, **kwargs: Any) -> Any:
        global _depth
        with _lock:
            if _listeners and method.__name__ in ("put_item", "update_item", "delete_item"):
                _written.append(_written_key(signature.bind(*args, **kwargs).arguments))
            _depth += 1
            try:
                return method(*args, **kwargs)
            finally:
                _depth -= 1
                if _depth == 0 and _written:
                    touched = _written.copy()
                    _written.clear()
                    for listener in _listeners:
                        listener(args[0], touched)

    atomic._atomic = True  # type: ignore[attr-defined]
    return atomic


def _under_lock(method: Callable[..., Any]) -> Callable[..., Any]:
    @functools.wraps(method)
    def whole(*args: Any, **kwargs: Any) -> Any:
        with _lock:
            return method(*args, **kwargs)

    whole._atomic = True  # type: ignore[attr-defined]
    return whole


def _written_key(arguments: dict[str, Any]) -> tuple[str, dict[str, Any]]:
    table_name = arguments["table_name"]
    if "key" in arguments:
        return table_name, arguments["key"]
    table = arguments["self"].tables.get(table_name)
    names = [] if table is None else [n for n in (table.hash_key_attr, table.range_key_attr) if n]
    item = arguments["item_attrs"]
    return table_name, {name: item[name] for name in names if name in item}


class _CopiesAllButTables:
    """moto's `copy` within a transaction: items are still copied, whole tables no more."""

    @staticmethod
    def deepcopy(value: Any, memo: Any = None) -> Any:
        return value if isinstance(value, Table) else copy.deepcopy(value, memo)


def _undone_by_item(method: Callable[..., Any]) -> Callable[..., Any]:
    @functools.wraps(method)
    def transact(backend: DynamoDBBackend, transact_items: list[dict[str, Any]]) -> Any:
        try:
            before = [_touched(backend, entry) for entry in transact_items]
        except Exception:  # a malformed write: moto's own checks answer it
            return method(backend, transact_items)
        moto_dynamodb.copy = _CopiesAllButTables  # type: ignore[attr-defined,assignment]
        try:
            return method(backend, transact_items)
        except Exception:
            for table_name, key, attributes in reversed([found for found in before if found]):
                if attributes is None:
                    backend.delete_item(table_name, key)
                else:
                    backend.put_item(table_name, attributes)
            raise
        finally:
            moto_dynamodb.copy = copy  # type: ignore[attr-defined]

    return transact


def _touched(backend: DynamoDBBackend, entry: dict[str, Any]) -> tuple[str, dict[str, Any], Any] | None:
    """A write's table, key and item as it is now (None: no such item yet), to put back."""
    write = next(iter(entry.values()))
    table_name = write.get("TableName")
    if table_name not in backend.tables:
        return None
    table = backend.tables[table_name]
    if "Key" in write:
        key = write["Key"]
    else:
        names = [name for name in (table.hash_key_attr, table.range_key_attr) if name]
        key = {name: write["Item"][name] for name in names}
    found = backend.get_item(table_name, key)
    return table_name, key, None if found is None else copy.deepcopy(found.to_json()["Attributes"])


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
