"""Tenant isolation over the whole route table.

Tenant A builds one of everything, every text marked with a secret. Then, for **every
route the app registers** (enumerated from ``app.routes``, so new routes are covered
automatically), tenant B calls it with A's ids in the path, in id query filters and in
body references. B must never see A's secret, never succeed on A's ids, and A's data must
be exactly as before. A route with a path parameter or a write body this test does not
know how to fill fails the test: teach it below (that is the point).
"""
from __future__ import annotations

import json
import re
import secrets

from chalicelib.services.jobs.framework import ChunkResult, job_kind
from tests.api.helpers import call
from tests.job_helpers import ensure_jobs_queue

SECRET = f"SECRET-{secrets.token_hex(4)}"

# How tenant A creates one of each entity: (id name, POST path, payload from the ids made so far).
RECIPES = [
    ("venue_id", "/venues", lambda ids: {"name": f"{SECRET} venue", "city": SECRET}),
    ("season_id", "/seasons", lambda ids: {"name": SECRET, "starts_on": "2026-09-01", "ends_on": "2027-06-30"}),
    ("family_id", "/product-families", lambda ids: {"name": SECRET}),
    ("product_id", "/products", lambda ids: {"kind": "show", "name": SECRET, "family_id": ids["family_id"],
                                             "season_id": ids["season_id"]}),
    ("performance_id", "/performances", lambda ids: {"product_id": ids["product_id"], "venue_id": ids["venue_id"],
                                                     "starts_at": "2026-12-12T20:30:00+01:00", "label": SECRET}),
    ("tariff_id", "/tariffs", lambda ids: {"product_id": ids["product_id"], "name": SECRET, "price_cents": 2500}),
    ("quota_id", "/quotas", lambda ids: {"performance_id": ids["performance_id"], "name": SECRET, "capacity": 100}),
    ("limit_id", "/performances/{performance_id}/geo-limits", lambda ids: {"country": "FR", "postcode_prefixes": ["67"],
                                                                         "label": SECRET}),
    ("category_id", "/seat-categories", lambda ids: {"venue_id": ids["venue_id"], "name": SECRET}),
    ("seat_id", "/venues/{venue_id}/seats", lambda ids: {"block": SECRET, "row": "A", "number": "1",
                                                         "category_id": ids["category_id"]}),
    ("channel_id", "/sales-channels", lambda ids: {"name": SECRET, "kind": "box_office",
                                                   "geo_refusal_message": SECRET, "geo_refusal_message_en": SECRET}),
    ("contact_id", "/contacts", lambda ids: {"last_name": SECRET, "emails": [{"address": "a@secret.fr"}],
                                             "criteria": {"note": SECRET}}),
    ("means_id", "/contacts/{contact_id}/payment-means/sepa", lambda ids: {
        "iban": "DE89370400440532013000", "account_holder": f"{SECRET} holder", "signed_on": "2026-01-15"}),
    ("order_id", "/orders", lambda ids: {"payment_type": "cheque", "buyer": {"last_name": SECRET},
                                         "lines": [{"performance_id": ids["performance_id"],
                                                    "tariff_id": ids["tariff_id"], "quota_id": ids["quota_id"],
                                                    "attendee_name": SECRET}]}),
    ("campaign_id", "/campaigns", lambda ids: {"performance_id": ids["performance_id"], "kind": "postponement",
                                               "new_starts_at": "2027-03-20T20:00:00+01:00",
                                               "refund_deadline": "2027-01-31T23:00:00+01:00",
                                               "mail_message": SECRET}),
    ("list_id", "/mailing-lists", lambda ids: {"name": SECRET, "description": SECRET}),
    ("segment_id", "/segments", lambda ids: {"name": SECRET, "description": SECRET, "rules": [
        {"kind": "bought_in_season", "season_id": ids["season_id"]}, {"kind": "criterion", "name": "note",
                                                                       "value": SECRET}]}),
    ("rule_id", "/team-notifications", lambda ids: {"name": SECRET, "addresses": ["team@secret.fr"],
                                                    "tariff_ids": [ids["tariff_id"]]}),
    ("site_id", "/card-sites", lambda ids: {"name": SECRET, "venue_id": ids["venue_id"]}),
    ("printer_id", "/card-printers", lambda ids: {"site_id": ids["site_id"], "name": SECRET, "model": SECRET,
                                                  "encoder": True}),
]
# Bodies of write routes that are not the creations above (PATCH routes send an empty, valid patch).
BODIES = {
    ("POST", "/venues/{venue_id}/seats/batch"): {"seats": [{"block": SECRET, "row": "B", "number": "2"}]},
    ("POST", "/notifications/{notification_id}/resend"): {},
    ("POST", "/jobs/{job_id}/cancel"): {"reason": "tenant-b-text"},
    ("POST", "/orders/{order_id}/mark-paid"): {},
    ("POST", "/orders/{order_id}/card-payment"): {},
    ("POST", "/orders/{order_id}/cancel"): {"positions": [1]},
    ("POST", "/orders/{order_id}/refunds/quote"): {"positions": [1]},
    ("POST", "/orders/{order_id}/refunds"): {"positions": [1]},
    ("POST", "/orders/{order_id}/refunds/{refund_id}/paid"): {"reference": "tenant-b-text"},
    ("POST", "/orders/{order_id}/refunds/{refund_id}/cancel"): {"reason": "tenant-b-text"},
    ("POST", "/orders/{order_id}/refunds/{refund_id}/retry"): {},
    ("POST", "/orders/{order_id}/credit"): {"positions": [1]},
    ("POST", "/orders/{order_id}/donation"): {"positions": [1]},
    ("POST", "/orders/{order_id}/tickets/{position}/seat-change"): {"seat_id": "01ARZ3NDEKTSV4RRFFQ69G5FAV",
                                                                    "requested_by": "buyer"},
    ("POST", "/subscriptions/{subscription_id}/seat-change"): {"seat_id": "01ARZ3NDEKTSV4RRFFQ69G5FAV",
                                                               "requested_by": "institution"},
    ("POST", "/contacts/{contact_id}/credit/use"): {"amount_cents": 100, "origin_id": "tenant-b"},
    ("POST", "/campaigns/{campaign_id}/notify"): {},
    ("POST", "/campaigns/{campaign_id}/reset"): {},
    ("POST", "/campaigns/{campaign_id}/rebuild"): {},
    ("PATCH", "/campaigns/{campaign_id}"): {"mail_message": "Reporté"},
    ("POST", "/performances/{performance_id}/reopen"): {"reason": "back on"},
    ("PUT", "/performances/{performance_id}/geo-policy"): {"unknown_location": "refuse"},
    ("DELETE", "/performances/{performance_id}/geo-limits/{limit_id}"): None,
    ("DELETE", "/shop/{tenant_id}/carts/{cart}/lines/{item_id}"): None,
    ("POST", "/campaigns/{campaign_id}/customers/{order_id}/resend"): {"address": "b@tenant-b.fr"},
    ("POST", "/campaigns/{campaign_id}/customers/{order_id}/act-for"): {},
    ("POST", "/p/refund/{token}"): {},
    ("POST", "/metrics/reconciliation"): {"since": "2026-11-01", "until": "2026-11-30"},
    ("POST", "/orders/resend-confirmations"): {"filters": {"product_id": "PRODUCT_ID"}},
    ("POST", "/orders/export"): {"filters": {"product_id": "PRODUCT_ID"}},
    ("POST", "/webhooks/stripe"): {"type": "payment_intent.succeeded", "data": {"object": {"metadata": {}}}},
    ("POST", "/mail/preview"): {"template": "order_confirmation", "language": "fr"},
    ("PUT", "/mail/templates/{template}/{language}/override"): {"blocks": {"closing": "Cordialement, la billetterie"}},
    ("POST", "/options/lines/mark"): {"line_ids": ["ORDER_ID-001"], "mark": "keep"},
    ("POST", "/options/lines/lock"): {"line_ids": ["ORDER_ID-001"], "reason": "tenant-b-text"},
    ("POST", "/options/lines/unlock"): {"line_ids": ["ORDER_ID-001"]},
    ("POST", "/options/lines/release"): {"line_ids": ["ORDER_ID-001"]},
    ("POST", "/options/lines/release/preview"): {"line_ids": ["ORDER_ID-001"]},
    ("POST", "/options/lines/remind"): {"line_ids": ["ORDER_ID-001"]},
    ("POST", "/options/lines/extend"): {"line_ids": ["ORDER_ID-001"], "deadline": "2027-01-31T12:00:00+01:00"},
    ("POST", "/options/release-all"): {"kind": "option", "deadline_on_or_before": "2027-01-31",
                                       "season_id": "SEASON_ID", "family_id": "FAMILY_ID"},
    ("POST", "/options/release-all/preview"): {"kind": "option", "deadline_on_or_before": "2027-01-31",
                                               "season_id": "SEASON_ID", "family_id": "FAMILY_ID"},
    ("POST", "/options/remind-all"): {"kind": "option", "deadline_on_or_before": "2027-01-31",
                                      "season_id": "SEASON_ID", "family_id": "FAMILY_ID"},
    ("POST", "/options/extend-all"): {"kind": "option", "deadline_on_or_before": "2027-01-31",
                                      "season_id": "SEASON_ID", "family_id": "FAMILY_ID",
                                      "deadline": "2027-02-28T12:00:00+01:00"},
    ("PUT", "/options/policy"): {"remind_days_before": 3, "release_days_after": 2},
    ("POST", "/options/due/run"): {},
    ("POST", "/contacts/reindex"): {},
    ("POST", "/contacts/{contact_id}/mailing-lists/{list_id}/join"): {"how": "tenant-b-text"},
    ("POST", "/contacts/{contact_id}/mailing-lists/{list_id}/leave"): {"how": "tenant-b-text"},
    ("POST", "/orders/list-by-contact"): {},
    ("POST", "/contacts/{contact_id}/merge"): {"other_id": "01ARZ3NDEKTSV4RRFFQ69G5FAV"},
    ("POST", "/contacts/{contact_id}/payment-means/card"): {},
    ("POST", "/contacts/{contact_id}/payment-means/{means_id}/revoke"): {"reason": "tenant-b-text"},
    ("POST", "/contacts/{contact_id}/erase"): {"reason": "tenant-b-text"},
    ("POST", "/segments/{segment_id}/members/export"): {},
    ("PUT", "/products/{product_id}/subscription-terms"): {
        "performances": [{"performance_id": "PERFORMANCE_ID", "quota_id": "QUOTA_ID"}],
        "delivery_modes": ["box_office"], "payment_plans": [{"id": "once", "label": "Comptant", "instalments": 1}]},
    ("POST", "/subscriptions"): {"product_id": "PRODUCT_ID", "tariff_id": "TARIFF_ID", "payer_contact_id": "CONTACT_ID",
                                 "delivery_mode": "box_office", "plan_id": "once", "means": "cash",
                                 "subscribers": [{"holder_contact_id": "CONTACT_ID"}]},
    ("POST", "/subscriptions/instalments/run"): {},
    ("POST", "/subscriptions/{subscription_id}/sabbatical"): {"target_product_id": "PRODUCT_ID"},
    ("POST", "/subscriptions/renewals"): {"source_product_id": "PRODUCT_ID", "target_product_id": "PRODUCT_ID",
                                          "delivery_modes": ["box_office"], "on_error": "nothing", "dry_run": True},
    ("POST", "/shop/{tenant_id}/carts"): {"language": "fr"},
    ("POST", "/shop/{tenant_id}/carts/{cart}/lines"): {"performance_id": "PERFORMANCE_ID", "tariff_id": "TARIFF_ID",
                                                       "quota_id": "QUOTA_ID", "quantity": 1},
    ("POST", "/shop/{tenant_id}/carts/{cart}/checkout"): {"buyer": {"last_name": "B", "email": "b@b.fr"}},
    ("PUT", "/card-sites/{site_id}/logo"): {"image_base64": "iVBORw0KGgoAAAANSUhEUgAAAAQAAAACCAIAAADwyuo0AAAAC0lEQVR4nGNgwAUAABoAAbw84EEAAAAASUVORK5CYII="},
    ("POST", "/jobs/{job_id}/pause"): {},
    ("POST", "/jobs/{job_id}/resume"): {},
    ("PATCH", "/card-printers/{printer_id}"): {},
    ("POST", "/subscriptions/{subscription_id}/cards/print"): {"printer_id": "PRINTER_ID"},
    ("POST", "/cards/mass-print"): {"product_id": "PRODUCT_ID", "printer_id": "PRINTER_ID"},
    ("POST", "/print-jobs/{job_id}/cancel"): {},
    ("POST", "/print-jobs/{job_id}/resolve"): {"decision": "printed", "uid": "04A1B2C3D4E5F6"},
    ("POST", "/cards/{card_id}/revoke"): {"reason": "tenant-b-text"},
    ("POST", "/cards/check-in"): {"performance_id": "PERFORMANCE_ID", "uid": "04A1B2C3D4E5F6"},
    ("PUT", "/organisation"): {"legal_name": "Tenant B SAS", "address_line1": "1 rue B", "postcode": "69001",
                               "city": "Lyon", "siret": "73282932000074", "vat_number": "FR44732829320"},
}
# Path parameters that are not ids of A's entities, and query strings for listings that need one.
FIXED_PATH_VALUES = {"version": "000000000000", "name": "console.css", "entity_type": "venue", "template": "order_confirmation", "language": "fr", "position": "1",
                     "tenant_id": "tenant-b-shop", "token": "not-a-signed-token", "scope": "performance", "number": "1"}
