"""The administration screen (admin role only): the venue-wide maintenance jobs the API keeps
for administrators. A staff member sees no link to it and is refused it, GET or POST."""
from __future__ import annotations

from chalice import Blueprint

from chalicelib.handlers.console.frame import Screen, console_route

bp = Blueprint(__name__)


@console_route(bp, "/console/admin", role="admin")
def admin_view(screen: Screen):
    return screen.page("admin.html.j2")


@console_route(bp, "/console/admin/reindex-contacts", methods=("POST",), role="admin")
def reindex_contacts(screen: Screen):
    from chalicelib.services.contacts import reindex

    job = reindex.start_reindex(screen.actor)
    return screen.redirect(f"/console/jobs/{job.id}")
