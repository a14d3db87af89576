"""The card's faces and the cancel marker, from the card-images bucket: a face comes by its
presigned URL, or (URL expired: a job that waited days for a ribbon) by GetObject with the
agent's own credentials, which may read its site's prefix only."""

from __future__ import annotations

import logging
import urllib.error
import urllib.request
from typing import Any

from botocore.exceptions import BotoCoreError, ClientError

from edge_agent.protocol import Face, PrintJob

log = logging.getLogger(__name__)

PNG_MAGIC = b"\x89PNG\r\n\x1a\n"
MAX_IMAGE_BYTES = 20 * 1024 * 1024


class ImageUnavailable(Exception):
    """A face could be read neither by its URL nor from the bucket."""


class CardImages:
    def __init__(self, s3: Any, tenant_id: str, site_id: str, timeout_seconds: float = 30.0):
        self._s3 = s3
        self._prefix = f"{tenant_id}/{site_id}/"
        self._timeout = timeout_seconds

    def face(self, face: Face) -> bytes:
        """The PNG bytes of one face."""
        try:
            return _png(self._by_url(face.url))
        except (OSError, ValueError) as exc:
            log.info("face by URL failed (%s); reading s3://%s/%s", exc, face.bucket, face.key)
        if not face.key.startswith(self._prefix):
            raise ImageUnavailable(f"{face.key} is outside this site's prefix {self._prefix}")
        try:
            body = self._s3.get_object(Bucket=face.bucket, Key=face.key)["Body"].read(MAX_IMAGE_BYTES + 1)
            return _png(body)
        except (BotoCoreError, ClientError, ValueError) as exc:
            raise ImageUnavailable(f"s3://{face.bucket}/{face.key}: {exc}") from exc

    def _by_url(self, url: str) -> bytes:
        if not url.startswith(("https://", "http://")):
            raise ValueError("not an http(s) URL")
        with urllib.request.urlopen(url, timeout=self._timeout) as answer:  # noqa: S310 (http(s) only)
            return answer.read(MAX_IMAGE_BYTES + 1)

    def cancelled(self, job: PrintJob) -> bool:
        """Whether staff cancelled the job (the marker object exists)."""
        key = f"{self._prefix}cancelled/{job.job_id}"
        try:
            self._s3.head_object(Bucket=job.front.bucket, Key=key)
            return True
        except ClientError as exc:
            if exc.response.get("Error", {}).get("Code") in ("404", "NoSuchKey", "NotFound"):
                return False
            log.warning("cancel marker %s unreadable (%s): printing", key, exc)
            return False
        except BotoCoreError as exc:
            log.warning("cancel marker %s unreadable (%s): printing", key, exc)
            return False


def _png(body: bytes) -> bytes:
    if len(body) > MAX_IMAGE_BYTES:
        raise ValueError("image larger than 20 MiB")
    if not body.startswith(PNG_MAGIC):
        raise ValueError("not a PNG image")
    return body
