"""Spectators' pages, reached by signed links from their mails: their tickets.

Pages, not problems: a spectator who follows a damaged or expired link gets a short page
in French and English saying so, never a JSON error.
"""
from __future__ import annotations

from chalice import Blueprint, Response

from chalicelib.errors import DomainError
from chalicelib.handlers.documents import html_document
from chalicelib.handlers.http import public_route

bp = Blueprint(__name__)

REFUSED_PAGE = """<!doctype html>
<html lang="fr"><head><meta charset="utf-8"><meta name="viewport" content="width=device-width, initial-scale=1">
<title>Lien non valable / Link not valid</title>
<style>body{{font-family:system-ui,sans-serif;max-width:36rem;margin:3rem auto;padding:0 1rem;color:#111827}}</style>
</head><body><main>
<h1>Ce lien n'est pas valable</h1><p>{fr}</p>
<h2 lang="en">This link is not valid</h2><p lang="en">{en}</p>
</main></body></html>"""


def refused(status: int, fr: str, en: str) -> Response:
    page = html_document(REFUSED_PAGE.format(fr=fr, en=en))
    return Response(body=page.body, status_code=status, headers=page.headers)


@public_route(bp, "/p/tickets/{token}", query="documents:TicketPageQuery",
              summary="The spectator's tickets, from the signed link in their confirmation mail", tag="spectator")
def tickets_page(token, query):
    from chalicelib.adapters import signing
    from chalicelib.services.documents import documents
    from chalicelib.services.orders import orders, ticket_links
    from chalicelib.services.shared.actors import Actor

    try:
        tenant_id, order_id = ticket_links.open_link(token)
    except signing.Expired:
        return refused(410, "Ce lien a expiré. Demandez un nouvel envoi à la billetterie.",
                       "This link has expired. Ask the box office to send it again.")
    except signing.BadSignature:
        return refused(403, "Il a été modifié ou recopié de travers. Reprenez le lien complet du mail.",
                       "It was altered or copied incompletely. Use the whole link from the mail.")
    actor = Actor.system(tenant_id, "spectator")
    try:
        order = orders.get_order(actor, order_id)
        count = int(order.ticket_count)
        position = min(max(query.n, 1), count)
        language = documents.document_language(order, query.lang)
        label = "Billet" if language == "fr" else "Ticket"
        nav = [{"url": f"?n={n}" + (f"&lang={query.lang}" if query.lang else ""), "label": f"{label} {n}/{count}",
                "current": n == position} for n in range(1, count + 1)] if count > 1 else []
        return html_document(documents.ticket_html(actor, order_id, position, query.lang, nav=nav))
    except DomainError:
        return refused(404, "Cette commande n'a plus de billets à afficher.", "This order has no tickets to show.")
