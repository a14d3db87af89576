"""Options and reservations follow-up screens (filled in by its own change)."""
from __future__ import annotations

from chalice import Blueprint

bp = Blueprint(__name__)
