"""Signing in to the console: the hosted UI's authorisation code with PKCE against a fake token
endpoint on the loopback (Cognito itself cannot be reached from the tests: the fake answers as
its /oauth2/token does, an ID token signed with the run's key pair), the ID token verified by
the API's own token code, and the session: renewed while active, ended when idle or too old,
its forms bound to it. The dev sign-in exists in the local stages only."""
from __future__ import annotations

import json
import threading
from dataclasses import replace
from datetime import timedelta
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from urllib.parse import parse_qs, urlparse

import pytest

from chalicelib.adapters import clock, identity_provider, signing
from chalicelib.adapters.tokens import VerifiedClaims
from chalicelib.config import console_settings
from chalicelib.errors import Forbidden, NotFound
from chalicelib.services.staff_sessions import sessions, sign_in


class FakeTokenEndpoint:
    """Cognito's ``/oauth2/token`` as the console uses it: records each form, answers ``reply``."""

    def __init__(self) -> None:
        self.forms: list[dict] = []
        self.reply: tuple[int, dict] = (200, {})
        endpoint = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self):
                length = int(self.headers.get("Content-Length") or 0)
                endpoint.forms.append({"path": self.path, "content_type": self.headers.get("Content-Type"),
                                       **{k: v[0] for k, v in parse_qs(self.rfile.read(length).decode()).items()}})
                status, body = endpoint.reply
                raw = json.dumps(body).encode()
                self.send_response(status)
                self.send_header("Content-Type", "application/json")
                self.send_header("Content-Length", str(len(raw)))
                self.end_headers()
                self.wfile.write(raw)

            def log_message(self, *args):
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        threading.Thread(target=self.server.serve_forever, daemon=True).start()
        self.base = f"http://127.0.0.1:{self.server.server_address[1]}"


@pytest.fixture
def cognito(monkeypatch):
    fake = FakeTokenEndpoint()
    configured = replace(console_settings, cognito_domain=fake.base, cognito_client_id="console-client",
                         redirect_uri="https://billetterie.example.org/console/auth/callback")
    monkeypatch.setattr(sign_in, "console_settings", configured)
    yield fake
    fake.server.shutdown()


@pytest.fixture
def restore_clock():
    yield
    clock.set_clock(None)


def _started(next_path="/console/orders?status=unpaid"):
    started = sign_in.start_hosted(next_path)
    query = {k: v[0] for k, v in parse_qs(urlparse(started.authorize_url).query).items()}
    return started, query, signing.verify(sign_in.STARTED, started.state_cookie)


def test_the_pkce_challenge_is_rfc_7636s():
    assert sign_in.pkce_challenge("dBjftJeZ4CVP-mB92K27uhbUJU1p1r_wW1gFWFOEjXk") == \
        "E9Melhoa2OwvFrEMTJguCHaoeK1t8URWbuGJSstw-cM"  # RFC 7636, appendix B


def test_the_hosted_ui_redirect_carries_state_and_an_s256_challenge(cognito):
    started, query, remembered = _started()
    assert started.authorize_url.startswith(f"{cognito.base}/oauth2/authorize?")
    assert query["response_type"] == "code" and query["client_id"] == "console-client"
    assert query["redirect_uri"] == "https://billetterie.example.org/console/auth/callback"
    assert query["code_challenge_method"] == "S256" and "openid" in query["scope"].split()
    assert query["state"] == remembered["s"] and query["code_challenge"] == sign_in.pkce_challenge(remembered["v"])
    assert remembered["v"] not in started.authorize_url  # the verifier never leaves with the browser's redirect
    assert remembered["n"] == "/console/orders?status=unpaid"


