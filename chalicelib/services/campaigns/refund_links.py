"""The signed links of the refund page: the spectator's, staff acting for them, and the form's.

- **The customer's link** names the tenant, the campaign and the order, nothing else, and
  expires :data:`LINK_GRACE` after the refund deadline: until then the page answers (after
  the deadline it says so), later the link itself is dead.
- **Acting for a customer** (staff): a grant naming the staff member, valid one hour, added to
  the customer's link. The page then records the choice as made by staff and never counts
  the visit as the customer's read.
- **The form's anti-forgery value** is bound to the link it was served with and expires in a
  few hours: a page elsewhere cannot post a choice, even knowing how the form looks.

Each has its own signing purpose, so no token can stand for another.
"""
from __future__ import annotations

import hashlib
from dataclasses import dataclass
from datetime import timedelta

from chalicelib.adapters import clock, signing
from chalicelib.models.campaigns import Campaign
from chalicelib.services.shared.links import opened

LINK, STAFF, FORM = "refund-page", "refund-page-staff", "refund-form"
LINK_GRACE = timedelta(days=60)
STAFF_GRANT = timedelta(hours=1)
FORM_VALID = timedelta(hours=4)


@dataclass(frozen=True)
class PageAddress:
    tenant_id: str
    campaign_id: str
    order_id: str


def customer_token(campaign: Campaign, order_id: str) -> str:
    expires = int((campaign.refund_deadline + LINK_GRACE).timestamp())
    return signing.sign(LINK, {"t": campaign.tenant_id, "c": campaign.id, "o": order_id}, expires_at=expires)


def open_customer_token(token: str) -> PageAddress:
    """The page a genuine, unexpired link opens; :class:`~chalicelib.errors.LinkInvalid` (or
    ``LinkExpired``) otherwise."""
    payload = opened(LINK, token)
    return PageAddress(payload["t"], payload["c"], payload["o"])


def staff_grant(address: PageAddress, subject: str) -> str:
    return signing.sign(STAFF, {"t": address.tenant_id, "c": address.campaign_id, "o": address.order_id,
                                "s": subject}, expires_at=int((clock.now() + STAFF_GRANT).timestamp()))


def staff_acting(address: PageAddress, grant: str | None) -> str | None:
    """The staff member a grant names, if it is genuine, current and for this very page."""
    if not grant:
        return None
    try:
        payload = signing.verify(STAFF, grant)
    except signing.BadSignature:
        return None
    same_page = (payload["t"], payload["c"], payload["o"]) == (address.tenant_id, address.campaign_id,
                                                                address.order_id)
    return payload["s"] if same_page else None


def _link_digest(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()[:32]


def form_value(token: str) -> str:
    return signing.sign(FORM, {"l": _link_digest(token)}, expires_at=int((clock.now() + FORM_VALID).timestamp()))


def form_is_genuine(token: str, value: str | None) -> bool:
    try:
        return bool(value) and signing.verify(FORM, value)["l"] == _link_digest(token)
    except signing.BadSignature:
        return False
