"""The console's static assets (one stylesheet, one small script), served by the app itself from
``templates/console/static``: same origin (the CSP allows nothing else), their address carrying
a hash of their content, so they are cached for a year and a new version is a new address."""
from __future__ import annotations

from chalice import Blueprint, Response

bp = Blueprint(__name__)
TYPES = {"console.css": "text/css; charset=utf-8", "console.js": "text/javascript; charset=utf-8"}


@bp.route("/console/static/{version}/{name}", methods=["GET"])
def console_asset(version, name):
    from chalicelib.handlers.console.frame import STATIC_DIR, asset_url

    if name not in TYPES or asset_url(name) != f"/console/static/{version}/{name}":
        return Response(body="", status_code=404, headers={"Content-Type": "text/plain", "Cache-Control": "no-store",
                                                           "X-Content-Type-Options": "nosniff"})
    return Response(body=(STATIC_DIR / name).read_text(encoding="utf-8"), status_code=200, headers={
        "Content-Type": TYPES[name], "Cache-Control": "public, max-age=31536000, immutable",
        "X-Content-Type-Options": "nosniff"})
