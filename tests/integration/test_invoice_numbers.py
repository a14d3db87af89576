"""Invoice numbers under concurrency: many requests issuing the invoices of several orders at
once give each order exactly one number, the numbers are 1..n with no gap and no duplicate,
and the counter ends at n (a lost race consumes nothing)."""
from __future__ import annotations

import threading
from collections import defaultdict

from chalicelib.models.base import tenant_key
from chalicelib.models.invoices import Invoice
from chalicelib.models.orders import Counter
from chalicelib.services.catalog import organisation
from chalicelib.services.documents import documents
from chalicelib.services.orders import orders
from tests.orders_world import build_world, draft

PROFILE = {"legal_name": "Théâtre SAS", "address_line1": "1 place Bellecour", "postcode": "69002", "city": "Lyon",
           "country": "FR", "siret": "73282932000074", "vat_number": "FR44732829320", "vat_regime": "normal",
           "payment_terms_days": 30}


def test_concurrent_issues_give_gapless_unique_numbers(actor):
    world = build_world(actor)
    organisation.save_profile(actor, PROFILE)
    placed = [orders.place_order(actor, draft(world))[0] for _ in range(8)]
    start = threading.Barrier(len(placed) * 3)
    numbers: dict[str, set[int]] = defaultdict(set)
    failures: list[str] = []
    lock = threading.Lock()

    def issue(order_id: str) -> None:
        start.wait()
        try:
            invoice = documents.issue_order_invoice(actor, orders.get_order(actor, order_id))
            with lock:
                numbers[order_id].add(int(invoice.number))
        except Exception as error:  # noqa: BLE001 - any failure fails the test below
            with lock:
                failures.append(repr(error))

    threads = [threading.Thread(target=issue, args=(order.id,)) for order in placed for _ in range(3)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()

    assert failures == []
    assert all(len(given) == 1 for given in numbers.values()), numbers
    assert sorted(next(iter(given)) for given in numbers.values()) == list(range(1, 9))
    assert Counter.get(tenant_key(actor.tenant_id, "invoices"), consistent_read=True).value == 8
    issued = list(Invoice.query(actor.tenant_id, consistent_read=True))
    assert sorted(invoice.number for invoice in issued) == list(range(1, 9))
    for order in placed:
        stored = orders.get_order(actor, order.id)
        assert {int(stored.invoice_number)} == numbers[order.id]
        assert Invoice.get(actor.tenant_id, stored.invoice_number).order_id == order.id
