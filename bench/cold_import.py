"""Cold-start cost of the app: median wall time of a fresh ``import app`` against a fresh
``import chalice, boto3`` (what any Chalice Lambda pays anyway), and their ratio.

    .venv/bin/python bench/cold_import.py [--runs 15]

Target: ratio <= 1.5. Heavy libraries (jwt/cryptography, pydantic and the schemas, stripe,
jinja2, geoip2) are imported where used, not at import of the app. Printed twice: with
tracing off (dev, tests) and on (prod), where the X-Ray SDK that Powertools' Tracer needs
to patch boto3 is a cost of its own.
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


def median_seconds(statement: str, runs: int, tracing: bool) -> float:
    env = {**os.environ, "PYTHONDONTWRITEBYTECODE": "0", "AWS_DEFAULT_REGION": "eu-west-3",
           "POWERTOOLS_TRACE_DISABLED": "false" if tracing else "true"}
    subprocess.run([sys.executable, "-c", statement], cwd=ROOT, env=env, check=True)  # warm the .pyc cache
    timings = []
    for _ in range(runs):
        started = time.perf_counter()
        subprocess.run([sys.executable, "-c", statement], cwd=ROOT, env=env, check=True)
        timings.append(time.perf_counter() - started)
    return statistics.median(timings)


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--runs", type=int, default=15)
    runs = parser.parse_args().runs
    baseline = median_seconds("import chalice, boto3", runs, tracing=False)
    print(f"import chalice, boto3            : {baseline * 1000:7.1f} ms (median of {runs})")
    for label, tracing in (("tracing off (dev, tests)", False), ("tracing on (prod, X-Ray SDK)", True)):
        application = median_seconds("import app", runs, tracing=tracing)
        print(f"import app, {label:<30}: {application * 1000:7.1f} ms, ratio {application / baseline:.2f}"
              "  (target <= 1.5)")


if __name__ == "__main__":
    main()
