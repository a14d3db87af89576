"""Where job kinds are found: the modules that define them, named once here and imported on
first need, a chunk to run or a job to start. Kept apart from the framework so that importing
it costs nothing else: neither the framework nor the kinds' modules are paid for at cold start.

The list lives here, not in ``app.py``, because in AWS an event handler registered on a
Blueprint runs in a Lambda whose handler is that Blueprint's module (Chalice's handler string):
``app.py`` is never imported there, so wiring done only in it would be missing exactly where the
jobs run.
"""
from __future__ import annotations

from importlib import import_module

KIND_MODULES = (
    "chalicelib.services.orders.bulk", "chalicelib.services.orders.export",
    "chalicelib.services.money.refunds", "chalicelib.services.campaigns.campaigns",
    "chalicelib.services.campaigns.affected_customers", "chalicelib.services.options.bulk",
    "chalicelib.services.contacts.reindex", "chalicelib.services.orders.relisting",
    "chalicelib.services.customers.merge", "chalicelib.services.customers.privacy",
    "chalicelib.services.customers.segments", "chalicelib.services.subscriptions.collector",
    "chalicelib.services.subscriptions.renewal", "chalicelib.services.subscriptions.renewal_notice",
    "chalicelib.services.cards.mass_print",
)

_kind_modules: list[str] = list(KIND_MODULES)


def register_kind_modules(*modules: str) -> None:
    """Name more modules that define job kinds (a test's own kinds): imported the first time a
    kind is looked up, not now; repeating a module is harmless."""
    _kind_modules.extend(module for module in modules if module not in _kind_modules)


def import_kind_modules() -> None:
    for module in _kind_modules:  # already imported: a dictionary lookup in sys.modules
        import_module(module)
