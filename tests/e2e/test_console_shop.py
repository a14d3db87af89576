"""The shop settings screens in a real browser, used by keyboard: a point of sale's refusal
message typed in French and English, a geographic limit set on a performance (a show, then its
performance), then a buyer located in the zone refused by the shop's check, by the cart of the
public shop API and by the screen's trial, with the message staff typed; the limit changed,
the unknown-location rule set, the limit removed after its summary. Bad input shows each
field's error beside it and writes nothing. The API asks the staff role for all of it, so a
staff session does it; another venue's ids answer 404. axe-core checks each screen."""
from __future__ import annotations

import dataclasses

import requests

from chalicelib.services.catalog import catalog
from chalicelib.services.shop import geo_limits
from chalicelib.services.shop.geo_limits import GENERIC_MESSAGES, GeoRestricted, check_location
from devtools.geo_database import SAMPLE
from tests.e2e.console_helpers import (
    axe_violations,
    dynamodb_reads,
    form_value,
    screenshot,
    sign_in,
    staff_http,
    text_of,
)
from tests.orders_world import build_world

STRASBOURG, TARASCON, PARIS = SAMPLE["strasbourg"][0], SAMPLE["tarascon"][0], SAMPLE["paris"][0]
NO_POSTCODE = SAMPLE["france_no_postcode"][0]
MESSAGE_FR = "La vente en ligne de cette séance n'est pas disponible depuis votre connexion. Appelez le 04 78 00 00 00."
MESSAGE_EN = "Online sales for this performance are not available from your connection. Call +33 4 78 00 00 00."


def _refusal(actor, performance, address, channel, language="fr") -> str | None:
    """The message the shop's check refuses a buyer at ``address`` with, or None when allowed."""
    try:
        check_location(actor.tenant_id, performance.id, address, channel_id=channel.id, language=language)
    except GeoRestricted as refused:
        return refused.detail
    return None


def _value(browser, css: str) -> str:
    return browser._session_call("GET", f"/element/{browser.find(css)}/property/value")


def _limits(actor, performance) -> list[tuple]:
    return [(limit.country, limit.postcode_prefixes, limit.label) for limit in geo_limits.list_limits(
        actor, performance.id, limit=100, cursor=None).items]


def _cart_refusal(app_server, monkeypatch, actor, world, channel, address: str) -> requests.Response:
    """A spectator of the public shop adding the evening to an English cart from ``address`` (the
    local stack's header names the connection's address, as ``make dev`` allows)."""
    from chalicelib.handlers import http

    monkeypatch.setattr(http, "settings", dataclasses.replace(http.settings, stage="dev", local_source_ip_header=True))
    shop = f"{app_server.base}/shop/{actor.tenant_id}/carts"
    opened = requests.post(shop, json={"channel_id": channel.id, "language": "en"}, timeout=30)
    assert opened.status_code == 201, opened.text
    return requests.post(f"{shop}/{opened.json()['cart']}/lines", headers={"X-Local-Source-Ip": address}, timeout=30,
                         json={"performance_id": world.evening.id, "tariff_id": world.full_price.id,
                               "quota_id": world.evening_quota.id, "quantity": 1})