def test_the_code_is_exchanged_with_the_verifier_and_the_id_token_opens_a_session(cognito, signer, tenant):
    started, query, remembered = _started()
    cognito.reply = (200, {"id_token": signer.mint(tenant, ["staff"], "guichet-1", token_use="id"),
                           "access_token": "unused", "token_type": "Bearer", "expires_in": 3600})
    session, cookie, next_path = sign_in.finish_hosted("the-code", query["state"], started.state_cookie)
    [form] = cognito.forms
    assert form["path"] == "/oauth2/token" and form["content_type"] == "application/x-www-form-urlencoded"
    assert (form["grant_type"], form["code"], form["client_id"]) == ("authorization_code", "the-code", "console-client")
    assert form["code_verifier"] == remembered["v"] and form["redirect_uri"] == query["redirect_uri"]
    assert (session.actor.tenant_id, session.actor.subject, session.actor.roles) == (tenant, "guichet-1",
                                                                                       frozenset({"staff"}))
    assert sessions.read_session(cookie).actor == session.actor and next_path == "/console/orders?status=unpaid"


@pytest.mark.parametrize("mismatch", ["state", "cookie", "late"])
def test_a_callback_not_matching_the_sign_in_started_is_refused_before_any_exchange(cognito, mismatch,
                                                                                       restore_clock):
    started, query, _ = _started()
    state, cookie = query["state"], started.state_cookie
    if mismatch == "state":
        state = "another-state"
    elif mismatch == "cookie":
        cookie = sign_in.start_hosted(None).state_cookie  # another browser's sign-in
    else:
        clock.set_clock(clock.frozen_at(clock.now() + timedelta(seconds=sign_in.START_SECONDS + 1)))
    with pytest.raises(sign_in.SignInRefused):
        sign_in.finish_hosted("the-code", state, cookie)
    assert cognito.forms == []


def test_a_token_the_pool_did_not_sign_or_a_refused_code_opens_nothing(cognito, tenant, tmp_path):
    from devtools.tokens import LocalSigner

    stranger = LocalSigner(Path(tmp_path), issuer="https://ticketing.local/test")
    for reply in ((200, {"id_token": stranger.mint(tenant, ["admin"], "intruder")}),
                  (400, {"error": "invalid_grant"}), (200, {"access_token": "no id token"})):
        cognito.reply = reply
        started, query, _ = _started()
        with pytest.raises(sign_in.SignInRefused):
            sign_in.finish_hosted("the-code", query["state"], started.state_cookie)


def test_an_account_without_a_staff_role_is_refused(cognito, signer, tenant):
    cognito.reply = (200, {"id_token": signer.mint(tenant, ["spectator"], "someone")})
    started, query, _ = _started()
    with pytest.raises(Forbidden):
        sign_in.finish_hosted("the-code", query["state"], started.state_cookie)


def test_the_callback_route_sets_the_session_cookie(client, cognito, signer, tenant):
    answer = client.get("/console/auth/start?next=/console/jobs")
    assert answer.status_code == 302 and answer.headers["Location"].startswith(f"{cognito.base}/oauth2/authorize")
    started_cookie = answer.headers["Set-Cookie"].split(";")[0]
    assert "Path=/console/auth/" in answer.headers["Set-Cookie"] and "HttpOnly" in answer.headers["Set-Cookie"]
    state = parse_qs(urlparse(answer.headers["Location"]).query)["state"][0]
    cognito.reply = (200, {"id_token": signer.mint(tenant, ["admin"], "direction")})
    done = client.get(f"/console/auth/callback?code=abc&state={state}", headers={"Cookie": started_cookie})
    assert done.status_code == 303 and done.headers["Location"] == "/console/jobs"
    assert done.headers["Set-Cookie"].startswith("console_session=")
    refused = client.get(f"/console/auth/callback?code=abc&state={state}")  # no started cookie
    assert refused.status_code == 401 and "console_session" not in refused.headers.get("Set-Cookie", "")


def _claims(tenant: str) -> VerifiedClaims:
    return VerifiedClaims(subject="guichet-1", tenant_id=tenant, roles=frozenset({"staff"}))


