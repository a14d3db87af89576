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


def test_make_pay_reads_the_running_stack_from_its_environment_file(tmp_path, monkeypatch):
    from devtools import card_payment, dev

    stack_env = tmp_path / "stack.env"
    monkeypatch.setattr(dev, "STACK_ENV", stack_env)
    monkeypatch.setattr(card_payment, "STACK_ENV", stack_env)
    dev.write_stack_env({"STRIPE_API_BASE": "http://127.0.0.1:4242", "STRIPE_SECRET_KEY": "sk_test_local"},
                        token="eyJ.a b")
    variables = card_payment._stack_variables()
    assert variables["STRIPE_API_BASE"] == "http://127.0.0.1:4242" and variables["DEV_TOKEN"] == "eyJ.a b"


def test_make_pay_refuses_what_is_not_a_payment_intent():
    import pytest

    from devtools import card_payment

    with pytest.raises(card_payment.CardRefused):
        card_payment.pay_by_card("http://127.0.0.1:1", "ord_123/../x")
