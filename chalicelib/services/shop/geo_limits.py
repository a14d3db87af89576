"""Geographic limits (limites géographiques, DOMAIN §4): per performance, the places whose buyers
may not buy it, and the check the shop's cart runs when a buyer adds the performance.

Staff side, audited: :func:`create_limit`, :func:`list_limits` (by performance),
:func:`get_limit`, :func:`change_limit`, :func:`delete_limit`; the performance's
unknown-location policy :func:`get_policy` / :func:`set_policy` (``allow``, the default, or
``refuse``).

Staff can try an address: :func:`try_location` says what the check would decide for it, and why.

Shop side: :func:`check_location` returns when the buyer may buy, and raises
:class:`GeoRestricted` (403, ``/problems/geo-restricted``) otherwise, whose detail is the
point of sale's message in the buyer's language, never the rule.

The rules (``docs/shop.md``, "Geographic limits"), decided by :func:`verdict`:

- a limit naming a country **without prefixes** forbids the whole country: a buyer located
  there is refused, whether or not the database knows their postcode;
- a limit **with prefixes** forbids the postcodes of that country starting with one of them;
  a buyer located in that country but **without a postcode** in the database (common outside
  a few countries, and for mobile networks) cannot be placed inside or outside the zone: their
  place is *unknown* for that limit;
- a buyer whose address is **not in the database** (or malformed, or without a country, or
  when no database is configured or it cannot be read) has an *unknown* place;
- an unknown place is decided by the performance's policy: ``allow`` (the default) or
  ``refuse``; either way the reason is logged. A certain refusal by one limit wins over an
  unknown place for another. A performance without limits is never geolocated at all.
"""
from __future__ import annotations

import ipaddress
from dataclasses import dataclass
from typing import Any, Iterable

from pynamodb.exceptions import DoesNotExist, TransactWriteError
from pynamodb.transactions import TransactWrite

from chalicelib.adapters import clock, geoip, ids
from chalicelib.errors import ConcurrentChange, Conflict, DomainError, FieldError, InvalidInput, NotFound
from chalicelib.models.base import TENANT_ID_PATTERN, connection, tenant_key
from chalicelib.models.catalog import Performance, SalesChannel
from chalicelib.models.geo_limits import UNKNOWN_LOCATION_POLICIES, GeoLimit, GeoPolicy
from chalicelib.observability import logger
from chalicelib.services.shared.actors import Actor
from chalicelib.services.shared.audit import audit_event, snapshot, write_audited
from chalicelib.services.shared.paging import Page, paged
from chalicelib.services.shared.records import get_record, refuse_if_changed
from chalicelib.values import postcodes
from chalicelib.values.countries import is_country, not_a_country

MAX_LIMITS_PER_PERFORMANCE = 100  # the check reads them all on every add-to-cart
MAX_PREFIXES_PER_LIMIT = 200
GENERIC_MESSAGES = {
    "fr": "Une erreur est survenue lors de l'ajout au panier.",
    "en": "An error occurred while adding to the cart.",
}

ALLOWED, REFUSED, UNKNOWN = "allowed", "refused", "unknown"


class GeoRestricted(DomainError):
    """A geographic limit (or the unknown-location policy) refuses this buyer the performance.
    ``detail`` is the point of sale's message in the buyer's language; nothing says which rule."""

    status = 403
    kind = "geo-restricted"
    title = "This performance cannot be added to the cart"
    title_fr = "Cette séance ne peut pas être ajoutée au panier"


# -- staff: the limits -----------------------------------------------------------------------


