"""Cold-start cost of the app: a fresh ``import app`` against a fresh ``import chalice, boto3``
(what any Chalice Lambda pays anyway), as the median of per-pair ratios.

    .venv/bin/python bench/cold_import.py [--pairs 15] [--other PATH]

The two commands run in pairs, one right after the other (A B A B ...), and each pair gives
one ratio: a slow moment of a busy machine weighs on both halves of a pair alike, where
timing all of A and then all of B would move the ratio with the load's drift. Printed: the
median ratio, the spread of the ratios (quartiles, and least and most) and the medians in ms,
for two configurations, each timed against a baseline run in the same configuration:

- tracing off (dev, tests): ``POWERTOOLS_TRACE_DISABLED=true``; target <= 1.2;
- tracing on (prod): ``STAGE=prod``, ``POWERTOOLS_TRACE_DISABLED`` unset, no secret in the
  environment, and what Lambda sets (``LAMBDA_TASK_ROOT``, ``AWS_LAMBDA_FUNCTION_NAME``), so an
  import that built Powertools' Tracer would really patch botocore; target <= 1.5.

``import app`` no longer imports boto3, PynamoDB nor Powertools (each is imported on first
use), so it costs less than the baseline. What was moved is paid by the container's first
invocation instead, so the bench also times, for information, ``import app`` followed by what a
first staff request loads (:data:`FIRST_REQUEST`: the logger and, in prod, the tracer; the
token check's jwt and cryptography; pydantic and the route's schemas; a service with its
PynamoDB models; a boto3 client): the cold start a first ``GET /venues`` really pays before
its first network call, comparable between checkouts where ``import app`` alone is not.

``--other`` times a second checkout of the project in the same rounds (e.g. the previous
commit, checked out with ``git worktree add``), to compare two versions on one machine at one time.
"""
from __future__ import annotations

import argparse
import os
import statistics
import subprocess
import sys
import time
from dataclasses import dataclass, field
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
BASELINE = "import chalice, boto3"
FIRST_REQUEST = "; ".join((  # written to run on older checkouts too (--other), for a like-for-like figure
    "import app",
    "import chalicelib.observability as observability",
    "getattr(observability, 'start_invocation', lambda request_id: None)('bench')",
    "observability.logger.append_keys(request_id='bench')",
    "import jwt.algorithms",
    "from chalicelib.handlers.http import schema, page_schema",
    "page_schema('catalog:VenueOut'), schema('common:PageQuery')",
    "import chalicelib.services.catalog.catalog",
    "from chalicelib.adapters.aws import client",
    "client('sqs')",
))
# Settings of this shell that would not be in a Lambda's environment.
DROPPED = ("STAGE", "POWERTOOLS_TRACE_DISABLED", "SIGNING_SECRET", "STRIPE_SECRET_KEY", "STRIPE_WEBHOOK_SECRET",
           "JWT_AUDIENCE", "SECRETS_STORE")


def configuration(tracing: bool, root: Path) -> dict[str, str]:
    env = {name: value for name, value in os.environ.items() if name not in DROPPED}
    env.update({"PYTHONDONTWRITEBYTECODE": "0", "AWS_DEFAULT_REGION": "eu-west-3"})
    if tracing:
        env.update({"STAGE": "prod", "LAMBDA_TASK_ROOT": str(root), "AWS_LAMBDA_FUNCTION_NAME": "ticketing-prod",
                    "AWS_XRAY_CONTEXT_MISSING": "IGNORE_ERROR"})
        if root != ROOT:  # an older checkout refused to import in prod without them
            env.update({"SIGNING_SECRET": "bench-" * 6, "STRIPE_SECRET_KEY": "sk_live_bench",
                        "STRIPE_WEBHOOK_SECRET": "whsec_bench", "JWT_AUDIENCE": "bench"})
    else:
        env.update({"STAGE": "dev", "POWERTOOLS_TRACE_DISABLED": "true"})
    return env


def seconds(statement: str, root: Path, env: dict[str, str]) -> float:
    started = time.perf_counter()
    subprocess.run([sys.executable, "-c", statement], cwd=root, env=env, check=True)
    return time.perf_counter() - started


@dataclass
class Case:
    label: str
    root: Path
    tracing: bool
    target: float | None
    statement: str = "import app"
    baseline: list[float] = field(default_factory=list)
    application: list[float] = field(default_factory=list)

    def run_pair(self) -> None:
        env = configuration(self.tracing, self.root)
        self.baseline.append(seconds(BASELINE, self.root, env))
        self.application.append(seconds(self.statement, self.root, env))

    @property
    def ratios(self) -> list[float]:
        return [app / base for base, app in zip(self.baseline, self.application)]

    def report(self) -> str:
        ratios = sorted(self.ratios)
        median = statistics.median(ratios)
        first, _, third = statistics.quantiles(ratios, n=4) if len(ratios) > 1 else (median, median, median)
        if self.target is None:
            verdict = "no target (information)"
        else:
            verdict = f"target <= {self.target}: " + (
                "met" if median <= self.target else f"MISSED by {median - self.target:.2f}")
        return (f"{self.label:<58} ratio {median:.2f} (quartiles {first:.2f}-{third:.2f}, "
                f"least {ratios[0]:.2f}, most {ratios[-1]:.2f}); {statistics.median(self.application) * 1000:.0f} ms "
                f"against {statistics.median(self.baseline) * 1000:.0f} ms; {verdict}")


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--pairs", type=int, default=15, help="pairs (baseline, app) per configuration")
    parser.add_argument("--other", type=Path, help="another checkout to time in the same rounds")
    arguments = parser.parse_args()
    roots = {"": ROOT, **({f" [{arguments.other}]": arguments.other} if arguments.other else {})}
    cases = []
    for suffix, root in roots.items():
        cases += [Case(f"import app, tracing off (dev, tests){suffix}", root, False, 1.2),
                  Case(f"import app, tracing on (prod){suffix}", root, True, 1.5)]
    for suffix, root in roots.items():
        cases += [Case(f"and a first staff request, tracing off{suffix}", root, False, None, FIRST_REQUEST),
                  Case(f"and a first staff request, tracing on{suffix}", root, True, None, FIRST_REQUEST)]
    for case in cases:  # warm the .pyc caches and the file system
        case.run_pair()
        case.baseline.clear()
        case.application.clear()
    for _ in range(arguments.pairs):
        for case in cases:
            case.run_pair()
    print(f"against {BASELINE}, median of {arguments.pairs} interleaved pairs "
          f"({os.cpu_count()} cores, load {os.getloadavg()[0]:.1f}):")
    for case in cases:
        print("  " + case.report())


if __name__ == "__main__":
    main()