ID_FOR_PARAM = {"entity_id": "venue_id", "scope_id": "performance_id", "other_id": "contact_id"}
# Path parameters whose name differs between areas: a print job's id is {job_id} under /print-jobs.
PATH_IDS = {"/print-jobs/": {"job_id": "print_job_id"}}
QUERIES = {"/notifications": "recipient=a@secret.fr", "/refunds": "state=pending",
           "/subscriptions/instalments": "day=2026-12-12"}


def _build_world(client, headers, tenant_id) -> dict:
    ensure_jobs_queue()  # creating a campaign starts its build job
    ids = {}
    for id_name, path, payload in RECIPES:
        status, created, _ = call(client, "POST", _fill_path(path, ids), headers, payload(ids))
        assert status == 201, (path, created)
        ids[id_name] = created["id"]
    ids["notification_id"] = _mail_sent_to_a(tenant_id, ids["contact_id"])
    ids["refund_id"] = _offline_refund_by_a(client, headers, ids["order_id"])
    ids["job_id"] = _job_started_by_a(tenant_id, ids["contact_id"])
    ids["subscription_id"] = _subscription_sold_by_a(client, headers, ids)
    ids["cart"], ids["item_id"] = _cart_filled_for_a(client, headers, tenant_id, ids)
    ids["print_job_id"], ids["card_id"] = _card_printed_for_a(client, headers, tenant_id, ids)
    return ids


