"""Setting up a benchmark: its own DynamoDB Local, and its data written fast (BatchWriteItem, 25
items a call, from a few threads). Setup only: what a bench measures goes through the app's own
code paths."""
from __future__ import annotations

import os
import secrets
import threading
from pathlib import Path


def start_local_dynamodb(stack, *, log_dir: Path | None = None, **environment: str):
    """DynamoDB Local on a free port, added to ``stack`` (stopped with it), and the app's settings
    pointed at it under a table prefix of its own; ``environment`` adds settings (``MAIL_TRANSPORT``...)."""
    from devtools import engines

    dynamodb = stack.add(engines.start_dynamodb(log_dir or engines.LOCAL / "bench-logs"))
    os.environ.update({"DYNAMODB_ENDPOINT": dynamodb.url, "AWS_ACCESS_KEY_ID": "local",
                       "AWS_SECRET_ACCESS_KEY": "local", "AWS_DEFAULT_REGION": "eu-west-3",
                       "TABLE_PREFIX": f"bench{secrets.token_hex(3)}-", "POWERTOOLS_LOG_LEVEL": "ERROR",
                       "POWERTOOLS_TRACE_DISABLED": "true", **environment})
    return dynamodb


def write_in_batches(items: list, *, threads: int = 4) -> None:
    """Write PynamoDB ``items`` (of any models) in batches of 25, ``threads`` at a time."""
    by_model: dict = {}
    for item in items:
        by_model.setdefault(type(item), []).append(item)
    work = [(model, chunk[i:i + 25]) for model, chunk in by_model.items() for i in range(0, len(chunk), 25)]
    lock = threading.Lock()

    def writer():
        while True:
            with lock:
                if not work:
                    return
                model, batch = work.pop()
            with model.batch_write() as batch_writer:
                for item in batch:
                    batch_writer.save(item)

    pool = [threading.Thread(target=writer) for _ in range(threads)]
    [thread.start() for thread in pool]
    [thread.join() for thread in pool]
