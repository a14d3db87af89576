"""The app's log lines as JSON documents, for tests that check what a line says and carries.

The Powertools logger writes to the standard output stream it found at import; this adds a
handler with the same formatter (so the same keys: request id, tenant, job id...) that keeps
each line, at ``level`` for the block.
"""
from __future__ import annotations

import json
import logging
from contextlib import contextmanager


@contextmanager
def captured_logs(level: str = "INFO"):
    from chalicelib.observability import logger

    lines: list[dict] = []

    class Keep(logging.Handler):
        def emit(self, record: logging.LogRecord) -> None:
            lines.append(json.loads(self.format(record)))

    handler = Keep()
    handler.setFormatter(logger.registered_formatter)
    target = logging.getLogger(logger.name)
    previous = target.level
    target.addHandler(handler)
    target.setLevel(level)
    try:
        yield lines
    finally:
        target.removeHandler(handler)
        target.setLevel(previous)
