"""Logging and tracing (Powertools): JSON logs keyed by request, tenant and job; X-Ray traces.

Every invocation starts with :func:`start_invocation` (the app's middleware): the logger
forgets the previous invocation's keys (a warm Lambda serves many) and carries the request id
from then on; a staff route adds ``tenant`` once the token is verified, a job chunk adds
``tenant``, ``job_id`` and ``chunk`` once its message is read.

Tracing is switched by configuration only: ``POWERTOOLS_TRACE_DISABLED=true`` (dev stage and
tests) means no tracer is ever built. Otherwise the first invocation of a container builds the
Powertools Tracer, which imports the X-Ray SDK (about a quarter of a second) and patches
boto3/botocore, so every later AWS call (DynamoDB through PynamoDB, SQS, SNS, SES, S3, SSM)
shows in the trace. Building it then, not at import, keeps the SDK out of ``import app``: see
"Cold start" in ``docs/operations.md``. The logger itself is built on first use too (the first
invocation, or the first line logged): :data:`logger` stands for it, so that importing the app
imports no part of Powertools.

A trace crosses from the API to the jobs with the message: :func:`trace_header` is the
current invocation's X-Ray header, which :mod:`chalicelib.adapters.queue` sends as the
message's ``AWSTraceHeader``; Lambda links the chunk's trace to it, and the chunk's log lines
carry it as ``origin_trace``. ``POWERTOOLS_LOG_LEVEL`` sets verbosity.
"""
from __future__ import annotations

import os
from functools import lru_cache

SERVICE = "ticketing"


@lru_cache(maxsize=1)
def _powertools_logger():
    from aws_lambda_powertools import Logger

    return Logger(service=SERVICE)


class _Logger:
    """The Powertools Logger of the app, built on first use; every attribute is the logger's."""

    def __getattr__(self, name: str):
        return getattr(_powertools_logger(), name)


logger = _Logger()

TRACE_HEADER_VARIABLE = "_X_AMZN_TRACE_ID"  # set by Lambda for each invocation when tracing is active


def tracing_enabled() -> bool:
    return os.environ.get("POWERTOOLS_TRACE_DISABLED", "false").strip().lower() not in {"1", "true", "yes"}


@lru_cache(maxsize=1)
def tracer():
    """The Powertools Tracer (boto3 and botocore patched), built on first use; ``None`` when
    tracing is off."""
    if not tracing_enabled():
        return None
    from aws_lambda_powertools import Tracer

    return Tracer(service=SERVICE, patch_modules=["boto3", "botocore"])


def start_invocation(request_id: str | None, **keys: str | None) -> None:
    """A new invocation: log keys reset to its request id (and ``keys``); the tracer is ready
    before the invocation's first AWS call."""
    logger.clear_state()
    logger.append_keys(request_id=request_id, **keys)
    tracer()


def start_event_invocation(event) -> None:
    """An event handler's invocation (SQS, SNS, schedule): Lambda's request id as its log key.
    Called by the handler itself: in AWS its Lambda imports the handler's Blueprint module, never
    ``app.py``, so an app middleware would not run there."""
    start_invocation(getattr(getattr(event, "context", None), "aws_request_id", None))


def trace_header() -> str | None:
    """The X-Ray trace header of the current invocation (``Root=...;Parent=...;Sampled=...``)."""
    return os.environ.get(TRACE_HEADER_VARIABLE) or None
