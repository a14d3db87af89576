"""Sales channels (points of sale) through the API: create, read, change, list, audited."""
from __future__ import annotations

from tests.api.catalog_helpers import create, history, listing
from tests.api.helpers import assert_problem, call


def test_a_sales_channel_is_created_changed_and_listed(client, staff_headers):
    desk = create(client, staff_headers, "/sales-channels", {"name": "Guichet", "kind": "box_office"})
    web = create(client, staff_headers, "/sales-channels", {
        "name": "Billetterie en ligne", "kind": "web",
        "geo_refusal_message": "La vente de cette séance n'est pas ouverte dans votre région."})
    assert desk["geo_refusal_message"] is None and web["kind"] == "web"
    status, changed, _ = call(client, "PATCH", f"/sales-channels/{desk['id']}", staff_headers,
                              {"kind": "phone", "geo_refusal_message": "Vente impossible depuis votre pays."})
    assert status == 200 and changed["kind"] == "phone" and changed["name"] == "Guichet"
    assert call(client, "GET", f"/sales-channels/{desk['id']}", staff_headers)[1] == changed
    assert [c["name"] for c in listing(client, staff_headers, "/sales-channels")] == ["Guichet",
                                                                                     "Billetterie en ligne"]
    assert history(client, staff_headers, "sales_channel", desk["id"]) == ["create", "update"]


def test_a_sales_channel_has_a_known_kind_and_a_bounded_message(client, staff_headers):
    for payload, field in [({"name": "Kiosque", "kind": "kiosk"}, "kind"),
                           ({"name": "Web", "kind": "web", "geo_refusal_message": "x" * 4001}, "geo_refusal_message"),
                           ({"kind": "web"}, "name")]:
        assert_problem(call(client, "POST", "/sales-channels", staff_headers, payload), 422, field)
    assert listing(client, staff_headers, "/sales-channels") == []
