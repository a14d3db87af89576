"""The spectator's link to their tickets: signed, expiring, tamper-proof, one per order.

The confirmation mail carries it as its one action link. The token names the tenant and the
order and nothing else; the page shows the order's tickets as they are now (a cancelled
ticket says so instead of showing its QR code).
"""
from __future__ import annotations

from datetime import timedelta

from chalicelib.adapters import clock, signing
from chalicelib.config import settings
from chalicelib.models.orders import Order
from chalicelib.services.shared.links import opened

PURPOSE = "tickets"
VALID_FOR = timedelta(days=400)  # a season ahead, and then some


def tickets_link(order: Order) -> str:
    token = signing.sign(PURPOSE, {"t": order.tenant_id, "o": order.id},
                         expires_at=int((clock.now() + VALID_FOR).timestamp()))
    return f"{settings.public_base_url}/p/tickets/{token}"


def open_link(token: str) -> tuple[str, str]:
    """``(tenant_id, order_id)`` of a genuine, unexpired link; :class:`~chalicelib.errors.LinkInvalid`
    (or ``LinkExpired``) otherwise."""
    payload = opened(PURPOSE, token)
    return payload["t"], payload["o"]