def create_limit(actor: Actor, performance_id: str, fields: dict[str, Any]) -> GeoLimit:
    """A new limit on the tenant's performance (404 for another's); ``fields``: ``country``,
    ``postcode_prefixes`` (empty: the whole country), ``label``."""
    get_record(actor, Performance, performance_id)
    key = tenant_key(actor.tenant_id, performance_id)
    if GeoLimit.count(key, consistent_read=True) >= MAX_LIMITS_PER_PERFORMANCE:
        raise Conflict(f"A performance has at most {MAX_LIMITS_PER_PERFORMANCE} geographic limits; "
                       "add prefixes to an existing limit of the same country instead.")
    limit = GeoLimit(performance_key=key, id=ids.new_id(), tenant_id=actor.tenant_id, performance_id=performance_id,
                     **fields)
    _check_limit(limit)
    write_audited(actor, limit, action="create", before=None, condition=GeoLimit.id.does_not_exist())
    return limit


def list_limits(actor: Actor, performance_id: str, *, limit: int, cursor: str | None) -> Page[GeoLimit]:
    """The performance's limits in creation order (404 for a performance not the tenant's)."""
    get_record(actor, Performance, performance_id)
    key = tenant_key(actor.tenant_id, performance_id)
    return paged(f"{GeoLimit.entity_type}:{key}", cursor,
                 lambda start: GeoLimit.query(key, limit=limit, last_evaluated_key=start, consistent_read=True))


def get_limit(actor: Actor, performance_id: str, limit_id: str) -> GeoLimit:
    if ids.is_id(performance_id) and ids.is_id(limit_id):
        try:
            return GeoLimit.get(tenant_key(actor.tenant_id, performance_id), limit_id, consistent_read=True)
        except DoesNotExist:
            pass
    raise NotFound(f"No geographic limit with id {limit_id!r} on this performance.")


def change_limit(actor: Actor, performance_id: str, limit_id: str, changes: dict[str, Any], *,
                 read_at_version: int | None = None) -> GeoLimit:
    """Apply ``changes`` (any of ``country``, ``postcode_prefixes``, ``label``), checked on the
    limit as it will be (new prefixes against the old country, a new country against the old
    prefixes), under the limit's version (409 when someone changed it meanwhile, or since
    ``read_at_version``, the version a form showed)."""
    limit = get_limit(actor, performance_id, limit_id)
    refuse_if_changed(limit, read_at_version, "The geographic limit")
    before = snapshot(limit)
    for name, value in changes.items():
        setattr(limit, name, value)
    _check_limit(limit)
    limit.updated_at = clock.now()
    write_audited(actor, limit, action="update", before=before)
    return limit


def delete_limit(actor: Actor, performance_id: str, limit_id: str, *, read_at_version: int | None = None) -> None:
    """Remove the limit (its audit trail keeps what it was, and who removed it); 409 if it changed
    since ``read_at_version``, the version the removal's summary showed."""
    limit = get_limit(actor, performance_id, limit_id)
    refuse_if_changed(limit, read_at_version, "The geographic limit")
    event = audit_event(actor, GeoLimit.entity_type, limit.id, "delete", snapshot(limit), None)
    try:
        with TransactWrite(connection=connection()) as transaction:
            transaction.delete(limit)  # version checked
            transaction.save(event)
    except TransactWriteError as error:
        raise ConcurrentChange("The geographic limit changed while you were deleting it; reload it.") from error


def _check_limit(limit: GeoLimit) -> None:
    """The limit's rules, on the record about to be written: a known country, and prefixes
    written as that country's postcodes are (422 naming the field otherwise)."""
    errors: list[FieldError] = []
    if not is_country(limit.country or ""):
        refused = not_a_country()
        errors.append(FieldError("country", refused.english, french=refused.french))
    prefixes = list(limit.postcode_prefixes or [])
    if len(prefixes) > MAX_PREFIXES_PER_LIMIT:
        errors.append(FieldError("postcode_prefixes", f"at most {MAX_PREFIXES_PER_LIMIT} prefixes"))
    elif not errors:
        for index, prefix in enumerate(prefixes):
            problem = postcodes.prefix_problem(limit.country, prefix)
            if problem:
                errors.append(FieldError(f"postcode_prefixes.{index}", problem.english, french=problem.french))
    if errors:
        raise InvalidInput("The geographic limit is not valid.", errors=errors)
    limit.postcode_prefixes = list(dict.fromkeys(prefixes))  # "67" twice is one prefix


