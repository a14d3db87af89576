"""Every refusal a service can raise says what kind of refusal it is in French as well as in
English: the console's pages are French first and lead with that title (the service's detail,
written in English, follows, marked as such)."""
from __future__ import annotations

import importlib
import pkgutil

import chalicelib
from chalicelib.errors import DomainError


def _every_refusal() -> list[type[DomainError]]:
    for module in pkgutil.walk_packages(chalicelib.__path__, "chalicelib."):
        importlib.import_module(module.name)
    found, waiting = [], [DomainError]
    while waiting:
        kind = waiting.pop()
        found.append(kind)
        waiting.extend(kind.__subclasses__())
    return found


def test_each_refusal_that_has_a_title_has_its_french_title_beside_it():
    refusals = _every_refusal()
    assert len(refusals) > 50  # the walk found the services' refusals, not just the base classes
    untranslated = [f"{kind.__module__}.{kind.__name__}" for kind in refusals
                    if "title" in vars(kind) and "title_fr" not in vars(kind)]
    assert untranslated == []
    same = [kind.__name__ for kind in refusals if kind.title_fr == kind.title]
    assert same == []
