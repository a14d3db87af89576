"""Re-indexing a venue's contacts for search: every contact's index entries made to match its
record, and its e-mails claimed (contacts written before the index existed, or after its rules
changed); two contacts sharing an e-mail are counted as ``duplicate_email`` for staff to merge. A job, one
contact per item, each written like an edit (under its version, with its entries in the same
transaction) and only when its tokens differ, so running it twice writes nothing more. It also
registers each contact's criterion names (``criteria.py``: contacts written before the registry)."""
from __future__ import annotations

from chalicelib.errors import ConcurrentChange
from chalicelib.models.contacts import Contact
from chalicelib.services.contacts import criteria
from chalicelib.services.contacts.contacts import DuplicateContact, write_contact
from chalicelib.services.contacts.search import tokens_of
from chalicelib.services.jobs.framework import ChunkBudget, ChunkResult, job_kind, start_job, walk_pages
from chalicelib.services.shared.actors import Actor
from chalicelib.services.shared.audit import plain

REINDEX = "contacts.reindex"
PAGE = 100


def start_reindex(actor: Actor):
    return start_job(actor, REINDEX, {})


@job_kind(REINDEX, max_items=20)
def reindex_chunk(actor: Actor, params: dict, cursor: dict | None, budget: ChunkBudget) -> ChunkResult:
    """A page of contacts per item taken from the budget (a page stays far inside the chunk's time)."""
    counts = {"done": 0, "skipped": 0, "failed": 0, "duplicate_email": 0}

    def handle(page: list[Contact]) -> None:
        for contact in page:
            counts[_reindexed(actor, contact)] += 1

    following = walk_pages(budget, cursor, lambda start: Contact.query(actor.tenant_id, limit=PAGE,
                                                                         last_evaluated_key=start), handle)
    duplicates = counts.pop("duplicate_email")
    return ChunkResult(cursor=following, done=counts["done"], skipped=counts["skipped"],
                       failed=counts["failed"] + duplicates, outcomes={"duplicate_email": duplicates} if duplicates else {})


def _reindexed(actor: Actor, contact: Contact) -> str:
    criteria.register(actor.tenant_id, plain(contact.criteria) or {})  # contacts written before the registry
    if (contact.search_tokens or {}) == tokens_of(contact):
        return "skipped"
    try:
        write_contact(actor, contact, action="reindex", before=None)
        return "done"
    except DuplicateContact:
        return "duplicate_email"  # another contact has one of its e-mails: staff merge them
    except ConcurrentChange:
        return "failed"  # edited meanwhile: that edit indexed it
