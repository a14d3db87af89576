"""The spectator's tickets through the one link of their confirmation mail: every ticket
reachable, the QR code on valid tickets of a paid order, a clear page for damaged links."""
from __future__ import annotations

from urllib.parse import urlparse

import pytest

from chalicelib.services.mail import notifications
from chalicelib.services.orders import orders
from tests.orders_world import build_world, draft, line


@pytest.fixture
def world(actor):
    return build_world(actor)


def link_in_confirmation(actor, order_id) -> str:
    [confirmation] = notifications.of_entity(actor, "order", order_id, limit=5, cursor=None).items
    return urlparse(confirmation.action_url).path


def test_the_confirmation_links_to_every_ticket_of_the_order(client, actor, world):
    order, _ = orders.place_order(actor, draft(world, line(world), line(world, world.reduced)))
    path = link_in_confirmation(actor, order.id)
    first = client.get(path)
    assert first.status_code == 200 and first.headers["Content-Type"].startswith("text/html")
    page = first.body.decode()
    assert "Cyrano" in page and 'data-checkin="' in page and "Billet 2/2" in page
    assert "default-src 'none'" in first.headers["Content-Security-Policy"]
    assert "frame-ancestors 'none'" in first.headers["Content-Security-Policy"]  # no site may frame a ticket
    assert first.headers["X-Frame-Options"] == "DENY"
    second = client.get(path + "?n=2").body.decode()
    assert "Tarif réduit" in second and 'aria-current="page">Billet 2/2' in second
    assert "Ticket 1/2" in client.get(path + "?lang=en").body.decode()


def test_a_damaged_link_gets_a_clear_page_not_a_ticket(client, actor, world):
    order, _ = orders.place_order(actor, draft(world))
    path = link_in_confirmation(actor, order.id)
    damaged = client.get(path[:-3] + ("AAA" if not path.endswith("AAA") else "BBB"))
    assert damaged.status_code == 403
    page = damaged.body.decode()
    assert "Ce lien n'est pas valable" in page and "data-checkin" not in page
    assert client.get("/p/tickets/not-a-token").status_code == 403
