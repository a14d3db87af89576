"""The browser tests share one app server for the whole session (the refund page's and the
console's), and the console's one headless Chromium at a desk's size (starting Chromium is most
of a browser test's time)."""
from __future__ import annotations

import pytest


@pytest.fixture(scope="session")
def app_server():
    import app as application
    from tests.e2e.browser import AppServer

    served = AppServer(application.app)
    yield served
    served.close()


@pytest.fixture(scope="session")
def console_browser():
    from tests.e2e.browser import Browser

    opened = Browser()
    # a desk's screen, not the phone the spectators' pages are tested on
    opened._session_call("POST", "/window/rect", {"width": 1280, "height": 900})
    yield opened
    opened.close()
