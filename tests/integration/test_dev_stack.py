"""Pieces of `make dev` (devtools.dev) that can be checked without starting the stack.

The whole stack (engines, seeding, `chalice local`, Ctrl-C clean-up) is checked by running
`make dev`; see docs/local-stack.md.
"""
from __future__ import annotations

import os
import time

from devtools.dev import CodeWatcher, chalice_stage_environment


def test_the_app_gets_the_dev_stage_variables_of_the_chalice_config():
    env = chalice_stage_environment("dev")
    assert env["STAGE"] == "dev"
    assert env["POWERTOOLS_SERVICE_NAME"] == "ticketing"  # global variables come along


def _bump(path):
    stamp = time.time() + 5
    os.utime(path, (stamp, stamp))


def test_code_watcher_notices_edits_new_and_removed_files_but_not_bytecode(tmp_path):
    (tmp_path / "chalicelib").mkdir()
    (tmp_path / "app.py").write_text("app = None\n")
    (tmp_path / "chalicelib" / "x.py").write_text("")
    watcher = CodeWatcher(("app.py", "chalicelib", "templates"), root=tmp_path)
    assert watcher.changed() is None

    _bump(tmp_path / "app.py")
    assert watcher.changed() == "app.py"
    assert watcher.changed() is None

    (tmp_path / "chalicelib" / "__pycache__").mkdir()
    (tmp_path / "chalicelib" / "__pycache__" / "x.cpython-311.pyc").write_bytes(b"")
    assert watcher.changed() is None

    (tmp_path / "chalicelib" / "y.py").write_text("")
    assert watcher.changed() == "chalicelib/y.py"
    (tmp_path / "chalicelib" / "x.py").unlink()
    assert watcher.changed() == "chalicelib/x.py"
