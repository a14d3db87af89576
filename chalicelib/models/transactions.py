"""The connection DynamoDB transactions are sent on, and reading why one was cancelled.

DynamoDB cancels a transaction that meets another one in flight on one of its items (reason
``TransactionConflict``), having written nothing. On a busy performance this is common: every
sale of a quota updates the same quota item. Sending the same items again is safe, because each
condition is evaluated again on what is stored then: the retry lands as if the request had
arrived a few milliseconds later. So a transaction cancelled only by such races is sent again,
a few times with jittered backoff, before its caller hears of it; a transaction refused by one
of its conditions is never sent again here (its caller decides what the refusal means).

DynamoDB Local runs transactions one at a time and never answers ``TransactionConflict``; the
tests inject DynamoDB's recorded answer at the client.
"""
from __future__ import annotations

import random
import time
from typing import Any

from pynamodb.connection import Connection
from pynamodb.exceptions import TransactWriteError

RACE_ATTEMPTS = 4
FIRST_PAUSE_SECONDS = 0.02
RACE_CODES = frozenset({"TransactionConflict"})
REFUSED = "ConditionalCheckFailed"


def refusal_codes(error: TransactWriteError) -> set[str]:
    """The reasons DynamoDB gave for cancelling the transaction, one code per refusing item."""
    return {reason.code for reason in getattr(error, "cancellation_reasons", None) or [] if reason is not None}


def condition_refused(error: TransactWriteError) -> bool:
    """Whether one of the transaction's conditions was false (rather than a race or a fault)."""
    return REFUSED in refusal_codes(error)


def lost_a_race(error: TransactWriteError) -> bool:
    """Whether the transaction was cancelled by other writes in flight and nothing else."""
    codes = refusal_codes(error)
    return bool(codes) and codes <= RACE_CODES


class RaceRetryingConnection(Connection):
    """A PynamoDB connection whose transactions are sent again when they only lost a race."""

    def transact_write_items(self, *args: Any, **kwargs: Any) -> dict:
        for attempt in range(1, RACE_ATTEMPTS + 1):
            try:
                return super().transact_write_items(*args, **kwargs)
            except TransactWriteError as error:
                if attempt == RACE_ATTEMPTS or not lost_a_race(error):
                    raise
                # Full jitter: racing writers spread out instead of meeting again.
                time.sleep(random.uniform(0, FIRST_PAUSE_SECONDS * 2 ** attempt))
        raise AssertionError("unreachable")
