"""The customer record's screens in a real browser, used by keyboard as a box office would: a
customer found by a phone typed in another writing, their bookings sorted by total both ways and
paged; an edit refused beside its field then one made (and seen in the record's changes); a
duplicate found and merged after its summary (its orders now the kept record's, the merged one
pointing to it); their personal data exported as JSON and the person erased by an administrator
(staff refused), after which search no longer finds them. axe-core checks each screen."""
from __future__ import annotations

import re

from chalicelib.services.contacts import contacts, mailing_lists
from chalicelib.services.customers import record
from chalicelib.services.money import customer_money
from chalicelib.services.orders import orders
from chalicelib.services.shared.actors import Actor
from tests.e2e.console_helpers import axe_violations, choose_by_typing, form_value, screenshot, sign_in, staff_http
from tests.job_helpers import drive, ensure_jobs_queue
from tests.money_helpers import paid_cheque_order
from tests.orders_world import build_world, draft, line

AGNES = {"first_name": "Agnès", "last_name": "Roux", "emails": [{"address": "agnes.roux@exemple.fr"}],
         "phones": [{"number": "+33612345678"}],  # as the API keeps it
         "addresses": [{"line1": "3 rue Mercière", "postcode": "69002", "city": "Lyon"}]}


def _buyer(contact) -> dict:
    return {"first_name": contact.first_name, "last_name": contact.last_name,
            "email": contact.emails[0].address if contact.emails else None, "contact_id": contact.id}


def _cells(browser, css: str) -> list[str]:
    return [browser._session_call("GET", f"/element/{cell}/text") for cell in browser.find_all(css)]


def _euros(text: str) -> int:
    return int(re.sub(r"[^0-9]", "", text))


def _booked_orders(actor, world, contact, count: int) -> list:
    """``count`` orders of one to three tickets (so their totals differ) bought by ``contact``."""
    placed = []
    for index in range(count):
        lines = [line(world, tariff=world.reduced if index % 2 else None) for _ in range(1 + index % 3)]
        order, _ = orders.place_order(actor, draft(world, *lines, buyer=_buyer(contact)))
        placed.append(order)
    return placed


def test_a_customer_found_by_phone_and_their_bookings_sorted_by_total_both_ways_and_paged(
        app_server, console_browser, tenant, actor):
    from chalicelib.handlers.console.frame import PAGE_SIZE

    world = build_world(actor, capacity=200)
    agnes = contacts.create_contact(actor, AGNES)
    contacts.create_contact(actor, {"first_name": "Agnès", "last_name": "Rousseau"})
    placed = _booked_orders(actor, world, agnes, PAGE_SIZE + 3)
    browser = console_browser
    sign_in(browser, app_server, tenant, next_path="/console/customers")
    browser.type("#q", "06 12 34 56 78")  # stored as +33612345678
    browser.press("#q", "enter", navigates=True)
    assert _cells(browser, "tbody th") == ["Agnès Roux"]
    browser.press(f"a[href='/console/customers/{agnes.id}']", "enter", navigates=True)
    assert browser.attribute("#bookings th:nth-child(2)", "aria-sort") == "descending"  # newest first
    assert axe_violations(browser) == []
    screenshot(browser, "customer")
    browser.press("#bookings-next", "enter", navigates=True)  # newest first, the second page
    assert _cells(browser, "#bookings tbody th") == [str(order.number) for order in reversed(placed[:3])]

    browser.press("#sort-total", "enter", navigates=True)
    assert browser.attribute("#bookings thead th:nth-child(6)", "aria-sort") == "ascending"
    assert browser.attribute("#bookings thead th:nth-child(2)", "aria-sort") is None
    totals = [_euros(text) for text in _cells(browser, "#bookings tbody td:nth-child(6)")]
    every = sorted(int(order.total_cents) for order in placed)
    assert len(totals) == PAGE_SIZE and totals == every[:PAGE_SIZE]
    browser.press("#bookings-next", "enter", navigates=True)  # the next page keeps the sort
    rest = [_euros(text) for text in _cells(browser, "#bookings tbody td:nth-child(6)")]
    assert rest == every[PAGE_SIZE:] and not browser.find_all("#bookings-next")
    assert axe_violations(browser) == []

    browser.press("#sort-total", "enter", navigates=True)  # the sorted column's link turns its direction
    assert browser.attribute("#bookings thead th:nth-child(6)", "aria-sort") == "descending"
    totals = [_euros(text) for text in _cells(browser, "#bookings tbody td:nth-child(6)")]
    assert totals == sorted(every, reverse=True)[:PAGE_SIZE]
    numbers = _cells(browser, "#bookings tbody th")
    assert numbers == [str(row.entry.number) for row in record.bookings(
        actor, agnes.id, sort="total", descending=True, limit=PAGE_SIZE, cursor=None).items]

    browser.open(f"{app_server.base}/console/customers/{agnes.id}?sort=bogus")
    assert "Saisie à corriger" in browser.text() and "sort" in browser.text()  # the API's own schema says no


