"""Organisation profile routes: read it (staff), fill or replace it (admin, audited)."""
from __future__ import annotations

from chalice import Blueprint

from chalicelib.handlers.http import staff_route

bp = Blueprint(__name__)
TAG = "organisation"


@staff_route(bp, "/organisation", response="organisation:OrganisationOut", answers=(404,),
             summary="The organisation profile (seller's legal name, address, SIRET, VAT) documents print; "
                     "404 until filled", tag=TAG)
def get_organisation(actor):
    from chalicelib.services.catalog import organisation

    return organisation.get_profile(actor)


@staff_route(bp, "/organisation", method="PUT", role="admin", body="organisation:OrganisationIn",
             response="organisation:OrganisationOut",
             summary="Fill or replace the organisation profile (SIRET and VAT number checked; audited)", tag=TAG)
def put_organisation(actor, body):
    from chalicelib.services.catalog import organisation

    return organisation.save_profile(actor, body.model_dump())
