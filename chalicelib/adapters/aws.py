"""boto3 clients for SQS, SNS and SES v2, one per service per process, pointed at moto locally."""
from __future__ import annotations

from functools import lru_cache

from chalicelib.config import settings


@lru_cache(maxsize=None)
def client(service: str):
    import boto3

    return boto3.client(service, region_name=settings.aws_region, endpoint_url=settings.aws_endpoint)
