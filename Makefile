# Each target provisions what it needs: a virtual environment in .venv with the torch
# pin from constraints.txt. `make run` is the main job; `make test` runs the test suite.
PYTHON ?= $(shell command -v python3.11 2>/dev/null || command -v python3)
VENV   ?= .venv
BIN    := $(VENV)/bin
STAMP  := $(VENV)/.installed
PIP    := $(BIN)/python -m pip install --disable-pip-version-check -q -c constraints.txt

NOTORCH := .venv-notorch
NOTORCH_STAMP := $(NOTORCH)/.installed

.PHONY: run test test-main test-notorch lava-runtime bench venv clean

venv: $(STAMP)

$(STAMP): pyproject.toml constraints.txt
	$(PYTHON) -m venv $(VENV)
	$(PIP) -e '.[dev,torch,snn,plot,pyro,symbolic,ray,metaworld]'
	# NeuroBench's metric code, for the test that checks our counts against it; --no-deps
	# because its requirements (torchaudio, tonic) would replace the pinned CPU torch
	$(PIP) --no-deps neurobench==2.3.0
	touch $(STAMP)

## the main job: the benchmark of torch, snntorch, numba and energy on the RL² bandit task (k=5, n=10):
## each meta-trained here for 45 s (the pipeline check) beside the shipped trained reference runs
run: $(STAMP)
	$(BIN)/metaplastic bench --quick --backends torch,snntorch,numba,energy --reference-runs --tasks bandits:k=5,n=10 --seed 0 --out reports/bench-bandits

## the test suite (exit code 5, "no tests collected", fails like any other), then the
## numba backend's tests in an environment without torch (the torch-free path). Every skip
## is printed with its reason (-ra); a skip whose reason is not on the allow-list in
## tests/skip_policy.py fails the run (the torch-free run also allows missing torch/snn)
test: test-main test-notorch

test-main: $(STAMP) lava-runtime
	$(BIN)/python -m pytest

## Lava's runtime (Python 3.10, lava-nc 0.10.0, numpy<2; ~20 s and 300 MB the first time, then a
## no-op). Without a Python 3.10 interpreter it is not installed and the lava tests skip, saying so.
lava-runtime: $(STAMP)
	$(BIN)/metaplastic runtime install lava || echo "make: the Lava runtime is not installed (see above); the lava tests will skip or fail with the reason"

$(NOTORCH_STAMP): pyproject.toml constraints.txt
	$(PYTHON) -m venv $(NOTORCH)
	$(NOTORCH)/bin/python -m pip install --disable-pip-version-check -q -c constraints.txt -e '.[dev]'
	touch $(NOTORCH_STAMP)

test-notorch: $(NOTORCH_STAMP)
	$(NOTORCH)/bin/python -c "import importlib.util, sys; sys.exit('torch is installed in $(NOTORCH)' if importlib.util.find_spec('torch') else 0)"
	METAPLASTIC_SKIP_PROFILE=torch-free $(NOTORCH)/bin/python -m pytest -p no:cacheprovider tests/backends/test_numba_backend.py tests/spiking/test_net.py tests/test_core.py tests/backends/test_energy_backend.py tests/energy_models/test_exact_oracles.py

## pytest-benchmark suites
bench: $(STAMP)
	$(BIN)/python -m pytest benchmarks --benchmark-only -p no:cacheprovider -o addopts= -o testpaths=benchmarks

clean:
	rm -rf $(VENV) $(NOTORCH) build dist *.egg-info .pytest_cache .benchmarks
