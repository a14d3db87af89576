"""The organisation profile (the seller), read by documents and mails, written by admins.

One profile per tenant (:class:`~chalicelib.models.organisation.Organisation`, id
``profile``). :func:`save_profile` creates or replaces it, audited and version-checked like
any entity; the rules that span several fields are checked here so each refusal names its field.
"""
from __future__ import annotations

from typing import Any

from chalicelib.adapters import clock
from chalicelib.errors import Conflict, FieldError, InvalidInput, NotFound
from chalicelib.models.organisation import PROFILE_ID, Organisation
from chalicelib.services.shared.actors import Actor
from chalicelib.services.shared.audit import snapshot, write_audited
from chalicelib.values import french_ids

FIELDS = ("legal_name", "trade_name", "legal_form", "address_line1", "address_line2", "postcode", "city", "country",
          "siret", "vat_number", "vat_regime", "rcs", "show_licences", "invoice_email", "invoice_phone",
          "payment_terms_days", "invoice_footer", "timezone", "refund_fee_kind", "refund_fee_fixed_cents",
          "refund_fee_percent_bp")

# Fields a caller may leave out that still hold a value (the schema's defaults, for service callers).
DEFAULTS = {"timezone": "Europe/Paris", "refund_fee_kind": "none", "refund_fee_fixed_cents": 0,
            "refund_fee_percent_bp": 0, "country": "FR", "vat_regime": "normal", "payment_terms_days": 30}


class ProfileMissing(Conflict):
    kind = "organisation-profile-missing"
    title = "The organisation profile must be filled first"
    title_fr = "Le profil de l'organisation doit d'abord être rempli"


def find_profile(tenant_id: str) -> Organisation | None:
    """The tenant's profile, or ``None`` if it was never filled."""
    try:
        return Organisation.get(tenant_id, PROFILE_ID, consistent_read=True)
    except Organisation.DoesNotExist:
        return None


def get_profile(actor: Actor) -> Organisation:
    profile = find_profile(actor.tenant_id)
    if profile is None:
        raise NotFound("The organisation profile has not been filled yet (PUT /organisation).")
    return profile


def require_profile(actor: Actor, needed_for: str) -> Organisation:
    """The profile, or 409 saying it must be filled before ``needed_for`` (e.g. "an invoice")."""
    profile = find_profile(actor.tenant_id)
    if profile is None:
        raise ProfileMissing(f"Fill in the organisation profile (legal name, address, SIRET, VAT number or VAT "
                             f"regime) with PUT /organisation before issuing {needed_for}: French law requires "
                             f"these mentions.")
    return profile


def _check(fields: dict[str, Any]) -> None:
    errors = []
    if fields.get("country", "FR") == "FR" and not (len(fields["postcode"]) == 5 and fields["postcode"].isdigit()):
        errors.append(FieldError("postcode", "a French postcode has 5 digits"))
    vat_number = fields.get("vat_number")
    if fields.get("vat_regime", "normal") == "normal" and not vat_number:
        errors.append(FieldError("vat_number", "required under the normal VAT regime (or choose vat_regime "
                                               "'franchise')"))
    if vat_number and french_ids.siren_of(vat_number) != french_ids.siren_of(fields["siret"]):
        errors.append(FieldError("vat_number", f"its SIREN differs from the SIRET's "
                                               f"({french_ids.siren_of(fields['siret'])}); expected "
                                               f"{french_ids.vat_number_for(french_ids.siren_of(fields['siret']))}"))
    if errors:
        raise InvalidInput("The organisation profile is inconsistent.", errors=errors)


def save_profile(actor: Actor, fields: dict[str, Any]) -> Organisation:
    """Create or replace the profile with ``fields`` (validated by ``OrganisationIn``); audited."""
    _check(fields)
    values = {name: DEFAULTS.get(name) if fields.get(name) is None else fields[name] for name in FIELDS}
    current = find_profile(actor.tenant_id)
    if current is None:
        profile = Organisation(tenant_id=actor.tenant_id, id=PROFILE_ID, **values)
        write_audited(actor, profile, action="create", before=None, condition=Organisation.id.does_not_exist())
        return profile
    before = snapshot(current)
    for name, value in values.items():
        setattr(current, name, value)
    current.updated_at = clock.now()
    write_audited(actor, current, action="update", before=before)
    return current