def test_a_limit_set_by_keyboard_refuses_a_buyer_there_with_the_message_staff_typed(
        app_server, console_browser, tenant, actor, geo_database, monkeypatch):
    world = build_world(actor)
    web = catalog.sales_channels.create(actor, {"name": "Billetterie en ligne", "kind": "web"})
    browser = console_browser
    sign_in(browser, app_server, tenant, next_path="/console/shop")  # staff, not admin: the API asks no more
    assert "Billetterie en ligne" in browser.text() and "(message générique)" in browser.text()
    assert axe_violations(browser) == []
    screenshot(browser, "shop")

    browser.press(f"a[href='/console/shop/channels/{web.id}']", "enter", navigates=True)
    assert GENERIC_MESSAGES["fr"] in browser.text()  # what an empty message falls back to
    browser.type("#geo_refusal_message", MESSAGE_FR)
    browser.type("#geo_refusal_message_en", MESSAGE_EN)
    browser.press("#save-messages", "enter", navigates=True)
    assert "Les messages sont enregistrés" in browser.text()
    assert axe_violations(browser) == []
    screenshot(browser, "shop-channel")
    saved = catalog.sales_channels.get(actor, web.id)
    assert (saved.geo_refusal_message, saved.geo_refusal_message_en) == (MESSAGE_FR, MESSAGE_EN)

    browser.open(f"{app_server.base}/console/shop")
    browser.press(f"a[href='/console/shop/shows/{world.show.id}']", "enter", navigates=True)
    assert "Cyrano" in browser.text() and len(browser.find_all("tbody th[scope=row] a")) == 2  # its two dates
    assert axe_violations(browser) == []
    browser.press(f"a[href='/console/shop/performances/{world.evening.id}']", "enter", navigates=True)
    assert "Aucune limite" in browser.text()
    browser.type("#country", "FR")
    browser.type("#postcode_prefixes", "67, 13150")
    browser.type("#label", "Arrêté préfectoral")
    browser.press("#add-limit", "enter", navigates=True)
    assert "La limite est ajoutée" in browser.text() and "67, 13150" in browser.text()
    assert axe_violations(browser) == []
    screenshot(browser, "shop-limits")
    assert _limits(actor, world.evening) == [("FR", ["67", "13150"], "Arrêté préfectoral")]

    # the shop's check, in both languages, from the zone and from outside it; the other date is not limited
    assert _refusal(actor, world.evening, STRASBOURG, web) == MESSAGE_FR
    assert _refusal(actor, world.evening, TARASCON, web, language="en") == MESSAGE_EN
    assert _refusal(actor, world.evening, PARIS, web) is None
    assert _refusal(actor, world.matinee, STRASBOURG, web) is None
    refused = _cart_refusal(app_server, monkeypatch, actor, world, web, STRASBOURG)
    assert refused.status_code == 403 and refused.json()["detail"] == MESSAGE_EN
    assert _cart_refusal(app_server, monkeypatch, actor, world, web, PARIS).status_code == 201

    browser.type("#address", STRASBOURG)
    browser._session_call("POST", f"/element/{browser.find('#channel_id')}/value",
                          {"text": "Billetterie en ligne"})  # a select takes the typed option's name
    browser.press("#try-address", "enter", navigates=True)
    result = browser.text()
    assert "Vente refusée" in result and "FR 67000" in result and "zone interdite" in result
    assert browser.find("#trial-message-fr") and MESSAGE_FR in result and MESSAGE_EN in result
    assert axe_violations(browser) == []
    screenshot(browser, "shop-trial")

    browser.press("#edit-1", "enter", navigates=True)
    assert _value(browser, "#country") == "FR"
    assert axe_violations(browser) == []
    browser.type("#postcode_prefixes", "67")
    browser.press("#save-limit", "enter", navigates=True)
    assert "La limite est modifiée" in browser.text()
    assert _limits(actor, world.evening) == [("FR", ["67"], "Arrêté préfectoral")]
    assert _refusal(actor, world.evening, TARASCON, web) is None and _refusal(actor, world.evening, STRASBOURG, web)

    assert _refusal(actor, world.evening, NO_POSTCODE, web) is None  # unknown place, allowed by default
    browser.press("#unknown-refuse", "space")
    browser.press("#save-policy", "enter", navigates=True)
    assert "La règle pour les lieux inconnus est enregistrée" in browser.text()
    assert geo_limits.get_policy(actor, world.evening.id).unknown_location == "refuse"
    assert _refusal(actor, world.evening, NO_POSTCODE, web) == MESSAGE_FR

    browser.press("#remove-1", "enter", navigates=True)
    assert "Ce qui va se passer" in browser.text() and "Arrêté préfectoral" in browser.text()
    assert len(_limits(actor, world.evening)) == 1  # the summary removes nothing
    assert axe_violations(browser) == []
    screenshot(browser, "shop-limit-remove")
    browser.press("#confirm-remove", "enter", navigates=True)
    assert "La limite est retirée" in browser.text() and "Aucune limite" in browser.text()
    assert _limits(actor, world.evening) == []
    assert _refusal(actor, world.evening, STRASBOURG, web) is None


