"""The console sessions ended before their time.

A console session is a signed cookie (``services/staff_sessions/sessions.py``), valid until it
expires wherever it is copied. Signing out records the session here, so that a copy of the
cookie (a shared computer's browser history, a proxy's log) opens nothing afterwards.

:class:`EndedSession` (table ``ended_sessions``; hash ``tenant#ended_session#session id``): written
by the sign-out, read with every console request; DynamoDB's TTL removes it once the cookie
would have expired anyway.
"""
from __future__ import annotations

from pynamodb.attributes import TTLAttribute, UnicodeAttribute, UTCDateTimeAttribute
from pynamodb.models import Model

from chalicelib.models.base import table_meta


class EndedSession(Model):
    Meta = table_meta("ended_sessions")

    session_key = UnicodeAttribute(hash_key=True)
    subject = UnicodeAttribute()  # who signed out (for an investigation; the audit has the rest)
    ended_at = UTCDateTimeAttribute()
    expires_on = TTLAttribute()  # the cookie's own expiry: past it, the cookie is refused anyway
