"""The venue's criterion names: every name staff have given a contact's criteria ("Arrêt du
renouvellement automatique", "Stop abonnement 1"), so that a feature naming a criterion (a
renewal run's opt-out) can check it exists with one read, never a Scan.

Criteria are free: staff name one on a contact, there is no list to define first, so the list is
what contacts carry. A name is registered (accents and case ignored, as every rule reading
criteria compares them) **before** the write of a contact carrying it: a contact never holds a
name the registry lacks. A write that then fails leaves a name no contact holds, which is
harmless (a run naming it honours a criterion nobody holds). A name once used stays known.
Contacts written before the registry existed: the contacts re-index job registers their names.

Each name is one item of ``unique_keys`` (``tenant#criterion#<folded name>``, the name as first
written). Cost: a warm Lambda remembers the names it has seen; otherwise one GetItem per name of
the contact written, and one PutItem the first time a name is used.
"""
from __future__ import annotations

from typing import Iterable

from pynamodb.exceptions import DoesNotExist

from chalicelib.models.base import tenant_key
from chalicelib.models.unique_keys import UniqueKey
from chalicelib.values.text import fold

_SEEN: set[str] = set()  # registry keys known to exist (per warm Lambda)


def _key(tenant_id: str, name: str) -> str:
    return tenant_key(tenant_id, "criterion", fold(name))


def register(tenant_id: str, names: Iterable[str]) -> None:
    """Make sure each of ``names`` is in the venue's registry (idempotent)."""
    for name in {fold(name): name for name in names if fold(name)}.values():
        key = _key(tenant_id, name)
        if key in _SEEN:
            continue
        try:
            UniqueKey.get(key)
        except DoesNotExist:
            UniqueKey(key=key, entity_type="criterion", entity_id=name, label="name").save()
        _SEEN.add(key)


def exists(tenant_id: str, name: str) -> bool:
    """Whether a contact of the venue was ever given the criterion ``name`` (accents and case ignored)."""
    try:
        UniqueKey.get(_key(tenant_id, name))
        return True
    except DoesNotExist:
        return False
