"""Every model with a table, and the table creation used by the local stack and the tests.

In AWS the tables are created by the CloudFormation in ``infra/`` (generated from these
same models by ``infra/template.py``), never by the app.
"""
from __future__ import annotations

from pynamodb.models import Model

from chalicelib.models.audit import AuditEvent
from chalicelib.models.campaigns import AffectedCustomer, Campaign
from chalicelib.models.catalog import (
    Performance,
    Product,
    ProductFamily,
    Quota,
    SalesChannel,
    Season,
    Seat,
    SeatCategory,
    Tariff,
    Venue,
)
from chalicelib.models.contacts import Contact
from chalicelib.models.holds import HoldSlot
from chalicelib.models.invoices import CreditNote, Invoice
from chalicelib.models.jobs import Job
from chalicelib.models.mail import MailOverride, MailRecipient, Notification, SendWindow
from chalicelib.models.money import CreditAccount, CreditEntry, Donation, LedgerEntry, MetricRow, Refund
from chalicelib.models.orders import Counter, Order, OrderListing, Payment, Ticket
from chalicelib.models.organisation import Organisation
from chalicelib.models.team import TeamNotificationRule
from chalicelib.models.unique_keys import UniqueKey

MODELS: tuple[type[Model], ...] = (
    AuditEvent, Contact, UniqueKey, Job,
    Notification, MailRecipient, MailOverride, SendWindow,
    Order, Ticket, Payment, OrderListing, Counter, HoldSlot, Invoice, CreditNote, Organisation, TeamNotificationRule,
    Refund, LedgerEntry, MetricRow, CreditAccount, CreditEntry, Donation, Campaign, AffectedCustomer,
    Venue, Season, ProductFamily, Product, Performance, Tariff, Quota, SeatCategory, Seat, SalesChannel,
)


def create_missing_tables() -> list[str]:
    """Create the tables that do not exist yet; returns the names created."""
    created = []
    for model in MODELS:
        if not model.exists():
            model.create_table(billing_mode="PAY_PER_REQUEST", wait=True)
            created.append(model.Meta.table_name)
    return created
