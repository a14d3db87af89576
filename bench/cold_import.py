"""Cold-start cost of the app: median wall time of a fresh ``import app`` against a fresh
``import chalice, boto3`` (what any Chalice Lambda pays anyway), and their ratio.

    .venv/bin/python bench/cold_import.py [--runs 15] [--other PATH]

Target: ratio <= 1.5. Heavy libraries (jwt/cryptography, pydantic and the schemas, stripe,
jinja2, geoip2) are imported where used, not at import of the app. Printed twice: with
tracing off (dev, tests) and on (prod), where the X-Ray SDK that Powertools' Tracer needs
to patch boto3 is a cost of its own. The runs interleave (baseline, app, app traced, then
again), so a slow moment of the machine weighs on every figure alike. ``--other`` times a
second checkout of the project in the same rounds (e.g. the previous commit, checked out
with ``git worktree add``), to compare two versions on one machine at one time.
"""
from __future__ import annotations

import argparse
import os
import statistics
import subprocess
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
BASELINE = "import chalice, boto3"


def _seconds(statement: str, root: Path, tracing: bool) -> float:
    env = {**os.environ, "PYTHONDONTWRITEBYTECODE": "0", "AWS_DEFAULT_REGION": "eu-west-3",
           "POWERTOOLS_TRACE_DISABLED": "false" if tracing else "true"}
    started = time.perf_counter()
    subprocess.run([sys.executable, "-c", statement], cwd=root, env=env, check=True)
    return time.perf_counter() - started


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--runs", type=int, default=15)
    parser.add_argument("--other", type=Path, help="another checkout to time in the same rounds")
    arguments = parser.parse_args()
    roots = {"this checkout": ROOT, **({f"other ({arguments.other})": arguments.other} if arguments.other else {})}
    cases = [("baseline", BASELINE, ROOT, False)]
    for label, root in roots.items():
        cases += [(f"{label}, tracing off (dev, tests)", "import app", root, False),
                  (f"{label}, tracing on (prod, X-Ray SDK)", "import app", root, True)]
    for _, statement, root, tracing in cases:  # warm the .pyc caches
        _seconds(statement, root, tracing)
    timings: dict[str, list[float]] = {label: [] for label, *_ in cases}
    for _ in range(arguments.runs):
        for label, statement, root, tracing in cases:
            timings[label].append(_seconds(statement, root, tracing))
    baseline = statistics.median(timings["baseline"])
    print(f"{BASELINE:<58}: {baseline * 1000:7.1f} ms (median of {arguments.runs}, interleaved)")
    for label, *_ in cases[1:]:
        application = statistics.median(timings[label])
        print(f"import app, {label:<46}: {application * 1000:7.1f} ms, ratio {application / baseline:.2f}"
              "  (target <= 1.5)")


if __name__ == "__main__":
    main()
