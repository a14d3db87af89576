"""The refund page's tickets table (issue 12.13): its caption is the table's first child, above
the header row, not between the header and the body."""
from __future__ import annotations

from datetime import timedelta
from html.parser import HTMLParser

import pytest

from chalicelib.adapters import clock
from chalicelib.services.campaigns import campaigns
from chalicelib.services.campaigns.refund_links import PageAddress, customer_token
from chalicelib.services.campaigns.refund_page import PageView, page_for, render_page
from tests.job_helpers import drive, ensure_jobs_queue
from tests.money_helpers import paid_cheque_order
from tests.orders_world import build_world


class TableOutline(HTMLParser):
    """Each table's direct children (tag names, in document order) and its caption's text."""

    def __init__(self) -> None:
        super().__init__()
        self.tables: list[dict] = []
        self._open: list[str] = []  # the elements open inside the current table

    def handle_starttag(self, tag, attrs) -> None:
        if tag == "table":
            self.tables.append({"children": [], "caption": ""})
            self._open = []
            return
        if not self.tables or self._open is None:
            return
        if not self._open:
            self.tables[-1]["children"].append(tag)
        self._open.append(tag)

    def handle_endtag(self, tag) -> None:
        if tag == "table":
            self._open = None
        elif self._open and self._open[-1] == tag:
            self._open.pop()

    def handle_data(self, data) -> None:
        if self._open and self._open[0] == "caption":
            self.tables[-1]["caption"] += data


@pytest.fixture
def page(actor, pump):
    world = build_world(actor)
    order = paid_cheque_order(actor, world)
    ensure_jobs_queue()
    made = campaigns.create_campaign(actor, {"performance_id": world.evening.id, "kind": "cancellation",
                                             "refund_deadline": clock.now() + timedelta(days=5)})
    drive(pump, actor.tenant_id, made.build_job_id)
    campaign = campaigns.get_campaign(actor, made.id)
    return page_for(PageAddress(actor.tenant_id, campaign.id, order.id)), customer_token(campaign, order.id)


@pytest.mark.parametrize(("language", "caption"), [("fr", "Billets concernés"), ("en", "Tickets concerned")])
def test_the_tickets_caption_is_the_tables_first_child_above_its_header(page, language, caption):
    markup = render_page(*page, PageView(language=language))

    outline = TableOutline()
    outline.feed(markup)
    table, = outline.tables
    assert table["children"] == ["caption", "thead", "tbody"]
    assert table["caption"].strip() == caption
    assert "caption{caption-side:top;" in markup  # shown above the table, left-aligned, not below it
