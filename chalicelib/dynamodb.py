"""What both tables' owners share of pynamodb: transactions and telling a refused condition apart."""

from __future__ import annotations

import functools
import threading
from collections.abc import Callable, Sequence
from typing import Any

from pynamodb.connection import Connection, TableConnection
from pynamodb.exceptions import TransactWriteError
from pynamodb.expressions.condition import Condition
from pynamodb.expressions.update import Action
from pynamodb.models import Model
from pynamodb.transactions import TransactWrite

from chalicelib.settings import get_settings


def transaction() -> TransactWrite:
    """A DynamoDB transaction: all its writes happen, or none, and once (botocore sends a client
    request token, the same with each of its retries)."""
    with _connecting:
        connection = _connection(get_settings().region)
        connection.client  # noqa: B018 (built once, under the lock)
    return TransactWrite(connection=connection)


_connecting = threading.Lock()


@functools.cache
def _connection(region: str) -> Connection:
    # One per container, as the clients in aws.py: each new Connection builds a botocore client
    # (tens of milliseconds), and botocore clients are thread-safe. The pool is for the local
    # API, which serves many requests in one process; a Lambda container serves one at a time.
    return Connection(region=region, max_pool_connections=MAX_POOL_CONNECTIONS)


MAX_POOL_CONNECTIONS = 64


class TableModel(Model):
    """A model whose connection uses the container's one botocore client.

    pynamodb gives each model class a connection that builds its own botocore client on first use
    (a completion uses four classes: four clients at a cold start), and two threads' first uses
    race to build one each: 50 concurrent uploads on the local API built hundreds, for 20 s.
    Each class keeps its own connection, which knows its indexes; the client is built once."""

    @classmethod
    def _get_connection(cls) -> TableConnection:
        with _connecting:
            table = super()._get_connection()
            if table.connection._client is None:  # pynamodb's own cache of the client
                table.connection._client = _connection(get_settings().region).client
            return table


def condition_failed(exc: Exception) -> bool:
    """Whether a write was refused by its condition (another writer got there first)."""
    return getattr(exc, "cause_response_code", None) == "ConditionalCheckFailedException"


def refused_keys(exc: TransactWriteError, writes: TransactWrite) -> set[tuple[str, str]]:
    """The keys (pk, sk) of the writes of a cancelled transaction that their conditions refused.

    DynamoDB gives one reason per write, in the order sent, and pynamodb sends condition checks,
    then deletes, puts and updates, whatever order they were added in: keys, not positions, say
    which write was refused."""
    sent = [
        *writes._condition_check_items,
        *writes._delete_items,
        *writes._put_items,
        *writes._update_items,
    ]
    reasons = exc.cancellation_reasons or []
    return {
        _key(kwargs)
        for kwargs, reason in zip(sent, reasons, strict=False)
        if reason is not None and reason.code == "ConditionalCheckFailed"
    }


def _key(kwargs: dict[str, Any]) -> tuple[str, str]:
    attributes = kwargs.get("Key") or kwargs["Item"]
    return attributes["pk"]["S"], attributes["sk"]["S"]


def save_once(item: Model, condition: Condition) -> bool:
    """Save ``item`` if ``condition`` holds; False if it does not.

    A transaction of one write, for its client request token: a plain conditional write whose
    answer was lost is sent again by botocore and then fails its own condition."""
    return transact_once(lambda writes: writes.save(item, condition=condition))


def update_once(item: Model, actions: Sequence[Action], condition: Condition) -> bool:
    """Update ``item`` if ``condition`` holds, as ``save_once`` saves; False if it does not."""
    return transact_once(lambda writes: writes.update(item, actions=list(actions), condition=condition))


def transact_once(write: Callable[[TransactWrite], None]) -> bool:
    """Commit the transaction ``write`` fills; False if a condition refused one of its writes."""
    writes = transaction()
    try:
        with writes:
            write(writes)
    except TransactWriteError as exc:
        if refused_keys(exc, writes):
            return False
        raise
    return True