def test_bad_input_shows_each_fields_error_and_writes_nothing(app_server, console_browser, tenant, actor,
                                                               geo_database):
    world = build_world(actor)
    web = catalog.sales_channels.create(actor, {"name": "Internet", "kind": "web",
                                                "geo_refusal_message": MESSAGE_FR})
    browser = console_browser
    sign_in(browser, app_server, tenant, next_path=f"/console/shop/performances/{world.evening.id}")
    browser.type("#country", "fr")  # the API's schema wants capitals
    browser.type("#postcode_prefixes", "75 011")
    browser.press("#add-limit", "enter", navigates=True)
    assert "Saisie à corriger : rien n'a été enregistré" in browser.text()
    assert "ISO 3166-1" in text_of(browser, "#country-error") and browser.attribute("#country", "aria-invalid") == "true"
    assert "pas un code pays" in text_of(browser, "#country-error")  # the schema's rule, said in French
    assert "« 75 011 »" in text_of(browser, "#postcode_prefixes-error")
    assert _value(browser, "#postcode_prefixes") == "75 011"  # kept as typed, to correct
    assert axe_violations(browser) == []
    screenshot(browser, "shop-limits-errors")
    assert _limits(actor, world.evening) == []

    browser.open(f"{app_server.base}/console/shop/performances/{world.evening.id}")
    browser.type("#country", "FR")
    browser.type("#postcode_prefixes", "67\nSW1A")  # letters in a French postcode: the service's rule
    browser.press("#add-limit", "enter", navigates=True)
    assert "« SW1A »" in text_of(browser, "#postcode_prefixes-error") and not browser.find_all("#country-error")
    assert _limits(actor, world.evening) == []

    limit = geo_limits.create_limit(actor, world.evening.id, {"country": "GB", "postcode_prefixes": ["SW1A"]})
    browser.open(f"{app_server.base}/console/shop/performances/{world.evening.id}/limits/{limit.id}")
    browser.type("#country", "FR")  # the old prefixes do not suit the new country
    browser.press("#save-limit", "enter", navigates=True)
    assert "« SW1A »" in text_of(browser, "#postcode_prefixes-error")
    assert axe_violations(browser) == []
    assert _limits(actor, world.evening) == [("GB", ["SW1A"], None)]

    browser.open(f"{app_server.base}/console/shop/performances/{world.evening.id}")
    browser.type("#address", "999.1.2.3")
    browser.press("#try-address", "enter", navigates=True)
    assert "IPv4" in text_of(browser, "#address-error") and not browser.find_all("#trial-result")

    http = staff_http(app_server, tenant)
    url = f"{app_server.base}/console/shop/channels/{web.id}"
    answer = http.post(url, data={"form": form_value(http, url), "geo_refusal_message": "x" * 4001,
                                  "geo_refusal_message_en": MESSAGE_EN}, timeout=30)
    assert answer.status_code == 422 and 'id="geo_refusal_message-error"' in answer.text
    assert "4000 caractères au plus" in answer.text  # the schema's refusal, said in French
    kept = catalog.sales_channels.get(actor, web.id)
    assert (kept.geo_refusal_message, kept.geo_refusal_message_en) == (MESSAGE_FR, None)


def _hidden(page: str, name: str) -> str:
    import re

    return re.search(rf'name="{name}" value="([^"]*)"', page).group(1)


def test_a_limit_changed_by_someone_else_meanwhile_is_not_overwritten_by_a_stale_form(app_server, tenant, actor):
    """Two staff on one limit: the form saved last was shown before the other's change, so it
    is refused (409, nothing written) with the typed values kept and the limit as it now is;
    saved again from that page, it replaces it. A removal confirmed from a stale summary is
    refused the same way."""
    world = build_world(actor)
    limit = geo_limits.create_limit(actor, world.evening.id, {"country": "FR", "postcode_prefixes": ["69"]})
    http = staff_http(app_server, tenant)
    url = f"{app_server.base}/console/shop/performances/{world.evening.id}/limits/{limit.id}"
    shown = http.get(url, timeout=30).text
    geo_limits.change_limit(actor, world.evening.id, limit.id, {"postcode_prefixes": ["69", "38"], "label": "Rhône"})

    typed = {"form": _hidden(shown, "form"), "version": _hidden(shown, "version"), "country": "FR",
             "postcode_prefixes": "69, 01", "label": ""}
    refused = http.post(url, data=typed, timeout=30, allow_redirects=False)
    assert refused.status_code == 409
    assert "a modifié cette limite" in refused.text and "FR 69, 38 « Rhône »" in refused.text
    assert '>69, 01</textarea>' in refused.text  # what was typed, kept to save again
    assert _limits(actor, world.evening) == [("FR", ["69", "38"], "Rhône")]
    again = http.post(url, data={**typed, "form": _hidden(refused.text, "form"),
                                 "version": _hidden(refused.text, "version")}, timeout=30, allow_redirects=False)
    assert again.status_code == 303
    assert _limits(actor, world.evening) == [("FR", ["69", "01"], None)]

    remove = f"{url}/remove"
    summary = http.get(remove, timeout=30).text
    geo_limits.change_limit(actor, world.evening.id, limit.id, {"postcode_prefixes": ["75"]})
    stale = http.post(remove, data={"form": _hidden(summary, "form"), "version": _hidden(summary, "version")},
                      timeout=30, allow_redirects=False)
    assert stale.status_code == 409 and "a changé entre-temps" in stale.text and "<dd>75</dd>" in stale.text
    assert _limits(actor, world.evening) == [("FR", ["75"], None)]
    removed = http.post(remove, data={"form": _hidden(stale.text, "form"), "version": _hidden(stale.text, "version")},
                        timeout=30, allow_redirects=False)
    assert removed.status_code == 303 and _limits(actor, world.evening) == []


