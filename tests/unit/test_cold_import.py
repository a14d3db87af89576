"""The cold start keeps heavy libraries off ``import app``: a fresh interpreter in prod's
configuration (tracing on, no secret anywhere) imports the app without pydantic, stripe,
jinja2, geoip2, PIL, cryptography (nor jwt, nor the X-Ray SDK); the first invocation builds
the tracer and patches botocore. Each case runs in its own interpreter, as a Lambda starts."""
from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
HEAVY = ("pydantic", "stripe", "jinja2", "geoip2", "PIL", "cryptography", "jwt", "aws_xray_sdk")
SECRET_VARIABLES = ("SIGNING_SECRET", "STRIPE_SECRET_KEY", "STRIPE_WEBHOOK_SECRET", "JWT_AUDIENCE", "SECRETS_STORE")


def _fresh(statements: str, *, tracing: bool) -> dict:
    """What ``statements`` print (JSON) in a fresh interpreter configured as prod's Lambda."""
    env = {name: value for name, value in os.environ.items() if name not in SECRET_VARIABLES}
    # LAMBDA_TASK_ROOT: Powertools' Tracer works only where it believes it runs in Lambda.
    env.update({"STAGE": "prod", "AWS_DEFAULT_REGION": "eu-west-3", "AWS_LAMBDA_FUNCTION_NAME": "ticketing-prod",
                "LAMBDA_TASK_ROOT": str(ROOT),
                "AWS_XRAY_CONTEXT_MISSING": "IGNORE_ERROR",
                "POWERTOOLS_TRACE_DISABLED": "false" if tracing else "true"})
    done = subprocess.run([sys.executable, "-c", statements], cwd=ROOT, env=env, capture_output=True, text=True,
                          timeout=120)
    assert done.returncode == 0, done.stderr[-2000:]
    return json.loads(done.stdout.strip().splitlines()[-1])


LOADED = "json.dumps({'heavy': sorted(m for m in %r if m in sys.modules)," \
         " 'patched': type(botocore.client.BaseClient.__dict__['_make_api_call']).__name__ != 'function'})" % (HEAVY,)


def test_prod_imports_the_app_without_heavy_libraries_nor_any_secret():
    loaded = _fresh(f"import json, sys, botocore.client, app; print({LOADED})", tracing=True)
    assert loaded == {"heavy": [], "patched": False}


def test_the_first_traced_invocation_builds_the_tracer_and_patches_botocore():
    loaded = _fresh("import json, sys, botocore.client, app\n"
                    "from chalicelib.observability import start_invocation, tracer\n"
                    "start_invocation('request-1'); assert tracer() is tracer()\n"
                    f"print({LOADED})", tracing=True)
    assert loaded == {"heavy": ["aws_xray_sdk"], "patched": True}


def test_with_tracing_off_an_invocation_builds_no_tracer():
    loaded = _fresh("import json, sys, botocore.client, app\n"
                    "from chalicelib.observability import start_invocation, tracer\n"
                    "start_invocation('request-1'); assert tracer() is None\n"
                    f"print({LOADED})", tracing=False)
    assert loaded == {"heavy": [], "patched": False}


def test_each_plain_record_route_names_its_record_kind_as_the_kind_says():
    """Plain records' routes name their record kind by path (importing it would import its
    model at cold start): what they declare of it (the noun, the list's filters) is checked here."""
    import app  # noqa: F401 - registers every route
    from chalicelib.handlers.http import RECORD_ROUTES, record_kind

    assert len(RECORD_ROUTES) >= 10
    for routes in RECORD_ROUTES:
        kind = record_kind(routes.records)
        assert routes.noun == kind.model.entity_type, routes.path
        assert routes.filters == tuple(kind.filters), routes.path
