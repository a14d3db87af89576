"""Pieces every feature uses, owned by none of them.

- :mod:`.actors`: who acts (a staff member from a verified token, or the system itself).
- :mod:`.audit`: the audit trail, and ``write_audited``, the one way a staff change is
  written (the entity and its audit event in one transaction, version checked).
- :mod:`.records`: create, read, update and list for plain tenant-owned records (the
  catalog's venues, seasons, tariffs...), declared once as a ``RecordKind``.
- :mod:`.paging`: cursor paging over Queries, cursors signed and bound to their listing.
- :mod:`.links`: opening the signed links spectators follow, with typed errors.
- :mod:`.pages`: the spectators' HTML pages (one Jinja environment, the security headers).
"""
