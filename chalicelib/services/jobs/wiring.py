"""Where job kinds are found: the modules that define them, named once where the app is wired
(``app.py`` calls :func:`register_kind_modules`) and imported on first need, a chunk to run
or a job to start. Kept apart from the framework so that wiring the app imports nothing else:
neither the framework nor the kinds' modules are paid for at cold start."""
from __future__ import annotations

from importlib import import_module

_kind_modules: list[str] = []


def register_kind_modules(*modules: str) -> None:
    """Name the modules that define job kinds (dotted paths): imported the first time a kind is
    looked up, not now. Called once where the app is wired; repeating a module is harmless."""
    _kind_modules.extend(module for module in modules if module not in _kind_modules)


def import_kind_modules() -> None:
    for module in _kind_modules:  # already imported: a dictionary lookup in sys.modules
        import_module(module)
