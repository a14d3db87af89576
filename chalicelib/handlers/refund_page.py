"""The refund page (public HTML): a spectator's choice after a postponement or cancellation.

``GET`` (and ``HEAD``) show the page, in the customer's language unless ``?lang=`` says
otherwise; ``POST`` takes the choice from the form. Every answer is a page with the security
headers of :mod:`chalicelib.services.shared.pages`, never JSON: a damaged link gets 403,
an expired one 410, a forged or stale form 403, a wrong IBAN the form again with the message
beside the field (422), a choice after the deadline the page saying so (409).
"""
from __future__ import annotations

from urllib.parse import parse_qs, urlencode

from chalice import Blueprint, Response

from chalicelib.errors import DomainError, InvalidInput
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
    from chalicelib.adapters import signing
    from chalicelib.services.campaigns import refund_links

    try:
        return refund_links.open_customer_token(token), None
    except signing.Expired:
        return None, _notice(410, "Ce lien a expiré", "Demandez un nouveau lien à la billetterie.",
                             "This link has expired", "Ask the box office for a new link.")
    except signing.BadSignature:
        return None, _notice(403, "Ce lien n'est pas valable", "Il a été modifié ou recopié de travers. Reprenez le "
                             "lien complet du mail.", "This link is not valid",
                             "It was altered or copied incompletely. Use the whole link from the mail.")


def _gone() -> Response:
    return _notice(404, "Commande introuvable", "Cette commande n'est plus concernée. Contactez la billetterie.",
                   "Order not found", "This order is no longer concerned. Contact the box office.")


def _show(token: str, page, *, language: str | None, staff_grant: str | None, staff: str | None, status: int = 200,
          errors: dict | None = None, typed: dict | None = None) -> Response:
    from chalicelib.models.catalog import Performance, Product, Venue
    from chalicelib.services.campaigns import refund_links
    from chalicelib.services.orders import orders
    from chalicelib.services.shared.actors import Actor
    from chalicelib.services.shared.pages import render
    from chalicelib.services.shared.records import get_record
    from chalicelib.values import formatting

    actor = Actor.system(page.order.tenant_id, "refund-page")
    language = language or page.customer.language or "fr"
    performance = get_record(actor, Performance, page.campaign.performance_id)
    venue = get_record(actor, Venue, performance.venue_id)
    zone = venue.timezone or "Europe/Paris"
    shares = orders.paid_per_ticket(page.order, page.tickets)
    shown = page.offered or [t for t in page.tickets if int(t.position) in set(page.customer.positions)]
    keep = {"staff": staff_grant} if staff_grant else {}
    html = render(
        "refund.html.j2", language, page=page, staff=staff, errors=errors or {},
        show_name=get_record(actor, Product, page.campaign.product_id).name, venue_name=venue.name,
        performance_date=formatting.datetime_text(page.campaign.original_starts_at, zone, language),
        new_performance_date=(formatting.datetime_text(page.campaign.new_starts_at, zone, language)
                              if page.campaign.new_starts_at else None),
        deadline_text=formatting.datetime_text(page.campaign.refund_deadline, zone, language),
        tickets=[{"position": int(t.position), "attendee_name": t.attendee_name, "tariff_name": t.tariff_name,
                  "paid_cents": shares[int(t.position)]} for t in shown],
        form_value=refund_links.form_value(token), action_url=f"?{urlencode({**keep, 'lang': language})}",
        switch_url=f"?{urlencode({**keep, 'lang': 'en' if language == 'fr' else 'fr'})}",
        iban=(typed or {}).get("iban", ""), holder=(typed or {}).get("holder", ""))
    return _page(status, html)


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
    response = _show(token, page, language=_language(query), staff_grant=grant if staff else None, staff=staff)
    if request.method == "HEAD":
        return Response(body="", status_code=response.status_code, headers=response.headers)
    return response


@public_route(bp, "/p/refund/{token}", raw_body=True,
              summary="The refund page of an affected customer (HTML; the signed link from their notice)", tag=TAG)
def refund_page_view(token, request):
    return _view(token, request)


@public_route(bp, "/p/refund/{token}", method="HEAD", raw_body=True,
              summary="The refund page's headers only (what link scanners ask; never counts as a read)", tag=TAG)
def refund_page_head(token, request):
    return _view(token, request)


@public_route(bp, "/p/refund/{token}", method="POST", raw_body=True,
              content_types=("application/x-www-form-urlencoded",), summary="The spectator's choice from the refund page's form (HTML answer)", tag=TAG)
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
    language = _language(query)
    if not refund_links.form_is_genuine(token, (form.get("form") or [None])[0]):
        return _notice(403, "Formulaire expiré", "Rechargez la page de remboursement puis refaites votre choix.",
                       "Form expired", "Reload the refund page, then make your choice again.")
    typed = {name: (form.get(name) or [""])[0].strip()[:100] for name in ("choice", "iban", "holder")}
    try:
        page = refund_page.page_for(address)
    except DomainError:
        return _gone()
    keep_grant = grant if staff else None
    try:
        page = refund_page.choose(page, typed["choice"], iban=typed["iban"] or None, holder=typed["holder"] or None,
                                  staff=staff)
    except refund_page.DeadlinePassed:
        return _show(token, page, language=language, staff_grant=keep_grant, staff=staff, status=409)
    except InvalidInput as error:
        return _show(token, page, language=language, staff_grant=keep_grant, staff=staff, status=422,
                     errors=_form_errors(error, typed, language or page.customer.language or "fr"), typed=typed)
    return _show(token, page, language=language, staff_grant=keep_grant, staff=staff)


def _form_errors(error: InvalidInput, typed: dict, language: str) -> dict[str, str]:
    """What to say beside each field, in the page's language."""
    from chalicelib.values import bank_accounts

    english = language == "en"
    errors = {}
    for problem in error.errors or []:
        field = problem.field.replace("bank_account.", "")
        if field == "iban" and typed["iban"]:
            try:
                bank_accounts.check_iban(typed["iban"])
            except bank_accounts.InvalidIban as wrong:
                errors["iban"] = str(wrong) if english else wrong.french
        elif field == "iban":
            errors["iban"] = "Give the IBAN of the account to refund." if english else \
                "Indiquez l'IBAN du compte à rembourser."
        else:
            errors["choice"] = "This choice is not offered." if english else "Ce choix n'est pas proposé."
    return errors or {"choice": "Try again." if english else "Réessayez."}
