"""Shop settings screens: the points of sale and the message each shows a buyer a geographic limit
refuses (French and English); per performance (a show, then one of its performances), its
geographic limits (add, replace, remove after a summary), its unknown-location policy, and a
trial of an address (what the shop's check would decide for a buyer connected from it, and why).

Every input is read with the API's own schemas (``geo_limits:GeoLimitIn``, ``GeoLimitPatch``,
``GeoPolicyIn``, ``catalog:SalesChannelPatch``) and every action is the API's service call
(``services.shop.geo_limits``, ``services.catalog.catalog.sales_channels``): the API asks the
``staff`` role for all of them, and so does the console. A refused input shows its form again,
as typed, with each field's error beside it; nothing is written."""
from __future__ import annotations

import re

from chalice import Blueprint

from chalicelib.handlers.console.frame import PAGE_SIZE, Screen, console_route, form_body, paging_link

bp = Blueprint(__name__)
ROOT = "/console/shop"
MESSAGE_LENGTH = 4000  # the schema's LongText
PREFIXES_LENGTH = 4000  # 200 prefixes of up to 10 characters, and their separators
CHANNELS_IN_TRIAL = 100  # the points of sale offered when trying an address (a venue has a handful)


@console_route(bp, ROOT)
def shop_home(screen: Screen):
    from chalicelib.services.catalog import catalog

    channels = catalog.sales_channels.list(screen.actor, limit=PAGE_SIZE, cursor=screen.query("cursor"))
    shows = catalog.products.list(screen.actor, limit=PAGE_SIZE, cursor=screen.query("shows"))
    return screen.page("shop.html.j2", channels=channels.items, next_link=paging_link(screen, channels.next_cursor),
                       shows=shows.items, next_shows=paging_link(screen, shows.next_cursor, "shows"))


@console_route(bp, ROOT + "/shows/{product_id}")
def show_performances(screen: Screen, product_id: str):
    from chalicelib.services.catalog import catalog

    show = catalog.products.get(screen.actor, product_id)
    page = catalog.list_performances(screen.actor, product_id=product_id, limit=PAGE_SIZE,
                                     cursor=screen.query("cursor"))
    return screen.page("shop_show.html.j2", show=show, performances=page.items,
                       next_link=paging_link(screen, page.next_cursor))


# -- a performance's geographic limits ---------------------------------------------------------------


def _limits_page(screen: Screen, performance_id: str, *, status: int = 200, typed: dict | None = None,
                 errors: dict | None = None, trial=None):
    """The performance's limits screen; ``typed`` and ``errors`` show a refused form again."""
    from chalicelib.services.catalog import catalog
    from chalicelib.services.shop import geo_limits

    performance = catalog.get_performance(screen.actor, performance_id)
    limits = geo_limits.list_limits(screen.actor, performance_id, limit=geo_limits.MAX_LIMITS_PER_PERFORMANCE,
                                    cursor=None)  # at most 100: the check itself reads them all
    channels = catalog.sales_channels.list(screen.actor, limit=CHANNELS_IN_TRIAL, cursor=None).items
    return screen.page("shop_limits.html.j2", status=status, performance=performance,
                       show=catalog.products.get(screen.actor, performance.product_id), limits=limits.items,
                       policy=geo_limits.get_policy(screen.actor, performance_id), channels=channels,
                       typed=typed or {}, errors=errors or {}, trial=trial, done=screen.query("done"))


@console_route(bp, ROOT + "/performances/{performance_id}")
def performance_limits(screen: Screen, performance_id: str):
    return _limits_page(screen, performance_id)


@console_route(bp, ROOT + "/performances/{performance_id}/limits", methods=("POST",))
def add_limit(screen: Screen, performance_id: str):
    from chalicelib.errors import InvalidInput
    from chalicelib.services.catalog import catalog
    from chalicelib.services.shop import geo_limits

    catalog.get_performance(screen.actor, performance_id)  # another venue's performance: 404 before anything
    typed = _typed_limit(screen)
    try:
        geo_limits.create_limit(screen.actor, performance_id, _limit_body(typed, "geo_limits:GeoLimitIn").model_dump())
    except InvalidInput as error:
        return _limits_page(screen, performance_id, status=422, typed=typed, errors=_by_field(screen, error, typed))
    return screen.redirect(f"{ROOT}/performances/{performance_id}?done=added")


@console_route(bp, ROOT + "/performances/{performance_id}/limits/{limit_id}", methods=("GET", "POST"))
def edit_limit(screen: Screen, performance_id: str, limit_id: str):
    from chalicelib.errors import ConcurrentChange, InvalidInput
    from chalicelib.services.catalog import catalog
    from chalicelib.services.shop import geo_limits

    performance = catalog.get_performance(screen.actor, performance_id)
    limit = geo_limits.get_limit(screen.actor, performance_id, limit_id)
    typed, errors, status = _shown_limit(limit), {}, 200
    if screen.request.method == "POST":
        typed = _typed_limit(screen)
        try:
            body = _limit_body(typed, "geo_limits:GeoLimitPatch")
            geo_limits.change_limit(screen.actor, performance_id, limit_id, body.model_dump(exclude_unset=True),
                                    read_at_version=screen.read_at_version())
            return screen.redirect(f"{ROOT}/performances/{performance_id}?done=changed")
        except InvalidInput as error:
            errors, status = _by_field(screen, error, typed), 422
        except ConcurrentChange:  # typed values kept; the page says what is saved now
            errors, status = {"": [screen.say(
                "quelqu'un a modifié cette limite pendant que vous la modifiiez. Elle est maintenant : "
                f"{_described(limit)}. Enregistrez de nouveau si votre saisie doit la remplacer.",
                f"someone changed this limit while you were editing it. It now reads: {_described(limit)}. "
                "Save again if what you typed should replace it.")]}, 409
    return screen.page("shop_limit.html.j2", status=status, performance=performance, limit=limit,
                       typed=typed, errors=errors)


