"""S3 objects for the files the app produces (exports, season cards' faces): multipart uploads,
small files, presigned downloads.

A file too large for one request is written as a **multipart upload**: :func:`start_upload`
names the object (its content type and the ``Content-Disposition`` a browser saves it
under are fixed there), :func:`upload_part` sends numbered parts (every part but the last
must be at least 5 MiB; sending a number again replaces that part, so a retried part is
harmless), :func:`complete_upload` assembles the parts named with their ETags, and
:func:`abort_upload` throws an unfinished upload away. :func:`put_object` and
:func:`get_object` (optionally only if its ETag is still the one expected) keep small scratch
files. Staff fetch a finished file through
a presigned GET URL (:func:`download_url`, 15 minutes), never through the API.

In AWS the bucket comes from the stack (``infra/template.py``: private, encrypted, files
expired after 7 days, unfinished uploads aborted after a day). Locally (``AWS_ENDPOINT``
set: moto) each bucket is created on first use.
"""
from __future__ import annotations

import base64
import hashlib
from functools import lru_cache

from chalicelib.config import settings

CSV_CONTENT_TYPE = "text/csv; charset=utf-8"
DOWNLOAD_SECONDS = 15 * 60


class PreconditionFailed(Exception):
    """The object is not the version asked for (its ETag changed)."""


class PartRejected(Exception):
    """S3 refused to assemble the parts: a part named is missing or its ETag is not the one
    stored (it was replaced since), or a part but the last is under the minimum size."""


@lru_cache(maxsize=1)
def _client():
    """The S3 client (moto locally).

    - Parts carry a Content-MD5, the classic integrity check every S3 (and moto) accepts,
      instead of the CRC32 botocore adds by default since 1.36, which an upload created
      without a checksum algorithm may refuse, or expect again at completion.
    - In AWS, presigned URLs name the bucket on its regional endpoint
      (``bucket.s3.eu-west-3.amazonaws.com``): the global one redirects requests for a new
      bucket outside us-east-1 for a while. Locally (moto on 127.0.0.1) paths name it.
    """
    import boto3
    from botocore.config import Config

    addressing = "path" if settings.aws_endpoint else "virtual"
    return boto3.client("s3", region_name=settings.aws_region, endpoint_url=settings.aws_endpoint,
                        config=Config(signature_version="s3v4", s3={"addressing_style": addressing},
                                      request_checksum_calculation="when_required",
                                      response_checksum_validation="when_required"))


def _s3(bucket: str | None = None):
    if settings.aws_endpoint:
        _ensure_local_bucket(bucket or settings.exports_bucket)
    return _client()


@lru_cache(maxsize=None)
def _ensure_local_bucket(bucket: str) -> None:
    """Locally only (moto): create the bucket once per process. In AWS the stack owns it."""
    s3 = _client()
    options = {} if settings.aws_region == "us-east-1" else {
        "CreateBucketConfiguration": {"LocationConstraint": settings.aws_region}}
    try:
        s3.create_bucket(Bucket=bucket, **options)
    except s3.exceptions.BucketAlreadyOwnedByYou:
        pass


def attachment(file_name: str) -> str:
    """The ``Content-Disposition`` that saves the object as ``file_name`` (ASCII names only)."""
    safe = "".join(char for char in file_name if char.isascii() and char.isprintable() and char not in '"\\')
    return f'attachment; filename="{safe}"'


def _md5(data: bytes) -> str:
    return base64.b64encode(hashlib.md5(data).digest()).decode("ascii")  # noqa: S324 - S3's integrity check


def start_upload(bucket: str, key: str, *, content_type: str, file_name: str) -> str:
    """Start a multipart upload of ``key``; its upload id. The object is encrypted at rest (SSE-S3,
    so part ETags are the parts' MD5s: the same bytes give the same ETag)."""
    answer = _s3().create_multipart_upload(Bucket=bucket, Key=key, ContentType=content_type,
                                           ContentDisposition=attachment(file_name), ServerSideEncryption="AES256")
    return answer["UploadId"]


def upload_part(bucket: str, key: str, upload_id: str, number: int, data: bytes) -> str:
    """Send part ``number`` (1-based; again to replace it); its ETag, as S3 gives it (quoted)."""
    answer = _s3().upload_part(Bucket=bucket, Key=key, UploadId=upload_id, PartNumber=number, Body=data,
                               ContentMD5=_md5(data))
    return answer["ETag"]


def complete_upload(bucket: str, key: str, upload_id: str, etags: list[str]) -> None:
    """Assemble the object from parts ``1..len(etags)`` with these ETags; parts sent under other
    numbers are discarded. :class:`PartRejected` if S3 refuses the parts as named."""
    s3 = _s3()
    parts = [{"PartNumber": number, "ETag": etag} for number, etag in enumerate(etags, start=1)]
    try:
        s3.complete_multipart_upload(Bucket=bucket, Key=key, UploadId=upload_id, MultipartUpload={"Parts": parts})
    except s3.exceptions.ClientError as error:
        if error.response.get("Error", {}).get("Code") in ("InvalidPart", "InvalidPartOrder", "EntityTooSmall"):
            raise PartRejected(str(error)) from error
        raise


def abort_upload(bucket: str, key: str, upload_id: str) -> None:
    """Throw an unfinished upload and its parts away (an upload already gone is fine)."""
    s3 = _s3()
    try:
        s3.abort_multipart_upload(Bucket=bucket, Key=key, UploadId=upload_id)
    except s3.exceptions.NoSuchUpload:
        pass


def put_object(bucket: str, key: str, data: bytes) -> str:
    """Write a small object whole (a scratch file); its ETag (the MD5 of ``data``, quoted)."""
    answer = _s3().put_object(Bucket=bucket, Key=key, Body=data, ContentMD5=_md5(data), ServerSideEncryption="AES256")
    return answer["ETag"]


def get_object(bucket: str, key: str, *, if_match: str | None = None) -> bytes:
    """The bytes of ``key``; :class:`PreconditionFailed` if its ETag is not ``if_match``."""
    s3 = _s3()
    options = {"IfMatch": if_match} if if_match else {}
    try:
        return s3.get_object(Bucket=bucket, Key=key, **options)["Body"].read()
    except s3.exceptions.ClientError as error:
        if error.response.get("Error", {}).get("Code") in ("PreconditionFailed", "412"):
            raise PreconditionFailed(str(error)) from error
        raise


def put_file(bucket: str, key: str, data: bytes, *, content_type: str) -> str:
    """Write a small file whole (a rendered image, a marker), of ``content_type``; its ETag."""
    answer = _s3(bucket).put_object(Bucket=bucket, Key=key, Body=data, ContentType=content_type,
                                    ContentMD5=_md5(data), ServerSideEncryption="AES256")
    return answer["ETag"]


def exists(bucket: str, key: str) -> bool:
    """Whether ``key`` is in ``bucket`` (``HeadObject``)."""
    s3 = _s3(bucket)
    try:
        s3.head_object(Bucket=bucket, Key=key)
    except s3.exceptions.ClientError as error:
        if error.response.get("Error", {}).get("Code") in ("404", "NoSuchKey", "NotFound"):
            return False
        raise
    return True


def download_url(bucket: str, key: str, *, seconds: int = DOWNLOAD_SECONDS) -> str:
    """A presigned GET URL of ``key``, valid ``seconds`` (and no longer than the signing
    credentials: a Lambda's role credentials, renewed hours ahead)."""
    return _s3(bucket).generate_presigned_url("get_object", Params={"Bucket": bucket, "Key": key}, ExpiresIn=seconds)
