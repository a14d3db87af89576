"""Fixtures of the integration tests that listen to the local engines."""
from __future__ import annotations

import os
import queue
import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import pytest

from devtools import engines


@pytest.fixture
def stripe_webhooks():
    """A local endpoint registered at localstripe; yields the queue of (body, signature) it receives."""
    received: queue.Queue = queue.Queue()

    class Receiver(BaseHTTPRequestHandler):
        def do_POST(self):
            body = self.rfile.read(int(self.headers["Content-Length"]))
            received.put((body, self.headers.get("Stripe-Signature")))
            self.send_response(200)
            self.end_headers()

        def log_message(self, *args):
            pass

    server = ThreadingHTTPServer(("127.0.0.1", 0), Receiver)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    # As `make dev` registers the app's webhook.
    engines.register_stripe_webhook(os.environ["STRIPE_API_BASE"], f"http://127.0.0.1:{server.server_address[1]}/",
                                    os.environ["STRIPE_WEBHOOK_SECRET"], hook_id=f"test{time.time_ns()}")
    yield received
    server.shutdown()