def _cart_filled_for_a(client, headers, tenant_id: str, ids: dict) -> tuple[str, str]:
    """A cart of A's shop holding a place of a performance a month from now."""
    from datetime import datetime, timedelta, timezone

    starts_at = (datetime.now(timezone.utc) + timedelta(days=30)).isoformat()
    status, performance, _ = call(client, "POST", "/performances", headers, {
        "product_id": ids["product_id"], "venue_id": ids["venue_id"], "starts_at": starts_at})
    assert status == 201, performance
    status, quota, _ = call(client, "POST", "/quotas", headers, {"performance_id": performance["id"], "name": "Web",
                                                                 "capacity": 10})
    assert status == 201, quota
    status, cart, _ = call(client, "POST", f"/shop/{tenant_id}/carts", {}, {})
    assert status == 201, cart
    status, cart, _ = call(client, "POST", f"/shop/{tenant_id}/carts/{cart['cart']}/lines", {}, {
        "performance_id": performance["id"], "tariff_id": ids["tariff_id"], "quota_id": quota["id"], "quantity": 1})
    assert status == 201, cart
    return cart["cart"], cart["lines"][0]["item_id"]


def _card_printed_for_a(client, headers, tenant_id: str, ids: dict) -> tuple[str, str]:
    """A's subscription's card printed (its agent's result applied): a print job and its card."""
    from chalicelib.models.cards import CardSite, PrintJob
    from chalicelib.services.cards import results
    from tests.cards_world import SiteAgent

    status, job, _ = call(client, "POST", f"/subscriptions/{ids['subscription_id']}/cards/print", headers,
                          {"printer_id": ids["printer_id"]})
    assert status == 201, job
    printed = PrintJob.get(tenant_id, job["id"])
    agent = SiteAgent(CardSite.get(tenant_id, printed.site_id))
    assert results.apply_message(json.dumps(agent.result(printed, "printed", uid="04A1B2C3D4E5F6"))) == "printed"
    return printed.id, printed.id


