# Two entry points, each doing all set-up on a fresh machine:
#   make run    the main job on the embedded default
#   make test   lint + the whole test suite (what CI runs)
PYTHON ?= python3
VENV   := .venv
PY     := $(VENV)/bin/python
STAMP  := $(VENV)/.installed-stamp
export HF_HUB_OFFLINE := 1
export TOKENIZERS_PARALLELISM := false

.PHONY: run test test-fast setup simulate bench clean

setup: $(STAMP)

$(STAMP): pyproject.toml
	test -x $(PY) || $(PYTHON) -m venv $(VENV)
	@# CPU-only machine: pin the CPU wheel first so nothing pulls a multi-GB CUDA build.
	if ! command -v nvidia-smi >/dev/null 2>&1; then $(PY) -m pip install -q "torch==2.13.0"; fi
	$(PY) -m pip install -q -e ".[trl,dev]"
	touch $(STAMP)

run: $(STAMP)
	$(VENV)/bin/curriculum train

simulate: $(STAMP)
	$(VENV)/bin/curriculum simulate

bench: $(STAMP)
	$(VENV)/bin/curriculum bench

test: $(STAMP)
	$(VENV)/bin/ruff check .
	$(PY) -m pytest -q

test-fast: $(STAMP)
	$(PY) -m pytest -q -m "not slow"

clean:
	rm -rf $(VENV) runs .pytest_cache .hypothesis
