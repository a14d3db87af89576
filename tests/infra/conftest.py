"""The prod stage packaged once per test session (``chalice package`` with the stack merged in,
as ``make package`` does): every template test reads the same output."""
from __future__ import annotations

import json
from pathlib import Path

import pytest

from infra import deploy, stage


@pytest.fixture(scope="session")
def packaged(tmp_path_factory) -> Path:
    out = tmp_path_factory.mktemp("package") / "prod"
    deploy.package(stage.load("prod"), out)
    return out


@pytest.fixture(scope="session")
def sam(packaged) -> dict:
    return json.loads((packaged / "sam.json").read_text())