# -- staff: the unknown-location policy ------------------------------------------------------


def get_policy(actor: Actor, performance_id: str) -> GeoPolicy:
    """The performance's unknown-location policy (``allow`` when never set)."""
    get_record(actor, Performance, performance_id)
    return _policy(actor.tenant_id, performance_id) or _default_policy(actor.tenant_id, performance_id)


def set_policy(actor: Actor, performance_id: str, unknown_location: str) -> GeoPolicy:
    """Set what happens to a buyer whose place is unknown: ``allow`` or ``refuse`` (audited as
    ``geo_policy`` under the performance's id)."""
    get_record(actor, Performance, performance_id)
    if unknown_location not in UNKNOWN_LOCATION_POLICIES:
        raise InvalidInput("Unknown policy.", errors=[FieldError("unknown_location", "allow or refuse")])
    current = _policy(actor.tenant_id, performance_id)
    before = snapshot(current)
    policy = current or _default_policy(actor.tenant_id, performance_id)
    policy.unknown_location = unknown_location
    policy.updated_at, policy.updated_by = clock.now(), actor.subject
    write_audited(actor, policy, action="update" if current else "create", before=before)
    return policy


def _policy(tenant_id: str, performance_id: str) -> GeoPolicy | None:
    try:
        return GeoPolicy.get(tenant_key(tenant_id, performance_id), consistent_read=True)
    except DoesNotExist:
        return None


def _default_policy(tenant_id: str, performance_id: str) -> GeoPolicy:
    return GeoPolicy(performance_key=tenant_key(tenant_id, performance_id), tenant_id=tenant_id,
                     performance_id=performance_id, unknown_location="allow")


# -- the shop: the check ---------------------------------------------------------------------


@dataclass(frozen=True)
class Verdict:
    """What the limits say of a place: ``allowed``, ``refused`` (by ``limit_id``) or ``unknown``
    (the policy decides); ``reason`` is what the log says."""

    outcome: str
    reason: str
    limit_id: str | None = None


def verdict(limits: Iterable[Any], location: geoip.Location) -> Verdict:
    """The rules above, for ``limits`` (anything with ``id``, ``country`` and
    ``postcode_prefixes``) and the buyer's ``location``. Pure: no I/O."""
    limits = list(limits)
    if not limits:
        return Verdict(ALLOWED, "no-limits")
    if not location.known:
        return Verdict(UNKNOWN, location.unknown_reason or "unknown")
    postcode = postcodes.normalised(location.postcode)
    unsure: Any = None
    for limit in limits:
        if limit.country != location.country:
            continue
        if not limit.postcode_prefixes:
            return Verdict(REFUSED, "country", limit.id)
        if postcode is None:
            unsure = unsure or limit
        elif postcodes.in_zone(postcode, limit.postcode_prefixes):
            return Verdict(REFUSED, "postcode", limit.id)
    if unsure is not None:
        return Verdict(UNKNOWN, "no-postcode", unsure.id)
    return Verdict(ALLOWED, "outside")


