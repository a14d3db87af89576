"""The options and reservations follow-up screen in a real browser, used by keyboard as a box
office would: expired options found by their deadline, a line kept, the release previewed then
confirmed (the places back on sale in the services, the locked line still held); a reminder sent
to a ticked line (the mail recorded), then to every matching line (a job); a deadline extended;
the policy read by staff and changed by an admin only. axe-core checks each screen; the list reads
one page of lines, never the table."""
from __future__ import annotations

from datetime import datetime, timedelta
from urllib.parse import urlencode
from zoneinfo import ZoneInfo

from chalicelib.adapters import clock
from chalicelib.models.catalog import Quota
from chalicelib.services.mail import notifications
from chalicelib.services.options import marks, policy
from chalicelib.services.orders import follow_up, orders
from tests.e2e.console_helpers import axe_violations, dynamodb_reads, form_value, screenshot, sign_in, staff_http
from tests.job_helpers import drive, ensure_jobs_queue
from tests.options_helpers import hold
from tests.orders_world import build_world, draft, line

PARIS = ZoneInfo("Europe/Paris")


def _buyer(first: str, last: str) -> dict:
    return {"first_name": first, "last_name": last, "email": f"{last.lower()}@exemple.fr"}


def _remaining(quota) -> int:
    return int(Quota.get(quota.tenant_id, quota.id, consistent_read=True).remaining)


def _reminders_sent(actor, order_id) -> int:
    return sum(1 for mail in notifications.of_entity(actor, "order", order_id, limit=20, cursor=None).items
               if mail.template == "options_reminder")


def _list_address(world, before) -> str:
    return "/console/options?" + urlencode({"kind": "option", "deadline_on_or_before": before.isoformat(),
                                            "season_id": world.show.season_id, "family_id": world.show.family_id})


def _us_date(day) -> str:
    """A day as typed in the browser's date field (the headless browser's locale is en-US)."""
    return day.strftime("%m%d%Y")


def test_expired_options_released_by_keyboard_after_their_preview(app_server, console_browser, tenant, actor):
    world = build_world(actor, capacity=10)
    expired = clock.now() - timedelta(days=9)
    bosche = hold(actor, world, line(world), line(world, world.reduced), deadline=expired,
                  buyer=_buyer("Lennart", "Bosche"))
    roux = hold(actor, world, line(world), deadline=expired, buyer=_buyer("Agnès", "Roux"))
    vip = hold(actor, world, line(world), deadline=expired, buyer=_buyer("Paul", "Garnier"))
    later = hold(actor, world, line(world), days=10, buyer=_buyer("Léa", "Morel"))
    marks.lock(actor, [f"{vip.id}-001"], "invité du directeur")
    assert _remaining(world.evening_quota) == 5

    browser = console_browser
    sign_in(browser, app_server, tenant, next_path="/console/options")
    assert axe_violations(browser) == []
    assert not browser.find_all("#matching")  # no search yet: the filters only
    seven_days_ago = (clock.now() - timedelta(days=7)).astimezone(PARIS).date()
    browser.type("#deadline_on_or_before", _us_date(seven_days_ago))  # D-7, by keyboard
    browser.press("#search", "enter", navigates=True)  # kind, season and family as offered: option, the only ones
    text = browser.text()
    assert "4 ligne(s) correspondent" in text and "(4 place(s))" in text
    assert "Bosche" in text and "Roux" in text and "Garnier" in text and "Morel" not in text
    assert "invité du directeur" in text
    assert axe_violations(browser) == []
    browser._session_call("POST", "/execute/sync", {"script": "document.getElementById('matching').scrollIntoView()",
                                                    "args": []})  # the picture shows the lines, below the filters
    screenshot(browser, "options")

    browser.press(f"#pick-{roux.id}-001", "space")
    browser.press("#mark-keep", "enter", navigates=True)
    assert "Lignes marquées « ne pas libérer »" in browser.text() and "Faits : 1" in browser.text()
    assert [row.mark for row in follow_up.rows_of(tenant, roux.id)] == ["keep"]
    browser.press(f"#pick-{roux.id}-001", "space")
    browser.press("#mark-release", "enter", navigates=True)  # changed their mind: back to release
    assert [row.mark for row in follow_up.rows_of(tenant, roux.id)] == ["release"]

    browser.press("#select-all", "space")  # every line shown, the locked one too
    browser.press("#release", "enter", navigates=True)
    assert "Ce qui va se passer" in browser.text()
    assert browser._session_call("GET", f"/element/{browser.find('#preview-lines')}/text") == "3"
    assert browser._session_call("GET", f"/element/{browser.find('#preview-places')}/text") == "3"
    assert browser._session_call("GET", f"/element/{browser.find('#preview-orders')}/text") == "2"
    assert "Cadenassées, laissées : 1" in browser.text() and "Garnier" in browser.text()
    assert _remaining(world.evening_quota) == 5  # a preview writes nothing
    assert axe_violations(browser) == []
    screenshot(browser, "options-release-preview")

    browser.press("#confirm-release", "enter", navigates=True)
    text = browser.text()
    assert "Libération lancée" in text and "Faits : 3" in text and "Cadenassées, laissées : 1" in text
    assert "1 ligne(s) correspondent" in text and "Garnier" in text and "Bosche" not in text
    assert _remaining(world.evening_quota) == 8  # Bosche's and Roux's places are back on sale
    assert [orders.get_order(actor, o.id).status for o in (bosche, roux, vip, later)] == \
        ["cancelled", "cancelled", "unpaid", "unpaid"]
    sold, _ = orders.place_order(actor, draft(world, *[line(world)] * 8))  # and sellable
    assert sold.status == "complete"


