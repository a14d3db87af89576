"""What the console's browser tests share: signing in through the dev sign-in page, axe-core
run in the page (injected by the test through WebDriver, never served by the app), screenshots
for docs/console.md, and a count of what DynamoDB was asked and gave back."""
from __future__ import annotations

import base64
import json
import os
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
AXE = ROOT / "node_modules" / "axe-core" / "axe.min.js"
SHOTS = ROOT / "docs" / "console"


def sign_in(browser, server, tenant: str, role: str = "staff", subject: str = "guichet-1",
            next_path: str = "/console") -> None:
    browser.open(f"{server.base}/console/sign-in?next={next_path}")
    browser.type("#tenant", tenant)
    browser.type("#subject", subject)
    browser.click(f"#role-{role}")
    browser.click("#dev-sign-in", navigates=True)


def axe_violations(browser) -> list[dict]:
    """axe-core's WCAG 2.x A/AA violations on the page on screen (id, impact, the nodes' targets)."""
    browser._session_call("POST", "/execute/sync", {"script": AXE.read_text(encoding="utf-8"), "args": []})
    found = browser._session_call("POST", "/execute/async", {"script": """
        const done = arguments[arguments.length - 1];
        axe.run(document, {runOnly: {type: 'tag', values: ['wcag2a', 'wcag2aa', 'wcag21a', 'wcag21aa', 'wcag22aa',
                                                           'best-practice']}})
           .then(r => done(JSON.stringify(r.violations.map(v => ({id: v.id, impact: v.impact,
                                                                 nodes: v.nodes.map(n => n.target)})))))
           .catch(e => done(JSON.stringify([{id: 'axe-error', impact: String(e), nodes: []}])));""", "args": []})
    return json.loads(found)


def screenshot(browser, name: str) -> None:
    """The screen on display as docs/console/<name>.png, when CONSOLE_SCREENSHOTS=1 asks for the
    docs' pictures to be taken again (other runs leave the committed ones alone)."""
    if os.environ.get("CONSOLE_SCREENSHOTS") != "1":
        return
    SHOTS.mkdir(parents=True, exist_ok=True)
    (SHOTS / f"{name}.png").write_bytes(base64.b64decode(browser._session_call("GET", "/screenshot")))


def dynamodb_reads(monkeypatch) -> dict:
    """Counts of DynamoDB requests and of the items they returned, from now on (a screen's own:
    what the frame reads for every screen, the same whatever the screen and the data, is left
    out: the session check every request makes, and the venue's clock, the organisation profile
    read once per process and venue every few minutes)."""
    import botocore.client

    seen = {"calls": 0, "items": 0, "operations": []}
    original = botocore.client.BaseClient._make_api_call

    def recorded(self, operation_name, api_params):
        answer = original(self, operation_name, api_params)
        # Every console request's session check (one GetItem of the ended sessions) is the door's,
        # and the venue's clock (one GetItem of the organisation profile, cached) the frame's, the
        # same on every screen; what is counted is what the screen itself reads.
        table = str(api_params.get("TableName", ""))
        door = table.endswith("ended_sessions") or (table.endswith("organisations") and operation_name == "GetItem"
                                                     and _frame_reading_the_clock())
        if self.meta.service_model.service_name == "dynamodb" and not door:
            seen["calls"] += 1
            seen["operations"].append(operation_name)
            seen["items"] += len(answer.get("Items", [])) + (1 if answer.get("Item") else 0) + sum(
                len(items) for items in answer.get("Responses", {}).values())
        return answer

    monkeypatch.setattr(botocore.client.BaseClient, "_make_api_call", recorded)
    return seen


def _frame_reading_the_clock() -> bool:
    """Whether the organisation profile is being read for the console's clock (the frame's
    ``Screen.zone``), not by the screen itself."""
    import traceback

    return any(frame.name == "business_zone" for frame in traceback.extract_stack())


def staff_http(server, tenant: str, role: str = "staff", subject: str = "guichet-1"):
    """A plain HTTP client signed in through the dev sign-in form, as a browser would be."""
    import requests

    http = requests.Session()
    answer = http.post(f"{server.base}/console/sign-in", data={"tenant": tenant, "role": role, "subject": subject,
                                                                "next": "/console"}, allow_redirects=False,
                       timeout=30)
    assert answer.status_code == 303, answer.text
    return http


def text_of(browser, css: str) -> str:
    """The visible text of the element ``css`` finds."""
    return browser._session_call("GET", f"/element/{browser.find(css)}/text")


def form_value(http, url: str) -> str:
    import re

    page = http.get(url, timeout=30).text
    return re.search(r'name="form" value="([^"]+)"', page).group(1)


def job_ended_on_screen(browser, pump, tenant: str, job_id: str | None = None) -> None:
    """The job page on screen shows its job waiting or running; the job is driven to its end
    while the page is shown, and the page shows the end by itself (its script refreshes the
    progress region). ``job_id`` defaults to the one in the page's address."""
    import time

    from tests.job_helpers import drive

    job_id = job_id or browser.current_url().rsplit("/", 1)[1].split("?")[0]
    assert "En attente" in browser.text() or "En cours" in browser.text()
    drive(pump, tenant, job_id)
    deadline = time.monotonic() + 15
    while "Terminée" not in browser.text():
        assert time.monotonic() < deadline, "the job's page never showed its end"
        time.sleep(0.2)


def choose_by_typing(browser, css: str, text: str) -> None:
    """A select chosen by keyboard: typing an option's text selects it."""
    browser._session_call("POST", f"/element/{browser.find(css)}/value", {"text": text})
