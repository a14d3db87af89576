"""Re-indexing a venue's contacts for search: every contact's index entries made to match its
record, and its e-mails claimed (contacts written before the index existed, or after its rules
changed); two contacts sharing an e-mail are counted as ``duplicate_email`` for staff to merge. A job, one
contact per item, each written like an edit (under its version, with its entries in the same
transaction) and only when its tokens differ, so running it twice writes nothing more."""
from __future__ import annotations

import json

from chalicelib.errors import ConcurrentChange
from chalicelib.models.contacts import Contact
from chalicelib.services.contacts.contacts import DuplicateContact, write_contact
from chalicelib.services.contacts.search import tokens_of
from chalicelib.services.jobs.framework import ChunkBudget, ChunkResult, job_kind, start_job
from chalicelib.services.shared.actors import Actor

REINDEX = "contacts.reindex"
PAGE = 100


def start_reindex(actor: Actor):
    return start_job(actor, REINDEX, {})


@job_kind(REINDEX, max_items=20)
def reindex_chunk(actor: Actor, params: dict, cursor: dict | None, budget: ChunkBudget) -> ChunkResult:
    """A page of contacts per item taken from the budget (a page stays far inside the chunk's time)."""
    start = json.loads(cursor["k"]) if cursor else None
    done = skipped = failed = duplicates = 0
    while budget.take():
        results = Contact.query(actor.tenant_id, limit=PAGE, last_evaluated_key=start)
        for contact in results:
            if (contact.search_tokens or {}) == tokens_of(contact):
                skipped += 1
                continue
            try:
                write_contact(actor, contact, action="reindex", before=None)
                done += 1
            except DuplicateContact:
                duplicates += 1  # another contact has one of its e-mails: staff merge them
            except ConcurrentChange:
                failed += 1  # edited meanwhile: that edit indexed it
        start = results.last_evaluated_key
        if not start:
            return ChunkResult(cursor=None, done=done, skipped=skipped, failed=failed + duplicates,
                               outcomes={"duplicate_email": duplicates} if duplicates else {})
    return ChunkResult(cursor={"k": json.dumps(start, sort_keys=True)}, done=done, skipped=skipped,
                       failed=failed + duplicates, outcomes={"duplicate_email": duplicates} if duplicates else {})
