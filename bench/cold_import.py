"""Cold-start cost of the app: median wall time of a fresh ``import app`` against a fresh
``import chalice, boto3`` (what any Chalice Lambda pays anyway), and their ratio.

    .venv/bin/python bench/cold_import.py [--runs 15]

Target: ratio <= 1.5. Heavy libraries (jwt/cryptography, stripe, jinja2, geoip2) must be
imported where used, not at import of the app.
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


def median_seconds(statement: str, runs: int) -> float:
    env = {**os.environ, "PYTHONDONTWRITEBYTECODE": "0", "AWS_DEFAULT_REGION": "eu-west-3"}
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
    baseline = median_seconds("import chalice, boto3", runs)
    application = median_seconds("import app", runs)
    print(f"import chalice, boto3 : {baseline * 1000:7.1f} ms (median of {runs})")
    print(f"import app            : {application * 1000:7.1f} ms (median of {runs})")
    print(f"ratio                 : {application / baseline:7.2f}  (target <= 1.5)")


if __name__ == "__main__":
    main()
