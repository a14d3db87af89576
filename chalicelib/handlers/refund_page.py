"""The refund page (public HTML): a spectator's choice after a postponement or cancellation.

``GET`` (and ``HEAD``) show the page, in the customer's language unless ``?lang=`` says
otherwise; ``POST`` takes the choice from the form. Every answer is a page with the security
headers of :mod:`chalicelib.services.shared.pages`, never JSON: a damaged link gets 403,
an expired one 410, a forged or stale form 403, a wrong IBAN the form again with the message
beside the field (422), a choice after the deadline the page saying so (409).
"""
from __future__ import annotations

from dataclasses import replace
from urllib.parse import parse_qs

from chalice import Blueprint, Response

from chalicelib.errors import DomainError, InvalidInput, LinkExpired, LinkInvalid
from chalicelib.handlers.http import public_route

bp = Blueprint(__name__)
TAG = "spectator"
MAX_FORM_BYTES = 4096


def _page(status: int, html: str) -> Response:
    from chalicelib.services.shared.pages import security_headers

    return Response(body=html, status_code=status, headers=security_headers())


def _notice(status: int, title_fr: str, text_fr: str, title_en: str, text_en: str) -> Response:
    from chalicelib.services.shared.pages import render

    return _page(status, render("notice.html.j2", "fr", title_fr=title_fr, text_fr=text_fr, title_en=title_en,
                                text_en=text_en))


def _open(token: str):
    """The page's address, or the page explaining why the link cannot be used."""
    from chalicelib.services.campaigns import refund_links

    try:
        return refund_links.open_customer_token(token), None
    except LinkExpired:
        return None, _notice(410, "Ce lien a expiré", "Demandez un nouveau lien à la billetterie.",
                             "This link has expired", "Ask the box office for a new link.")
    except LinkInvalid:
        return None, _notice(403, "Ce lien n'est pas valable", "Il a été modifié ou recopié de travers. Reprenez le "
                             "lien complet du mail.", "This link is not valid",
                             "It was altered or copied incompletely. Use the whole link from the mail.")


def _gone() -> Response:
    return _notice(404, "Commande introuvable", "Cette commande n'est plus concernée. Contactez la billetterie.",
                   "Order not found", "This order is no longer concerned. Contact the box office.")


def _show(token: str, page, view, status: int = 200) -> Response:
    from chalicelib.services.campaigns import refund_page

    return _page(status, refund_page.render_page(page, token, view))


def _language(values: dict) -> str | None:
    language = (values.get("lang") or [None])[0]
    return language if language in ("fr", "en") else None


def _view(token: str, request) -> Response:
    from chalicelib.services.campaigns import refund_links, refund_page

    address, refusal = _open(token)
    if refusal:
        return refusal
    query = {name: [value] for name, value in (request.query_params or {}).items()}
    grant = (query.get("staff") or [None])[0]
    staff = refund_links.staff_acting(address, grant)
    try:
        page = refund_page.page_for(address)
    except DomainError:
        return _gone()
    refund_page.note_visit(page, method=request.method, user_agent=request.headers.get("user-agent"), staff=staff)
    response = _show(token, page, refund_page.PageView(language=_language(query), staff_grant=grant if staff else None,
                                                       staff=staff))
    if request.method == "HEAD":
        return Response(body="", status_code=response.status_code, headers=response.headers)
    return response


@public_route(bp, "/p/refund/{token}", raw_body=True, produces="text/html", answers=(403, 404, 410),
              summary="The refund page of an affected customer (HTML; the signed link from their notice)", tag=TAG)
def refund_page_view(token, request):
    return _view(token, request)


@public_route(bp, "/p/refund/{token}", method="HEAD", raw_body=True, produces="text/html",
              answers=(403, 404, 410),
              summary="The refund page's headers only (what link scanners ask; never counts as a read)", tag=TAG)
def refund_page_head(token, request):
    return _view(token, request)


@public_route(bp, "/p/refund/{token}", method="POST", raw_body=True, produces="text/html",
              content_types=("application/x-www-form-urlencoded",), answers=(403, 404, 410),
              summary="The spectator's choice from the refund page's form (HTML answer)", tag=TAG)
def refund_page_choice(token, request):
    from chalicelib.services.campaigns import refund_links, refund_page

    address, refusal = _open(token)
    if refusal:
        return refusal
    body = request.raw_body or b""
    if len(body) > MAX_FORM_BYTES:
        return _notice(413, "Formulaire trop long", "Reprenez la page.", "Form too long", "Reload the page.")
    form = parse_qs(body.decode("utf-8", errors="replace"), max_num_fields=10)
    query = {name: [value] for name, value in (request.query_params or {}).items()}
    grant = (query.get("staff") or [None])[0]
    staff = refund_links.staff_acting(address, grant)
    if not refund_links.form_is_genuine(token, (form.get("form") or [None])[0]):
        return _notice(403, "Formulaire expiré", "Rechargez la page de remboursement puis refaites votre choix.",
                       "Form expired", "Reload the refund page, then make your choice again.")
    typed = {name: (form.get(name) or [""])[0].strip()[:100] for name in ("choice", "iban", "holder")}
    try:
        page = refund_page.page_for(address)
    except DomainError:
        return _gone()
    view = refund_page.PageView(language=_language(query), staff_grant=grant if staff else None, staff=staff)
    try:
        page = refund_page.choose(page, typed["choice"], iban=typed["iban"] or None, holder=typed["holder"] or None,
                                  staff=staff)
    except refund_page.DeadlinePassed:
        return _show(token, page, view, status=409)
    except (InvalidInput, refund_page.ChoiceNotMade) as error:
        reasons = refund_page.field_reasons(error, view.language or page.customer.language or "fr")
        return _show(token, page, replace(view, errors=reasons, typed=typed), status=error.status)
    return _show(token, page, view)