def _subscription_sold_by_a(client, headers, ids: dict) -> str:
    """A's subscription product (its terms, a tariff named with the secret) and one sold to A's contact."""
    status, product, _ = call(client, "POST", "/products", headers, {
        "kind": "subscription", "name": SECRET, "family_id": ids["family_id"], "season_id": ids["season_id"]})
    assert status == 201, product
    status, tariff, _ = call(client, "POST", "/tariffs", headers, {"product_id": product["id"], "name": SECRET,
                                                                    "price_cents": 9000})
    assert status == 201, tariff
    status, terms, _ = call(client, "PUT", f"/products/{product['id']}/subscription-terms", headers, {
        "performances": [{"performance_id": ids["performance_id"], "quota_id": ids["quota_id"]}],
        "delivery_modes": ["box_office"], "payment_plans": [{"id": "once", "label": SECRET, "instalments": 1}]})
    assert status == 200, terms
    status, sale, _ = call(client, "POST", "/subscriptions", headers, {
        "product_id": product["id"], "tariff_id": tariff["id"], "payer_contact_id": ids["contact_id"],
        "delivery_mode": "box_office", "plan_id": "once", "means": "cash",
        "subscribers": [{"holder_contact_id": ids["contact_id"]}]})
    assert status == 201, sale
    return sale["subscriptions"][0]["id"]