def test_an_edit_refused_beside_its_field_then_made_and_seen_in_the_changes(app_server, console_browser, tenant,
                                                                           actor):
    agnes = contacts.create_contact(actor, AGNES)
    contacts.record_system_fields(Actor.system(tenant, "subscriptions"), agnes.id, {"subscriber_number": "ABO-7781"})
    mails = contacts.get_contact(actor, agnes.id)
    browser = console_browser
    sign_in(browser, app_server, tenant, next_path=f"/console/customers/{agnes.id}")
    browser.press("#edit", "enter", navigates=True)
    assert "ABO-7781" in browser.text() and not browser.find_all("input[name^='system_fields']")  # read-only
    assert axe_violations(browser) == []
    screenshot(browser, "customer-edit")

    browser.type("#first_name", "Agnès-Marie")
    browser.type("#phones-0-number", "06 12 34")
    browser.press("#save", "enter", navigates=True)
    assert browser.attribute("#phones-0-number", "aria-invalid") == "true"
    assert "06 12 34 56 78" in browser.text()  # the error says which writing is expected, beside the field
    assert browser.attribute("#phones-0-number", "value") == "06 12 34"  # what was typed is kept
    assert browser.attribute("#first_name", "value") == "Agnès-Marie"
    assert axe_violations(browser) == []
    unchanged = contacts.get_contact(actor, agnes.id)
    assert unchanged.version == mails.version and unchanged.first_name == "Agnès"  # nothing written

    browser.type("#phones-0-number", "07.98.76.54.32")
    browser.press("#emails-0-newsletter_consent", "space")
    browser.type("#phones-1-number", "04 78 00 00 01")  # the blank row adds a phone
    meanwhile = contacts.update_contact(actor, agnes.id, {"criteria": {"Placement": "PMR"}})  # another desk
    browser.press("#save", "enter", navigates=True)
    assert "changed since it was read" in browser.text()  # the form was read before: nothing written
    assert browser.attribute("#phones-1-number", "value") == "04 78 00 00 01"
    assert contacts.get_contact(actor, agnes.id).version == meanwhile.version
    browser.press("#save", "enter", navigates=True)  # sent again, knowingly, over the newer record
    assert "La fiche est modifiée." in browser.text()
    edited = contacts.get_contact(actor, agnes.id)
    assert edited.first_name == "Agnès-Marie"
    assert [phone.number for phone in edited.phones] == ["+33798765432", "+33478000001"]
    assert edited.emails[0].newsletter_consent and edited.system_fields.as_dict() == {"subscriber_number": "ABO-7781"}
    assert edited.criteria.as_dict() == {"Placement": "PMR"}  # what the other desk wrote outside the form stays
    changes = _cells(browser, "section[aria-labelledby='changes-title'] tbody tr")
    assert any("Modification" in row and "prénom" in row and "téléphones" in row and "guichet-1" in row
               for row in changes), changes
    assert "ABO-7781" in browser.text()

    http = staff_http(app_server, tenant)  # a field the form does not have: the API's schema refuses it
    edit = f"{app_server.base}/console/customers/{agnes.id}/edit"
    answer = http.post(edit, data={"form": form_value(http, edit), "last_name": "Roux", "language": "fr",
                                   "system_fields.subscriber_number": "ABO-0000"}, timeout=30)
    assert answer.status_code == 422 and "system_fields" in answer.text
    assert contacts.get_contact(actor, agnes.id).version == edited.version


