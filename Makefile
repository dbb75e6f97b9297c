# The README's targets. Only python3 (3.11+) is needed; everything else is installed here.
PYTHON ?= python3
VENV ?= .venv
PY := $(VENV)/bin/python
STAMP := $(VENV)/.installed
CHROMIUM := /usr/bin/chromium

.PHONY: run test lint chaos bench clean

$(STAMP): pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(PY) -m pip install --quiet --upgrade pip
	$(PY) -m pip install --quiet -e '.[test,dev]'
	touch $(STAMP)

run: $(STAMP)
	$(VENV)/bin/oppscan serve

test: $(STAMP) $(CHROMIUM)
	$(PY) -m pytest

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

bench: $(STAMP)
	$(PY) bench/strategy_bench.py

clean:
	rm -rf $(VENV) .data .pytest_cache
