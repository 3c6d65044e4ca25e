# tinyperf: `make demo` and `make test` work on a fresh clone.
PY ?= python3
VENV := .venv
BIN := $(VENV)/bin
# Two stamps: the base install (everything `make demo` needs: no TensorFlow, the demo never
# trains) and the dev extras on top of it (`make test`: pytest + the train extra). Either order
# of `make demo` / `make test` installs each part once; a pyproject.toml/setup.py change
# redoes both.
STAMP_BASE := $(VENV)/.installed-base
STAMP_DEV := $(VENV)/.installed-dev
REFDIR ?= $(abspath ../shared/reference)
# The board farm's labgrid (coordinator, exporter, client) in a tool venv of its own: labgrid
# pins pyserial-labgrid, a fork installing the same `serial` module as pyserial, so it stays
# out of the project venv (`tinyperf farm` finds it at ./.venv-farm or $$TINYPERF_LABGRID_PYTHON).
FARM_VENV := .venv-farm
STAMP_FARM := $(FARM_VENV)/.installed-labgrid
# Debian packages the tests use: speech synthesis (demo generator), the Cortex-M toolchain
# and QEMU (firmware_interface), headless chromium (HTML report check), a C compiler, ser2net
# (the board farm: labgrid's exporter serves serial ports with it as RFC 2217).
APT_PACKAGES ?= espeak-ng gcc-arm-none-eabi libnewlib-arm-none-eabi qemu-system-arm chromium gcc make ser2net
APT_TOOLS ?= espeak-ng arm-none-eabi-gcc qemu-system-arm chromium cc make ser2net

.PHONY: install install-demo farm-venv system-deps demo test bench soak clean

$(BIN)/python:
	$(PY) -m venv $(VENV)
	$(BIN)/pip install --quiet --upgrade pip

$(STAMP_BASE): pyproject.toml setup.py | $(BIN)/python
	$(BIN)/pip install --quiet -e .
	touch $@

$(STAMP_DEV): $(STAMP_BASE)
	$(BIN)/pip install --quiet -e '.[test,train]'
	touch $@

install-demo: $(STAMP_BASE)

install: $(STAMP_DEV)

$(STAMP_FARM):
	$(PY) -m venv $(FARM_VENV)
	$(FARM_VENV)/bin/pip install --quiet 'labgrid>=24,<27'
	touch $@

farm-venv: $(STAMP_FARM)

# Installs missing Debian packages when run as root with apt-get (CI); elsewhere it only
# says what is missing, and the tests that need them skip with that reason.
system-deps:
	@missing=""; for t in $(APT_TOOLS); do command -v $$t >/dev/null 2>&1 || missing="$$missing $$t"; done; \
	if [ -z "$$missing" ]; then exit 0; fi; \
	if [ "$$(id -u)" = 0 ] && command -v apt-get >/dev/null 2>&1; then \
		echo "installing Debian packages: $(APT_PACKAGES)"; \
		DEBIAN_FRONTEND=noninteractive apt-get update -qq >/dev/null && \
		DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends $(APT_PACKAGES) >/dev/null; \
	else echo "note: missing$$missing (install: apt-get install $(APT_PACKAGES))"; fi

demo: $(STAMP_BASE)
	TINYPERF_REFERENCE_DIR=$${TINYPERF_REFERENCE_DIR:-$(REFDIR)} $(BIN)/python -m tinyperf demo --output-dir demo_sessions

test: $(STAMP_DEV) $(STAMP_FARM) system-deps
	TINYPERF_REFERENCE_DIR=$${TINYPERF_REFERENCE_DIR:-$(REFDIR)} $(BIN)/python -m pytest -q -ra

# The reliability campaign in full size (>= 200 faulty runs, >= 30 kill -9 trials, ~20 min);
# `make test` runs the same tests in reduced size.
soak: $(STAMP_DEV)
	TINYPERF_SOAK_FULL=1 TINYPERF_REFERENCE_DIR=$${TINYPERF_REFERENCE_DIR:-$(REFDIR)} $(BIN)/python -m pytest -q -ra tests/soak

bench: $(STAMP_BASE)
	TINYPERF_REFERENCE_DIR=$${TINYPERF_REFERENCE_DIR:-$(REFDIR)} $(BIN)/python benchmarks/link_efficiency.py

clean:
	rm -rf $(VENV) $(FARM_VENV) demo_sessions .pytest_cache