def test_criteria_and_mailing_lists_changed_from_the_record_by_keyboard(app_server, console_browser, tenant,
                                                                        actor):
    """Staff criteria edited on the record's form (one changed, one removed, one added, a nameless
    one refused beside its row), a criterion another desk added meanwhile kept; then the customer
    added to a mailing list and removed from it, each with how the consent was given, the
    membership keeping both as its proof."""
    friends = mailing_lists.lists.create(actor, {"name": "Amis du théâtre"})
    agnes = contacts.create_contact(actor, {**AGNES, "criteria": {"VIP": "oui", "Placement": "PMR"}})
    browser = console_browser
    sign_in(browser, app_server, tenant, next_path=f"/console/customers/{agnes.id}/edit")
    assert browser.attribute("#criteria-0-name", "value") == "Placement"  # in name order
    browser.type("#criteria-2-value", "sans nom")
    browser.press("#save", "enter", navigates=True)
    assert browser.attribute("#criteria-2-name", "aria-invalid") == "true" and "au moins 1 caractère" in browser.text()
    assert contacts.get_contact(actor, agnes.id).criteria.as_dict() == {"VIP": "oui", "Placement": "PMR"}

    browser.type("#criteria-0-name", "")
    browser.type("#criteria-0-value", "")  # Placement removed
    browser.type("#criteria-1-value", "non")  # VIP changed
    browser.type("#criteria-2-name", "Abonnée")
    browser.type("#criteria-2-value", "2024")
    contacts.update_contact(actor, agnes.id, {"criteria": {"Allergie": "arachide"}})  # another desk, meanwhile
    browser.press("#save", "enter", navigates=True)
    assert "changed since it was read" in browser.text()
    browser.press("#save", "enter", navigates=True)  # sent again: it changes only what the form showed
    assert "La fiche est modifiée." in browser.text()
    assert contacts.get_contact(actor, agnes.id).criteria.as_dict() == {"VIP": "non", "Abonnée": "2024",
                                                                        "Allergie": "arachide"}

    choose_by_typing(browser, "#join-list", "Amis")
    browser.type("#join-how", "par téléphone")
    browser.press("#join", "enter", navigates=True)
    assert "Le client est inscrit à la liste" in browser.text()
    assert axe_violations(browser) == []
    browser.type("#leave-how-1", "courrier signé")
    browser.press("#leave-1", "enter", navigates=True)
    assert "Le client est désinscrit de la liste" in browser.text()
    [membership] = mailing_lists.memberships(actor, agnes.id)
    assert membership.list_id == friends.id and not membership.member
    assert [(event.action, event.how, event.by) for event in membership.history] == [
        ("joined", "par téléphone", "guichet-1"), ("left", "courrier signé", "guichet-1")]
    assert browser.find_all("#join-list")  # offered again


