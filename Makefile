# `make run` and `make test` work on a fresh clone: they create .venv and install what they need.
VENV := .venv
PY := $(VENV)/bin/python
INSTALLED := $(VENV)/.installed
STATE := $(or $(VELLUM_LOCAL_STATE),.local)
LAYER := layers/dist/native-arm64.zip
ASSETS := chalicelib/previews/static/vendor/.lock

.PHONY: run test lint typecheck pytest token job reset layer synth bench-pdf

$(INSTALLED): requirements.txt requirements-dev.txt requirements-nodeps.txt infrastructure/requirements.txt layers/requirements.txt
	@test -x $(PY) || python3 -m venv $(VENV) || \
		(apt-get update && apt-get install -y python3-venv && python3 -m venv $(VENV))
	$(PY) -m pip install --quiet --upgrade pip
	$(PY) -m pip install --quiet -r requirements.txt -r requirements-dev.txt
	$(PY) -m pip install --quiet --no-deps -r requirements-nodeps.txt
	@touch $@

run: $(INSTALLED) $(ASSETS)
	$(PY) -m local.run

test: lint typecheck pytest

lint: $(INSTALLED)
	$(VENV)/bin/ruff check .
	$(VENV)/bin/ruff format --check .

typecheck: $(INSTALLED)
	$(VENV)/bin/mypy

pytest: $(INSTALLED) $(LAYER) $(ASSETS)
	bash tests/setup.sh
	$(PY) -m pytest

# make token USER=alice [ADMIN=1]: a bearer token for the local stack, alone on the last line.
token: $(INSTALLED)
	@$(PY) -m local.token $(USER) $(if $(ADMIN),--admin)

# make job NAME=housekeeping: run one scheduled handler now against the running `make run` stack.
job: $(INSTALLED)
	$(PY) -m local.job $(NAME)

reset:
	rm -rf "$(STATE)"

# The Lambda layer with native dependencies: layers/dist/native-$(ARCH).zip
layer: $(INSTALLED)
	bash layers/build.sh $(or $(ARCH),arm64)

# The layer the deployed functions (arm64) load; the IaC packages it.
$(LAYER): layers/requirements.txt layers/build.sh | $(INSTALLED)
	bash layers/build.sh arm64

# The libraries preview pages load (pdf.js, OpenSeadragon), from npm into chalicelib/previews/static/vendor,
# and the console built from web/console into chalicelib/previews/static/console.
$(ASSETS): web/package-lock.json web/build.sh web/fetch-bundle.sh $(wildcard web/console/*)
	bash web/build.sh

# The CloudFormation of every stage, offline: infrastructure/cdk.out (docs/deploy.md).
synth: $(INSTALLED) $(LAYER) $(ASSETS)
	$(PY) -m infrastructure

# PDF pages ingested per second against Poppler's pdftoppm, and search latency (docs/benchmarks.md).
bench-pdf: $(INSTALLED)
	@command -v pdftoppm >/dev/null || (apt-get update && apt-get install -y poppler-utils)
	$(PY) -m bench.bench_pdf_pages $(if $(QUICK),--quick)
