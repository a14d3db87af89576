"""Season card routes (staff): card sites and their agent's configuration, printers, printing a
subscription's card or a product's (mass print, a job), print jobs (list, cancel, decide an
uncertain one), cards (a subscription's, revoke), check-in by card; and the results queue's
handler, which applies the agents' results and heartbeats (``docs/cards.md``)."""
from __future__ import annotations

from chalice import Blueprint

from chalicelib.config import settings
from chalicelib.handlers.http import staff_route
from chalicelib.handlers.queues import each_message
from chalicelib.observability import start_event_invocation

bp = Blueprint(__name__)
TAG = "cards"


@staff_route(bp, "/card-sites", method="POST", role="admin", body="cards:SiteIn", response="cards:SiteOut", status=201,
             summary="Register a site with card printers and an agent: its SQS FIFO print queue is created", tag=TAG)
def register_site(actor, body):
    from chalicelib.services.cards import sites

    return sites.register_site(actor, body.model_dump())


@staff_route(bp, "/card-sites", query="common:PageQuery", response="cards:SiteOut", many=True,
             summary="The card sites, in registration order", tag=TAG)
def list_sites(actor, query):
    from chalicelib.services.cards import sites

    return sites.list_sites(actor, limit=query.limit, cursor=query.cursor)


@staff_route(bp, "/card-sites/{site_id}", response="cards:SiteOut", summary="One card site", tag=TAG)
def get_site(actor, site_id):
    from chalicelib.services.cards import sites

    return sites.get_site(actor, site_id)


@staff_route(bp, "/card-sites/{site_id}/logo", method="PUT", role="admin", body="cards:LogoIn",
             response="cards:SiteOut", summary="Set the venue's logo printed on the site's cards (PNG or JPEG; audited); "
                                               "422 for anything that is not such an image", tag=TAG)
def set_site_logo(actor, site_id, body):
    from chalicelib.services.cards import sites

    return sites.set_logo(actor, site_id, body.image_base64)


@staff_route(bp, "/card-sites/{site_id}/agent-config", role="admin", response="cards:AgentConfigOut",
             summary="The site's agent configuration file (TOML: queues, region, printers, the agent key); "
                     "audited", tag=TAG)
def agent_config(actor, site_id):
    from chalicelib.services.cards import sites

    return {"site_id": site_id, "file_name": "agent.toml", "config": sites.agent_config(actor, site_id)}


@staff_route(bp, "/card-printers", method="POST", role="admin", body="cards:PrinterIn", response="cards:PrinterOut",
             status=201, summary="Register a card printer of a site", tag=TAG)
def register_printer(actor, body):
    from chalicelib.services.cards import printers

    return printers.register_printer(actor, body.model_dump())


@staff_route(bp, "/card-printers", query="cards:PrinterQuery", response="cards:PrinterOut", many=True,
             summary="Card printers (of a site) with their reported state, ribbon, queue length and last contact",
             tag=TAG)
def list_printers(actor, query):
    from chalicelib.services.cards import printers

    return printers.list_printers(actor, site_id=query.site_id, limit=query.limit, cursor=query.cursor)


@staff_route(bp, "/card-printers/{printer_id}", response="cards:PrinterOut",
             summary="One card printer with its reported state and queue length", tag=TAG)
def get_printer(actor, printer_id):
    from chalicelib.services.cards import printers

    return printers.get_printer(actor, printer_id)


@staff_route(bp, "/card-printers/{printer_id}", method="PATCH", role="admin", body="cards:PrinterPatch",
             response="cards:PrinterOut", summary="Change a printer (its site is fixed); audited", tag=TAG)
def change_printer(actor, printer_id, body):
    from chalicelib.services.cards import printers

    return printers.change_printer(actor, printer_id, body.model_dump(exclude_unset=True))


@staff_route(bp, "/subscriptions/{subscription_id}/cards/print", method="POST", body="cards:PrintIn",
             response="cards:PrintJobOut", status=201,
             summary="Print the subscription's season card on a printer (409 while one is being printed)", tag=TAG)
