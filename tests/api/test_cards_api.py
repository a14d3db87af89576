"""The season cards' staff routes over the whole app: sites and the agent's configuration (admin
only), printers with their state, printing a subscription's card, the jobs list, check-in by
card refused clearly, and bad input refused as problems with nothing written."""
from __future__ import annotations

import json

from chalicelib.services.cards import results
from tests.api.helpers import assert_problem, call
from tests.cards_world import CardWorld, SiteAgent


def test_staff_run_season_cards_through_the_api(client, actor, admin_headers, staff_headers):
    cards = CardWorld(actor)
    subscription = cards.sell()
    agent = SiteAgent(cards.site)  # the results queue, which the stack creates in AWS
    assert call(client, "GET", f"/card-sites/{cards.site.id}/agent-config", staff_headers)[0] == 403
    status, config, _ = call(client, "GET", f"/card-sites/{cards.site.id}/agent-config", admin_headers)
    assert status == 200 and f'site_id = "{cards.site.id}"' in config["config"]
    assert_problem(call(client, "POST", "/card-printers", admin_headers, {
        "site_id": "01ARZ3NDEKTSV4RRFFQ69G5FAV", "name": "P2", "model": "Evolis", "encoder": True}), 422, "site_id")
    status, job, _ = call(client, "POST", f"/subscriptions/{subscription.id}/cards/print", staff_headers,
                          {"printer_id": cards.printer.id})
    assert status == 201 and job["state"] == "queued"
    assert call(client, "POST", f"/subscriptions/{subscription.id}/cards/print", staff_headers,
                {"printer_id": cards.printer.id})[0] == 409
    status, page, _ = call(client, "GET", f"/print-jobs?printer_id={cards.printer.id}&state=queued", staff_headers)
    assert [row["id"] for row in page["items"]] == [job["id"]]
    status, printer, _ = call(client, "GET", f"/card-printers/{cards.printer.id}", staff_headers)
    assert (printer["queue_length"], printer["state"]) == (1, "unknown")
    from chalicelib.models.cards import PrintJob

    stored = PrintJob.get(actor.tenant_id, job["id"])
    results.apply_message(json.dumps(agent.result(stored, "printed", uid="04A1B2C3D4E5F6")))
    status, card_list, _ = call(client, "GET", f"/subscriptions/{subscription.id}/cards", staff_headers)
    assert [card["uid"] for card in card_list["items"]] == ["04A1B2C3D4E5F6"]
    status, admitted, _ = call(client, "POST", "/cards/check-in", staff_headers,
                               {"performance_id": cards.performances[0].id, "uid": "04a1b2c3d4e5f6"})
    assert status == 200 and admitted["order_id"] == subscription.order_id
    assert call(client, "POST", f"/cards/{job['id']}/revoke", staff_headers, {"reason": "perdue"})[0] == 200
    status, refusal, _ = call(client, "POST", "/cards/check-in", staff_headers,
                              {"performance_id": cards.performances[0].id, "uid": "04A1B2C3D4E5F6"})
    assert status == 409 and "revoked" in refusal["detail"]
    assert_problem(call(client, "POST", "/cards/check-in", staff_headers,
                        {"performance_id": cards.performances[0].id}), 422)
    assert_problem(call(client, "GET", "/print-jobs", staff_headers), 422)