def test_a_session_is_renewed_while_active_and_ends_when_idle(tenant, restore_clock):
    start = clock.now()
    clock.set_clock(clock.frozen_at(start))
    session, cookie = sessions.open_session(_claims(tenant))
    idle = console_settings.idle_minutes
    clock.set_clock(clock.frozen_at(start + timedelta(minutes=idle // 2 - 1)))
    assert sessions.renewal(sessions.read_session(cookie)) is None  # early: the same cookie goes on
    clock.set_clock(clock.frozen_at(start + timedelta(minutes=idle // 2 + 1)))
    renewed = sessions.renewal(sessions.read_session(cookie))
    assert renewed and sessions.read_session(renewed).expires_at > session.expires_at
    clock.set_clock(clock.frozen_at(start + timedelta(minutes=idle + 1)))
    assert sessions.read_session(cookie) is None  # the old cookie is over
    assert sessions.read_session(renewed) is not None  # the renewed one still runs


def test_a_session_ends_after_its_longest_life_however_active(tenant, restore_clock):
    start = clock.now()
    clock.set_clock(clock.frozen_at(start))
    _, cookie = sessions.open_session(_claims(tenant))
    moment = start
    while True:
        moment += timedelta(minutes=console_settings.idle_minutes // 2 + 1)
        clock.set_clock(clock.frozen_at(moment))
        session = sessions.read_session(cookie)
        if session is None:
            break
        cookie = sessions.renewal(session) or cookie
    assert moment - start <= timedelta(hours=console_settings.max_hours, minutes=console_settings.idle_minutes)
    assert moment - start >= timedelta(hours=console_settings.max_hours)


def test_a_form_value_is_bound_to_its_session(tenant):
    mine, _ = sessions.open_session(_claims(tenant))
    other, _ = sessions.open_session(_claims(tenant))
    assert sessions.form_is_genuine(mine, mine.form_value())
    assert not sessions.form_is_genuine(mine, other.form_value())
    assert not sessions.form_is_genuine(mine, None) and not sessions.form_is_genuine(mine, "")


@pytest.mark.parametrize("asked, kept", [
    ("/console/orders?q=12", "/console/orders?q=12"), ("/console", "/console"), ("https://evil.example", "/console"),
    ("//evil.example/console", "/console"), ("/consolex", "/console"), ("/console\\..\\x", "/console"), (None, "/console")])
def test_after_sign_in_only_a_console_path_of_this_site(asked, kept):
    assert sign_in.safe_next(asked) == kept


@pytest.mark.parametrize("stage, jwks", [("prod", None), ("dev", "https://cognito-idp.eu-west-3.amazonaws.com/pool/"
                                                                ".well-known/jwks.json")])
def test_the_dev_sign_in_does_not_exist_in_a_deployed_stage(monkeypatch, client, tenant, stage, jwks):
    from chalicelib.config import settings

    deployed = replace(settings, stage=stage, jwks_url=jwks or settings.jwks_url)
    monkeypatch.setattr(identity_provider, "settings", deployed)
    with pytest.raises(NotFound):
        sign_in.dev_sign_in(tenant, "admin", "x")
    with pytest.raises(identity_provider.ProviderRefused):
        identity_provider.mint_dev_token(tenant, ["admin"], "x")
    page = client.get("/console/sign-in")
    assert page.status_code == 200 and 'id="dev-sign-in"' not in page.body.decode()
    posted = client.post("/console/sign-in", body=f"tenant={tenant}&role=admin&subject=x",
                         headers={"Content-Type": "application/x-www-form-urlencoded"})
    assert posted.status_code == 404 and "Set-Cookie" not in posted.headers


def test_the_session_cookie_is_secure_outside_the_local_stack(monkeypatch):
    from chalicelib.config import settings
    from chalicelib.handlers.console import frame

    assert "Secure" not in frame.session_cookie("v")  # this run: plain http on the loopback
    monkeypatch.setattr(frame, "settings", replace(settings, stage="dev", public_base_url="https://dev.example.org"))
    assert frame.session_cookie("v").endswith("; Secure")
    monkeypatch.setattr(frame, "settings", replace(settings, stage="prod", public_base_url="http://127.0.0.1:8000"))
    assert frame.session_cookie("v").endswith("; Secure")
