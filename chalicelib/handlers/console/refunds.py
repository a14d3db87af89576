"""Refunds to follow up, across orders: those Stripe refused (tried again from here, never twice)
and the offline ones the venue pays by bank transfer: the refund's page shows the full IBAN to pay
to, then staff mark it paid with the transfer's reference, or cancel it with a reason (the tickets
stay cancelled and refundable). The API's refund routes, with the same actor and the same rules."""
from __future__ import annotations

from chalice import Blueprint

from chalicelib.handlers.console.frame import PAGE_SIZE, Screen, console_route, form_body, paging_link

bp = Blueprint(__name__)
ROOT = "/console/refunds"
# The list's views: each the API's state filter (RefundStateQuery) and its label.
VIEWS = {"pending": ("pending", "À payer ou en cours", "To pay or under way"),
         "failed": ("failed", "En échec", "Failed"),
         "all": (None, "Tous", "All")}
DONE = ("retried", "paid", "cancelled")


@console_route(bp, ROOT)
def refunds_list(screen: Screen):
    from chalicelib.errors import NotFound
    from chalicelib.handlers import refunds
    from chalicelib.handlers.http import parse_query, schema

    view = screen.query("view") or "pending"
    if view not in VIEWS:
        raise NotFound(f"No refund view {view!r}.")
    state = VIEWS[view][0]
    asked = {"limit": str(PAGE_SIZE), **({"state": state} if state else {}),
             **({"cursor": cursor} if (cursor := screen.query("cursor")) else {})}
    page = refunds.list_refunds(screen.actor, parse_query(asked, "money:RefundStateQuery"))
    return screen.page("refunds.html.j2", view=view, views=VIEWS,
                       refunds=[schema("money:RefundOut").model_validate(refund) for refund in page.items],
                       next_link=paging_link(screen, page.next_cursor))


@console_route(bp, ROOT + "/{order_id}/{refund_id}")
def refund_view(screen: Screen, order_id: str, refund_id: str):
    done = screen.query("done")
    return _refund_page(screen, order_id, refund_id, done=done if done in DONE else None)


def _refund_page(screen: Screen, order_id: str, refund_id: str, *, status: int = 200, done: str | None = None,
                 errors: dict | None = None, typed: dict | None = None):
    from chalicelib.handlers import refunds
    from chalicelib.handlers.http import schema
    from chalicelib.values.bank_accounts import spaced

    refund = schema("money:RefundDetailOut").model_validate(refunds.get_refund(screen.actor, order_id, refund_id))
    return screen.page("refund.html.j2", status=status, refund=refund, done=done, errors=errors or {},
                       typed=typed or {}, iban=spaced(refund.iban) if refund.iban else None)


@console_route(bp, ROOT + "/{order_id}/{refund_id}/retry", methods=("POST",))
def refund_retry(screen: Screen, order_id: str, refund_id: str):
    from chalicelib.services.money import refunds

    refunds.retry(screen.actor, order_id, refund_id)
    return screen.redirect(f"{ROOT}/{order_id}/{refund_id}?done=retried")


@console_route(bp, ROOT + "/{order_id}/{refund_id}/paid", methods=("POST",))
def refund_paid(screen: Screen, order_id: str, refund_id: str):
    from chalicelib.services.money import refunds

    body = form_body({"reference": screen.value("reference") or None}, "money:RefundPaidIn")
    refunds.mark_paid(screen.actor, order_id, refund_id, reference=body.reference)
    return screen.redirect(f"{ROOT}/{order_id}/{refund_id}?done=paid")


@console_route(bp, ROOT + "/{order_id}/{refund_id}/cancel", methods=("POST",))
def refund_cancel(screen: Screen, order_id: str, refund_id: str):
    from chalicelib.errors import InvalidInput
    from chalicelib.services.money import refunds

    typed = {"reason": screen.value("reason")}
    try:
        if not typed["reason"]:  # the API takes an empty reason; the venue's books should not
            raise InvalidInput.on("reason", screen.say("dites pourquoi ce remboursement ne sera pas payé",
                                                       "say why this refund will not be paid"))
        body = form_body(typed, "money:RefundCancelIn")
    except InvalidInput as refused:
        return _refund_page(screen, order_id, refund_id, status=422, typed=typed,
                            errors={error.field: screen.field_message(error) for error in refused.errors})
    refunds.cancel_offline(screen.actor, order_id, refund_id, reason=body.reason)
    return screen.redirect(f"{ROOT}/{order_id}/{refund_id}?done=cancelled")
