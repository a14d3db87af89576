"""Logging and tracing (Powertools): JSON logs with request id and tenant; X-Ray traces.

Both are switched by configuration only: ``POWERTOOLS_TRACE_DISABLED=true`` (dev stage and
tests) means no tracer is built at all, which also spares the cold start the X-Ray SDK
import; otherwise the tracer patches boto3/botocore so DynamoDB, SQS, SNS and SES calls
show in traces. ``POWERTOOLS_LOG_LEVEL`` sets verbosity.
"""
from __future__ import annotations

import os

from aws_lambda_powertools import Logger

logger = Logger(service="ticketing")


def _tracing_enabled() -> bool:
    return os.environ.get("POWERTOOLS_TRACE_DISABLED", "false").strip().lower() not in {"1", "true", "yes"}


def _build_tracer():
    from aws_lambda_powertools import Tracer

    return Tracer(service="ticketing", patch_modules=["boto3", "botocore"])


tracer = _build_tracer() if _tracing_enabled() else None
