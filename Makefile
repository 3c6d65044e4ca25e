# tinyperf: `make demo` and `make test` work on a fresh clone.
PY ?= python3
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed
REFDIR ?= $(abspath ../shared/reference)

.PHONY: install demo test bench clean

$(STAMP): pyproject.toml
	$(PY) -m venv $(VENV)
	$(BIN)/pip install --quiet --upgrade pip
	$(BIN)/pip install --quiet -e '.[test]'
	touch $(STAMP)

install: $(STAMP)

demo: $(STAMP)
	TINYPERF_REFERENCE_DIR=$${TINYPERF_REFERENCE_DIR:-$(REFDIR)} $(BIN)/python -m harness.demo --output-dir demo_sessions

test: $(STAMP)
	TINYPERF_REFERENCE_DIR=$${TINYPERF_REFERENCE_DIR:-$(REFDIR)} $(BIN)/python -m pytest -q -ra

bench: $(STAMP)
	TINYPERF_REFERENCE_DIR=$${TINYPERF_REFERENCE_DIR:-$(REFDIR)} $(BIN)/python benchmarks/link_efficiency.py

clean:
	rm -rf $(VENV) demo_sessions .pytest_cache
