"""The one wiring point for job kinds (issue 10): ``app.py``'s ``register_kind_modules(...)``
names exactly the modules of ``chalicelib`` that define a kind: a module-level function
decorated ``@job_kind(...)``, or a module-level ``file_job_kind(...)`` call (a kind that writes
a file). A kind
whose module is missing there would never run (its chunks find no handler); a module named
there without a kind is dead wiring.

Both sides are read from the source with ``ast``; nothing is imported.
"""
from __future__ import annotations

import ast
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
PACKAGE = ROOT / "chalicelib"


def _module_name(path: Path) -> str:
    parts = path.relative_to(ROOT).with_suffix("").parts
    return ".".join(parts[:-1] if parts[-1] == "__init__" else parts)


def _called_name(node: ast.expr) -> str | None:
    """``job_kind`` for ``job_kind(...)`` or ``framework.job_kind(...)``."""
    if not isinstance(node, ast.Call):
        return None
    if isinstance(node.func, ast.Name):
        return node.func.id
    if isinstance(node.func, ast.Attribute):
        return node.func.attr
    return None


def _defines_a_job_kind(tree: ast.Module) -> bool:
    decorated = any(_called_name(decorator) == "job_kind"
                    for node in tree.body if isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef))
                    for decorator in node.decorator_list)
    declared = any(isinstance(node, ast.Expr) and _called_name(node.value) == "file_job_kind" for node in tree.body)
    return decorated or declared


def kind_modules() -> set[str]:
    return {_module_name(path) for path in PACKAGE.rglob("*.py")
            if _defines_a_job_kind(ast.parse(path.read_text(encoding="utf-8"), filename=str(path)))}


def wired_modules() -> list[str]:
    tree = ast.parse((ROOT / "app.py").read_text(encoding="utf-8"), filename="app.py")
    calls = [node for node in ast.walk(tree) if _called_name(node) == "register_kind_modules"]
    assert len(calls) == 1, "app.py wires the job kinds in one register_kind_modules(...) call"
    call, = calls
    assert not call.keywords and all(isinstance(arg, ast.Constant) and isinstance(arg.value, str)
                                     for arg in call.args), "the modules are named as plain strings"
    return [arg.value for arg in call.args]


def test_the_search_finds_the_known_job_kinds():
    # Guards the test itself: an ast walk that found nothing would make the next test vacuous.
    assert {"chalicelib.services.orders.export", "chalicelib.services.campaigns.campaigns"} <= kind_modules()
    assert "chalicelib.services.jobs.framework" not in kind_modules()  # defines job_kind, uses it nowhere
    assert "chalicelib.services.jobs.csv_files" not in kind_modules()  # declares file kinds for others


def test_app_registers_every_module_defining_a_job_kind_and_nothing_else():
    wired = wired_modules()
    assert len(wired) == len(set(wired)), "a module named twice"
    found = kind_modules()
    assert not found - set(wired), f"job kinds never registered in app.py: {sorted(found - set(wired))}"
    assert not set(wired) - found, f"registered in app.py without a job kind: {sorted(set(wired) - found)}"