def test_release_for_all_previewed_then_run_as_a_job(app_server, console_browser, tenant, actor, pump):
    from chalicelib.handlers.console.frame import PAGE_SIZE

    world = build_world(actor, capacity=60)
    expired = clock.now() - timedelta(days=8)
    held = [hold(actor, world, line(world), deadline=expired) for _ in range(PAGE_SIZE + 3)]
    marks.set_mark(actor, [f"{held[0].id}-001"], "keep")
    browser = console_browser
    sign_in(browser, app_server, tenant, next_path="/console/options")
    browser.open(app_server.base + _list_address(world, (clock.now() - timedelta(days=7)).astimezone(PARIS).date()))
    browser.press("#release-all", "enter", navigates=True)  # every matching line, not only the page shown
    assert "pour tous" in browser.text() and "Marquées « ne pas libérer », laissées : 1" in browser.text()
    assert browser._session_call("GET", f"/element/{browser.find('#preview-lines')}/text") == str(PAGE_SIZE + 2)
    assert _remaining(world.evening_quota) == 60 - PAGE_SIZE - 3
    assert axe_violations(browser) == []
    ensure_jobs_queue()
    browser.press("#confirm-release", "enter", navigates=True)
    job = drive(pump, tenant, browser.current_url().rsplit("/", 1)[1])
    assert job.status == "succeeded" and job.outcomes == {"done": PAGE_SIZE + 2, "skipped_kept": 1}
    assert _remaining(world.evening_quota) == 59
    assert orders.get_order(actor, held[0].id).status == "unpaid"


