# Two entry points, each doing all set-up on a fresh machine:
#   make run    the main job on the embedded default
#   make test   lint + the whole test suite (what CI runs)
PYTHON ?= python3
VENV   := .venv
PY     := $(VENV)/bin/python
STAMP  := $(VENV)/.installed-stamp
export HF_HUB_OFFLINE := 1
export TOKENIZERS_PARALLELISM := false

.PHONY: run test test-fast test-trl test-trl-oldest test-trl-versions test-trl-compat setup simulate bench clean

COMPAT := tests/trl_compat

setup: $(STAMP)

$(STAMP): pyproject.toml
	test -x $(PY) || $(PYTHON) -m venv $(VENV)
	@# CPU-only machine: pin the CPU wheel first so nothing pulls a multi-GB CUDA build.
	if ! command -v nvidia-smi >/dev/null 2>&1; then $(PY) -m pip install -q "torch==2.13.0"; fi
	$(PY) -m pip install -q -e ".[trl,gym,dev]"
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
	@# TRL's own GRPOTrainer tests with the drop-in swapped in: those it once failed (the whole suite: test-trl-compat)
	TRL_COMPAT_TRAINER=drop_in OMP_NUM_THREADS=1 $(PY) -m pytest -q -p no:cacheprovider $$(cat $(COMPAT)/in_make_test.txt)

# TRL's own GRPOTrainer test suite (tests/trl_compat, vendored, offline): first with GRPOTrainer, whose passing tests
# are written to runs/trl_compat_passes.txt, then those tests with the drop-in swapped in (over an hour on 2 cores).
test-trl-compat: $(STAMP)
	mkdir -p runs
	TRL_COMPAT_TRAINER=trl OMP_NUM_THREADS=1 $(PY) -m pytest -q -rA -p no:cacheprovider $(COMPAT) | tee runs/trl_compat_trl.log
	grep '^PASSED ' runs/trl_compat_trl.log | cut -d' ' -f2 > runs/trl_compat_passes.txt
	TRL_COMPAT_TRAINER=drop_in OMP_NUM_THREADS=1 $(PY) -m pytest -q -rfE -p no:cacheprovider $$(cat runs/trl_compat_passes.txt)

test-fast: $(STAMP)
	$(PY) -m pytest -q -m "not slow"

# The drop-in against each TRL release the range admits, each in a venv of its own (make test covers the newest).
# A release that cannot train on this machine (1.15.0 without Triton) must be refused up front, naming the fix.
TRL_VERSIONS  := 1.14.2 1.15.0 1.16.0
DROP_IN_TESTS := tests/test_rl_sampler.py tests/test_rl_trainer.py tests/test_rl_checkpoint.py tests/test_rl_shaping.py \
                 tests/test_dynamic_sampling.py tests/test_rl_multiproc.py tests/test_fault_injection.py tests/test_trl_release.py
TRL ?= 1.14.2
VENV_TRL := .venv-trl-$(TRL)

test-trl-versions:
	for v in $(TRL_VERSIONS); do $(MAKE) test-trl TRL=$$v || exit 1; done

test-trl-oldest:
	$(MAKE) test-trl TRL=1.14.2

test-trl:
	test -x $(VENV_TRL)/bin/python || $(PYTHON) -m venv $(VENV_TRL)
	if ! command -v nvidia-smi >/dev/null 2>&1; then $(VENV_TRL)/bin/python -m pip install -q "torch==2.13.0"; fi
	$(VENV_TRL)/bin/python -m pip install -q -e ".[trl,dev]" "trl==$(TRL)"
	if $(VENV_TRL)/bin/python -c "import sys, trl.trainer.utils as u; sys.exit(getattr(u, '_ChunkedLogProbFunction', 0) is None)"; then \
	  $(VENV_TRL)/bin/python -m pytest -q -p no:cacheprovider $(DROP_IN_TESTS); \
	else \
	  echo "TRL $(TRL) cannot train on this machine: checking that it is refused up front"; mkdir -p runs; \
	  $(VENV_TRL)/bin/python -m pytest -q -p no:cacheprovider tests/test_trl_release.py && \
	  ! $(VENV_TRL)/bin/curriculum train --config configs/smoke.yaml output_dir=runs/trl-$(TRL)-refused overwrite=true 2>runs/trl-$(TRL).err && \
	  grep -q 'pip install "trl!=1.15.0"' runs/trl-$(TRL).err && cat runs/trl-$(TRL).err; \
	fi

clean:
	rm -rf $(VENV) $(VENV_OLD) runs .pytest_cache .hypothesis
