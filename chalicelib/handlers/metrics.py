"""Sales figures (staff): per performance, show, season or the whole tenant, over a period of
business days; and the reconciliation of a period against the ledger and Stripe (admin)."""
from __future__ import annotations

from chalice import Blueprint

from chalicelib.handlers.http import staff_route

bp = Blueprint(__name__)
TAG = "metrics"


def _figures(actor, scope: str, scope_id: str, query) -> dict:
    from chalicelib.services.ledger import metrics

    return {"scope": scope, "scope_id": scope_id, "since": query.since, "until": query.until,
            **metrics.figures(actor, scope, scope_id, first=query.since, last=query.until)}


@staff_route(bp, "/metrics", query="money:PeriodQuery", response="money:FiguresOut",
             summary="The whole organisation's figures: gross sales, refunds, net sales, tickets sold / cancelled / "
                     "refunded, credit issued, donations (all time, or between two business days)", tag=TAG)
def tenant_figures(actor, query):
    return _figures(actor, "tenant", actor.tenant_id, query)


@staff_route(bp, "/metrics/{scope}/{scope_id}", query="money:PeriodQuery", response="money:FiguresOut",
             summary="A performance's, show's or season's figures (scope: performance, show, season)", tag=TAG)
def scope_figures(actor, scope, scope_id, query):
    return _figures(actor, scope, scope_id, query)


@staff_route(bp, "/metrics/reconciliation", method="POST", role="admin", body="money:ReconcileIn",
             response="money:ReconciliationOut",
             summary="Recompute a period's figures from the ledger, compare them with the stored ones and the card "
                     "money with Stripe; lists every difference", tag=TAG)
def reconciliation(actor, body):
    from chalicelib.services.ledger import metrics

    return metrics.reconcile(actor, body.since, body.until)
