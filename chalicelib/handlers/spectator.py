"""Spectators' pages, reached by signed links from their mails: their tickets.

Pages, not problems: a spectator who follows a damaged or expired link gets a short page
in French and English saying so, never a JSON error.
"""
from __future__ import annotations

from chalice import Blueprint, Response

from chalicelib.errors import DomainError, LinkExpired, LinkInvalid, ServiceUnavailable
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


def _document(status: int, body: str) -> Response:
    from chalicelib.services.documents.rendering import DOCUMENT_HEADERS

    return Response(body=body, status_code=status, headers=dict(DOCUMENT_HEADERS))


def refused(status: int, fr: str, en: str) -> Response:
    return _document(status, REFUSED_PAGE.format(fr=fr, en=en))


@public_route(bp, "/p/tickets/{token}", query="documents:TicketPageQuery", produces="text/html",
              answers=(403, 409, 410),
              summary="The spectator's tickets, from the signed link in their confirmation mail", tag="spectator")
def tickets_page(token, query):
    from chalicelib.services.documents import documents

    try:
        return _document(200, documents.spectator_tickets_html(token, query.n, query.lang))
    except LinkExpired:
        return refused(410, "Ce lien a expiré. Demandez un nouvel envoi à la billetterie.",
                       "This link has expired. Ask the box office to send it again.")
    except LinkInvalid:
        return refused(403, "Il a été modifié ou recopié de travers. Reprenez le lien complet du mail.",
                       "It was altered or copied incompletely. Use the whole link from the mail.")
    except ServiceUnavailable:
        raise  # not the link's fault: a 503 problem (a signing key missing), retried later
    except DomainError:
        return refused(404, "Cette commande n'a plus de billets à afficher.", "This order has no tickets to show.")
