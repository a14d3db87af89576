"""A deployment stage's own values: ``infra/stages/<stage>.json``.

- ``region``: where the stack lives.
- ``destroy``: whether ``make destroy`` may delete the stage (a test stage), and so whether its
  tables, buckets and user pool are deleted with the stack (true) or retained (false: prod).
- ``parameters``: the template's parameters (:data:`infra.template.PARAMETERS`): domain,
  certificate, mail sender, alarm address, user pool settings, GeoIP database.

Nothing secret belongs here: the secrets are SSM parameters, created once (``docs/deploy.md``).
"""
from __future__ import annotations

import json
from dataclasses import dataclass
from pathlib import Path

STAGES = Path(__file__).resolve().parent / "stages"


@dataclass(frozen=True)
class Stage:
    name: str
    region: str
    destroy: bool
    parameters: dict[str, str]

    @property
    def stack_name(self) -> str:
        return f"ticketing-{self.name}"

    @property
    def retention(self) -> str:
        """The DeletionPolicy of what holds data: kept unless the stage is a disposable one."""
        return "Delete" if self.destroy else "Retain"


def load(name: str) -> Stage:
    path = STAGES / f"{name}.json"
    if not path.exists():
        known = ", ".join(sorted(stage.stem for stage in STAGES.glob("*.json")))
        raise SystemExit(f"no stage {name!r}: infra/stages/{name}.json is missing (stages: {known})")
    document = json.loads(path.read_text())
    return Stage(name=name, region=document["region"], destroy=bool(document.get("destroy", False)),
                 parameters={key: str(value) for key, value in document["parameters"].items()})


def current() -> Stage:
    """The stage being packaged (``STAGE``, as the settings read it)."""
    from chalicelib.config import settings

    return load(settings.stage)


def retained() -> dict:
    """What holds data (tables, buckets, the user pool) is retained when the stack is deleted and
    when a change would replace it (the data outlives any template mistake), except in a
    disposable stage, which ``make destroy`` removes whole. A stage without a file (local, tests)
    retains, the safe side."""
    from chalicelib.config import settings

    policy = current().retention if (STAGES / f"{settings.stage}.json").exists() else "Retain"
    return {"DeletionPolicy": policy, "UpdateReplacePolicy": policy}