def test_a_reminder_to_a_ticked_line_then_to_all_and_a_deadline_extended(
        app_server, console_browser, tenant, actor, pump):
    world = build_world(actor)
    nathalie = hold(actor, world, line(world), days=3, buyer=_buyer("Nathalie", "Roux"))
    marc = hold(actor, world, line(world), line(world, world.reduced), days=4, buyer=_buyer("Marc", "Dubois"))
    in_five_days = (clock.now() + timedelta(days=5)).astimezone(PARIS).date()
    browser = console_browser
    sign_in(browser, app_server, tenant, next_path="/console/options")
    browser.open(app_server.base + _list_address(world, in_five_days))
    assert "3 ligne(s) correspondent" in browser.text()

    browser.press(f"#pick-{nathalie.id}-001", "space")
    browser.press("#remind", "enter", navigates=True)
    assert "Rappel envoyé (une fois par commande)" in browser.text() and "Faits : 1" in browser.text()
    assert (_reminders_sent(actor, nathalie.id), _reminders_sent(actor, marc.id)) == (1, 0)
    assert orders.get_order(actor, nathalie.id).reminders == 1

    ensure_jobs_queue()
    browser.press("#scope-all", "space")
    browser.press("#remind", "enter", navigates=True)  # every matching line: a job, its page shown
    assert "/console/jobs/" in browser.current_url()
    job = drive(pump, tenant, browser.current_url().rsplit("/", 1)[1])
    assert job.status == "succeeded" and job.outcomes == {"done": 2}
    assert (_reminders_sent(actor, nathalie.id), _reminders_sent(actor, marc.id)) == (2, 1)

    browser.open(app_server.base + _list_address(world, in_five_days))
    browser.press(f"#pick-{marc.id}-002", "space")
    new_deadline = (clock.now() + timedelta(days=20)).astimezone(PARIS).date()
    browser.type("#deadline", _us_date(new_deadline) + "\ue004" + "0600PM")  # tab: from the day to the hour
    browser.type("#reason", "paiement par virement")
    browser.press("#extend", "enter", navigates=True)
    assert "Date limite prolongée" in browser.text() and "Faits : 1" in browser.text()
    assert "1 ligne(s) correspondent" in browser.text() and "Dubois" not in browser.text()  # moved past D+5
    assert orders.get_order(actor, marc.id).deadline == datetime(new_deadline.year, new_deadline.month,
                                                                 new_deadline.day, 18, 0, tzinfo=PARIS)
    assert axe_violations(browser) == []

    browser.press("#scope-all", "space")  # every line still matching: Nathalie's, as a job
    browser.type("#deadline", _us_date(new_deadline) + "\ue004" + "0900AM")
    browser.press("#extend", "enter", navigates=True)
    job = drive(pump, tenant, browser.current_url().rsplit("/", 1)[1])
    assert job.status == "succeeded" and job.outcomes == {"done": 1}
    assert orders.get_order(actor, nathalie.id).deadline == datetime(new_deadline.year, new_deadline.month,
                                                                     new_deadline.day, 9, 0, tzinfo=PARIS)
    assert orders.get_order(actor, marc.id).deadline.astimezone(PARIS).hour == 18  # no longer matching: untouched


def test_nothing_ticked_is_said_and_nothing_done(app_server, console_browser, tenant, actor):
    world = build_world(actor)
    order = hold(actor, world, line(world), days=2)
    browser = console_browser
    sign_in(browser, app_server, tenant, next_path="/console/options")
    browser.open(app_server.base + _list_address(world, (clock.now() + timedelta(days=5)).date()))
    browser.press("#lock", "enter", navigates=True)
    assert "Cochez au moins une ligne" in browser.text()
    assert not follow_up.rows_of(tenant, order.id)[0].locked
    browser.open(app_server.base + "/console/options?kind=option&deadline_on_or_before=2026-12-01")
    assert "Saisie à corriger" in browser.text() and "season_id" in browser.text()  # the API's schema says no


def test_a_line_of_another_venue_is_refused_and_nothing_done(app_server, tenant, actor):
    from chalicelib.services.shared.actors import Actor
    from tests.conftest import new_tenant_id

    elsewhere = Actor(tenant_id=new_tenant_id(), subject="staff-9", roles=frozenset({"staff"}))
    theirs = hold(elsewhere, build_world(elsewhere), days=2)
    http = staff_http(app_server, tenant)
    token = form_value(http, f"{app_server.base}/console/options")
    for action in ("lock", "release", "release/preview", "remind"):
        answer = http.post(f"{app_server.base}/console/options/{action}", timeout=30, allow_redirects=False,
                           data={"form": token, "line_id": f"{theirs.id}-001"})
        assert answer.status_code == 422 and "Saisie à corriger" in answer.text, action
    assert not follow_up.rows_of(elsewhere.tenant_id, theirs.id)[0].locked
    assert orders.get_order(elsewhere, theirs.id).status == "unpaid" and orders.get_order(elsewhere, theirs.id).reminders == 0


