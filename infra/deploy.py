"""Package, deploy and destroy a stage: ``make package|deploy|destroy STAGE=<stage>``.

- ``package``: the stack's template (:mod:`infra.template`) merged into ``chalice package``'s
  output, in ``dist/<stage>/`` (``sam.json`` and ``deployment.zip``). It needs no AWS account
  and no secret: the app is imported only to list its functions, with the stage's variables
  from ``.chalice/config.json``; the few values ``chalicelib.config`` insists on at import are
  given :data:`IMPORT_PLACEHOLDER`, which never reaches the template (a test checks it).
- ``deploy``: package, upload the code and template to the stage's artifacts bucket (made on
  first use: private, encrypted), then ``aws cloudformation deploy`` with the stage's
  parameters (``infra/stages/<stage>.json``). The AWS credentials are the caller's.
- ``destroy``: only a stage whose file says ``"destroy": true`` (never prod): empties its
  buckets, then deletes its stack and waits for the deletion.

Every AWS call goes through the ``aws`` command (awscli, from requirements-dev.txt); the
tests put a recording stand-in first on ``PATH`` and check the calls, since no AWS account
is reachable from here.
"""
from __future__ import annotations

import argparse
import json
import os
import re
import subprocess
import sys
from pathlib import Path

from infra.stage import Stage, load

ROOT = Path(__file__).resolve().parents[1]
IMPORT_PLACEHOLDER = "packaging-import-only"
# What chalicelib.config refuses to import prod without (until secrets are read from SSM on
# first use): given a placeholder so the app can be imported to list its functions.
IMPORT_REQUIRED = ("SIGNING_SECRET", "STRIPE_SECRET_KEY", "STRIPE_WEBHOOK_SECRET", "JWT_AUDIENCE")
CAPABILITIES = ("CAPABILITY_IAM", "CAPABILITY_AUTO_EXPAND")


def _settings_variables() -> set[str]:
    """Every variable chalicelib.config reads: none may leak from the caller's shell into packaging."""
    source = (ROOT / "chalicelib" / "config.py").read_text()
    return set(re.findall(r'_(?:env|flag)\("([A-Z0-9_]+)"', source))


def packaging_environment(stage: Stage) -> dict[str, str]:
    config = json.loads((ROOT / ".chalice" / "config.json").read_text())
    if stage.name not in config["stages"]:
        raise SystemExit(f".chalice/config.json has no stage {stage.name!r}")
    environment = {name: value for name, value in os.environ.items() if name not in _settings_variables()}
    environment.update(config.get("environment_variables", {}))
    environment.update(config["stages"][stage.name].get("environment_variables", {}))
    environment.update({name: IMPORT_PLACEHOLDER for name in IMPORT_REQUIRED})
    environment.update({"STAGE": stage.name, "AWS_DEFAULT_REGION": stage.region, "AWS_REGION": stage.region,
                        "POWERTOOLS_TRACE_DISABLED": "true"})  # importing only: no tracer to build
    return environment


def _python_tool(name: str) -> str:
    return str(Path(sys.executable).with_name(name))


def package(stage: Stage, out: Path) -> Path:
    """Write ``out/sam.json`` and ``out/deployment.zip``; the template's path."""
    environment = packaging_environment(stage)
    merge = ROOT / ".local" / "infra" / f"{stage.name}.json"
    merge.parent.mkdir(parents=True, exist_ok=True)
    generated = subprocess.run([sys.executable, "-m", "infra.template"], cwd=ROOT, env=environment, check=True,
                               capture_output=True, text=True)
    merge.write_text(generated.stdout)
    subprocess.run([_python_tool("chalice"), "package", "--stage", stage.name, "--merge-template", str(merge),
                    str(out)], cwd=ROOT, env=environment, check=True)
    return out / "sam.json"


def _aws(stage: Stage, *args: str, capture: bool = False) -> str:
    command = [os.environ.get("AWS_CLI", _python_tool("aws")), *args, "--region", stage.region]
    print("+", " ".join(command), flush=True)
    # Only the answer is captured: the command's errors reach the caller's terminal.
    result = subprocess.run(command, check=True, text=True, stdout=subprocess.PIPE if capture else None,
                            env=dict(os.environ))
    return result.stdout if capture else ""


def artifacts_bucket(stage: Stage) -> str:
    """The bucket the code and template are uploaded to, made private and encrypted on first use."""
    account = json.loads(_aws(stage, "sts", "get-caller-identity", "--output", "json", capture=True))["Account"]
    bucket = f"ticketing-artifacts-{account}-{stage.region}"
    try:
        _aws(stage, "s3api", "head-bucket", "--bucket", bucket, capture=True)
    except subprocess.CalledProcessError:
        _aws(stage, "s3api", "create-bucket", "--bucket", bucket,
             "--create-bucket-configuration", f"LocationConstraint={stage.region}")
        _aws(stage, "s3api", "put-public-access-block", "--bucket", bucket, "--public-access-block-configuration",
             "BlockPublicAcls=true,IgnorePublicAcls=true,BlockPublicPolicy=true,RestrictPublicBuckets=true")
        _aws(stage, "s3api", "put-bucket-encryption", "--bucket", bucket, "--server-side-encryption-configuration",
             json.dumps({"Rules": [{"ApplyServerSideEncryptionByDefault": {"SSEAlgorithm": "AES256"}}]}))
    return bucket


def deploy(stage: Stage, out: Path) -> None:
    template = package(stage, out)
    bucket = artifacts_bucket(stage)
    packaged = out / "packaged.json"
    _aws(stage, "cloudformation", "package", "--template-file", str(template), "--s3-bucket", bucket,
         "--s3-prefix", stage.stack_name, "--output-template-file", str(packaged), "--use-json")
    _aws(stage, "cloudformation", "deploy", "--template-file", str(packaged), "--stack-name", stage.stack_name,
         "--s3-bucket", bucket, "--s3-prefix", stage.stack_name, "--capabilities", *CAPABILITIES,
         "--no-fail-on-empty-changeset", "--parameter-overrides",
         *(f"{key}={value}" for key, value in sorted(stage.parameters.items())))


def destroy(stage: Stage) -> None:
    if not stage.destroy:
        raise SystemExit(f"stage {stage.name} may not be destroyed (infra/stages/{stage.name}.json: "
                         '"destroy": false); delete it by hand if you really mean it')
    outputs = json.loads(_aws(stage, "cloudformation", "describe-stacks", "--stack-name", stage.stack_name,
                              "--query", "Stacks[0].Outputs", "--output", "json", capture=True)) or []
    for output in outputs:
        if output["OutputKey"].endswith("BucketName"):  # a bucket must be empty to be deleted
            _aws(stage, "s3", "rm", f"s3://{output['OutputValue']}", "--recursive")
    _aws(stage, "cloudformation", "delete-stack", "--stack-name", stage.stack_name)
    _aws(stage, "cloudformation", "wait", "stack-delete-complete", "--stack-name", stage.stack_name)


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("command", choices=["package", "deploy", "destroy"])
    parser.add_argument("--stage", required=True, help="a stage of infra/stages/ (prod, staging)")
    parser.add_argument("--out", type=Path, help="where the package goes (default: dist/<stage>)")
    arguments = parser.parse_args(argv)
    stage = load(arguments.stage)
    out = arguments.out or ROOT / "dist" / stage.name
    if arguments.command == "package":
        print(package(stage, out))
    elif arguments.command == "deploy":
        deploy(stage, out)
    else:
        destroy(stage)


if __name__ == "__main__":
    main()
