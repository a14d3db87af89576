"""The one wiring point for job kinds (issue 10): ``KIND_MODULES`` in
``chalicelib/services/jobs/wiring.py`` names exactly the modules of ``chalicelib`` that define a kind: a module-level function
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
    path = PACKAGE / "services/jobs/wiring.py"
    tree = ast.parse(path.read_text(encoding="utf-8"), filename=str(path))
    [assigned] = [node for node in tree.body if isinstance(node, ast.Assign)
                  and any(isinstance(target, ast.Name) and target.id == "KIND_MODULES" for target in node.targets)]
    assert isinstance(assigned.value, ast.Tuple) and all(
        isinstance(item, ast.Constant) and isinstance(item.value, str) for item in assigned.value.elts), \
        "the modules are named as plain strings"
    return [item.value for item in assigned.value.elts]


def test_the_search_finds_the_known_job_kinds():
    # Guards the test itself: an ast walk that found nothing would make the next test vacuous.
    assert {"chalicelib.services.orders.export", "chalicelib.services.campaigns.campaigns"} <= kind_modules()
    assert "chalicelib.services.jobs.framework" not in kind_modules()  # defines job_kind, uses it nowhere
    assert "chalicelib.services.jobs.csv_files" not in kind_modules()  # declares file kinds for others


def test_app_registers_every_module_defining_a_job_kind_and_nothing_else():
    wired = wired_modules()
    assert len(wired) == len(set(wired)), "a module named twice"
    found = kind_modules()
    assert not found - set(wired), f"job kinds never named in wiring.py: {sorted(found - set(wired))}"
    assert not set(wired) - found, f"named in wiring.py without a job kind: {sorted(set(wired) - found)}"


def test_the_jobs_lambda_finds_every_kind_without_app_py():
    """In AWS the jobs queue's Lambda imports ``chalicelib.handlers.jobs`` (the Blueprint's module),
    never ``app.py``: the kinds must be found from there alone (a fresh interpreter)."""
    import subprocess
    import sys

    probe = ("import sys; import chalicelib.handlers.jobs; from chalicelib.services.jobs import framework; "
             "assert 'app' not in sys.modules; "
             "print(sorted(name for name in ['options.expire_holds', 'orders.export_csv', 'subscriptions.collect'] "
             "if framework.kind_named(name)))")
    found = subprocess.run([sys.executable, "-c", probe], cwd=ROOT, capture_output=True, text=True, check=True)
    assert found.stdout.strip() == str(sorted(["options.expire_holds", "orders.export_csv", "subscriptions.collect"])), \
        found.stderr