def test_a_duplicate_found_and_merged_after_its_summary(app_server, console_browser, tenant, actor, pump):
    world = build_world(actor)
    mailing_lists.lists.create(actor, {"name": "Lettre de la saison", "newsletter": True})
    kept = contacts.create_contact(actor, AGNES)
    other = contacts.create_contact(actor, {"first_name": "Agnes", "last_name": "Roux",
                                            "emails": [{"address": "a.roux@exemple.org", "newsletter_consent": True}],
                                            "criteria": {"Abonnée fidèle": "oui"}})
    kept_order = paid_cheque_order(actor, world, buyer=_buyer(kept))
    moved = [paid_cheque_order(actor, world, line(world), line(world), buyer=_buyer(other)) for _ in range(2)]
    credit = customer_money.credit_tickets(actor, moved[0].id, [1])
    ensure_jobs_queue()
    browser = console_browser
    sign_in(browser, app_server, tenant, next_path=f"/console/customers/{kept.id}")
    browser.press("#merge", "enter", navigates=True)
    browser.type("#q", "a.roux@exemple.org")
    browser.press("#q", "enter", navigates=True)
    assert axe_violations(browser) == []
    browser.press(f"#pick-{other.id}", "enter", navigates=True)
    summary = browser.text()
    assert "Commandes déplacées : 2, billets : 4" in summary
    assert f"Avoir déplacé : {credit.amount_cents // 100},00" in summary
    assert "a.roux@exemple.org (accepte la lettre)" in summary and "Abonnée fidèle = oui" in summary
    assert "Fiche gardée : Agnès Roux" in summary and "(Lettre de la saison : inscrit)" in summary
    assert contacts.get_contact(actor, other.id).merged_into is None  # nothing done before the confirmation
    assert axe_violations(browser) == []
    screenshot(browser, "customer-merge")

    browser.press("#confirm-merge", "enter", navigates=True)
    job_id = browser.current_url().rsplit("/", 1)[1]
    assert drive(pump, tenant, job_id).status == "succeeded"
    held = record.bookings(actor, kept.id, sort="date", descending=True, limit=10, cursor=None).items
    assert sorted(row.entry.order_id for row in held) == sorted([kept_order.id, *(order.id for order in moved)])
    assert customer_money.credit_balance(actor, kept.id) == credit.amount_cents
    browser.open(f"{app_server.base}/console/customers/{other.id}")
    assert "Cette fiche a été fusionnée dans la fiche de Agnès Roux" in browser.text()
    assert browser.attribute("#merged-into", "href").endswith(f"/console/customers/{kept.id}")
    assert not browser.find_all("#edit")  # a merged record takes no edit
    browser.press("#merged-into", "enter", navigates=True)
    assert "a.roux@exemple.org" in browser.text() and "Lettre de la saison : inscrit" in browser.text()
    assert axe_violations(browser) == []


def test_personal_data_exported_and_the_person_erased_by_an_administrator_only(
        app_server, console_browser, tenant, actor, pump):
    world = build_world(actor)
    agnes = contacts.create_contact(actor, AGNES)
    order = paid_cheque_order(actor, world, buyer=_buyer(agnes))
    ensure_jobs_queue()
    record_url = f"{app_server.base}/console/customers/{agnes.id}"

    staff = staff_http(app_server, tenant)
    assert 'id="erase"' not in staff.get(record_url, timeout=30).text  # not offered to staff...
    assert staff.get(f"{record_url}/personal-data", timeout=30).status_code == 403  # ...nor served
    assert staff.get(f"{record_url}/erase", timeout=30).status_code == 403
    refused = staff.post(f"{record_url}/erase", data={"form": form_value(staff, record_url), "reason": "asked"},
                         timeout=30)
    assert refused.status_code == 403 and contacts.get_contact(actor, agnes.id).erasure_started_at is None

    admin = staff_http(app_server, tenant, role="admin", subject="direction")
    exported = admin.get(f"{record_url}/personal-data", timeout=30)
    assert exported.status_code == 200 and exported.headers["Content-Type"].startswith("application/json")
    assert "attachment" in exported.headers["Content-Disposition"]
    held = exported.json()
    assert held["contact"]["last_name"] == "Roux" and [o["order"]["id"] for o in held["orders"]] == [order.id]

    browser = console_browser
    sign_in(browser, app_server, tenant, role="admin", subject="direction", next_path=f"/console/customers/{agnes.id}")
    assert browser.attribute("#export", "href").endswith(f"/console/customers/{agnes.id}/personal-data")
    browser.press("#erase", "enter", navigates=True)
    assert "C'est irréversible." in browser.text() and "Les pièces comptables restent" in browser.text()
    assert axe_violations(browser) == []
    screenshot(browser, "customer-erase")
    browser.type("#reason", "x")
    browser.press("#confirm-erase", "enter", navigates=True)
    assert browser.attribute("#reason", "aria-invalid") == "true"  # too short: said beside it, nothing done
    assert contacts.get_contact(actor, agnes.id).erasure_started_at is None
    browser.type("#reason", "Demande écrite du 3 décembre 2026")
    browser.press("#confirm-erase", "enter", navigates=True)
    job_id = browser.current_url().rsplit("/", 1)[1]
    assert drive(pump, tenant, job_id).status == "succeeded"

    browser.open(f"{app_server.base}/console/customers/{agnes.id}")
    text = browser.text()
    assert "Effacé" in text and "Agnès" not in text and "Mercière" not in text and "agnes.roux" not in text
    assert f"{order.number}" in text  # the accounting stays
    assert "Cette personne a été effacée à sa demande" in text and not browser.find_all("#edit, #merge, #erase")
    browser.open(f"{app_server.base}/console/customers?q=06+12+34+56+78")
    assert _cells(browser, "tbody th") == [] and "Aucun client ne correspond." in browser.text()
    assert axe_violations(browser) == []


