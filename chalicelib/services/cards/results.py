"""The results queue: every site's agent reports its jobs' results and its printers' heartbeats
there, and the app applies them.

A message is **dropped** (logged, deleted, never retried) when it is not a readable version-1
message, when its signature is not the one of its ``site_id``'s agent key, or when its site,
printer or job is not the ``tenant_id``'s (an agent cannot report for another venue: its key
signs only its own site, and the site is looked up under the message's tenant). Anything else
that fails (DynamoDB throttled...) is a **batch item failure**: SQS delivers it again.

Results arrive more than once and out of order (a standard queue; the agent retries). They are
applied by state: queued → taken → printed | failed | uncertain | cancelled; a result whose
state ranks no higher than the job's changes nothing (the same result twice, a late ``taken``
after ``printed``), and the first final state wins, except that a card made outranks a cancel
the app decided alone (see :func:`_moves`). Heartbeats older than the printer's last
(by their ``at``) are ignored, by a conditional write.
"""
from __future__ import annotations

from pynamodb.exceptions import DoesNotExist, UpdateError

from chalicelib.adapters import clock
from chalicelib.errors import ConcurrentChange
from chalicelib.models.cards import FINAL_STATES, CardPrinter, CardSite, PrintJob, state_rank
from chalicelib.observability import logger
from chalicelib.services.cards import binding, protocol
from chalicelib.services.shared.actors import Actor
from chalicelib.services.shared.audit import snapshot, write_audited

APPLY_ATTEMPTS = 5
CARD_MADE = ("printed", "uncertain")


def apply_message(raw: str) -> str:
    """Apply one message; what happened (``dropped``, ``heartbeat``, ``stale``, the job's new state,
    ``ignored``), for logs and tests. The site is read once: for its agent key, then kept."""
    sites: dict[str, CardSite] = {}

    def key_of(tenant_id: str, site_id: str) -> str | None:
        try:
            sites[site_id] = CardSite.get(tenant_id, site_id, consistent_read=True)
        except DoesNotExist:
            return None
        return protocol.agent_key(sites[site_id])

    try:
        message = protocol.read_message(raw, key_of)
    except protocol.Unreadable as error:
        logger.warning("cards: results message dropped: %s", error)
        return "dropped"
    site = sites[message.site_id]  # its key signed the message: it exists, and is the tenant's
    try:
        printer = CardPrinter.get(message.tenant_id, message.printer_id, consistent_read=True)
    except DoesNotExist:
        logger.warning("cards: message of site %s for tenant %s dropped: no such printer there",
                       message.site_id, message.tenant_id)
        return "dropped"
    if printer.site_id != site.id:
        logger.warning("cards: message of site %s names printer %s of another site: dropped", site.id, printer.id)
        return "dropped"
    if isinstance(message, protocol.Heartbeat):
        return apply_heartbeat(message)
    return apply_result(message)


def apply_heartbeat(beat: protocol.Heartbeat) -> str:
    now = clock.now()
    try:
        CardPrinter(tenant_id=beat.tenant_id, id=beat.printer_id).update(
            actions=[CardPrinter.state.set(beat.state), CardPrinter.reasons.set(list(beat.reasons) or None),
                     CardPrinter.ribbon_remaining.set(beat.ribbon_remaining),
                     CardPrinter.current_job_id.set(beat.current_job_id),
                     CardPrinter.agent_version.set(beat.agent_version), CardPrinter.reported_at.set(beat.at),
                     CardPrinter.last_contact_at.set(now)],
            condition=CardPrinter.id.exists() & (CardPrinter.reported_at.does_not_exist()
                                                 | (CardPrinter.reported_at < beat.at)),
            add_version_condition=False)
    except UpdateError as error:
        if error.cause_response_code == "ConditionalCheckFailedException":
            return "stale"
        raise
    return "heartbeat"


def apply_result(result: protocol.Result) -> str:
    actor = Actor.system(result.tenant_id, f"card-agent:{result.site_id}")
    for _ in range(APPLY_ATTEMPTS):
        try:
            job = PrintJob.get(result.tenant_id, result.job_id, consistent_read=True)
        except DoesNotExist:
            logger.warning("cards: result for unknown job %s of tenant %s dropped", result.job_id, result.tenant_id)
            return "dropped"
        if job.site_id != result.site_id or job.printer_id != result.printer_id:
            logger.warning("cards: result for job %s names another site or printer: dropped", job.id)
            return "dropped"
        if not _moves(job, result.outcome):
            if job.state in FINAL_STATES and result.outcome in FINAL_STATES and result.outcome != job.state:
                logger.warning("cards: job %s is %s; a later %s result is ignored", job.id, job.state, result.outcome)
            return "ignored"
        try:
            _apply(actor, job, result)
        except ConcurrentChange:
            continue  # another delivery or staff moved the job: read it again
        return result.outcome
    raise ConcurrentChange(f"print job {result.job_id} kept changing while its result was applied")


def _moves(job: PrintJob, outcome: str) -> bool:
    """Whether a result moves the job: up the ranks only, the first final state winning; but a
    card the agent made (or may have made) outranks a cancel the app decided alone, which it does
    for a job whose message it did not know was sent (a crash between sending and recording it):
    the card exists, so the record says so, flagged ``cancel_too_late``."""
    if job.state == "cancelled" and outcome in CARD_MADE:
        return True
    return state_rank(outcome) > state_rank(job.state)


def _apply(actor: Actor, job: PrintJob, result: protocol.Result) -> None:
    if result.outcome == "printed":
        binding.bind_printed(actor, job, result.uid, result.at)
        return
    before = snapshot(job)
    job.state, job.state_at, job.updated_at = result.outcome, result.at, clock.now()
    if result.outcome in ("failed", "uncertain"):
        job.reason, job.detail = result.reason or "unknown_error", result.detail
    if result.outcome == "uncertain":
        job.uid = result.uid  # read before printing began: staff may confirm the card with it
    job.set_index_keys()
    write_audited(actor, job, action=result.outcome, before=before)
