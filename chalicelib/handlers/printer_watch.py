"""The printers' silence watch: every five minutes, how many venues' printers have said nothing
for 15 minutes, as the metric the stack's alarm watches (``docs/cards.md``). A module of its
own so that its Lambda imports, and is granted, only what the count needs."""
from __future__ import annotations

from chalice import Blueprint, Rate

from chalicelib.observability import start_event_invocation

bp = Blueprint(__name__)


@bp.schedule(Rate(5, unit=Rate.MINUTES), name="silent_printers")
def silent_printers(event):
    """Count the silent printers and write the ``SilentPrinters`` metric."""
    start_event_invocation(event)
    from chalicelib.services.cards import silence

    silence.report_silent_printers()