def test_the_api_roles_and_another_venues_ids(app_server, console_browser, tenant, actor):
    from chalicelib.handlers.http import ROUTE_DOCS
    from tests.conftest import new_tenant_id

    # the API lets staff do every shop setting, so the console does too (no admin-only button here)
    areas = ("/performances/{performance_id}/geo-", "/sales-channels")
    assert {doc.role for doc in ROUTE_DOCS if doc.path.startswith(areas)} == {"staff"}
    world = build_world(actor)
    web = catalog.sales_channels.create(actor, {"name": "Internet", "kind": "web"})
    limit = geo_limits.create_limit(actor, world.evening.id, {"country": "BE", "label": "Voisins"})
    performance = f"/console/shop/performances/{world.evening.id}"

    stranger = staff_http(app_server, new_tenant_id(), role="admin")
    for path in (f"/console/shop/shows/{world.show.id}", performance, f"{performance}/limits/{limit.id}",
                 f"{performance}/limits/{limit.id}/remove", f"/console/shop/channels/{web.id}",
                 f"{performance}/trial?address={PARIS}"):
        page = stranger.get(app_server.base + path, timeout=30)
        assert page.status_code == 404 and "Voisins" not in page.text, path
    forged = form_value(stranger, f"{app_server.base}/console/shop")
    for path, fields in ((f"{performance}/limits", {"country": "FR"}), (f"{performance}/limits/{limit.id}/remove", {}),
                         (f"{performance}/limits/{limit.id}", {"country": "FR"}),
                         (f"{performance}/policy", {"unknown_location": "refuse"}),
                         (f"/console/shop/channels/{web.id}", {"geo_refusal_message": "piraté"})):
        answer = stranger.post(app_server.base + path, data={"form": forged, **fields}, timeout=30,
                               allow_redirects=False)
        assert answer.status_code == 404, path
    assert _limits(actor, world.evening) == [("BE", [], "Voisins")]
    assert geo_limits.get_policy(actor, world.evening.id).unknown_location == "allow"
    assert catalog.sales_channels.get(actor, web.id).geo_refusal_message is None

    english = staff_http(app_server, tenant).get(f"{app_server.base}{performance}?lang=en", timeout=30).text
    assert "Add the limit" in english and "Try an IP address" in english and "Voisins" in english
    assert "Ajouter" not in english and "Essayer" not in english

    signed_out = requests.get(f"{app_server.base}{performance}", allow_redirects=False, timeout=30)
    assert signed_out.status_code == 303 and "/console/sign-in" in signed_out.headers["Location"]


def test_the_shop_screens_read_one_page_never_the_table(app_server, tenant, actor, monkeypatch):
    from chalicelib.handlers.console.frame import PAGE_SIZE

    world = build_world(actor)
    for number in range(PAGE_SIZE + 5):
        catalog.sales_channels.create(actor, {"name": f"Guichet {number}", "kind": "box_office"})
        catalog.products.create(actor, {"kind": "show", "name": f"Spectacle {number}", "family_id": world.show.family_id,
                                        "season_id": world.show.season_id})
        catalog.create_performance(actor, {"product_id": world.show.id, "venue_id": world.venue.id,
                                           "starts_at": world.evening.starts_at.replace(day=1 + number % 28,
                                                                                        month=1 + number // 28)})
    http = staff_http(app_server, tenant)
    home = http.get(f"{app_server.base}/console/shop", timeout=30)
    next_shows = home.text.split('id="next-shows"')[0].rsplit('href="', 1)[1].split('"')[0].replace("&amp;", "&")
    next_channels = home.text.split('rel="next"')[0].rsplit('href="', 1)[1].split('"')[0].replace("&amp;", "&")
    for path, rows in (("/console/shop", 2 * PAGE_SIZE), (f"/console/shop/shows/{world.show.id}", PAGE_SIZE),
                       (next_shows, PAGE_SIZE + 7), (next_channels, 5 + PAGE_SIZE)):  # the second pages: 7 shows, 5
        reads = dynamodb_reads(monkeypatch)
        page = http.get(app_server.base + path, timeout=30)
        assert page.status_code == 200, path
        assert page.text.count("<tr>") - page.text.count("<thead>") == rows, path
        assert "Scan" not in reads["operations"]
        assert reads["items"] <= 2 * PAGE_SIZE + 3 and reads["calls"] <= 4, (path, reads)
        monkeypatch.undo()
