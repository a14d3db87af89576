"""Subscription screens: products and payment plans, renewal runs, instalments (filled in by its own change)."""
from __future__ import annotations

from chalice import Blueprint

bp = Blueprint(__name__)
