"""The import graph of ``chalicelib`` keeps the agreed flow: handlers -> services -> (models,
adapters); schemas use only values; services import neither schemas nor handlers; no cycle
between modules (imports inside functions and under ``TYPE_CHECKING`` included), and no cycle
between the feature packages of ``services``.

The graph is read from the source with ``ast``, so nothing is imported to build it.
"""
from __future__ import annotations

import ast
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
PACKAGE = ROOT / "chalicelib"

# What each layer may import, by the first part of the module path under chalicelib.
ALLOWED = {
    "values": {"values"},
    "errors": set(),
    "config": set(),
    "observability": {"config"},
    "schemas": {"schemas", "values"},
    "adapters": {"adapters", "config", "errors", "observability"},
    "models": {"models", "adapters", "config", "values"},
    "services": {"services", "models", "adapters", "values", "errors", "config", "observability"},
    "handlers": {"handlers", "services", "values", "errors", "config", "observability", "schemas", "adapters"},
}
# The one handler module that reaches an adapter: the token check at the HTTP edge.
HANDLER_ADAPTERS = {"chalicelib.handlers.http": {"chalicelib.adapters.tokens"}}


def _module_name(path: Path) -> str:
    parts = path.relative_to(ROOT).with_suffix("").parts
    return ".".join(parts[:-1] if parts[-1] == "__init__" else parts)


def _modules() -> dict[str, Path]:
    return {_module_name(path): path for path in PACKAGE.rglob("*.py")}


def _targets(module: str, path: Path, node: ast.AST, known: dict[str, Path]) -> list[str]:
    if isinstance(node, ast.Import):
        names = [alias.name for alias in node.names]
    else:
        base = node.module or ""
        if node.level:
            package = module.split(".") if path.name == "__init__.py" else module.split(".")[:-1]
            package = package[:len(package) - node.level + 1]
            base = ".".join(package + ([base] if base else []))
        names = [f"{base}.{alias.name}" if f"{base}.{alias.name}" in known else base for alias in node.names]
    found = []
    for name in names:
        while name and name not in known:
            name = name.rpartition(".")[0]
        if name.startswith("chalicelib.") and name != module:
            found.append(name)
    return found


def import_graph() -> dict[str, set[str]]:
    """Every chalicelib module and the chalicelib modules it imports, wherever in its source."""
    known = _modules()
    graph: dict[str, set[str]] = {}
    for module, path in known.items():
        tree = ast.parse(path.read_text(encoding="utf-8"), filename=str(path))
        graph[module] = {target for node in ast.walk(tree) if isinstance(node, (ast.Import, ast.ImportFrom))
                         for target in _targets(module, path, node, known)}
    return graph


def _layer(module: str) -> str:
    return module.split(".")[1] if module.count(".") else ""


def _cycles(graph: dict[str, set[str]]) -> list[list[str]]:
    """The strongly connected components of more than one node (Tarjan), each sorted."""
    index: dict[str, int] = {}
    low: dict[str, int] = {}
    stack: list[str] = []
    on_stack: set[str] = set()
    components: list[list[str]] = []

    def visit(node: str) -> None:
        index[node] = low[node] = len(index)
        stack.append(node)
        on_stack.add(node)
        for target in graph.get(node, ()):
            if target not in index:
                visit(target)
                low[node] = min(low[node], low[target])
            elif target in on_stack:
                low[node] = min(low[node], index[target])
        if low[node] == index[node]:
            component = []
            while True:
                member = stack.pop()
                on_stack.discard(member)
                component.append(member)
                if member == node:
                    break
            if len(component) > 1:
                components.append(sorted(component))

    for node in sorted(graph):
        if node not in index:
            visit(node)
    return components


def _against_the_flow(graph: dict[str, set[str]]) -> list[str]:
    wrong = []
    for module, targets in sorted(graph.items()):
        layer = _layer(module)
        if layer not in ALLOWED:
            continue
        for target in sorted(targets):
            target_layer = _layer(target)
            if target_layer not in ALLOWED[layer]:
                wrong.append(f"{module} imports {target}")
            elif layer == "handlers" and target_layer == "adapters" \
                    and target not in HANDLER_ADAPTERS.get(module, set()):
                wrong.append(f"{module} imports {target}")
    return wrong


def _feature_graph(graph: dict[str, set[str]]) -> dict[str, set[str]]:
    """Which feature package of services imports which other one."""
    features: dict[str, set[str]] = {}
    for module, targets in graph.items():
        parts = module.split(".")
        if len(parts) < 4 or parts[1] != "services":
            continue
        for target in targets:
            target_parts = target.split(".")
            if len(target_parts) >= 4 and target_parts[1] == "services" and target_parts[2] != parts[2]:
                features.setdefault(parts[2], set()).add(target_parts[2])
    return features


def test_imports_flow_one_way():
    assert _against_the_flow(import_graph()) == []


def test_no_module_cycle():
    assert _cycles(import_graph()) == []


def test_feature_packages_depend_on_each_other_without_a_cycle():
    assert _cycles(_feature_graph(import_graph())) == []


def test_services_are_feature_packages_with_a_docstring_and_no_eager_imports():
    services = PACKAGE / "services"
    loose = sorted(path.name for path in services.glob("*.py") if path.name != "__init__.py")
    assert loose == []
    for package in sorted(path for path in services.iterdir() if (path / "__init__.py").exists()):
        tree = ast.parse((package / "__init__.py").read_text(encoding="utf-8"))
        assert len(ast.get_docstring(tree) or "") > 80, f"{package.name}/__init__.py says what the package owns"
        imports = [node for node in tree.body if isinstance(node, (ast.Import, ast.ImportFrom))
                   and not (isinstance(node, ast.ImportFrom) and node.module == "__future__")]
        assert imports == [], f"{package.name}/__init__.py imports nothing eagerly"


# The checks themselves, on small graphs: each must see what it is there to see.

def test_the_cycle_check_sees_a_lazy_cycle():
    graph = {"chalicelib.services.a.x": {"chalicelib.services.b.y"}, "chalicelib.services.b.y": {
        "chalicelib.services.a.x"}, "chalicelib.values.z": set()}
    assert _cycles(graph) == [["chalicelib.services.a.x", "chalicelib.services.b.y"]]
    assert _cycles(_feature_graph(graph)) == [["a", "b"]]


@pytest.mark.parametrize("module, target", [
    ("chalicelib.services.mail.sending", "chalicelib.schemas.common"),
    ("chalicelib.schemas.money", "chalicelib.services.money.refunds"),
    ("chalicelib.handlers.mail", "chalicelib.models.mail"),
    ("chalicelib.handlers.shop", "chalicelib.adapters.payments"),
    ("chalicelib.models.orders", "chalicelib.services.orders.status"),
    ("chalicelib.values.text", "chalicelib.services.shared.actors"),
])
def test_the_flow_check_refuses_an_upward_import(module, target):
    assert _against_the_flow({module: {target}}) == [f"{module} imports {target}"]


def test_the_graph_reads_imports_inside_functions():
    graph = import_graph()
    # handlers import their services inside the views, to keep the cold start small
    assert "chalicelib.services.campaigns.refund_page" in graph["chalicelib.handlers.refund_page"]
