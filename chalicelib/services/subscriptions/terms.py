"""What a subscription product offers (its terms): the performances it groups and the quota each
sells from (and, in a package of sub-packages, the sub-package it belongs to), whether the
holder chooses N of them, the delivery modes, the payment plans.

Set whole by staff (``PUT /products/{id}/subscription-terms``), audited, checked against the
catalog: the product is a subscription or a package; every performance is a show's, of the
product's season, not cancelled, with a quota of its own; ``choose`` is at most the number of
performances; plan ids are unique and each plan is a valid schedule rule. A tacitly renewed
product's ``refusal_deadline`` (the last day its payers may refuse the renewal) files the
window its renewal notices go in (:mod:`.renewal_notice`).
"""
from __future__ import annotations

from pynamodb.exceptions import DoesNotExist

from chalicelib.errors import InvalidInput, NotFound
from chalicelib.models.catalog import Performance, Product, Quota
from chalicelib.models.subscriptions import SubscriptionTerms
from chalicelib.services.shared.actors import Actor
from chalicelib.services.shared.audit import snapshot, write_audited
from chalicelib.services.shared.records import by_ids, get_record
from chalicelib.services.subscriptions import renewal_notice
from chalicelib.values.payment_plans import PaymentPlan

BUNDLE_KINDS = ("subscription", "package")

def plan_of(terms: SubscriptionTerms, plan_id: str) -> PaymentPlan:
    """The terms' plan named ``plan_id`` (422 on ``plan_id`` when they offer none so named)."""
    for plan in terms.payment_plans:
        if plan["id"] == plan_id:
            return PaymentPlan(**plan)
    raise InvalidInput.on("plan_id", f"not a payment plan of this subscription (offered: "
                              f"{', '.join(plan['id'] for plan in terms.payment_plans)})")


def get_terms(actor: Actor, product_id: str) -> SubscriptionTerms:
    get_record(actor, Product, product_id)
    try:
        return SubscriptionTerms.get(actor.tenant_id, product_id, consistent_read=True)
    except DoesNotExist:
        raise NotFound(f"Product {product_id} has no subscription terms yet.") from None


def terms_of(actor: Actor, product_ids) -> dict[str, SubscriptionTerms]:
    """The terms of those of ``product_ids`` that have some, by product id (one batch read)."""
    return by_ids(actor, SubscriptionTerms, product_ids)


def set_terms(actor: Actor, product_id: str, fields: dict) -> SubscriptionTerms:
    """Replace the product's terms with ``fields`` (validated by the schema; the catalog checked here)."""
    product = get_record(actor, Product, product_id)
    if product.kind not in BUNDLE_KINDS:
        raise InvalidInput.on("product_id", f"a {product.kind} has no subscription terms; only a subscription or a package")
    performances = _performances(actor, product, fields["performances"])
    choose = fields.get("choose")
    if choose is not None and choose > len(performances):
        raise InvalidInput.on("choose", f"at most the {len(performances)} performances offered")
    for position, plan in enumerate(fields["payment_plans"]):
        _check_plan(position, plan)
    if len({plan["id"] for plan in fields["payment_plans"]}) != len(fields["payment_plans"]):
        raise InvalidInput.on("payment_plans", "each plan has its own id")
    if fields.get("refusal_deadline") is not None and not product.tacit_renewal:
        raise InvalidInput.on("refusal_deadline", "only a tacitly renewed subscription has a refusal deadline")
    try:
        terms = SubscriptionTerms.get(actor.tenant_id, product_id, consistent_read=True)
        before = snapshot(terms)
    except DoesNotExist:
        terms, before = SubscriptionTerms(tenant_id=actor.tenant_id, id=product_id), None
    previous_deadline = terms.refusal_deadline
    ordered = sorted(performances, key=lambda pair: pair[0].starts_at)
    terms.performance_ids = [performance.id for performance, _ in ordered]
    terms.quotas = {performance.id: quota_id for performance, quota_id in ordered}
    terms.parts = {entry["performance_id"]: entry["part"] for entry in fields["performances"]
                   if entry.get("part")} or None
    terms.choose = choose
    terms.delivery_modes = list(dict.fromkeys(fields["delivery_modes"]))
    terms.payment_plans = fields["payment_plans"]
    terms.refusal_deadline = fields.get("refusal_deadline")
    write_audited(actor, terms, action="update" if before else "create", before=before,
                  condition=None if before else SubscriptionTerms.id.does_not_exist())
    renewal_notice.file_notice(actor.tenant_id, product, terms, previous_deadline)
    return terms


def _performances(actor: Actor, product: Product, offered: list[dict]) -> list[tuple[Performance, str]]:
    """Each offered performance with its quota, checked (422 on ``performances.<n>.<field>``)."""
    found = by_ids(actor, Performance, [entry["performance_id"] for entry in offered])
    quotas = by_ids(actor, Quota, [entry["quota_id"] for entry in offered])
    shows = by_ids(actor, Product, {performance.product_id for performance in found.values()})
    checked, seen = [], set()
    for position, entry in enumerate(offered):
        performance = found.get(entry["performance_id"])
        field = f"performances.{position}"
        if performance is None:
            raise InvalidInput.on(f"{field}.performance_id", "unknown performance")
        if performance.id in seen:
            raise InvalidInput.on(f"{field}.performance_id", "offered twice")
        if performance.status == "cancelled":
            raise InvalidInput.on(f"{field}.performance_id", "this performance is cancelled")
        show = shows.get(performance.product_id)
        if show is None or show.season_id != product.season_id:
            raise InvalidInput.on(f"{field}.performance_id", "not a performance of this product's season")
        quota = quotas.get(entry["quota_id"])
        if quota is None or quota.performance_id != performance.id:
            raise InvalidInput.on(f"{field}.quota_id", "not a quota of this performance")
        seen.add(performance.id)
        checked.append((performance, quota.id))
    return checked


def _check_plan(position: int, plan: dict) -> None:
    try:
        PaymentPlan(**plan)
    except (TypeError, ValueError) as error:
        raise InvalidInput.on(f"payment_plans.{position}", str(error)) from None
