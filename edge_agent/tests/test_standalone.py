"""The agent is a package of its own: nothing in it imports the app."""

import ast
from pathlib import Path

SRC = Path(__file__).resolve().parents[1] / "src" / "edge_agent"
APP_PACKAGES = {"chalicelib", "app", "devtools", "infra", "bench", "tests"}


def imported_modules(path: Path) -> set[str]:
    names = set()
    for node in ast.walk(ast.parse(path.read_text(), str(path))):
        if isinstance(node, ast.Import):
            names |= {alias.name for alias in node.names}
        elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            names.add(node.module)
    return names


def test_no_module_of_the_agent_imports_the_app():
    sources = sorted(SRC.rglob("*.py"))
    assert len(sources) >= 10
    offenders = {
        str(path.relative_to(SRC)): sorted(m for m in imported_modules(path) if m.split(".")[0] in APP_PACKAGES)
        for path in sources
    }
    assert {k: v for k, v in offenders.items() if v} == {}


def test_the_scan_sees_an_import_of_the_app(tmp_path):
    sample = tmp_path / "sample.py"
    sample.write_text("import os\nfrom chalicelib.services import cards\n")
    assert "chalicelib.services" in imported_modules(sample)


def test_a_wrong_configuration_stops_the_agent_naming_the_setting(tmp_path):
    import subprocess
    import sys

    config = tmp_path / "agent.toml"
    config.write_text(
        '[agent]\ntenant_id = "v"\nsite_id = "s"\nagent_key = "zz"\njournal = "j.sqlite3"\n'
        '[aws]\nregion = "eu-west-3"\nprint_queue_url = "q"\nresults_queue_url = "r"\n'
        '[[printers]]\nprinter_id = "p"\ndriver = "simulator"\n'
    )
    run = subprocess.run([sys.executable, "-m", "edge_agent", "run", "--config", str(config)],
                         capture_output=True, text=True, timeout=60)
    assert run.returncode == 2 and "agent.agent_key: not hexadecimal" in run.stderr
    config.write_text(config.read_text().replace('"zz"', '"' + "ab" * 32 + '"').replace('driver = "simulator"',
                                                                                        'driver = "zebra"'))
    run = subprocess.run([sys.executable, "-m", "edge_agent", "check", "--config", str(config)],
                         capture_output=True, text=True, timeout=60)
    assert run.returncode == 2 and "printers[0].driver: 'zebra' is not one of evolis, simulator" in run.stderr
