"""Geographic limits of a performance (staff): which countries or postcode prefixes may not buy
it in the shop, and what to do with a buyer whose place is unknown. The check itself runs in
the shop's cart (:func:`chalicelib.services.shop.geo_limits.check_location`)."""
from __future__ import annotations

from chalice import Blueprint

from chalicelib.handlers.http import staff_route

bp = Blueprint(__name__)
TAG = "catalog"
LIMITS = "/performances/{performance_id}/geo-limits"
LIMIT = LIMITS + "/{limit_id}"
POLICY = "/performances/{performance_id}/geo-policy"


@staff_route(bp, LIMITS, method="POST", body="geo_limits:GeoLimitIn", response="geo_limits:GeoLimitOut", status=201,
             summary="Forbid the performance's sales in the shop to buyers located (by their connection's IP "
                     "address) in a country, or in postcodes of that country starting with given prefixes "
                     "(audited)", tag=TAG)
def create_geo_limit(actor, performance_id, body):
    from chalicelib.services.shop import geo_limits

    return geo_limits.create_limit(actor, performance_id, body.model_dump())


@staff_route(bp, LIMITS, query="common:PageQuery", response="geo_limits:GeoLimitOut", many=True,
             summary="The performance's geographic limits, in creation order", tag=TAG)
def list_geo_limits(actor, performance_id, query):
    from chalicelib.services.shop import geo_limits

    return geo_limits.list_limits(actor, performance_id, limit=query.limit, cursor=query.cursor)


@staff_route(bp, LIMIT, response="geo_limits:GeoLimitOut", summary="Read a geographic limit", tag=TAG)
def get_geo_limit(actor, performance_id, limit_id):
    from chalicelib.services.shop import geo_limits

    return geo_limits.get_limit(actor, performance_id, limit_id)


@staff_route(bp, LIMIT, method="PATCH", body="geo_limits:GeoLimitPatch", response="geo_limits:GeoLimitOut",
             summary="Change a geographic limit: its country, prefixes or label (audited)", tag=TAG)
def change_geo_limit(actor, performance_id, limit_id, body):
    from chalicelib.services.shop import geo_limits

    return geo_limits.change_limit(actor, performance_id, limit_id, body.model_dump(exclude_unset=True))


@staff_route(bp, LIMIT, method="DELETE", status=204, summary="Remove a geographic limit (audited)", tag=TAG)
def delete_geo_limit(actor, performance_id, limit_id):
    from chalicelib.services.shop import geo_limits

    geo_limits.delete_limit(actor, performance_id, limit_id)


@staff_route(bp, POLICY, response="geo_limits:GeoPolicyOut",
             summary="What the geographic limits do with a buyer whose place is unknown (allow when never set)",
             tag=TAG)
def get_geo_policy(actor, performance_id):
    from chalicelib.services.shop import geo_limits

    return geo_limits.get_policy(actor, performance_id)


@staff_route(bp, POLICY, method="PUT", body="geo_limits:GeoPolicyIn", response="geo_limits:GeoPolicyOut",
             summary="Allow or refuse buyers whose place is unknown: address not in the geolocation database, or "
                     "no postcode where a limit of their country needs one (audited)", tag=TAG)
def put_geo_policy(actor, performance_id, body):
    from chalicelib.services.shop import geo_limits

    return geo_limits.set_policy(actor, performance_id, body.unknown_location)
