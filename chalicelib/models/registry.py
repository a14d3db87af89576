"""Every model with a table, and the table creation used by the local stack and the tests.

In AWS the tables are created by the CloudFormation in ``infra/`` (generated from these
same models by ``infra/template.py``), never by the app.
"""
from __future__ import annotations

from pynamodb.models import Model

from chalicelib.models.audit import AuditEvent
from chalicelib.models.campaigns import AffectedCustomer, Campaign
from chalicelib.models.cards import Card, CardPrinter, CardSite, PrintJob
from chalicelib.models.carts import Cart, CartRate
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
from chalicelib.models.contacts import Contact, ContactToken
from chalicelib.models.geo_limits import GeoLimit, GeoPolicy
from chalicelib.models.holds import HoldSlot
from chalicelib.models.invoices import CreditNote, Invoice
from chalicelib.models.jobs import Job
from chalicelib.models.mail import MailOverride, MailRecipient, Notification, SendWindow
from chalicelib.models.mailing_lists import ListMembership, MailingList
from chalicelib.models.money import CreditAccount, CreditEntry, Donation, LedgerEntry, MetricRow, Refund
from chalicelib.models.options import DueAction, FollowUpPolicy, HoldLine, HoldLineCount, SweepMark
from chalicelib.models.orders import Counter, Order, OrderListing, Payment, Ticket
from chalicelib.models.organisation import Organisation
from chalicelib.models.payers import PayerAccount, PaymentMeans
from chalicelib.models.seat_changes import SeatChange
from chalicelib.models.segments import Segment
from chalicelib.models.staff_sessions import EndedSession
from chalicelib.models.subscriptions import InstalmentDue, RenewalNoticeDue, Subscription, SubscriptionTerms
from chalicelib.models.team import TeamNotificationRule
from chalicelib.models.unique_keys import UniqueKey
from chalicelib.models.walk_places import WalkPlace

MODELS: tuple[type[Model], ...] = (
    AuditEvent, Contact, ContactToken, MailingList, ListMembership, Segment, UniqueKey, Job,
    Notification, MailRecipient, MailOverride, SendWindow,
    Order, Ticket, Payment, OrderListing, Counter, HoldSlot, Invoice, CreditNote, Organisation, TeamNotificationRule,
    HoldLine, HoldLineCount, DueAction, FollowUpPolicy, SweepMark,
    SubscriptionTerms, Subscription, InstalmentDue, RenewalNoticeDue,
    Refund, LedgerEntry, MetricRow, CreditAccount, CreditEntry, Donation, Campaign, AffectedCustomer,
    PayerAccount, PaymentMeans,
    SeatChange,
    Venue, Season, ProductFamily, Product, Performance, Tariff, Quota, SeatCategory, Seat, SalesChannel,
    GeoLimit, GeoPolicy, Cart, CartRate,
    CardSite, CardPrinter, PrintJob, Card,
    EndedSession, WalkPlace,
)


def create_missing_tables() -> list[str]:
    """Create the tables that do not exist yet, and the indexes a newer model added to a table
    that does (a developer's persisted local tables); returns the names created."""
    created = []
    for model in MODELS:
        if not model.exists():
            model.create_table(billing_mode="PAY_PER_REQUEST", wait=True)
            created.append(model.Meta.table_name)
        else:
            created += _add_missing_indexes(model)
    return created


def _add_missing_indexes(model: type[Model]) -> list[str]:
    dynamodb = model._get_connection().connection.client  # botocore: PynamoDB's update_table takes no attributes
    table = dynamodb.describe_table(TableName=model.Meta.table_name)["Table"]
    present = {index["IndexName"] for index in table.get("GlobalSecondaryIndexes", [])}
    schema = model._get_schema()
    added = []
    for index in schema["global_secondary_indexes"]:
        if index["index_name"] in present:
            continue
        wanted = {name for key in index["key_schema"] for name in [key["AttributeName"]]}
        definitions = [item for item in schema["attribute_definitions"] if item["AttributeName"] in wanted]
        dynamodb.update_table(TableName=model.Meta.table_name, AttributeDefinitions=definitions,
                              GlobalSecondaryIndexUpdates=[{"Create": {
                                  "IndexName": index["index_name"], "KeySchema": index["key_schema"],
                                  "Projection": index["projection"]}}])
        added.append(f"{model.Meta.table_name}:{index['index_name']}")
        _wait_active(dynamodb, model.Meta.table_name, index["index_name"])
    return added


def _wait_active(dynamodb, table_name: str, index_name: str, seconds: float = 120) -> None:
    """Until the new index has been filled from the table's items (so queries may use it)."""
    import time

    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        indexes = dynamodb.describe_table(TableName=table_name)["Table"].get("GlobalSecondaryIndexes", [])
        if any(index["IndexName"] == index_name and index.get("IndexStatus") == "ACTIVE" for index in indexes):
            return
        time.sleep(0.2)
    raise TimeoutError(f"index {index_name} of {table_name} is not active after {seconds} s")