def test_the_credit_history_with_its_running_balance_and_the_changes_paged(app_server, console_browser, tenant,
                                                                           actor):
    from chalicelib.handlers.console.frame import PAGE_SIZE

    world = build_world(actor)
    agnes = contacts.create_contact(actor, AGNES)
    order = paid_cheque_order(actor, world, buyer=_buyer(agnes))
    issued = customer_money.credit_tickets(actor, order.id, [1]).amount_cents
    for number in range(PAGE_SIZE + 2):  # 27 uses of 1 € each: 28 entries, 28 changes
        customer_money.use_credit(actor, agnes.id, 100, origin_type="staff", origin_id=f"geste-{number}")
    browser = console_browser
    sign_in(browser, app_server, tenant, next_path=f"/console/customers/{agnes.id}")
    browser.press("#credit-more", "enter", navigates=True)
    balances = [_euros(text) for text in _cells(browser, "tbody td:nth-child(5)")]
    assert balances == [issued - 100 * (PAGE_SIZE + 2 - row) for row in range(PAGE_SIZE)]  # newest first
    assert axe_violations(browser) == []
    browser.press("#next", "enter", navigates=True)
    assert [_euros(text) for text in _cells(browser, "tbody td:nth-child(5)")] == [issued - 200, issued - 100, issued], browser.text()
    assert not browser.find_all("#next")
    browser.open(f"{app_server.base}/console/customers/{agnes.id}")
    browser.press("#changes-more", "enter", navigates=True)
    rows = _cells(browser, "tbody tr")
    assert len(rows) == PAGE_SIZE and "Création" in rows[0] and "Avoir utilisé" in rows[1]
    assert axe_violations(browser) == []


def test_every_customer_screen_in_english(app_server, tenant, actor):
    agnes = contacts.create_contact(actor, AGNES)
    other = contacts.create_contact(actor, {"last_name": "Roux", "first_name": "Agnes"})
    admin = staff_http(app_server, tenant, role="admin", subject="direction")
    base = f"{app_server.base}/console/customers/{agnes.id}"
    expected = {"": "Edit the record", "/edit": "Filled by the system (not editable)",
                "/merge?q=roux": "Other records found for", f"/merge/{other.id}": "What will happen",
                "/erase": "This cannot be undone.", "/credit": "Credit entries", "/donations": "Donations",
                "/changes": "Who changed what in the record"}
    for path, words in expected.items():
        page = admin.get(base + path + ("&" if "?" in path else "?") + "lang=en", timeout=30)
        assert page.status_code == 200 and words in page.text, path
        assert 'lang="en"' in page.text and "Modifier la fiche" not in page.text, path


