"""The venue's criterion names: registered before the write of a contact carrying one (created,
edited), accents and case ignored, per venue; contacts written before the registry get theirs
registered by the re-index job."""
from __future__ import annotations

from chalicelib.models.base import tenant_key
from chalicelib.models.unique_keys import UniqueKey
from chalicelib.services.contacts import contacts, criteria, reindex
from chalicelib.services.jobs.framework import ChunkBudget
from chalicelib.services.shared.actors import Actor

STOP = "Arrêt du renouvellement automatique"


def test_a_criterion_exists_once_a_contact_was_given_it(actor):
    assert not criteria.exists(actor.tenant_id, STOP)
    anne = contacts.create_contact(actor, {"last_name": "Martin", "criteria": {STOP: "oui"}})
    assert criteria.exists(actor.tenant_id, "arret du RENOUVELLEMENT automatique")
    assert not criteria.exists(actor.tenant_id, "Arrêt du renouvelement automatique")  # a typo is not it
    contacts.update_contact(actor, anne.id, {"criteria": {"Stop abonnement 1": "oui", STOP: None}})
    assert criteria.exists(actor.tenant_id, "Stop abonnement 1")
    assert criteria.exists(actor.tenant_id, STOP)  # a name once used stays known
    other_venue = Actor(f"{actor.tenant_id}-autre", "staff-1", frozenset({"staff"}))
    assert not criteria.exists(other_venue.tenant_id, STOP)


def test_the_reindex_job_registers_older_contacts_criteria(actor):
    contacts.create_contact(actor, {"last_name": "Martin", "criteria": {STOP: "oui"}})
    key = tenant_key(actor.tenant_id, "criterion", "arret du renouvellement automatique")
    UniqueKey(key=key).delete()  # as if written before the registry existed
    criteria._SEEN.discard(key)
    assert not criteria.exists(actor.tenant_id, STOP)
    reindex.reindex_chunk(actor, {}, None, ChunkBudget(job_id="j", seq=0, max_items=5, seconds=60))
    assert criteria.exists(actor.tenant_id, STOP)
