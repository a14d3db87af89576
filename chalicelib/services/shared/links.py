"""Opening the signed links spectators follow: the payload of a genuine, unexpired token, or
the typed error a page explains (:class:`~chalicelib.errors.LinkExpired`, 410;
:class:`~chalicelib.errors.LinkInvalid`, 403)."""
from __future__ import annotations

from chalicelib.adapters import signing
from chalicelib.errors import LinkExpired, LinkInvalid


def opened(purpose: str, token: str) -> dict:
    try:
        return signing.verify(purpose, token)
    except signing.Expired:
        raise LinkExpired("This link has expired.") from None
    except signing.BadSignature:
        raise LinkInvalid("This link was altered or copied incompletely.") from None
