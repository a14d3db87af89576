"""Custom CloudWatch metrics, written as CloudWatch's embedded metric format (EMF): one JSON line
on the Lambda's standard output, which CloudWatch Logs turns into a metric point, with no API
call and no permission (the stack's alarms watch them: ``infra/alarms.py``).

Namespace from ``POWERTOOLS_METRICS_NAMESPACE`` (the stack sets ``Ticketing``), dimensions
``service=ticketing`` and ``stage``, as the alarms name them.
"""
from __future__ import annotations

import json
import os
import sys
import time

from chalicelib.config import settings

SERVICE = "ticketing"


def emit(name: str, value: float, *, unit: str = "Count") -> dict:
    """Write one point of metric ``name``; the document written (for tests and logs)."""
    document = {
        "_aws": {"Timestamp": int(time.time() * 1000), "CloudWatchMetrics": [{
            "Namespace": os.environ.get("POWERTOOLS_METRICS_NAMESPACE", "Ticketing"),
            "Dimensions": [["service", "stage"]], "Metrics": [{"Name": name, "Unit": unit}]}]},
        "service": SERVICE, "stage": settings.stage, name: value,
    }
    sys.stdout.write(json.dumps(document, separators=(",", ":")) + "\n")
    sys.stdout.flush()
    return document
