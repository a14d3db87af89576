"""Logging and tracing (Powertools): JSON logs with request id and tenant; X-Ray traces.

Both are switched by configuration only: ``POWERTOOLS_TRACE_DISABLED=true`` (set for the
dev stage and tests) turns tracing off, ``POWERTOOLS_LOG_LEVEL`` sets verbosity. When
tracing is on, boto3/botocore calls are patched so DynamoDB, SQS, SNS and SES show in traces.
"""
from __future__ import annotations

from aws_lambda_powertools import Logger, Tracer

logger = Logger(service="ticketing")
tracer = Tracer(service="ticketing", patch_modules=["boto3", "botocore"])
