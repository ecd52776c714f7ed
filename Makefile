# Each target provisions what it needs: a virtual environment in .venv with the torch
# pin from constraints.txt. `make run` is the main job; `make test` runs the test suite.
PYTHON ?= $(shell command -v python3.11 2>/dev/null || command -v python3)
VENV   ?= .venv
BIN    := $(VENV)/bin
STAMP  := $(VENV)/.installed
PIP    := $(BIN)/python -m pip install --disable-pip-version-check -q -c constraints.txt

.PHONY: run test bench venv clean

venv: $(STAMP)

$(STAMP): pyproject.toml constraints.txt
	$(PYTHON) -m venv $(VENV)
	$(PIP) -e '.[dev,torch,snn]'
	touch $(STAMP)

## the main job: reference backends side by side on the RL² bandit task (k=5, n=10)
run: $(STAMP)
	$(BIN)/metaplastic compare --tasks bandits:k=5,n=10 --n-tasks 1000 --seed 0

## the test suite (exit code 5, "no tests collected", fails like any other)
test: $(STAMP)
	$(BIN)/python -m pytest

## pytest-benchmark suites
bench: $(STAMP)
	$(BIN)/python -m pytest benchmarks --benchmark-only -p no:cacheprovider -o addopts= -o testpaths=benchmarks

clean:
	rm -rf $(VENV) build dist *.egg-info .pytest_cache .benchmarks
