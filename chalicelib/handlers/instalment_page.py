"""The payer's page to confirm a card instalment their bank wants authenticated (public HTML; the
signed link of the ``instalment_authentication`` mail).

Every answer is a page, never JSON (:mod:`chalicelib.services.subscriptions.payer_page` decides
what it shows and its headers): a damaged link gets 403, an expired one 410, one naming no
instalment of its tenant 404, Stripe unreachable 503.
"""
from __future__ import annotations

from chalice import Blueprint, Response

from chalicelib.handlers.http import public_route

bp = Blueprint(__name__)
TAG = "subscriptions"


@public_route(bp, "/p/instalment/{token}", produces="text/html", answers=(403, 404, 410, 503),
              summary="The payer's page to confirm a card instalment their bank wants authenticated (3-D Secure; "
                      "HTML, the signed link from their mail)", tag=TAG)
def instalment_page_view(token):
    from chalicelib.services.subscriptions import collector, payer_page

    shown = payer_page.answer(token, record=collector.apply_outcome)
    return Response(body=shown.html, status_code=shown.status, headers=shown.headers)
