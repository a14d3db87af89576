"""Shop settings screens: geographic limits per performance, messages per point of sale (filled in by its own change)."""
from __future__ import annotations

from chalice import Blueprint

bp = Blueprint(__name__)
