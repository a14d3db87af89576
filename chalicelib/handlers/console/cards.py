"""Season card screens: printers and their states, print queue, mass print, uncertain jobs (filled in by its own change)."""
from __future__ import annotations

from chalice import Blueprint

bp = Blueprint(__name__)
