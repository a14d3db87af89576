"""A subscription sold from a console form is sold once: the form sent again (a reload, a double
click, two tabs at once) answers the sale already made; a Lambda dying between the sale and the
holder's subscriber number leaves a sale the next send completes. Checked beforehand
(``check_sale``), a sale writes nothing."""
from __future__ import annotations

from concurrent.futures import ThreadPoolExecutor

import pytest

from chalicelib.adapters import ids
from chalicelib.models.subscriptions import Subscription
from chalicelib.services.contacts import contacts
from chalicelib.services.orders import orders
from chalicelib.services.shared.audit import plain
from chalicelib.services.subscriptions import selling
from tests.renewals_world import Seasons, contact_named


def _draft(seasons, payer) -> dict:
    return {"product_id": seasons.source.id, "tariff_id": seasons.source_tariff.id, "payer_contact_id": payer.id,
            "delivery_mode": "new_card", "plan_id": "once", "means": "cash", "saved_means_id": None,
            "subscribers": [{"holder_contact_id": payer.id}]}


def _sold(actor, seasons) -> list[Subscription]:
    from chalicelib.models.base import tenant_key

    return list(Subscription.by_product.query(tenant_key(actor.tenant_id, seasons.source.id)))


def test_the_same_form_sent_twice_sells_once(actor):
    seasons = Seasons(actor)
    anne = contact_named(actor, "Anne")
    request_id = ids.new_id()
    placement = selling.check_sale(actor, _draft(seasons, anne))
    assert placement.tariff.id == seasons.source_tariff.id and _sold(actor, seasons) == []  # nothing written
    first, made = selling.sell_once(actor, _draft(seasons, anne), request_id)
    again, made_again = selling.sell_once(actor, _draft(seasons, anne), request_id)
    assert (made, made_again) == (True, False) and first.order.id == again.order.id == request_id
    assert [s.id for s in again.subscriptions] == [s.id for s in first.subscriptions]
    assert len(_sold(actor, seasons)) == 1


def test_two_sends_at_once_sell_once(actor):
    seasons = Seasons(actor)
    anne = contact_named(actor, "Anne")
    request_id = ids.new_id()
    with ThreadPoolExecutor(max_workers=2) as pool:
        results = list(pool.map(lambda _: selling.sell_once(actor, _draft(seasons, anne), request_id), range(2)))
    assert sorted(made for _, made in results) == [False, True]
    assert {sale.order.id for sale, _ in results} == {request_id} and len(_sold(actor, seasons)) == 1


def test_a_crash_before_the_subscriber_number_is_completed_by_the_next_send(actor, monkeypatch):
    seasons = Seasons(actor)
    anne = contact_named(actor, "Anne")
    request_id = ids.new_id()
    real = selling._number_holders

    def died(*args, **kwargs):
        raise RuntimeError("the Lambda died after the sale")

    monkeypatch.setattr(selling, "_number_holders", died)
    with pytest.raises(RuntimeError):
        selling.sell_once(actor, _draft(seasons, anne), request_id)
    assert orders.get_order(actor, request_id).total_cents == seasons.source_tariff.price_cents  # sold
    assert "subscriber_number" not in (plain(contacts.get_contact(actor, anne.id).system_fields) or {})
    monkeypatch.setattr(selling, "_number_holders", real)
    sale, made = selling.sell_once(actor, _draft(seasons, anne), request_id)
    assert not made and len(_sold(actor, seasons)) == 1
    assert (plain(contacts.get_contact(actor, anne.id).system_fields) or {}).get("subscriber_number")
