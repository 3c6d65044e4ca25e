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
# Debian packages the tests use: speech synthesis (demo generator), the Cortex-M toolchain
# and QEMU (firmware_interface), headless chromium (HTML report check), a C compiler.
APT_PACKAGES ?= espeak-ng gcc-arm-none-eabi libnewlib-arm-none-eabi qemu-system-arm chromium gcc make
APT_TOOLS ?= espeak-ng arm-none-eabi-gcc qemu-system-arm chromium cc make

.PHONY: install install-demo system-deps demo test bench clean

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

test: $(STAMP_DEV) system-deps
	TINYPERF_REFERENCE_DIR=$${TINYPERF_REFERENCE_DIR:-$(REFDIR)} $(BIN)/python -m pytest -q -ra

bench: $(STAMP_BASE)
	TINYPERF_REFERENCE_DIR=$${TINYPERF_REFERENCE_DIR:-$(REFDIR)} $(BIN)/python benchmarks/link_efficiency.py

clean:
	rm -rf $(VENV) demo_sessions .pytest_cache