def check_location(tenant_id: str, performance_id: str, source_ip: str | None, *, channel_id: str | None,
                   language: str = "fr") -> None:
    """Return if a buyer connected from ``source_ip`` (the address API Gateway saw:
    :func:`chalicelib.handlers.http.client_address`) may add the tenant's performance to a cart
    at the point of sale ``channel_id``; raise :class:`GeoRestricted` (403) with that point of
    sale's message in ``language`` (``fr``, or ``en``) otherwise.

    Reads the performance's limits with one Query; only when there are some is the address
    geolocated, and only when the place is unknown is the policy read. Never raises anything
    else for what it cannot know (an unknown performance or tenant has no limits: the cart
    refuses those itself).
    """
    if not TENANT_ID_PATTERN.match(tenant_id or "") or not ids.is_id(performance_id or ""):
        return
    limits = list(GeoLimit.query(tenant_key(tenant_id, performance_id), consistent_read=True))
    if not limits:
        return
    location = geoip.locate(source_ip)
    found = verdict(limits, location)
    facts = {"performance_id": performance_id, "limit_id": found.limit_id, "reason": found.reason,
             "country": location.country, "postcode_known": location.postcode is not None, "channel_id": channel_id}
    if found.outcome == ALLOWED:
        return
    refuse, policy = _decided(tenant_id, performance_id, found)
    if found.outcome == UNKNOWN:
        logger.info("geographic limits: the buyer's place is unknown; %s by the performance's policy",
                    "refused" if refuse else "allowed", extra={**facts, "policy": policy})
        if not refuse:
            return
    else:
        logger.info("geographic limits: refused", extra=facts)
    raise GeoRestricted(refusal_message(tenant_id, channel_id, language))


def _decided(tenant_id: str, performance_id: str, found: Verdict) -> tuple[bool, str | None]:
    """Whether ``found`` refuses the buyer, and the unknown-location policy that decided it when
    the place is unknown (read only then: an allowed or refused place never reads it)."""
    if found.outcome != UNKNOWN:
        return found.outcome == REFUSED, None
    policy = _policy(tenant_id, performance_id)
    unknown_location = policy.unknown_location if policy is not None else "allow"
    return unknown_location == "refuse", unknown_location


@dataclass(frozen=True)
class Trial:
    """What the shop would answer a buyer connected from an address: where the database places
    it, the limits' :class:`Verdict`, the policy when it decided (``None`` otherwise), whether the
    buyer is refused and, then, the point of sale's message in French and English."""

    location: geoip.Location
    verdict: Verdict
    policy: str | None
    refused: bool
    messages: dict[str, str]


def try_location(actor: Actor, performance_id: str, address: str, *, channel_id: str | None = None) -> Trial:
    """The decision :func:`check_location` would take for a buyer connected from ``address`` (an
    IPv4 or IPv6 address typed by staff; 422 on ``address`` otherwise) at the point of sale
    ``channel_id``, for the tenant's performance (404 for another's, or another's channel), with
    the reasons staff need to understand it. Nothing is written, and it is not logged as a
    buyer's decision."""
    get_record(actor, Performance, performance_id)
    if channel_id:
        get_record(actor, SalesChannel, channel_id)
    try:
        ipaddress.ip_address(address.strip())
    except ValueError:
        raise InvalidInput.on("address", "not an IPv4 or IPv6 address, e.g. 192.0.2.10 or 2001:db8::1") from None
    limits = list(GeoLimit.query(tenant_key(actor.tenant_id, performance_id), consistent_read=True))
    location = geoip.locate(address.strip())
    found = verdict(limits, location)
    refused, policy = _decided(actor.tenant_id, performance_id, found)
    messages = {language: refusal_message(actor.tenant_id, channel_id, language)
                for language in ("fr", "en")} if refused else {}
    return Trial(location, found, policy, refused, messages)


def refusal_message(tenant_id: str, channel_id: str | None, language: str = "fr") -> str:
    """The point of sale's refusal message in ``language`` (``en...`` is English, anything else
    French), or the generic one when the channel has none in that language (or is unknown)."""
    english = (language or "").strip().lower().startswith("en")
    channel = None
    if channel_id and ids.is_id(channel_id):
        try:
            channel = SalesChannel.get(tenant_id, channel_id)
        except DoesNotExist:
            channel = None
    configured = None if channel is None else (channel.geo_refusal_message_en if english
                                               else channel.geo_refusal_message)
    return (configured or "").strip() or GENERIC_MESSAGES["en" if english else "fr"]
