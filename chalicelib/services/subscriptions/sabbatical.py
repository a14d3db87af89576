"""A sabbatical: a subscriber skips one season and keeps their seats for the one after.

Staff put a subscription on sabbatical for the new season's product
(``POST /subscriptions/{id}/sabbatical``): no order and no charge, but the holder's seats are
kept out of sale at the new season's performances (the seat a renewal would give them: the
same seat at each venue if free, else the first free seat of its category), and a placeholder
subscription of the new product records them (state ``sabbatical``, ``held_seats``, the means
and the number of instalments carried). The source is marked renewed into it, so the season's
renewal run passes over it; the next season's run renews the placeholder as if the subscriber
had renewed: their seats at each venue, their means, their instalments.

One transaction writes the placeholder, the seat holds (the claims a sale would take: nobody
can buy those seats), the source's mark (on condition it is not renewed yet) and the audit
events: asking twice, or racing a renewal run, leaves one outcome.
"""
from __future__ import annotations

from dataclasses import dataclass

from pynamodb.exceptions import TransactWriteError
from pynamodb.transactions import TransactWrite

from chalicelib.adapters import clock, ids
from chalicelib.errors import Conflict
from chalicelib.models.base import connection, tenant_key
from chalicelib.models.catalog import Tariff
from chalicelib.models.subscriptions import Subscription
from chalicelib.models.unique_keys import UniqueKey
from chalicelib.services.shared.actors import Actor
from chalicelib.services.shared.audit import audit_event, snapshot
from chalicelib.services.shared.records import get_record
from chalicelib.services.subscriptions import renewal


class NoSabbatical(Conflict):
    kind = "no-sabbatical"
    title = "This subscription cannot go on sabbatical"
    title_fr = "Cet abonnement ne peut pas être mis en année sabbatique"


@dataclass
class SabbaticalPlan:
    """What a sabbatical would keep: the new season's tariff and the holder's seat at each of
    its performances."""

    source: Subscription
    run: renewal.Run
    tariff: Tariff
    seats: dict[str, str]  # performance id -> seat id


def plan_sabbatical(actor: Actor, subscription_id: str, target_product_id: str) -> SabbaticalPlan:
    """What putting ``subscription_id`` on sabbatical for ``target_product_id`` would keep,
    checked as :func:`take_sabbatical` checks it (the same 409 and 422); nothing written."""
    source = get_record(actor, Subscription, subscription_id)
    if source.state != "active" or source.renewed_into:
        raise NoSabbatical(f"Subscription {source.id} is {source.state}"
                           f"{' and renewed already' if source.renewed_into else ''}: no sabbatical.")
    renewal.check_products(actor, source.product_id, target_product_id)
    run = renewal.Run.of(actor, {"source_product_id": source.product_id, "target_product_id": target_product_id,
                                 "keep_seats": True})
    tariff = renewal.tariff_for(actor, run, source)
    if tariff is None:
        raise NoSabbatical("The new product has no tariff of the same name as this subscription's.")
    seats, missing = renewal.seats_for(actor, run, source)
    if missing:
        raise NoSabbatical("No seat of the holder's category is free at a new performance: it cannot be kept.")
    return SabbaticalPlan(source=source, run=run, tariff=tariff, seats=seats)


def take_sabbatical(actor: Actor, subscription_id: str, target_product_id: str) -> Subscription:
    """Put ``subscription_id`` on sabbatical for ``target_product_id`` (the new season's); the
    placeholder (409 when it is not active, already renewed, or a seat cannot be kept; 422 for
    a product that is not the new season's of the same kind)."""
    plan = plan_sabbatical(actor, subscription_id, target_product_id)
    source, run, tariff, seats = plan.source, plan.run, plan.tariff, plan.seats
    now = clock.now()
    placeholder = Subscription(
        tenant_id=actor.tenant_id, id=ids.new_id(), product_id=run.target.id, season_id=run.target.season_id,
        tariff_id=tariff.id, holder_contact_id=source.holder_contact_id,
        payer_contact_id=source.payer_contact_id, order_id="", ticket_positions=[],
        performance_ids=list(run.terms.performance_ids), price_cents=0, currency=source.currency,
        delivery_mode=source.delivery_mode, means=source.means, saved_means_id=source.saved_means_id,
        plan_id=source.plan_id, instalments=[], state="sabbatical", tacit=source.tacit, renewed_from=source.id,
        held_seats=seats, carried_instalments=renewal.instalment_count(source), created_by=actor.subject,
        created_at=now, updated_at=now)
    placeholder.set_index_keys()
    before = snapshot(source)
    source.renewed_into, source.updated_at = placeholder.id, now
    try:
        with TransactWrite(connection=connection()) as transaction:
            transaction.save(placeholder, condition=Subscription.id.does_not_exist())
            transaction.save(source, condition=Subscription.renewed_into.does_not_exist())
            for performance_id, seat_id in seats.items():
                transaction.save(UniqueKey(key=tenant_key(actor.tenant_id, "seat_sold", performance_id, seat_id),
                                           entity_type="subscription", entity_id=placeholder.id, label="seat_id"),
                                 condition=UniqueKey.key.does_not_exist())
            transaction.save(audit_event(actor, "subscription", source.id, "sabbatical", before,
                                         {"placeholder": placeholder.id, "seats": seats}))
            transaction.save(audit_event(actor, "subscription", placeholder.id, "create", None,
                                         snapshot(placeholder)))
    except TransactWriteError as error:
        raise NoSabbatical("The subscription or one of its seats changed meanwhile (renewed, or the seat sold); "
                           "look again.") from error
    return placeholder