@console_route(bp, ROOT + "/performances/{performance_id}/limits/{limit_id}/remove", methods=("GET", "POST"))
def remove_limit(screen: Screen, performance_id: str, limit_id: str):
    from chalicelib.errors import ConcurrentChange
    from chalicelib.services.catalog import catalog
    from chalicelib.services.shop import geo_limits

    performance = catalog.get_performance(screen.actor, performance_id)
    limit = geo_limits.get_limit(screen.actor, performance_id, limit_id)
    if screen.request.method == "GET":  # what will be removed, before the confirming POST
        return screen.page("shop_limit_remove.html.j2", performance=performance, limit=limit, changed=False)
    try:
        geo_limits.delete_limit(screen.actor, performance_id, limit_id, read_at_version=screen.read_at_version())
    except ConcurrentChange:  # the summary again, as the limit now is
        return screen.page("shop_limit_remove.html.j2", status=409, performance=performance, limit=limit,
                           changed=True)
    return screen.redirect(f"{ROOT}/performances/{performance_id}?done=removed")


@console_route(bp, ROOT + "/performances/{performance_id}/policy", methods=("POST",))
def set_policy(screen: Screen, performance_id: str):
    from chalicelib.services.catalog import catalog
    from chalicelib.services.shop import geo_limits

    catalog.get_performance(screen.actor, performance_id)
    body = form_body({"unknown_location": screen.value("unknown_location")}, "geo_limits:GeoPolicyIn")
    geo_limits.set_policy(screen.actor, performance_id, body.unknown_location)
    return screen.redirect(f"{ROOT}/performances/{performance_id}?done=policy")


@console_route(bp, ROOT + "/performances/{performance_id}/trial")
def try_address(screen: Screen, performance_id: str):
    from chalicelib.errors import InvalidInput
    from chalicelib.services.shop import geo_limits

    typed = {"address": screen.query("address") or "", "channel_id": screen.query("channel_id") or ""}
    try:
        trial = geo_limits.try_location(screen.actor, performance_id, typed["address"],
                                        channel_id=typed["channel_id"] or None)
    except InvalidInput as error:
        return _limits_page(screen, performance_id, status=422, typed=typed, errors=_by_field(screen, error))
    return _limits_page(screen, performance_id, typed=typed, trial=trial)


# -- the points of sale's messages ------------------------------------------------------------------


@console_route(bp, ROOT + "/channels/{channel_id}", methods=("GET", "POST"))
def channel_messages(screen: Screen, channel_id: str):
    from chalicelib.errors import InvalidInput
    from chalicelib.services.catalog import catalog
    from chalicelib.services.shop.geo_limits import GENERIC_MESSAGES

    channel = catalog.sales_channels.get(screen.actor, channel_id)
    typed = {"geo_refusal_message": channel.geo_refusal_message or "",
             "geo_refusal_message_en": channel.geo_refusal_message_en or ""}
    errors: dict = {}
    if screen.request.method == "POST":
        # one past the schema's maximum, so that a message too long is the schema's refusal, not a silent cut
        typed = {name: screen.value(name, MESSAGE_LENGTH + 1) for name in typed}
        try:
            body = form_body({name: value or None for name, value in typed.items()}, "catalog:SalesChannelPatch")
            catalog.sales_channels.update(screen.actor, channel_id, body.model_dump(exclude_unset=True))
            return screen.redirect(f"{ROOT}/channels/{channel_id}?done=saved")
        except InvalidInput as error:
            errors = _by_field(screen, error)
    return screen.page("shop_channel.html.j2", status=422 if errors else 200, channel=channel, typed=typed,
                       errors=errors, generic=GENERIC_MESSAGES, done=screen.query("done"))


# -- reading the forms --------------------------------------------------------------------------------


def _typed_limit(screen: Screen) -> dict:
    return {"country": screen.value("country", 20), "postcode_prefixes": screen.value("postcode_prefixes",
                                                                                       PREFIXES_LENGTH),
            "label": screen.value("label", 201)}


def _described(limit) -> str:
    return " ".join(filter(None, (limit.country, ", ".join(limit.postcode_prefixes or []),
                                  f"« {limit.label} »" if limit.label else None)))


def _shown_limit(limit) -> dict:
    return {"country": limit.country, "postcode_prefixes": ", ".join(limit.postcode_prefixes or []),
            "label": limit.label or ""}


def _limit_body(typed: dict, model: str):
    """The typed limit read by the API's schema: prefixes are separated by commas, semicolons or
    line breaks (a space is kept inside a prefix, for the schema to refuse it: "75 011" is not
    "75" and "011"); an empty label is no label."""
    return form_body({"country": typed["country"], "postcode_prefixes": _prefixes(typed),
                      "label": typed["label"] or None}, model)


def _prefixes(typed: dict) -> list[str]:
    return [prefix.strip() for prefix in re.split(r"[,;\n]", typed.get("postcode_prefixes") or "") if prefix.strip()]


def _by_field(screen: Screen, error, typed: dict | None = None) -> dict[str, list[str]]:
    """The refusal's messages by form field: ``postcode_prefixes.2`` is the prefixes' field, its
    message naming the third prefix as it was typed."""
    prefixes = _prefixes(typed) if typed else []
    found: dict[str, list[str]] = {}
    for item in error.errors:
        name, _, position = item.field.partition(".")
        if position.isdigit() and int(position) < len(prefixes):
            position = f"« {prefixes[int(position)]} »"
        message = screen.field_message(item)
        found.setdefault(name, []).append(f"{position} : {message}" if position else message)
    return found or {"": [error.detail]}


