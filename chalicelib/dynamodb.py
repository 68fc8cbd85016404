"""What both tables' owners share of pynamodb: transactions and telling a refused condition apart."""

from __future__ import annotations

from pynamodb.connection import Connection
from pynamodb.transactions import TransactWrite

from chalicelib.settings import get_settings


def transaction() -> TransactWrite:
    """A DynamoDB transaction: all its writes happen, or none."""
    return TransactWrite(connection=Connection(region=get_settings().region))


def condition_failed(exc: Exception) -> bool:
    """Whether a write was refused by its condition (another writer got there first)."""
    return getattr(exc, "cause_response_code", None) == "ConditionalCheckFailedException"
