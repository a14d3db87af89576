"""Setting up a benchmark's data fast: items written with BatchWriteItem (25 a call) from a few
threads. Setup only: what a bench measures goes through the app's own code paths."""
from __future__ import annotations

import threading


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