def print_card(actor, subscription_id, body):
    from chalicelib.services.cards import printing

    return printing.print_card(actor, subscription_id, body.printer_id)


@staff_route(bp, "/subscriptions/{subscription_id}/cards", response="cards:CardOut", many=True,
             summary="The subscription's cards (active and revoked)", tag=TAG)
def subscription_cards(actor, subscription_id):
    from chalicelib.services.cards import binding
    from chalicelib.services.shared.paging import Page

    return Page(items=binding.cards_of_subscription(actor, subscription_id), next_cursor=None)


@staff_route(bp, "/cards/mass-print", method="POST", body="cards:MassPrintIn", response="jobs:JobOut", status=201,
             summary="Print a card for every subscription of a product in a delivery mode that has none yet (a job: "
                     "follow, pause, resume or cancel it under /jobs; cancelling cancels its queued prints)", tag=TAG)
def mass_print(actor, body):
    from chalicelib.services.cards import mass_print as mass

    return mass.start_mass_print(actor, product_id=body.product_id, printer_id=body.printer_id,
                                 delivery_mode=body.delivery_mode)


@staff_route(bp, "/print-jobs", query="cards:PrintJobQuery", response="cards:PrintJobOut", many=True,
             summary="Print jobs of a printer (by state, then oldest first) or in a state", tag=TAG)
def list_print_jobs(actor, query):
    from chalicelib.services.cards import printing

    return printing.list_jobs(actor, printer_id=query.printer_id, state=query.state, limit=query.limit,
                              cursor=query.cursor)


@staff_route(bp, "/print-jobs/{job_id}", response="cards:PrintJobOut", summary="One print job", tag=TAG)
def get_print_job(actor, job_id):
    from chalicelib.services.cards import printing

    return printing.get_job(actor, job_id)


@staff_route(bp, "/print-jobs/{job_id}/cancel", method="POST", response="cards:PrintJobOut",
             summary="Cancel a queued print job (the agent skips it before using a card); 409 once taken", tag=TAG)
def cancel_print_job(actor, job_id):
    from chalicelib.services.cards import printing

    return printing.cancel_print_job(actor, job_id)


@staff_route(bp, "/print-jobs/{job_id}/resolve", method="POST", body="cards:ResolveIn", response="cards:PrintJobOut",
             summary="Decide an uncertain job: the card came out printed (bind its UID), or print a new card", tag=TAG)
def resolve_print_job(actor, job_id, body):
    from chalicelib.services.cards import printing

    return printing.resolve_uncertain(actor, job_id, decision=body.decision, uid=body.uid, printer_id=body.printer_id)


@staff_route(bp, "/cards/{card_id}/revoke", method="POST", body="cards:RevokeIn", response="cards:CardOut",
             summary="Revoke a lost or stolen card: its UID no longer admits (the subscription needs a new card)",
             tag=TAG)
def revoke_card(actor, card_id, body):
    from chalicelib.services.cards import binding

    return binding.revoke_card(actor, card_id, reason=body.reason)


@staff_route(bp, "/cards/check-in", method="POST", body="cards:CardCheckinIn", response="cards:CardCheckinOut",
             answers=(409,), summary="Check in by season card: the card's UID (or QR code) admits its holder to the "
                                     "performance (409 refused: unknown, revoked, not for this performance...)",
             tag=TAG)
def check_in_by_card(actor, body):
    from chalicelib.services.cards import checkin

    return checkin.check_in_card(actor, body.performance_id, uid=body.uid, code=body.code)


@bp.on_sqs_message(queue=settings.card_results_queue, batch_size=10, name="card_results")
def on_card_results(event):
    """The agents' results and heartbeats; the messages that failed are delivered again."""
    start_event_invocation(event)
    from chalicelib.services.cards import results

    return each_message(event, lambda record: results.apply_message(record["body"]))

