# Two entry points, each doing all set-up on a fresh machine:
#   make run    the main job on the embedded default
#   make test   lint + the whole test suite (what CI runs)
PYTHON ?= python3
VENV   := .venv
PY     := $(VENV)/bin/python
STAMP  := $(VENV)/.installed-stamp
export HF_HUB_OFFLINE := 1
export TOKENIZERS_PARALLELISM := false

.PHONY: run test test-fast test-trl-oldest setup simulate bench clean

setup: $(STAMP)

$(STAMP): pyproject.toml
	test -x $(PY) || $(PYTHON) -m venv $(VENV)
	@# CPU-only machine: pin the CPU wheel first so nothing pulls a multi-GB CUDA build.
	if ! command -v nvidia-smi >/dev/null 2>&1; then $(PY) -m pip install -q "torch==2.13.0"; fi
	$(PY) -m pip install -q -e ".[trl,dev]"
	touch $(STAMP)

run: $(STAMP)  # each `make run` starts afresh in runs/default (a bare `curriculum train` refuses a used folder)
	$(VENV)/bin/curriculum train overwrite=true

simulate: $(STAMP)
	$(VENV)/bin/curriculum simulate

bench: $(STAMP)
	$(VENV)/bin/curriculum bench

test: $(STAMP)
	$(VENV)/bin/ruff check .
	$(VENV)/bin/ruff format --check .
	$(PY) -m pytest -q

test-fast: $(STAMP)
	$(PY) -m pytest -q -m "not slow"

# The drop-in against the oldest supported TRL, in a venv of its own (make test covers the newest).
OLDEST_TRL := 1.14.2
VENV_OLD   := .venv-trl-$(OLDEST_TRL)
DROP_IN_TESTS := tests/test_rl_sampler.py tests/test_rl_trainer.py tests/test_rl_checkpoint.py tests/test_rl_shaping.py \
                 tests/test_dynamic_sampling.py tests/test_rl_multiproc.py tests/test_fault_injection.py

test-trl-oldest:
	test -x $(VENV_OLD)/bin/python || $(PYTHON) -m venv $(VENV_OLD)
	if ! command -v nvidia-smi >/dev/null 2>&1; then $(VENV_OLD)/bin/python -m pip install -q "torch==2.13.0"; fi
	$(VENV_OLD)/bin/python -m pip install -q -e ".[trl,dev]" "trl==$(OLDEST_TRL)"
	$(VENV_OLD)/bin/python -m pytest -q -p no:cacheprovider $(DROP_IN_TESTS)

clean:
	rm -rf $(VENV) $(VENV_OLD) runs .pytest_cache .hypothesis
