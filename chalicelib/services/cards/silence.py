"""Printers gone silent: the active printers, every venue together, whose agent has said nothing
for :data:`SILENT_AFTER`, counted for the operator's alarm (the ``SilentPrinters`` metric).

A module of its own, importing only what the count needs, so that the scheduled function
running it is granted the printers' index and nothing else.
"""
from __future__ import annotations

from datetime import timedelta

from chalicelib.adapters import clock, metrics
from chalicelib.models.cards import WATCHED, CardPrinter, PrintersByContact

SILENT_AFTER = timedelta(minutes=15)  # heartbeats come every 30 s: an agent, a PC or a network is down


def report_silent_printers() -> int:
    """How many active printers are silent (one that never reported is not: its agent is not
    installed yet); written as the ``SilentPrinters`` metric."""
    silent = CardPrinter.by_contact.count(
        WATCHED, range_key_condition=PrintersByContact.last_contact_at < clock.now() - SILENT_AFTER)
    metrics.emit("SilentPrinters", silent)
    return silent
