"""What both tables' owners share of pynamodb: transactions and telling a refused condition apart."""

from __future__ import annotations

import functools
from collections.abc import Callable, Sequence
from typing import Any

from pynamodb.connection import Connection
from pynamodb.exceptions import TransactWriteError
from pynamodb.expressions.condition import Condition
from pynamodb.expressions.update import Action
from pynamodb.models import Model
from pynamodb.transactions import TransactWrite

from chalicelib.settings import get_settings


def transaction() -> TransactWrite:
    """A DynamoDB transaction: all its writes happen, or none, and once (botocore sends a client
    request token, the same with each of its retries)."""
    return TransactWrite(connection=_connection(get_settings().region))


@functools.cache
def _connection(region: str) -> Connection:
    # One per container, as the clients in aws.py: each new Connection builds a botocore client
    # (tens of milliseconds), and botocore clients are thread-safe.
    return Connection(region=region)


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