def _offline_refund_by_a(client, headers, order_id: str) -> str:
    """A's cheque order paid, then refunded offline to an IBAN (pending: the venue pays it)."""
    assert call(client, "POST", f"/orders/{order_id}/mark-paid", headers, {})[0] == 200
    status, refund, _ = call(client, "POST", f"/orders/{order_id}/refunds", headers, {
        "positions": [1], "bank_account": {"iban": "FR7630006000011234567890189", "holder": SECRET}})
    assert status == 201, refund
    return refund["refund_id"]


@job_kind("test.isolation_noop")
def _isolation_noop(actor, params, cursor, budget):
    return ChunkResult(done=1, total=1, cursor=None)


def _job_started_by_a(tenant_id: str, contact_id: str) -> str:
    """A job of tenant A (left queued: no pump runs here), its params marked with the secret."""
    from chalicelib.services.jobs import framework as jobs
    from chalicelib.services.shared.actors import Actor

    ensure_jobs_queue()
    started = jobs.start_job(Actor(tenant_id, "a-admin", frozenset({"admin"})), "test.isolation_noop",
                             {"contact_id": contact_id, "label": SECRET})
    return started.id


def _mail_sent_to_a(tenant_id: str, contact_id: str) -> str:
    from chalicelib.services.mail import sending as mail
    from chalicelib.services.mail.rendering import sample_context
    from chalicelib.services.shared.actors import Actor

    context = {**sample_context("order_confirmation"), "first_name": SECRET}
    sent = mail.send_mail(Actor(tenant_id, "a-admin"), mail.MailRequest(
        template="order_confirmation", language="fr", recipient="a@secret.fr", concerns_type="contact",
        concerns_id=contact_id, contact_id=contact_id, sender_name=SECRET, context=context,
        action_url="https://billets.example.org/t/a"))
    return sent.id


def _path_values(path: str, ids: dict) -> dict[str, str]:
    values = {}
    for name in re.findall(r"{([^}]+)}", path):
        if name in FIXED_PATH_VALUES:
            values[name] = FIXED_PATH_VALUES[name]
            continue
        renamed = next((names[name] for prefix, names in PATH_IDS.items() if path.startswith(prefix) and name in names),
                       None)
        known = ids.get(renamed or ID_FOR_PARAM.get(name, name))
        assert known is not None, f"teach the isolation test how to fill {{{name}}} in {path}"
        values[name] = known
    return values


def _fill_path(path: str, ids: dict) -> str:
    values = _path_values(path, ids)
    return re.sub(r"{([^}]+)}", lambda match: values[match.group(1)], path)


def _id_query(path: str, route_doc, ids: dict) -> str:
    if path in QUERIES:
        return "?" + QUERIES[path]
    if route_doc is None or route_doc.query is None:
        return ""
    from chalicelib.handlers.http import schema

    fields = [name for name in schema(route_doc.query).model_fields if name.endswith("_id") and name in ids]
    return "?" + "&".join(f"{name}={ids[name]}" for name in fields) if fields else ""


