"""The console's door: the home screen, sign-in (Cognito's hosted UI, or the dev sign-in of the
local stack), the hosted UI's callback, and sign-out."""
from __future__ import annotations

from chalice import Blueprint, Response

from chalicelib.handlers.console.frame import Screen, console_route, session_cookie, set_cookie

bp = Blueprint(__name__)
STARTED_COOKIE = "console_sign_in"
CALLBACK_PATH = "/console/auth/"


@console_route(bp, "/console")
def home(screen: Screen):
    return screen.page("home.html.j2")


@console_route(bp, "/console/sign-in", methods=("GET", "POST"), role=None)
def sign_in(screen: Screen):
    from chalicelib.services.staff_sessions import sign_in as staff_sign_in

    next_path = staff_sign_in.safe_next(screen.query("next") or screen.value("next", 300))
    if screen.request.method == "POST":
        _, cookie = staff_sign_in.dev_sign_in(screen.value("tenant", 64), screen.value("role", 10),
                                              screen.value("subject", 64))
        screen.cookies.append(session_cookie(cookie))
        return screen.redirect(next_path)
    return screen.page("sign_in.html.j2", next_path=next_path, hosted=staff_sign_in.hosted_ui_configured(),
                       dev=staff_sign_in.dev_sign_in_available(), signed_out=screen.query("out") == "1")


@console_route(bp, "/console/auth/start", role=None)
def start_hosted_sign_in(screen: Screen):
    from chalicelib.services.staff_sessions import sign_in as staff_sign_in

    started = staff_sign_in.start_hosted(screen.query("next"))
    screen.cookies.append(set_cookie(STARTED_COOKIE, started.state_cookie, staff_sign_in.START_SECONDS,
                                     path=CALLBACK_PATH))
    return Response(body="", status_code=302, headers={"Location": started.authorize_url})


@console_route(bp, "/console/auth/callback", role=None)
def hosted_sign_in_callback(screen: Screen):
    from chalicelib.handlers.console.frame import cookie_of
    from chalicelib.services.staff_sessions import sign_in as staff_sign_in

    _, cookie, next_path = staff_sign_in.finish_hosted(screen.query("code"), screen.query("state"),
                                                       cookie_of(screen.request, STARTED_COOKIE))
    screen.cookies.append(session_cookie(cookie))
    return screen.redirect(next_path)


@console_route(bp, "/console/sign-out", methods=("POST",))
def sign_out(screen: Screen):
    from chalicelib.services.staff_sessions import sessions

    sessions.end_session(screen.session)  # a copy of the cookie kept elsewhere opens nothing now
    screen.cookies.append(set_cookie("console_session", "", 0))
    screen.session = None  # nothing to renew on this answer
    return screen.redirect("/console/sign-in?out=1")
