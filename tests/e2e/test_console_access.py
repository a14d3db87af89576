"""The console's door in a real browser (Debian's headless Chromium): sign-in and sign-out, the
session cookie's flags, a forged form refused, the staff role kept out of admin screens however
it asks, another venue's ids answering 404 pages, the English switch, and the page headers."""
from __future__ import annotations

import re

import requests

from chalicelib.services.jobs import framework as jobs
from chalicelib.services.orders import orders
from chalicelib.services.shared.actors import Actor
from tests.conftest import new_tenant_id
from tests.e2e.console_helpers import axe_violations, form_value, screenshot, sign_in, staff_http
from tests.job_helpers import ensure_jobs_queue
from tests.orders_world import build_world, draft


def unpaid_cheque_order(actor, world):
    order, _ = orders.place_order(actor, draft(world, payment_type="cheque"))
    return order


def test_sign_in_then_sign_out(app_server, console_browser, tenant):
    browser = console_browser
    browser._session_call("DELETE", "/cookie")  # the session's browser may hold an earlier test's session
    browser.open(f"{app_server.base}/console/orders")  # not signed in: asked to sign in first
    assert "/console/sign-in?next=%2Fconsole%2Forders" in browser.current_url()
    assert browser.attribute("html", "lang") == "fr" and "Connexion" in browser.text()
    assert axe_violations(browser) == []
    screenshot(browser, "sign-in")
    browser.type("#tenant", tenant)
    browser.type("#subject", "guichet-1")
    browser.press("#dev-sign-in", "enter", navigates=True)
    assert browser.current_url().endswith("/console/orders")  # back where the person was going
    assert f"guichet-1 · {tenant}" in browser.text()
    # the session is out of the page's reach (HttpOnly)
    assert "console_session" not in browser._session_call("POST", "/execute/sync", {
        "script": "return document.cookie", "args": []})
    browser.press("header form button[type=submit]", "enter", navigates=True)
    assert "Vous êtes déconnecté" in browser.text()
    browser.open(f"{app_server.base}/console/orders")
    assert "/console/sign-in" in browser.current_url()


def test_the_session_cookie_and_the_page_headers(app_server, tenant):
    answer = requests.post(f"{app_server.base}/console/sign-in", data={
        "tenant": tenant, "role": "staff", "subject": "guichet-1"}, allow_redirects=False, timeout=30)
    cookie = answer.headers["Set-Cookie"]
    assert cookie.startswith("console_session=") and "HttpOnly" in cookie and "SameSite=Lax" in cookie
    assert "Path=/console;" in cookie and "Max-Age=1800" in cookie
    assert "Secure" not in cookie  # the local stack is plain http; every other stage adds Secure
    page = requests.get(f"{app_server.base}/console/jobs", cookies={
        "console_session": cookie.split(";")[0].split("=", 1)[1]}, timeout=30)
    policy = page.headers["Content-Security-Policy"]
    assert "script-src 'self'" in policy and "style-src 'self'" in policy and "'unsafe-inline'" not in policy
    assert "frame-ancestors 'none'" in policy and "default-src 'none'" in policy
    assert page.headers["X-Content-Type-Options"] == "nosniff" and page.headers["Referrer-Policy"] == "same-origin"
    assert not re.search(r"<script(?![^>]*\bsrc=)", page.text) and " style=" not in page.text  # nothing inline
    [stylesheet] = re.findall(r'href="(/console/static/[0-9a-f]{12}/console\.css)"', page.text)
    asset = requests.get(app_server.base + stylesheet, timeout=30)
    assert asset.status_code == 200 and "immutable" in asset.headers["Cache-Control"]
    assert asset.headers["Content-Type"].startswith("text/css")
    stale = requests.get(app_server.base + stylesheet.replace(stylesheet.split("/")[3], "000000000000"),
                         timeout=30)
    assert stale.status_code == 404  # an old version's address is not served as the new one


def test_a_session_signed_for_another_purpose_or_altered_is_no_session(app_server, tenant):
    from chalicelib.adapters import signing

    forged = signing.sign("console-form", {"t": tenant, "u": "x", "r": ["admin"], "s": "s", "i": 0, "e": 2**40})
    for value in (forged, "garbage", staff_http(app_server, tenant).cookies["console_session"][:-2] + "AA"):
        answer = requests.get(f"{app_server.base}/console/jobs", cookies={"console_session": value},
                              allow_redirects=False, timeout=30)
        assert answer.status_code == 303 and "/console/sign-in" in answer.headers["Location"]


