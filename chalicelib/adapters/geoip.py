"""Where an IP address is: its country and postcode, read from a MaxMind GeoIP2 (or GeoLite2)
City database, IPv4 and IPv6.

The database is configured per deployment (``GEOIP_DATABASE``): a path on disk (tests,
``make dev``), or ``s3://bucket/key`` in AWS, downloaded once per Lambda container to the
temporary directory (``/tmp``). It is opened on the first lookup, never at import: ``geoip2``
is imported inside :func:`_reader` (like ``stripe`` in :mod:`chalicelib.adapters.payments`),
so routes that never locate anyone do not pay for it at cold start.

:func:`locate` never raises for what it cannot answer: an address missing, malformed, absent
from the database (``AddressNotFoundError``), a record without a country, no database
configured, or a database that cannot be read are all a :class:`Location` whose
``unknown_reason`` says which. What to do when the place is unknown is the caller's rule.
"""
from __future__ import annotations

import hashlib
import ipaddress
import os
import tempfile
import time
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path

from chalicelib.config import settings
from chalicelib.observability import logger

RETRY_AFTER_FAILURE_SECONDS = 30.0  # a database that could not be opened is tried again after this

NO_ADDRESS = "no-address"
INVALID_ADDRESS = "invalid-address"
NOT_IN_DATABASE = "not-in-database"
NO_COUNTRY = "no-country"
NO_DATABASE = "no-database"
DATABASE_UNAVAILABLE = "database-unavailable"

_failed: dict[str, float] = {}  # database source -> when opening it last failed (monotonic)


@dataclass(frozen=True)
class Location:
    """The place of an address: ``country`` (ISO 3166-1 alpha-2) and ``postcode`` as the database
    writes them (``postcode`` is often ``None``: most countries' records have none), or, when
    ``country`` is ``None``, why it is unknown."""

    country: str | None = None
    postcode: str | None = None
    unknown_reason: str | None = None

    @property
    def known(self) -> bool:
        return self.country is not None


def locate(address: str | None) -> Location:
    """The place of ``address`` (IPv4 or IPv6 text, as API Gateway gives it)."""
    if not address:
        return Location(unknown_reason=NO_ADDRESS)
    try:
        parsed = ipaddress.ip_address(address.strip())
    except ValueError:
        return Location(unknown_reason=INVALID_ADDRESS)
    if isinstance(parsed, ipaddress.IPv6Address) and parsed.ipv4_mapped is not None:
        parsed = parsed.ipv4_mapped  # ::ffff:192.0.2.1 is the IPv4 address
    source = settings.geoip_database
    if not source:
        return Location(unknown_reason=NO_DATABASE)
    reader = _open(source)
    if reader is None:
        return Location(unknown_reason=DATABASE_UNAVAILABLE)
    return _lookup(reader, str(parsed))


def _lookup(reader, address: str) -> Location:
    import geoip2.errors

    try:
        found = reader.city(address)
    except geoip2.errors.AddressNotFoundError:
        return Location(unknown_reason=NOT_IN_DATABASE)
    except ValueError:  # an IPv6 address in an IPv4-only database
        return Location(unknown_reason=NOT_IN_DATABASE)
    country = (found.country.iso_code or "").upper() or None
    if country is None:  # anonymous proxies, satellite links: only a "registered" country, if any
        return Location(unknown_reason=NO_COUNTRY)
    return Location(country=country, postcode=found.postal.code or None)


def _open(source: str):
    """The reader of ``source`` (opened once per process), or ``None`` when it cannot be opened
    (logged; tried again after :data:`RETRY_AFTER_FAILURE_SECONDS`)."""
    failed_at = _failed.get(source)
    if failed_at is not None and time.monotonic() - failed_at < RETRY_AFTER_FAILURE_SECONDS:
        return None
    try:
        reader = _reader(source)
    except Exception:  # noqa: BLE001 - a missing file, S3 refusing, a corrupt file: the check must still answer
        logger.exception("the GeoIP database could not be opened", extra={"source": source})
        _failed[source] = time.monotonic()
        return None
    _failed.pop(source, None)
    return reader


@lru_cache(maxsize=1)
def _reader(source: str):
    import geoip2.database

    reader = geoip2.database.Reader(str(_local_path(source)))
    kind = reader.metadata().database_type
    if "City" not in kind:  # a Country database has no postcodes, and city() refuses it
        reader.close()
        raise ValueError(f"GEOIP_DATABASE must be a GeoIP2 or GeoLite2 City database, not {kind}")
    return reader


def _local_path(source: str) -> Path:
    """A path to read the database from: ``source`` itself, or its S3 object downloaded to the
    temporary directory (once per container: the reader is cached)."""
    if not source.startswith("s3://"):
        return Path(source)
    bucket, _, key = source[len("s3://"):].partition("/")
    if not bucket or not key:
        raise ValueError(f"GEOIP_DATABASE must be s3://bucket/key, not {source!r}")
    from chalicelib.adapters.aws import client

    target = Path(tempfile.gettempdir()) / "geoip" / f"{hashlib.sha256(source.encode()).hexdigest()[:16]}.mmdb"
    target.parent.mkdir(parents=True, exist_ok=True)
    partial = target.with_suffix(f".{os.getpid()}.part")
    started = time.monotonic()
    client("s3").download_file(bucket, key, str(partial))
    os.replace(partial, target)
    logger.info("GeoIP database downloaded", extra={"source": source, "bytes": target.stat().st_size,
                                                    "seconds": round(time.monotonic() - started, 3)})
    return target


def reset() -> None:
    """Forget the opened database and past failures (tests, after changing ``GEOIP_DATABASE``)."""
    _reader.cache_clear()
    _failed.clear()
