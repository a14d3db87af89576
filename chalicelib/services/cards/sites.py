"""Card sites: a place with card printers and one edge agent, and its SQS FIFO print queue.

Registering a site creates its print queue (``{print_queue_prefix}{site_id}.fifo``) **before**
its record: a crash between the two leaves at most an empty queue, never a site without one;
and ``CreateQueue`` of an existing queue is harmless, so :func:`agent_config` creates it again
when asked (a queue deleted by hand comes back). The site's agent key is derived, never
stored (:func:`~.protocol.agent_key`, from the signing key current at registration): the
configuration file is the one place staff see it.
"""
from __future__ import annotations

import json

from chalicelib.adapters import fifo_queues, ids, queue, signing
from chalicelib.config import settings
from chalicelib.errors import Conflict
from chalicelib.models.base import tenant_key
from chalicelib.models.cards import CardPrinter, CardSite
from chalicelib.models.catalog import Venue
from chalicelib.services.cards import protocol
from chalicelib.services.shared.actors import Actor
from chalicelib.services.shared.audit import record_action, snapshot, write_audited
from chalicelib.services.shared.paging import Page
from chalicelib.services.shared.records import by_ids, get_record, list_records, require_reference

# The print queue's visibility timeout: the agent extends it every 60 s while it works on a job.
PRINT_VISIBILITY_SECONDS = 300


class AgentKeyRetired(Conflict):
    kind = "agent-key-retired"
    title = "The site's agent key came from a signing key no longer in use"
    title_fr = "La clé de l'agent du site vient d'une clé de signature qui n'est plus en usage"


def _print_queue(name: str) -> str:
    return fifo_queues.ensure_fifo_queue(name, visibility_seconds=PRINT_VISIBILITY_SECONDS,
                                         dead_letters_arn=settings.print_dead_letters_queue_arn)


def queue_name_of(site_id: str) -> str:
    return f"{settings.print_queue_prefix}{site_id}.fifo"


def register_site(actor: Actor, fields: dict) -> CardSite:
    """A new site with its print queue (audited); ``venue_id``, if given, must be the tenant's."""
    if fields.get("venue_id"):
        require_reference(actor, Venue, fields["venue_id"], "venue_id")
    site_id = ids.new_id()
    _print_queue(queue_name_of(site_id))
    site = CardSite(tenant_id=actor.tenant_id, id=site_id, name=fields["name"], venue_id=fields.get("venue_id"),
                    queue_name=queue_name_of(site_id), key_id=signing.current_key_id(), created_by=actor.subject)
    write_audited(actor, site, action="create", before=None, condition=CardSite.id.does_not_exist())
    return site


def set_logo(actor: Actor, site_id: str, image_base64: str) -> CardSite:
    """The venue's logo for the site's cards: checked to be a PNG or JPEG image, kept as PNG in
    the card-images bucket beside the site's faces, its key on the site (audited)."""
    from chalicelib.adapters import storage
    from chalicelib.services.cards.faces import logo_png

    site = get_site(actor, site_id)
    png = logo_png(image_base64)
    key = f"{site.tenant_id}/{site.id}/logo.png"
    storage.put_file(settings.card_images_bucket, key, png, content_type="image/png")
    before = snapshot(site)
    site.logo_key = key
    write_audited(actor, site, action="set-logo", before=before)
    return site


def get_site(actor: Actor, site_id: str) -> CardSite:
    return get_record(actor, CardSite, site_id)


def list_sites(actor: Actor, *, limit: int, cursor: str | None) -> Page[CardSite]:
    return list_records(actor, CardSite, limit=limit, cursor=cursor)


def printers_of(actor: Actor, site_id: str) -> list[CardPrinter]:
    """Every printer of the site (a site has a handful), in registration order."""
    keys = [entry.id for entry in CardPrinter.by_site.query(tenant_key(actor.tenant_id, site_id))]
    found = by_ids(actor, CardPrinter, keys)
    return [found[key] for key in keys if key in found]


def agent_config(actor: Actor, site_id: str) -> str:
    """The agent's configuration file for the site (TOML), with its agent key; audited as read,
    since whoever holds the key can report results for the site."""
    site = get_site(actor, site_id)
    print_url = _print_queue(site.queue_name)
    results_url = queue.queue_url(settings.card_results_queue)
    record_action(actor, CardSite.entity_type, site.id, "agent-config", {"printers": len(printers_of(actor, site.id))})
    key = protocol.agent_key(site)
    if key is None:
        raise AgentKeyRetired(f"Site {site.name}'s agent key came from a signing key no longer in the ring: put that "
                              "key back, or register the site again.")
    lines = [
        f"# The edge agent's configuration for the card site {_comment(site.name)} (edge_agent/README.md).",
        "# Keep it secret: it holds the site's agent key. AWS credentials are not here: name the site's",
        "# AWS profile below (IAM Roles Anywhere or a scoped access key, see the README).",
        "", "[agent]",
        f"tenant_id = {_toml(site.tenant_id)}",
        f"site_id = {_toml(site.id)}",
        f"agent_key = {_toml(key)}",
        'journal = "journal.sqlite3"',
        "", "[aws]",
        f"region = {_toml(settings.aws_region)}",
        f"# profile = {_toml('ticketing-site-' + site.id)}",
        f"print_queue_url = {_toml(print_url)}",
        f"results_queue_url = {_toml(results_url)}",
    ]
    for printer in printers_of(actor, site.id):
        if not printer.active:
            continue
        lines += ["", f"# {_comment(printer.name)} ({_comment(printer.model)})", "[[printers]]",
                  f"printer_id = {_toml(printer.id)}", 'driver = "evolis"',
                  f"device = {_toml(printer.model)}  # the printer's name as Evolis's SDK lists it: check it",
                  f"encoder = {'true' if printer.encoder else 'false'}"]
    return "\n".join(lines) + "\n"


def _comment(text: str) -> str:
    return " ".join(str(text).split())


def _toml(text: str) -> str:
    """A TOML basic string: JSON's escapes (\\", \\\\, \\n, \\uXXXX) are TOML's too."""
    return json.dumps(text, ensure_ascii=False)