def test_the_policy_is_read_by_staff_and_changed_by_an_admin_only(app_server, console_browser, tenant, actor):
    ensure_jobs_queue()  # saving a policy re-times the open options in a job
    browser = console_browser
    sign_in(browser, app_server, tenant, next_path="/console/options/policy")
    assert "Relances et libérations automatiques" in browser.text() and not browser.find_all("#save-policy")
    assert axe_violations(browser) == []
    http = staff_http(app_server, tenant)
    refused = http.post(f"{app_server.base}/console/options/policy", timeout=30, allow_redirects=False, data={
        "form": form_value(http, f"{app_server.base}/console/options/policy"), "remind_days_before": "5",
        "release_days_after": "7", "kinds": "option", "quiet_from": "21:00", "quiet_until": "08:00",
        "timezone": "Europe/Paris"})
    assert refused.status_code == 403 and "Action refusée" in refused.text
    assert policy.get_policy(actor).release_days_after == 0
    run = http.post(f"{app_server.base}/console/options/due/run", timeout=30, allow_redirects=False,
                    data={"form": form_value(http, f"{app_server.base}/console/options/policy")})
    assert run.status_code == 403

    sign_in(browser, app_server, tenant, role="admin", subject="directrice", next_path="/console/options/policy")
    browser.type("#remind_days_before", "5")
    browser.type("#release_days_after", "7")
    browser.press("#kind-reservation", "space")  # options only
    browser.press("#save-policy", "enter", navigates=True)
    assert "La politique est enregistrée" in browser.text() and "7 jour(s) après la date limite" in browser.text()
    saved = policy.get_policy(actor)
    assert (saved.remind_days_before, saved.release_days_after, set(saved.kinds), saved.updated_by) == \
        (5, 7, {"option"}, "directrice")
    assert axe_violations(browser) == []

    expired = hold(actor, build_world(actor), deadline=clock.now() - timedelta(days=8))  # its release is due
    browser.press("#run-due", "enter", navigates=True)
    assert "Dû maintenant : libérations 1." in browser.text() and "1 tâche(s) lancée(s)" in browser.text()
    assert orders.get_order(actor, expired.id).status == "unpaid"  # the job releases it, as the schedule's would


def test_the_list_reads_one_page_never_the_table(app_server, tenant, actor, monkeypatch):
    from chalicelib.handlers.console.frame import PAGE_SIZE

    world = build_world(actor, capacity=200)
    for _ in range(PAGE_SIZE + 10):
        hold(actor, world, line(world), days=2)
    http = staff_http(app_server, tenant)
    address = app_server.base + _list_address(world, (clock.now() + timedelta(days=5)).date())
    reads = dynamodb_reads(monkeypatch)
    page = http.get(address, timeout=30)
    assert page.status_code == 200 and 'rel="next"' in page.text
    assert f"{PAGE_SIZE + 10} ligne(s) correspondent" in page.text  # the count is of all, the rows of one page
    assert page.text.count('name="line_id"') == PAGE_SIZE
    # the page's lines, the day counters, the names on the page and the filters' choices: not the table
    assert reads["items"] <= PAGE_SIZE + 15 and reads["calls"] <= 16, reads
    assert "Scan" not in reads["operations"]
    monkeypatch.undo()
    import html
    import re

    following = html.unescape(re.search(r'href="([^"]+)" rel="next"', page.text).group(1))
    rest = http.get(app_server.base + following, timeout=30)
    assert rest.text.count('name="line_id"') == 10 and 'rel="next"' not in rest.text
    english = http.get(app_server.base + following + "&lang=en", timeout=30).text
    assert "Options and reservations follow-up" in english and f"{PAGE_SIZE + 10} line(s) match" in english
    assert "Run release for all" in english and "Lancer" not in english