def test_a_segment_defined_by_keyboard_refused_beside_its_rule_then_its_members_exported(
        app_server, console_browser, tenant, actor, pump):
    """A segment of the Lyon customers who hold the VIP criterion and are not subscribers: a rule
    whose value is wrong is refused beside its row (nothing saved), then the segment saved, named
    on a member's record, and its members exported as a CSV file for Excel."""
    import csv
    import io

    import requests

    from chalicelib.services.customers import segments

    vip = contacts.create_contact(actor, {**AGNES, "criteria": {"VIP": "oui"}})
    contacts.create_contact(actor, {"last_name": "Autre", "criteria": {"VIP": "oui"},
                                    "addresses": [{"line1": "1 rue de Rivoli", "postcode": "75001", "city": "Paris"}]})
    ensure_jobs_queue()
    browser = console_browser
    sign_in(browser, app_server, tenant, next_path="/console/customers")
    browser.press("#segments", "enter", navigates=True)
    browser.press("#new-segment", "enter", navigates=True)
    browser.type("#name", "VIP lyonnais")
    choose_by_typing(browser, "#rules-0-kind", "a le crit")
    browser.type("#rules-0-criterion_name", "VIP")
    browser.type("#rules-0-criterion_value", "oui")
    choose_by_typing(browser, "#rules-1-kind", "a un code")
    browser.type("#rules-1-prefix", "69-")
    choose_by_typing(browser, "#rules-2-kind", "est abonn")
    browser.press("#rules-2-negated", "space")
    choose_by_typing(browser, "#rules-3-kind", "a donn")
    browser.type("#rules-3-amount", "douze")
    browser.press("#save-segment", "enter", navigates=True)
    assert browser.attribute("#rules-1-prefix", "aria-invalid") == "true"  # "69-" is not a postcode's beginning
    assert browser.attribute("#rules-3-amount", "aria-invalid") == "true"  # not an amount: beside its own row
    assert segments.segments.list(actor, limit=10, cursor=None).items == []
    assert browser.attribute("#rules-0-criterion_name", "value") == "VIP"  # what was typed is kept
    browser.type("#rules-1-prefix", "69")
    choose_by_typing(browser, "#rules-3-kind", "(aucune)")  # that rule left out after all
    browser.press("#save-segment", "enter", navigates=True)
    assert "Le segment est enregistré." in browser.text()
    [segment] = segments.segments.list(actor, limit=10, cursor=None).items
    assert segment.rules == [{"kind": "criterion", "negated": False, "name": "VIP", "value": "oui"},
                             {"kind": "postcode_prefix", "negated": False, "prefix": "69"},
                             {"kind": "subscriber", "negated": True}]
    assert axe_violations(browser) == []
    screenshot(browser, "segment")
    browser.open(f"{app_server.base}/console/customers/{vip.id}")
    assert "VIP lyonnais" in browser.text()  # the member's record names it

    stale = staff_http(app_server, tenant)  # a form read before another desk renamed the segment
    page = f"{app_server.base}/console/segments/{segment.id}"
    shown = stale.get(page, timeout=30).text
    segments.segments.update(actor, segment.id, {"name": "VIP de Lyon"})
    fields = {name: re.search(rf'name="{name}" value="([^"]*)"', shown).group(1) for name in ("form", "version")}
    refused = stale.post(page, timeout=30, data={**fields, "name": "VIP (ancien nom)", "rules.0.kind": "criterion",
                                                 "rules.0.criterion_name": "VIP", "rules.1.kind": "postcode_prefix",
                                                 "rules.1.prefix": "69"})
    assert refused.status_code == 409 and "quelqu" in refused.text
    assert segments.segments.get(actor, segment.id).name == "VIP de Lyon"  # the other desk's change stands

    browser.open(f"{app_server.base}/console/segments/{segment.id}")
    browser.press("#export-members", "enter", navigates=True)
    job_id = browser.current_url().rsplit("/", 1)[1]
    drive(pump, tenant, job_id)
    browser.open(browser.current_url())
    link = staff_http(app_server, tenant).get(f"{app_server.base}/console/jobs/{job_id}/file", allow_redirects=False,
                                              timeout=30)
    assert browser.find_all("#download") and link.status_code == 303
    rows = list(csv.reader(io.StringIO(requests.get(link.headers["Location"], timeout=30).content.decode("utf-8-sig")),
                           delimiter=";"))
    assert len(rows) == 2 and "Roux" in rows[1]  # the header and the one Lyon VIP
