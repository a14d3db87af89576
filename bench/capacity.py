"""A meter of DynamoDB capacity consumed, for benchmark scripts.

It asks DynamoDB for ``ReturnConsumedCapacity=INDEXES`` on every call made while it is
installed and adds up what comes back, split into reads and writes, and the writes by table,
by the table's own items and by index.
"""
from __future__ import annotations

import threading
from collections import Counter
from contextlib import contextmanager

READS = {"GetItem", "Query", "BatchGetItem", "TransactGetItems"}
WRITES = {"PutItem", "UpdateItem", "DeleteItem", "BatchWriteItem", "TransactWriteItems"}


class CapacityMeter:
    def __init__(self) -> None:
        self.units: Counter = Counter()
        self.calls: Counter = Counter()
        self.table_writes: Counter = Counter()
        self.item_writes: Counter = Counter()  # the table's own part (without its indexes)
        self.index_writes: Counter = Counter()
        self._lock = threading.Lock()

    def record(self, operation: str, response: dict) -> None:
        consumed = response.get("ConsumedCapacity") or []
        entries = consumed if isinstance(consumed, list) else [consumed]
        total = sum(entry.get("CapacityUnits", 0.0) for entry in entries)
        kind = "read" if operation in READS else "write"
        with self._lock:
            self.units[kind] += total
            self.calls[operation] += 1
            if kind == "write":
                for entry in entries:
                    table = entry.get("TableName", "?")
                    self.table_writes[table] += entry.get("CapacityUnits", 0.0)
                    self.item_writes[table] += (entry.get("Table") or {}).get("CapacityUnits", 0.0)
                    for index, used in (entry.get("GlobalSecondaryIndexes") or {}).items():
                        self.index_writes[f"{table}:{index}"] += used.get("CapacityUnits", 0.0)

    def index_writes_total(self) -> float:
        return sum(self.index_writes.values())

    @property
    def read_units(self) -> float:
        return self.units["read"]

    @property
    def write_units(self) -> float:
        return self.units["write"]

    def writes_of(self, table: str) -> float:
        """Write units spent on the tables whose name ends with ``table`` (any stage prefix)."""
        return sum(units for name, units in self.table_writes.items() if name.endswith(table))


@contextmanager
def metered():
    """Install a :class:`CapacityMeter` on every botocore client for the duration of the block."""
    import botocore.client

    meter = CapacityMeter()
    original = botocore.client.BaseClient._make_api_call

    def counting(self, operation_name, api_params):
        if operation_name in READS | WRITES and self.meta.service_model.service_name == "dynamodb":
            api_params = {**api_params, "ReturnConsumedCapacity": "INDEXES"}
            response = original(self, operation_name, api_params)
            meter.record(operation_name, response)
            return response
        return original(self, operation_name, api_params)

    botocore.client.BaseClient._make_api_call = counting
    try:
        yield meter
    finally:
        botocore.client.BaseClient._make_api_call = original


# -- what transactions carry (DynamoDB Local reports a transaction's capacity per table, not per item) --

ITEM_SIZES: Counter = Counter()  # table -> largest put item seen, in KB (rounded up)


def transaction_items():
    """Count the items each TransactWriteItems carries, by table, while the block runs; the put
    items' sizes are kept (a put's size is known before it is written)."""
    import contextlib
    import json

    from pynamodb.transactions import TransactWrite

    counts: Counter = Counter()
    original = TransactWrite._commit

    def counting(self):
        for kind in ("_put_items", "_update_items", "_delete_items", "_condition_check_items"):
            for item in getattr(self, kind):
                table = item["TableName"]
                counts[table] += 1
                if kind == "_put_items":
                    kilobytes = -(-len(json.dumps(item["Item"]).encode()) // 1024)
                    ITEM_SIZES[table] = max(ITEM_SIZES[table], kilobytes)
        return original(self)

    @contextlib.contextmanager
    def installed():
        TransactWrite._commit = counting
        try:
            yield counts
        finally:
            TransactWrite._commit = original

    return installed()


def priced(items: Counter) -> float:
    """Transactional write units: 2 per KB of each item (the largest put of its table, else 1 KB)."""
    return sum(2 * count * max(ITEM_SIZES[table], 1) for table, count in items.items())
