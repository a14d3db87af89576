"""Check-in values: a signed (tenant, order, position, code), read back intact, refused once
altered or made for another purpose."""
from __future__ import annotations

from types import SimpleNamespace

import pytest

from chalicelib.adapters import signing
from chalicelib.services.documents.checkin import CheckinRefused, checkin_value, read_checkin_value

TICKET = SimpleNamespace(tenant_id="tenant-abc", order_id="01JD3X8Y7ZQ4P2M6N5K9R0T1VW", position=2,
                         checkin_code="Zq3-x_9aBcDeFgHi")


def test_a_value_reads_back_as_its_ticket():
    value = checkin_value(TICKET)
    assert read_checkin_value(value) == ("tenant-abc", "01JD3X8Y7ZQ4P2M6N5K9R0T1VW", 2)
    assert read_checkin_value(f"  {value}\n") == read_checkin_value(value)  # a scanner's trailing newline


def test_a_value_is_compact_and_qr_friendly():
    value = checkin_value(TICKET)
    assert len(value) < 200 and all(c.isalnum() or c in "-_." for c in value)


def test_the_same_ticket_always_gets_the_same_value():
    assert checkin_value(TICKET) == checkin_value(SimpleNamespace(**vars(TICKET)))


@pytest.mark.parametrize("tamper", [
    lambda v: v[:-1] + ("A" if v[-1] != "A" else "B"),
    lambda v: v[:5] + ("x" if v[5] != "x" else "y") + v[6:],
    lambda v: v.split(".")[0],
    lambda v: v[:-10],
    lambda v: "",
    lambda v: "not a ticket",
    lambda v: v + "." + v,
])
def test_any_alteration_is_refused(tamper):
    with pytest.raises(CheckinRefused) as refused:
        read_checkin_value(tamper(checkin_value(TICKET)))
    assert refused.value.reason == "forged"


def test_another_position_cannot_be_forged_by_re_encoding_the_payload():
    body, mac = checkin_value(TICKET).split(".")
    other = signing.sign("checkin", {"t": "tenant-abc", "o": TICKET.order_id, "p": 3, "c": TICKET.checkin_code})
    with pytest.raises(CheckinRefused):
        read_checkin_value(other.split(".")[0] + "." + mac)


def test_a_token_signed_for_another_purpose_is_refused():
    cursor = signing.sign("cursor:orders", {"t": "tenant-abc", "o": TICKET.order_id, "p": 2, "c": "x"})
    with pytest.raises(CheckinRefused):
        read_checkin_value(cursor)


@pytest.mark.parametrize("payload", [
    {"t": "tenant#x", "o": "O", "p": 1, "c": "c"},
    {"t": "tenant-a", "o": "O", "p": "1", "c": "c"},
    {"t": "tenant-a", "o": "O", "p": 1},
])
def test_a_genuine_signature_over_a_malformed_payload_is_refused(payload):
    with pytest.raises(CheckinRefused):
        read_checkin_value(signing.sign("checkin", payload))