def test_a_copy_of_the_cookie_opens_nothing_after_sign_out(app_server, tenant):
    desk = staff_http(app_server, tenant)
    copied = desk.cookies["console_session"]  # a copy left behind: a shared computer, a proxy's log
    assert requests.get(f"{app_server.base}/console/jobs", cookies={"console_session": copied},
                        allow_redirects=False, timeout=30).status_code == 200
    signed_out = desk.post(f"{app_server.base}/console/sign-out", data={"form": form_value(
        desk, f"{app_server.base}/console/jobs")}, allow_redirects=False, timeout=30)
    assert signed_out.status_code == 303 and "Max-Age=0" in signed_out.headers["Set-Cookie"]
    later = requests.get(f"{app_server.base}/console/jobs", cookies={"console_session": copied},
                         allow_redirects=False, timeout=30)
    assert later.status_code == 303 and "/console/sign-in" in later.headers["Location"]
    other_desk = staff_http(app_server, tenant)  # another session of the same person is untouched
    assert other_desk.get(f"{app_server.base}/console/jobs", timeout=30).status_code == 200


def test_a_form_without_or_with_a_wrong_anti_forgery_value_is_refused(app_server, tenant, actor):
    world = build_world(actor)
    order = unpaid_cheque_order(actor, world)
    http = staff_http(app_server, tenant)
    url = f"{app_server.base}/console/orders/{order.id}/mark-paid"
    other_session = form_value(staff_http(app_server, tenant, subject="guichet-2"), f"{app_server.base}/console")
    for data in ({}, {"form": "forged"}, {"form": other_session}):
        answer = http.post(url, data=data, allow_redirects=False, timeout=30)
        assert answer.status_code == 403 and "Ce formulaire a expiré" in answer.text
        assert not orders.get_order(actor, order.id).paid
    genuine = form_value(http, f"{app_server.base}/console/orders/{order.id}")
    assert http.post(url, data={"form": genuine}, allow_redirects=False, timeout=30).status_code == 303
    assert orders.get_order(actor, order.id).paid


def test_staff_without_admin_neither_sees_nor_reaches_admin_screens(app_server, console_browser, tenant):
    browser = console_browser
    sign_in(browser, app_server, tenant, role="staff")
    assert not browser.find_all("a[href='/console/admin']")
    browser.open(f"{app_server.base}/console/admin")
    assert "Action refusée" in browser.text() and "réservé aux administrateurs" in browser.text()
    http = staff_http(app_server, tenant, role="staff")
    genuine = form_value(http, f"{app_server.base}/console")
    answer = http.post(f"{app_server.base}/console/admin/reindex-contacts", data={"form": genuine},
                       allow_redirects=False, timeout=30)
    assert answer.status_code == 403
    staff = Actor(tenant, "guichet-1", frozenset({"staff"}))
    assert jobs.list_jobs(staff, limit=5, cursor=None).items == []  # nothing was started
    ensure_jobs_queue()
    sign_in(browser, app_server, tenant, role="admin", subject="direction")
    browser.press("a[href='/console/admin']", "enter", navigates=True)
    assert axe_violations(browser) == []
    screenshot(browser, "admin")
    browser.press("#reindex", "enter", navigates=True)
    assert "/console/jobs/" in browser.current_url() and "contacts.reindex" in browser.text()
    [started] = jobs.list_jobs(staff, limit=5, cursor=None).items
    assert started.created_by == "direction"


def test_another_venues_ids_answer_404_pages(app_server, console_browser, tenant, actor):
    ensure_jobs_queue()
    world = build_world(actor)
    order = unpaid_cheque_order(actor, world)
    job = jobs.start_job(actor, "contacts.reindex", {})
    other_venue = new_tenant_id()
    browser = console_browser
    sign_in(browser, app_server, other_venue)
    for path in (f"/console/orders/{order.id}", f"/console/orders/{order.id}/tickets/1/cancel",
                 f"/console/jobs/{job.id}", "/console/campaigns/01ARZ3NDEKTSV4RRFFQ69G5FAV"):
        browser.open(app_server.base + path)
        assert "Page introuvable" in browser.text(), path
        assert order.buyer.last_name not in browser.text()
    assert axe_violations(browser) == []
    http = staff_http(app_server, other_venue)
    genuine = form_value(http, f"{app_server.base}/console")
    for path in (f"/console/orders/{order.id}/mark-paid", f"/console/orders/{order.id}/tickets/1/cancel"):
        answer = http.post(app_server.base + path, data={"form": genuine}, allow_redirects=False, timeout=30)
        assert answer.status_code == 404, path
    after = orders.get_order(actor, order.id)
    assert not after.paid and [t.state for t in orders.tickets_of(after)] == ["valid"]


def test_the_english_switch_stays_for_the_next_pages(app_server, console_browser, tenant):
    browser = console_browser
    sign_in(browser, app_server, tenant)
    browser.press("header a[hreflang=en]", "enter", navigates=True)
    assert browser.attribute("html", "lang") == "en" and "Box office console" in browser.text()
    browser.open(f"{app_server.base}/console/jobs")
    assert browser.attribute("html", "lang") == "en" and "Background jobs" in browser.text()
    browser.press("header a[hreflang=fr]", "enter", navigates=True)
    assert browser.attribute("html", "lang") == "fr" and "Tâches en arrière-plan" in browser.text()
