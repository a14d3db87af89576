"""Debian's headless Chromium, driven through ChromeDriver's W3C WebDriver protocol (plain HTTP,
so no client library), against the app served on a loopback port.

:class:`AppServer` serves the in-process app (the same one the other tests use, through
Chalice's test client) on 127.0.0.1: the browser talks HTTP to it like to API Gateway.
:class:`Browser` is the few WebDriver commands the page tests need: open, find, click, type,
press keys, read the page.
"""
from __future__ import annotations

import os
import shutil
import socket
import subprocess
import tempfile
import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import requests

CHROMIUM, CHROMEDRIVER = "/usr/bin/chromium", "/usr/bin/chromedriver"
ELEMENT = "element-6066-11e4-a52e-4f735466cecf"  # the W3C web element identifier
PHONE = ("Mozilla/5.0 (Linux; Android 14; Pixel 8) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/156.0.0.0 "
         "Mobile Safari/537.36")
KEYS = {"tab": "\ue004", "enter": "\ue007", "space": "\ue00d"}


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


class AppServer:
    """The app on ``http://127.0.0.1:<port>``, each request passed to Chalice's test client."""

    def __init__(self, app) -> None:
        from chalice.test import Client

        self._client = Client(app, stage_name="dev")
        self._lock = threading.Lock()
        http = self._client.http
        lock = self._lock

        class Forward(BaseHTTPRequestHandler):
            def _forward(self):
                length = int(self.headers.get("Content-Length") or 0)
                body = self.rfile.read(length) if length else b""
                headers = {name: value for name, value in self.headers.items()
                           if name.lower() not in ("host", "content-length", "connection")}
                with lock:  # the test client is not made for concurrent requests
                    answer = http.request(self.command, self.path, headers=headers, body=body)
                self.send_response(answer.status_code)
                for name, value in answer.headers.items():
                    if name.lower() not in ("content-length", "connection"):
                        self.send_header(name, value)
                self.send_header("Content-Length", str(len(answer.body or b"")))
                self.end_headers()
                if self.command != "HEAD":
                    self.wfile.write(answer.body or b"")

            do_GET = do_POST = do_HEAD = _forward

            def log_message(self, *args):
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Forward)
        threading.Thread(target=self.server.serve_forever, daemon=True).start()
        self.base = f"http://127.0.0.1:{self.server.server_address[1]}"

    def close(self) -> None:
        self.server.shutdown()
        self._client.__exit__(None, None, None)


class Browser:
    """One headless Chromium session (a phone's screen and user agent)."""

    def __init__(self) -> None:
        port = _free_port()
        self._profile = tempfile.mkdtemp(prefix="chromium-")
        self._driver = subprocess.Popen([CHROMEDRIVER, f"--port={port}", "--allowed-ips=127.0.0.1"],
                                        stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        self._url = f"http://127.0.0.1:{port}"
        deadline = time.monotonic() + 20
        while time.monotonic() < deadline:
            try:
                if requests.get(f"{self._url}/status", timeout=1).json()["value"]["ready"]:
                    break
            except (requests.RequestException, ValueError, KeyError):
                time.sleep(0.1)
        args = ["--headless=new", "--no-sandbox", "--disable-gpu", "--disable-dev-shm-usage", "--disable-quic",
                "--no-first-run", "--disable-background-networking", "--disable-component-update",
                "--disable-sync", "--window-size=412,915", f"--user-agent={PHONE}", f"--user-data-dir={self._profile}"]
        if os.geteuid() != 0:
            args.remove("--no-sandbox")
        created = self._call("POST", "/session", {"capabilities": {"alwaysMatch": {
            "browserName": "chrome", "goog:chromeOptions": {"binary": CHROMIUM, "args": args}}}})
        self._session = created["sessionId"]

    def _call(self, method: str, path: str, payload: dict | None = None):
        answer = requests.request(method, f"{self._url}{path}", json=payload, timeout=60)
        value = answer.json()
        if answer.status_code >= 400:
            raise AssertionError(f"WebDriver {method} {path}: {value}")
        return value.get("value", value) if path != "/session" else value["value"]

    def _session_call(self, method: str, path: str, payload: dict | None = None):
        return self._call(method, f"/session/{self._session}{path}", payload)

    def open(self, url: str) -> None:
        self._session_call("POST", "/url", {"url": url})

    def find(self, css: str) -> str:
        return self._session_call("POST", "/element", {"using": "css selector", "value": css})[ELEMENT]

    def find_all(self, css: str) -> list[str]:
        return [found[ELEMENT] for found in self._session_call("POST", "/elements",
                                                               {"using": "css selector", "value": css})]

    def click(self, css: str, *, navigates: bool = False) -> None:
        """Click ``css``; with ``navigates`` (a submit, a link), return once the next page is there."""
        before = self.find("body") if navigates else None
        self._session_call("POST", f"/element/{self.find(css)}/click", {})
        if before:
            self._wait_for_next_page(before)

    def _wait_for_next_page(self, old_body: str) -> None:
        """ChromeDriver may answer a click before the form's page replaced the current one: wait
        until the old page's body is gone and the new one is loaded."""
        deadline = time.monotonic() + 20
        while time.monotonic() < deadline:
            answer = requests.get(f"{self._url}/session/{self._session}/element/{old_body}/text", timeout=10)
            if answer.status_code >= 400 and answer.json()["value"].get("error") in ("stale element reference",
                                                                                      "no such element"):
                state = self._session_call("POST", "/execute/sync", {"script": "return document.readyState",
                                                                     "args": []})
                if state == "complete":
                    return
            time.sleep(0.05)
        raise AssertionError("the next page never came")

    def type(self, css: str, text: str) -> None:
        element = self.find(css)
        self._session_call("POST", f"/element/{element}/clear", {})
        self._session_call("POST", f"/element/{element}/value", {"text": text})

    def press(self, css: str, key: str, *, navigates: bool = False) -> None:
        before = self.find("body") if navigates else None
        self._session_call("POST", f"/element/{self.find(css)}/value", {"text": KEYS[key]})
        if before:
            self._wait_for_next_page(before)

    def attribute(self, css: str, name: str) -> str | None:
        return self._session_call("GET", f"/element/{self.find(css)}/attribute/{name}")

    def selected(self, css: str) -> bool:
        return self._session_call("GET", f"/element/{self.find(css)}/selected")

    def focused_id(self) -> str | None:
        active = self._session_call("GET", "/element/active")[ELEMENT]
        return self._session_call("GET", f"/element/{active}/attribute/id")

    def text(self) -> str:
        return self._session_call("GET", f"/element/{self.find('body')}/text")

    def source(self) -> str:
        return self._session_call("GET", "/source")

    def current_url(self) -> str:
        return self._session_call("GET", "/url")

    def back(self) -> None:
        self._session_call("POST", "/back", {})

    def close(self) -> None:
        try:
            self._call("DELETE", f"/session/{self._session}")
        finally:
            self._driver.terminate()
            self._driver.wait(timeout=10)
            shutil.rmtree(self._profile, ignore_errors=True)