def _body_for(method: str, path: str, ids: dict):
    if method == "PATCH":
        return {}
    if (method, path) in BODIES:
        text = json.dumps(BODIES[(method, path)])
        for placeholder, id_name in (("PRODUCT_ID", "product_id"), ("ORDER_ID", "order_id"), ("SEASON_ID", "season_id"),
                                     ("FAMILY_ID", "family_id"), ("PERFORMANCE_ID", "performance_id"),
                                     ("QUOTA_ID", "quota_id"), ("CONTACT_ID", "contact_id"),
                                     ("TARIFF_ID", "tariff_id"), ("PRINTER_ID", "printer_id")):
            text = text.replace(placeholder, ids[id_name])
        return json.loads(text)
    if path == "/shop/{tenant_id}/checkout":  # another tenant's shop, with tenant A's catalog ids
        order = next(payload for (_, recipe_path, payload) in RECIPES if recipe_path == "/orders")(ids)
        return {"buyer": {"last_name": "B", "email": "b@b.fr"}, "lines": order["lines"]}
    recipe = next((payload for (_, recipe_path, payload) in RECIPES if recipe_path == path), None)
    assert recipe is not None, f"teach the isolation test a body for {method} {path}"
    return json.loads(json.dumps(recipe(ids)).replace(SECRET, "tenant-b-text"))


def _console_visitor(tenant_id: str):
    """The console's way in for a tenant: its session cookie, and the anti-forgery value its forms carry."""
    from urllib.parse import urlencode

    from chalicelib.adapters.tokens import VerifiedClaims
    from chalicelib.services.staff_sessions.sessions import open_session

    session, cookie = open_session(VerifiedClaims(subject="b-admin", tenant_id=tenant_id, roles=frozenset({"admin"})))
    headers = {"Cookie": f"console_session={cookie}", "Content-Type": "application/x-www-form-urlencoded"}
    return headers, urlencode({"form": session.form_value()}).encode()


def _routes():
    import app as application

    return sorted(application.app.routes.items())


def _snapshot(client, headers, ids: dict) -> dict:
    """Everything tenant A can read, route by route."""
    return {path: call(client, "GET", _fill_path(path, ids) + ("?" + QUERIES[path] if path in QUERIES else ""),
                       headers)[1]
            for path, methods in _routes() if "GET" in methods}


def test_tenant_b_can_neither_read_nor_change_tenant_a_data_through_any_route(client, signer):
    from chalicelib.handlers.http import ROUTE_DOCS
    from tests.conftest import new_tenant_id

    tenant_a = new_tenant_id()
    a_headers = {"Authorization": f"Bearer {signer.mint(tenant_a, ['admin'], 'a-admin')}"}
    tenant_b = new_tenant_id()
    b_headers = {"Authorization": f"Bearer {signer.mint(tenant_b, ['admin'], 'b-admin')}"}
    console_headers, console_form = _console_visitor(tenant_b)  # the staff console: B signed in to it
    ids = _build_world(client, a_headers, tenant_a)
    before = _snapshot(client, a_headers, ids)
    assert SECRET in json.dumps(before), "tenant A's own data should be visible to tenant A"
    docs = {(doc.path, doc.method): doc for doc in ROUTE_DOCS}
    a_ids = set(ids.values())

    # signing out ends B's console session for good: walked last, so every screen before it is tried signed in
    for path, methods in sorted(_routes(), key=lambda route: route[0] == "/console/sign-out"):
        path_targets_a = bool(set(_path_values(path, ids).values()) & a_ids)
        for method in methods:
            url = _fill_path(path, ids)
            if path.startswith("/console"):
                status, body, _ = call(client, method, url, console_headers, console_form if method == "POST" else None)
                targets_a = path_targets_a
            elif method in ("GET", "HEAD"):
                query = _id_query(path, docs.get((path, method)), ids)
                status, body, _ = call(client, method, url + query, b_headers)
                targets_a = path_targets_a or any(value in query for value in a_ids)
            else:
                payload = _body_for(method, path, ids)
                status, body, _ = call(client, method, url, b_headers, payload)
                targets_a = path_targets_a or any(value in json.dumps(payload) for value in a_ids)
            assert SECRET not in json.dumps(body), f"{method} {path} leaked tenant A data to tenant B"
            if targets_a:
                assert 400 <= status < 500, f"{method} {path} with tenant A ids answered {status} to tenant B"
            else:
                assert status < 500, f"{method} {path} answered {status}"

    assert _snapshot(client, a_headers, ids) == before, "tenant A data changed"
